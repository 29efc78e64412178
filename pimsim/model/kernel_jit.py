"""The estimate's per-share arithmetic as compiled loops (numba): one pass over the shares of a
whole batch where numpy needed some fifty array operations.

Every loop states the same formula as the numpy form it replaced, with the float operations in the
same order, so each figure is the same to the last bit: products and quotients element by element
are the same IEEE operations; sums per macro or per design run in share order, as ``np.bincount``
and ``np.add.at`` add them; maxima do not depend on the order (no NaN can occur: a stage with work
and no part is inf, work / inf is 0). Division follows numpy's rules (``error_model="numpy"``: x / 0
is inf, 0 / 0 NaN, no exception); every such quotient is masked as numpy's ``where`` masked it.

The arrays are int64 and float64 and C-contiguous (booleans as numpy bools), so each function
compiles once per process tree (``cache=True`` keeps the machine code in ``__pycache__``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from pimsim.model.kernel import STAGES
from pimsim.model.scalars_jit import whole_actions_one

_N_STAGES = len(STAGES)
_MVM, _ADC, _SHIFT_ADD = (STAGES.index(n) for n in ("mvm", "adc", "shift_add"))


@njit(cache=True, error_model="numpy", inline="always")
def _columns_upto(col_prefix, base, per_copy, whole, i):
    """Weight columns of crossbars ``0 .. i - 1`` of a layer (copy by copy): ``copies x whole``
    plus the prefix sum of the rest (``base``: the layer's first prefix sum, ``whole``: a copy's
    columns)."""
    step = max(per_copy, 1)
    copies, rest = i // step, i % step
    return copies * whole + col_prefix[base + rest]


@njit(cache=True, error_model="numpy")
def wire_shares(
    lay,
    glay,
    macro,
    frac,
    per_block,
    set_crossbars,
    weight_layer,
    col_prefix,
    col_start,
    bit_iters,
    blocks,
    macro_adcs,
    weights_wired,
    bit_iters_f,
    macro_units,
    sa_unit,
):
    """Each share's weight columns and ADCs under its design's wiring rule
    (:func:`pimsim.model.wiring.wiring`, whose module docstring states the rule).

    Per share (``lay`` its layer, ``glay`` its batch layer, ``macro`` its batch macro, ``frac``
    its fraction of the layer; ``glay`` sorted): its crossbars ``rint(frac x per_block x per_copy)`` (0 for a layer
    without weights), its first crossbar among its layer's (the crossbars of its layer's earlier
    shares, summed in share order), its weight columns before that and its own (from the prefix
    sums ``col_prefix``); whether its ADCs are wired (a weight share of a design wired to its
    weights, in a macro with at least as many ADCs as weight shares) and on how many: all the
    bank's for a macro's only weight share, else one each and the spare ADCs in proportion to the
    conversions per image (columns x bits x blocks; the macro's total summed in share order), by
    largest remainder (ties to the earlier share); its busiest ADC's columns ``ceil(W / A -
    1e-9)``; and its layer's weights (bool) and bit iterations (``bit_iters_f``) and its macro's
    shift-and-add units (column ``sa_unit`` of ``macro_units``). Returns (crossbars, start,
    before, columns, wired, adcs, own_run, most, weight, bits, sa_units); columns in whole numbers
    as floats, ADCs as floats."""
    n = len(lay)
    m_total = len(macro_adcs)
    crossbars = np.zeros(n, dtype=np.int64)
    start = np.empty(n, dtype=np.int64)
    before = np.empty(n)
    columns = np.empty(n)
    sharing = np.zeros(m_total)
    weight, bits, sa_units = np.empty(n, dtype=np.bool_), np.empty(n), np.empty(n)
    running = 0
    upto = 0.0  # the columns before crossbar ``running`` of the layer
    for s in range(n):
        layer = lay[s]
        per_copy = set_crossbars[layer]
        weight[s], bits[s] = weight_layer[layer], bit_iters_f[layer]
        sa_units[s] = macro_units[macro[s], sa_unit]
        if weight_layer[layer]:
            crossbars[s] = np.int64(np.rint(frac[s] * per_block[glay[s]] * per_copy))
            sharing[macro[s]] += 1.0
        base = col_start[layer]
        whole = col_prefix[base + per_copy]
        if s == 0 or glay[s] != glay[s - 1]:
            running = 0  # (the layer's first share starts at its crossbar 0)
            upto = _columns_upto(col_prefix, base, per_copy, whole, 0)
        start[s] = running
        running += crossbars[s]
        before[s] = upto  # (where the share before it ended)
        upto = _columns_upto(col_prefix, base, per_copy, whole, running)
        columns[s] = upto - before[s]
    wired = np.zeros(n, dtype=np.bool_)
    own_run = np.zeros(n, dtype=np.bool_)
    adcs = np.zeros(n)
    work = np.zeros(n)
    total = np.zeros(m_total)
    split = 0
    for s in range(n):
        m = macro[s]
        if weight_layer[lay[s]] and weights_wired[s] and macro_adcs[m] >= sharing[m]:
            wired[s] = True
            if sharing[m] == 1.0:
                adcs[s] = macro_adcs[m]
            else:
                own_run[s] = True
                work[s] = columns[s] * bit_iters[lay[s]] * blocks[glay[s]]
                total[m] += work[s]
                split += 1
    if split:
        exact = np.zeros(n)
        given = np.zeros(m_total)
        # the split shares grouped by macro, in share order within each
        offset = np.zeros(m_total + 1, dtype=np.int64)
        for s in range(n):
            if own_run[s]:
                offset[macro[s] + 1] += 1
        for m in range(m_total):
            offset[m + 1] += offset[m]
        fill = offset[:-1].copy()
        members = np.empty(split, dtype=np.int64)
        for s in range(n):
            if own_run[s]:
                m = macro[s]
                whole_work = total[m] if total[m] > 0 else 1.0
                spare = macro_adcs[m] - sharing[m]  # one each first, the rest in proportion
                exact[s] = spare * work[s] / whole_work
                adcs[s] = 1 + np.floor(exact[s])
                given[m] += adcs[s]
                members[fill[m]] = s
                fill[m] += 1
        # the ADCs left go to the largest remainders of the macro's shares, ties to the earlier
        for s in range(n):
            if not own_run[s]:
                continue
            m = macro[s]
            rest = exact[s] % 1
            rank = 0
            for j in range(offset[m], offset[m + 1]):
                o = members[j]
                other = exact[o] % 1
                if other > rest or (other == rest and o < s):
                    rank += 1
            if rank < macro_adcs[m] - given[m]:
                adcs[s] += 1.0
    most = np.zeros(n)
    for s in range(n):
        if wired[s]:
            most[s] = np.ceil(columns[s] / adcs[s] - 1e-9)
    return crossbars, start, before, columns, wired, adcs, own_run, most, weight, bits, sa_units


@njit(cache=True, error_model="numpy", inline="always")
def _seen_columns(
    col_prefix, col_start, layer, per_copy, pixels, start, crossbars, columns, before
):
    """Weight columns a share reads a bit in a block of ``pixels`` output pixels: its crossbars of
    copies ``0 .. pixels - 1`` (:func:`active_columns`; all its ``columns``
    when the block reaches all its crossbars)."""
    reach = pixels * per_copy
    if reach >= start + crossbars:
        return columns
    base = col_start[layer]
    whole = col_prefix[base + per_copy]
    return _columns_upto(col_prefix, base, per_copy, whole, max(reach, start)) - before


@njit(cache=True, error_model="numpy")
def active_columns(
    col_prefix, col_start, lay, set_crossbars, pixels, start, crossbars, columns, before
):
    """(S,) weight columns each share reads a bit in a block of ``pixels`` (per share) output
    pixels (see :func:`_seen_columns`), whole numbers as floats."""
    out = np.empty(len(lay))
    for s in range(len(lay)):
        out[s] = _seen_columns(
            col_prefix,
            col_start,
            lay[s],
            set_crossbars[lay[s]],
            pixels[s],
            start[s],
            crossbars[s],
            columns[s],
            before[s],
        )
    return out


@njit(cache=True, error_model="numpy", inline="always")
def _block_stages(out, base, pixels, stage_rows, stage_out, rate, m, is_weight, mvm_ns):
    """Stage times of one block of ``pixels`` items of a share into ``out`` (stages,):
    each divided column's block work ``base[row] x pixels`` (``base``: the share's work per item
    of every action) over its macro ``m``'s rate (0 for no work, inf for work and no part), the
    crossbar reads ``mvm_ns`` for a weight share; the other stages 0 until timed by columns."""
    for r in range(out.shape[0]):
        out[r] = 0.0
    for i in range(len(stage_rows)):
        w = base[stage_rows[i]] * pixels
        q = rate[i, m]
        out[stage_out[i]] = np.inf if (np.isinf(q) and w != 0) else w / q
    if is_weight:
        out[_MVM] = mvm_ns


@njit(cache=True, error_model="numpy")
def share_times(
    work_tab,
    lay,
    glay,
    macro,
    frac,
    items_f,
    full,
    last,
    blocks,
    stage_rows,
    stage_out,
    rate,
    weight,
    mvm_ns,
    wired,
    most,
    bits,
    sa_units,
    columns,
    start,
    crossbars,
    before,
    set_crossbars,
    col_prefix,
    col_start,
    adc_ghz,
    lanes,
    sa_ghz,
):
    """The stage times of every share of a stack, for its full and its last block, in one pass
    (the stage division and the timing of the weight columns, :mod:`pimsim.model.wiring`, once
    numpy passes over the whole stack).

    Per share ``s`` (layer ``lay``, batch layer ``glay``, macro ``macro``, fraction ``frac``):

    - its work per image, (K, S): ``(work_tab[k, layer] x frac) x items`` (per item times the
      fraction, then the items);
    - its stages of a block of ``full[glay]`` items (stage rows of
      :data:`pimsim.model.kernel.STAGES`, ns): each column ``stage_rows[i]`` of the per-item work
      times the fraction, times the block's items, over its macro's ``rate[i]`` into row
      ``stage_out[i]``; ``mvm_ns`` for a weight share; a wired share's conversions on its busiest
      ADC, ``bits x min(P, most) / adc_ghz``, and (``lanes`` > 0, the macro has shift-and-add
      units) its shift-and-adds in whole actions, ``bits x ceil(a / k - 1e-9) / sa_ghz`` with
      ``a = ceil(P / lanes - 1e-9)``, ``k = min(units, a)``, ``P`` the columns it reads
      (:mod:`pimsim.model.wiring`);
    - its block period: ``max(load + store, the other stages)``; its time of its macro's
      shift-and-add pool a block, ``bits x k x job / units`` (0 for no such job);
    - the same for its last block (``last[glay]`` items; its full block's figures where they are
      equal), and its pool time per image, ``(blocks - 1) x full + last``.

    A share with every input of those figures that the share before it has, bit for bit, takes
    its figures and its work (the shares of a layer split evenly are alike but for the crossbars they start
    at: 88-94% of the shares of bench_estimate's VGG16, MSRA-A and ResNet18 designs): the same
    batch layer (layer and blocks), fraction, stage rates of its macro (macros compared with the
    one before them once), weights, wiring, busiest ADC's columns, bit iterations,
    shift-and-add units, and columns read in a full and a last block. Floats are compared as
    bits (int64 views: 0.0 is not -0.0); the columns read are whole numbers made by sums and
    differences, never -0.0, so ``==`` compares their bits.

    Returns (work_t (K, S), full stages (stages, S), full periods, last periods, full pool,
    pool per image)."""
    n_stages = _N_STAGES
    n, k_count = len(lay), work_tab.shape[0]
    rows, m_total = rate.shape
    work_t = np.empty((k_count, n))
    stages = np.empty((n_stages, n))
    p_full, p_last = np.empty(n), np.empty(n)
    pool_full, pool_image = np.empty(n), np.empty(n)
    frac_b, rate_b, most_b = frac.view(np.int64), rate.view(np.int64), most.view(np.int64)
    bits_b, units_b = bits.view(np.int64), sa_units.view(np.int64)
    like_last = np.ones(m_total, dtype=np.bool_)  # each macro's rates are the one before's
    like_last[0] = False
    for i in range(rows):
        for m in range(1, m_total):
            like_last[m] &= rate_b[i, m] == rate_b[i, m - 1]
    base = np.empty(k_count)
    one = np.empty(n_stages)
    pools, periods, seen = np.empty(2), np.empty(2), np.zeros(2)
    seen_p0, seen_p1 = 0.0, 0.0  # the columns read by the last weight share before s
    for s in range(n):
        layer, g, m = lay[s], glay[s], macro[s]
        if weight[s]:
            seen_p0, seen_p1 = seen[0], seen[1]
            for b in range(2):
                seen[b] = _seen_columns(col_prefix, col_start, layer, set_crossbars[layer],
                                        full[g] if b == 0 else last[g], start[s], crossbars[s],
                                        columns[s], before[s])  # fmt: skip
        same = False  # whether s takes the figures of the share before it
        if s > 0:
            p = s - 1
            if glay[s] == glay[p] and weight[s] == weight[p] and frac_b[s] == frac_b[p]:
                mp = macro[p]
                if m == mp + 1:
                    same = like_last[m]
                else:
                    same = True
                    for i in range(rows):
                        same &= rate_b[i, m] == rate_b[i, mp]
                if same and weight[s]:
                    same = (
                        wired[s] == wired[p]
                        and most_b[s] == most_b[p]
                        and bits_b[s] == bits_b[p]
                        and units_b[s] == units_b[p]
                        and seen[0] == seen_p0
                        and seen[1] == seen_p1
                    )
        if same:  # (the same layer and fraction: the same work too)
            for k in range(k_count):
                work_t[k, s] = work_t[k, s - 1]
            for r in range(n_stages):
                stages[r, s] = stages[r, s - 1]
            p_full[s], p_last[s] = p_full[s - 1], p_last[s - 1]
            pool_full[s], pool_image[s] = pool_full[s - 1], pool_image[s - 1]
            continue
        for k in range(k_count):
            base[k] = work_tab[k, layer] * frac[s]
            work_t[k, s] = base[k] * items_f[layer]
        pools[0] = pools[1] = 0.0
        for b in range(2):
            pixels = full[g] if b == 0 else last[g]
            if b == 1 and pixels == full[g]:
                pools[1], periods[1] = pools[0], periods[0]
                break
            _block_stages(
                one, base, float(pixels), stage_rows, stage_out, rate, m, weight[s], mvm_ns
            )
            if weight[s]:
                if wired[s]:
                    one[_ADC] = bits[s] * min(seen[b], most[s]) / adc_ghz
                units = sa_units[s]
                if lanes != 0 and units > 0:
                    job, pool = whole_actions_one(seen[b], units, lanes, sa_ghz)
                    one[_SHIFT_ADD] = bits[s] * job
                    pools[b] = bits[s] * pool
            inner = one[1]
            for r in range(2, n_stages - 1):
                inner = max(inner, one[r])
            periods[b] = max(one[0] + one[n_stages - 1], inner)
            if b == 0:
                for r in range(n_stages):
                    stages[r, s] = one[r]
        p_full[s], p_last[s] = periods[0], periods[1]
        pool_full[s] = pools[0]
        pool_image[s] = (blocks[g] - 1) * pools[0] + pools[1]
    return work_t, stages, p_full, p_last, pool_full, pool_image


@njit(cache=True)
def layer_worst(p_full, p_last, layer_start):
    """Per batch layer (shares ``layer_start[l]`` to ``layer_start[l + 1]``, at least one): the
    largest full and last block period of its shares, and its slowest share (the last of equal
    full periods, in share order)."""
    n_layers = len(layer_start) - 1
    lp_full, lp_last = np.empty(n_layers), np.empty(n_layers)
    worst = np.empty(n_layers, dtype=np.int64)
    for g in range(n_layers):
        lo, hi = layer_start[g], layer_start[g + 1]
        top, bottom, at = p_full[lo], p_last[lo], lo
        for s in range(lo + 1, hi):
            if p_full[s] >= top:
                top, at = p_full[s], s
            bottom = max(bottom, p_last[s])
        lp_full[g], lp_last[g], worst[g] = top, bottom, at
    return lp_full, lp_last, worst
