"""Action counts: how many times each component acts for one image, per layer and per macro.

This is the seam between *what happens* (the closed-form dataflow here, or the simulator's record of
a run) and *what it costs* (:func:`pimsim.model.pricing.price`). Counts are exact per image:

- weight layer, per output pixel and input bit: every crossbar of one copy is read once
  (``xbar_read``); every active row's DAC converts (``dac_convert``); every active column is sampled
  (``sample_hold``), converted by the macro's ADC bank (``adc_convert``) and shifted-and-added into
  its running sum (``shift_add``, elements);
- weight layer, per output pixel: row-block partial sums are added (``add``: active_cols - Cout
  elements), the activation is applied to Cout elements, the input window (kh*kw*Cin values) is read
  from the scratchpad and the Cout results are written back (``buffer_*_bits``);
- pooling: kh*kw elements per output value; element-wise: one op per extra operand per output value;
  stand-alone activation, LRN and softmax: one op per output value (LRN and softmax are charged one
  element-wise op per value: a stated simplification); concatenation moves nothing (consumers read the
  parts where they are); all of them read their operands and write their result;
- NoC: a consumer's input travels from the producer's output macro to each of the consumer's macros
  in proportion to its crossbar share; a layer on several macros gathers its results at its first
  macro (unless the mapping spreads it: then each of its macros sends its part to each consumer
  macro); ``noc_flit_hops`` = flits x hops (X-then-Y routing). The network's input image arrives
  from off chip and is not counted.

A layer's work in a macro is its total times the macro's share of the layer's crossbars. The kernel
(:mod:`pimsim.model.kernel`) multiplies these per-pixel (per-row) counts out for every share.

"""

from __future__ import annotations

from collections import Counter
from enum import StrEnum

from pimsim.arch.mapping import activation_unit
from pimsim.components.parts import UnitKind
from pimsim.model.plan import LayerPlan
from pimsim.network.graph import Network
from pimsim.network.layer import Activation, LayerKind


class Action(StrEnum):
    """Things a component does; digital units and buffers are counted in elements and bits."""

    XBAR_READ = "xbar_read"
    DAC = "dac_convert"
    ADC = "adc_convert"
    SAMPLE_HOLD = "sample_hold"
    SHIFT_ADD = "shift_add"
    ADD = "add"
    ACTIVATION = "activation"
    SIGMOID = "sigmoid"
    POOL = "pool"
    ELTWISE = "eltwise"
    BUFFER_READ_BITS = "buffer_read_bits"
    BUFFER_WRITE_BITS = "buffer_write_bits"
    NOC_FLIT_HOPS = "noc_flit_hops"
    #: Scratchpad bits read to send over the NoC (at the sending macro) and written on arrival (at
    #: the receiving macro). Apart from BUFFER_*_BITS (the layers' own window loads and result
    #: stores) so that the cost of moving data shows on its own; priced at the same per-bit energy.
    NOC_BUFFER_READ_BITS = "noc_buffer_read_bits"
    NOC_BUFFER_WRITE_BITS = "noc_buffer_write_bits"
    #: Bits crossing the chip's off-chip interface: each image's input in and its outputs out.
    INTERFACE_BITS = "interface_bits"


#: The digital unit kind that performs each element action.
UNIT_OF: dict[Action, UnitKind] = {
    Action.SHIFT_ADD: UnitKind.SHIFT_ADD,
    Action.ADD: UnitKind.ADD,
    Action.ACTIVATION: UnitKind.ACTIVATION,
    Action.SIGMOID: UnitKind.SIGMOID,
    Action.POOL: UnitKind.POOL,
    Action.ELTWISE: UnitKind.ELTWISE,
}

Counts = Counter  # Counter[Action], values may be fractional after splitting by share


#: The element action each digital unit kind performs (the inverse of :data:`UNIT_OF`).
ACTION_OF: dict[UnitKind, Action] = {unit: action for action, unit in UNIT_OF.items()}


def activation_action(activation: Activation) -> Action | None:
    """The unit action that applies an activation (see :func:`pimsim.arch.mapping.activation_unit`);
    ``None`` for no activation."""
    unit = activation_unit(activation)
    return None if unit is None else ACTION_OF[unit]


def pixel_work(lp: LayerPlan, activation_bits: int) -> Counts:
    """Actions of one output pixel of a weight layer (all bit iterations, all its macros)."""
    xset, layer = lp.xset, lp.layer
    assert xset is not None
    bits = lp.bit_iters
    work: Counts = Counter()
    work[Action.XBAR_READ] = xset.crossbars * bits
    work[Action.DAC] = xset.active_rows * xset.slices * bits
    conversions = xset.active_cols * xset.slices * bits
    work[Action.ADC] = conversions
    work[Action.SAMPLE_HOLD] = conversions
    work[Action.SHIFT_ADD] = conversions
    work[Action.ADD] = xset.partial_sum_adds
    act = activation_action(layer.activation)
    if act is not None:
        work[act] = xset.out_cols
    window = (
        layer.in_shape.size
        if layer.kind is LayerKind.FC
        else layer.kernel[0] * layer.kernel[1] * layer.in_shape.c
    )
    work[Action.BUFFER_READ_BITS] = window * activation_bits
    work[Action.BUFFER_WRITE_BITS] = xset.out_cols * activation_bits
    return work


def other_work(lp: LayerPlan, activation_bits: int) -> Counts:
    """Actions of one image of a layer without weights."""
    layer = lp.layer
    out = layer.out_shape.size
    work: Counts = Counter()
    if layer.kind is LayerKind.CONCAT:
        return work
    if layer.kind is LayerKind.POOL:
        window = layer.kernel[0] * layer.kernel[1]
        work[Action.POOL] = out * window
        work[Action.BUFFER_READ_BITS] = out * window * activation_bits
    elif layer.kind is LayerKind.ELTWISE:
        work[Action.ELTWISE] = out * (len(layer.inputs) - 1)
        work[Action.BUFFER_READ_BITS] = out * len(layer.inputs) * activation_bits
    elif layer.kind is LayerKind.ACT:
        work[Action.BUFFER_READ_BITS] = out * activation_bits
    else:  # LRN, softmax: one element-wise op per value
        work[Action.ELTWISE] = out
        work[Action.BUFFER_READ_BITS] = out * activation_bits
    act = activation_action(layer.activation)
    if act is not None:
        work[act] += out
    work[Action.BUFFER_WRITE_BITS] = out * activation_bits
    return work


def interface_bits(network: Network, activation_bits: int) -> int:
    """Bits one image moves across the off-chip interface: every network input in, and the output
    of every layer that no other layer reads out."""
    into = sum(shape.size for shape in network.inputs.values())
    out = sum(layer.out_shape.size for layer in network.outputs)
    return (into + out) * activation_bits
