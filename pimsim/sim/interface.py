"""The off-chip interface: input images stream in, outputs stream out, at the part's bandwidth.

A design whose library has an interface part (``Parts.interface``: ISAAC's HyperTransport, an HBM2
channel for the PIMSYN library) moves every bit on or off the chip through it. It is one channel of
``bandwidth_gbit_s`` bits per ns for both directions together, taken first come, first served (an
``io`` wait), and every bit that crosses it is counted (``interface_bits``, priced per bit).

**In.** Each image's input (the network inputs' values x activation bits) is streamed in ``P``
equal parts, ``P`` the blocks of the first layer read from it (the one with the most blocks), in
raster order: part ``p`` holds the input up to the rows block ``p`` needs on an even split. Each part
is written through the scratchpad port of every macro where a layer reading the network input has a
share (counted as ``noc_buffer_write_bits`` there), and a share's block ``c`` of an image may load
once parts ``0 .. ceil((c + 1) P / blocks) - 1`` of it are written. The interface streams image
``i`` once every such share has loaded the whole of image ``i - 2``: its input buffer holds two
images (double buffering; space outside the layers' partitions).

**Out.** Every block of a network output, once published in its output macro, is read through that
macro's port (``noc_buffer_read_bits``) and sent out; an image is finished when the last block of
every output has left the chip, and a block's staging space is freed once it has left.

Without an interface part, inputs appear in the scratchpads and outputs stay there, as before.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from typing import Any, ClassVar

from simpy.events import Event

from pimsim.arch.schema import Hardware
from pimsim.components.parts import InterfacePart
from pimsim.model.actions import Action
from pimsim.sim.buffer import PortJob, Scratchpad
from pimsim.sim.core import Cause, Clock, Pool, Progress, SimEnv, least_of
from pimsim.sim.ir import InputSpec
from pimsim.sim.trace import NOC_PID
from pimsim.sim.unit import BuildContext, Place, UnitBase

#: The producer name of the network input in the window tables of the interface's input.
NETWORK_INPUT = "(network input)"


class Interface(UnitBase):
    """The off-chip channel of a run as a unit (kind ``io``), and what crossed it: ``bits_in`` and
    ``bits_out``, and the scratchpad bits its transfers wrote (input) and read (output) in each
    macro, which it books to those macros (:meth:`booked`). Its waiters are the interface's own
    processes: their waits are its ``stall`` (cycles by cause)."""

    kinds: ClassVar[tuple[str, ...]] = ("io",)
    kind: ClassVar[str] = "io"
    cause: ClassVar[str] = Cause.IO
    stages: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, env: SimEnv, part: InterfacePart, clock: Clock) -> None:
        self.channel = Pool(env, "off-chip interface", 1)
        super().__init__(f"NoC/{self.channel.name}", None, self.channel)
        self.env = env
        self.part = part
        self.clock = clock
        self.tracer: Any = None
        self.bits_in = 0.0
        self.bits_out = 0.0
        self.written: dict[int, float] = {}
        self.read: dict[int, float] = {}
        self.stall: dict[str, int] = {}

    @classmethod
    def build(cls, ctx: BuildContext, kind: str, place: Place) -> Interface:
        part = ctx.hardware.parts.interface
        assert part is not None
        return cls(ctx.env, part, ctx.clock)

    def own_stall(self) -> dict[str, int]:
        return self.stall

    def booked(self) -> list[tuple[int, str, float]]:
        """Bits across it (booked to the chip, key -1), the scratchpad bits it wrote (inputs) and
        read (outputs) in each macro."""
        out = [(-1, str(Action.INTERFACE_BITS), self.bits_in + self.bits_out)]
        out += [(m, str(Action.NOC_BUFFER_WRITE_BITS), b) for m, b in sorted(self.written.items())]
        out += [(m, str(Action.NOC_BUFFER_READ_BITS), b) for m, b in sorted(self.read.items())]
        return out

    def waits(self) -> list[str]:
        return []  # its processes wait on it only while it is busy: never a deadlock's cause

    def traced(self, tracer: Any) -> None:
        self.tracer = tracer
        tracer.interface_unit(self.channel)

    def cycles(self, bits: float) -> int:
        """Cycles the channel carries ``bits``."""
        return self.clock.cycles(bits / self.part.bandwidth_gbit_s)

    def cross(self, bits: float, what: str, image: int, block: int) -> Generator[Event, Any, None]:
        """Carry ``bits`` over the channel (waiting for it first if it is busy)."""
        env, channel = self.env, self.channel
        cycles = self.cycles(bits)
        lane = channel.take(1)
        if lane < 0:
            t0 = env.now
            lane = yield channel.wait(1)
            self.stall[Cause.IO] = self.stall.get(Cause.IO, 0) + env.now - t0
        if self.tracer is not None:
            pj = bits * self.part.energy_per_bit_pj
            self.tracer.access(
                channel, lane, NOC_PID, env.now, cycles, what, what, image, block, pj
            )
        yield env.timeout(cycles)
        channel.give(1, lane, cycles)

    def access(
        self,
        spm: Scratchpad,
        bits: float,
        write: bool,
        what: str,
        image: int,
        block: int,
        then: Callable[[], None],
    ) -> None:
        """Move ``bits`` through ``spm``'s port for the interface, counted, then call ``then``."""
        book = self.written if write else self.read
        book[spm.macro] = book.get(spm.macro, 0.0) + bits
        job = spm.job(bits)
        cycles = job[1]
        started = None
        tracer = self.tracer
        if tracer is not None:
            pj = bits * spm.access_pj[1 if write else 0]

            def started(lane: int, t: int) -> None:
                tracer.access(spm.port, lane, spm.macro, t, cycles, what, what, image, block, pj)

        PortJob(spm, job, then, started)


class ExternalInput:
    """The network input as one first-layer share sees it: the parts of each image written into
    its macro's scratchpad. Duck-types :class:`~pimsim.sim.share.InputRun` for the load stage."""

    __slots__ = ("arrived", "consumed", "spec")

    def __init__(self, env: SimEnv, parts: int, blocks: int, bits: float) -> None:
        hi = tuple(math.ceil((c + 1) * parts / blocks) - 1 for c in range(blocks))
        lo = tuple(c * parts // blocks for c in range(blocks))
        per = bits / parts
        self.spec = InputSpec(NETWORK_INPUT, 0, parts, lo, hi, (per, per), "", ())
        self.arrived = Progress(env)
        self.consumed = Progress(env)  # parts (over all images) no block of this share needs

    def wait_cause(self, _need: int) -> str:
        return Cause.IO

    def free_until(self, upto: int) -> None:
        if upto > self.consumed.count:
            self.consumed.advance(upto - self.consumed.count)


def stream_in(
    env: SimEnv,
    io: Interface,
    images: int,
    parts: int,
    bits: float,
    targets: list[tuple[Scratchpad, list[ExternalInput]]],
) -> Generator[Event, Any, None]:
    """The process that brings every image's input on chip, ``parts`` parts of ``bits / parts``
    each, and writes each part into every target macro's scratchpad (for its shares there)."""
    per = bits / parts
    consumed = least_of(env, [x.consumed for _, xs in targets for x in xs])
    for i in range(images):
        if i >= 2 and consumed.count < (i - 1) * parts:  # two images in the input buffer
            yield consumed.wait((i - 1) * parts)
        for p in range(parts):
            yield from io.cross(per, "input in", i, p)
            io.bits_in += per
            for spm, xs in targets:
                io.access(spm, per, True, "input in", i, p, _arrived(xs))


def _arrived(xs: list[ExternalInput]) -> Callable[[], None]:
    def arrived() -> None:
        for x in xs:
            x.arrived.advance()

    return arrived


class Outgoing:
    """One network output leaving the chip block by block from one macro: ``left`` counts the
    blocks gone."""

    def __init__(
        self, env: SimEnv, layer: str, spm: Scratchpad, bits: tuple[float, float], blocks: int
    ) -> None:
        self.layer = layer
        self.spm = spm
        self.bits = bits  # a full and the last block of an image
        self.blocks = blocks
        self.source = Progress(env)  # bound to the layer's published blocks by the engine
        self.left = Progress(env)


def stream_out(
    env: SimEnv, io: Interface, out: Outgoing, images: int
) -> Generator[Event, Any, None]:
    """The process that reads each published block of ``out`` and sends it off chip."""
    blocks = out.blocks
    what = f"{out.layer} out"
    for g in range(images * blocks):
        if out.source.count <= g:
            yield out.source.wait(g + 1)
        img, c = divmod(g, blocks)
        bits = out.bits[1 if c == blocks - 1 else 0]
        done = Event(env)
        io.access(out.spm, bits, False, what, img, c, done.succeed)
        yield done
        yield from io.cross(bits, what, img, c)
        io.bits_out += bits
        out.left.advance()


def offchip(
    channel: Callable[[str, Place], Any], hardware: Hardware, images: int, input_bits: float
) -> OffChip | None:
    """The interface's part in a run, its channel built through ``channel`` (the run's registry of
    channel units); ``None`` without an interface part (inputs appear in the scratchpads, outputs
    stay there)."""
    if hardware.parts.interface is None:
        return None
    return OffChip(channel("io", Place()), images, input_bits)


class OffChip:
    """The interface's part in one run: the channel (:class:`Interface`), the first layers' input
    and the outputs leaving, wired by the engine and started with the other processes."""

    def __init__(self, io: Interface, images: int, input_bits: float) -> None:
        self.io = io
        self.env = io.env
        self.images = images
        self.input_bits = input_bits  # per image
        self.outgoing: list[Outgoing] = []
        self.targets: list[tuple[Scratchpad, list[ExternalInput]]] = []
        self.parts = 0
        self.gone: dict[str, tuple[Progress, int]] = {}  # by output layer: blocks gone, blocks
        self.lefts: dict[str, list[Progress]] = {}  # each part's blocks gone, by output layer

    def leave(
        self,
        layer: str,
        blocks: int,
        spread: bool,
        parts: list[tuple[Scratchpad, tuple[float, float], Progress]],
    ) -> Progress:
        """Output ``layer``'s blocks leave the chip from each part's macro (its scratchpad, bits
        of a full and a last block, the blocks there): the blocks of the first part gone. A spread
        layer calls once per share; the layer is gone where every part is."""
        lefts = []
        for spm, bits, source in parts:
            out = Outgoing(self.env, layer, spm, bits, blocks)
            out.source = source
            self.outgoing.append(out)
            lefts.append(out.left)
        mine = self.lefts.setdefault(layer, [])
        mine.extend(lefts)
        self.gone[layer] = (least_of(self.env, mine) if spread else lefts[0], blocks)
        return lefts[0]

    def feed(self, firsts: list[tuple[int, Scratchpad, Any]]) -> None:
        """The shares reading the network input, as (blocks, their macro's scratchpad, their load
        stage): each waits for the parts of an image written into its macro."""
        if not firsts or not self.input_bits:
            return
        self.parts = max(blocks for blocks, _, _ in firsts)
        by_macro: dict[int, tuple[Scratchpad, list[ExternalInput]]] = {}
        for blocks, spm, load in firsts:
            x = ExternalInput(self.env, self.parts, blocks, self.input_bits)
            load.inputs.append(x)
            x.arrived.listeners.append(load.poke)
            by_macro.setdefault(spm.macro, (spm, []))[1].append(x)
        self.targets = [by_macro[m] for m in sorted(by_macro)]

    def start(self) -> None:
        env, io, images = self.env, self.io, self.images
        if self.targets:
            env.process(stream_in(env, io, images, self.parts, self.input_bits, self.targets))
        for out in self.outgoing:
            env.process(stream_out(env, io, out, images))
