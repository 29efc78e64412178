"""The figures derived from a period, an energy per image and the operations per image.

One definition, shared by the estimate (:class:`pimsim.model.estimate.CostReport`) and the simulation
(:class:`pimsim.sim.result.SimResult`), so both report the same quantities the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ImageFigures:
    """Mixin for results with ``period_ns``, ``energy_pj`` (per image, by component) and
    ``ops_per_image`` (2 x MACs)."""

    period_ns: float
    energy_pj: Mapping[Any, float]
    ops_per_image: int

    @property
    def throughput_ips(self) -> float:
        """Images per second in steady state: 1e9 / period in ns."""
        return 1e9 / self.period_ns if self.period_ns else 0.0

    @property
    def tops(self) -> float:
        """Effective tera-operations per second on this network."""
        return self.ops_per_image * self.throughput_ips / 1e12

    @property
    def energy_per_image_pj(self) -> float:
        """Energy of one image, all components, pJ."""
        return sum(self.energy_pj.values())

    @property
    def average_power_w(self) -> float:
        """Energy per image / period (pJ/ns = mW; /1e3 = W)."""
        return self.energy_per_image_pj / self.period_ns / 1e3 if self.period_ns else 0.0

    def above_floor_pj(self, floor: Mapping[Any, float]) -> dict[Any, float]:
        """Energy per image above the compute floor ``floor`` (by component), by component, pJ:
        all of it for components outside the floor, the rest (static power) for the others."""
        return {c: e - floor.get(c, 0.0) for c, e in self.energy_pj.items()}

    def above_floor_share(self, floor: Mapping[Any, float]) -> float:
        """The share of the energy per image above the compute floor (0: all of it is compute)."""
        total = self.energy_per_image_pj
        return (total - sum(floor.values())) / total if total else 0.0

    @property
    def tops_per_w(self) -> float:
        """Effective power efficiency: operations per pJ = TOPS/W."""
        return self.ops_per_image / self.energy_per_image_pj if self.energy_pj else 0.0
