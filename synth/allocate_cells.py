"""Stage 4's unit counts in a flat form over a batch's real macros (:class:`UnitCells`).

:func:`synth.allocate.allocate_batch` lays the macros of a batch of candidates end to end, one
row per unit kind (ADCs first) and one column per macro, and bisects every candidate's target
period side by side; this is the bookkeeping of the counts it tries: which cells depend on the
period, their counts at a period, and their sums per candidate and kind.
"""

from __future__ import annotations

import numpy as np

__all__ = ["UnitCells"]


class UnitCells:
    """ADCs and units of every kind per macro of a batch at a target period, in a flat form over
    the batch's real macros (one row per kind, ADCs first, one column per macro).

    Only the cells with work (``demand`` > 0) depend on the period: ``max(ceil(demand / period -
    1e-9), minimum)``, the formula of one candidate alone, whose minimum is 1 there (a unit of a
    kind with work); every other cell is its minimum (one ADC where the macro has crossbars, else
    none). Cells are given as ``(demand, owner, bin)`` arrays (``bin``: candidate x kinds + kind). A candidate's units per kind are whole
    numbers, so they are summed exactly in any order: the constant cells once (``base``), and the
    others per round (unified: the largest macro's, times the macros)."""

    def __init__(
        self,
        demand: np.ndarray,
        minimum: np.ndarray,
        owner: np.ndarray,
        starts: np.ndarray,
        n_m: np.ndarray,
        unified: bool,
    ) -> None:
        k, total = demand.shape
        self.count, self.k, self.owner, self.starts, self.n_m = len(starts), k, owner, starts, n_m
        self.unified = unified
        flat = demand.ravel()
        self.cells = cells = np.flatnonzero(flat > 0)
        self.rest = minimum.copy()  # the constant cells (0 where the period decides)
        self.rest.ravel()[cells] = 0.0
        reduce = np.maximum if unified else np.add
        self.base = np.ascontiguousarray(reduce.reduceat(self.rest, starts, axis=1).T)  # (B, k)
        assert (minimum.ravel()[cells] == 1.0).all()  # every cell with work needs one unit
        cell_owner = owner[cells % total]
        self.all = (flat[cells], cell_owner, cell_owner * k + cells // total)

    @staticmethod
    def counts(target: np.ndarray, demand: np.ndarray, owner: np.ndarray) -> np.ndarray:
        """The cells' counts at each candidate's ``target`` period, ns."""
        c = demand / target[owner]  # then - 1e-9, ceil, at least the minimum (1), in place
        c -= 1e-9
        return np.maximum(np.ceil(c, out=c), 1.0, out=c)

    def fold(self, base: np.ndarray, c: np.ndarray, bins: np.ndarray) -> np.ndarray:
        """(B, k) ``base`` with the cells ``c`` (in ``bins``) added (unified: their maximum)."""
        if self.unified:
            base = base.copy()
            np.maximum.at(base.ravel(), bins, c)
            return base
        return np.bincount(bins, c, self.count * self.k).reshape(self.count, self.k) + base

    def per_kind(self, base: np.ndarray) -> np.ndarray:
        """(B, k) units of each kind per candidate from the folded ``base``."""
        return base * self.n_m[:, None] if self.unified else base

    def full(self, c: np.ndarray) -> np.ndarray:
        """(k, total) units per kind and macro, given the counts ``c`` of all cells."""
        out = self.rest.copy()
        out.ravel()[self.cells] = c
        if self.unified:
            return np.maximum.reduceat(out, self.starts, axis=1)[:, self.owner]
        return out
