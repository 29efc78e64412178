"""The off-chip interface as the estimate sees it: which layers it feeds and empties, and its
scratchpad accesses (its part of one image's latency is walked in :mod:`pimsim.model.latency`).

The hardware (:mod:`pimsim.sim.interface`) streams each image's input in through the interface and
writes the whole of it through the scratchpad port of every macro that holds a share of a layer
reading only the network input; every network output (a layer no other layer reads) is read out
of its output macro's scratchpad (each share's own macro for a spread layer) and sent off chip.
These accesses are scratchpad reads and writes like the NoC's: the estimate counts them with the
NoC's (``noc_buffer_read_bits``, ``noc_buffer_write_bits``), prices them at the macro's scratchpad
and charges them to its port (:func:`pimsim.model.bounds.port_load`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from pimsim.model.stack import Stack
from pimsim.model.tables import NetworkTables


def input_bits(t: NetworkTables) -> float:
    """Bits of one image's network input (the interface's bits less those of the outputs)."""
    return float(t.io_bits - t.out_bits[t.outputs].sum())


def interface_port_bits(t: NetworkTables, st: Stack) -> np.ndarray:
    """(M, 2) scratchpad bits per image the interface reads (column 0: the outputs leaving) and
    writes (column 1: the input arriving) in each macro of the batch ``st``; call it only for
    designs with an interface.

    Each macro holding a share of a layer fed by the network input is written the whole input once
    (however many such shares it holds); a gathered output is read whole from its output macro
    (its first share), a spread one in parts, each share's from its own macro."""
    spread = st.spread if st.spread is not None else np.zeros(0, dtype=np.bool_)
    return _port_bits(
        st.share_layer,
        st.layer,
        st.share_macro,
        st.share_frac,
        t.fed,
        t.outputs,
        t.out_bits,
        spread,
        input_bits(t),
        len(st.macros.adcs),
    )


@njit(cache=True)
def _port_bits(lay, glay, macro, frac, fed, outputs, out_bits, spread, in_bits, n_macros):
    """:func:`interface_port_bits`, one pass over the shares (layer ``lay``, sorted batch layer
    ``glay``, macro ``macro``, fraction ``frac``): ``in_bits`` written in each macro holding a
    share of a layer ``fed`` by the input; per output layer, ``out_bits`` read from its first
    share's macro, or ``out_bits x frac`` from each share's where the batch layer is ``spread``
    (empty: none is); the reads summed per macro in share order from 0.0 (as ``np.bincount``)."""
    out = np.zeros((n_macros, 2))
    last = -1  # the batch layer of the last output share seen
    for s in range(len(lay)):
        layer, g = lay[s], glay[s]
        if fed[layer]:
            out[macro[s], 1] = in_bits
        if outputs[layer]:
            if len(spread) and spread[g]:
                part = frac[s]
            else:
                part = 1.0 if g != last else 0.0
            last = g
            out[macro[s], 0] += out_bits[layer] * part
    return out
