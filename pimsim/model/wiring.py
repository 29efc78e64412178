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
from pimsim.model.kernel import STAGE_WORK, STAGES, UNITS, K, Rates
from pimsim.model.stack import Stack
from pimsim.model.tables import NetworkTables

_ADC, _SHIFT_ADD = STAGES.index("adc"), STAGES.index("shift_add")
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
    per_copy: np.ndarray  # (S,) crossbars per copy of its layer
    bits: np.ndarray  # (S,) its layer's bit iterations (floats)
    sa_units: np.ndarray  # (S,) shift-and-add units of its macro


def _columns_upto(
    t: NetworkTables,
    lay: np.ndarray,
    per_copy: np.ndarray,
    i: np.ndarray,
    base: np.ndarray | None = None,
    whole: np.ndarray | None = None,
):
    """Weight columns of crossbars ``0 .. i - 1`` of each share's layer (copy by copy); ``base``
    (each layer's first prefix sum, ``t.col_start[lay]``) and ``whole`` (a copy's columns) if the
    caller has them."""
    copies, rest = np.divmod(i, np.maximum(per_copy, 1))
    base = t.col_start[lay] if base is None else base
    whole = t.col_prefix[base + per_copy] if whole is None else whole
    return copies * whole + t.col_prefix[base + rest]


def wiring(t: NetworkTables, st: Stack, blocks: np.ndarray) -> Wiring:
    """Each share's weight columns and ADCs under its design's wiring rule (see the module
    docstring); ``blocks`` (B x L,) the blocks per image of every batch layer."""
    lay, glay, macro = st.share_layer, st.layer, st.share_macro
    per_copy = t.set_crossbars[lay]
    weight = t.weight[lay]
    crossbars = np.rint(st.share_frac * st.per_block[glay] * per_copy).astype(int)
    crossbars[~weight] = 0
    ends = np.cumsum(crossbars)
    start = ends - crossbars
    start -= start[st.layer_first]
    base = t.col_start[lay]
    whole = t.col_prefix[base + per_copy]
    before = _columns_upto(t, lay, per_copy, start, base, whole)
    columns = _columns_upto(t, lay, per_copy, start + crossbars, base, whole) - before
    m_total = len(st.macros.adcs)
    bank = st.macros.adcs[macro]
    sharing = np.bincount(macro, weight, minlength=m_total)[macro]
    wired = weight & st.weights_wired & (bank >= sharing)
    adcs = np.where(wired & (sharing == 1), bank, 0.0)
    split = np.nonzero(wired & (sharing > 1))[0]
    if len(split):
        s_macro = macro[split]
        work = columns[split] * t.bit_iters[lay[split]] * blocks[glay[split]]
        total = np.bincount(s_macro, work, minlength=m_total)[s_macro]
        total = np.where(total > 0, total, 1.0)
        spare = bank[split] - sharing[split]  # one each first, the rest in proportion
        exact = spare * work / total
        counts = 1 + np.floor(exact)
        left = bank[split] - np.bincount(s_macro, counts, minlength=m_total)[s_macro]
        order = np.lexsort((split, -(exact % 1), s_macro))  # by macro, largest remainder first
        rank = np.empty(len(split), dtype=int)
        seg = np.searchsorted(s_macro[order], s_macro[order])
        rank[order] = np.arange(len(split)) - seg
        adcs[split] = counts + (rank < left)
    with np.errstate(divide="ignore", invalid="ignore"):
        most = np.where(wired, np.ceil(columns / adcs - 1e-9), 0.0)
    return Wiring(
        wired,
        columns,
        adcs,
        start,
        crossbars,
        wired & (sharing > 1),
        before,
        most,
        weight,
        per_copy,
        t.bit_iters_f[lay],
        np.take(st.macros.units[:, _SA_UNIT], macro),
    )


def active_columns(
    t: NetworkTables, st: Stack, w: Wiring, pixels: np.ndarray, rows: np.ndarray | None
) -> np.ndarray:
    """Weight columns each share of ``rows`` (all shares for None) reads (and converts, and
    shifts-and-adds) a bit in a block of ``pixels`` (per row) output pixels: its crossbars of
    copies ``0 .. pixels - 1``. (Whole numbers: a share whose crossbars all lie in those copies
    reads all its columns, one whose crossbars all lie beyond reads none; only the others are
    counted from the prefix sums.)"""
    pick = _picker(rows)
    per_copy = pick(w.per_copy)
    reach = pixels * per_copy
    start = pick(w.start)
    seen = pick(w.columns)
    part = np.flatnonzero(reach < start + pick(w.crossbars))
    if len(part):
        seen = seen.copy() if rows is None else seen
        lay = pick(st.share_layer)[part]
        active = np.maximum(reach[part], start[part])
        seen[part] = _columns_upto(t, lay, per_copy[part], active) - pick(w.before)[part]
    return seen


def stage_columns(t: NetworkTables, rates: Rates, st: Stack, wired: bool) -> np.ndarray:
    """The columns of :data:`~pimsim.model.kernel.STAGE_WORK` whose stage times must be divided
    out: not those no layer of the network has work in (0), nor the conversions (shift-and-adds)
    when :func:`time_columns` times them for every share that has such work (``wired``: every
    weight share is wired; every macro has shift-and-add units)."""
    live = t.stage_work.any(axis=1)
    others = t.stage_work[:, ~t.weight].any(axis=1)
    if wired and not others[_ADC_COLUMN]:
        live[_ADC_COLUMN] = False
    lanes = rates.unit_lanes[_SA_UNIT]
    if lanes and not others[_SA_COLUMN] and st.macros.units[:, _SA_UNIT].all():
        live[_SA_COLUMN] = False
    return np.flatnonzero(live)


def _picker(rows: np.ndarray | None):
    """The rows ``rows`` of a per-share array (itself for None: every share)."""
    return (lambda x: x) if rows is None else (lambda x: x[rows])


def busiest_adc(
    t: NetworkTables, st: Stack, w: Wiring, pixels: np.ndarray, rows: np.ndarray | None = None
) -> np.ndarray:
    """Conversions per bit on the busiest ADC of each wired share (``rows``: those shares; all by
    default) in a block of ``pixels`` (per row) output pixels: ``min(P, ceil(W / A))``."""
    if rows is None:
        rows = np.arange(len(w.wired))
    return np.minimum(active_columns(t, st, w, pixels, rows), w.most[rows])


def whole_actions(
    elements: np.ndarray, units: np.ndarray, lanes: float, ghz: float
) -> tuple[np.ndarray, np.ndarray]:
    """A job of ``elements`` on a macro's ``units`` digital units of ``lanes`` lanes at ``ghz``
    actions per ns (each a bit's shift-and-add of a share's columns): ``a = ceil(elements /
    lanes)`` whole actions spread over ``k = min(units, a)`` units take ``ceil(a / k) / ghz`` ns
    (the job's time, ns) and hold ``k`` of the ``units`` for it: ``k x ceil(a / k) / (units x
    ghz)`` ns of the whole pool (its share of the units' load, ns). 0 for no elements."""
    actions = np.ceil(elements / lanes - 1e-9)
    k = np.minimum(units, actions)
    with np.errstate(divide="ignore", invalid="ignore"):
        steps = np.where(actions > 0, np.ceil(actions / k - 1e-9), 0.0)
        job = steps / ghz
        pool = np.where(actions > 0, k * job / units, 0.0)
    return job, pool


def time_columns(
    t: NetworkTables,
    st: Stack,
    rates: Rates,
    wires: Wiring,
    stages: np.ndarray,
    rows: np.ndarray | None,
    pixels: np.ndarray,
    at: np.ndarray | None = None,
) -> np.ndarray:
    """Time weight shares ``rows`` (of the stack; their stage columns ``at`` of ``stages``, (stages,
    S) as :func:`~pimsim.model.kernel.stage_times` gives them, the same by default) by their
    columns in a block of ``pixels`` (per row) pixels: a wired share's conversions on its busiest
    ADC, every share's shift-and-adds in whole actions (:mod:`pimsim.model.wiring`); ``stages`` is
    updated in place. Returns each row's time of its macro's shift-and-add pool in the block,
    ns. ``rows`` None times every weight share of the stack (``pixels``, ``stages`` and the
    result then per share of the stack, 0 for the others): masks, no gathers."""
    pick, at = _picker(rows), rows if at is None else at
    bits = pick(wires.bits)
    seen = active_columns(t, st, wires, pixels, rows)
    adc = bits * np.minimum(seen, pick(wires.most)) / rates.adc_ghz  # (0 unless wired)
    _put(stages[_ADC], at, pick(wires.wired), adc)
    lanes = rates.unit_lanes[_SA_UNIT]
    if not lanes:
        return np.zeros(len(seen))
    units = pick(wires.sa_units)
    has = units > 0
    if rows is None:
        has &= wires.weight
    job, pool = whole_actions(seen, units, lanes, rates.unit_rate[_SA_UNIT] / lanes)
    _put(stages[_SHIFT_ADD], at, has, bits * job)
    return np.where(has, bits * pool, 0.0)


def _put(row: np.ndarray, at: np.ndarray | None, mask: np.ndarray, values: np.ndarray) -> None:
    """``row[at[i]] = values[i]`` where ``mask[i]`` (``at`` None: ``row[i]``)."""
    if at is None:
        np.copyto(row, values, where=mask)
    elif mask.all():
        row[at] = values
    else:
        row[at[mask]] = values[mask]
