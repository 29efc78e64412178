"""A checked architecture and its network, resolved into what the cost model and simulator read.

:class:`Plan` answers, for every layer, where it runs and how it is cut: the crossbar set, dup,
blocks, bit iterations and per-macro shares of a weight layer; the host macro of any other layer;
and, for every macro, its group and its router's place on the mesh.

A layer's output is *gathered*: every share's part of a block is sent to its first macro (the output
macro), staged there whole and sent on to the consumers. A layer the mapping lists in ``spread`` (an
output too large for one scratchpad, e.g. an SPP concat of tens of KB on ISAAC's 64 KB tiles) keeps it
*spread* instead: each share keeps its own part, and every consumer share reads from each of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
from numba import njit

from pimsim.arch.mapping import CrossbarSet, MacroShare, bit_iterations, blocks, crossbar_set
from pimsim.arch.schema import Architecture, MacroGroup
from pimsim.network.graph import Network
from pimsim.network.layer import Layer


@dataclass(frozen=True)
class LayerPlan:
    """One layer placed on the chip. Non-weight layers have ``xset`` None and a share per host."""

    layer: Layer
    xset: CrossbarSet | None
    dup: int
    blocks: int
    bit_iters: int
    shares: tuple[MacroShare, ...]
    shares_with: str | None = None
    spread: bool = False  # each share keeps its part of the output (not gathered in out_macro)

    @property
    def out_macro(self) -> int:
        """The macro where the layer's output is gathered (its first macro)."""
        return self.shares[0].macro


def mesh_shapes(n_routers: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """(B, 2) rows and columns of meshes of ``n_routers`` (B,) routers: ``rows`` if given, else
    ``ceil(sqrt(n))`` (the square root is correctly rounded, so a perfect square's is exact), and
    ``ceil(n / rows)`` columns (integer division: exact); at least 1 of each."""
    n = np.ascontiguousarray(n_routers, dtype=np.int64)
    given = np.zeros(n.shape, np.int64) if rows is None else np.broadcast_to(rows, n.shape)
    return _mesh_shapes(n, np.ascontiguousarray(given, dtype=np.int64))


def snake_positions(routers: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """(N, 2) (row, column) of routers numbered ``routers`` (N,) on meshes of ``cols`` (N,)
    columns, laid along a boustrophedon path: router r is in row ``r // cols``, left to right in
    even rows and right to left in odd ones."""
    routers = np.ascontiguousarray(routers, dtype=np.int64)
    cols = np.ascontiguousarray(np.broadcast_to(cols, routers.shape), dtype=np.int64)
    if (cols < 1).any():
        raise ValueError("a mesh needs at least one column")
    return _snake_positions(routers, cols)


def router_grid(m_count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The meshes and router places of designs with one router per macro (the synthesizer's
    designs), ``m_count`` (B,) macros each, in one pass: (B, 2) each design's mesh
    (:func:`mesh_shapes`) and (M, 2) each macro's router's (row, column) on it, its macros
    numbered along the design's snake (:func:`snake_positions`), the designs' macros end to
    end."""
    return _router_grid(np.ascontiguousarray(m_count, dtype=np.int64))


@njit(cache=True)
def _mesh_of(n, rows):
    """Rows (``rows``, or ``ceil(sqrt(n))`` where it is 0: none given) and columns of a mesh of
    ``n`` routers (:func:`mesh_shapes`)."""
    if rows == 0:
        rows = max(int(math.ceil(math.sqrt(float(n)))), 1)
    return rows, max(-(-n // rows), 1)


@njit(cache=True)
def _snake_of(r, cols):
    """(row, column) of router ``r`` on a snake of ``cols`` columns (:func:`snake_positions`)."""
    row = r // cols
    col = r - row * cols
    if row % 2:
        col = cols - 1 - col
    return row, col


@njit(cache=True)
def _mesh_shapes(n, rows):
    """:func:`mesh_shapes` (``rows`` 0: none given)."""
    out = np.empty((len(n), 2), dtype=np.int64)
    for b in range(len(n)):
        out[b, 0], out[b, 1] = _mesh_of(n[b], rows[b])
    return out


@njit(cache=True)
def _snake_positions(routers, cols):
    """:func:`snake_positions`."""
    out = np.empty((len(routers), 2), dtype=np.int64)
    for i in range(len(routers)):
        out[i, 0], out[i, 1] = _snake_of(routers[i], cols[i])
    return out


@njit(cache=True)
def _router_grid(m_count):
    """:func:`router_grid`."""
    meshes = np.empty((len(m_count), 2), dtype=np.int64)
    positions = np.empty((m_count.sum(), 2), dtype=np.int64)
    at = 0
    for b in range(len(m_count)):
        rows, cols = _mesh_of(m_count[b], 0)
        meshes[b, 0], meshes[b, 1] = rows, cols
        for r in range(m_count[b]):
            positions[at, 0], positions[at, 1] = _snake_of(r, cols)
            at += 1
    return meshes, positions


def mesh_shape(n_routers: int, rows: int | None = None, cols: int | None = None) -> tuple[int, int]:
    """Mesh rows and columns of ``n_routers`` routers: those given, the rest by
    :func:`mesh_shapes`."""
    r, c = mesh_shapes(np.array([n_routers]), None if rows is None else np.array([rows]))[0]
    return int(r), cols or int(c)


class Plan:
    """The resolved placement of ``network`` on ``arch`` (which must have a mapping)."""

    def __init__(self, arch: Architecture, network: Network) -> None:
        if arch.mapping is None:
            raise ValueError("the architecture has no mapping")
        self.arch = arch
        self.network = network
        hw = arch.hardware
        self.groups: list[MacroGroup] = hw.macro_groups()
        conc = hw.noc.macros_per_router
        self.n_routers = math.ceil(len(self.groups) / conc)
        self.mesh = mesh_shape(self.n_routers, hw.noc.mesh_rows, hw.noc.mesh_cols)
        routers = np.arange(len(self.groups)) // conc
        self.router_pos = [
            (r, c)
            for r, c in snake_positions(routers, np.full(len(routers), self.mesh[1])).tolist()
        ]
        bits = bit_iterations(hw.activation_bits, hw.dac_bits)
        plans: dict[str, LayerPlan] = {}
        by_layer = {lm.layer: lm for lm in arch.mapping.layers}
        for layer in network.layers:
            if layer.kind.has_weights:
                lm = by_layer[layer.name]
                xset = crossbar_set(layer, hw.xbar_size, hw.cell_bits, hw.weight_bits)
                total = sum(lm.crossbars)
                shares = tuple(
                    MacroShare(m, n, n / total)
                    for m, n in zip(lm.macros, lm.crossbars, strict=True)
                )
                plans[layer.name] = LayerPlan(
                    layer, xset, lm.dup, blocks(layer, lm.dup), bits, shares, lm.shares_with
                )
            else:
                hosts = arch.mapping.host(
                    layer.name, layer.inputs, {k: v.out_macro for k, v in plans.items()}
                )
                plans[layer.name] = LayerPlan(
                    layer, None, 1, 1, 1, tuple(MacroShare(m, 0, 1 / len(hosts)) for m in hosts)
                )
        spread = set(arch.mapping.spread or ())
        self.layers = {
            name: replace(lp, spread=True) if name in spread else lp for name, lp in plans.items()
        }

    def hops(self, a: int, b: int) -> int:
        """Router hops between macros ``a`` and ``b`` (X then Y routing: Manhattan distance)."""
        (ra, ca), (rb, cb) = self.router_pos[a], self.router_pos[b]
        return abs(ra - rb) + abs(ca - cb)

    @cached_property
    def residents(self) -> dict[int, list[str]]:
        """The layers with work in each macro."""
        out: dict[int, list[str]] = {}
        for name, lp in self.layers.items():
            for share in lp.shares:
                out.setdefault(share.macro, []).append(name)
        return out
