"""What the kernel reads: per-network tables (built once per network and crossbar choice) and
per-design arrays (one placement of the network on macros).

:class:`NetworkTables` depends only on the network and the crossbar/DAC/cell parameters, so it is
built once and reused for every candidate design; :class:`DesignArrays` describes one placement (dup,
shares, macro resources, energies). :mod:`pimsim.model.evaluate` evaluates them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pimsim.arch.mapping import bit_iterations, crossbar_set, tile_shapes
from pimsim.model.actions import interface_bits, other_work, pixel_work
from pimsim.model.kernel import STAGE_WORK, WORK, MacroArrays, Rates
from pimsim.model.plan import LayerPlan
from pimsim.model.pricing import EnergyTable
from pimsim.network.graph import Network
from pimsim.network.layer import Layer, LayerKind


@dataclass(frozen=True)
class NetworkTables:
    """Per-network arrays for given crossbar size, cell bits, DAC bits and precisions."""

    names: tuple[str, ...]
    weight: np.ndarray  # (L,) bool
    work: np.ndarray  # (L, K) per item: per output pixel (weight layers) or per output row (others)
    items: np.ndarray  # (L,) output pixels or output rows
    bit_iters: np.ndarray  # (L,)
    set_crossbars: np.ndarray  # (L,) crossbars per copy (0 for other layers)
    edge_src: np.ndarray  # (E,) producer layer index
    edge_dst: np.ndarray  # (E,)
    edge_bits: np.ndarray  # (E,) bits the consumer reads from the producer per image
    edge_flat: np.ndarray  # (E,) bool: the consumer sees the producer's output reshaped
    out_bits: np.ndarray  # (L,)
    geometry: np.ndarray  # (L, 7): out W, kernel H, stride H, dilation H, pad top, is FC, out H
    ops: int
    layers: tuple[Layer, ...] = ()
    io_bits: float = 0.0  # bits one image moves across the off-chip interface (in + out)
    # the weight columns of a copy's crossbars, in crossbar order (tile by tile, slice by slice),
    # as prefix sums: layer l's are col_prefix[col_start[l] : col_start[l] + set_crossbars[l] + 1]
    # (0, first crossbar's columns, ...); a layer without weights has (0,)
    col_prefix: np.ndarray = field(default_factory=lambda: np.zeros(1))
    col_start: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=int))
    #: (len(STAGE_WORK), L): the work the stages time, one row per stage column (work's columns)
    stage_work: np.ndarray = field(init=False, repr=False, compare=False)
    #: (K, L): work, one row per action
    work_t: np.ndarray = field(init=False, repr=False, compare=False)
    #: (L,) items and bit iterations as floats (whole numbers: exact)
    items_f: np.ndarray = field(init=False, repr=False, compare=False)
    bit_iters_f: np.ndarray = field(init=False, repr=False, compare=False)
    #: (L,) bool: the layers that read no other layer (only the network input)
    fed: np.ndarray = field(init=False, repr=False, compare=False)
    #: (L,) bool: the layers no other layer reads (the network's outputs)
    outputs: np.ndarray = field(init=False, repr=False, compare=False)
    #: per stage column: whether some layer has work in it, and some layer without weights
    stage_live: tuple[bool, ...] = field(init=False, repr=False, compare=False)
    stage_others: tuple[bool, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        layers = np.arange(len(self.names))
        object.__setattr__(self, "stage_work", np.ascontiguousarray(self.work[:, STAGE_WORK].T))
        object.__setattr__(self, "work_t", np.ascontiguousarray(self.work.T))
        object.__setattr__(self, "items_f", self.items.astype(float))
        object.__setattr__(self, "bit_iters_f", self.bit_iters.astype(float))
        object.__setattr__(self, "fed", ~np.isin(layers, self.edge_dst))
        object.__setattr__(self, "outputs", ~np.isin(layers, self.edge_src))
        live = self.stage_work.any(axis=1).tolist()
        object.__setattr__(self, "stage_live", tuple(live))
        others = self.stage_work[:, ~self.weight].any(axis=1).tolist()
        object.__setattr__(self, "stage_others", tuple(others))

    @classmethod
    def build(
        cls,
        network: Network,
        xbar: int,
        cell_bits: int,
        dac_bits: int,
        weight_bits: int = 16,
        activation_bits: int = 16,
    ) -> NetworkTables:
        bits = bit_iterations(activation_bits, dac_bits)
        index = {layer.name: i for i, layer in enumerate(network.layers)}
        rows, prefix = [], []  # prefix: each layer's column prefix sums
        for layer in network.layers:
            prefix.append(np.zeros(1))
            if layer.kind.has_weights:
                xset = crossbar_set(layer, xbar, cell_bits, weight_bits)
                cols = np.repeat(tile_shapes(layer, xbar)[1], xset.slices)
                prefix[-1] = np.concatenate([[0], np.cumsum(cols)])
                lp = LayerPlan(layer, xset, 1, layer.out_pixels, bits, ())
                work = pixel_work(lp, activation_bits)
                rows.append(
                    ([work.get(a, 0.0) for a in WORK], layer.out_pixels, bits, xset.crossbars)
                )
            else:
                work = other_work(LayerPlan(layer, None, 1, 1, 1, ()), activation_bits)
                n = max(layer.out_shape.h, 1)
                rows.append(([work.get(a, 0.0) / n for a in WORK], n, 1, 0))
        src, dst, ebits, flat = [], [], [], []
        for layer in network.layers:
            for source, seen in zip(layer.inputs, layer.in_shapes, strict=True):
                if source in index:
                    src.append(index[source])
                    dst.append(index[layer.name])
                    ebits.append(seen.size * activation_bits)
                    flat.append(seen != network[source].out_shape)
        return cls(
            tuple(index),
            np.array([layer.kind.has_weights for layer in network.layers]),
            np.array([r[0] for r in rows], dtype=float),
            np.array([r[1] for r in rows]),
            np.array([r[2] for r in rows]),
            np.array([r[3] for r in rows]),
            np.array(src, dtype=int),
            np.array(dst, dtype=int),
            np.array(ebits, dtype=float),
            np.array(flat, dtype=bool),
            np.array([x.out_shape.size * activation_bits for x in network.layers], dtype=float),
            np.array(
                [
                    (
                        x.out_shape.w,
                        x.kernel[0],
                        x.strides[0],
                        x.dilation[0],
                        x.pads[0],
                        int(x.kind is LayerKind.FC),
                        x.out_shape.h,
                    )
                    for x in network.layers
                ],
                dtype=int,
            ).reshape(-1, 7),
            network.ops,
            network.layers,
            float(interface_bits(network, activation_bits)),
            np.concatenate(prefix).astype(float),
            np.cumsum([0] + [len(p) for p in prefix[:-1]]).astype(int),
        )


@dataclass(frozen=True)
class DesignArrays:
    """One design, as the kernel reads it. Shares are sorted by layer; a layer's first share is
    its output macro."""

    per_block: np.ndarray  # (L,) items per block: dup for weight layers, 1 for others
    share_layer: np.ndarray  # (S,)
    share_macro: np.ndarray  # (S,)
    share_frac: np.ndarray  # (S,)
    macros: MacroArrays
    rates: Rates
    positions: np.ndarray  # (M, 2) router row, col
    mesh: tuple[int, int]
    flit_bits: int
    flit_ns: float
    energy: EnergyTable
    hop_ns: float = 0.0
    spread: np.ndarray | None = None  # (L,) bool: outputs kept by each share (see model.plan)
    interface_gbit_s: float = 0.0  # off-chip interface bandwidth, bits/ns (0: no interface)
    adc_wiring: str = "slots"  # hardware.adc_wiring: which columns the ADC muxes are wired to
