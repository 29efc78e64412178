"""What bounds a design's period in the kernel, and how the bound is named.

:func:`pimsim.model.evaluate.evaluate_stack` starts from each design's slowest layer and raises the
period to every other bound that is longer, remembering which one set it (a code and a place):

- 0: a layer (its blocks per image x its block period); ``where`` is the layer;
- 1: a macro shared by several layers: a part's busy time per image (ADC bank, a kind of digital
  unit, the scratchpad port); ``where`` is macro x parts + part (:data:`~pimsim.model.kernel.BUSY_NAMES`);
- 2: the layers of a shared macro taking its ADC bank or its digital units in turns
  (:mod:`pimsim.model.turns`); ``where`` is the macro;
- 3: a NoC link's flits per image; ``where`` is the link in the design's link grids;
- 4: the off-chip interface's bits per image;
- 5: a scratchpad port (its own accesses and the NoC's and the interface's, :func:`port_load`);
- 6: a router's injection or ejection port of a macro; ``where`` is macro x 2 + side.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from pimsim.model.actions import Action
from pimsim.model.kernel import BUSY_NAMES, WORK, link_of
from pimsim.model.sums_jit import port_times

_READ, _WRITE = WORK.index(Action.BUFFER_READ_BITS), WORK.index(Action.BUFFER_WRITE_BITS)


def port_load(
    work_t: np.ndarray, share_macro: np.ndarray, moved: np.ndarray, port_bits_per_ns: np.ndarray
) -> np.ndarray:
    """(M,) each scratchpad port's time per image, ns: every share's window loads and result
    stores in the macro (``work_t``, (K, S) per image) plus the bits NoC transfers read there to
    send and write there on arrival (``moved``, (M, 2)), at the port's bits per ns. A closed-form
    bound on the period: a port moves one access at a time (summed in share order, a compiled
    loop: :func:`pimsim.model.sums_jit.port_times`)."""
    return port_times(work_t, _READ, _WRITE, share_macro, moved, port_bits_per_ns)


def layer_bound(
    full_stages: np.ndarray,
    worst: np.ndarray,
    blocks: np.ndarray,
    lp_full: np.ndarray,
    lp_last: np.ndarray,
    count: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The layers' bound on each of ``count`` designs' period (code 0), one pass: per batch
    layer (design x L + layer) its slowest share's full-block stage times (``full_stages``,
    (stages, S), column ``worst``) as a (B x L, stages) array and its time per image
    (``(blocks - 1) x lp_full + lp_last``, ns); per design its slowest layer (the first of equal
    times, a NaN first, as ``np.argmax``) and that time. Returns (stages, per_image, period,
    where)."""
    return _layer_bound(full_stages, worst, blocks, lp_full, lp_last, count)


@njit(cache=True, error_model="numpy")
def _layer_bound(full_stages, worst, blocks, lp_full, lp_last, count):
    """:func:`layer_bound`."""
    n_stages, n_layers = full_stages.shape[0], len(worst)
    stages = np.empty((n_layers, n_stages))
    per_image = np.empty(n_layers)
    for g in range(n_layers):
        w = worst[g]
        for k in range(n_stages):
            stages[g, k] = full_stages[k, w]
        per_image[g] = (blocks[g] - 1) * lp_full[g] + lp_last[g]
    n = n_layers // count
    period = np.empty(count)
    where = np.zeros(count, dtype=np.int64)
    for b in range(count):
        lo = b * n
        top, at = per_image[lo], 0
        if not np.isnan(top):
            for i in range(1, n):
                x = per_image[lo + i]
                if np.isnan(x):
                    top, at = x, i
                    break
                if x > top:
                    top, at = x, i
        period[b], where[b] = top, at
    return stages, per_image, period, where


def raise_to(
    bound: np.ndarray | float,
    code: int,
    cell: np.ndarray,
    period: np.ndarray,
    cause: np.ndarray,
    where: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each design's period, what sets it (``code``) and where (``cell``), raised to ``bound``
    (per design, or one for all) where ``bound`` is longer (a tie keeps the earlier cause): the
    arrays ``period``, ``cause`` and ``where`` (float64, int64, int64) are raised in place and
    returned."""
    if not isinstance(bound, np.ndarray):
        bound = np.full(len(period), float(bound))
    raise_in_place(bound, code, cell, period, cause, where)
    return period, cause, where


@njit(cache=True)
def raise_in_place(bound, code, cell, period, cause, where):
    """:func:`raise_to` in place, design by design (compiled: callable from compiled loops)."""
    for b in range(len(period)):
        if bound[b] > period[b]:
            period[b], cause[b], where[b] = bound[b], code, cell[b]


def set_by(names: tuple[str, ...], cause: int, where: int, side: int) -> str:
    """What sets a design's period, in words (``cause`` and ``where`` as above; ``names``: the
    network's layers; ``side``: the batch's largest mesh side)."""
    if cause == 0:
        return f"layer {names[where]}"
    if cause == 4:
        return "off-chip interface"
    if cause == 5:
        return f"scratchpad port of macro {where} (NoC transfers included)"
    if cause == 6:
        macro, side = divmod(where, 2)
        return f"NoC {('injection', 'ejection')[side]} port of macro {macro}"
    if cause in (1, 2):
        r, c = divmod(where, len(BUSY_NAMES))
        if cause == 2:
            return f"two layers taking turns in macro {where}"
        return f"{BUSY_NAMES[c]} of macro {r}"
    grid, cell = divmod(where, side * side)
    a, b = divmod(cell, side)
    link = link_of(grid, a, b)
    return f"NoC link {link[0]}->{link[1]}"
