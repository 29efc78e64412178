"""A batch of designs of one network laid end to end, and the segment reductions that gather each
design's figures from it (see :func:`pimsim.model.evaluate.evaluate_stack`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from pimsim.model.kernel import MacroArrays, Rates
from pimsim.model.pricing import BatchTables, EnergyTable
from pimsim.model.sums_jit import add_at, segment_argmax
from pimsim.model.tables import DesignArrays, NetworkTables

__all__ = [
    "Stack",
    "add_at",
    "batch_parts",
    "lay_out",
    "lay_out_arrays",
    "layer_blocks",
    "segment_argmax",
    "tile",
]


def _same_rates(a: Rates, b: Rates) -> bool:
    return a is b or (
        a.read_ns == b.read_ns
        and a.bit_iters == b.bit_iters
        and a.adc_ghz == b.adc_ghz
        and np.array_equal(a.unit_rate, b.unit_rate)
        and np.array_equal(a.unit_lanes, b.unit_lanes)
    )


def lay_out(
    n: int,
    share_layers: list[np.ndarray],
    share_macros: list[np.ndarray],
    m_count: np.ndarray,
    wired: np.ndarray,
) -> dict[str, np.ndarray]:
    """Where the shares and macros of designs laid end to end sit: the :class:`Stack` fields
    ``share_layer``, ``layer`` (batch layer = design x ``n`` + layer), ``share_macro`` (batch
    macro = the design's first macro + its macro), ``share_design``, ``share_start`` and
    ``macro_start`` ((B + 1,) each design's first share and macro), ``wired`` and
    ``weights_wired`` (each share's design's ``wired``), from each design's ``share_layers``,
    ``share_macros`` (macros numbered in the design), ``m_count`` (B,) macros and ``wired``
    (B,) whether its ADCs are wired to its weight columns. One compiled pass over the shares
    (integers: exact); :func:`lay_out_arrays` of them laid end to end."""
    return lay_out_arrays(
        n,
        np.concatenate(share_layers, dtype=np.int64),
        np.concatenate(share_macros, dtype=np.int64),
        np.cumsum(np.fromiter((len(x) for x in share_layers), np.int64, len(share_layers))),
        m_count,
        wired,
    )


def lay_out_arrays(
    n: int,
    share_layer: np.ndarray,
    local_macro: np.ndarray,
    share_end: np.ndarray,
    m_count: np.ndarray,
    wired: np.ndarray,
) -> dict[str, np.ndarray]:
    """:func:`lay_out` of designs whose shares are laid end to end already (a caller holding its
    batch so: the synthesizer's layout): ``share_layer`` and ``local_macro`` (S,) int64 (macros
    numbered in each design), ``share_end`` (B,) each design's end in them."""
    wired = np.ascontiguousarray(wired, dtype=bool)
    share_end = np.ascontiguousarray(share_end, dtype=np.int64)
    if len(local_macro) != len(share_layer):  # (the compiled pass reads both by share)
        raise ValueError(f"{len(share_layer)} shares' layers but {len(local_macro)} macros")
    if len(share_end) and share_end[-1] != len(share_layer):
        raise ValueError(f"{len(share_layer)} shares but the designs end at {share_end[-1]}")
    if not len(share_end) == len(m_count) == len(wired):
        raise ValueError(
            f"{len(share_end)} designs' shares, {len(m_count)} macro counts, {len(wired)} wirings"
        )
    share_design, layer, share_macro, share_start, macro_start, weights_wired = _lay_out(
        n,
        share_layer,
        local_macro,
        share_end,
        np.ascontiguousarray(m_count, dtype=np.int64),
        wired,
    )
    return {
        "share_layer": share_layer,
        "layer": layer,
        "share_macro": share_macro,
        "share_design": share_design,
        "share_start": share_start,
        "macro_start": macro_start,
        "wired": wired,
        "weights_wired": weights_wired,
    }


@njit(cache=True)
def _lay_out(n, share_layer, local_macro, share_end, m_count, wired):
    """:func:`lay_out` of the shares' layers and macros (``local_macro``: numbered in each
    design) laid end to end, ``share_end`` (B,) each design's end in them, ``m_count`` (B,) its
    macros."""
    count, shares = len(share_end), len(share_layer)
    share_start = np.zeros(count + 1, dtype=np.int64)
    macro_start = np.zeros(count + 1, dtype=np.int64)
    for b in range(count):
        share_start[b + 1] = share_end[b]
        macro_start[b + 1] = macro_start[b] + m_count[b]
    share_design = np.empty(shares, dtype=np.int64)
    layer = np.empty(shares, dtype=np.int64)
    share_macro = np.empty(shares, dtype=np.int64)
    weights_wired = np.empty(shares, dtype=np.bool_)
    for b in range(count):
        for s in range(share_start[b], share_start[b + 1]):
            share_design[s] = b
            layer[s] = b * n + share_layer[s]
            share_macro[s] = macro_start[b] + local_macro[s]
            weights_wired[s] = wired[b]
    return share_design, layer, share_macro, share_start, macro_start, weights_wired


@dataclass(frozen=True)
class Stack:
    """A batch of designs laid end to end: shares, macros and layers numbered across the batch
    (batch layer = design x L + layer, batch macro = the design's first macro + its macro), with
    what the batch's designs share (rates, NoC timing, interface) and their energy tables.

    The kernel reads only this (:func:`pimsim.model.evaluate.evaluate_stack`). A caller with
    its batch in arrays already can build it at once (the layout by :func:`lay_out`); :meth:`of`
    lays separate designs end to end; :meth:`part` cuts consecutive designs out of it and
    :meth:`design` gives one design back as :class:`~pimsim.model.tables.DesignArrays`."""

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
    spread: np.ndarray | None  # (B x L,) None: no design spreads a layer
    spread_given: np.ndarray  # (B,) bool: the design had a spread (else its DesignArrays' None)
    wired: np.ndarray  # (B,) bool: the design's ADCs are wired to its weight columns
    weights_wired: np.ndarray  # (S,) bool: its share's design's ``wired``
    rates: Rates  # the batch's (every design's) rates
    flit_bits: int
    flit_ns: float
    hop_ns: float
    interface_gbit_s: float  # off-chip interface bandwidth, bits/ns (0: no interface)
    buffer_pj: np.ndarray  # (M, 2) per bit read and written in each macro's scratchpad, pJ
    energy: BatchTables  # the designs' other energy constants, one row per design

    @classmethod
    def of(cls, t: NetworkTables, designs: list[DesignArrays]) -> Stack:
        """``designs`` laid end to end (they must share rates, NoC timing and interface)."""
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
        spreads = [d.spread for d in designs]
        spread = None
        if any(s is not None and s.any() for s in spreads):
            spread = np.concatenate([np.zeros(n, bool) if s is None else s for s in spreads])
        return cls(
            count=count,
            **lay_out(
                n,
                [d.share_layer for d in designs],
                [d.share_macro for d in designs],
                np.fromiter((len(d.macros.adcs) for d in designs), np.int64, count),
                np.fromiter((d.adc_wiring == "weights" for d in designs), bool, count),
            ),
            share_frac=np.concatenate([d.share_frac for d in designs]),
            per_block=np.concatenate([d.per_block for d in designs]),
            macros=MacroArrays(
                np.concatenate([d.macros.adcs for d in designs]),
                np.concatenate([d.macros.units for d in designs]),
                np.concatenate([d.macros.port_bits_per_ns for d in designs]),
            ),
            positions=np.concatenate([d.positions for d in designs]),
            meshes=np.array([d.mesh for d in designs], dtype=int).reshape(-1, 2),
            spread=spread,
            spread_given=np.fromiter((s is not None for s in spreads), bool, count),
            rates=d0.rates,
            flit_bits=d0.flit_bits,
            flit_ns=d0.flit_ns,
            hop_ns=d0.hop_ns,
            interface_gbit_s=d0.interface_gbit_s,
            buffer_pj=np.concatenate([d.energy.buffer_pj for d in designs]),
            energy=BatchTables.of([d.energy for d in designs]),
        )

    def part(self, i: int, j: int, n: int) -> Stack:
        """Designs ``i .. j - 1`` of the stack (``n``: layers of the network), numbered from 0:
        slices of its arrays, the batch layers and macros shifted down."""
        if i == 0 and j == self.count:
            return self
        s0, s1 = int(self.share_start[i]), int(self.share_start[j])
        m0, m1 = int(self.macro_start[i]), int(self.macro_start[j])
        m, e = self.macros, self.energy
        return Stack(
            count=j - i,
            share_layer=self.share_layer[s0:s1],
            layer=self.layer[s0:s1] - i * n,
            share_macro=self.share_macro[s0:s1] - m0,
            share_frac=self.share_frac[s0:s1],
            share_design=self.share_design[s0:s1] - i,
            share_start=self.share_start[i : j + 1] - s0,
            macro_start=self.macro_start[i : j + 1] - m0,
            per_block=self.per_block[i * n : j * n],
            macros=MacroArrays(m.adcs[m0:m1], m.units[m0:m1], m.port_bits_per_ns[m0:m1]),
            positions=self.positions[m0:m1],
            meshes=self.meshes[i:j],
            spread=None if self.spread is None else self.spread[i * n : j * n],
            spread_given=self.spread_given[i:j],
            wired=self.wired[i:j],
            weights_wired=self.weights_wired[s0:s1],
            rates=self.rates,
            flit_bits=self.flit_bits,
            flit_ns=self.flit_ns,
            hop_ns=self.hop_ns,
            interface_gbit_s=self.interface_gbit_s,
            buffer_pj=self.buffer_pj[m0:m1],
            energy=BatchTables(
                e.action_pj[i:j], e.flit_hop_pj[i:j], e.static_w[i:j], e.interface_bit_pj[i:j]
            ),
        )

    def design(self, b: int, n: int) -> DesignArrays:
        """Design ``b`` of the stack alone (``n``: layers of the network): for a stack made by
        :meth:`of`, the design it was given (its arrays' values, its wiring and spread)."""
        s0, s1 = int(self.share_start[b]), int(self.share_start[b + 1])
        m0, m1 = int(self.macro_start[b]), int(self.macro_start[b + 1])
        m, e = self.macros, self.energy
        spread = None
        if self.spread_given[b]:
            spread = np.zeros(n, bool) if self.spread is None else self.spread[b * n : (b + 1) * n]
        return DesignArrays(
            self.per_block[b * n : (b + 1) * n],
            self.share_layer[s0:s1],
            self.share_macro[s0:s1] - m0,
            self.share_frac[s0:s1],
            MacroArrays(m.adcs[m0:m1], m.units[m0:m1], m.port_bits_per_ns[m0:m1]),
            self.rates,
            self.positions[m0:m1],
            (int(self.meshes[b, 0]), int(self.meshes[b, 1])),
            self.flit_bits,
            self.flit_ns,
            EnergyTable(
                e.action_pj[b],
                self.buffer_pj[m0:m1],
                float(e.flit_hop_pj[b]),
                e.static_w[b],
                float(e.interface_bit_pj[b]),
            ),
            self.hop_ns,
            spread,
            self.interface_gbit_s,
            "weights" if self.wired[b] else "slots",
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


def layer_blocks(
    st: Stack, items: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per batch layer of ``st`` (design x L + layer; ``items``: (L,) each layer's items per
    image): its first share (``np.searchsorted`` of the sorted batch layers, (B x L + 1,)), its
    blocks per image ``ceil(items / per_block)``, the items of a full block ``min(per_block,
    items)`` and of the last ``items - (blocks - 1) x per_block``, in one pass. Returns
    (layer_start, blocks, full, last)."""
    return _layer_blocks(st.layer, items, st.per_block, st.count)


@njit(cache=True, error_model="numpy")
def _layer_blocks(glay, items, per_block, count):
    """:func:`layer_blocks` (integers: exact)."""
    n = len(items)
    total, shares = count * n, len(glay)
    layer_start = np.empty(total + 1, dtype=np.int64)
    s = 0
    for g in range(total + 1):
        while s < shares and glay[s] < g:
            s += 1
        layer_start[g] = s
    blocks = np.empty(total, dtype=np.int64)
    full = np.empty(total, dtype=np.int64)
    last = np.empty(total, dtype=np.int64)
    for g in range(total):
        it, pb = items[g % n], per_block[g]
        b = -(-it // pb)
        blocks[g], full[g], last[g] = b, min(pb, it), it - (b - 1) * pb
    return layer_start, blocks, full, last


def tile(values: np.ndarray, count: int) -> np.ndarray:
    """``values`` repeated for each of ``count`` designs (itself for one: np.tile is slow)."""
    return values if count == 1 else np.tile(values, count)
