"""The busiest ADC of each layer share under the architecture's ADC wiring, in closed form.

A macro's ADCs are wired through muxes to fixed, contiguous runs of its columns
([sim-hardware](../../docs/sim-hardware.md), "ADC mux groups"); a bit's conversions take as long
as the busiest ADC's. Under ``hardware.adc_wiring: "weights"`` (every synthesized design) only the
columns holding weights are wired:

- a share's ``W`` weight columns are its crossbars' (a copy's crossbars tile by tile, slice by
  slice; the layer's crossbars copy by copy, the shares taking consecutive runs of them), summed
  from the per-copy prefix sums of :class:`~pimsim.model.tables.NetworkTables`;
- a macro holding one weight share wires them to all its ``A`` ADCs; a macro holding several gives
  each share its own run of ADCs, in proportion to its conversions per image (weight columns x
  bits x blocks), one each first and the rest by largest remainder (ties to the earlier share);
- ``W`` columns on ``A`` ADCs in contiguous runs: ADC ``j`` takes columns ``ceil(j W / A)`` up to
  ``ceil((j + 1) W / A)``, so the first ADC holds the most, ``ceil(W / A)``; in a block of ``q``
  pixels only the copies ``0 .. q - 1`` are read, a prefix of ``P`` of the share's columns, and the
  busiest ADC converts ``min(P, ceil(W / A))`` a bit.

The same columns are shifted and added: a bit's job of ``P`` elements on the macro's ``n``
shift-and-add units of ``lanes`` lanes is ``a = ceil(P / lanes)`` whole actions on
``k = min(n, a)`` units, ``ceil(a / k)`` action times (:func:`whole_actions`); the units a macro's
shares take in turns are busy ``k x ceil(a / k) / n`` action times a job, summed over its shares'
jobs of an image: a bound on the period where two layers share the macro.

This is the rule the simulator wires (``pimsim.sim.blockwork``), stated here from the mapping alone:
the estimate does not import the simulator. Under ``"slots"`` (ISAAC's fixed wiring, one crossbar
per ADC on its presets), and for a macro with fewer ADCs than weight shares (one bank, taken in
turns), the estimate keeps the even spread over the macro's ADCs: those shares are not *wired* here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pimsim.components.parts import UnitKind
from pimsim.model.actions import Action
from pimsim.model.kernel import STAGE_WORK, UNITS, K, Rates
from pimsim.model.kernel_jit import active_columns, wire_shares
from pimsim.model.scalars_jit import whole_actions_arrays
from pimsim.model.stack import Stack
from pimsim.model.tables import NetworkTables

_SA_UNIT = UNITS.index(UnitKind.SHIFT_ADD)
_ADC_COLUMN, _SA_COLUMN = STAGE_WORK.index(K[Action.ADC]), STAGE_WORK.index(K[Action.SHIFT_ADD])


@dataclass(frozen=True)
class Wiring:
    """Per share of a :class:`~pimsim.model.stack.Stack`: whether its ADCs are wired here, and on
    how many ADCs its weight columns sit (0 where not wired)."""

    wired: np.ndarray  # (S,) bool
    columns: np.ndarray  # (S,) weight columns of the share (W)
    adcs: np.ndarray  # (S,) ADCs its columns are wired to (A)
    start: np.ndarray  # (S,) its first crossbar among its layer's (copy by copy)
    crossbars: np.ndarray  # (S,)
    own_run: np.ndarray  # (S,) bool: its own run of a bank other weight shares also use
    before: np.ndarray  # (S,) weight columns of its layer's crossbars before its first
    most: np.ndarray  # (S,) its busiest ADC's columns, ceil(W / A) (0 where not wired)
    weight: np.ndarray  # (S,) bool: a weight share
    bits: np.ndarray  # (S,) its layer's bit iterations (floats)
    sa_units: np.ndarray  # (S,) shift-and-add units of its macro


def wiring(t: NetworkTables, st: Stack, blocks: np.ndarray) -> Wiring:
    """Each share's weight columns and ADCs under its design's wiring rule (see the module
    docstring); ``blocks`` (B x L,) the blocks per image of every batch layer."""
    lay, macro = st.share_layer, st.share_macro
    (crossbars, start, before, columns, wired, adcs, own_run, most, weight, bits, sa_units) = (
        wire_shares(
            lay,
            st.layer,
            macro,
            st.share_frac,
            st.per_block,
            t.set_crossbars,
            t.weight,
            t.col_prefix,
            t.col_start,
            t.bit_iters,
            blocks,
            st.macros.adcs,
            st.weights_wired,
            t.bit_iters_f,
            st.macros.units,
            _SA_UNIT,
        )
    )
    return Wiring(
        wired,
        columns,
        adcs,
        start,
        crossbars,
        own_run,
        before,
        most,
        weight,
        bits,
        sa_units,
    )


def stage_columns(t: NetworkTables, rates: Rates, st: Stack, wired: bool) -> list[int]:
    """The columns of :data:`~pimsim.model.kernel.STAGE_WORK` whose stage times must be divided
    out: not those no layer of the network has work in (0), nor the conversions (shift-and-adds)
    when :func:`pimsim.model.kernel_jit.share_times` times them for every share that has such work (``wired``: every
    weight share is wired; every macro has shift-and-add units)."""
    live, others = list(t.stage_live), t.stage_others
    if wired and not others[_ADC_COLUMN]:
        live[_ADC_COLUMN] = False
    lanes = rates.unit_lanes[_SA_UNIT]
    if lanes and not others[_SA_COLUMN] and st.macros.units[:, _SA_UNIT].all():
        live[_SA_COLUMN] = False
    return [c for c, x in enumerate(live) if x]


def busiest_adc(
    t: NetworkTables, st: Stack, w: Wiring, pixels: np.ndarray, rows: np.ndarray | None = None
) -> np.ndarray:
    """Conversions per bit on the busiest ADC of each wired share (``rows``: those shares; all by
    default) in a block of ``pixels`` (per row) output pixels: ``min(P, ceil(W / A))``, ``P`` the
    weight columns it reads (its crossbars of copies ``0 .. pixels - 1``)."""
    if rows is None:
        rows = np.arange(len(w.wired))
    seen = active_columns(
        t.col_prefix,
        t.col_start,
        st.share_layer[rows],
        t.set_crossbars,
        np.ascontiguousarray(np.broadcast_to(pixels, rows.shape), dtype=np.int64),
        w.start[rows],
        w.crossbars[rows],
        w.columns[rows],
        w.before[rows],
    )
    return np.minimum(seen, w.most[rows])


def whole_actions(
    elements: np.ndarray, units: np.ndarray, lanes: float, ghz: float
) -> tuple[np.ndarray, np.ndarray]:
    """A job of ``elements`` on a macro's ``units`` digital units of ``lanes`` lanes at ``ghz``
    actions per ns (each a bit's shift-and-add of a share's columns): ``a = ceil(elements /
    lanes)`` whole actions spread over ``k = min(units, a)`` units take ``ceil(a / k) / ghz`` ns
    (the job's time, ns) and hold ``k`` of the ``units`` for it: ``k x ceil(a / k) / (units x
    ghz)`` ns of the whole pool (its share of the units' load, ns). 0 for no elements.
    (:func:`pimsim.model.scalars_jit.whole_actions_one`, the one statement of the rule.)"""
    elements, units = np.broadcast_arrays(elements, units)
    return whole_actions_arrays(
        np.ascontiguousarray(elements, dtype=float).ravel(),
        np.ascontiguousarray(units, dtype=float).ravel(),
        float(lanes),
        float(ghz),
    )
