"""Stage times of the kernel's batched layout by hand: no work takes 0 even where the macro has no
part for it, work without a part takes inf (the design cannot run), the rest is work / rate."""

from __future__ import annotations

import numpy as np

from pimsim.model.kernel import STAGE_WORK, STAGES, WORK, MacroArrays, Rates, stage_rates
from pimsim.model.kernel_jit import share_times


def _stage_times(work, weight, macro, rates, rate):
    """Stage times and block periods of shares with block work ``work`` (STAGE_WORK, S) by
    :func:`share_times` alone: each share its own layer, one item a block and an image, its whole
    layer (fraction 1), no column timing (not wired, no shift-and-add lanes)."""
    n = work.shape[1]
    table = np.zeros((len(WORK), n))
    table[STAGE_WORK] = work
    columns = np.arange(len(STAGE_WORK))
    ones, zeros, index = np.ones(n, dtype=np.int64), np.zeros(n), np.arange(n)
    _, stages, p_full, p_last, _, _ = share_times(
        table, index, index, macro, np.ones(n), np.ones(n), ones, ones, ones,
        np.array(STAGE_WORK), np.where(columns == 0, 0, columns + 1), rate, weight,
        float(rates.bit_iters * rates.read_ns), np.zeros(n, dtype=bool), zeros, zeros, zeros,
        zeros, zeros.astype(np.int64), zeros.astype(np.int64), zeros, zeros.astype(np.int64),
        np.zeros(1), zeros.astype(np.int64), rates.adc_ghz, 0.0, 0.0,
    )  # fmt: skip
    assert p_last.tolist() == p_full.tolist()  # (the last block is the full one)
    return stages, p_full


def test_stage_times_with_and_without_parts() -> None:
    # macro 0: 2 ADCs, one shift-and-add unit, port 64 bits/ns; macro 1: no ADC, 2 pool units,
    # port 32 bits/ns. Every unit does 4 elements/ns, an ADC 0.5 conversions/ns.
    macros = MacroArrays(
        np.array([2.0, 0.0]),
        np.array([[1.0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 2.0, 0]]),
        np.array([64.0, 32.0]),
    )
    rates = Rates(
        read_ns=100.0, bit_iters=4, adc_ghz=0.5, unit_rate=np.full(6, 4.0), unit_lanes=np.ones(6)
    )
    # block work in STAGE_WORK order: load bits, ADC, shift-add, add, activation, sigmoid, pool,
    # eltwise, store bits
    work = np.zeros((len(STAGE_WORK), 3))
    work[:, 0] = [128, 8, 12, 0, 0, 0, 0, 0, 32]  # a weight share in macro 0
    work[:, 1] = [64, 0, 0, 0, 0, 0, 16, 0, 16]  # a pool share in macro 1 (no ADC: no need)
    work[:, 2] = [0, 4, 3, 0, 0, 0, 0, 0, 0]  # a weight share in macro 1: no ADC, no shift-add
    weight = np.array([True, False, True])
    stages, period = _stage_times(
        work, weight, np.array([0, 1, 1]), rates, stage_rates(rates, macros)
    )
    assert stages.shape == (len(STAGES), 3)
    ns = {name: stages[i].tolist() for i, name in enumerate(STAGES)}
    assert ns["load"] == [128 / 64, 64 / 32, 0.0]
    assert ns["mvm"] == [4 * 100.0, 0.0, 4 * 100.0]  # bit iterations x read, weight shares only
    assert ns["adc"] == [8 / (2 * 0.5), 0.0, np.inf]
    assert ns["shift_add"] == [12 / (1 * 4.0), 0.0, np.inf]
    assert ns["pool"] == [0.0, 16 / (2 * 4.0), 0.0]
    assert ns["store"] == [32 / 64, 16 / 32, 0.0]
    assert not np.isnan(stages).any()
    # the slowest stage, load and store taking turns on the port: 400, max(2 + 0.5, 2), inf
    assert period.tolist() == [400.0, 2.5, np.inf]
