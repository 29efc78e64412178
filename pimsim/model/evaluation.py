"""What the kernel finds for each design of a batch: the batch's figures (:class:`Figures`) and a
read-only view of one design's (:class:`Evaluation`), made by
:func:`pimsim.model.evaluate.evaluate_stack`."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from pimsim.model.bounds import set_by

__all__ = ["Evaluation", "Figures"]


@dataclass(frozen=True, eq=False)
class Figures:
    """Every design's figures of one evaluated batch (a :class:`~pimsim.model.stack.Stack` of
    ``count`` designs of ``L`` layers): the arrays that each design's :class:`Evaluation` cuts its
    own rows and slices from when they are read. Times in ns, energies in pJ, counts per image.
    Read-only: per-design scalars are tuples and every array is made unwritable here."""

    names: tuple[str, ...]  # (L,) the network's layers
    side: int  # the batch's largest mesh side (the link grids' cells)
    period_ns: tuple[float, ...]  # (B,) ns per image
    cause: tuple[int, ...]  # (B,) what sets the period (pimsim.model.bounds)
    where: tuple[int, ...]  # (B,)
    energy_pj: tuple[float, ...]  # (B,) pJ per image: each design's energy_by_component_pj.sum()
    flit_hops: tuple[float, ...]  # (B,) per image
    latency_ns: tuple[float, ...]  # (B,) ns of one image (0 without latency)
    stages: np.ndarray  # (B x L, stages) ns of a full block in each layer's slowest share
    block_period_ns: np.ndarray  # (B x L,) ns
    block_latency_ns: np.ndarray  # (B x L,) ns
    per_image_ns: np.ndarray  # (B x L,) ns per image
    times: np.ndarray  # (B, 2, L) ns: start and finish of each layer (0 without latency)
    blocks: np.ndarray  # (B x L,) per image
    action_counts: np.ndarray  # (B, K) per image
    share_work: np.ndarray  # (S, K) per image
    share_start: tuple[int, ...]  # (B + 1,)
    energy_by_component_pj: np.ndarray  # (B, C) pJ per image
    noc_buffer_bits: np.ndarray  # (M, 2) bits per image
    macro_start: tuple[int, ...]  # (B + 1,)
    interface_bits: float  # bits per image

    def __post_init__(self) -> None:
        for value in vars(self).values():
            if isinstance(value, np.ndarray):
                value.setflags(write=False)

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Unpickled through the constructor, so the arrays come back read-only."""
        return Figures, tuple(getattr(self, f.name) for f in fields(self))


class Evaluation:
    """What :func:`evaluate` finds for one design; times in ns, energies in pJ per image.

    A read-only view of design ``b`` of an evaluated batch (:class:`Figures`): the synthesizer's
    fitness reads only the period and the energy, so each design's arrays (rows and slices of the
    batch's) are cut only when asked for. :data:`FIELDS` names every figure."""

    __slots__ = ("_f", "_b")
    FIELDS = (
        "period_ns",
        "period_set_by",
        "latency_ns",
        "stages",
        "block_period_ns",
        "block_latency_ns",
        "per_image_ns",
        "start_ns",
        "finish_ns",
        "blocks",
        "action_counts",
        "share_work",
        "flit_hops",
        "energy_by_component_pj",
        "noc_buffer_bits",
        "interface_bits",
    )
    _f: Figures
    _b: int

    def __init__(self, figures: Figures, b: int) -> None:
        object.__setattr__(self, "_f", figures)
        object.__setattr__(self, "_b", b)

    @classmethod
    def views(cls, figures: Figures) -> list[Evaluation]:
        """The views of every design of ``figures``, in batch order (what ``[Evaluation(figures,
        b) for b in ...]`` gives, made without the calls of ``__init__``: a search makes one per
        design it scores)."""
        new, set_f, set_b = object.__new__, _SET_F, _SET_B
        out = []
        for b in range(len(figures.period_ns)):
            ev = new(cls)
            set_f(ev, figures)
            set_b(ev, b)
            out.append(ev)
        return out

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("an Evaluation is read-only")

    def __reduce__(self) -> tuple[object, tuple[Figures, int]]:
        """Pickled as the batch's figures of design ``b`` alone (its rows and slices)."""
        f, b = self._f, self._b
        s_count = f.share_start[b + 1] - f.share_start[b]
        m_count = f.macro_start[b + 1] - f.macro_start[b]
        one = Figures(
            f.names,
            f.side,
            (f.period_ns[b],),
            (f.cause[b],),
            (f.where[b],),
            (f.energy_pj[b],),
            (f.flit_hops[b],),
            (f.latency_ns[b],),
            self.stages,
            self.block_period_ns,
            self.block_latency_ns,
            self.per_image_ns,
            f.times[b : b + 1],
            self.blocks,
            f.action_counts[b : b + 1],
            self.share_work,
            (0, s_count),
            f.energy_by_component_pj[b : b + 1],
            self.noc_buffer_bits,
            (0, m_count),
            f.interface_bits,
        )
        return Evaluation, (one, 0)

    def __repr__(self) -> str:
        return (
            f"Evaluation(period_ns={self.period_ns!r}, period_set_by={self.period_set_by!r}, "
            f"energy_pj={self.energy_pj!r})"
        )

    def _layers(self, x: np.ndarray) -> np.ndarray:
        n = len(self._f.names)
        return x[self._b * n : (self._b + 1) * n]

    @property
    def period_ns(self) -> float:
        """ns per image."""
        return self._f.period_ns[self._b]

    @property
    def period_set_by(self) -> str:
        f, b = self._f, self._b
        return set_by(f.names, f.cause[b], f.where[b], f.side)

    @property
    def latency_ns(self) -> float:
        """ns of one image through the chip (0 unless asked for)."""
        return self._f.latency_ns[self._b]

    @property
    def stages(self) -> np.ndarray:
        """(L, stages) ns: full-block stage times in each layer's slowest share."""
        return self._layers(self._f.stages)

    @property
    def block_period_ns(self) -> np.ndarray:
        """(L,) ns between full blocks of each layer."""
        return self._layers(self._f.block_period_ns)

    @property
    def block_latency_ns(self) -> np.ndarray:
        """(L,) ns of one block through each layer."""
        return self._layers(self._f.block_latency_ns)

    @property
    def per_image_ns(self) -> np.ndarray:
        """(L,) ns per image of each layer."""
        return self._layers(self._f.per_image_ns)

    @property
    def start_ns(self) -> np.ndarray:
        """(L,) ns: when each layer starts (0 without latency)."""
        return self._f.times[self._b, 0]

    @property
    def finish_ns(self) -> np.ndarray:
        """(L,) ns: when each layer finishes (0 without latency)."""
        return self._f.times[self._b, 1]

    @property
    def blocks(self) -> np.ndarray:
        """(L,) blocks per image."""
        return self._layers(self._f.blocks)

    @property
    def action_counts(self) -> np.ndarray:
        """(K,) per image."""
        return self._f.action_counts[self._b]

    @property
    def share_work(self) -> np.ndarray:
        """(S, K) per image."""
        f, b = self._f, self._b
        return f.share_work[f.share_start[b] : f.share_start[b + 1]]

    @property
    def flit_hops(self) -> float:
        """Flit-hops per image."""
        return self._f.flit_hops[self._b]

    @property
    def energy_by_component_pj(self) -> np.ndarray:
        """(C,) pJ per image, in pimsim.model.pricing.COMPONENTS order."""
        return self._f.energy_by_component_pj[self._b]

    @property
    def noc_buffer_bits(self) -> np.ndarray:
        """(M, 2) bits per image read / written in each macro's scratchpad: NoC and interface."""
        f, b = self._f, self._b
        return f.noc_buffer_bits[f.macro_start[b] : f.macro_start[b + 1]]

    @property
    def interface_bits(self) -> float:
        """Per image, across the off-chip interface."""
        return self._f.interface_bits

    @property
    def energy_pj(self) -> float:
        """pJ per image: the energy by component summed (as ``energy_by_component_pj.sum()``)."""
        return self._f.energy_pj[self._b]


#: The slots' own setters (the views are made read-only by ``__setattr__``, not by their slots).
_SET_F, _SET_B = Evaluation._f.__set__, Evaluation._b.__set__  # type: ignore[attr-defined]
