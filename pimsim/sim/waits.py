"""Who waits on what: the report of a deadlocked run.

When the run runs out of events with work left, every stage and flow that is waiting says so. The
waits that explain the deadlock come first: a load waiting for producer blocks, a flow waiting for
data or space, a store waiting for space; then waits for a pool; waits of a stage on its neighbour
(which only pass a blockage along) come last.
"""

from __future__ import annotations

from pimsim.sim.buffer import Staging
from pimsim.sim.core import Cause, Pool
from pimsim.sim.noc import FlowRun
from pimsim.sim.share import InputRun, ShareRun
from pimsim.sim.stage import Stage
from pimsim.sim.state import RunState


def _stage(sh: ShareRun, st: Stage) -> tuple[int, str] | None:
    if st.blocked_by is None:
        return None
    target = st.waiting_for
    g = st.item // st.per_block
    img, c = divmod(g, st.blocks)
    where = f"{sh.label()} {st.name} (image {img}, block {c})"
    if isinstance(target, InputRun):
        spec = target.spec
        p = spec.producer_blocks
        have = max(0, target.arrived.count - img * p)
        return 0, (
            f"{where} waits for block {spec.hi[c]} of '{spec.producer}' "
            f"({have} of its {p} blocks of this image arrived)"
        )
    if isinstance(target, tuple) and isinstance(target[0], Staging):
        staging, g = target
        return 0, f"{where} waits for {staging.describe(g)}"
    if isinstance(target, Pool):
        return 1, f"{where} waits for the {target.name} of macro {st.macro}"
    if isinstance(target, Stage):
        return 2, f"{where} waits for stage {target.name} ({st.blocked_by})"
    return 2, f"{where} waits ({st.blocked_by})"


def _flow(fr: FlowRun) -> tuple[int, str] | None:
    if fr.waiting is None:
        return None
    cause, target, g = fr.waiting
    blocks = fr.spec.blocks
    where = f"{fr.name()} (image {g // blocks}, block {g % blocks})"
    if cause is Cause.INPUT:
        return 0, f"{where} waits for the block to be produced"
    if cause is Cause.BUFFER and isinstance(target, Staging):
        return 0, f"{where} waits for {target.describe(g)}"
    if cause is Cause.BUFFER:
        return 0, (
            f"{where} waits for {target:,} bits of space: {fr.dst.describe(fr.spec.partition)}"
        )
    if isinstance(target, Pool):
        return 1, f"{where} waits for {target.name}"
    return 1, f"{where} waits ({cause})"


def deadlock_report(m: RunState) -> list[str]:
    """Every wait, most telling first."""
    found: list[tuple[int, str]] = []
    for sh in m.shares:
        for st in sh.stages:
            hit = _stage(sh, st)
            if hit is not None:
                found.append(hit)
    for fr in m.flows:
        hit = _flow(fr)
        if hit is not None:
            found.append(hit)
    for unit in m.units:
        found.extend((1, text) for text in unit.waits())
    return [text for _, text in sorted(found, key=lambda x: x[0])]
