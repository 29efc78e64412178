"""What each block of a layer share does, derived from the mapping and the layer's geometry.

This is the simulator's own account of the work (the estimate's per-pixel tables are not used):

- **Crossbars.** A weight layer's matrix (``weight_rows`` x ``Cout``, block-diagonal per group) is
  cut into tiles of at most ``xbar`` x ``xbar`` (:func:`tiles`); each tile is stored as ``slices``
  crossbars, one per group of weight bits. One copy of the layer is every tile's slices; the layer
  has ``dup`` copies, and copy ``q`` computes output pixel ``q`` of each block. Crossbars are
  numbered copy by copy, tile by tile, slice by slice; the mapping's macros take consecutive runs
  of them in mapping order (``crossbars`` of each). Inside a macro, the layers resident there take
  consecutive crossbar *slots* in network order.
- **Per bit** (an mvm): every crossbar of an active copy (one with a pixel in the block: all of
  them in a full block, the first ``last`` in the last block) is read once; each of its rows with a
  weight is driven by its DAC (``dac_convert``); each of its columns with a weight is sampled
  (``sample_hold``), converted (``adc_convert``) and shifted-and-added (``shift_add``, elements).
- **ADC mux groups.** Each ADC of a macro is wired through a mux to a fixed, contiguous range of
  the macro's *wired columns*; the ``W`` wired columns are split into ``A`` ranges, one per ADC,
  as evenly as whole columns allow: wired column ``c`` goes to ADC ``c * A // W``. Which columns
  are wired is the architecture's ``adc_wiring`` rule:

  - ``"slots"`` (ISAAC's IMA, the default): every column of every crossbar slot, used or not,
    slot by slot, column by column (``W = C x xbar``). With as many ADCs as crossbars (8 ADCs for
    8 crossbars) each ADC converts one crossbar; with fewer, each a run of crossbars; with more,
    each a part of one. A crossbar's weights sit in its first columns, so an ADC whose range holds
    unused columns (a tile narrower than the crossbar, a slot no layer uses) idles while the
    others work.
  - ``"weights"`` (what the synthesizer writes): only the columns that hold weights, crossbar by
    crossbar in slot order (every share of the macro, every copy), each crossbar's active columns
    (``W`` = the macro's weight columns). A macro holding several layers' shares first gives each
    share its own run of ADCs, in proportion to its conversions per image (weight columns x bits x
    blocks), at least one each (largest remainder), and splits each share's columns over its own
    run: layers taking ADCs in proportion to their work finish an image's conversions together, as
    when they take the whole bank in turns. Only whole-column and whole-ADC rounding, and layers
    sharing the macro that work at different times, leave ADCs idle.

  The wiring is fixed: in the last block the ADCs wired to the idle copies' columns idle. A bit's
  conversions take as long as its busiest ADC's share, whatever the others do (:func:`adc_loads`).
- **Per block** (the digital work and the scratchpad traffic of a block's pixels): the partial-sum
  additions (``active columns - Cout`` per pixel), the activation (``Cout`` per pixel), the window
  read and the results written. A pixel's are done by the macros holding its copy, each in
  proportion to the crossbars of the copy it holds.
- **Input reuse.** The hardware re-reads each output pixel's whole window from the scratchpad: a
  conv reads ``kh x kw x Cin`` values per output pixel (padding positions are read as stored
  zeros), a fully connected layer its whole input. No line buffer keeps rows between pixels.
- **Layers without weights** work in blocks of one output row of ``W x C`` values: pooling
  ``kh x kw`` elements and reads per value, element-wise ``inputs - 1`` operations and ``inputs``
  reads per value, LRN / softmax one element-wise operation and one read per value, a stand-alone
  activation one read per value; an activation one operation per value; one write per value; a
  concatenation does nothing. A layer on several hosts splits this evenly.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, replace

from pimsim.arch.mapping import tiles
from pimsim.model.plan import LayerPlan, Plan
from pimsim.network.layer import Activation, LayerKind

#: Activations done by the sigmoid unit; any other activation by the activation unit.
_SIGMOID_LIKE = (Activation.SIGMOID, Activation.TANH, Activation.HARDSWISH)


def activation_name(activation: Activation) -> str | None:
    """The unit action that applies ``activation`` (None: no activation)."""
    if activation is Activation.NONE:
        return None
    return "sigmoid" if activation in _SIGMOID_LIKE else "activation"


@dataclass(frozen=True)
class ShareCrossbars:
    """A weight layer share's crossbars: per crossbar, its copy, active rows and columns, its slot
    in the macro and its first wired column (the ADC mux rule of the module docstring); and the
    macro's wired columns."""

    copy: tuple[int, ...]
    rows: tuple[int, ...]
    cols: tuple[int, ...]
    slots: tuple[int, ...]
    per_copy: int  # crossbars in one copy of the layer
    wired: tuple[int, ...]  # each crossbar's first column among the macro's wired columns
    macro_wired: int  # wired columns of the macro (W of the mux rule)
    adc_first: int = 0  # the first of the ADCs its columns are wired to ("weights", shared macro)
    adc_count: int | None = None  # how many (None: the macro's whole bank)


def share_crossbars(plan: Plan) -> dict[tuple[str, int], ShareCrossbars]:
    """Every weight layer share's crossbars, by (layer, share index)."""
    hw = plan.arch.hardware
    by_slots = hw.adc_wiring == "slots"
    used: Counter[int] = Counter()  # slots taken in each macro so far (network order)
    weight_cols: Counter[int] = Counter()  # weight columns in each macro so far (slot order)
    found: list[tuple[tuple[str, int], int, list[tuple[int, int, int, int, int]], int]] = []
    for name, lp in plan.layers.items():
        if lp.xset is None:
            continue
        one = [t for t in tiles(lp.layer, hw.xbar_size) for _ in range(lp.xset.slices)]
        per_copy = len(one)
        start = 0
        for s, share in enumerate(lp.shares):
            xbars = []  # (copy, rows, columns, slot, first wired column) of each crossbar
            for i in range(start, start + share.crossbars):
                r, c = one[i % per_copy]
                slot = used[share.macro]
                wired = slot * hw.xbar_size if by_slots else weight_cols[share.macro]
                xbars.append((i // per_copy, r, c, slot, wired))
                used[share.macro] += 1
                weight_cols[share.macro] += c
            start += share.crossbars
            found.append(((name, s), share.macro, xbars, per_copy))
    banks = {} if by_slots else _split_banks(plan, found)
    out: dict[tuple[str, int], ShareCrossbars] = {}
    for key, macro, xbars, per_copy in found:
        copy, r, c, slot, wired = (tuple(x) for x in zip(*xbars, strict=True))
        macro_wired = (
            max(plan.groups[macro].crossbars, 1) * hw.xbar_size if by_slots else weight_cols[macro]
        )
        if key in banks:  # its own ADCs: its columns counted from its first one
            first, count = banks[key]
            own = tuple(w - wired[0] for w in wired)
            out[key] = ShareCrossbars(
                copy, r, c, slot, per_copy, own, sum(c), adc_first=first, adc_count=count
            )
            continue
        out[key] = ShareCrossbars(copy, r, c, slot, per_copy, wired, macro_wired)
    return out


def _split_banks(
    plan: Plan, found: list[tuple[tuple[str, int], int, list[tuple[int, int, int, int, int]], int]]
) -> dict[tuple[str, int], tuple[int, int]]:
    """Under ``"weights"``, a macro holding several weight shares gives each its own run of ADCs
    (first, count), in proportion to its conversions per image (weight columns x bits x blocks),
    at least one each, by largest remainder; a macro with fewer ADCs than shares keeps one bank."""
    in_macro: dict[int, list[tuple[tuple[str, int], float]]] = {}
    for key, macro, xbars, _ in found:
        lp = plan.layers[key[0]]
        work = sum(x[2] for x in xbars) * lp.bit_iters * lp.blocks
        in_macro.setdefault(macro, []).append((key, float(work)))
    out: dict[tuple[str, int], tuple[int, int]] = {}
    for macro, shares in in_macro.items():
        adcs = plan.groups[macro].adcs
        if len(shares) < 2 or adcs < len(shares):
            continue
        total = sum(w for _, w in shares) or 1.0
        spare = adcs - len(shares)  # one each first, the rest in proportion
        exact = [spare * w / total for _, w in shares]
        counts = [1 + math.floor(e) for e in exact]
        by_remainder = sorted(range(len(shares)), key=lambda i: (-(exact[i] % 1), i))
        for i in by_remainder[: adcs - sum(counts)]:
            counts[i] += 1
        first = 0
        for (key, _), count in zip(shares, counts, strict=True):
            out[key] = (first, count)
            first += count
    return out


def adc_loads(xb: ShareCrossbars, pixels: int, adcs: int) -> tuple[float, ...]:
    """Conversions per bit on each of the macro's ``adcs`` ADCs (the mux rule of the module
    docstring) for a block of ``pixels`` pixels (copies ``0 .. pixels - 1`` active)."""
    if adcs <= 0:
        return ()
    if xb.adc_count is not None:  # its own run of the bank
        own = adc_loads(replace(xb, adc_first=0, adc_count=None), pixels, xb.adc_count)
        load = [0.0] * adcs
        load[xb.adc_first : xb.adc_first + xb.adc_count] = own
        return tuple(load)
    load = [0.0] * adcs
    total = max(xb.macro_wired, 1)

    for copy, cols, lo in zip(xb.copy, xb.cols, xb.wired, strict=True):
        if copy >= pixels or cols <= 0:
            continue
        hi = lo + cols  # its active columns among the wired ones
        j = lo * adcs // total
        start = -(-j * total // adcs)  # the first wired column of ADC j
        while j < adcs and start < hi:
            end = -(-(j + 1) * total // adcs)  # ADC j + 1's first
            load[j] += min(hi, end) - max(lo, start)
            j, start = j + 1, end
    return tuple(load)


@dataclass(frozen=True)
class BlockWork:
    """A share's work in one block: per bit (mvm, adc, shift_add) and per block (the rest)."""

    crossbars: int  # crossbars read per bit
    dac: int  # DAC conversions per bit
    columns: int  # columns sampled, converted, shifted-and-added per bit
    adc_load: tuple[float, ...]  # conversions per bit on each ADC of the macro
    per_block: dict[str, float]  # actions per block: add, activation, buffer_read_bits, ...


def weight_block(
    lp: LayerPlan,
    xb: ShareCrossbars,
    pixels: int,
    act_bits: int,
    adcs: int,
) -> BlockWork:
    """A weight layer share's work in a block of ``pixels`` output pixels."""
    layer, xset = lp.layer, lp.xset
    assert xset is not None
    active = [i for i, q in enumerate(xb.copy) if q < pixels]
    # the share's part of each active pixel: the crossbars of its copy it holds
    part = len(active) / xb.per_copy
    cout = layer.weight_cols
    copy_cols = xset.active_cols  # columns of one copy (one slice): partial sums to add
    if layer.kind is LayerKind.FC:
        window = layer.in_shape.size
    else:
        window = layer.kernel[0] * layer.kernel[1] * layer.in_shape.c
    per_block: dict[str, float] = {
        "buffer_read_bits": part * window * act_bits,
        "buffer_write_bits": part * cout * act_bits,
    }
    if copy_cols > cout:
        per_block["add"] = part * (copy_cols - cout)
    act = activation_name(layer.activation)
    if act is not None:
        per_block[act] = part * cout
    return BlockWork(
        len(active),
        sum(xb.rows[i] for i in active),
        sum(xb.cols[i] for i in active),
        adc_loads(xb, pixels, adcs),
        per_block,
    )


def other_block(lp: LayerPlan, act_bits: int) -> dict[str, float]:
    """A layer without weights: one share's work per block (one output row)."""
    layer = lp.layer
    values = layer.out_shape.size / max(layer.out_shape.h, 1) / len(lp.shares)
    work: dict[str, float] = {}
    if layer.kind is LayerKind.CONCAT:
        return work
    if layer.kind is LayerKind.POOL:
        window = layer.kernel[0] * layer.kernel[1]
        work["pool"] = values * window
        work["buffer_read_bits"] = values * window * act_bits
    elif layer.kind is LayerKind.ELTWISE:
        work["eltwise"] = values * (len(layer.inputs) - 1)
        work["buffer_read_bits"] = values * len(layer.inputs) * act_bits
    elif layer.kind is LayerKind.ACT:
        work["buffer_read_bits"] = values * act_bits
    else:  # LRN, softmax: one element-wise operation per value
        work["eltwise"] = values
        work["buffer_read_bits"] = values * act_bits
    act = activation_name(layer.activation)
    if act is not None:
        work[act] = work.get(act, 0.0) + values
    work["buffer_write_bits"] = values * act_bits
    return work
