"""The settings of an exploration: the design space, the search's hyper-parameters, and presets.

Every hyper-parameter is a field of a frozen object with its meaning written here; the settings are
stored in every output so a run can be repeated.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from pimsim.arch.schema import lossless_adc_bits
from synth.front import Objective

DupMode = Literal["sa", "heuristic", "none"]
MacroMode = Literal["specialized", "unified"]


@dataclass(frozen=True)
class SAParams:
    """Stage 1, weight duplication by simulated annealing.

    energy: ``paper`` = CV(Ho*Wo/dup) + alpha * CV(dup * (K*K*Cin + Cout)), CV = stdev / mean
        (balanced pipeline, little data movement; the paper's Eq. 2 made dimensionless);
        ``max`` = max ceil(Ho*Wo/dup) (the bottleneck; the released code's); ``fitness`` = the true
        effective efficiency of the candidate (default partition, stage 4, the estimate; the best
        over the unit's DAC choices), relative to the seed's.
    alpha: weight of the data-movement term of the paper's energy (relative to the balance term).
    chains: independent chains, each from the proportional seed.
    iterations: moves per temperature.
    cooling: T <- cooling * T after each temperature.
    final_ratio: the schedule stops at T0 * final_ratio; T0 = 10^floor(log10(E(seed))).
    archive: how many distinct lowest-energy duplication vectors are kept (the candidates).
    fitness_schedule: (chains, iterations, cooling, final_ratio) when annealing the fitness, whose
        every move costs a design evaluation (the other energies cost microseconds).
    fitness_t0: start temperature of the fitness energy: a relative loss of efficiency that is
        accepted with probability 1/e at the start (0.02 = 2%).
    The released code uses 10 chains, 100 iterations and cooling 0.95; the defaults here are smaller
    because the archive, not the chains' end states, supplies the candidates. Whatever the energy,
    the proportional seed is among the candidates (see :func:`synth.dup.candidates`).
    """

    energy: Literal["paper", "max", "fitness"] = "paper"
    alpha: float = 0.1
    chains: int = 4
    iterations: int = 40
    cooling: float = 0.9
    final_ratio: float = 1e-3
    archive: int = 30
    fitness_schedule: tuple[int, int, float, float] = (2, 10, 0.8, 0.01)
    fitness_t0: float = 0.02


@dataclass(frozen=True)
class EAParams:
    """Stage 3, macro partitioning by a (mu + lambda) evolutionary algorithm.

    population: mu, the survivors of each generation.
    children: lambda, children per generation, each a mutated copy of a random parent.
    generations: generations per duplication candidate.
    p_num: probability that a child gets ``mutate_num`` (change one layer's macro count).
    p_share: probability that a child gets ``mutate_share`` (pair with / unpair from a layer).
    Survivors are the best mu of parents and children together, so a better child is always kept.
    The released code uses 40 / 0.7 elite / 200 generations; these defaults keep a synthesis within
    minutes and are raised by ``--thorough``.
    """

    population: int = 8
    children: int = 8
    generations: int = 12
    p_num: float = 0.7
    p_share: float = 0.4


@dataclass(frozen=True)
class Settings:
    """One exploration.

    power_w: total power budget (peak power of the design), W.
    area_mm2: area budget (every part of the design, at the library's node), mm^2; None: no bound.
    rram_ratios, cell_bits, xbars, dac_bits: the outer loop (every combination is one work unit).
    dup: ``sa`` (stage 1), ``heuristic`` (the proportional seed only) or ``none`` (every dup = 1).
    macros: ``specialized`` (each layer's macros sized for it) or ``unified`` (identical macros).
    sharing: let two layers share macros (stage 3's second rule).
    candidates: duplication candidates per combination that get the full EA (the best by a quick
        evaluation with one macro partition); the others are only screened.
    max_macro_crossbars: the most crossbars one macro may hold (the released code draws macro sizes
        of 32 to 512 crossbars); a layer whose smallest even split is larger gets that split.
    keep: designs kept in ``top.json`` (besides the Pareto front, kept whole).
    polish, polish_ea: once every unit is done, the ``polish`` best distinct (combination, dup)
        designs get a longer partition search with ``polish_ea`` (see :mod:`synth.polish`).
    rungs, rung_span: before those are picked, the combinations of the ``polish`` best designs
        get their balanced duplication vectors of ``rungs`` pipeline periods spread geometrically
        from the shortest the budget allows to ``rung_span`` times it (1: consecutive periods);
        half the polished designs are the best of them (``--dup sa`` only; see
        :func:`synth.polish.balanced`).
    objective: what chooses the winner among the explored designs: ``efficiency`` (TOPS/W, the
        paper's), ``throughput`` (images/s) or ``edp`` (energy x latency per image, lower is
        better; chosen among the Pareto front); see :mod:`synth.front`.
    seed: makes the run reproducible whatever the number of workers.
    library: component library (name or file).
    """

    power_w: float
    rram_ratios: tuple[float, ...] = (0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40)
    cell_bits: tuple[int, ...] = (1, 2, 4)
    xbars: tuple[int, ...] = (128, 256, 512)
    dac_bits: tuple[int, ...] = (1, 2, 4)
    dup: DupMode = "sa"
    macros: MacroMode = "specialized"
    sharing: bool = True
    sa: SAParams = field(default_factory=SAParams)
    ea: EAParams = field(default_factory=EAParams)
    candidates: int = 3
    max_macro_crossbars: int = 512
    keep: int = 30
    objective: Objective = "efficiency"
    polish: int = 4
    polish_ea: EAParams = field(
        default_factory=lambda: EAParams(population=8, children=8, generations=150)
    )
    rungs: int = 40
    rung_span: float = 3.0
    seed: int = 0
    library: str = "pimsyn"
    area_mm2: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)

    def quick(self) -> Settings:
        """A preset for tests and demos: a corner of the space, small searches (seconds)."""
        return replace(
            self,
            rram_ratios=(0.2, 0.3),
            cell_bits=(2,),
            xbars=(128, 256),
            dac_bits=(1, 2),
            sa=replace(self.sa, chains=2, iterations=20, cooling=0.8, archive=8),
            ea=replace(self.ea, population=4, children=4, generations=4),
            candidates=2,
            keep=10,
            polish=2,
            polish_ea=EAParams(population=6, children=6, generations=8),
            rungs=2,
        )

    def thorough(self) -> Settings:
        """The released code's search effort (slow)."""
        return replace(
            self,
            sa=replace(self.sa, chains=10, iterations=100, cooling=0.95),
            ea=EAParams(population=28, children=12, generations=200),
            candidates=10,
            polish=10,
            polish_ea=EAParams(population=28, children=12, generations=200),
            rungs=100,
        )


@dataclass(frozen=True)
class Combo:
    """One point of the outer loop."""

    index: int
    rram_ratio: float
    cell_bits: int
    xbar: int
    dac_bits: int

    @property
    def adc_bits(self) -> int:
        return lossless_adc_bits(self.xbar, self.dac_bits, self.cell_bits)

    @property
    def label(self) -> str:
        return (
            f"ratio {self.rram_ratio:.2f}, {self.xbar}x{self.xbar}, {self.cell_bits}-bit cells, "
            f"{self.dac_bits}-bit DAC"
        )


def combos(settings: Settings) -> list[Combo]:
    """Every combination of the outer loop, numbered in a fixed order."""
    out = []
    for xbar in settings.xbars:
        for cell in settings.cell_bits:
            for dac in settings.dac_bits:
                for ratio in settings.rram_ratios:
                    out.append(Combo(len(out), round(ratio, 4), cell, xbar, dac))
    return out
