"""A PE group: the crossbars of a layer share, with a DAC per row and a sample-and-hold per column.

One *mvm* applies one input bit-plane (``dac_bits`` wide) to every row of every active crossbar of
the group at once and samples every column. The group times its bits itself, as a small pipeline of
three parts of the component library (each with its ``source``):

- **the DACs**: each row's DAC converts one input value per bit; a conversion takes the DAC part's
  ``1 / frequency_ghz`` and its value is ready at its end. The DACs work one value ahead of the
  crossbars: the conversion of bit ``k`` starts once the DACs are free (the previous conversion is
  over), the crossbars have started reading bit ``k - 1`` (the row drivers hold one value) and, for
  the first bit of a block, once the block's window has been loaded. In a steady stream the
  conversion of the next bit runs during the current read and only the DAC's rate can hold the
  crossbars back; at the start of a run, or when a block's window arrives after the crossbars have
  finished the previous block, the first read waits for its whole conversion;
- **the crossbar read**: the crossbar part's ``latency_ns`` (the part of the design's crossbar size),
  once the bit's values are converted;
- **the sample-and-holds**: a column's S&H tracks the column during the read and holds its value at
  the end; a sample takes the part's ``latency_ns`` (no part: part of the read), so a bit's analog
  phase is ``max(read, sample)``.

A bit's item in the ``mvm`` stage (:class:`BitPipeline`) therefore lasts from the moment the group
can take it (its input loaded, the ``adc`` stage's single buffer free) through any wait for the
bit's conversion to the end of its read and sample. In a steady stream a bit takes the slowest of
the DAC period and the read (and sample); that rate bound is also the estimate's
(:func:`pimsim.model.design.bit_ns`, its own closed form), but the simulator's fill differs: a first
bit waits for its conversion where the estimate sees none.

A sample-and-hold holds its value until its ADC has converted it: the group starts its next bit
only once the ADCs have taken the previous one (the stage's single buffer to the ``adc`` stage), so
a slow ADC holds the crossbars back (an ``adc`` stall of the mvm stage). The read may run while the
ADCs still convert the previous bit; its sample cannot be taken before they are done, which only
moves the end of the mvm item within the time the ADCs hold the next ``adc`` item back: the timing
is the same. The actions per mvm are those :mod:`pimsim.sim.blockwork` derives: a read per active
crossbar, a DAC conversion per active row, a sample per active column. A group belongs to one share,
so it never waits for another layer.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, ClassVar, cast

from simpy.events import Timeout

from pimsim.sim.core import Cause, Pool
from pimsim.sim.ir import StageSpec, Task
from pimsim.sim.stage import Stage
from pimsim.sim.unit import BuildContext, UnitBase

if TYPE_CHECKING:
    from pimsim.sim.share import LoadStage

#: Before any conversion or read (cycles): far enough back that no wait follows from it.
_NEVER = -(2**62)


class BitPipeline(Stage):
    """The ``mvm`` stage of a PE group: each bit's item waits for the bit's DAC conversion.

    The state is when the DACs last started a conversion (``converted_at``) and when the crossbars
    last started a read (``read_at``), in cycles; ``loaded_at`` is read from the load stage (when it
    last completed a block). A bit starts once its values are converted (:meth:`ready`); until
    then the stage books a ``dac`` stall and wakes itself when they are. Its item is then the
    analog phase, its unit's job (read and sample). It decides its own readiness, yet it may
    complete lazily (``own_readiness``): its readiness depends on nothing but its own
    state and its neighbours' counts, which :func:`~pimsim.sim.chain.make_lazy` relies on; a bit
    delayed by its conversion costs one wake-up event.
    """

    own_readiness: ClassVar[bool] = True

    __slots__ = ("convert", "converted_at", "read_at", "wake_read")

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.custom = True
        unit = self.unit
        assert isinstance(unit, PeGroup)
        self.convert = unit.convert_cycles
        self.converted_at = self.read_at = self.wake_read = _NEVER

    def ready(self, k: int, g: int, b: int, c: int) -> bool:
        """Block ``g`` loaded, the ``adc`` stage's slot free and bit ``b``'s values converted (else
        a ``dac`` stall until they are, with a wake-up then). True means the item starts now: the
        group's pool is its own, one server, so nothing else can hold it back; the pipeline's state
        moves on here (the hot path: no second call as the item starts)."""
        up = cast("LoadStage", self.up)  # the load, one item per block (in_mode 2), feeds it
        if up.done <= g:
            self.wait_on(up, up.done, g + 1)
            return False
        down = self.down  # the adc stage, one item per bit (slot_mode 0): item k's slot is k
        assert down is not None
        if down.started < k:
            self.wait_on(down, down.started, k)
            return False
        if not self.timing[self.in_last][1]:  # no crossbar works in this block: no conversion
            return True
        # the conversion starts one value ahead of the reads, once the DACs are free and (bit 0)
        # the block's window is in: a block is loaded before its first bit, so loaded_at is its own
        after = self.read_at
        if not b and up.loaded_at > after:
            after = up.loaded_at
        start = self.converted_at + self.convert
        if after > start:
            start = after
        read = start + self.convert
        now = self.env.now
        if read > now:
            self.block(Cause.DAC, None, "its DAC conversions")
            if self.wake_read != read:  # one wake-up per conversion
                self.wake_read = read
                Timeout(self.env, read - now).callbacks.append(self._converted)
            return False
        self.converted_at, self.read_at = start, now
        return True

    def _converted(self, _event: Any) -> None:
        self.poke()


class PeGroup(UnitBase):
    """The crossbars of one share in macro ``macro``."""

    kind: ClassVar[str] = "pe"
    cause: ClassVar[str] = Cause.PE
    stages: ClassVar[frozenset[str]] = frozenset({"mvm"})
    stage_class: ClassVar[type[Stage] | None] = BitPipeline

    def __init__(self, ctx: BuildContext, macro: int, task: Task) -> None:
        super().__init__(
            f"macro {macro}/PE {task.layer}", macro, Pool(ctx.env, f"PE {task.layer}", 1)
        )
        self.crossbars = task.crossbars
        parts = ctx.hardware.parts
        sample = parts.sample_hold.latency_ns if parts.sample_hold is not None else 0.0
        #: a bit's read and sample, cycles: the column holds its value when both are over
        self.analog_cycles = ctx.clock.cycles(max(parts.crossbar.latency_ns, sample))
        #: one DAC conversion, cycles (its period: the DAC's value is ready at its end)
        self.convert_cycles = ctx.clock.cycles(1 / parts.dac.frequency_ghz)

    @classmethod
    def key(cls, macro: int, task: Task, spec: StageSpec) -> Hashable:
        return cls.kind, task.id

    @classmethod
    def build(cls, ctx: BuildContext, macro: int, task: Task, spec: StageSpec) -> PeGroup:
        return cls(ctx, macro, task)

    def timing(self, crossbars: float, per_server: tuple[float, ...] = ()) -> tuple[int, int]:
        """Servers and cycles of one mvm's analog phase (read and sample), whatever the number of
        crossbars; :class:`BitPipeline` adds the wait for the bit's conversion as it starts."""
        return 1, self.analog_cycles if crossbars else 0
