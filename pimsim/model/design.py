"""From a placed architecture (:class:`Plan`) to the kernel's arrays (:class:`DesignArrays`)."""

from __future__ import annotations

import numpy as np

from pimsim.arch.mapping import bit_iterations
from pimsim.arch.schema import Hardware, MacroGroup, Parts
from pimsim.model.evaluate import DesignArrays
from pimsim.model.kernel import UNITS, MacroArrays, Rates
from pimsim.model.plan import Plan
from pimsim.model.pricing import hardware_energy_table


def bit_ns(parts: Parts) -> float:
    """The time of one input bit on a crossbar, ns: the slowest of the crossbar read
    (``latency_ns``), the DAC's conversion period (``1 / frequency_ghz``: each row's DAC converts
    one value per bit, the next while the crossbar reads this one) and the sample-and-hold's sample
    time (``latency_ns``; no part: part of the read). The estimate's closed-form rate bound (the
    simulator times its own DAC / read / sample pipeline, :mod:`pimsim.sim.pe`, whose steady rate
    is this bound but whose first bit of a block may wait for its conversion)."""
    sample = parts.sample_hold.latency_ns if parts.sample_hold is not None else 0.0
    return max(parts.crossbar.latency_ns, 1 / parts.dac.frequency_ghz, sample)


def rates_of(parts: Parts, activation_bits: int, dac_bits: int) -> Rates:
    """The rates of a set of parts."""
    unit_rate = np.array(
        [(u.lanes * u.frequency_ghz) if (u := parts.unit(k)) else 0.0 for k in UNITS]
    )
    return Rates(
        bit_ns(parts),
        bit_iterations(activation_bits, dac_bits),
        parts.adc.frequency_ghz,
        unit_rate,
        np.array([u.lanes if (u := parts.unit(k)) else 0.0 for k in UNITS], dtype=float),
    )


def rates(hw: Hardware) -> Rates:
    """The rates of the hardware's parts."""
    return rates_of(hw.parts, hw.activation_bits, hw.dac_bits)


def macro_arrays(hw: Hardware, groups: list[MacroGroup]) -> MacroArrays:
    """ADCs, units and scratchpad bandwidth of each macro instance."""
    ports = []
    for g in groups:
        buffer = hw.parts.buffer(g.buffer_kib)
        assert buffer is not None
        ports.append(buffer.port_bits_per_ns)
    return MacroArrays(
        np.array([g.adcs for g in groups], dtype=float),
        np.array([[g.units.get(k, 0) for k in UNITS] for g in groups], dtype=float),
        np.array(ports),
    )


def design_from_plan(plan: Plan) -> DesignArrays:
    """The kernel's view of a placed architecture."""
    hw = plan.arch.hardware
    names = list(plan.network.layers)
    layer, macro, frac = [], [], []
    for i, lay in enumerate(names):
        for share in plan.layers[lay.name].shares:
            layer.append(i)
            macro.append(share.macro)
            frac.append(share.share)
    per_block = np.array(
        [plan.layers[lay.name].dup if lay.kind.has_weights else 1 for lay in names]
    )
    return DesignArrays(
        per_block,
        np.array(layer),
        np.array(macro),
        np.array(frac, dtype=float),
        macro_arrays(hw, plan.groups),
        rates(hw),
        np.array(plan.router_pos, dtype=int).reshape(-1, 2),
        plan.mesh,
        hw.parts.noc.flit_bits,
        hw.parts.noc.flit_latency_ns,
        hardware_energy_table(hw),
        hw.parts.noc.hop_latency_ns,
        np.array([plan.layers[lay.name].spread for lay in names], dtype=bool),
        io.bandwidth_gbit_s if (io := hw.parts.interface) is not None else 0.0,
        hw.adc_wiring,
    )
