"""Rich tables for a simulation (beside its estimate) and for a compiled program.

These build renderables only; the CLI prints them. Differences are ``(simulated - estimated) /
estimated`` in percent.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table

from pimsim.model.estimate import CostReport
from pimsim.model.pricing import floor_pj
from pimsim.render.text import ns_text
from pimsim.sim.ir import Program
from pimsim.sim.result import SimResult, result_json


def _ns(value: float) -> str:
    return ns_text(value, 4)  # one more digit than the estimate's tables: differences show


def _pct(sim: float, est: float) -> str:
    if not est:
        return ""
    return f"{100 * (sim - est) / est:+.2f}%"


def comparison(r: SimResult, e: CostReport) -> list[tuple[str, float, float, str]]:
    """(figure, simulated, estimated, unit) rows."""
    return [
        ("throughput", r.throughput_ips, e.throughput_ips, "images/s"),
        ("TOPS", r.tops, e.tops, "TOPS"),
        ("period", r.period_ns, e.period_ns, "ns"),
        ("latency (image 0)", r.latency_ns[0] if r.latency_ns else 0.0, e.latency_ns, "ns"),
        ("energy per image", r.energy_per_image_pj, e.energy_per_image_pj, "pJ"),
        ("average power", r.average_power_w, e.average_power_w, "W"),
        ("power efficiency", r.tops_per_w, e.tops_per_w, "TOPS/W"),
        ("compute floor", sum(sim_floor_pj(r, e).values()), e.floor_total_pj, "pJ"),
    ]


def sim_floor_pj(r: SimResult, e: CostReport) -> dict[Any, float]:
    """The simulation's compute floor per image: its own crossbar reads, DAC and ADC conversions
    (counted over the run, per image) at the parts' energies."""
    per_image = {a: n / r.images for a, n in r.counts.items()} if r.images else {}
    return floor_pj(per_image, e.floor_action_pj)


def summary_table(r: SimResult, e: CostReport) -> Table:
    partial = f" [bold red]PARTIAL: {len(r.latency_ns)} of them finished[/]" if r.stopped else ""
    t = Table(
        title=f"{r.arch} running {r.network}: {r.images} images simulated at "
        f"{r.clock_ghz:g} GHz{partial}",
        title_justify="left",
    )
    for header in ("figure", "simulated", "estimate", "difference"):
        t.add_column(header, justify="left" if header == "figure" else "right")
    for name, sim, est, unit in comparison(r, e):
        if r.stopped and not r.latency_ns:
            t.add_row(name, "n/a (no image finished)", f"{est:.5g} {unit}", "")
        elif unit == "ns":
            t.add_row(name, _ns(sim), _ns(est), _pct(sim, est))
        elif unit == "pJ":
            t.add_row(name, f"{sim / 1e6:.5g} uJ", f"{est / 1e6:.5g} uJ", _pct(sim, est))
        else:
            t.add_row(name, f"{sim:.5g} {unit}", f"{est:.5g} {unit}", _pct(sim, est))
    t.add_row(
        "energy above the compute floor",
        f"{100 * r.above_floor_share(sim_floor_pj(r, e)):.1f}%",
        f"{100 * e.above_floor_share(e.floor_pj):.1f}%",
        "",
    )
    t.add_row("period set by", "", e.period_set_by, "")
    latencies = ", ".join(_ns(x) for x in r.latency_ns)
    t.add_row("latency of each image", latencies, "", "")
    t.add_row("simulated time", _ns(r.time_ns), "", "")
    t.add_row("events", f"{r.events:,} in {r.wall_s:.2f} s = {r.events_per_s:,.0f}/s", "", "")
    return t


def layer_table(r: SimResult) -> Table:
    t = Table(
        title="per layer (image 0; busy and stalls of the bottleneck stage over the run)",
        title_justify="left",
    )
    for header in (
        "layer",
        "kind",
        "macros",
        "blocks",
        "start",
        "finish",
        "bottleneck",
        "busy",
        "stalled",
        "stall causes",
    ):
        t.add_column(
            header,
            justify="left"
            if header in ("layer", "kind", "bottleneck", "stall causes")
            else "right",
            no_wrap=True,
            overflow="ellipsis",
            max_width=40,
        )
    for ls in r.layers:
        stalled = sum(ls.stall_ns.values())
        causes = ", ".join(
            f"{c} {_ns(v)}" for c, v in sorted(ls.stall_ns.items(), key=lambda x: -x[1])[:3]
        )
        t.add_row(
            ls.name,
            ls.kind,
            str(len(ls.macros)),
            str(ls.blocks),
            _ns(ls.start_ns[0]),
            _ns(ls.finish_ns[0]),
            ls.bottleneck,
            f"{100 * ls.utilisation:.1f}%",
            _ns(stalled),
            causes,
        )
    return t


def unit_table(r: SimResult, top: int = 15) -> Table:
    t = Table(title=f"busiest units (of {len(r.units)})", title_justify="left")
    for header in ("unit", "busy", "utilisation", "queued", "jobs", "stalls of its stages"):
        t.add_column(
            header,
            justify="left" if header in ("unit", "stalls of its stages") else "right",
            no_wrap=True,
            overflow="ellipsis",
            max_width=48,
        )
    for u in sorted(r.units, key=lambda u: -u.busy_ns)[:top]:
        stalls = ", ".join(
            f"{c} {_ns(v)}" for c, v in sorted(u.stall_ns.items(), key=lambda x: -x[1])[:3]
        )
        t.add_row(
            u.name,
            _ns(u.busy_ns),
            f"{100 * u.busy_ns / r.time_ns:.1f}%" if r.time_ns else "-",  # a run stopped at once
            _ns(u.queued_ns),
            f"{u.jobs:,}",
            stalls,
        )
    return t


def energy_table(r: SimResult, e: CostReport) -> Table:
    t = Table(title="energy per image by component", title_justify="left")
    for header in ("component", "simulated", "%", "estimate", "difference"):
        t.add_column(header, justify="left" if header == "component" else "right")
    total = r.energy_per_image_pj or 1.0
    for c in sorted(set(r.energy_pj) | set(e.energy_pj), key=lambda c: -r.energy_pj.get(c, 0.0)):
        sim, est = r.energy_pj.get(c, 0.0), e.energy_pj.get(c, 0.0)
        t.add_row(
            str(c),
            f"{sim / 1e6:.5g} uJ",
            f"{100 * sim / total:.1f}",
            f"{est / 1e6:.5g} uJ",
            _pct(sim, est),
        )
    return t


def run_view(r: SimResult, e: CostReport) -> Group:
    """Everything ``pimsim run`` prints."""
    parts: list[Any] = [summary_table(r, e), layer_table(r), unit_table(r), energy_table(r, e)]
    notes = list(r.warnings)
    if r.stopped:
        notes.insert(
            0,
            f"the run was stopped early because {r.stopped}, at "
            f"{_ns(r.time_ns)} of simulated time: the figures are partial (throughput and "
            "latency from the images that finished; energy per image from each share's "
            "work over the blocks it stored, with the static power over that period)",
        )
    if r.trace_file:
        notes.append(f"trace written to {r.trace_file} (summary: {r.summary_file})")
    parts += [f"[yellow]note:[/] {n}" for n in notes]
    return Group(*parts)


def run_json(r: SimResult, e: CostReport) -> dict[str, Any]:
    """The simulation, the estimate's headline figures, and the differences in percent."""
    rows = comparison(r, e)
    return {
        "simulation": result_json(r),
        "estimate": {name: est for name, _, est, _ in rows}
        | {
            "period_set_by": e.period_set_by,
            "energy_pj": {str(k): v for k, v in e.energy_pj.items()},
        },
        "difference_pct": {
            name: (100 * (sim - est) / est if est else None) for name, sim, est, _ in rows
        },
    }


def program_view(p: Program) -> Group:
    """A summary of a compiled program (``pimsim compile`` without ``--json``)."""
    t = Table(title=f"{p.arch} running {p.network}: program per image", title_justify="left")
    for header in (
        "layer",
        "kind",
        "shares",
        "macros",
        "blocks",
        "bits",
        "stages",
        "transfers out",
        "merges",
        "instructions",
    ):
        t.add_column(
            header,
            justify="left" if header in ("layer", "kind", "stages") else "right",
            no_wrap=True,
            overflow="ellipsis",
            max_width=48,
        )
    total = 0
    for info in p.layers:
        tasks = [p.tasks[i] for i in info.tasks]
        count = sum(_instructions(task) for task in tasks) + info.blocks * (
            len(info.transfers) + len(info.merges)
        )
        total += count
        macros = ",".join(str(x.macro) for x in tasks[:6]) + ("..." if len(tasks) > 6 else "")
        t.add_row(
            info.name,
            info.kind,
            str(len(tasks)),
            macros,
            str(info.blocks),
            str(tasks[0].bits),
            " ".join(s.name for s in tasks[0].stages),
            str(len(info.transfers)),
            str(len(info.merges)),
            f"{count:,}",
        )
    totals = (
        f"{total:,} instructions per image; {len(p.flows)} flows; "
        f"{len(p.partitions)} scratchpad partitions"
    )
    parts: list[Any] = [t, totals]
    parts += [f"[yellow]warning:[/] {w}" for w in p.warnings]
    return Group(*parts)


def _instructions(t: Any) -> int:
    return t.blocks * sum(t.bits if s.per_bit else 1 for s in t.stages)
