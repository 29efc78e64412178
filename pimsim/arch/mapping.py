"""How one layer sits on crossbars: the crossbar set, blocks and bit iterations, and per-macro shares.

A weight layer's unrolled matrix (``weight_rows`` x ``Cout``) is tiled onto ``xbar`` x ``xbar`` arrays:
``row_blocks`` x ``col_blocks`` tiles, each stored as ``slices = ceil(weight_bits / cell_bits)``
crossbars (one per group of weight bits). One copy of all of them is the *crossbar set*. With weight
duplication ``dup``, ``dup`` output pixels are computed at once, so a layer needs
``blocks = ceil(Ho*Wo / dup)`` steps, each of ``bit_iters = ceil(activation_bits / dac_bits)`` input
bit iterations.

Grouped convolutions are block-diagonal: when a group's sub-matrix fits in one crossbar, as many groups
as fit are packed along the diagonal of each crossbar (a depthwise 3x3 layer puts 14 channels in a
128x128 crossbar); otherwise each group is tiled on its own.

Only the rows and columns that hold weights act: ``active_rows`` DAC rows and ``active_cols`` converted
columns per slice of one copy, per input bit.

The unit rules (:func:`needed_units`: which digital unit kinds a macro needs to run a layer) live here
too, beside the geometry they depend on, so that the architecture checks (``pimsim.arch``) use them
without reaching up into the model; the action counts (``pimsim.model.actions``) build on both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pimsim.components.parts import UnitKind
from pimsim.network.layer import Activation, Layer, LayerKind


@dataclass(frozen=True, slots=True)
class CrossbarSet:
    """One copy of a layer's weights on crossbars."""

    row_blocks: int
    col_blocks: int
    slices: int
    active_rows: int  # DAC rows driven per input bit, summed over the tiles of one slice
    active_cols: int  # columns converted per input bit, summed over the tiles of one slice
    out_cols: int  # Cout: results per output pixel after partial sums are added

    @property
    def crossbars(self) -> int:
        """Crossbars in the set: row blocks x column blocks x bit slices."""
        return self.row_blocks * self.col_blocks * self.slices

    @property
    def partial_sum_adds(self) -> int:
        """Element additions per output pixel to combine row blocks: active_cols - Cout."""
        return self.active_cols - self.out_cols


def crossbar_set(layer: Layer, xbar: int, cell_bits: int, weight_bits: int = 16) -> CrossbarSet:
    """The crossbar set of a conv or FC layer."""
    if not layer.kind.has_weights:
        raise ValueError(f"layer {layer.name!r} ({layer.kind}) has no weights")
    slices = math.ceil(weight_bits / cell_bits)
    groups, rows, cout = layer.groups, layer.weight_rows, layer.weight_cols
    cols = cout // groups
    if groups == 1:
        rb, cb = math.ceil(rows / xbar), math.ceil(cols / xbar)
        return CrossbarSet(rb, cb, slices, rows * cb, cols * rb, cout)
    if rows <= xbar and cols <= xbar:
        per_xbar = min(xbar // rows, xbar // cols)
        return CrossbarSet(1, math.ceil(groups / per_xbar), slices, rows * groups, cout, cout)
    rb, cb = math.ceil(rows / xbar), math.ceil(cols / xbar)
    return CrossbarSet(rb, cb * groups, slices, rows * cb * groups, cols * rb * groups, cout)


def tile_shapes(layer: Layer, xbar: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns holding weights in each tile of one slice of one copy, in crossbar order
    (each tile is stored as ``slices`` crossbars in a row: a copy's crossbars are tile by tile,
    slice by slice): row block by row block, column tile by column tile, group by group; groups
    small enough are packed along a crossbar's diagonal."""
    groups, rows, cols = layer.groups, layer.weight_rows, layer.weight_cols // layer.groups

    def cut(n: int) -> np.ndarray:
        return np.minimum(xbar, n - np.arange(math.ceil(n / xbar)) * xbar)

    if groups > 1 and rows <= xbar and cols <= xbar:  # whole groups packed along the diagonal
        per = min(xbar // rows, xbar // cols)
        packs = np.minimum(per, groups - np.arange(math.ceil(groups / per)) * per)
        return rows * packs, cols * packs
    r, c = cut(rows), cut(cols)
    return np.tile(np.repeat(r, len(c)), groups), np.tile(c, len(r) * groups)


def tiles(layer: Layer, xbar: int) -> list[tuple[int, int]]:
    """(rows, columns) of each tile of :func:`tile_shapes`, as a list."""
    r, c = tile_shapes(layer, xbar)
    return list(zip(r.tolist(), c.tolist(), strict=True))


def bit_iterations(activation_bits: int, dac_bits: int) -> int:
    """Input bit iterations per block: ceil(activation_bits / dac_bits)."""
    return math.ceil(activation_bits / dac_bits)


def blocks(layer: Layer, dup: int) -> int:
    """Blocks (steps) per image: ceil(Ho*Wo / dup)."""
    return math.ceil(layer.out_pixels / dup)


@dataclass(frozen=True, slots=True)
class MacroShare:
    """A layer's part in one macro: its crossbars there and their fraction of the layer's total."""

    macro: int
    crossbars: int
    share: float


def activation_unit(activation: Activation) -> UnitKind | None:
    """The digital unit kind that applies ``activation``: the sigmoid unit for the smooth ones
    (sigmoid, tanh, hard-swish), the activation unit (ReLU-like) otherwise; ``None`` for none."""
    if activation is Activation.NONE:
        return None
    if activation in (Activation.SIGMOID, Activation.TANH, Activation.HARDSWISH):
        return UnitKind.SIGMOID
    return UnitKind.ACTIVATION


#: The unit kind that runs a layer without weights (LRN and softmax are charged as element-wise ops).
OTHER_UNIT: dict[LayerKind, UnitKind] = {
    LayerKind.POOL: UnitKind.POOL,
    LayerKind.ELTWISE: UnitKind.ELTWISE,
    LayerKind.LRN: UnitKind.ELTWISE,
    LayerKind.SOFTMAX: UnitKind.ELTWISE,
}


def needed_units(layer: Layer, partial_sums: bool) -> set[UnitKind]:
    """The digital unit kinds a macro needs to run ``layer`` (``partial_sums``: its crossbar set has
    more than one row block, so partial sums must be added)."""
    kinds: set[UnitKind] = set()
    if layer.kind.has_weights:
        kinds.add(UnitKind.SHIFT_ADD)
        if partial_sums:
            kinds.add(UnitKind.ADD)
    elif layer.kind in OTHER_UNIT:
        kinds.add(OTHER_UNIT[layer.kind])
    act = activation_unit(layer.activation)
    if act is not None:
        kinds.add(act)
    return kinds
