"""A batch of designs of one network laid end to end, and the segment reductions that gather each
design's figures from it (see :func:`pimsim.model.evaluate.evaluate_batch`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pimsim.model.kernel import MacroArrays, Rates
from pimsim.model.sums_jit import add_at, segment_argmax
from pimsim.model.tables import DesignArrays, NetworkTables

__all__ = ["Stack", "add_at", "batch_parts", "segment_argmax", "tile"]


def _same_rates(a: Rates, b: Rates) -> bool:
    return a is b or (
        a.read_ns == b.read_ns
        and a.bit_iters == b.bit_iters
        and a.adc_ghz == b.adc_ghz
        and np.array_equal(a.unit_rate, b.unit_rate)
        and np.array_equal(a.unit_lanes, b.unit_lanes)
    )


@dataclass(frozen=True)
class Stack:
    """A batch of designs laid end to end: shares, macros and layers numbered across the batch
    (batch layer = design x L + layer, batch macro = the design's first macro + its macro)."""

    count: int
    share_layer: np.ndarray  # (S,) the layer in its design
    layer: np.ndarray  # (S,) batch layer, sorted
    share_macro: np.ndarray  # (S,) batch macro
    share_frac: np.ndarray  # (S,)
    share_design: np.ndarray  # (S,) its design
    share_start: np.ndarray  # (B + 1,) each design's first share
    macro_start: np.ndarray  # (B + 1,) each design's first macro
    per_block: np.ndarray  # (B x L,)
    macros: MacroArrays
    positions: np.ndarray  # (M, 2)
    meshes: np.ndarray  # (B, 2)
    spread: np.ndarray | None  # (B x L,)
    weights_wired: np.ndarray  # (S,) bool: the design's ADCs are wired to its weight columns

    @classmethod
    def of(cls, t: NetworkTables, designs: list[DesignArrays]) -> Stack:
        d0, n = designs[0], len(t.names)
        for d in designs[1:]:
            noc = (d.flit_bits, d.flit_ns, d.hop_ns, d.interface_gbit_s)
            if not _same_rates(d.rates, d0.rates) or noc != (
                d0.flit_bits,
                d0.flit_ns,
                d0.hop_ns,
                d0.interface_gbit_s,
            ):
                raise ValueError(
                    "a batch of designs must share their rates, NoC timing and interface"
                )
        count = len(designs)
        s_count = np.fromiter((len(d.share_layer) for d in designs), np.int64, count)
        m_count = np.fromiter((len(d.macros.adcs) for d in designs), np.int64, count)
        share_start, macro_start = np.zeros(count + 1, np.int64), np.zeros(count + 1, np.int64)
        np.cumsum(s_count, out=share_start[1:])
        np.cumsum(m_count, out=macro_start[1:])
        share_design = np.repeat(np.arange(count), s_count)
        share_layer = np.concatenate([d.share_layer for d in designs])
        spreads = [d.spread for d in designs]
        spread = None
        if any(s is not None and s.any() for s in spreads):
            spread = np.concatenate([np.zeros(n, bool) if s is None else s for s in spreads])
        share_macro = np.concatenate([d.share_macro for d in designs])
        share_macro += np.repeat(macro_start[:-1], s_count)
        return cls(
            count,
            share_layer,
            share_design * n + share_layer,
            share_macro,
            np.concatenate([d.share_frac for d in designs]),
            share_design,
            share_start,
            macro_start,
            np.concatenate([d.per_block for d in designs]),
            MacroArrays(
                np.concatenate([d.macros.adcs for d in designs]),
                np.concatenate([d.macros.units for d in designs]),
                np.concatenate([d.macros.port_bits_per_ns for d in designs]),
            ),
            np.concatenate([d.positions for d in designs]),
            np.array([d.mesh for d in designs], dtype=int).reshape(-1, 2),
            spread,
            np.repeat(
                np.fromiter((d.adc_wiring == "weights" for d in designs), bool, count), s_count
            ),
        )


#: Shares evaluated at once: a larger batch is evaluated in consecutive parts of at most this
#: many shares, whose arrays stay in the processor's cache (on this 2-core Xeon a batch of 64
#: ResNet18, VGG16 or MSRA-A designs, 16,000-22,000 shares, went 1.2-1.4x faster per design in
#: parts of 6,000 shares than whole; 10,000 was slower again).
PART_SHARES = 6000


def batch_parts(shares: list[int]) -> list[tuple[int, int]]:
    """Consecutive parts ``designs[i:j]`` of a batch whose designs have ``shares`` shares, of at
    most :data:`PART_SHARES` shares (and at least one design) each."""
    out, start, total = [], 0, 0
    for k, n in enumerate(shares):
        if total and total + n > PART_SHARES:
            out.append((start, k))
            start, total = k, 0
        total += n
    out.append((start, len(shares)))
    return out


def tile(values: np.ndarray, count: int) -> np.ndarray:
    """``values`` repeated for each of ``count`` designs (itself for one: np.tile is slow)."""
    return values if count == 1 else np.tile(values, count)
