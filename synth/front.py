"""The Pareto front of the explored designs, the objectives that pick a winner from them, and a
spread of K designs along the front.

Front objectives (:data:`FRONT`): effective efficiency (TOPS/W, higher is better), throughput
(images/s, higher), peak power (W, lower), area (mm^2, lower; 0 for parts a library gives no area,
and for designs found before area was priced). Another objective is one more entry of
:data:`FRONT`: every function here works on any number of columns. A design is on the front when no
explored design is at least as good on every objective and better on one; of several designs with
identical figures, the first one in the search's order of designs (best first, then by where it
was found: ``Found.key``) stands for them.

Winning objectives (``--objective``): ``efficiency`` (TOPS/W, the paper's), ``throughput``
(images/s), ``edp`` (energy-delay product per image = energy per image x latency of one image,
pJ x ns; lower is better; the latency is the estimate's, computed for the front's designs only).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Protocol, TypeVar

import numpy as np

Objective = Literal["efficiency", "throughput", "edp"]

#: (metric name, +1 to maximise / -1 to minimise) of the front's objectives.
FRONT: tuple[tuple[str, int], ...] = (
    ("tops_per_w", 1),
    ("throughput_ips", 1),
    ("peak_power_w", -1),
    ("area_mm2", -1),
)


def edp(metrics: Mapping[str, float]) -> float:
    """Energy-delay product per image, pJ x ns (``inf`` without a latency)."""
    latency = metrics.get("latency_ns", math.inf)
    return metrics["energy_per_image_pj"] * latency


def objective_value(metrics: Mapping[str, float], objective: Objective) -> float:
    """The objective as a figure to maximise."""
    if objective == "efficiency":
        return metrics["tops_per_w"]
    if objective == "throughput":
        return metrics["throughput_ips"]
    return -edp(metrics)


def matrix(rows: Sequence[Mapping[str, float]]) -> np.ndarray:
    """(N, K) objective figures with every column oriented so that higher is better."""
    columns = [[row.get(name, 0.0) for row in rows] for name, _ in FRONT]
    senses = np.array([sense for _, sense in FRONT], dtype=float)
    # a column at a time (one list of N figures each); a sign change is exact
    return np.array(columns, dtype=float).reshape(len(FRONT), len(rows)).T * senses


class HasMetrics(Protocol):
    @property
    def metrics(self) -> dict[str, float]: ...


D = TypeVar("D", bound=HasMetrics)


def pareto_front(designs: Sequence[D], key: Callable[[D], Any] | None = None) -> list[D]:
    """The designs no other design dominates on :data:`FRONT`, in order; of designs with equal
    figures the one with the least ``key`` stands for them (the first without a ``key``), so
    with a key the front does not depend on the designs' order (a search unit's, built in the
    order its designs were logged)."""
    values = matrix([d.metrics for d in designs])
    keep = non_dominated(values)
    if key is not None:
        for i in np.flatnonzero(keep).tolist():
            row = values[i]
            alike = np.flatnonzero(values[:, 0] == row[0])  # (a NaN figure: none alike)
            equal = alike[np.all(values[alike] == row, axis=1)].tolist()
            if len(equal) > 1:
                keep[i] = False
                keep[min(equal, key=lambda j: key(designs[j]))] = True
    return [d for d, k in zip(designs, keep, strict=True) if k]


def non_dominated(values: np.ndarray) -> np.ndarray:
    """(N,) bool: the rows of ``values`` (N, K; higher is better) that no other row dominates.

    Row ``a`` dominates row ``b`` when ``a >= b`` in every column and ``a > b`` in one. Of equal
    rows only the first is kept. Rows are visited by decreasing first column (then the others), so
    a row can only be dominated by, or equal to, a row visited before it: the first row not yet
    covered is on the front, and every later row it covers (at least as good in every column) is
    dropped in one numpy pass -- one pass per front row, O(N x front size) work (a front of a few
    designs among 40,000 explored: milliseconds, where a pass per row took 0.3 s).
    """
    n = len(values)
    keep = np.zeros(n, dtype=bool)
    order = np.lexsort(tuple(-values[:, k] for k in reversed(range(values.shape[1]))))
    rest = values[order]
    while len(order):
        keep[order[0]] = True
        covered = np.all(rest[0] >= rest, axis=1)
        covered[0] = True  # itself, even with a NaN figure
        order, rest = order[~covered], rest[~covered]
    return keep


def near_copy(row: np.ndarray, others: np.ndarray, min_gap: float = 0.01) -> bool:
    """Whether ``row``'s figures are all within ``min_gap`` (relative) of one of ``others``'s."""
    scale = np.maximum(np.abs(others), 1e-300)
    return bool(np.any(np.all(np.abs(others - row) / scale < min_gap, axis=1)))


def spread(values: np.ndarray, ranking: np.ndarray, k: int, min_gap: float = 0.01) -> list[int]:
    """Up to ``k`` row indices of ``values`` (N, K; positive figures) spread along the front.

    The first is the best by ``ranking`` (higher is better); each next one is the row farthest from
    those already chosen, in objective space scaled to [0, 1] per column (max-min distance), ties by
    ranking. A row whose figures all differ by less than ``min_gap`` (relative) from a chosen
    row's is never chosen, so no two picks are near-copies; fewer than ``k`` come back when the
    front has fewer distinct designs.
    """
    n = len(values)
    if n == 0 or k <= 0:
        return []
    low, high = values.min(axis=0), values.max(axis=0)
    scaled = (values - low) / np.where(high > low, high - low, 1.0)
    chosen = [int(np.lexsort((np.arange(n), -ranking))[0])]
    while len(chosen) < k:
        picked = values[chosen]
        scale = np.maximum(np.abs(picked), 1e-300)[None, :, :]
        near = np.any(np.all(np.abs(values[:, None, :] - picked[None]) / scale < min_gap, 2), 1)
        distance = np.min(
            np.linalg.norm(scaled[:, None, :] - scaled[chosen][None, :, :], axis=2), axis=1
        )
        distance[near] = -1.0
        best = int(np.lexsort((np.arange(n), -ranking, -distance))[0])
        if distance[best] < 0:
            break
        chosen.append(best)
    return chosen
