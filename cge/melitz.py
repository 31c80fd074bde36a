r"""Heterogeneous firms: Melitz-Pareto sectors, their calibration, solution and firm-level results.

Every sector of the economy is a Melitz (2003) industry with Pareto-distributed productivity
(Chaney 2008), as computed in a CGE by Zhai (2008), Balistreri, Hillberry and Rutherford (2011,
"BHR") and compared with Armington and Krugman by Dixon, Jerie and Rimmer (2016). In each region
``r`` and sector ``i`` a mass of firms :math:`N_{ri}` pays a sunk entry cost and draws a productivity
from a Pareto distribution of shape :math:`\theta_i`; a firm serves destination ``s`` when its
variable profit covers a fixed cost :math:`f_{ris}` paid in the exporter's input, so a productivity
cut-off :math:`\phi_{ris}` selects the firms of each route; buyers in ``s`` take a CES aggregate
(elasticity :math:`\sigma_i`) of all varieties they are offered, which replaces the Armington
aggregate across origins. The equations and the analytic Jacobian are in
:mod:`cge.fast.melitz`; this module calibrates, solves and reports.

Scope (what is and is not built): one regional household (all final agents' spending taken
together, Cobb-Douglas across sectors). Each sector's **input bundle** is Cobb-Douglas in labour,
mobile across sectors, the sector's other factors, which are specific to it (Jones 1971; with one
factor, labour alone), and **intermediate inputs**: the composite of each sector bought at the
price index of the using region, the same CES aggregate of varieties final buyers take (Caliendo
and Parro 2015; Costinot and Rodriguez-Clare 2014, "Trade Theory with Numbers", Handbook of
International Economics vol. 4, section 4), with the benchmark's cost shares. All buyers of a market
(final demand and every using sector) share its price index, so the bilateral flows of a route are
pooled across uses and each route has one ad valorem tariff: the benchmark revenue over the value at
the border (the use-specific rates weighted by the route's sales to each use). Variable, fixed
(serving routes) and entry costs are all paid in the bundle (Balistreri, Hillberry and Rutherford
2011). The specific factor matters: with free entry and one mobile factor only, a multi-sector
economy with the scale effects of firm entry specialises (a 20% cut in ASEAN's fixed export costs
drives whole sectors' firm mass to zero on ``eastasia-2011``); with it, sector supply curves slope
up. Intermediate inputs paid for in the bundle add the input-output loop of Krugman and Venables
(1995): with one sector and value-added share :math:`\beta`, welfare is
:math:`\hat\lambda^{-(\sigma-1)/(\theta(\sigma\beta - 1))}` (tested), which needs
:math:`\sigma\beta > 1`; on the input-output ``eastasia-2011`` with the default
:data:`SIGMA` the equilibrium branch of RCEP's tariff elimination turns back (a fold, no equilibrium
beyond 62% of the cut: agglomeration in Vietnam's electrical and optical sector) and
``experiments/melitz_facilitation.py`` uses :math:`\sigma = 5`. With one sector and no
intermediates it is the Melitz-Pareto model of Arkolakis, Costinot and Rodriguez-Clare (2012,
"ACR"). Sectors not named ``heterogeneous`` are Armington sectors (elasticity ``sigma`` across
origins). An input-output benchmark is calibrated directly (bilateral intermediate and final flows by
sector, tariffs by use); its trade-in-value-added form (:func:`value_added_benchmark`, no
intermediates) is the economy without the input-output loop. Duty exemptions (tariffs waived for
some buyers) are refused. The heterogeneous-firm option of :class:`cge.Model` is not built (this is
a model of its own: Cobb-Douglas final demand and input bundles, pooled sourcing). Only the fast
(array) formulation exists; there is no Pyomo one.

Defaults (each recorded in :attr:`MelitzParameters.options` and switchable):

* Pareto shape :data:`THETA` = 4.58: BHR's structural estimate (Balistreri, Hillberry and
  Rutherford 2011, Journal of International Economics 83(2), table 2, 4.582); the trade
  elasticity of the model. The literature's range is 4 to 5 (Eaton, Kortum and Kramarz 2011; Simonovska and Waugh 2014).
* Elasticity across varieties :data:`SIGMA` = 3.8: Bernard, Eaton, Jensen and Kortum (2003,
  AER), the value BHR use. The model needs :math:`\theta > \sigma - 1`.
* Share of active firms that export, :data:`EXPORTER_SHARE` = 0.18: US manufacturing plants in
  2002 (Bernard, Jensen, Redding and Schott 2007, Journal of Economic Perspectives 21(3), table 2).

Calibration (the benchmark is an equilibrium with every relative price and cut-off equal to 1):
the equilibrium in changes needs only benchmark value shares (:mod:`cge.fast.melitz`). The levels
of firm numbers, which results by firm count read, follow from the zero cut-off profit condition:
the value of a route is :math:`X_{ris} = M_{ris}\,\sigma\theta/(\theta - \sigma + 1)\, w f_{ris}`
with :math:`M_{ris} = N_{ri} \phi_{ris}^{-\theta}` firms serving it, so firm counts by route are
proportional to :math:`X_{ris} / f_{ris}`. Following BHR's choice of units, the fixed cost of
serving any foreign destination is a common multiple :math:`F_{ri}` of the domestic one, set so
that the firms serving the largest export market of ``(r, i)`` are the share ``exporter_share`` of
the active firms (firms serving smaller markets are a subset of them: cut-offs are ordered by
market, and a firm that exports serves its home market). Benchmark firm counts are stated per
active firm of ``(r, i)`` (:math:`M^0_{rir} = 1`), which is all that shares, entry and exit need.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .benchmark import Benchmark, RegionsSectors

THETA = 4.58
"""Default Pareto shape (trade elasticity): BHR (2011), 4.582."""

SIGMA = 3.8
"""Default elasticity of substitution between varieties: Bernard, Eaton, Jensen and Kortum (2003)."""

EXPORTER_SHARE = 0.18
"""Default share of active firms that export: Bernard, Jensen, Redding and Schott (2007), US manufacturing."""


class MelitzError(ValueError):
    """A benchmark or an option the Melitz-Pareto economy cannot take; the message names the item."""


@dataclass
class MelitzParameters(RegionsSectors):
    """Calibrated Melitz-Pareto economy: benchmark flows ``[r, i, s]``, shares and firm counts."""

    regions: list[str]
    sectors: list[str]
    theta: np.ndarray  # (S,) Pareto shape
    sigma: np.ndarray  # (S,) elasticity across varieties
    x_0: np.ndarray  # (R, S, R) sales of r to s at basic prices
    tariff_0: np.ndarray  # (R, S, R) benchmark tariff (final use)
    v_0: np.ndarray  # (R, S, R) buyer value
    wage_bill_0: np.ndarray  # (R,) factor payments
    labour_share: np.ndarray  # (R, S) share of the mobile factor (labour) in each sector's costs
    specific_share: np.ndarray  # (R, S) share of the sector's specific factor in its costs
    input_share: np.ndarray  # (R, S, S) [s, i, j] share of sector i's composite (at the price index of s) in the costs of (s, j)
    final_weight: np.ndarray  # (R, S) [s, i] final demand's share of the spending in market (s, i)
    inter_weight: np.ndarray  # (R, S, S) [s, i, j] sector j's intermediate use: share of the spending in market (s, i)
    intermediate_use: np.ndarray  # (R, S, R) intermediate use's share of each route's benchmark sales
    labour_bill_0: np.ndarray  # (R,) payments to the mobile factor
    income_0: np.ndarray  # (R,)
    transfer_0: np.ndarray  # (R,) net transfer from abroad
    alpha: np.ndarray  # (R, S) Cobb-Douglas shares of sectors in spending [s, i]
    served_0: np.ndarray  # (R, S, R) firms serving each route per active firm of (r, i)
    export_fixed_cost: np.ndarray  # (R, S) fixed cost of serving a foreign market over the domestic one
    heterogeneous: np.ndarray  # (S,) True for Melitz sectors, False for Armington sectors
    options: dict = field(default_factory=dict)


def _per_sector(value, S: int, name: str, sectors) -> np.ndarray:
    try:
        arr = np.broadcast_to(np.asarray(value, dtype=float), (S,)).copy()
    except (TypeError, ValueError):
        raise MelitzError(f"{name} = {value!r}; must be a number or one number per sector ({S}: {list(sectors)})") from None
    if not np.isfinite(arr).all():
        raise MelitzError(f"{name} must be finite, got {arr}")
    return arr


def calibrate_melitz(bench: Benchmark, theta=THETA, sigma=SIGMA, exporter_share=EXPORTER_SHARE, heterogeneous=None) -> MelitzParameters:
    """Calibrate the Melitz-Pareto economy of a benchmark, with or without intermediate inputs (module docstring).

    ``theta`` and ``sigma``: a number or one per sector; ``exporter_share``: a number, one per
    region, or an ``(R, S)`` array, in (0, 1); ``heterogeneous``: the sectors with heterogeneous
    firms (default: all); the others are Armington sectors with elasticity ``sigma`` across origins
    (a fixed mass of producers, no selection).
    """
    if not isinstance(bench, Benchmark):
        raise TypeError(f"calibrate_melitz(bench=...) needs a cge.Benchmark, got {type(bench).__name__}")
    R, S = bench.n_regions, bench.n_sectors
    if bench.duty_exemption_0.any():
        r, i = np.argwhere(bench.duty_exemption_0 != 0)[0]
        raise MelitzError(f"duty_exemption_0 ({bench.regions[r]}, {bench.sectors[i]}) = {bench.duty_exemption_0[r, i]!r}: the Melitz-Pareto "
                          "economy pools all buyers of a market (one price index), so a tariff waived for some buyers only is not built")
    th = _per_sector(theta, S, "theta", bench.sectors)
    sg = _per_sector(sigma, S, "sigma", bench.sectors)
    if heterogeneous is None:
        het = np.ones(S, dtype=bool)
    else:
        unknown = [j for j in heterogeneous if j not in bench.sectors]
        if unknown:
            raise MelitzError(f"heterogeneous: unknown sector {unknown[0]!r}; sectors: {list(bench.sectors)}")
        het = np.array([j in heterogeneous for j in bench.sectors])
    for i, name in enumerate(bench.sectors):
        if not sg[i] > 1.0:
            raise MelitzError(f"sigma ({name}) = {sg[i]!r}; the elasticity across varieties must exceed 1")
        if het[i] and not th[i] > sg[i] - 1.0:
            raise MelitzError(f"theta ({name}) = {th[i]!r} must exceed sigma - 1 = {sg[i] - 1.0!r} (finite average productivity of each route)")
    try:
        share = np.broadcast_to(np.asarray(exporter_share, dtype=float).reshape((-1, 1) if np.ndim(exporter_share) == 1 else np.shape(exporter_share)), (R, S)).copy()
    except (TypeError, ValueError):
        raise MelitzError(f"exporter_share = {exporter_share!r}; must be a number, one per region ({R}) or an (R, S) array") from None
    if ((share <= 0) | (share >= 1) | ~np.isfinite(share)).any():
        raise MelitzError(f"exporter_share must lie in (0, 1), got {share}")
    z_route = bench.z_0.sum(axis=3)  # [r, i, s] intermediate sales at basic prices
    f_route = bench.f_0.sum(axis=3)  # [r, i, s] final sales
    x_0 = z_route + f_route
    t_int, t_fin = bench.tariff_0[..., 0], bench.tariff_0[..., 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        w_int = np.where(x_0 > 0, z_route / np.where(x_0 > 0, x_0, 1.0), 0.0)  # intermediate share of each route's sales
    t0 = w_int * t_int + (1.0 - w_int) * t_fin  # the route's tariff: revenue over the value at the border
    v_0 = x_0 * (1.0 + t0)
    wage = bench.fp_0.sum(axis=(1, 2))
    va = bench.fp_0.sum(axis=2)
    out = x_0.sum(axis=2)  # [r, i] gross output = costs (benchmark balance)
    safe_out = np.where(out > 0, out, 1.0)
    # Cobb-Douglas input bundle: shares of value added and of each sector's composite in the costs of (s, j)
    inter = np.einsum("risj,ris->isj", bench.z_0, 1.0 + t_int)  # [i, s, j] spending of (s, j) on sector i's composite
    input_share = np.where(out[None] > 0, inter / safe_out[None], 0.0).transpose(1, 0, 2)  # [s, i, j]
    va_share = np.where(out > 0, va / safe_out, 1.0)
    if len(bench.factors) == 1:
        lshare = np.ones((R, S))
    elif "labour" in bench.factors:
        lab = bench.fp_0[..., bench.factors.index("labour")]
        lshare = np.where(va > 0, lab / np.where(va > 0, va, 1.0), 1.0)
    else:
        raise MelitzError(f"factors {bench.factors}: with several factors one must be 'labour' (the mobile one); the others are specific to their sector")
    if np.any((lshare <= 0) & (va > 0)):
        r, i = np.argwhere((lshare <= 0) & (va > 0))[0]
        raise MelitzError(f"({bench.regions[r]}, {bench.sectors[i]}) pays no labour; the mobile factor must have a positive share in every producing sector")
    labour_bill = (va * lshare).sum(axis=1)
    income = bench.income
    fd = np.einsum("risa,ris->si", bench.f_0, 1.0 + t_fin)  # [s, i] final spending at buyer prices
    alpha = fd / fd.sum(axis=1, keepdims=True)
    spend = v_0.sum(axis=0).T  # [s, i] all buyers' spending in each market
    safe = np.where(spend > 0, spend, 1.0)
    final_weight = np.where(spend > 0, fd / safe, 1.0)  # final demand's share of the market
    inter_weight = np.where(spend[:, :, None] > 0, inter.transpose(1, 0, 2) / safe[:, :, None], 0.0)  # [s, i, j] using sector j's share
    # firm counts by route per active firm: proportional to X / f, foreign fixed costs F times the domestic one
    idx = np.arange(R)
    home = x_0[idx, :, idx]  # [r, i]
    off = x_0 * ~np.eye(R, dtype=bool)[:, None, :]
    largest = off.max(axis=2)
    for r, i in zip(*np.nonzero((home <= 0) & (x_0.sum(axis=2) > 0))):
        raise MelitzError(f"({bench.regions[r]}, {bench.sectors[i]}) sells abroad but not at home: a firm that exports serves its home market")
    with np.errstate(divide="ignore", invalid="ignore"):
        F = np.where(largest > 0, largest / (home * share), 1.0)
        served = np.where(x_0 > 0, x_0 / (home[:, :, None] * F[:, :, None]), 0.0)
    served[idx, :, idx] = np.where(home > 0, 1.0, 0.0)
    options = {
        "heterogeneous": [j for j, h in zip(bench.sectors, het) if h],
        "theta": th.tolist(),
        "sigma": sg.tolist(),
        "exporter_share": share.tolist(),
        "fixed_costs_paid_in": "exporter's input bundle (labour, the sector's specific factor and, with intermediates, the sectoral composites); entry costs too",
        "factors": "labour mobile across sectors; other factors specific to their sector" if len(bench.factors) > 1 else "one mobile factor",
        "intermediate_inputs": bool((bench.z_0 != 0).any()),
        "input_bundle": "Cobb-Douglas in value added (labour, specific factor) and sectoral composites at the buyer's price index, benchmark cost shares",
        "route_tariff": "one ad valorem rate per route: benchmark revenue over the value at the border (intermediate and final use pooled)",
        "foreign_fixed_cost_rule": "one multiple of the domestic fixed cost per (exporter, sector), hitting exporter_share on the largest export market",
    }
    return MelitzParameters(
        regions=list(bench.regions), sectors=list(bench.sectors), theta=th, sigma=sg, x_0=x_0, tariff_0=t0, v_0=v_0,
        wage_bill_0=wage, labour_share=lshare * va_share, specific_share=(1.0 - lshare) * va_share, input_share=input_share,
        final_weight=final_weight, inter_weight=inter_weight, intermediate_use=w_int, labour_bill_0=labour_bill, income_0=income, transfer_0=bench.net_transfer, alpha=alpha, served_0=served,
        export_fixed_cost=F, heterogeneous=het, options=options,
    )


@dataclass(frozen=True)
class MelitzInstruments:
    """Levels of the instruments of the Melitz-Pareto economy, ``[exporter, sector, importer]``.

    ``tariff`` (levels), ``iceberg`` and ``fixed_cost`` (relative to the benchmark, 1 there: the
    fixed cost of serving the route, in the exporter's input), ``transfer`` (net transfers in value
    units of the numeraire), ``numeraire_value`` (the world wage index).
    """

    tariff: np.ndarray
    tariff_0: np.ndarray
    iceberg: np.ndarray
    fixed_cost: np.ndarray
    transfer: np.ndarray
    numeraire_value: float = 1.0

    @property
    def g(self) -> np.ndarray:
        return (1.0 + self.tariff) / (1.0 + self.tariff_0)

    @property
    def kappa(self) -> np.ndarray:
        return self.iceberg * self.g


class MelitzModel:
    """The Melitz-Pareto economy of a benchmark (input-output or not), solved by Newton's method.

    ``MelitzModel(bench, theta=..., sigma=..., exporter_share=...)`` calibrates
    (:func:`calibrate_melitz`); :meth:`solve` takes the instruments of a counterfactual.
    """

    def __init__(self, bench: Benchmark, theta=THETA, sigma=SIGMA, exporter_share=EXPORTER_SHARE, heterogeneous=None):
        from .fast.melitz import MelitzSystem

        self.bench = bench
        self.params = calibrate_melitz(bench, theta, sigma, exporter_share, heterogeneous)
        self.system = MelitzSystem(self.params)

    def instruments(self, tariff=None, iceberg=None, fixed_cost=None, transfer=None) -> MelitzInstruments:
        """Instruments with the given arrays ``(R, S, R)`` (or scalars); the rest at the benchmark, checked."""
        P = self.params
        shape = P.x_0.shape

        def fit(value, default, name, lower):
            arr = np.array(default if value is None else np.broadcast_to(np.asarray(value, dtype=float), shape), dtype=float)
            bad = ~np.isfinite(arr) | (arr <= lower)
            if bad.any():
                r, i, s = np.argwhere(bad)[0]
                raise MelitzError(f"{name} ({P.regions[r]}, {P.sectors[i]}, {P.regions[s]}) = {arr[r, i, s]!r}; must be finite and > {lower}")
            return arr

        tr = np.array(P.transfer_0 if transfer is None else transfer, dtype=float)
        if tr.shape != (P.n_regions,) or abs(tr.sum() - P.transfer_0.sum()) > 1e-9 * max(1.0, P.income_0.sum()):
            raise MelitzError(f"transfer must have one value per region ({P.n_regions}) and the benchmark's world total {P.transfer_0.sum()!r}")
        return MelitzInstruments(
            tariff=fit(tariff, P.tariff_0, "tariff", -1.0), tariff_0=P.tariff_0,
            iceberg=fit(iceberg, np.ones(shape), "iceberg", 0.0), fixed_cost=fit(fixed_cost, np.ones(shape), "fixed_cost", 0.0),
            transfer=tr,
        )

    def from_instruments(self, inst) -> MelitzInstruments:
        """The economy's instruments from typed instruments (:class:`cge.Instruments`) or a :class:`cge.Scenario` of its benchmark.

        All buyers of a market share one price index, so a route has one tariff and one iceberg
        cost: the rates of the two uses weighted by their benchmark sales on the route (tariffs
        arithmetically, which keeps the revenue of a uniform change exact; iceberg costs
        geometrically); on a benchmark without intermediate use these are the final-use cells.
        ``fixed_cost``, ``transfer`` and the numeraire are read as they are.
        """
        from .instruments import Instruments
        from .scenario import Scenario

        if isinstance(inst, Scenario):
            inst = inst.instruments(self.bench)
        if not isinstance(inst, Instruments):
            raise TypeError(f"from_instruments needs a cge.Instruments or cge.Scenario, got {type(inst).__name__}")
        wz = self.params.intermediate_use
        tariff = wz * inst.tariff[..., 0] + (1.0 - wz) * inst.tariff[..., 1]
        iceberg = np.exp(wz * np.log(inst.iceberg[..., 0]) + (1.0 - wz) * np.log(inst.iceberg[..., 1]))
        out = self.instruments(tariff=tariff, iceberg=iceberg, fixed_cost=inst.fixed_cost, transfer=inst.transfer)
        return MelitzInstruments(**{**out.__dict__, "numeraire_value": inst.numeraire_value})

    def solve(self, inst: MelitzInstruments | None = None, tol: float = 1e-10, max_iter: int = 50, max_halvings: int = 8) -> "MelitzResults":
        """The equilibrium under ``inst`` (the benchmark when None); raises :class:`cge.SolveError` above ``tol``.

        Newton's method in the logarithms of the unknowns (the flows are log-linear in them), each
        step damped until the largest residual falls; when it fails the shock is reached in steps
        along the straight line of the instruments (in logs for ``iceberg`` and ``fixed_cost``),
        halving a step that fails, at most ``max_halvings`` times. Statistics in ``results.stats``.
        """
        from .solve import SolveError

        base = self.instruments()
        inst = base if inst is None else inst
        if not isinstance(inst, MelitzInstruments):
            inst = self.from_instruments(inst)
        start = time.perf_counter()
        x = self.system.benchmark_point()
        done, step, steps, newton_steps, halvings = 0.0, 1.0, [], 0, 0
        while done < 1.0:
            target = min(1.0, done + step)
            ok, x_new, n, msg = self._newton(x, _between(base, inst, target), tol, max_iter)
            newton_steps += n
            if ok:
                x, done = x_new, target
                steps.append(target)
            else:
                halvings += 1
                if halvings > max_halvings:
                    st = self.system.evaluate(x_new, _between(base, inst, target))
                    names = self.system.unknown_names()
                    res = np.nan_to_num(np.abs(st.residual), nan=np.inf)
                    k = int(np.argmax(res))
                    raise SolveError(f"Melitz-Pareto economy: no equilibrium within {tol:g} at {target:.4f} of the shock ({msg}); "
                                     f"worst residual {res[k]:.3e} in the equation of {names[k]}")
                step /= 2.0
        st = self.system.evaluate(x, inst)
        worst = float(np.max(np.abs(st.residual)))
        walras = abs(st.walras_excess)
        if not (worst <= tol and walras <= tol):
            raise SolveError(f"Melitz-Pareto economy: residual {worst:.3e}, Walras {walras:.3e} above {tol:g}")
        stats = {"steps": newton_steps, "homotopy_steps": steps, "seconds": time.perf_counter() - start, "max_residual": worst, "walras_residual": walras}
        return MelitzResults(self, inst, st, stats)

    def _newton(self, x, inst, tol, max_iter):
        """Damped Newton's method in logs from ``x``: ``(converged, x, steps, message)``."""
        sysm = self.system
        z = np.log(x)
        st = sysm.evaluate(np.exp(z), inst)
        F = st.residual
        norm = float(np.max(np.abs(F)))
        for n in range(max_iter + 1):
            if norm <= tol and abs(st.walras_excess) <= tol:
                return True, np.exp(z), n, "converged"
            if n == max_iter:
                break
            J = sysm.jacobian(st) * np.exp(z)[None, :]  # d F / d ln x
            try:
                dz = -np.linalg.solve(J, F)
            except np.linalg.LinAlgError:
                return False, np.exp(z), n, "singular Jacobian"
            if not np.all(np.isfinite(dz)):
                return False, np.exp(z), n, "step not finite"
            scale = min(1.0, 1.0 / max(1e-300, float(np.max(np.abs(dz)))))  # at most a factor e per step
            for _ in range(30):
                z_try = z + scale * dz
                st_try = sysm.evaluate(np.exp(z_try), inst)
                F_try = st_try.residual
                norm_try = float(np.max(np.abs(F_try))) if np.all(np.isfinite(F_try)) else np.inf
                if norm_try < norm or norm_try <= tol:
                    break
                scale /= 2.0
            else:
                return False, np.exp(z), n, f"no descent at residual {norm:.3e}"
            z, st, F, norm = z_try, st_try, F_try, norm_try
        return False, np.exp(z), max_iter, f"{max_iter} steps, residual {norm:.3e}"


def _between(base: MelitzInstruments, inst: MelitzInstruments, t: float) -> MelitzInstruments:
    """Instruments a share ``t`` of the way from ``base`` to ``inst`` (trade and fixed costs in logs)."""
    if t == 1.0:
        return inst
    geo = lambda a, b: np.exp((1.0 - t) * np.log(a) + t * np.log(b))  # noqa: E731
    return MelitzInstruments(
        tariff=(1.0 - t) * base.tariff + t * inst.tariff, tariff_0=base.tariff_0,
        iceberg=geo(base.iceberg, inst.iceberg), fixed_cost=geo(base.fixed_cost, inst.fixed_cost),
        transfer=(1.0 - t) * base.transfer + t * inst.transfer,
        numeraire_value=(1.0 - t) * base.numeraire_value + t * inst.numeraire_value,
    )


class MelitzResults:
    """An equilibrium of :class:`MelitzModel`: welfare, trade shares and the extensive margin."""

    def __init__(self, model: MelitzModel, inst: MelitzInstruments, state, stats: dict):
        self.model, self.instruments, self.state, self.stats = model, inst, state, stats
        self.params = model.params
        self.metadata = {"model": "melitz-pareto", "backend": "fast", "benchmark": model.bench.hash(), **self.params.options}

    # ------------------------------------------------------------------ aggregates
    @property
    def utility(self) -> np.ndarray:
        """Relative utility of each region's household, :math:`\\hat I_s / \\prod_i \\hat P_{si}^{\\alpha_{si}}`."""
        st, P = self.state, self.params
        return st.inc * np.exp(-(P.alpha * np.log(st.P.T)).sum(axis=1))

    def welfare(self) -> pd.DataFrame:
        """Equivalent variation by region (the package's convention: ``EV = I0 (U1/U0 - 1)``), in benchmark currency and % of income."""
        P = self.params
        ev = P.income_0 * (self.utility - 1.0)
        return pd.DataFrame({"income_0": P.income_0, "utility_index": self.utility, "ev": ev, "ev_pct": 100.0 * ev / P.income_0},
                            index=pd.Index(P.regions, name="region"))

    def tidy(self, scenario: str = "scenario") -> pd.DataFrame:
        """Long frame ``scenario, variable, region, sector, value, unit``: welfare by region, the firm counts of :meth:`firms`."""
        w = self.welfare()
        parts = [pd.DataFrame({"variable": "welfare_ev_pct", "region": w.index, "sector": "", "value": w["ev_pct"].to_numpy(), "unit": "% of income"})]
        f = self.firms().reset_index()
        for col in f.columns[2:]:
            unit = "share" if "share" in col else ("relative to benchmark" if col == "entrants" else "per benchmark active firm")
            parts.append(pd.DataFrame({"variable": col, "region": f["region"], "sector": f["sector"], "value": f[col].to_numpy(), "unit": unit}))
        out = pd.concat(parts, ignore_index=True)
        out.insert(0, "scenario", scenario)
        return out

    @property
    def domestic_share(self) -> np.ndarray:
        """Share of each market's spending on its own varieties ``[s, i]`` (buyer prices)."""
        P, st = self.params, self.state
        v = P.v_0 * st.V
        idx = np.arange(P.n_regions)
        return (v[idx, :, idx] / v.sum(axis=0).T)

    def welfare_decomposition(self) -> pd.DataFrame:
        r"""Log change in utility split into income, prices at the benchmark firm sets, and variety/selection.

        :math:`\ln \hat U_s = \ln \hat I_s - \sum_i \alpha_{si} \ln \tilde P_{si} - \sum_i \alpha_{si} (\ln \hat P_{si} - \ln \tilde P_{si})`,
        where :math:`\tilde P_{si} = (\sum_r \lambda^0_{ris} (\hat\kappa_{ris} \hat w_r)^{1 - \sigma_i})^{1/(1-\sigma_i)}`
        is the price index with the benchmark mass and selection of firms on every route; the last
        term (``variety_selection``) is the change in the price index from entry, exit and the
        selection of firms into routes. The terms add up exactly to ``log_utility``.
        """
        P, st, inst = self.params, self.state, self.instruments
        a = (P.sigma - 1.0)[None, :, None]
        lam = self.model.system.lam
        with np.errstate(divide="ignore"):
            tilde = np.power((lam * np.power(inst.kappa * st.c[:, :, None], -a)).sum(axis=0), -1.0 / a[0])  # [i, s]
        prices = -(P.alpha * np.log(tilde.T)).sum(axis=1)
        variety = -(P.alpha * (np.log(st.P.T) - np.log(tilde.T))).sum(axis=1)
        out = pd.DataFrame({"income": np.log(st.inc), "prices": prices, "variety_selection": variety}, index=pd.Index(P.regions, name="region"))
        out["log_utility"] = np.log(self.utility)
        return out

    # ------------------------------------------------------------------ firms
    def firms(self) -> pd.DataFrame:
        """Firm counts per benchmark active firm of each ``(region, sector)``, before and after.

        Columns: ``active_0/active`` (firms serving the home market), ``exporters_0/exporters``
        (firms serving at least one foreign market: those above the lowest export cut-off),
        ``exporter_share_0/exporter_share`` (exporters over active firms), ``new_exporters`` (net
        change in exporters), ``exit`` (net fall in active firms; negative: entry), ``entrants``
        (relative mass of entrants :math:`\\hat N`). Raises if an exporter's cut-off falls below its
        home cut-off (exporters would not be a subset of active firms) or a home cut-off below the
        Pareto lower bound.
        """
        P, st = self.params, self.state
        R = P.n_regions
        th = P.theta[None, :, None]
        served = P.served_0 * st.N[:, :, None] * np.power(st.phi, -th)
        idx = np.arange(R)
        active = served[idx, :, idx]
        off = served * ~np.eye(R, dtype=bool)[:, None, :]
        exporters = off.max(axis=2)
        exporters_0 = (P.served_0 * ~np.eye(R, dtype=bool)[:, None, :]).max(axis=2)
        if (off > active[:, :, None] * (1 + 1e-12)).any():
            r, i, s = np.argwhere(off > active[:, :, None] * (1 + 1e-12))[0]
            raise MelitzError(f"({P.regions[r]}, {P.sectors[i]}): the cut-off for {P.regions[s]} fell below the home cut-off; the model's ordering of cut-offs fails")
        rows = []
        for r in range(R):
            for i in range(P.n_sectors):
                if P.x_0[r, i].sum() <= 0 or not P.heterogeneous[i]:
                    continue
                rows.append({
                    "region": P.regions[r], "sector": P.sectors[i],
                    "active_0": 1.0, "active": active[r, i],
                    "exporters_0": exporters_0[r, i], "exporters": exporters[r, i],
                    "exporter_share_0": exporters_0[r, i], "exporter_share": exporters[r, i] / active[r, i],
                    "new_exporters": exporters[r, i] - exporters_0[r, i], "exit": 1.0 - active[r, i],
                    "entrants": st.N[r, i],
                })
        cols = ["region", "sector", "active_0", "active", "exporters_0", "exporters", "exporter_share_0", "exporter_share", "new_exporters", "exit", "entrants"]
        return pd.DataFrame(rows, columns=cols).set_index(["region", "sector"])


def sme_transitions(results: "MelitzResults", employment_share: dict) -> pd.DataFrame:
    r"""SMEs that start or stop exporting, and SME exit, in the counterfactual of ``results``, by region and sector.

    SMEs are the benchmark size class of :func:`sme_shares` (productivity below ``u*``, placed so
    that they hold ``employment_share`` of the sector's employment); firms keep their productivity
    draw, the mass of firms at each productivity scales with entry :math:`\hat N`, and the new
    cut-offs are the benchmark ones times :math:`\hat\phi`. Columns, per benchmark SME:
    ``start_exporting`` (SMEs between the new and the old lowest export cut-off, when it falls),
    ``stop_exporting`` (when it rises), ``exit`` (SMEs below the new home cut-off, when it rises;
    negative: SMEs that enter below the old one), and the exporters' share among SMEs before and after.
    """
    P, st = results.params, results.state
    rows = []
    for region, target in employment_share.items():
        if region not in P.regions:
            raise MelitzError(f"employment_share: unknown region {region!r}; regions: {P.regions}")
        r = P.regions.index(region)
        for i in np.flatnonzero(P.heterogeneous):
            if P.x_0[r, i].sum() <= 0:
                continue
            fs = FirmSizes(P, r, i)
            th = fs.theta
            u_star = fs.threshold(target)
            n_hat = st.N[r, i]
            scale = st.phi[r, i, fs.routes]
            new_u = fs.u * scale
            foreign = fs.foreign
            ux0 = fs.u[foreign].min() if foreign.any() else np.inf
            ux1 = new_u[foreign].min() if foreign.any() else np.inf
            home1 = float(st.phi[r, i, r])

            def sme(lo, hi):  # mass of the SME class with productivity in [lo, hi), per benchmark active firm
                hi = min(hi, u_star)
                return lo ** -th - hi ** -th if hi > lo else 0.0

            smes0 = sme(1.0, np.inf)
            smes1 = n_hat * sme(home1, np.inf)
            x0, x1 = sme(ux0, np.inf), n_hat * sme(ux1, np.inf)
            rows.append({
                "region": region, "sector": P.sectors[i],
                "start_exporting": n_hat * sme(ux1, ux0) / smes0,
                "stop_exporting": n_hat * sme(ux0, ux1) / smes0,
                "exit": 1.0 - smes1 / smes0,
                "exporter_share_0": x0 / smes0,
                "exporter_share": x1 / smes1,
            })
    return pd.DataFrame(rows).set_index(["region", "sector"])


# ---------------------------------------------------------------------------------------- benchmarks
def value_added_benchmark(bench: Benchmark) -> Benchmark:
    r"""The trade-in-value-added economy of an input-output benchmark: no intermediates, one input.

    Sector ``j`` of region ``r`` sells to region ``s`` the value added of ``(r, j)`` that the final
    demand of ``s`` absorbs, :math:`T_{rjs} = v_{rj} \sum_{k,i} L_{rj,ki}\, y_{kis}` (Leontief
    inverse ``L`` of the basic-price input coefficients, value-added coefficients ``v``, final
    demand ``y`` of all agents at basic prices; Johnson and Noguera 2012). Each row sums to the
    value added of ``(r, j)``; a region's income is the value added its final demand absorbs and its
    transfer the gap to its own value added (its deficit in value added). Value added is split
    between labour and capital in the sector's benchmark shares (capital is the sector's specific
    factor in :func:`calibrate_melitz`); tariffs are dropped (the reduced form has no border at which to levy them). The Melitz-Pareto
    economy on it has no input-output loop (entry does not cheapen inputs): a reduced form of the
    input-output model, not the model itself, which :func:`calibrate_melitz` takes directly.
    """
    R, S = bench.n_regions, bench.n_sectors
    x = bench.output
    n = R * S
    xs = np.where(x > 0, x, 1.0).reshape(n)
    A = bench.z_0.reshape(n, n) / xs[None, :]
    va = bench.fp_0.sum(axis=2)
    v = np.where(x > 0, va / np.where(x > 0, x, 1.0), 0.0).reshape(n)
    y = bench.f_0.sum(axis=3).reshape(n, R)
    Ly = np.linalg.solve(np.eye(n) - A, y)  # output needed for each region's final demand
    T = (v[:, None] * Ly).reshape(R, S, R)
    T = np.where(T > 1e-12 * T.max(), T, 0.0)
    va_T = T.sum(axis=2)
    lab = np.where(va > 0, bench.fp_0[..., bench.factors.index("labour")] / np.where(va > 0, va, 1.0), 1.0) if "labour" in bench.factors else np.ones((R, S))
    meta = {"name": f"{bench.metadata.get('name', 'benchmark')}-value-added", "source": "cge.melitz.value_added_benchmark",
            "parent": bench.metadata.get("name"), "currency": bench.metadata.get("currency", "")}
    return Benchmark.from_arrays(bench.regions, bench.sectors, np.zeros((R, S, R, S)), T[..., None], {"labour": va_T * lab, "capital": va_T * (1.0 - lab)},
                                 agents=["household"], metadata=meta, groups=dict(bench.groups))


# ---------------------------------------------------------------------------------------- firm size
def _pareto_piece(theta, sigma, lo, hi):
    """``(∫ u^(sigma-1) dG, ∫ dG)`` over ``[lo, hi)`` for the Pareto(1, theta) distribution (``hi`` may be inf)."""
    k = sigma - 1.0 - theta
    lo = np.asarray(lo, dtype=float)
    hi = np.maximum(np.asarray(hi, dtype=float), lo)
    with np.errstate(divide="ignore", invalid="ignore"):
        pw = theta / (theta - sigma + 1.0) * (np.power(lo, k) - np.where(np.isinf(hi), 0.0, np.power(hi, k)))
        mass = np.power(lo, -theta) - np.where(np.isinf(hi), 0.0, np.power(hi, -theta))
    return pw, mass


class FirmSizes:
    r"""Firm employment and exports by productivity in one ``(region, sector)`` of a calibrated economy.

    Productivity ``u`` is measured relative to the benchmark home cut-off (Pareto(1, theta) among
    active firms). A firm serving route ``s`` (``u >= u_s``, :math:`u_s = m_s^{-1/\theta}` with
    :math:`m_s` the firms serving ``s`` per active firm) employs, in units of the home fixed cost,
    :math:`f_s [(\sigma - 1)(u/u_s)^{\sigma - 1} + 1]` on it (variable labour and the fixed cost of
    the route; :math:`f_s = 1` at home and :math:`F` abroad) and sells :math:`\sigma f_s (u/u_s)^{\sigma-1}`
    there. Employment rises with ``u``, so "below an employment threshold" is "below a productivity
    ``u*``"; entry costs are sunk and not counted in any active firm's employment.
    """

    def __init__(self, params: MelitzParameters, r: int, i: int):
        P = params
        self.theta, self.sigma = float(P.theta[i]), float(P.sigma[i])
        m = P.served_0[r, i]
        self.routes = np.flatnonzero(m > 0)
        self.u = np.power(m[self.routes], -1.0 / self.theta)
        self.f = np.where(self.routes == r, 1.0, P.export_fixed_cost[r, i])
        self.foreign = self.routes != r

    def employment(self, lo, hi) -> float:
        """Employment of the firms with productivity in ``[lo, hi)``, per benchmark active firm."""
        pw, mass = _pareto_piece(self.theta, self.sigma, np.maximum(lo, self.u), np.full(self.u.shape, hi))
        return float((self.f * ((self.sigma - 1.0) * pw * np.power(self.u, 1.0 - self.sigma) + mass)).sum())

    def exports(self, lo, hi) -> float:
        """Direct exports (basic prices) of the firms with productivity in ``[lo, hi)``, per benchmark active firm."""
        pw, _ = _pareto_piece(self.theta, self.sigma, np.maximum(lo, self.u), np.full(self.u.shape, hi))
        return float((self.foreign * self.f * self.sigma * pw * np.power(self.u, 1.0 - self.sigma)).sum())

    def threshold(self, employment_share: float) -> float:
        """The productivity ``u*`` below which firms hold ``employment_share`` of employment."""
        from scipy.optimize import brentq

        total = self.employment(1.0, np.inf)
        return float(np.exp(brentq(lambda z: self.employment(1.0, np.exp(z)) / total - employment_share, 0.0, 200.0, xtol=1e-14)))


def sme_shares(params: MelitzParameters, employment_share: dict) -> pd.DataFrame:
    r"""SME shares of employment and of direct exports of the heterogeneous-firm sectors, by region.

    ``employment_share``: region -> SME share of employment (0-1), the target. SMEs are the firms
    below an employment threshold (the national definition); the model's unit of firm employment
    (persons per unit of the home fixed cost) is not known, so the threshold is placed, in every
    heterogeneous-firm sector of the region, where firms below it hold the target share of the
    sector's employment (BHR's choice of units applied to firm size). The model's SME share of the
    region's direct exports of those sectors then follows from the productivity distribution and
    is the number to compare with data. Columns: ``employment_share`` (target), ``export_share``
    (model), ``exporter_share`` (exporting firms among SMEs), ``threshold`` (``u*`` averaged over
    sectors, weighted by exports).
    """
    rows = []
    for region, target in employment_share.items():
        if region not in params.regions:
            raise MelitzError(f"employment_share: unknown region {region!r}; regions: {params.regions}")
        if not 0.0 < target < 1.0:
            raise MelitzError(f"employment_share ({region}) = {target!r}; must lie in (0, 1)")
        r = params.regions.index(region)
        exp_sme = exp_all = firms_x = firms_sme = u_w = 0.0
        for i in np.flatnonzero(params.heterogeneous):
            if params.x_0[r, i].sum() <= 0:
                continue
            fs = FirmSizes(params, r, i)
            u_star = fs.threshold(target)
            e_all = fs.exports(1.0, np.inf)
            exp_sme += fs.exports(1.0, u_star)
            exp_all += e_all
            ux = fs.u[fs.foreign].min() if fs.foreign.any() else np.inf
            firms_x += max(0.0, ux ** -fs.theta - u_star ** -fs.theta) if ux < u_star else 0.0
            firms_sme += 1.0 - u_star ** -fs.theta
            u_w += u_star * e_all
        rows.append({"region": region, "employment_share": target, "export_share": exp_sme / exp_all if exp_all else np.nan,
                     "exporter_share": firms_x / firms_sme if firms_sme else np.nan, "threshold": u_w / exp_all if exp_all else np.nan})
    return pd.DataFrame(rows).set_index("region")
