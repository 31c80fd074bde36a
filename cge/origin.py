r"""Rules of origin with endogenous preference use: who claims a trade agreement's preference, and at what cost.

The benchmark's applied tariffs embed preferences as if every shipment between partners claimed
them. Preferences are far from fully used (Thailand's Department of Foreign Trade reports 78% of
eligible exports under its FTAs in 2021, 61-94% by agreement): a product must meet the
agreement's rule of origin, and proving it costs the exporter. This module splits the exports of
every route covered by an agreement into a preference-claiming share :math:`u` and an MFN share
:math:`1 - u`, and solves the model with :math:`u` in equilibrium.

The claiming share
------------------
For route :math:`(r, i, s)` (exporter, commodity, importer) and an agreement :math:`a` that covers
it (agreements of ``cge/data/agreements`` with a coded rule, :mod:`cge.agreements`),

.. math::
    u_a = Q_a \, G(m_a), \qquad
    Q_a = \Phi\!\Big(\frac{\mathrm{RVC}_{a,ri s} - \theta_a}{\delta}\Big), \qquad
    G(m) = P(c < m) = \Phi\!\Big(\frac{\ln m - \mu_a}{\sigma}\Big),

- **qualifying share** :math:`Q_a`: firms' regional value content is spread around the sector's
  with standard deviation :math:`\delta` (:attr:`OriginParams.rvc_dispersion`, default 0.10, ten
  points of RVC), so the share meeting the threshold :math:`\theta_a` (``rvc_pct``) is a normal CDF.
  :math:`\mathrm{RVC}` is the share of the output value of :math:`(r, i)` that is value added
  originating in the agreement's **cumulation zone** (all members' regions for ``cumulation =
  agreement``; the exporter and the importer for ``bilateral``), from the Leontief value-added
  origin of the table (:func:`va_origin`: :math:`V B` column of :math:`(r, i)`), on the benchmark
  table and on the counterfactual table (:meth:`cge.Results.mrio`), so it moves with sourcing. A
  change of tariff heading as an alternative qualifies a further share ``cth_share`` of the rest;
  a required change of subheading (AIFTA) keeps a share ``ctsh_share`` (defaults 0 and 1: the
  model's sectors are too coarse to test heading changes, so the RVC decides);
- **compliance cost**: a firm's ad-valorem cost of proving origin :math:`c` is log-normal,
  :math:`\ln c \sim N(\mu_a, \sigma^2)` (:attr:`OriginParams.cost_sigma`, default 1), the same for
  every exporter and sector (on a benchmark split by firm size, SMEs' median is
  :attr:`OriginParams.sme_cost_factor` times large firms'); a qualifying firm claims when the margin :math:`m_a` (the duty saved,
  a fraction of the value at the border) exceeds its cost. The expected resource cost per unit of
  the route's exports is :math:`C_a = Q_a\,E[c\,1\{c<m_a\}] = Q_a\,e^{\mu_a+\sigma^2/2}\,
  \Phi\big((\ln m_a - \mu_a - \sigma^2)/\sigma\big)` (closed forms of the log-normal);
- **several agreements**: the route uses the agreement with the largest expected net gain per unit
  exported, :math:`Q_a\,(m_a G(m_a) - E[c\,1\{c<m_a\}])` (ties: the first in ``agreements.csv``).

The **effective tariff** is :math:`t^e = \bar t - u\,m` with :math:`\bar t` the rate paid without
claiming (the importer's MFN rate, :func:`cge.agreements.preference_margins`) and
:math:`m = \max(\bar t - t^p, 0)` the margin of the chosen agreement's preferential rate :math:`t^p`.
Margins and MFN are in the model's tariff units: the data's margin times the importer's collection
rate (:mod:`cge.sources.customs`), so that the benchmark's preferential rate is its tariff.

In the equilibrium, relative to the benchmark
---------------------------------------------
The benchmark's tariffs stay the data, so the benchmark replicates exactly; the benchmark
utilisation :math:`u^0` is computed on the benchmark table. A counterfactual's route instruments are
the scenario's, adjusted by the change in the effective tariff and in the compliance cost:

.. math::
    1 + t_{ris} = (1 + t^0_{ris})\,\frac{1 + t^e(u)}{1 + t^e(u^0)}, \qquad
    \tau_{ris} = \tau^{\mathrm{scn}}_{ris}\,\frac{1 + C(u)}{1 + C(u^0)}

on every route covered by a coded agreement in the benchmark or the counterfactual (other routes
keep the scenario's levels). Compliance resources are an iceberg-type real cost: to deliver one
unit, :math:`1 + C` are shipped. Preferential rates in a counterfactual: the scenario's tariffs on a
route are the preferential rates of the agreements it names (``agreements=``, added if not in force);
the other agreements keep the benchmark's rate; on routes no named agreement covers, a tariff
change moves the MFN and every preferential rate alike (margins unchanged). With zero compliance
costs and every product qualifying, :math:`u = 1` wherever there is a margin and the instruments are
the scenario's: today's results.

Solution method: utilisation depends on the equilibrium through the value-added origin (RVC) only
(margins are ad valorem and set by the scenario). :meth:`Origin.solve` iterates: value-added origin
shares -> utilisation, choice and costs -> instruments -> :meth:`cge.Model.solve` (warm-started from
the previous equilibrium) -> the counterfactual table's value-added origin, damped,
:math:`V_{k+1} = V_k + \lambda\,(V(\text{equilibrium}_k) - V_k)`, until the utilisation the
equilibrium implies differs from the one it was solved with by less than ``tol`` on every route
(:math:`\max |\Delta u| < 10^{-9}` by default). At that point utilisation and the model are jointly
in equilibrium; otherwise :class:`OriginError` names the worst routes.

Calibration
-----------
The cost scale :math:`\mu_a` is calibrated to observed utilisation of Thailand's exports
(``../shared/data/fta_utilisation_published``, :data:`THAI_TARGETS`): first one scale for every
agreement so that Thailand's utilisation over all its covered routes equals 78.17% (DFT, all FTAs,
2021); then, where a rate by agreement is published (DFT, January-July 2023), the agreement's own
scale so that Thailand's exports to the partners match it (ATIGA 72.72% to ASEAN, ACFTA 93.97% to
China, AIFTA 67.44% to India; Japan's JTEPA rate 71.66% for AJCEP and Australia's TAFTA rate 60.68%
for AANZFTA, whose rules the model codes for those routes). Agreements without a published rate
(AKFTA, RCEP, user-added ones) keep the common scale. Utilisation is the DFT's measure: exports
that claimed, over exports eligible (routes and commodities with a margin), trade-weighted.
Assumed where nothing is known: the same cost distribution for every exporter and sector (only
Thailand publishes rates), the dispersions :math:`\delta` and :math:`\sigma`, and rates of 2021-2023
applied to the 2011 table. Routes covered only by agreements without a coded rule (bilateral FTAs,
APTA, CPTPP) keep the data's preference at full use; ASEAN's internal trade is under ATIGA (and RCEP),
the ASEAN+1 agreements cover ASEAN-partner pairs only.

References: Cadot, O., Carrère, C., de Melo, J. and Tumurchudur, B. (2006). Product-specific rules of
origin in EU and US preferential trading arrangements. *World Trade Review* 5(2), 199-224. Keck, A.
and Lendle, A. (2012). New evidence on preference utilization. WTO Staff Working Paper ERSD-2012-12.
Hayakawa, K. (2014). Impact of diagonal cumulation rule on FTA utilization: evidence from bilateral
and multilateral FTAs between Japan and Thailand. *Journal of the Japanese and International
Economies* 32, 1-16. Kawai, M. and Wignaraja, G. (2011). *Asia's Free Trade Agreements: How is
Business Responding?* ADB and Edward Elgar.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import ndtr

from . import agreements as _agreements
from .benchmark import Benchmark
from .instruments import Instruments
from .scenario import Scenario

ASEAN_PLUS_ONE = ("ACFTA", "AKFTA", "AJCEP", "AANZFTA", "AIFTA")
"""ASEAN+1 agreements: they cover pairs of an ASEAN member and a partner; ASEAN's internal trade is under ATIGA (or RCEP)."""
MIN_MARGIN = 1e-9
"""Margins below this (model tariff units) are no preference: nothing to claim."""
UTILISATION_FOLDER = "fta_utilisation_published"


class OriginError(RuntimeError):
    """Utilisation and the equilibrium did not converge, or a calibration target cannot be met."""


@dataclass(frozen=True)
class Target:
    """An observed utilisation rate the compliance-cost scale is calibrated to.

    ``importers`` None: every route of the exporter covered by a coded agreement; ``agreement``
    None: the target sets the common scale of every agreement, else that agreement's own.
    """

    label: str
    exporter: str
    importers: tuple | None
    agreement: str | None
    rate: float
    source: str


_DFT = "Thai Department of Foreign Trade, export utilisation (exports claiming / eligible exports)"
THAI_TARGETS = (
    Target("all FTAs", "THA", None, None, 0.7817, f"{_DFT}, all FTAs (14), 2021; The Nation 2022-03-03, https://www.nationthailand.com/business/40013005"),
    Target("ATIGA", "THA", ("IDN", "MYS", "PHL", "SGP", "VNM", "XSE"), "ATIGA", 0.7272,
           f"{_DFT}, AFTA/ATIGA, 2023 Jan-Jul; The Nation 2023-10-24, https://www.nationthailand.com/business/trading-investment/40032181"),
    Target("ACFTA", "THA", ("CHN",), "ACFTA", 0.9397, f"{_DFT}, ACFTA, 2023 Jan-Jul; same source"),
    Target("JTEPA", "THA", ("JPN",), "AJCEP", 0.7166, f"{_DFT}, JTEPA (Japan-Thailand EPA), 2023 Jan-Jul; same source; the model codes AJCEP's rule on the route"),
    Target("TAFTA", "THA", ("ANZ",), "AANZFTA", 0.6068, f"{_DFT}, TAFTA (Thailand-Australia FTA), 2023 Jan-Jul; same source; the model codes AANZFTA's rule on the route"),
    Target("AIFTA", "THA", ("IND",), "AIFTA", 0.6744, f"{_DFT}, AIFTA, 2023 Jan-Jul; same source"),
)
"""Calibration targets of the built-in East Asian benchmarks (rows of ``fta_utilisation_published.csv``)."""
_TARGET_ROWS = {"all FTAs": ("all FTAs (14)", "2021"), "ATIGA": ("AFTA/ATIGA", "2023 Jan-Jul"), "ACFTA": ("ACFTA", "2023 Jan-Jul"),
                "JTEPA": ("JTEPA", "2023 Jan-Jul"), "TAFTA": ("TAFTA", "2023 Jan-Jul"), "AIFTA": ("AIFTA", "2023 Jan-Jul")}

CALIBRATIONS = {
    "by_agreement": "a common cost scale to Thailand's all-FTA rate, then each agreement with a published rate its own",
    "aggregate": "one cost scale for every agreement, to Thailand's all-FTA rate",
    "none": "cost medians as given (OriginParams.cost_median)",
}


def published_targets(root=None) -> pd.DataFrame:
    """The rows of the raw utilisation table behind :data:`THAI_TARGETS` (label, agreement, period, rate)."""
    from .sources import source_file

    raw = pd.read_csv(source_file(UTILISATION_FOLDER, "fta_utilisation_published.csv", root=root), dtype=str, keep_default_na=False)
    raw = raw[(raw["reporter_iso3"] == "THA") & (raw["flow"] == "exports")]
    rows = []
    for label, (agreement, period) in _TARGET_ROWS.items():
        hit = raw[(raw["agreement"] == agreement) & (raw["period"] == period)]
        if hit.empty:
            raise OriginError(f"{UTILISATION_FOLDER}: no Thai export row for {agreement!r} in {period!r}")
        rows.append((label, agreement, period, float(hit["utilisation_pct"].iloc[0]) / 100.0))
    return pd.DataFrame(rows, columns=["label", "agreement", "period", "rate"])


@dataclass(frozen=True)
class OriginParams:
    """Assumptions of the rules-of-origin block; every one moves results and is recorded in the metadata.

    ``rvc_dispersion``: standard deviation of firms' regional value content around the sector's
    (share of output; 0: every firm has the sector's RVC, a step). ``cost_sigma``: standard deviation
    of the log of the ad-valorem cost of proving origin. ``cth_share``: share of products failing
    the RVC that qualify by a change of tariff heading where the rule allows it. ``ctsh_share``:
    share of products meeting a required change of subheading (AIFTA). ``calibration``: one of
    :data:`CALIBRATIONS`. ``cost_median``: median cost (fraction of value) by agreement, with
    ``"*"`` for the others, or one number; used with ``calibration="none"``, and as the start
    otherwise. ``targets``: :class:`Target` rows. ``damping``, ``tol``, ``max_iter``: the fixed
    point of :meth:`Origin.solve`. ``sme_cost_factor``: on a benchmark split by firm size
    (:func:`cge.split_firm_size`), SMEs' median compliance cost relative to large firms' (an
    assumption: no utilisation data by firm size; surveys find the cost of proving origin weighs most
    on SMEs, Kawai and Wignaraja 2011); ignored on other benchmarks.
    """

    rvc_dispersion: float = 0.10
    cost_sigma: float = 1.0
    cth_share: float = 0.0
    ctsh_share: float = 1.0
    calibration: str = "by_agreement"
    cost_median: dict | float | None = None
    targets: tuple = THAI_TARGETS
    damping: float = 0.7
    tol: float = 1e-9
    max_iter: int = 60
    sme_cost_factor: float = 2.0

    def __post_init__(self):
        for name in ("rvc_dispersion", "cost_sigma", "cth_share", "ctsh_share", "damping", "tol", "sme_cost_factor"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v < 0:
                raise ValueError(f"OriginParams({name}={v!r}): must be a finite number >= 0")
        if self.cost_sigma <= 0:
            raise ValueError(f"OriginParams(cost_sigma={self.cost_sigma!r}): must be > 0")
        for name in ("cth_share", "ctsh_share"):
            if getattr(self, name) > 1:
                raise ValueError(f"OriginParams({name}={getattr(self, name)!r}): a share in [0, 1]")
        if not 0 < self.damping <= 1:
            raise ValueError(f"OriginParams(damping={self.damping!r}): must be in (0, 1]")
        if self.calibration not in CALIBRATIONS:
            raise ValueError(f"OriginParams(calibration={self.calibration!r}); allowed: {list(CALIBRATIONS)}")
        if self.calibration == "none" and self.cost_median is None:
            raise ValueError("OriginParams(calibration='none') needs cost_median (a number or {agreement: median, '*': default})")
        if not isinstance(self.max_iter, int) or self.max_iter < 1:
            raise ValueError(f"OriginParams(max_iter={self.max_iter!r}): a whole number >= 1")
        given = self.cost_median
        items = given.items() if isinstance(given, dict) else ([] if given is None else [("all", given)])
        for key, v in items:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or np.isnan(v) or v < 0:
                raise ValueError(f"OriginParams(cost_median): {key} = {v!r}; a median cost >= 0 (inf: prohibitive)")
        for t in self.targets:
            if not isinstance(t, Target) or not 0 < t.rate < 1:
                raise ValueError(f"OriginParams(targets): {t!r}; Target rows with a rate strictly between 0 and 1")

    def describe(self) -> dict:
        d = asdict(self)
        d["targets"] = [asdict(t) for t in self.targets]
        return d


# ------------------------------------------------------------------------------------------ pure functions
def va_origin(bench: Benchmark) -> np.ndarray:
    r"""Share of region :math:`g`'s value added in the output value of :math:`(r, i)`: array ``[g, r, i]``.

    Column :math:`(r, i)` of :math:`\hat v B` (:math:`B = (I - A)^{-1}`, :math:`v = va / x`, ``va``
    output minus intermediate inputs, so tariffs paid on intermediates count with the buyer's value
    added, as in :meth:`cge.Benchmark.to_mrio`) summed over the origin rows of each region; columns
    of producers with output sum to one, those without output are zero.
    """
    R, S = bench.n_regions, bench.n_sectors
    n = R * S
    Z = np.asarray(bench.z_0, dtype=float).reshape(n, n)
    x = np.asarray(bench.output, dtype=float).reshape(n)
    live = x > 0
    A = np.divide(Z, x[None, :], out=np.zeros_like(Z), where=live[None, :])
    v = np.divide(x - Z.sum(axis=0), x, out=np.zeros(n), where=live)
    B = np.linalg.solve(np.eye(n) - A, np.eye(n))
    M = v[:, None] * B
    return M.reshape(R, S, n).sum(axis=1).reshape(R, R, S)


def qualifying_share(rvc, threshold, dispersion: float):
    """Share of firms whose RVC is at least ``threshold`` when firms' RVC ~ N(``rvc``, ``dispersion``²).

    A threshold of 0 or less is met by every product (1 exactly); ``dispersion`` 0 is a step.
    """
    rvc, threshold = np.asarray(rvc, dtype=float), np.asarray(threshold, dtype=float)
    if dispersion == 0:
        q = (rvc >= threshold).astype(float)
    else:
        q = ndtr((rvc - threshold) / dispersion)
    return np.where(threshold <= 0, 1.0, q)


def claim_share(margin, median, sigma: float):
    """:math:`P(c < m)`, ``c`` log-normal with ``median`` and log standard deviation ``sigma``.

    Zero for no margin; a median of 0 (free proof) gives 1 wherever there is a margin, an infinite
    median (prohibitive cost) 0.
    """
    margin, median = np.broadcast_arrays(np.asarray(margin, dtype=float), np.asarray(median, dtype=float))
    out = np.zeros(margin.shape)
    pos = margin > MIN_MARGIN
    free, never = median <= 0, ~np.isfinite(median)
    reg = pos & ~free & ~never
    with np.errstate(divide="ignore"):
        out[reg] = ndtr((np.log(margin[reg]) - np.log(median[reg])) / sigma)
    out[pos & free] = 1.0
    return out


def expected_cost(margin, median, sigma: float):
    r""":math:`E[c\,1\{c < m\}] = e^{\mu + \sigma^2/2}\,\Phi((\ln m - \mu - \sigma^2)/\sigma)`, :math:`\mu = \ln` median."""
    margin, median = np.broadcast_arrays(np.asarray(margin, dtype=float), np.asarray(median, dtype=float))
    out = np.zeros(margin.shape)
    reg = (margin > MIN_MARGIN) & (median > 0) & np.isfinite(median)
    mu = np.log(median[reg])
    out[reg] = np.exp(mu + 0.5 * sigma**2) * ndtr((np.log(margin[reg]) - mu - sigma**2) / sigma)
    return out


# ------------------------------------------------------------------------------------------ the block
@dataclass
class Regime:
    """Agreements on every route: coverage, rules, preferential rates, the rate without claiming."""

    names: list  # coded agreements considered, table order
    cover: np.ndarray  # (A, R, R) bool
    zone: np.ndarray  # (A, R, R, G) bool: regions whose value added originates for a route
    threshold: np.ndarray  # (A,) fraction
    cth: np.ndarray  # (A,) bool
    ctsh: np.ndarray  # (A,) bool
    pref: np.ndarray  # (A, R, S, R, 2)
    fallback: np.ndarray  # (R, S, R, 2): rate paid without claiming
    median: np.ndarray  # (A, S) compliance cost median by agreement and commodity
    touched: np.ndarray  # (R, S, R) bool: routes whose instruments the block sets

    def evaluate(self, vao: np.ndarray, p: OriginParams) -> dict:
        """Utilisation, chosen agreement, costs and effective tariffs given value-added origin ``[g, r, i]``."""
        rvc = np.einsum("arsg,gri->aris", self.zone.astype(float), vao)  # (A, R, S, R)
        thr = self.threshold[:, None, None, None]
        q = qualifying_share(rvc, np.broadcast_to(thr, rvc.shape), p.rvc_dispersion)
        q = np.where(self.cth[:, None, None, None], q + p.cth_share * (1.0 - q), q)
        q = np.where(self.ctsh[:, None, None, None], q * p.ctsh_share, q)
        q = q * self.cover[:, :, None, :]
        m = np.maximum(self.fallback[None] - self.pref, 0.0) * self.cover[:, :, None, :, None]  # (A, R, S, R, 2)
        med = self.median[:, None, :, None, None]
        g = claim_share(m, np.broadcast_to(med, m.shape), p.cost_sigma)
        ec = expected_cost(m, np.broadcast_to(med, m.shape), p.cost_sigma)
        gain = q[..., None] * (m * g - ec)
        gain = np.where(self.cover[:, :, None, :, None], gain, -np.inf)
        if len(self.names):
            k = np.argmax(gain, axis=0)  # first maximum: table order breaks ties
            pick = lambda arr: np.take_along_axis(arr, k[None], axis=0)[0]  # noqa: E731
            qk = pick(np.broadcast_to(q[..., None], m.shape))
            mk, gk, eck = pick(m), pick(g), pick(ec)
            rvck = pick(np.broadcast_to(rvc[..., None], m.shape))
            prefk = pick(self.pref)
            any_cover = self.cover.any(axis=0)[:, None, :, None] & np.ones(m.shape[1:], dtype=bool)
        else:
            shape = self.fallback.shape
            k = np.zeros(shape, dtype=int)
            gain = np.zeros((0,) + shape)
            qk = mk = gk = eck = rvck = np.zeros(shape)
            prefk = self.fallback.copy()
            any_cover = np.zeros(shape, dtype=bool)
        u = np.where(any_cover, qk * gk, 0.0)
        cost = np.where(any_cover, qk * eck, 0.0)
        return {
            "choice": np.where(any_cover, k, -1),
            "rvc": np.where(any_cover, rvck, np.nan),
            "qualifying": np.where(any_cover, qk, 0.0),
            "claim": np.where(any_cover, gk, 0.0),
            "margin": np.where(any_cover, mk, 0.0),
            "preferential": np.where(any_cover, np.minimum(prefk, self.fallback), self.fallback),
            "utilisation": u,
            "compliance": cost,
            "effective": self.fallback - u * np.where(any_cover, mk, 0.0),
            "covered": any_cover,
            "gains": gain,
        }


def _region_members(bench: Benchmark) -> dict:
    members = bench.metadata.get("members")
    return {r: list(members.get(r, [r])) for r in bench.regions} if isinstance(members, dict) else {r: [r] for r in bench.regions}


class Origin:
    """Rules of origin and endogenous preference use on a benchmark: benchmark utilisation, calibration, solves.

    ``rules`` and ``members`` default to :func:`cge.agreements.rules` and :func:`cge.agreements.load`
    (edited frames may be given); ``margins`` (columns ``exporter, commodity, importer, margin``,
    fractions of the data, before the collection treatment) default to
    :func:`cge.agreements.stored_margins` of the benchmark's name; ``year`` (agreements in force)
    defaults to the margins' tariff year, else the benchmark's base year. The importer's collection
    rate (benchmark metadata) converts margins to model tariff units. On a benchmark split by firm
    size the stored margins are the original table's and both sizes of a commodity get its margin.
    On construction the benchmark utilisation is computed and the cost scales are calibrated
    (:meth:`calibration_table`).
    """

    def __init__(self, bench: Benchmark, params: OriginParams | None = None, rules: pd.DataFrame | None = None,
                 members: pd.DataFrame | None = None, margins: pd.DataFrame | None = None, year: int | None = None):
        if not isinstance(bench, Benchmark):
            raise TypeError(f"Origin(bench=...) needs a cge.Benchmark, got {type(bench).__name__}")
        self.bench = bench
        self.params = params or OriginParams()
        self.rules = (_agreements.rules() if rules is None else rules).set_index("agreement", drop=False)
        self.members = _agreements.load() if members is None else members
        if margins is None:
            name = str(bench.metadata.get("name", ""))
            if "firm_size" in bench.metadata:  # split by cge.split_firm_size: the original table's margins
                name = name.removesuffix("-firms")
            margins = _agreements.stored_margins(name)
        self.year = int(year if year is not None else margins.attrs.get("tariff_year", bench.metadata.get("base_year")))
        size = bench.metadata.get("firm_size", {}) if isinstance(bench.metadata.get("firm_size"), dict) else {}
        self.sector_of = {j: size.get("sector_of", {}).get(j, j) for j in bench.sectors}
        self.sme = np.array([size.get("size_of", {}).get(j) == "sme" for j in bench.sectors])
        self._margin_data = self._margin_array(margins)
        R = bench.n_regions
        self.region_members = _region_members(bench)
        self.asean = np.array([all(c in _agreements.ASEAN for c in self.region_members[r]) for r in bench.regions])
        self.in_force = self._in_force(self.year)
        self.t0 = np.array(bench.tariff_0, dtype=float)
        self.weights_0 = _flows_by_use(bench)
        self.vao_0 = va_origin(bench)
        covered = np.zeros((R, R), dtype=bool)
        for a in self.coded():
            if a in self.in_force:
                covered |= self._cover(a, self.year)
        # the rate paid without claiming: MFN where a coded agreement covers the route in the benchmark
        self.fallback_0 = self.t0 + np.where(covered[:, None, :, None], self._margin_data, 0.0)
        self.fallback_0[np.arange(R), :, np.arange(R)] = 0.0
        self.medians = self._calibrate()
        self.regime_0 = self._regime(self.t0, self.in_force, (), {}, {}, 1.0)
        self.state_0 = self.regime_0.evaluate(self.vao_0, self.params)

    # ---------------------------------------------------------------- data
    def _margin_array(self, margins: pd.DataFrame) -> np.ndarray:
        b = self.bench
        need = {"exporter", "commodity", "importer", "margin"}
        if not need <= set(margins.columns):
            raise ValueError(f"Origin(margins=...): columns {sorted(need)} needed, got {sorted(margins.columns)}")
        R, S = b.n_regions, b.n_sectors
        out = np.zeros((R, S, R))
        ri = {r: k for k, r in enumerate(b.regions)}
        si = {c: [k for k, j in enumerate(b.sectors) if self.sector_of[j] == c] for c in dict.fromkeys(self.sector_of.values())}
        for col, labels in (("exporter", ri), ("importer", ri), ("commodity", si)):
            bad = sorted(set(margins[col]) - set(labels))
            if bad:
                raise ValueError(f"Origin(margins=...): {col} {bad[0]!r} is not in the benchmark")
        m = margins["margin"].to_numpy(dtype=float)
        if np.any(~np.isfinite(m)) or np.any(m < 0):
            k = int(np.argmax(~np.isfinite(m) | (m < 0)))
            raise ValueError(f"Origin(margins=...): margin of ({margins['exporter'].iloc[k]}, {margins['commodity'].iloc[k]}, "
                             f"{margins['importer'].iloc[k]}) = {float(m[k])!r}; must be a finite number >= 0")
        for x, c, y, v in zip(margins["exporter"], margins["commodity"], margins["importer"], m):
            out[ri[x], si[c], ri[y]] = v  # a commodity split by firm size: both sizes get the commodity's margin
        coll = b.metadata.get("tariff_collection", {})
        regions = coll.get("regions", {}) if isinstance(coll, dict) else {}
        kappa = np.array([float(regions.get(s, {}).get("collection_rate", 1.0)) for s in b.regions])
        out = out * kappa[None, None, :]
        out[np.arange(R), :, np.arange(R)] = 0.0
        return np.repeat(out[..., None], 2, axis=3)

    def _in_force(self, year: int) -> list:
        start, end = pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)
        m = self.members
        keep = (m["entry_into_force"] <= end) & (m["exit"].isna() | (m["exit"] > start))
        return list(dict.fromkeys(m.loc[keep, "agreement"]))

    def _member_regions(self, agreement: str, year: int | None) -> np.ndarray:
        m = self.members[self.members["agreement"] == agreement]
        if year is not None:
            start, end = pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)
            m = m[(m["entry_into_force"] <= end) & (m["exit"].isna() | (m["exit"] > start))]
        isos = set(m["member"])
        return np.array([bool(isos & set(self.region_members[r])) for r in self.bench.regions])

    def _cover(self, agreement: str, year: int | None) -> np.ndarray:
        """Routes ``[r, s]`` the agreement covers: both regions members (in force in ``year``; None: all listed)."""
        mem = self._member_regions(agreement, year)
        c = mem[:, None] & mem[None, :] & ~np.eye(len(mem), dtype=bool)
        if agreement in ASEAN_PLUS_ONE:
            c &= ~(self.asean[:, None] & self.asean[None, :])
        return c

    def coded(self) -> list:
        """Agreements with a coded rule of origin (``rvc_pct`` given), table order."""
        return [a for a in self.rules.index if not pd.isna(self.rules.loc[a, "rvc_pct"])]

    # ---------------------------------------------------------------- regimes
    def _regime(self, tariff, named, changed, rule_overrides, zones, cost_factor, median=None, sme_factor=1.0) -> Regime:
        b, R, S = self.bench, self.bench.n_regions, self.bench.n_sectors
        changed = list(changed)
        for a in list(named) + changed + list(rule_overrides) + list(zones):
            if a not in self.rules.index:
                raise ValueError(f"agreement {a!r} is not in the agreements table; known: {list(self.rules.index)}")
        for a, over in rule_overrides.items():
            bad = sorted(set(over) - {"rvc_pct", "cumulation", "ctsh_required", "cth_alternative"})
            if bad:
                raise ValueError(f"rules[{a!r}]: key {bad[0]!r} unknown; allowed: rvc_pct, cumulation, ctsh_required, cth_alternative")
            if "cumulation" in over and over["cumulation"] not in _agreements.CUMULATION:
                raise ValueError(f"rules[{a!r}]: cumulation {over['cumulation']!r}; allowed: {sorted(_agreements.CUMULATION)}")
        wanted = set(named) | set(changed)
        active = [a for a in self.rules.index if a in wanted and not pd.isna(rule_overrides.get(a, {}).get("rvc_pct", self.rules.loc[a, "rvc_pct"]))]
        A = len(active)
        cover = np.zeros((A, R, R), dtype=bool)
        zone = np.zeros((A, R, R, R), dtype=bool)
        thr, cth, ctsh, med = np.zeros(A), np.zeros(A, dtype=bool), np.zeros(A, dtype=bool), np.zeros((A, S))
        eye = np.eye(R, dtype=bool)
        for k, a in enumerate(active):
            rule = {**self.rules.loc[a].to_dict(), **rule_overrides.get(a, {})}
            year = None if a in changed and a not in self.in_force else self.year
            mem = self._member_regions(a, year)
            cover[k] = self._cover(a, year)
            if a in zones:
                z = np.array([r in set(zones[a]) for r in b.regions])
                bad = sorted(set(zones[a]) - set(b.regions))
                if bad:
                    raise ValueError(f"zones[{a!r}]: {bad[0]!r} is not a region of the benchmark")
                zone[k] = z[None, None, :] | eye[:, None, :] | eye[None, :, :]
            elif rule["cumulation"] == "agreement":
                zone[k] = mem[None, None, :] | eye[:, None, :] | eye[None, :, :]
            else:
                zone[k] = eye[:, None, :] | eye[None, :, :]
            thr[k] = float(rule["rvc_pct"]) / 100.0
            cth[k] = bool(rule["cth_alternative"]) if not pd.isna(rule["cth_alternative"]) else False
            ctsh[k] = bool(rule["ctsh_required"]) if not pd.isna(rule["ctsh_required"]) else False
            base = self.medians.get(a, self.medians["*"]) if median is None else median.get(a, median["*"])
            med[k] = base * _factor(cost_factor, a) * np.where(self.sme, self.params.sme_cost_factor * sme_factor, 1.0)
        # preferential rates and the rate without claiming
        d = tariff - self.t0
        named_cover = cover[[k for k, a in enumerate(active) if a in changed]].any(axis=0) if changed else np.zeros((R, R), dtype=bool)
        by_named = named_cover[:, None, :, None]
        fallback = np.where(by_named, self.fallback_0, self.fallback_0 + d)
        pref = np.empty((A, R, S, R, 2))
        for k, a in enumerate(active):
            pref[k] = tariff if a in changed else np.where(by_named, self.t0, self.t0 + d)
        any_now = cover.any(axis=0) if A else np.zeros((R, R), dtype=bool)
        touched = np.broadcast_to((any_now | self._covered_0())[:, None, :], (R, S, R)).copy()
        return Regime(active, cover, zone, thr, cth, ctsh, pref, fallback, med, touched)

    def _covered_0(self) -> np.ndarray:
        if not hasattr(self, "regime_0"):
            return np.zeros((self.bench.n_regions,) * 2, dtype=bool)
        return self.regime_0.cover.any(axis=0) if len(self.regime_0.names) else np.zeros((self.bench.n_regions,) * 2, dtype=bool)

    # ---------------------------------------------------------------- calibration
    def _rate(self, state: dict, target: Target) -> float:
        """Trade-weighted utilisation of the target's routes (eligible: covered, with a margin), benchmark flows."""
        b = self.bench
        r = b.regions.index(target.exporter)
        imp = np.array([s in (target.importers or b.regions) for s in b.regions])
        ok = state["covered"] & (state["margin"] > MIN_MARGIN)
        ok[np.arange(len(b.regions)) != r] = False
        ok &= imp[None, None, :, None]
        w = self.weights_0 * ok
        if w.sum() <= 0:
            raise OriginError(f"target {target.label!r}: no eligible exports of {target.exporter} to {target.importers or 'any partner'} "
                              "under a coded agreement in the benchmark")
        return float((w * state["utilisation"]).sum() / w.sum())

    def _calibrate(self) -> dict:
        p = self.params
        given = p.cost_median
        base = given if isinstance(given, dict) else {"*": 0.05 if given is None else float(given)}
        base = {"*": 0.05, **base}
        if p.calibration == "none":
            self.calibration = []
            return dict(base)
        targets = [t for t in p.targets if t.exporter in self.bench.regions]
        if not targets:
            raise OriginError(f"calibration {p.calibration!r}: no target's exporter is a region of the benchmark "
                              f"({sorted({t.exporter for t in p.targets})}); give targets, or calibration='none' with cost_median")
        unknown = sorted({t.agreement for t in targets if t.agreement is not None} - set(self.coded()))
        if unknown and p.calibration == "by_agreement":
            raise OriginError(f"calibration target for agreement {unknown[0]!r}, which has no coded rule of origin; coded: {self.coded()}")
        known = set(self.coded())
        medians = dict(base)
        report = []

        def fit(target, key):
            def gap(logmed):
                trial = dict(medians)
                if key == "*":
                    trial = {"*": math.exp(logmed)}
                else:
                    trial[key] = math.exp(logmed)
                st = self._regime(self.t0, self.in_force, (), {}, {}, 1.0, median=trial).evaluate(self.vao_0, p)
                return self._rate(st, target) - target.rate

            lo, hi = math.log(1e-8), math.log(1e3)
            glo, ghi = gap(lo), gap(hi)
            if glo < 0:
                raise OriginError(f"calibration target {target.label!r} ({target.rate:.4f}) is above the largest utilisation the "
                                  f"qualifying shares allow ({target.rate + glo:.4f}, free proof of origin); lower rvc_dispersion "
                                  "or the thresholds, or drop the target")
            if ghi > 0:
                raise OriginError(f"calibration target {target.label!r} ({target.rate:.4f}) cannot be reached with any cost scale")
            return math.exp(brentq(gap, lo, hi, xtol=1e-14, rtol=1e-14, maxiter=500))

        common = [t for t in targets if t.agreement is None]
        for t in common[:1]:
            medians = {"*": fit(t, "*")}
        if p.calibration == "by_agreement":
            own = [t for t in targets if t.agreement is not None and t.agreement in known]
            for _ in range(20):  # Gauss-Seidel over agreements (a route's choice can couple them)
                before = dict(medians)
                for t in own:
                    medians[t.agreement] = fit(t, t.agreement)
                if all(abs(math.log(medians[k]) - math.log(before.get(k, medians["*"]))) < 1e-12 for k in medians):
                    break
        final = self._regime(self.t0, self.in_force, (), {}, {}, 1.0, median=medians).evaluate(self.vao_0, p)
        for t in targets:
            if t.agreement is None:
                role = "common scale" + (" (then a check)" if p.calibration == "by_agreement" and len(targets) > 1 else "")
            else:
                role = "own scale" if p.calibration == "by_agreement" and t.agreement in known else "check"
            matched = (t.agreement is None and p.calibration == "aggregate") or role == "own scale"
            report.append({"target": t.label, "exporter": t.exporter, "agreement": t.agreement or "*", "observed": t.rate,
                           "model": self._rate(final, t), "role": role, "matched": matched, "source": t.source})
        self.calibration = report
        return medians

    def calibration_table(self) -> pd.DataFrame:
        """Targets, the model's benchmark utilisation on them, their role and whether the calibration matches them.

        With ``calibration="by_agreement"`` the all-FTA rate sets the common scale (every agreement at one
        scale), which stays with the agreements without a rate of their own; once those with a rate have
        their own scale, Thailand's aggregate is a check, no longer matched exactly.
        """
        return pd.DataFrame(self.calibration, columns=["target", "exporter", "agreement", "observed", "model", "role", "matched", "source"])

    # ---------------------------------------------------------------- solving
    def instruments(self, scenario_inst: Instruments, regime: Regime, state: dict) -> Instruments:
        """The scenario's instruments adjusted by the change in effective tariff and compliance cost from the benchmark."""
        s0 = self.state_0
        tou = regime.touched[..., None] & np.ones(2, dtype=bool)
        ratio_t = (1.0 + state["effective"]) / (1.0 + s0["effective"])
        tariff = np.where(tou, (1.0 + self.t0) * ratio_t - 1.0, scenario_inst.tariff)
        iceberg = np.where(tou, scenario_inst.iceberg * (1.0 + state["compliance"]) / (1.0 + s0["compliance"]), scenario_inst.iceberg)
        R = self.bench.n_regions
        tariff[np.arange(R), :, np.arange(R)] = 0.0
        return Instruments.from_arrays(self.bench, where="origin", numeraire_value=scenario_inst.numeraire_value, tariff=tariff,
                                       iceberg=iceberg, output_tax=scenario_inst.output_tax, transfer=scenario_inst.transfer)

    def solve(self, model, scenario: Scenario | None = None, agreements=(), rules: dict | None = None, zones: dict | None = None,
              cost_factor: float | dict = 1.0, sme_cost: float = 1.0, **solve_options) -> "OriginResults":
        """Solve ``scenario`` with utilisation in equilibrium (damped fixed point over ``model.solve``).

        ``agreements``: the agreements whose preferential rates are the scenario's tariffs (added if
        not in force, with all their members); ``rules``: overrides of rules by agreement
        (``{"RCEP": {"cumulation": "bilateral"}}``, keys ``rvc_pct``, ``cumulation``,
        ``ctsh_required``, ``cth_alternative``); ``zones``: an explicit cumulation zone (model
        regions) by agreement; ``cost_factor``: compliance-cost medians multiplied by it (a number, or
        by agreement with ``"*"`` for the rest); ``sme_cost``: SMEs' compliance-cost medians multiplied
        by it (e.g. 0.5: halved for SMEs; benchmarks split by firm size). ``decompose`` (as in
        :meth:`cge.Model.solve`) stores the path of the welfare decomposition once the fixed point is
        reached (compliance costs show in its trade-cost term). Other keywords go to
        :meth:`cge.Model.solve`.
        """
        if model.bench is not self.bench and model.bench.hash() != self.bench.hash():
            raise ValueError("Origin.solve: the model is of another benchmark than this Origin")
        p = self.params
        decompose = solve_options.pop("decompose", False)
        scenario = scenario or Scenario(name="benchmark")
        target = scenario.instruments(self.bench)
        agreements = [agreements] if isinstance(agreements, str) else list(agreements)
        named = list(dict.fromkeys(self.in_force + agreements))
        if isinstance(sme_cost, bool) or not isinstance(sme_cost, (int, float)) or not sme_cost >= 0:
            raise ValueError(f"Origin.solve(sme_cost={sme_cost!r}): a number >= 0")
        regime = self._regime(target.tariff, named, agreements, dict(rules or {}), dict(zones or {}), cost_factor, sme_factor=sme_cost)
        vao = self.vao_0
        state = regime.evaluate(vao, p)
        res, history = None, []
        for it in range(1, p.max_iter + 1):
            inst = self.instruments(target, regime, state)
            sc = Scenario.from_instruments(inst, name=scenario.name, description=scenario.description)
            sc.meta = dict(scenario.meta)
            res = model.solve(sc, start=res, **solve_options)
            vao_eq = va_origin(res.mrio())
            implied = regime.evaluate(vao_eq, p)
            du = np.abs(implied["utilisation"] - state["utilisation"])
            history.append(float(du.max()))
            if du.max() < p.tol:
                if decompose:  # the same instruments again, from the equilibrium: the path for the decomposition
                    res = model.solve(sc, start=res, decompose=decompose, **solve_options)
                return OriginResults(self, regime, state, res, scenario, history, agreements, rules or {}, zones or {}, cost_factor, sme_cost)
            vao = vao + p.damping * (vao_eq - vao)
            state = regime.evaluate(vao, p)
        worst = np.argsort(du, axis=None)[::-1][:5]
        b = self.bench
        names = []
        for k in worst:
            r, i, s, u = np.unravel_index(k, du.shape)
            names.append(f"({b.regions[r]}, {b.sectors[i]}, {b.regions[s]}, {('intermediate', 'final')[u]}): |du| = {du[r, i, s, u]:.3e}")
        raise OriginError(f"utilisation did not converge in {p.max_iter} iterations (tol {p.tol:g}, damping {p.damping}); "
                          f"worst routes:\n  " + "\n  ".join(names))


def _factor(cost_factor, agreement) -> float:
    if isinstance(cost_factor, dict):
        return float(cost_factor.get(agreement, cost_factor.get("*", 1.0)))
    return float(cost_factor)


def _flows_by_use(bench: Benchmark) -> np.ndarray:
    """Benchmark trade flows at basic prices by use, ``[r, i, s, (intermediate, final)]``."""
    return np.stack([np.asarray(bench.z_0).sum(axis=3), np.asarray(bench.f_0).sum(axis=3)], axis=3)


# ------------------------------------------------------------------------------------------ results
@dataclass
class OriginResults:
    """A solve with utilisation in equilibrium: the model's :class:`cge.Results` and the origin block."""

    origin: Origin
    regime: Regime
    state: dict
    results: object
    scenario: Scenario
    history: list
    agreements: list
    rules: dict
    zones: dict
    cost_factor: object = 1.0
    sme_cost: float = 1.0

    @property
    def iterations(self) -> int:
        return len(self.history)

    def welfare(self) -> pd.DataFrame:
        return self.results.welfare()

    def metadata(self) -> dict:
        """The model's metadata plus the origin block's assumptions, calibration and convergence."""
        meta = self.results.metadata()
        o = self.origin
        meta["origin"] = {
            "params": o.params.describe(),
            "year_in_force": o.year,
            "agreements_in_force": [a for a in o.in_force if a in o.coded()],
            "agreements_named": self.agreements,
            "rules_overrides": self.rules,
            "zones": self.zones,
            "cost_factor": self.cost_factor,
            "sme_cost": self.sme_cost,
            "firm_size_split": bool(o.sme.any()),
            "cost_median": o.medians,
            "calibration": o.calibration,
            "iterations": self.iterations,
            "max_du": self.history[-1],
            "method": "damped fixed point over Model.solve in the value-added origin shares; stops at max |du| < tol",
        }
        return meta

    def _flows(self) -> np.ndarray:
        sol, par = self.results.solution, self.results.params
        val = sol.p[:, :, None, None] * sol.tau[..., par.use_of_buyer] * sol.z
        S = par.n_sectors
        return np.stack([val[..., :S].sum(axis=3), val[..., S:].sum(axis=3)], axis=3)

    def routes(self) -> pd.DataFrame:
        """One row per route covered by a coded agreement (benchmark or scenario): before (``_0``) and after.

        Columns: ``agreement`` chosen, ``rvc`` (share of output from the zone), ``threshold``,
        ``qualifying`` share, ``utilisation``, ``mfn`` (rate without claiming), ``preferential``
        rate, ``margin``, ``effective`` tariff, ``applied`` (the tariff instrument of the equilibrium:
        the data in the benchmark), ``compliance`` cost (fraction of value) and ``compliance_value``
        (cost times trade), ``trade`` at basic prices; tariffs are averaged over uses with trade weights.
        """
        o, b = self.origin, self.origin.bench
        w0, w1 = o.weights_0, self._flows()
        inst = self.results.solution.instruments
        cases = {"_0": (o.regime_0, o.state_0, w0, o.t0), "": (self.regime, self.state, w1, inst.tariff)}
        touched = o.regime_0.touched | self.regime.touched
        idx = pd.MultiIndex.from_product([b.regions, b.sectors, b.regions], names=["exporter", "commodity", "importer"])
        out = pd.DataFrame(index=idx)
        for suffix, (reg, st, w, applied) in cases.items():
            ws = w.sum(axis=3)
            wavg = lambda a: np.divide((a * w).sum(axis=3), ws, out=a.mean(axis=3), where=ws > 0)  # noqa: E731
            choice = st["choice"][..., 0]
            names = np.array(list(reg.names) + [""], dtype=object)
            out["agreement" + suffix] = names[np.where(choice < 0, len(reg.names), choice)].ravel()
            thr = np.append(reg.threshold, np.nan)[np.where(choice < 0, len(reg.names), choice)]
            out["rvc" + suffix] = st["rvc"][..., 0].ravel()
            out["threshold" + suffix] = thr.ravel()
            out["qualifying" + suffix] = st["qualifying"][..., 0].ravel()
            for col, key in (("utilisation", "utilisation"), ("mfn", None), ("preferential", "preferential"), ("margin", "margin"),
                             ("effective", "effective"), ("compliance", "compliance")):
                arr = reg.fallback if key is None else st[key]
                out[col + suffix] = wavg(arr).ravel()
            out["applied" + suffix] = wavg(applied).ravel()
            out["compliance_value" + suffix] = (st["compliance"] * w).sum(axis=3).ravel()
            out["trade" + suffix] = ws.ravel()
        keep = touched.ravel() & (out["trade_0"].to_numpy() + out["trade"].to_numpy() > 0)
        return out[keep].reset_index()

    def by_agreement(self) -> pd.DataFrame:
        """Trade-weighted utilisation, MFN, preferential, effective and applied tariffs and compliance costs by agreement.

        One row per agreement chosen on some eligible route (with a margin) and ``case``
        (``benchmark``, ``scenario``); utilisation and tariffs are over the eligible trade.
        """
        rt = self.routes()
        rows = []
        for case, sfx in (("benchmark", "_0"), ("scenario", "")):
            d = rt[(rt["agreement" + sfx] != "") & (rt["margin" + sfx] > MIN_MARGIN)]
            for a, g in d.groupby("agreement" + sfx, sort=False):
                w = g["trade" + sfx]
                if w.sum() <= 0:
                    continue
                avg = lambda c: float((g[c + sfx] * w).sum() / w.sum())  # noqa: E731
                rows.append({"agreement": a, "case": case, "routes": len(g), "trade": float(w.sum()), "utilisation": avg("utilisation"),
                             "mfn": avg("mfn"), "preferential": avg("preferential"), "effective": avg("effective"),
                             "applied": avg("applied"), "compliance": avg("compliance"), "rvc": avg("rvc"),
                             "compliance_value": float(g["compliance_value" + sfx].sum())})
        order = {a: k for k, a in enumerate(self.origin.rules.index)}
        out = pd.DataFrame(rows, columns=["agreement", "case", "routes", "trade", "utilisation", "mfn", "preferential", "effective",
                                          "applied", "compliance", "rvc", "compliance_value"])
        return out.sort_values(["agreement", "case"], key=lambda c: c.map(order) if c.name == "agreement" else c).reset_index(drop=True)

    def tidy(self) -> pd.DataFrame:
        """:meth:`routes` in long form: ``exporter, commodity, importer, agreement, variable, benchmark, scenario``."""
        rt = self.routes()
        keys = ["exporter", "commodity", "importer"]
        variables = ["rvc", "threshold", "qualifying", "utilisation", "mfn", "preferential", "margin", "effective", "applied",
                     "compliance", "compliance_value", "trade"]
        frames = []
        for v in variables:
            f = rt[keys].copy()
            f["agreement"] = rt["agreement"].where(rt["agreement"] != "", rt["agreement_0"])
            f["variable"] = v
            f["benchmark"] = rt[v + "_0"]
            f["scenario"] = rt[v]
            frames.append(f)
        out = pd.concat(frames, ignore_index=True)
        out.insert(0, "scenario_name", self.scenario.name)
        return out


def zone_sourcing(results, zone) -> pd.DataFrame:
    """Intermediate imports of each zone member from the zone, value and share of its intermediate imports.

    ``results``: a :class:`cge.Results` or :class:`OriginResults`; ``zone``: model regions. Compare two
    runs (with and without cumulation) to see trade diverted towards members by cumulation
    (:func:`cumulation_diversion`).
    """
    res = getattr(results, "results", results)
    sol, par = res.solution, res.params
    S = par.n_sectors
    val = (sol.p[:, :, None, None] * sol.tau[..., par.use_of_buyer] * sol.z)[..., :S].sum(axis=(1, 3))  # (r, s)
    regions = list(par.regions)
    z = np.array([r in set(zone) for r in regions])
    off = ~np.eye(len(regions), dtype=bool)
    imports = (val * off).sum(axis=0)
    from_zone = (val * off * z[:, None]).sum(axis=0)
    df = pd.DataFrame({"from_zone": from_zone, "imports": imports, "share": np.divide(from_zone, imports, out=np.zeros_like(imports), where=imports > 0)},
                      index=pd.Index(regions, name="region"))
    return df[z]


def cumulation_diversion(with_cumulation, without, zone) -> pd.DataFrame:
    """Members' intermediate imports from the zone in two runs and the difference (percentage points, value)."""
    a, b = zone_sourcing(with_cumulation, zone), zone_sourcing(without, zone)
    return pd.DataFrame({"share_with": a["share"], "share_without": b["share"], "change_pp": 100.0 * (a["share"] - b["share"]),
                         "value_with": a["from_zone"], "value_without": b["from_zone"], "change_value": a["from_zone"] - b["from_zone"]})


__all__ = [
    "ASEAN_PLUS_ONE",
    "CALIBRATIONS",
    "THAI_TARGETS",
    "Origin",
    "OriginError",
    "OriginParams",
    "OriginResults",
    "Regime",
    "Target",
    "claim_share",
    "cumulation_diversion",
    "expected_cost",
    "published_targets",
    "qualifying_share",
    "va_origin",
    "zone_sourcing",
]
