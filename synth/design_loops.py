"""The per-macro scratchpad figures of a batch of candidates as the kernel reads them, one compiled
pass (:func:`buffer_figures`, for :func:`synth.design.design_stack`)."""

from __future__ import annotations

import numpy as np
from numba import njit

from synth.sums import first_at_least

__all__ = ["buffer_figures"]


@njit(cache=True)
def buffer_figures(kib, sizes, port_bits_per_ns, bit_pj):
    """Each macro's scratchpad port (bits per ns) and energy of a bit read and written (pJ),
    looked up by its size ``kib`` (M,) in the combination's ``sizes`` (ascending, KiB;
    ``port_bits_per_ns`` (Z,) and ``bit_pj`` (Z, 2) of each size). Copies only: exact. Returns
    (port, pj)."""
    m = len(kib)
    port = np.empty(m)
    pj = np.empty((m, 2))
    for i in range(m):
        k = first_at_least(sizes, kib[i])
        if k == len(sizes) or sizes[k] != kib[i]:
            raise ValueError("a macro's scratchpad size is not one of the combination's")
        port[i] = port_bits_per_ns[k]
        pj[i, 0], pj[i, 1] = bit_pj[k, 0], bit_pj[k, 1]
    return port, pj
