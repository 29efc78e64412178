"""The sliding-window rule: which producer blocks each consumer block reads.

A weight layer works in blocks of ``dup`` output pixels (row-major), any other layer in blocks of one
output row. Consumer block ``c`` reads producer blocks ``lo[c] .. hi[c]``: rows and columns each
with their kernel, stride, padding and dilation; the last input pixel of its last output pixel
decides ``hi`` (when the block may start), the first input pixel of its first output pixel decides
``lo`` (what may be freed). A fully connected layer, or a consumer that sees the producer's output
reshaped, reads the whole input. The estimate's latency and the simulator's compiler both use this.
"""

from __future__ import annotations

import math
from itertools import accumulate

import numpy as np

from pimsim.network.layer import Layer


class BlockGeometry:
    """How a layer's output is cut into blocks (``per_block``: dup for weight layers)."""

    def __init__(self, layer: Layer, per_block: int) -> None:
        self.layer = layer
        self.h, self.w = max(layer.out_shape.h, 1), max(layer.out_shape.w, 1)
        if layer.kind.has_weights:
            self.items, self.per_block = layer.out_pixels, per_block
            self.pixels_per_block = per_block
        else:
            self.items, self.per_block = self.h, 1
            self.pixels_per_block = self.w
        self.blocks = math.ceil(self.items / self.per_block)
        self.full = min(self.per_block, self.items)
        self.last = self.items - (self.blocks - 1) * self.per_block

    def block_bits(self, activation_bits: int) -> tuple[float, float]:
        """Bits of the layer's output in a full and in the last block of an image."""
        per_item = self.layer.out_shape.size * activation_bits / self.items
        return per_item * self.full, per_item * self.last

    def pixel_range(self, block: int) -> tuple[int, int]:
        """First and last output pixel (row-major) of a block."""
        first = block * self.pixels_per_block
        return first, min(first + self.pixels_per_block, self.h * self.w) - 1

    def block_of(self, pixel: int) -> int:
        return min(pixel // self.pixels_per_block, self.blocks - 1)


def spread_outputs(
    block_bits: np.ndarray, shares: np.ndarray, out_buffer_bits: np.ndarray
) -> np.ndarray:
    """Which layers should keep their output spread over their shares instead of gathering it in
    their output macro (``mapping.spread``, :mod:`pimsim.model.plan`): those on several macros of
    which two full blocks overflow the output macro's scratchpad. Arrays per layer; a mapping such
    as the ISAAC baseline's (built by the synthesizer) decides with this."""
    return (np.asarray(shares) > 1) & (2 * np.asarray(block_bits) > np.asarray(out_buffer_bits))


def block_window(consumer: BlockGeometry, producer: BlockGeometry, c: int) -> tuple[int, int]:
    """The first and the last producer block that consumer block ``c`` reads (no monotone fix-up)."""
    layer = consumer.layer
    (kh, kw), (sh, sw), (dh, dw) = layer.kernel, layer.strides, layer.dilation
    pt, pl = layer.pads[0], layer.pads[1]
    ph, pw, cw = producer.h, producer.w, consumer.w
    p0, p1 = consumer.pixel_range(c)
    (y0, x0), (y1, x1) = divmod(p0, cw), divmod(p1, cw)
    r_lo = min(max(y0 * sh - pt, 0), ph - 1)
    r_hi = min(max(y1 * sh - pt + (kh - 1) * dh, 0), ph - 1)
    # the first needed pixel: leftmost column of the rows whose window starts at r_lo
    x_first = x0 if y1 == y0 or min(max((y0 + 1) * sh - pt, 0), ph - 1) > r_lo else 0
    # the last needed pixel: rightmost column of the rows whose window reaches r_hi
    reaches = y1 > y0 and min(max((y1 - 1) * sh - pt + (kh - 1) * dh, 0), ph - 1) >= r_hi
    x_last = cw - 1 if reaches else x1
    c_lo = min(max(x_first * sw - pl, 0), pw - 1)
    c_hi = min(max(x_last * sw - pl + (kw - 1) * dw, 0), pw - 1)
    return producer.block_of(r_lo * pw + c_lo), producer.block_of(r_hi * pw + c_hi)


def windows(
    consumer: BlockGeometry, producer: BlockGeometry, whole: bool
) -> tuple[list[int], list[int]]:
    """Per consumer block, the first and the last producer block it reads (both non-decreasing)."""
    n, last_block = consumer.blocks, producer.blocks - 1
    if whole:
        return [0] * n, [last_block] * n
    lo, hi = zip(*(block_window(consumer, producer, c) for c in range(n)), strict=True)
    his = list(accumulate(hi, max))
    los = [min(a, b) for a, b in zip(accumulate(lo, max), his, strict=True)]
    return los, his


def first_needed(consumer: BlockGeometry, producer: BlockGeometry, whole: bool) -> int:
    """How many producer blocks must exist before the consumer's first block can start."""
    if whole:
        return producer.blocks
    return block_window(consumer, producer, 0)[1] + 1


def tail_blocks(consumer: BlockGeometry, producer: BlockGeometry, whole: bool) -> int:
    """How many consumer blocks read the producer's last block (they can only start after it)."""
    last = producer.blocks - 1
    if whole:
        return consumer.blocks
    lo, hi = 0, consumer.blocks - 1  # the first block whose window reaches the last block
    while lo < hi:
        mid = (lo + hi) // 2
        if block_window(consumer, producer, mid)[1] >= last:
            hi = mid
        else:
            lo = mid + 1
    return consumer.blocks - lo
