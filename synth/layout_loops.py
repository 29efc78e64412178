"""The macro layout of a batch of partitions as one compiled loop (:func:`layout_arrays`).

:func:`synth.layout.assemble_batch` hands it the batch's partitions and duplication vectors as
arrays and cuts what it returns per candidate.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["layout_arrays"]


@njit(cache=True, error_model="numpy")
def layout_arrays(
    partitions: np.ndarray,
    dup: np.ndarray,
    sets: np.ndarray,
    weight: np.ndarray,
    host_of: np.ndarray,
) -> tuple:
    """The macros and shares of every candidate of a batch, laid end to end.

    ``partitions`` (B, W, 2): each weight layer's (owner, macros), ``dup`` (B, W), ``sets`` (W,)
    crossbars per copy, ``weight`` (W,) each weight layer's layer index, ``host_of`` (L,) the
    weight position hosting each layer. A group (an owner and the layers sharing its macros)
    gets the next macros, owners in ascending order, as many as the owner's entry says; a layer's
    ``dup x set`` crossbars are split over its group's ``n`` macros as evenly as possible (the
    first ``need % n`` get one more); a layer without weights is one share on the first macro of
    its host's group. A candidate's shares are in layer order, a layer's in macro order.
    Raises ``ValueError`` for an owner that is not a weight layer or a count below 1.

    Returns the crossbars per macro (candidate by candidate), the shares' layer, macro (the
    candidate's own numbering), fraction of the layer's work and crossbars (0 for a layer
    without weights), and each candidate's end in the macros and in the shares."""
    count, w = dup.shape
    for b in range(count):  # (what the loops below index without bounds checks)
        for k in range(w):
            if not 0 <= partitions[b, k, 0] < w or partitions[b, k, 1] < 1:
                raise ValueError(
                    "a partition's owners must be weight layers and its macro counts >= 1"
                )
    n_layers = len(host_of)
    is_weight = np.zeros(n_layers, dtype=np.bool_)
    for k in range(w):
        is_weight[weight[k]] = True
    macro_end = np.empty(count, dtype=np.int64)
    start = np.full((count, w), -1, dtype=np.int64)  # each owner's first macro
    bound = 0  # at most this many shares
    at = 0
    for b in range(count):
        for k in range(w):
            start[b, partitions[b, k, 0]] = 0
        for o in range(w):
            if start[b, o] == 0:
                start[b, o] = at
                at += partitions[b, o, 1]
        macro_end[b] = at
        for k in range(w):
            bound += partitions[b, partitions[b, k, 0], 1]
        bound += n_layers - w
    crossbars = np.zeros(at, dtype=np.int64)
    layer = np.empty(bound, dtype=np.int64)
    macro = np.empty(bound, dtype=np.int64)
    frac = np.empty(bound)
    xbars = np.empty(bound, dtype=np.int64)
    share_end = np.empty(count, dtype=np.int64)
    s = 0
    for b in range(count):
        first_macro = macro_end[b - 1] if b > 0 else 0
        for ly in range(n_layers):
            k = host_of[ly]
            owner = partitions[b, k, 0]
            first = start[b, owner] - first_macro
            if not is_weight[ly]:
                layer[s], macro[s], frac[s], xbars[s] = ly, first, 1.0, 0
                s += 1
                continue
            n = partitions[b, owner, 1]
            need = dup[b, k] * sets[k]
            q, r = need // n, need % n
            for i in range(n):
                size = q + 1 if i < r else q
                crossbars[first_macro + first + i] += size
                if size > 0:
                    layer[s], macro[s], frac[s], xbars[s] = ly, first + i, size / need, size
                    s += 1
        share_end[b] = s
    return crossbars, layer[:s], macro[:s], frac[:s], xbars[:s], macro_end, share_end
