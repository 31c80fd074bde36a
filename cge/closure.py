"""Closures: how labour supply, capital mobility and the numeraire are fixed.

A :class:`Closure` is chosen once, when a model is built; both backends read the factor markets
and labour-supply regions it implies from :func:`factor_market_of` and :func:`labour_regions`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LABOUR_CLOSURES = ("full_employment", "fixed_real_wage", "elastic")
LABOUR_MARKETS = ("single", "premia", "cet")
TRANSFER_CLOSURES = ("fixed", "world_income_share")
CAPITAL_CLOSURES = ("mobile", "sector_specific")


class ClosureError(ValueError):
    """A closure option is not allowed or does not fit the benchmark."""


@dataclass(frozen=True)
class Closure:
    """Model closure.

    ``labour``: ``"full_employment"`` (total persons fixed, the wage adjusts; default),
    ``"fixed_real_wage"`` (the wage is indexed to the household consumer price index and employment
    adjusts) or ``"elastic"`` (labour supply :math:`L = (w / P^{hh})^{\\eta}` with
    ``labour_supply_elasticity`` :math:`\\eta`).
    ``labour_market``: how labour moves between a region's sectors (CONVENTIONS.md):

    * ``"single"`` (default, GTAP's): one labour market per region in efficiency units (benchmark
      wage bills), one wage; sector wage differences in the data carry no welfare weight; persons
      are reported as benchmark persons x the change in each sector's labour demand;
    * ``"premia"``: labour clears in persons where the benchmark has employment; each sector's
      benchmark wage per person is a fixed premium, so moving workers to high-wage sectors raises
      income; the welfare decomposition shows that as ``labour_reallocation``;
    * ``"cet"``: imperfect mobility (GTAP's sluggish factors): a region's labour is transformed into
      sector-specific labour by a CET with elasticity ``labour_cet_elasticity`` (> 0; large values
      approach ``"single"``), so sector wages differ in the counterfactual and persons move
      accordingly. Needs ``labour="full_employment"``.

    ``capital``: ``"mobile"`` across a region's sectors (default) or ``"sector_specific"``.
    ``transfer``: what each region's net transfer from abroad (the ``transfer`` instrument, the
    benchmark trade deficit unless a scenario sets it) is worth after a shock: ``"fixed"`` in units
    of the numeraire (default; GTAP's and Caliendo and Parro's usual choice) or
    ``"world_income_share"``, a fixed share of world income, so deficits grow and shrink with the
    world economy. (Shares of each region's own income would not add up to zero over the world and
    would break the world budget.) Balanced trade is the instrument set to zero
    (:func:`cge.purge_deficits`).
    ``numeraire``: ``"world_factor_prices"`` (default: the benchmark-weighted world index of factor
    prices), ``("factor", region, factor)`` or ``("output", region, sector)``.
    """

    labour: str = "full_employment"
    capital: str = "mobile"
    labour_supply_elasticity: float = 0.0
    numeraire: str | tuple = "world_factor_prices"
    labour_market: str = "single"
    labour_cet_elasticity: float = 1.0
    transfer: str = "fixed"

    def __post_init__(self):
        for key in ("labour", "capital", "labour_market", "transfer"):
            if not isinstance(getattr(self, key), str):
                raise ClosureError(f"Closure({key}={getattr(self, key)!r}); must be a string")
        eta = self.labour_supply_elasticity
        if isinstance(eta, bool) or not isinstance(eta, (int, float)) or eta != eta or eta < 0 or eta == float("inf"):
            raise ClosureError(f"Closure(labour_supply_elasticity={eta!r}); must be a finite number >= 0")
        if self.labour not in LABOUR_CLOSURES:
            raise ClosureError(f"Closure(labour={self.labour!r}); allowed: {list(LABOUR_CLOSURES)}")
        if self.labour_market not in LABOUR_MARKETS:
            raise ClosureError(f"Closure(labour_market={self.labour_market!r}); allowed: {list(LABOUR_MARKETS)}")
        cet = self.labour_cet_elasticity
        if isinstance(cet, bool) or not isinstance(cet, (int, float)) or not np.isfinite(cet) or cet <= 0:
            raise ClosureError(f"Closure(labour_cet_elasticity={cet!r}); must be a finite number > 0")
        if self.labour_market == "cet" and self.labour != "full_employment":
            raise ClosureError(f"Closure(labour_market='cet') needs labour='full_employment', got labour={self.labour!r}")
        if self.transfer not in TRANSFER_CLOSURES:
            raise ClosureError(f"Closure(transfer={self.transfer!r}); allowed: {list(TRANSFER_CLOSURES)}")
        if self.capital not in CAPITAL_CLOSURES:
            raise ClosureError(f"Closure(capital={self.capital!r}); allowed: {list(CAPITAL_CLOSURES)}")
        if self.labour == "elastic" and not self.labour_supply_elasticity > 0:
            raise ClosureError("Closure(labour='elastic') needs labour_supply_elasticity > 0")
        num = self.numeraire
        ok = num == "world_factor_prices" or (isinstance(num, tuple) and len(num) == 3 and num[0] in ("factor", "output"))
        if not ok:
            raise ClosureError(
                f"Closure(numeraire={num!r}); allowed: 'world_factor_prices', ('factor', region, factor), ('output', region, sector)"
            )

    def describe(self) -> dict:
        return {
            "labour": self.labour,
            "capital": self.capital,
            "labour_supply_elasticity": self.labour_supply_elasticity,
            "numeraire": self.numeraire if isinstance(self.numeraire, str) else list(self.numeraire),
            "labour_market": self.labour_market,
            "labour_cet_elasticity": self.labour_cet_elasticity if self.labour_market == "cet" else None,
            "transfer": self.transfer,
        }

    def transfer_index(self, numeraire_value: float, income, income_0) -> float:
        """What one unit of the ``transfer`` instrument is worth: the numeraire's value (``"fixed"``)
        or world income relative to the benchmark (``"world_income_share"``; ``income`` in currency)."""
        if self.transfer == "fixed":
            return numeraire_value
        return sum(income) / float(np.sum(income_0))


def factor_market_of(params, closure: Closure) -> dict:
    """Map each factor use ``(s, j, f)`` to its market: ``(s, f, -1)`` if mobile, ``(s, f, j)`` if specific.

    Capital is specific under ``capital="sector_specific"``; labour has a market per sector under
    ``labour_market="cet"`` (sector markets linked by the CET of :func:`cet_markets`).
    """
    specific = set()
    if closure.capital == "sector_specific" and "capital" in params.factors:
        specific.add(params.factors.index("capital"))
    if closure.labour_market == "cet" and "labour" in params.factors:
        specific.add(params.factors.index("labour"))
    out = {}
    R, S, F = params.fp_0.shape
    for s in range(R):
        for j in range(S):
            for f in range(F):
                if params.fp_0[s, j, f] > 0:
                    out[(s, j, f)] = (s, f, j) if f in specific else (s, f, -1)
    return out


def factor_weights(params, closure: Closure) -> np.ndarray:
    """Units ``(R, S, F)`` in which each factor market clears: persons for labour under
    ``labour_market="premia"`` (where the benchmark has them), benchmark value otherwise."""
    if closure.labour_market == "premia":
        return params.persons_weight
    return params.fp_0


def cet_markets(params, closure: Closure) -> dict:
    """Under ``labour_market="cet"``: ``{region: [(sector, benchmark share of the region's wage bill)]}``."""
    if closure.labour_market != "cet":
        return {}
    if "labour" not in params.factors:
        raise ClosureError(f"Closure(labour_market='cet') needs a factor named 'labour'; factors: {params.factors}")
    f = params.factors.index("labour")
    out = {}
    for s in range(params.n_regions):
        bill = params.fp_0[s, :, f]
        if bill.sum() > 0:
            out[s] = [(j, float(bill[j] / bill.sum())) for j in range(params.n_sectors) if bill[j] > 0]
    return out


def labour_regions(params, closure: Closure) -> list[int]:
    """Regions whose labour supply is endogenous under the closure."""
    if closure.labour == "full_employment":
        return []
    if "labour" not in params.factors:
        raise ClosureError(f"Closure(labour={closure.labour!r}) needs a factor named 'labour'; factors: {params.factors}")
    f = params.factors.index("labour")
    return [s for s in range(params.n_regions) if params.fp_0[s, :, f].sum() > 0]


def position(labels, label, what):
    if label not in labels:
        raise ClosureError(f"numeraire: unknown {what} {label!r}")
    return labels.index(label)
