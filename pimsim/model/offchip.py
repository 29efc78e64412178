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
    out = np.zeros((len(st.macros.adcs), 2))
    lay, macro = st.share_layer, st.share_macro
    out[macro[t.fed[lay]], 1] = input_bits(t)  # (a macro named twice is set once)
    o = np.flatnonzero(t.outputs[lay])  # the output layers' shares
    first = np.ones(len(o), dtype=bool)  # each batch layer's first share (shares are sorted)
    first[1:] = st.layer[o[1:]] != st.layer[o[:-1]]
    spread = st.spread[st.layer[o]] if st.spread is not None else np.zeros(len(o), dtype=bool)
    part = np.where(spread, st.share_frac[o], first.astype(float))
    # added per macro in share order (by bincount, as np.add.at would)
    out[:, 0] = np.bincount(macro[o], t.out_bits[lay[o]] * part, len(out))
    return out
