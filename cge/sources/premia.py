"""Audit of proxied employment: sector wage premia bounded by those of economies with measured persons.

Economies without SEA data get their persons engaged from a proxy (labour compensation times the
persons per US$ of labour compensation of other countries, :func:`cge.sources.build.detailed_satellites`).
Because the labour shares and the wage rates come from different countries, a proxied sector can end up
paying many times its region's average wage per person (Viet Nam's machinery 8.6 times in
``eastasia-2011`` before this audit), far beyond anything the SEA records for real economies. Under the
default labour market (one market per region in efficiency units) persons carry no welfare weight and
only change reported employment; under ``labour_market="premia"`` the premia they imply do.

The *premium* of sector ``j`` of region ``s`` is its wage per person relative to the region's average,

.. math::  \\rho_{sj} = \\frac{L_{sj} / P_{sj}}{\\sum_k L_{sk} / \\sum_k P_{sk}},

with ``L`` labour payments and ``P`` persons. The *bound* of a sector is the largest premium of that
sector among the economies whose persons are measured (the 40 WIOD countries of the SEA, each on its
own, at the benchmark's sector aggregation): an industry's wage premium is a property of the industry
that is similar across countries (Krueger and Summers 1988), so no economy should have a proxied
premium that no measured economy shows in the same sector.

:data:`RULES`:

``cap`` (the default)
    In every region holding a proxied economy (the benchmark's ``employment_proxy``), a sector whose
    premium exceeds its bound gets more persons, ``P_sj = L_sj / (bound_j * w_s)`` with ``w_s`` the
    region's average wage, and the region's other sectors are scaled down in proportion so that the
    region's persons (and so its average wage) are kept; repeated until no sector exceeds its bound
    (scaling down raises the other premia). Labour payments are untouched.
``keep``
    No rule: the proxied persons as built (the switch that turns the audit's rule off).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

RULES = {
    "cap": (
        "proxied sector wage premia (wage per person / regional average) capped at the largest premium of the "
        "same sector among the SEA economies; the region's other sectors rescaled to keep its persons"
    ),
    "keep": "proxied persons as built (no cap)",
}
CITATIONS = {
    "KS": "Krueger, A. B. and Summers, L. H. (1988). Efficiency wages and the inter-industry wage structure. Econometrica 56(2), 259-293.",
}


def premia(labour: np.ndarray, persons: np.ndarray) -> np.ndarray:
    """Wage per person of each (region, sector) relative to its region's average; NaN where no persons."""
    labour, persons = np.asarray(labour, float), np.asarray(persons, float)
    avg = labour.sum(axis=1) / persons.sum(axis=1)
    wage = np.divide(labour, persons, out=np.full_like(labour, np.nan), where=(persons > 0) & (labour > 0))
    return wage / avg[:, None]


def observed_bounds(labour: np.ndarray, persons: np.ndarray, economies: list[str], measured: list[str], sectors: list[str]) -> pd.DataFrame:
    """The bound of each sector: the largest premium among the ``measured`` economies, and which economy has it.

    ``labour`` and ``persons`` are by economy (rows ``economies``) and benchmark sector (columns ``sectors``).
    """
    rows = [economies.index(e) for e in measured]
    rho = premia(labour[rows], persons[rows])
    top = np.nanargmax(np.where(np.isnan(rho), -np.inf, rho), axis=0)
    return pd.DataFrame(
        {"bound": rho[top, np.arange(len(sectors))], "economy": [measured[k] for k in top]},
        index=pd.Index(sectors, name="sector"),
    )


@dataclass
class Audit:
    """What :func:`apply_rule` did: the rule, the bounds and every proxied region-sector before and after."""

    rule: str
    bounds: pd.DataFrame
    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def flagged(self) -> pd.DataFrame:
        """The proxied region-sectors whose premium before the rule exceeds the bound, largest first."""
        t = self.table[self.table["premium_before"] > self.table["bound"] * (1 + 1e-9)]
        return t.sort_values("premium_before", ascending=False)

    def as_metadata(self) -> dict:
        """Plain, rounded values for the benchmark's metadata: the bounds and the flagged cells."""
        flagged = {
            f"{r} {j}": {k: round(float(row[k]), 4) for k in ("premium_before", "premium_after", "bound", "persons_before", "persons_after")}
            for (r, j), row in self.flagged().iterrows()
        }
        return {
            "rule": self.rule,
            "method": RULES[self.rule],
            "bounds": {j: {"bound": round(float(row["bound"]), 4), "economy": str(row["economy"])} for j, row in self.bounds.iterrows()},
            "flagged": flagged,
        }


def apply_rule(
    labour: np.ndarray,
    persons: np.ndarray,
    regions: list[str],
    sectors: list[str],
    proxied: list[str],
    bounds: pd.DataFrame,
    rule: str = "cap",
    tol: float = 1e-12,
    max_rounds: int = 100,
) -> tuple[np.ndarray, Audit]:
    """Persons (R, S) after the ``rule`` and the audit table of every proxied region-sector.

    ``labour`` and ``persons`` are the benchmark's (R, S) labour payments and persons; ``proxied`` the
    regions holding a proxied economy; ``bounds`` :func:`observed_bounds`' table.
    """
    if rule not in RULES:
        raise KeyError(f"proxy premia rule {rule!r}; known: {sorted(RULES)}")
    out = np.asarray(persons, float).copy()
    b = bounds["bound"].reindex(sectors).to_numpy()
    for r in proxied:
        s = regions.index(r)
        if rule == "keep":
            continue
        L, P = labour[s], out[s]
        total, avg = P.sum(), L.sum() / P.sum()
        capped = np.zeros(len(sectors), bool)
        for _ in range(max_rounds):
            rho = premia(L[None], P[None])[0]
            over = ~capped & (np.nan_to_num(rho) > b * (1 + tol))
            if not over.any():
                break
            capped |= over
            P = P.copy()
            P[capped] = L[capped] / (b[capped] * avg)
            free = ~capped
            P[free] *= (total - P[capped].sum()) / P[free].sum()
        else:
            raise RuntimeError(f"{r}: proxy premia rule did not converge in {max_rounds} rounds")
        out[s] = P
    before, after = premia(labour, persons), premia(labour, out)
    rows = []
    for r in proxied:
        s = regions.index(r)
        for j, sec in enumerate(sectors):
            rows.append(
                {"region": r, "sector": sec, "premium_before": before[s, j], "premium_after": after[s, j], "bound": b[j],
                 "bound_economy": bounds.loc[sec, "economy"], "persons_before": persons[s, j], "persons_after": out[s, j]}
            )
    table = pd.DataFrame(rows).set_index(["region", "sector"])
    audit = Audit(rule, bounds, table)
    n = len(audit.flagged())
    audit.notes.append(f"proxy premia: {RULES[rule]}; {n} proxied region-sectors above their sector's bound before the rule")
    return out, audit


__all__ = ["Audit", "CITATIONS", "RULES", "apply_rule", "observed_bounds", "premia"]
