"""The closed-form timing model as array arithmetic: one kernel for reports and for the synthesizer.

**The dataflow** (the simulator executes the same one event by event). A weight layer works in
*blocks* of ``dup`` output pixels; other layers in blocks of one output row. In each macro holding the
fraction ``s`` of a layer's crossbars, one block passes these stages:

1. ``load``: the input windows are read from the macro's scratchpad;
2. per input bit (``bit_iters`` times, pipelined bit by bit): ``mvm`` (DACs + crossbar read + sample
   and hold: one read latency), ``adc`` (every active column converted by the macro's ADC bank),
   ``shift_add`` (each conversion merged into its running sum);
3. ``add`` (partial sums across row blocks), the activation (``activation`` or ``sigmoid`` units), and
   for other layers ``pool`` / ``eltwise``; then ``store`` (results written back).

Every stage is a resource that takes the next block when it has finished the previous one (single
buffering). A block therefore leaves every *block period* = the slowest stage (``load`` and ``store``
share the scratchpad port, so they count together), and one block alone takes the *block latency* =
the sum of the stages, with the three per-bit stages overlapped bit by bit. Stage time = work / rate:
conversions / (ADCs x rate), elements / (units x lanes x frequency), bits / (word bits per access
time).

Arrays: ``L`` layers (network order), ``S`` shares (a layer's part in one macro; sorted by layer),
``M`` macros, ``K`` actions (:data:`WORK`), ``U`` unit kinds (:data:`UNITS`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from pimsim.components.parts import UnitKind
from pimsim.model.actions import UNIT_OF, Action
from pimsim.model.noc_loops import batch_grids

#: Actions in the work matrices (NoC traffic is handled as flows).
WORK = (
    Action.XBAR_READ,
    Action.DAC,
    Action.ADC,
    Action.SAMPLE_HOLD,
    Action.SHIFT_ADD,
    Action.ADD,
    Action.ACTIVATION,
    Action.SIGMOID,
    Action.POOL,
    Action.ELTWISE,
    Action.BUFFER_READ_BITS,
    Action.BUFFER_WRITE_BITS,
)
K = {a: i for i, a in enumerate(WORK)}
#: Unit kinds, in the order of the unit columns.
UNITS = (
    UnitKind.SHIFT_ADD,
    UnitKind.ADD,
    UnitKind.ACTIVATION,
    UnitKind.SIGMOID,
    UnitKind.POOL,
    UnitKind.ELTWISE,
)
_UNIT_ACTIONS = [next(a for a, k in UNIT_OF.items() if k is kind) for kind in UNITS]
UNIT_COLUMNS = [K[a] for a in _UNIT_ACTIONS]
#: Stage columns of the stage matrix.
STAGES = ("load", "mvm", "adc") + tuple(str(k) for k in UNITS) + ("store",)
_PER_BIT = [STAGES.index("mvm"), STAGES.index("adc"), STAGES.index("shift_add")]
_REST = [i for i in range(len(STAGES)) if i not in _PER_BIT]


@dataclass(frozen=True)
class Rates:
    """Hardware rates the kernel needs, per design."""

    read_ns: float  # crossbar read (one input bit)
    bit_iters: int
    adc_ghz: float  # conversions per ns per ADC
    unit_rate: np.ndarray  # (U,) elements per ns per unit: lanes x frequency (0 where no part)
    unit_lanes: np.ndarray  # (U,) elements per action of a unit (0 where no part)


@dataclass(frozen=True)
class MacroArrays:
    """Per macro: ADCs, units by kind, scratchpad port bandwidth (bits/ns)."""

    adcs: np.ndarray  # (M,)
    units: np.ndarray  # (M, U)
    port_bits_per_ns: np.ndarray  # (M,)


STAGE_WORK = [
    K[Action.BUFFER_READ_BITS],
    K[Action.ADC],
    *UNIT_COLUMNS,
    K[Action.BUFFER_WRITE_BITS],
]


#: The work rows a macro's busy parts add up: ADC, the port's read and write bits, the unit kinds.
BUSY_WORK = np.array(
    [K[Action.ADC], K[Action.BUFFER_READ_BITS], K[Action.BUFFER_WRITE_BITS], *UNIT_COLUMNS]
)


def stage_rates(rates: Rates, macros: MacroArrays, columns: np.ndarray | None = None) -> np.ndarray:
    """(len(:data:`STAGE_WORK`), M) the rate of every macro's part for each timed stage column
    (bits per ns of the port, conversions per ns of the ADC bank, elements per ns of each unit
    kind), inf where the macro has no such part (see :func:`pimsim.model.kernel_jit.share_times`); only the rows
    ``columns`` of it if given."""
    columns = range(len(STAGE_WORK)) if columns is None else columns
    return _stage_rates(
        np.fromiter(columns, np.int64),
        len(STAGE_WORK) - 1,
        macros.port_bits_per_ns,
        macros.adcs,
        float(rates.adc_ghz),
        macros.units,
        rates.unit_rate,
    )


@njit(cache=True)
def _stage_rates(columns, last, port_bits_per_ns, adcs, adc_ghz, units, unit_rate):
    """:func:`stage_rates`, one pass: the port's bits per ns for columns 0 and ``last``, ``adcs x
    adc_ghz`` for column 1, ``units[:, c - 2] x unit_rate[c - 2]`` for a unit column ``c``; inf
    where that is 0."""
    rate = np.empty((len(columns), len(adcs)))
    for i in range(len(columns)):
        c = columns[i]
        for m in range(len(adcs)):
            if c == 0 or c == last:
                x = port_bits_per_ns[m]
            elif c == 1:
                x = adcs[m] * adc_ghz
            else:
                x = units[m, c - 2] * unit_rate[c - 2]
            rate[i, m] = np.inf if x == 0 else x
    return rate


def bottleneck(stages: np.ndarray) -> list[str]:
    """Name of the stage that sets each row's block period ("buffer" for load + store)."""
    names = []
    for row in stages:
        inner = int(np.argmax(row[1:-1])) + 1
        names.append("buffer" if row[0] + row[-1] > row[inner] else STAGES[inner])
    return names


def block_latency(stages: np.ndarray, bit_iters: np.ndarray) -> np.ndarray:
    """(S,) time of one block alone: the per-bit stages overlapped over ``bit_iters`` bits."""
    per_bit = stages[:, _PER_BIT] / bit_iters[:, None]
    return (
        per_bit.sum(axis=1) + (bit_iters - 1) * per_bit.max(axis=1) + stages[:, _REST].sum(axis=1)
    )


BUSY_NAMES = ("ADC bank", "scratchpad") + tuple(f"{k} units" for k in UNITS)


Link = tuple[tuple[int, int], tuple[int, int]]


Ends = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def flow_ends(src: np.ndarray, dst: np.ndarray, pos: np.ndarray) -> Ends:
    """(source row, source column, destination row, destination column) of each flow from macro
    ``src`` to macro ``dst``; ``pos`` gives each macro's router (row, col)."""
    rows, cols = pos[:, 0], pos[:, 1]
    return rows[src], cols[src], rows[dst], cols[dst]


def link_grids(
    ends: Ends, flits: np.ndarray, design: np.ndarray, meshes: np.ndarray, side: int = 0
) -> np.ndarray:
    """Flits per image on every directed link under X-then-Y routing, for a batch of designs.

    Flow ``f`` belongs to design ``design[f]``, whose mesh is ``meshes[design[f]]`` (rows, cols),
    and runs between the routers of :func:`flow_ends` ``ends``. A flow's horizontal leg runs along
    its source's row, its vertical leg along its destination's column; loads are summed with
    difference arrays (:mod:`pimsim.model.noc_loops`, in each design's flow order).
    Returns ``(4, B, P, P)`` for east, west, south and north (``P`` the largest mesh side, or
    ``side`` if larger):
    ``grid[g, d, a, b]`` is the load of design ``d`` on the link from index ``b`` to ``b + 1``
    (east, south) or from ``b + 1`` to ``b`` (west, north) along row ``a`` (east, west) or column
    ``a`` (south, north). Cells outside a design's mesh are ``-inf``.
    """
    order = np.argsort(design, kind="stable")  # each design's flows, in their order
    r0, c0, r1, c1 = (np.ascontiguousarray(np.take(x, order), dtype=np.int64) for x in ends)
    flow_start = np.searchsorted(np.take(design, order), np.arange(len(meshes) + 1))
    return batch_grids(
        r0,
        c0,
        r1,
        c1,
        np.ascontiguousarray(np.take(flits, order), dtype=np.float64),
        flow_start,
        np.ascontiguousarray(meshes, dtype=np.int64),
        max(side, int(meshes.max())),
    )


def link_of(grid: int, a: int, b: int) -> Link:
    """The link ((row, col) -> (row, col)) of cell ``(a, b)`` of grid ``grid`` of
    :func:`link_grids`."""
    first, second = (b, b + 1) if grid in (0, 2) else (b + 1, b)
    if grid < 2:
        return ((a, first), (a, second))
    return ((first, a), (second, a))


def busiest_links(grids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per design of :func:`link_grids`' result: the load of its most loaded link, and where
    (grid, flat cell index); the first of equal loads in east, west, south, north order, row by
    row."""
    n_designs = grids.shape[1]
    flat = grids.reshape(4, n_designs, -1)
    cell = np.argmax(flat, axis=2)
    load = np.take_along_axis(flat, cell[:, :, None], axis=2)[:, :, 0]
    best = np.full(n_designs, -1.0)
    grid = np.zeros(n_designs, dtype=int)
    for g in range(4):
        better = load[g] > best
        best = np.where(better, load[g], best)
        grid = np.where(better, g, grid)
    return best, grid, cell[grid, np.arange(n_designs)]


def route_loads(
    src: np.ndarray, dst: np.ndarray, flits: np.ndarray, pos: np.ndarray, mesh: tuple[int, int]
) -> np.ndarray:
    """Per flow of one design, the load (flits per image, every flow's) of the busiest link on
    its route."""
    grids = link_grids(
        flow_ends(src, dst, pos), flits, np.zeros(len(src), dtype=int), np.array([mesh])
    )
    east, west, south, north = grids[:, 0]
    out = np.zeros(len(src))
    for f, ((r0, c0), (r1, c1)) in enumerate(
        zip(pos[src].tolist(), pos[dst].tolist(), strict=True)
    ):
        legs = (
            east[r0, c0:c1] if c1 > c0 else west[r0, c1:c0],
            south[c1, r0:r1] if r1 > r0 else north[c1, r1:r0],
        )
        out[f] = max((float(leg.max()) for leg in legs if leg.size), default=0.0)
    return out


def busiest_link(
    src: np.ndarray,
    dst: np.ndarray,
    flits: np.ndarray,
    pos: np.ndarray,
    mesh: tuple[int, int],
    flit_ns: float,
) -> tuple[float, Link]:
    """Busy time per image of the most loaded link of one design, ns, and that link."""
    grids = link_grids(
        flow_ends(src, dst, pos), flits, np.zeros(len(src), dtype=int), np.array([mesh])
    )
    best, grid, cell = busiest_links(grids)
    a, b = divmod(int(cell[0]), grids.shape[3])
    return float(best[0]) * flit_ns, link_of(int(grid[0]), a, b)
