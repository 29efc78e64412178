"""What a work unit (one combination of the outer loop) knows: network tables, parts, peak powers.

Built once per combination and reused by every candidate: the kernel's per-network tables for this
crossbar/cell/DAC choice, the parts taken from the library, and the per-layer facts that stages 1, 3
and 4 need.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from pimsim.arch.build import select_parts
from pimsim.arch.mapping import crossbar_set
from pimsim.arch.schema import Parts
from pimsim.components.library import ComponentLibrary
from pimsim.model.design import rates_of
from pimsim.model.evaluate import NetworkTables
from pimsim.model.inventory import PartCounts, Stock, stocks
from pimsim.model.kernel import UNITS, Rates
from pimsim.model.pricing import action_energy_pj, buffer_bit_pj
from pimsim.network.graph import Network
from pimsim.network.layer import LayerKind
from synth.dup import DupProblem
from synth.settings import Combo


@dataclass(frozen=True)
class AreaTable:
    """Area of the parts an allocation is made of, mm^2 (unknown areas count 0)."""

    per_crossbar: float  # a crossbar with its DACs (and sample-and-holds)
    allocated: np.ndarray  # (1 + U,) an ADC, then a unit of each kind in UNITS order
    buffers: dict[int, float]  # KiB -> area
    router: float
    interface: float

    @classmethod
    def of(cls, parts: Parts, xbar: int) -> AreaTable:
        def a(part: object) -> float:
            return float(getattr(part, "area_mm2", None) or 0.0)

        sh = a(parts.sample_hold) if parts.sample_hold is not None else 0.0
        return cls(
            a(parts.crossbar) + xbar * (a(parts.dac) + sh),
            np.array([a(parts.adc), *(a(parts.unit(k)) for k in UNITS)]),
            {b.size_kib: a(b) for b in parts.buffers},
            parts.noc.router_area_mm2 or 0.0,
            a(parts.interface) if parts.interface is not None else 0.0,
        )


@dataclass(frozen=True)
class ComboContext:
    """Everything about one combination that does not depend on the candidate design."""

    combo: Combo
    network: Network
    parts: Parts
    tables: NetworkTables
    rates: Rates
    weight: np.ndarray  # (W,) layer index of each weight layer, network order
    conv: np.ndarray  # (W,) bool: conv (dup searched) vs FC (dup 1)
    sets: np.ndarray  # (W,) crossbars per copy
    row_blocks: np.ndarray  # (W,)
    host_of: np.ndarray  # (L,) for each layer, the weight-layer position whose macro hosts it
    working_bits: np.ndarray  # (W, 2): input bits per output row, output bits per pixel
    n_xbar: int  # crossbar budget
    unit_peak_w: np.ndarray  # (U,)
    buffer_kib: np.ndarray  # sizes available, ascending
    buffer_peak_w: np.ndarray
    buffer_port: np.ndarray  # bits per ns
    per_crossbar_w: float  # crossbar + its DACs (+ sample-and-holds): peak power
    window: np.ndarray  # (W, 4): output width (at least 1), input height, kernel height, stride
    others: np.ndarray  # layer indices of the layers without weights
    action_pj: np.ndarray  # (K,) one action of each work column, pJ (pricing.action_energy_pj)
    buffer_bit_pj: np.ndarray  # (len(buffer_kib), 2) one bit read / written at each size, pJ
    areas: AreaTable  # what stage 4 allocates, mm^2
    unit_stock: tuple[Stock, ...]  # the inventory of one of every part (buffers: each size)
    #: allowed macro counts by (row blocks, dup), kept as they are asked for (synth.layout.counts_of)
    counts: dict[tuple[int, int], tuple[int, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )
    #: the combination's arrays as the compiled loops read them, built on first use
    #: (synth.allocate, synth.design)
    loop_tables: dict[str, tuple] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(
        cls, combo: Combo, network: Network, library: ComponentLibrary, power_w: float
    ) -> ComboContext:
        parts = select_parts(library, combo.xbar, combo.cell_bits, combo.dac_bits)
        tables = NetworkTables.build(network, combo.xbar, combo.cell_bits, combo.dac_bits)
        layers = network.layers
        weight = np.array([i for i, x in enumerate(layers) if x.kind.has_weights], dtype=int)
        position = {int(w): k for k, w in enumerate(weight)}
        sets, rbs, bits = [], [], []
        for w in weight:
            layer = layers[w]
            xset = crossbar_set(layer, combo.xbar, combo.cell_bits)
            sets.append(xset.crossbars)
            rbs.append(xset.row_blocks)
            in_row = layer.in_shape.c * layer.in_shape.w * 16
            bits.append((in_row, layer.out_shape.c * 16))
        host = np.zeros(len(layers), dtype=int)
        for i, layer in enumerate(layers):
            if layer.kind.has_weights:
                host[i] = position[i]
            else:
                producers = [network.index(p) for p in layer.inputs if p in network]
                host[i] = host[producers[0]] if producers else 0
        per_xbar = parts.crossbar.peak_power_w + combo.xbar * parts.dac.peak_power_w
        if parts.sample_hold is not None:
            per_xbar += combo.xbar * parts.sample_hold.peak_power_w
        buffers = sorted(parts.buffers, key=lambda b: b.size_kib)
        sizes = [b.size_kib for b in buffers]
        one = PartCounts(
            1.0, 1.0, dict.fromkeys(UNITS, 1.0), dict.fromkeys(sizes, 1), 1.0, {}, True, 1.0
        )
        return cls(
            combo,
            network,
            parts,
            tables,
            rates_of(parts, 16, combo.dac_bits),
            weight,
            np.array([layers[w].kind is LayerKind.CONV for w in weight]),
            np.array(sets),
            np.array(rbs),
            host,
            np.array(bits, dtype=float).reshape(-1, 2),
            int(math.floor(power_w * combo.rram_ratio / parts.crossbar.peak_power_w)),
            np.array([(u.peak_power_w if (u := parts.unit(k)) else 0.0) for k in UNITS]),
            np.array([b.size_kib for b in buffers]),
            np.array([b.peak_power_w for b in buffers]),
            np.array([b.port_bits_per_ns for b in buffers]),
            per_xbar,
            np.array(
                [
                    (max(x.out_shape.w, 1), x.in_shape.h, x.kernel[0], x.strides[0])
                    for x in (layers[w] for w in weight)
                ],
                dtype=int,
            ).reshape(-1, 4),
            np.array([i for i, x in enumerate(layers) if not x.kind.has_weights], dtype=int),
            action_energy_pj(parts),
            buffer_bit_pj(parts, sizes),
            AreaTable.of(parts, combo.xbar),
            tuple(stocks(parts, combo.xbar, one)),
        )

    def dup_problem(self) -> DupProblem:
        """Stage 1's view: conv layers only, FC sets reserved."""
        layers = self.network.layers
        conv = self.weight[self.conv]
        fc_sets = int(self.sets[~self.conv].sum())
        movement = tuple(
            layers[w].weight_rows * layers[w].groups + layers[w].weight_cols for w in conv
        )
        return DupProblem(
            tuple(int(layers[w].out_pixels) for w in conv),
            tuple(int(s) for s in self.sets[self.conv]),
            movement,
            self.n_xbar - fc_sets,
        )

    def full_dup(self, conv_dup: tuple[int, ...]) -> np.ndarray:
        """(W,) dup of every weight layer: the conv layers' from ``conv_dup``, FC layers 1."""
        dup = np.ones(len(self.weight), dtype=int)
        dup[self.conv] = conv_dup
        return dup
