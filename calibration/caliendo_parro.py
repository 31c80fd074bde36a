"""Caliendo and Parro (2015): their 1993 world economy as a :class:`cge.Benchmark`.

Source: Caliendo, L. and Parro, F. (2015), "Estimates of the Trade and Welfare Effects of NAFTA",
*Review of Economic Studies* 82(1), 1-44; the authors' replication inputs (``Equilibrium`` folder),
kept in ``../shared/data/caliendo_parro_2015`` (see its ``PROVENANCE.txt``; the folder can be moved
with the environment variable ``CGE_SHARED_DATA``). 31 regions x 40 sectors, the first 20 tradable.

The equivalence
---------------
Their multi-sector Eaton-Kortum model with input-output linkages has, for counterfactuals in
changes, the equilibrium conditions of an Armington model in which

* each (importer ``s``, commodity ``i``) buys one CES composite from all sources, with elasticity
  ``sigma_i = 1 + theta_i``, and every buyer in ``s`` (sectors and the household) uses it: in
  ``cge`` terms ``sourcing="common"`` with ``sigma_dm = sigma_mm = 1 + theta`` and benchmark
  sourcing shares that are the same for all buyers of a region;
* gross output is Cobb-Douglas in value added (share ``B``) and intermediates, intermediates are
  Cobb-Douglas across commodities (shares ``IO``), value added is labour only, and the household
  spends fixed shares ``alpha`` (``sigma_top = sigma_int = sigma_fd = 1``);
* an ad-valorem tariff ``t`` is paid on the value at the border, expenditure shares ``pi`` are
  shares of spending *including* tariffs, and tariff revenue goes to the household;
* labour is fully employed and each region's trade balance is fixed.

What their data are
-------------------
``xbilat1993`` are imports by destination *excluding* tariffs (their code multiplies them by
``1 + t`` to get expenditure, ``xbilat = xbilat1993 .* tau``), in thousands of dollars. Gross
output ``GO`` is at producer prices; domestic sales are ``GO`` minus exports (``GO`` is first raised
to exports where it falls short, 26 cells). ``B`` is value added over gross output and ``IO`` the
shares of inputs in intermediate spending at buyer prices (so an input's cost share is
``(1 - B) IO``). Final-demand shares ``alpha`` are the residual of expenditure after intermediate
demand, divided by income (value added + tariff revenue + deficit), negative residuals set to zero
and the shares rescaled (their ``script.m``). Non-tradable sectors have no trade and no elasticity;
their code gives them ``theta = 8.22``, which we keep (``sigma = 9.22``): with no trade it plays no
role.

The baseline of their Table 2 is not the raw 1993 data
-------------------------------------------------------
The raw data are not an equilibrium of the model (``alpha`` clipped, ``GO`` raised), and they have
trade deficits. Their replication code builds the baseline in two solves of the model in changes
(exact hat algebra, their Appendix), which :func:`balanced_baseline` reproduces:

1. ``script.m``: solve the model at unchanged 1993 tariffs with the 1993 deficits, from the raw
   shares: this makes the data an equilibrium;
2. ``script_eliminating_trade_surplus.m``: from that equilibrium, solve with all deficits set to
   zero, still at 1993 tariffs.

Their counterfactuals (``CP_counterfactuals.m``, "without trade deficits") then start from this
balanced-trade equilibrium with deficits held at zero. In ``cge`` terms: the benchmark is that
equilibrium and the net transfer from abroad is zero, held fixed (our default closure). Their
solver never normalises prices explicitly, but its wage update ``w += 0.2 (excess surplus) / VA``
keeps world value added ``sum_n w_n VA_n`` constant, which is our numeraire (the world index of
factor prices weighted by benchmark factor payments). :func:`solve_changes` is a faithful Python
port of their solver (``equilibrium_LC.m``, ``PH.m``, ``Dinprime.m``, ``expenditure.m``), solved
with a Newton-type method to machine precision instead of their damped iteration.

Building an exactly balanced table
----------------------------------
From an equilibrium (shares ``pi``, expenditure ``X``) the table is (``r`` exporter, ``i``
commodity, ``s`` importer, ``j`` using sector; values at basic prices)::

    Z[r, i, s, j] = pi[r, i, s] * IO[s, i, j] * (1 - B[s, j]) * GO[s, j] / (1 + t[r, i, s])
    F[r, i, s]    = pi[r, i, s] * alpha[s, i] * I[s] / (1 + t[r, i, s])
    labour[s, j]  = B[s, j] * GO[s, j],   GO[r, i] = sum_s X[s, i] pi[r, i, s] / (1 + t[r, i, s])

Costs equal ``GO`` exactly by construction (``IO`` columns sum to one). Sales equal ``GO`` when
``X`` solves the expenditure equations; with zero deficits these are linear and homogeneous in
``X`` given ``pi`` (``X = M(pi) X``), so :func:`consistent_expenditure` takes ``X`` as the null
vector of ``I - M``: the table then balances to rounding error and the net transfer is zero.
Values are in US$ million. ``IO.txt`` holds one negative share, which a table cannot: see
:func:`load_raw`.

Welfare
-------
Their Table 2 "welfare" is the sum of the terms-of-trade and volume-of-trade terms of their
decomposition, a first-order formula evaluated once with benchmark weights
(:func:`cp_decomposition`, their ``Welfarelineal.m``). It is not the exact change in real income
that ``cge``'s equivalent variation measures; :func:`cp_welfare` returns both and
:func:`cp_welfare_along_path` shows the first converging to the second. See
``experiments/caliendo_parro/README.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from scipy import optimize

import cge
from cge.mrio import sales
from cge.sources import shared_data_dir

DATASET = "caliendo_parro_2015"
NAFTA = ("CAN", "MEX", "USA")
NON_TRADABLE_THETA = 8.22
"""Trade elasticity CP's code gives non-tradable sectors (irrelevant: they are not traded)."""
UNIT = 1e6
"""Benchmark values are in US$ million (the raw files are in dollars, trade in thousands)."""


def data_dir() -> Path:
    """Folder of the raw files: ``$CGE_SHARED_DATA/caliendo_parro_2015`` or ``<repo>/../shared/data/...``."""
    return shared_data_dir() / DATASET


# ---------------------------------------------------------------------------------------- raw data
@dataclass
class RawData:
    """The replication inputs, reoriented to ``cge`` conventions.

    Trade arrays are ``[exporter r, commodity i, importer s]``; region-sector arrays ``[s, j]``.
    ``imports`` (US$, excluding tariffs) and tariffs (rates, not percent) are zero for
    non-tradables; ``io[s, i, j]`` is the share of input ``i`` in sector ``j``'s intermediate spending.
    """

    regions: list[str]
    sectors: list[str]
    tradable: np.ndarray  # (S,) bool
    imports: np.ndarray  # (R, S, R) US$
    tariff_1993: np.ndarray  # (R, S, R)
    tariff_2005: np.ndarray  # (R, S, R)
    io: np.ndarray  # (R, S, S)
    va_share: np.ndarray  # (R, S)  B
    gross_output: np.ndarray  # (R, S) US$
    theta: np.ndarray  # (S,)
    notes: list[str] = field(default_factory=list)


def _cp_trade(path: Path, n_regions: int, n_sectors: int) -> np.ndarray:
    """A (tradable sector, importer) x exporter file as a full ``[exporter, commodity, importer]`` array."""
    raw = np.loadtxt(path)
    n_tradable = raw.shape[0] // n_regions
    out = np.zeros((n_regions, n_sectors, n_regions))
    out[:, :n_tradable, :] = raw.reshape(n_tradable, n_regions, n_regions).transpose(2, 0, 1)
    return out


def load_raw(path: Path | None = None, clip_negative_io: bool = True) -> RawData:
    """Read the seven replication files and the label lists (layouts in ``PROVENANCE.txt``).

    ``IO.txt`` has one negative share (Canada, input "Other" in "Basic metals", -0.000846), which
    CP's code uses as is but a benchmark cannot hold (a negative delivery). With
    ``clip_negative_io`` it is set to zero and that column rescaled to sum to one; the effect on
    Table 2 is at most 1e-5 percentage points (``experiments/caliendo_parro/README.md``).
    """
    path = Path(path) if path is not None else data_dir()
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: Caliendo-Parro replication data not found (set CGE_SHARED_DATA)")
    regions = [line.split(",")[1] for line in (path / "countries.csv").read_text().split()[1:]]
    rows = [line.split(",") for line in (path / "sectors.csv").read_text().strip().splitlines()[1:]]
    sectors = [r[1] for r in rows]
    tradable = np.array([r[2] == "1" for r in rows])
    R, S = len(regions), len(sectors)
    imports = _cp_trade(path / "xbilat1993.txt", R, S) * 1000.0  # thousands of US$ -> US$
    t93 = _cp_trade(path / "tariffs1993.txt", R, S) / 100.0
    t05 = _cp_trade(path / "tariffs2005.txt", R, S) / 100.0
    io = np.loadtxt(path / "IO.txt").reshape(R, S, S)  # [country, input, using sector]
    notes = []
    if clip_negative_io and (io < 0).any():
        for s, i, j in np.argwhere(io < 0):
            notes.append(f"IO share of {sectors[i]} in {regions[s]} {sectors[j]} = {io[s, i, j]:.6g} set to 0, column rescaled")
        io = np.clip(io, 0.0, None)
        total = io.sum(axis=1, keepdims=True)
        io = np.divide(io, total, out=io, where=total > 0)
    va_share = np.loadtxt(path / "B.txt").T  # file: sectors x countries
    gross_output = np.loadtxt(path / "GO.txt").T
    theta_t = np.loadtxt(path / "T.txt")
    theta = np.full(S, NON_TRADABLE_THETA)
    theta[: len(theta_t)] = theta_t
    if tradable.sum() != len(theta_t):
        raise ValueError(f"{path}: {tradable.sum()} tradable sectors but {len(theta_t)} elasticities")
    return RawData(regions, sectors, tradable, imports, t93, t05, io, va_share, gross_output, theta, notes)


# -------------------------------------------------------------------------- the model in changes
@dataclass
class Equilibrium:
    """An equilibrium of the Caliendo-Parro model in levels (US$), ``cge`` orientation.

    ``pi[r, i, s]`` expenditure share of importer ``s`` on commodity ``i`` from ``r`` (at buyer
    prices, summing to one over ``r``); ``kappa = 1 + tariff``; ``expenditure[s, i]`` total spending
    on ``i`` in ``s`` at buyer prices; ``alpha[s, i]`` household shares; ``va[s]`` value added;
    ``deficit[s]`` imports minus exports (the net transfer from abroad).
    """

    regions: list[str]
    sectors: list[str]
    pi: np.ndarray
    kappa: np.ndarray
    alpha: np.ndarray
    va_share: np.ndarray
    io: np.ndarray
    theta: np.ndarray
    va: np.ndarray
    deficit: np.ndarray
    expenditure: np.ndarray | None = None
    info: dict = field(default_factory=dict)

    @property
    def buyer_flows(self) -> np.ndarray:
        """Bilateral spending at buyer prices ``[r, i, s]`` (domestic included)."""
        return self.pi * self.expenditure.T[None, :, :]

    @property
    def flows(self) -> np.ndarray:
        """Bilateral sales at producer prices ``[r, i, s]`` (CP's ``xbilattau``)."""
        return self.buyer_flows / self.kappa

    @property
    def gross_output(self) -> np.ndarray:
        return sales(self.flows)

    @property
    def tariff_revenue(self) -> np.ndarray:
        return (self.buyer_flows - self.flows).sum(axis=(0, 1))

    @property
    def income(self) -> np.ndarray:
        """Household income: value added + tariff revenue + deficit (CP's ``In``)."""
        return self.va + self.tariff_revenue + self.deficit


def initial_data(raw: RawData) -> Equilibrium:
    """The raw 1993 data as CP's ``script.m`` prepares them (not yet an equilibrium).

    Expenditure ``X0`` and shares ``Din`` from imports x (1 + t) plus domestic sales
    (``GO = max(GO, exports)``), deficits from the trade matrix, ``alpha`` as the clipped residual.
    """
    R = len(raw.regions)
    kappa = 1.0 + raw.tariff_1993
    exports = raw.imports.sum(axis=2)  # [r, i]
    go = np.maximum(raw.gross_output, exports)
    sales = raw.imports.copy()
    sales[np.arange(R), :, np.arange(R)] = go - exports
    buyer = sales * kappa
    x0 = buyer.sum(axis=0).T  # [s, i]
    pi = buyer / x0.T[None, :, :]
    surplus = sales.sum(axis=(1, 2)) - sales.sum(axis=(0, 1))
    va = (go * raw.va_share).sum(axis=1)
    f = (pi / kappa).sum(axis=0).T  # [s, i]
    intermediate = np.einsum("sij,sj->si", raw.io, (1.0 - raw.va_share) * go)
    income = va + (x0 * (1.0 - f)).sum(axis=1) - surplus
    alpha = np.clip((x0 - intermediate) / income[:, None], 0.0, None)
    alpha /= alpha.sum(axis=1, keepdims=True)
    return Equilibrium(
        regions=list(raw.regions),
        sectors=list(raw.sectors),
        pi=pi,
        kappa=kappa,
        alpha=alpha,
        va_share=raw.va_share.copy(),
        io=raw.io.copy(),
        theta=raw.theta.copy(),
        va=va,
        deficit=-surplus,
        expenditure=x0,
        info={"stage": "raw 1993 data (script.m preparation)", "gross_output_raised": int((raw.gross_output < exports).sum())},
    )


def prices(base: Equilibrium, w_hat: np.ndarray, kappa_hat: np.ndarray, tol: float = 1e-15, maxit: int = 10_000):
    """Unit-cost and price-index changes given wage changes (CP's ``PH.m``), in logs.

    .. math:: \\ln \\hat c_{sj} = B_{sj} \\ln \\hat w_s + (1 - B_{sj}) \\sum_i IO_{sij} \\ln \\hat P_{si},\\qquad
              \\hat P_{si}^{-\\theta_i} = \\sum_r \\pi_{ris} (\\hat c_{ri} \\hat\\kappa_{ris})^{-\\theta_i}
    """
    B, io, th = base.va_share, base.io, base.theta
    lw = np.log(w_hat)
    lk = np.log(kappa_hat)
    log_pi = np.log(np.where(base.pi > 0, base.pi, 1.0))
    mask = base.pi > 0
    lp = np.zeros_like(B)
    for _ in range(maxit):
        lc = B * lw[:, None] + (1.0 - B) * np.einsum("sij,si->sj", io, lp)
        e = -th[None, :, None] * (lc[:, :, None] + lk) + log_pi
        e = np.where(mask, e, -np.inf)
        top = e.max(axis=0)
        lp_new = -(top + np.log(np.exp(e - top[None]).sum(axis=0))).T / th[None, :]
        gap = np.abs(lp_new - lp).max()
        lp = lp_new
        if gap < tol:
            break
    lc = B * lw[:, None] + (1.0 - B) * np.einsum("sij,si->sj", io, lp)
    return np.exp(lc), np.exp(lp)


def _new_shares(base: Equilibrium, c_hat, p_hat, kappa_hat) -> np.ndarray:
    th = base.theta[None, :, None]
    return base.pi * (c_hat[:, :, None] * kappa_hat / p_hat.T[None, :, :]) ** (-th)


def expenditure_matrix(pi, kappa, alpha, va_share, io) -> np.ndarray:
    """``M`` with ``X = M X + alpha (w VA + deficit)``: intermediate demand and tariff-revenue spending.

    .. math:: X_{si} = \\sum_j IO_{sij} (1 - B_{sj}) \\sum_{s'} X_{s'j} \\pi_{sjs'}/\\kappa_{sjs'}
              + \\alpha_{si}\\Big(w_s VA_s + \\sum_k X_{sk} (1 - F_{sk}) + D_s\\Big)

    ``X`` flattened as ``[s, i] -> s * S + i``.
    """
    R, S = alpha.shape
    d = pi / kappa  # [r, j, s'] producer-price share
    f = d.sum(axis=0).T  # [s, k]
    # intermediate: (s, i) <- (s', j):  io[s, i, j] (1 - B[s, j]) d[s, j, s']
    m1 = np.einsum("sij,sj,sjt->sitj", io, 1.0 - va_share, d)
    m2 = np.zeros((R, S, R, S))
    m2[np.arange(R), :, np.arange(R), :] = alpha[:, :, None] * (1.0 - f)[:, None, :]
    return (m1 + m2).reshape(R * S, R * S)


def _expenditure(base: Equilibrium, pi, kappa, w_hat, deficit) -> np.ndarray:
    R, S = base.alpha.shape
    m = expenditure_matrix(pi, kappa, base.alpha, base.va_share, base.io)
    rhs = (base.alpha * (w_hat * base.va + deficit)[:, None]).reshape(-1)
    return np.linalg.solve(np.eye(R * S) - m, rhs).reshape(R, S)


def _evaluate(base: Equilibrium, w_hat, kappa_new, deficit):
    kappa_hat = kappa_new / base.kappa
    c_hat, p_hat = prices(base, w_hat, kappa_hat)
    pi = _new_shares(base, c_hat, p_hat, kappa_hat)
    x = _expenditure(base, pi, kappa_new, w_hat, deficit)
    flows = pi * x.T[None, :, :] / kappa_new
    R = len(w_hat)
    off = ~np.eye(R, dtype=bool)[:, None, :]
    exports = (flows * off).sum(axis=(1, 2))
    imports = (flows * off).sum(axis=(0, 1))
    return c_hat, p_hat, pi, x, imports - exports


def solve_changes(base: Equilibrium, tariff=None, deficit=None, tol: float = 1e-12) -> tuple[Equilibrium, dict]:
    """Solve CP's equilibrium in changes (their ``equilibrium_LC.m``) and return the new equilibrium.

    ``tariff`` new ad-valorem tariffs ``[r, i, s]`` (default: unchanged); ``deficit`` new deficits
    ``[s]`` in the units of ``base`` (default: unchanged). Unknowns: wage changes ``w_hat``, one per
    region, with world value added ``sum_s w_hat_s VA_s`` fixed (the normalisation implicit in their
    iteration); equations: each region's trade balance (one is redundant). Returns the new
    :class:`Equilibrium` (its ``va`` = ``w_hat * VA``) and a dict of changes ``w_hat``, ``c_hat``
    (unit costs, i.e. producer prices), ``p_hat`` (price indices) and ``max_residual``.
    """
    kappa_new = base.kappa if tariff is None else 1.0 + np.asarray(tariff, float)
    deficit = base.deficit if deficit is None else np.asarray(deficit, float)
    va = base.va
    R = len(va)

    def wages(z):
        w = np.ones(R)
        w[:-1] = np.exp(z)
        w[-1] = (va.sum() - (w[:-1] * va[:-1]).sum()) / va[-1]
        return w

    def residual(z):
        w = wages(z)
        if w[-1] <= 0:
            return np.full(R - 1, 1e3)
        return (_evaluate(base, w, kappa_new, deficit)[4] - deficit)[:-1] / va[:-1]

    sol = optimize.root(residual, np.zeros(R - 1), method="hybr", options={"xtol": 1e-14})
    w_hat = wages(sol.x)
    c_hat, p_hat, pi, x, net_imports = _evaluate(base, w_hat, kappa_new, deficit)
    worst = float(np.abs((net_imports - deficit) / va).max())
    if worst > tol * 1e3:
        raise RuntimeError(f"Caliendo-Parro equilibrium not found: largest trade-balance gap {worst:.2e} of value added ({sol.message})")
    new = Equilibrium(
        regions=base.regions,
        sectors=base.sectors,
        pi=pi,
        kappa=kappa_new,
        alpha=base.alpha,
        va_share=base.va_share,
        io=base.io,
        theta=base.theta,
        va=w_hat * va,
        deficit=deficit,
        expenditure=x,
    )
    return new, {"w_hat": w_hat, "c_hat": c_hat, "p_hat": p_hat, "max_residual": worst, "nfev": int(sol.nfev)}


def consistent_expenditure(eq: Equilibrium) -> Equilibrium:
    """The balanced-trade equilibrium's expenditure as the null vector of ``I - M(pi)``.

    With zero deficits and value added equal to ``B x`` gross output, ``X = M X`` is homogeneous;
    its solution (scaled to the current world expenditure) balances every region's trade and the
    table exactly. Value added is reset to ``B x GO``.
    """
    if np.abs(eq.deficit).max() > 0:
        raise ValueError("consistent_expenditure needs zero deficits")
    R, S = eq.alpha.shape
    d = eq.pi / eq.kappa
    # X = M X + alpha * sum_j B[s, j] GO[s, j],  GO[s, j] = sum_t X[t, j] d[s, j, t]
    m = expenditure_matrix(eq.pi, eq.kappa, eq.alpha, eq.va_share, eq.io).reshape(R, S, R, S)
    m += np.einsum("si,sj,sjt->sitj", eq.alpha, eq.va_share, d)
    a = np.eye(R * S) - m.reshape(R * S, R * S)
    x0 = eq.expenditure.reshape(-1)
    a[-1, :] = 1.0  # replace one (redundant) equation by the scale
    rhs = np.zeros(R * S)
    rhs[-1] = x0.sum()
    x = np.linalg.solve(a, rhs).reshape(R, S)
    out = replace(eq, expenditure=x)
    out.va = (eq.va_share * out.gross_output).sum(axis=1)
    return out


def balanced_baseline(raw: RawData | None = None) -> tuple[Equilibrium, dict]:
    """CP's balanced-trade 1993 baseline: raw data -> equilibrium with 1993 deficits -> deficits zero.

    Returns the baseline and a dict with the intermediate equilibrium (``with_deficits``) and
    the wage changes of each step.
    """
    raw = raw if raw is not None else load_raw()
    data = initial_data(raw)
    with_deficits, step1 = solve_changes(data)
    zero, step2 = solve_changes(with_deficits, deficit=np.zeros(len(raw.regions)))
    base = consistent_expenditure(zero)
    base.info = {"stage": "balanced-trade 1993 baseline (script_eliminating_trade_surplus.m)"}
    with_deficits.info = {"stage": "1993 equilibrium with 1993 deficits (script.m)"}
    return base, {"data": data, "with_deficits": with_deficits, "step1": step1, "step2": step2}


# ------------------------------------------------------------------------------ welfare (CP eq.)
def cp_decomposition(flows_0, flows_1, c_hat, tariff_0, income_0) -> dict:
    """CP's welfare decomposition (their ``Welfarelineal.m``; section 4 of the paper), % of income.

    ``flows_*[r, i, s]`` bilateral sales at producer prices (CP's ``xbilattau``) before and after,
    ``c_hat[r, i]`` the change in unit costs (= producer prices), ``tariff_0[r, i, s]`` benchmark
    tariffs, ``income_0[s]`` benchmark household income:

    .. math::
        ToT_s = \\frac{1}{I_s}\\sum_{i}\\Big(\\sum_{s'} x_{s i s'} (\\hat c_{si} - 1)
                - \\sum_{r} x_{r i s} (\\hat c_{ri} - 1)\\Big),\\qquad
        VoT_s = \\frac{1}{I_s}\\sum_{r, i} t_{ris}\\, x_{ris}\\big[(\\hat x_{ris} - 1) - (\\hat c_{ri} - 1)\\big]

    Their formula is the differential of real income; their code applies it to the discrete change
    with benchmark weights, and their "welfare" (Table 2, "Total") is ``ToT + VoT``. It is *not* the
    exact change in real income (``real_income`` in :func:`cp_welfare`).
    """
    x0, x1 = np.asarray(flows_0, float), np.asarray(flows_1, float)
    ratio = np.divide(x1, x0, out=np.ones_like(x0), where=x0 > 0)
    dc = (np.asarray(c_hat, float) - 1.0)[:, :, None]
    tot = ((x0 * dc).sum(axis=(1, 2)) - (x0 * dc).sum(axis=(0, 1))) / income_0
    vot = (np.asarray(tariff_0) * x0 * ((ratio - 1.0) - dc)).sum(axis=(0, 1)) / income_0
    return {"terms_of_trade": 100 * tot, "volume_of_trade": 100 * vot, "welfare": 100 * (tot + vot)}


def cp_welfare(base: Equilibrium, new: Equilibrium, changes: dict) -> dict:
    """:func:`cp_decomposition` between two equilibria, plus real wages and the exact real-income change.

    ``changes`` as returned by :func:`solve_changes`. Adds ``real_wage`` (``w_hat / P_hat - 1``, their
    ``W_all``) and ``real_income`` (``I' / (P_hat I) - 1``, the household's utility change, which is
    what ``cge``'s equivalent variation measures), all in %.
    """
    out = cp_decomposition(base.flows, new.flows, changes["c_hat"], base.kappa - 1.0, base.income)
    p_hh = np.exp((base.alpha * np.log(changes["p_hat"])).sum(axis=1))
    out["real_wage"] = 100 * (changes["w_hat"] / p_hh - 1.0)
    out["real_income"] = 100 * (new.income / (p_hh * base.income) - 1.0)
    return out


def cp_welfare_along_path(base: Equilibrium, tariff, steps: int) -> dict:
    """CP's decomposition applied to ``steps`` equal slices of the tariff change and chained.

    Each slice is solved from the previous equilibrium and decomposed with that equilibrium's
    weights; welfare chains as ``prod(1 + d_k) - 1``. With one step this is CP's Table 2; as the
    steps shrink it converges to the exact real-income change (the formula is exact for
    infinitesimal changes).
    """
    t0 = base.kappa - 1.0
    tariff = np.asarray(tariff, float)
    level, tot, vot = 1.0, np.zeros(len(base.regions)), np.zeros(len(base.regions))
    cur = base
    for k in range(1, steps + 1):
        new, ch = solve_changes(cur, tariff=t0 + k / steps * (tariff - t0))
        d = cp_welfare(cur, new, ch)
        tot += level * d["terms_of_trade"]
        vot += level * d["volume_of_trade"]
        level = level * (1.0 + d["welfare"] / 100.0)
        cur = new
    return {"terms_of_trade": tot, "volume_of_trade": vot, "welfare": 100 * (level - 1.0)}


def nafta_tariffs(raw: RawData) -> np.ndarray:
    """1993 tariffs with those among Canada, Mexico and the United States at their 2005 levels."""
    t = raw.tariff_1993.copy()
    idx = [raw.regions.index(r) for r in NAFTA]
    for r in idx:
        for s in idx:
            if r != s:
                t[r, :, s] = raw.tariff_2005[r, :, s]
    return t


# ----------------------------------------------------------------------------- the cge benchmark
def to_benchmark(eq: Equilibrium, name: str = "caliendo-parro-1993") -> cge.Benchmark:
    """The equilibrium as a balanced ``cge.Benchmark`` in US$ million (one agent, one factor).

    Sourcing shares are the same for every buyer of a region (``pi``); the net transfer from abroad
    equals ``eq.deficit``. Elasticities ``sigma_dm = sigma_mm = 1 + theta``, Cobb-Douglas elsewhere.
    """
    R, S = eq.alpha.shape
    go = eq.gross_output
    inputs = eq.io * ((1.0 - eq.va_share) * go)[:, None, :]  # [s, i, j] at buyer prices
    d = eq.pi / eq.kappa
    z = d[:, :, :, None] * inputs.transpose(1, 0, 2)[None]  # [r, i, s, j]
    final_spending = eq.alpha * eq.income[:, None]  # [s, i]
    f = d * final_spending.T[None, :, :]
    labour = eq.va_share * go
    sigma = 1.0 + eq.theta
    nafta = [r for r in NAFTA if r in eq.regions]
    return cge.Benchmark.from_arrays(
        eq.regions,
        eq.sectors,
        z / UNIT,
        f[..., None] / UNIT,
        {"labour": labour / UNIT},
        tariffs=eq.kappa - 1.0,
        agents=["household"],
        elasticities={"sigma_dm": sigma, "sigma_mm": sigma, "sigma_va": 1.0, "sigma_top": 1.0, "sigma_int": 1.0, "sigma_fd": 1.0},
        groups={"NAFTA": nafta},
        metadata={
            "name": name,
            "unit": "US$ million",
            "year": 1993,
            "source": "Caliendo and Parro (2015, REStud 82(1)) replication inputs; calibration/caliendo_parro.py",
            "stage": eq.info.get("stage", ""),
            "elasticities": "sigma = 1 + theta (CP T.txt); non-tradables theta = 8.22 as in CP's code (no trade, no effect)",
            # CP's 1993 tariffs include rates above 200% ad valorem (India on food from Portugal: 270%)
            "max_tariff": max(2.0, float(np.ceil(np.max(eq.kappa - 1.0)))),
        },
    )


def build(deficits: str = "zero", raw: RawData | None = None) -> tuple[cge.Benchmark, Equilibrium]:
    """The benchmark of CP's counterfactuals.

    ``deficits="zero"`` (their Table 2): the balanced-trade baseline, net transfers zero.
    ``deficits="data"``: the 1993 equilibrium with the 1993 deficits (their ``script.m`` output),
    net transfers equal to the deficits and held fixed in the counterfactual (their
    "with deficits" variant).
    """
    raw = raw if raw is not None else load_raw()
    base, steps = balanced_baseline(raw)
    if deficits == "zero":
        eq = base
    elif deficits == "data":
        eq = steps["with_deficits"]
    else:
        raise ValueError(f"deficits={deficits!r}; allowed: 'zero', 'data'")
    return to_benchmark(eq, name=f"caliendo-parro-1993-{deficits}-deficits"), eq


if __name__ == "__main__":
    bench, eq = build()
    print(bench)
    print(bench.summary().loc[list(NAFTA)])
