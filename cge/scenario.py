"""Scenarios: the policy instruments a counterfactual changes.

A :class:`Scenario` holds new levels of the instruments (not changes): bilateral ad-valorem tariffs
and iceberg trade costs, each as an (R, S, R) array (same for both uses) or an (R, S, R, 2) array by
use (intermediate, final). Instruments left as ``None`` keep their benchmark values (tariffs of the
benchmark, trade costs 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .calibrate import expand_use


class ScenarioError(ValueError):
    """A scenario does not fit the benchmark."""


@dataclass
class Scenario:
    """New levels of tariffs and iceberg trade costs, with a name for results tables."""

    tariff: np.ndarray | None = None
    iceberg: np.ndarray | None = None
    name: str = "scenario"
    description: str = ""
    numeraire_value: float = 1.0
    meta: dict = field(default_factory=dict)

    def instruments(self, bench) -> tuple[np.ndarray, np.ndarray]:
        """Tariffs and trade costs as (R, S, R, 2) arrays, checked against the benchmark."""
        R, S = bench.n_regions, bench.n_sectors
        t = bench.tariff_0.copy() if self.tariff is None else expand_use(self.tariff, R, S, "tariff", 0.0)
        tau = expand_use(self.iceberg, R, S, "iceberg", 1.0)
        labels = [bench.regions, bench.sectors, bench.regions, ["intermediate", "final"]]
        for name, arr, bad in (
            ("tariff", t, ~np.isfinite(t) | (t <= -1.0)),
            ("iceberg", tau, ~np.isfinite(tau) | (tau <= 0.0)),
        ):
            if bad.any():
                k = tuple(np.argwhere(bad)[0])
                cell = ", ".join(labels[n][k[n]] for n in range(4))
                raise ScenarioError(f"scenario {self.name!r}: {name} ({cell}) = {arr[k]!r} is not allowed")
        for r in range(R):
            if (t[r, :, r, :] != 0).any():
                i = int(np.argwhere(t[r, :, r, :] != 0)[0][0])
                raise ScenarioError(f"scenario {self.name!r}: tariff on a domestic flow ({bench.regions[r]}, {bench.sectors[i]})")
        if not np.isfinite(self.numeraire_value) or self.numeraire_value <= 0:
            raise ScenarioError(f"scenario {self.name!r}: numeraire_value must be positive")
        return t, tau

    def scaled(self, bench, weight: float) -> "Scenario":
        """The scenario a share ``weight`` of the way from the benchmark (used for homotopy paths)."""
        t, tau = self.instruments(bench)
        return Scenario(
            tariff=bench.tariff_0 + weight * (t - bench.tariff_0),
            iceberg=1.0 + weight * (tau - 1.0),
            name=f"{self.name}@{weight:.4g}",
            numeraire_value=1.0 + weight * (self.numeraire_value - 1.0),
        )
