"""A layer share at work: its stages, the window it loads, the results it stores.

A share's stages are ``load``, per bit ``mvm`` -> ``adc`` -> ``shift_add``, per block ``add`` /
``pool`` / ``eltwise`` / ``activation`` / ``sigmoid``, and ``store``, each a
:class:`~pimsim.sim.stage.Stage`. The ends are special: the load also waits for the producer blocks
its sliding window needs (they have arrived in this macro, or, for a producer whose output macro
this is, they are stored here) and then frees those no later block needs; the store first reserves
scratchpad space for the result (backpressure; in the layer's output macro whole blocks in block
order, :class:`~pimsim.sim.buffer.Staging`) and counts the blocks stored, which merges and consumers
wait for.
"""

from __future__ import annotations

from typing import Any

from pimsim.sim.buffer import Scratchpad, Staging
from pimsim.sim.core import Cause, Progress, SimEnv, least_of, whole_parts
from pimsim.sim.ir import InputSpec, Task
from pimsim.sim.noc import FlowRun
from pimsim.sim.stage import Stage


class InputRun:
    """One operand of a share: its queue in this macro, or, for a producer whose output macro this
    is, the producer's staged blocks read in place (``consumed`` then tells the producer which
    blocks this share no longer needs). A block has arrived once every flow feeding the queue (one,
    or one per share of a spread producer) has delivered its part."""

    __slots__ = ("arrived", "consumed", "flows", "freed", "spec", "spm", "whole")

    def __init__(self, env: SimEnv, spec: InputSpec, flows: list[FlowRun], spm: Scratchpad) -> None:
        self.spec = spec
        self.flows = flows
        self.arrived = least_of(env, [f.delivered for f in flows])
        self.consumed = Progress(env)
        self.spm = spm
        self.freed = 0  # producer blocks (over all images) freed so far
        # the bits each block holds in the queue: every part rounded up as its flow reserved it
        self.whole = whole_parts([f.spec.bits for f in flows])

    def in_flight(self, need: int) -> bool:
        """Whether every part of the first ``need`` blocks has been sent (it is on the NoC)."""
        return all(f.sent >= need for f in self.flows)

    def wait_cause(self, need: int) -> str:
        """Why a load that needs ``need`` blocks waits: they are on the NoC, or not produced."""
        return Cause.NOC if self.in_flight(need) else Cause.INPUT

    def free_until(self, upto: int) -> None:
        """Free producer blocks ``freed .. upto - 1``."""
        a = self.freed
        if upto <= a:
            return
        self.freed = upto
        if self.spec.local:
            self.consumed.advance(upto - a)
            return
        p = self.spec.producer_blocks
        lasts = upto // p - a // p
        self.spm.release(
            self.spec.partition, (upto - a - lasts) * self.whole[0] + lasts * self.whole[1]
        )


class LoadStage(Stage):
    """The load: waits for its window, records when each image starts, frees what is read. Its
    inputs are :class:`InputRun` values, or, for a layer reading the network input through the
    off-chip interface, :class:`~pimsim.sim.interface.ExternalInput`."""

    __slots__ = ("inputs", "loaded_at", "start_cycles")

    def __init__(self, *args: Any, inputs: list[Any], images: int, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.custom = True
        self.inputs = inputs
        self.start_cycles: list[int | None] = [None] * images
        self.loaded_at = 0  # when the last block was loaded, cycles (the PE's DACs wait for it)

    def ready(self, k: int, g: int, b: int, c: int) -> bool:
        img = g // self.blocks
        for inp in self.inputs:
            need = img * inp.spec.producer_blocks + inp.spec.hi[c] + 1
            if inp.arrived.count < need:
                self.block(inp.wait_cause(need), None, inp)
                return False
        return self.slot_free(k, g, b)

    def starting(self, g: int, c: int) -> None:
        if c == 0:
            self.start_cycles[g // self.blocks] = self.env.now

    def completed(self, g: int, c: int) -> None:
        self.loaded_at = self.env.now
        img = g // self.blocks
        for inp in self.inputs:
            p = inp.spec.producer_blocks
            inp.free_until(img * p + (inp.spec.lo[c + 1] if c + 1 < self.blocks else p))


class StoreStage(Stage):
    """The store: reserves its block's space in the output staging before taking the port (in
    block order, shared with the layer's other parts where this is its output macro: see
    :class:`~pimsim.sim.buffer.Staging`)."""

    __slots__ = ("space_queued", "spaced", "staging", "stored")

    def __init__(self, *args: Any, staging: Staging, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.custom = True
        self.stored = Progress(self.env)  # blocks stored: what merges and consumers wait for
        self.staging = staging
        self.spaced = False
        self.space_queued = False

    def ready(self, k: int, g: int, b: int, c: int) -> bool:
        up = self.up
        assert up is not None
        need = (g + 1) * up.per_block
        if up.done < need:
            self.wait_on(up, up.done, need)
            return False
        if self.spaced:
            return True
        if self.space_queued:
            return False
        if self.staging.take(g):
            self.spaced = True
            return True
        self.space_queued = True
        self.staging.queue(g, _SpaceGrant(self))
        self.block(Cause.BUFFER, None, (self.staging, g))
        return False

    def completed(self, g: int, c: int) -> None:
        self.spaced = False
        self.stored.advance()


class _SpaceGrant:
    __slots__ = ("stage",)

    def __init__(self, stage: StoreStage) -> None:
        self.stage = stage

    def granted(self, _lane: int) -> None:
        self.stage.space_queued = False
        self.stage.spaced = True
        self.stage.poke()


class ShareRun:
    """A task (layer share) during the run."""

    def __init__(self, task: Task, stages: list[Stage], spm: Scratchpad) -> None:
        self.task = task
        self.stages = stages
        self.spm = spm
        self.out_whole = whole_parts([task.out_bits])

    @property
    def load(self) -> LoadStage:
        stage = self.stages[0]
        assert isinstance(stage, LoadStage)
        return stage

    @property
    def stored(self) -> Progress:
        stage = self.stages[-1]
        assert isinstance(stage, StoreStage)
        return stage.stored

    def label(self) -> str:
        return f"{self.task.layer}@m{self.task.macro}"
