"""Results of a solve: tidy pandas frames with one place for labels and units.

Every method returns values in the benchmark's currency unit (``unit`` column or attribute) unless
it says otherwise; percentage changes are relative to the benchmark.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .benchmark import WORLD, Benchmark


class Results:
    """The equilibrium of one scenario, with the benchmark it departs from."""

    def __init__(self, model, scenario, solution, log=None, path=None):
        self.model = model
        self.scenario = scenario
        self.solution = solution
        self.log = list(log or [])
        self.path = path
        """Solutions from the benchmark to this one (``Model.solve(..., decompose=...)``), or None."""
        self._gvc_tables: dict = {}

    # ------------------------------------------------------------------ helpers
    @property
    def params(self):
        return self.model.params

    @property
    def bench(self) -> Benchmark:
        return self.model.bench

    @property
    def unit(self) -> str:
        return str(self.bench.metadata.get("unit", self.bench.metadata.get("currency", "benchmark currency units")))

    def _regions(self) -> pd.Index:
        return pd.Index(self.params.regions, name="region")

    def _pair_index(self, first="region", second="sector") -> pd.MultiIndex:
        return pd.MultiIndex.from_product([self.params.regions, self.params.sectors], names=[first, second])

    def metadata(self) -> dict:
        """Package version, benchmark hash, closure, options and solver statistics."""
        from . import __version__

        st = dict(self.solution.stats)
        splits = {key: {k: v for k, v in self.bench.metadata[key].items() if k != "sector_of"}
                  for key in ("stages", "processing") if isinstance(self.bench.metadata.get(key), dict)}
        return {
            "package": "cge",
            "version": __version__,
            "benchmark": self.bench.metadata.get("name", ""),
            "benchmark_hash": self.bench.hash(),
            "scenario": self.scenario.name,
            "closure": self.model.closure.describe(),
            "sourcing": self.model.sourcing,
            "backend": self.model.backend,
            "backend_requested": self.model.requested_backend,
            "instruments_changed": self.solution.instruments.changed(type(self.solution.instruments).benchmark(self.bench)),
            "decomposition_steps": None if self.path is None else len(self.path) - 1,
            "elasticities": {k: v.tolist() for k, v in self.params.sigma.items()},
            **({"size_nest": True} if self.params.size_nest else {}),
            "max_residual": self.solution.max_residual,
            "walras_residual": self.solution.walras_residual,
            "solver": {k: v for k, v in st.items() if isinstance(v, (int, float, str))},
            "log": self.log,
        } | ({"benchmark_splits": splits} if splits else {})  # the options of a stage or processing split

    # ------------------------------------------------------------------ welfare
    def welfare(self, decompose: bool | None = None) -> pd.DataFrame:
        """Welfare by region: equivalent variation and its decomposition.

        ``ev = I0 * (U1 / U0 - 1)`` in benchmark currency units, ``ev_pct = 100 * ev / I0`` with
        ``I0`` benchmark income (CONVENTIONS.md). The columns of :meth:`welfare_decomposition` are
        added when the solve stored the path it needs (``decompose=None``, the default), or always
        (``decompose=True``: an error if the solve did not store it). A final row ``World`` sums the
        regions.
        """
        sol, par = self.solution, self.params
        ev = par.income_0 * (sol.utility - 1.0)
        df = pd.DataFrame(
            {
                "income_0": par.income_0,
                "income": sol.income,
                "utility_index": sol.utility,
                "ev": ev,
                "ev_pct": 100.0 * ev / par.income_0,
            },
            index=self._regions(),
        )
        if decompose or (decompose is None and self.path is not None):
            df = df.join(self.welfare_decomposition().drop(columns=["ev"]))
        world = df.sum(numeric_only=True)
        world["utility_index"] = np.nan
        world["ev_pct"] = 100.0 * world["ev"] / world["income_0"]
        df.loc[WORLD] = world
        return df

    def welfare_decomposition(self) -> pd.DataFrame:
        r"""Decomposition of EV into terms of trade, tariff and output-tax efficiency, trade costs, employment.

        Following Huff and Hertel (2000, *Decomposing Welfare Changes in the GTAP Model*, GTAP
        Technical Paper 5), the change in utility of region ``s`` in money terms is

        .. math::
            dEV_s = \frac{1}{P^u_s}\Big[\underbrace{\sum_{r \ne s, i, b} t_b\, p_r \tau\, dz_{rsb}}_{\text{tariff efficiency}}
            + \underbrace{\sum_j t^o_{sj} c_{sj} X^0_{sj}\, dY_{sj}}_{\text{output tax efficiency}}
            + \underbrace{\sum_{i, s' \ne s, b} \tau z_{s s' b}\, dp_{si} - \sum_{r \ne s, i, b} \tau z_{r s b}\, dp_{ri}}_{\text{terms of trade}}
            - \underbrace{\sum_{r, i, b} p_{ri} z_{risb}\, d\tau}_{\text{trade costs}}
            + \underbrace{\sum_{j, f} w\, dFD_{sjf}}_{\text{employment}} + \underbrace{d B_s}_{\text{transfer}}\Big]

        where :math:`t_b` is the tariff buyer ``b`` pays (a sector's duty exemption ``e`` waives the share
        ``e`` of it: :math:`t_b = t (1 - e_{sb})`, so imports into exempted processing activities carry
        no tariff wedge and add nothing to this term), :math:`P^u_s` is the utility price index and :math:`B_s` the net transfer received
        from abroad (the ``transfer`` instrument times the closure's transfer index: the numeraire,
        or world income; zero for balanced trade). Under fixed wage premia
        (``Closure(labour_market="premia")``) the labour part of the employment term is split: workers
        moving between sectors whose benchmark pay per person differs from the region's average,
        :math:`\sum_j w_s (\pi_{sj} - \bar\pi_s)\, dL_{sj}` (persons :math:`L`, pay per person
        :math:`\pi`), is ``labour_reallocation``; it is zero under the other labour markets. Each term
        is integrated by the trapezoid rule along the path the solve stored (``Model.solve(scenario, decompose=steps)``: the
        equilibria at ``steps`` evenly spaced points of the shock); ``residual`` is ``ev`` minus the
        sum of the terms (it shrinks with the square of the step).
        """
        if self.path is None:
            raise ValueError(
                f"results of {self.scenario.name!r} hold no path for the decomposition: "
                "solve with model.solve(scenario, decompose=True) (or a number of steps)"
            )
        path = self.path
        par = self.params
        R = par.n_regions
        use = par.use_of_buyer
        off = ~np.eye(R, dtype=bool)
        names = ("terms_of_trade", "tariff_efficiency", "output_tax_efficiency", "trade_costs", "employment", "labour_reallocation", "transfer")
        premia = self.model.closure.labour_market == "premia" and par.employment_0 is not None and "labour" in par.factors
        if premia:  # value per person of each sector's labour relative to the region's average
            lab = par.factors.index("labour")
            fd0, e0 = par.fp_0[..., lab], par.employment_0
            per_person = np.divide(fd0, e0, out=np.zeros_like(fd0), where=(e0 > 0) & (fd0 > 0))
            average = np.divide(fd0.sum(axis=1), e0.sum(axis=1, where=fd0 > 0), out=np.zeros(R), where=fd0.sum(axis=1) > 0)
            premium = np.where(per_person > 0, per_person - average[:, None], 0.0)
        terms = {k: np.zeros(R) for k in names}

        def pu(sol):
            return np.exp((par.alpha * np.log(sol.pfd)).sum(axis=1))

        for a, b in zip(path[:-1], path[1:]):
            inv_a, inv_b = 1.0 / pu(a), 1.0 / pu(b)

            def avg(fa, fb):
                return 0.5 * (fa * inv_a[None, None, :, None] + fb * inv_b[None, None, :, None])

            t_a, t_b = a.instruments.buyer_tariff(use), b.instruments.buyer_tariff(use)  # net of duty exemptions
            tau_a, tau_b = a.tau[..., use], b.tau[..., use]
            cif_a, cif_b = a.p[:, :, None, None] * tau_a, b.p[:, :, None, None] * tau_b
            dz = b.z - a.z
            eff = avg(t_a * cif_a, t_b * cif_b) * dz * off[:, None, :, None]
            terms["tariff_efficiency"] += eff.sum(axis=(0, 1, 3))
            tax_a = a.output_tax * a.unit_cost * par.x_0 * inv_a[:, None]
            tax_b = b.output_tax * b.unit_cost * par.x_0 * inv_b[:, None]
            terms["output_tax_efficiency"] += (0.5 * (tax_a + tax_b) * (b.y - a.y)).sum(axis=1)
            dp = (b.p - a.p)[:, :, None, None]
            shipped = avg(tau_a * a.z, tau_b * b.z) * off[:, None, :, None] * dp  # [r, i, s, b]
            terms["terms_of_trade"] -= shipped.sum(axis=(0, 1, 3))  # imports of s at the importer's deflator
            # exports of s: flows with exporter s, valued with the exporter's (s) deflator
            exp_a = (tau_a * a.z * off[:, None, :, None]).sum(axis=(2, 3)) * inv_a[:, None]
            exp_b = (tau_b * b.z * off[:, None, :, None]).sum(axis=(2, 3)) * inv_b[:, None]
            terms["terms_of_trade"] += (0.5 * (exp_a + exp_b) * (b.p - a.p)).sum(axis=1)
            cost = avg(a.p[:, :, None, None] * a.z, b.p[:, :, None, None] * b.z) * (tau_b - tau_a)
            terms["trade_costs"] -= cost.sum(axis=(0, 1, 3))
            wa = (a.w * inv_a[:, None, None])
            wb = (b.w * inv_b[:, None, None])
            terms["employment"] += (0.5 * (wa + wb) * (b.factor_demand - a.factor_demand)).sum(axis=(1, 2))
            if premia:  # workers moving to sectors with higher benchmark pay per person: its own term
                persons = np.divide(e0 * (b.factor_demand[..., lab] - a.factor_demand[..., lab]), fd0, out=np.zeros_like(fd0), where=fd0 > 0)
                moved = (0.5 * (wa[..., lab] + wb[..., lab]) * premium * persons).sum(axis=1)
                terms["labour_reallocation"] += moved
                terms["employment"] -= moved
            terms["transfer"] += 0.5 * (inv_a + inv_b) * (self._transfer(b) - self._transfer(a))

        df = pd.DataFrame(terms, index=self._regions())
        df["sum_of_terms"] = df.sum(axis=1)
        df["ev"] = par.income_0 * (self.solution.utility - 1.0)
        df["residual"] = df["ev"] - df["sum_of_terms"]
        df.attrs["steps"] = len(path) - 1
        df.attrs["method"] = "Huff and Hertel (2000), integrated along the shock path by the trapezoid rule"
        return df

    # ------------------------------------------------------------------ quantities and prices
    def prices(self) -> pd.DataFrame:
        """Producer prices by (region, sector) and factor prices (wage, rental) by region."""
        sol = self.solution
        df = pd.DataFrame({"price": sol.p.reshape(-1)}, index=self._pair_index())
        return df

    def factor_prices(self) -> pd.DataFrame:
        """Average price of each factor in each region (payments-weighted over sectors)."""
        sol, par = self.solution, self.params
        weights = par.fp_0
        avg = np.divide((sol.w * weights).sum(axis=1), weights.sum(axis=1), out=np.ones(weights.shape[::2]), where=weights.sum(axis=1) > 0)
        return pd.DataFrame(avg, index=self._regions(), columns=pd.Index(par.factors, name="factor"))

    def output(self) -> pd.DataFrame:
        """Output by (region, sector): benchmark value, quantity index, value, % change in quantity."""
        sol, par = self.solution, self.params
        q = sol.y * par.x_0
        return pd.DataFrame(
            {
                "output_0": par.x_0.reshape(-1),
                "output": q.reshape(-1),
                "value": (q * sol.p).reshape(-1),
                "pct_change": 100.0 * (sol.y.reshape(-1) - 1.0) * (par.x_0.reshape(-1) > 0),
            },
            index=self._pair_index(),
        )

    def employment(self) -> pd.DataFrame:
        """Persons employed by (region, sector), with wages.

        Persons = benchmark persons x (labour demand / benchmark labour demand), the same rule under
        every labour market (CONVENTIONS.md): in one market per region (efficiency units) or under a
        CET the sector's labour demand moves its persons in proportion; under fixed premia persons
        clear. ``wage`` is the price of the sector's labour relative to the benchmark (one value per
        region unless labour markets are sector-specific), ``real_wage`` the wage deflated by the
        household consumer price index. Regions whose benchmark persons come from a proxy are
        flagged in column ``proxy``.
        """
        par, sol = self.params, self.solution
        if par.employment_0 is None or "labour" not in par.factors:
            raise ValueError("the benchmark has no employment data (persons) or no 'labour' factor")
        f = par.factors.index("labour")
        paid = par.fp_0[..., f] > 0
        ratio = np.divide(sol.factor_demand[..., f], par.fp_0[..., f], out=np.ones_like(par.x_0), where=paid)
        persons = par.employment_0 * ratio
        wage = np.where(paid, sol.w[..., f], np.nan)
        cpi = sol.pfd[:, par.household]
        proxy = np.isin(np.repeat(par.regions, par.n_sectors), self.bench.employment_proxy)
        return pd.DataFrame(
            {
                "persons_0": par.employment_0.reshape(-1),
                "persons": persons.reshape(-1),
                "change": (persons - par.employment_0).reshape(-1),
                "pct_change": 100.0 * (ratio.reshape(-1) - 1.0),
                "wage": wage.reshape(-1),
                "real_wage": (wage / cpi[:, None]).reshape(-1),
                "proxy": proxy,
            },
            index=self._pair_index(),
        )

    def employment_by_region(self) -> pd.DataFrame:
        """Persons employed by region, and the gross number of jobs that moved between sectors.

        ``jobs_moved`` = (sum of absolute changes by sector - absolute change of the total) / 2:
        the workers who left one sector for another. ``wage`` and ``real_wage`` are averages over
        sectors weighted by benchmark wage bills.
        """
        e = self.employment()
        g = e.groupby(level="region", sort=False)[["persons_0", "persons", "change"]].sum()
        g["pct_change"] = 100.0 * g["change"] / g["persons_0"]
        moved = e["change"].abs().groupby(level="region", sort=False).sum()
        g["jobs_moved"] = 0.5 * (moved - g["change"].abs())
        par = self.params
        bill = pd.Series(par.fp_0[..., par.factors.index("labour")].reshape(-1), index=e.index)
        for col in ("wage", "real_wage"):
            g[col] = (e[col].fillna(0.0) * bill).groupby(level="region", sort=False).sum() / bill.groupby(level="region", sort=False).sum()
        g["proxy"] = e.groupby(level="region", sort=False)["proxy"].any()
        return g

    def real_gdp(self) -> pd.DataFrame:
        """Nominal and real GDP by region.

        Nominal GDP = factor income + tariff and output-tax revenue. Real GDP (expenditure side at benchmark
        prices) = final demand at benchmark buyer prices + exports (quantity shipped) - imports
        (quantity delivered).
        """
        par, sol = self.params, self.solution
        R, S = par.n_regions, par.n_sectors
        off = ~np.eye(R, dtype=bool)
        use = par.use_of_buyer
        tau = sol.tau[..., use]
        final = (sol.z[..., S:] * (1.0 + par.tariff_0[..., S:])).sum(axis=(0, 1, 3))
        exports = (tau * sol.z * off[:, None, :, None]).sum(axis=(1, 2, 3))
        imports = (sol.z * off[:, None, :, None]).sum(axis=(0, 1, 3))
        real = final + exports - imports
        base_exports = (par.d_0 * off[:, None, :, None]).sum(axis=(1, 2, 3))
        base_imports = (par.d_0 * off[:, None, :, None]).sum(axis=(0, 1, 3))
        base = par.income_0 + base_exports - base_imports
        nominal = (sol.w * sol.factor_demand).sum(axis=(1, 2)) + self._tariff_revenue() + self._output_tax_revenue()
        return pd.DataFrame(
            {"gdp_0": base, "real_gdp": real, "real_gdp_pct": 100.0 * (real / base - 1.0), "nominal_gdp": nominal},
            index=self._regions(),
        )

    def _tariff_revenue(self) -> np.ndarray:
        par, sol = self.params, self.solution
        use = par.use_of_buyer
        cif = sol.p[:, :, None, None] * sol.tau[..., use]
        return (sol.instruments.buyer_tariff(use) * cif * sol.z).sum(axis=(0, 1, 3))

    def _output_tax_revenue(self) -> np.ndarray:
        sol = self.solution
        return (sol.output_tax * sol.unit_cost * sol.y * self.params.x_0).sum(axis=1)

    def trade(self) -> pd.DataFrame:
        """Bilateral trade by sector (exporter, commodity, importer), r != s.

        ``value_0`` and ``value`` at basic (f.o.b.) prices: producer price x quantity shipped;
        ``quantity`` delivered in benchmark units; ``pct_change`` of the quantity delivered.
        """
        par, sol = self.params, self.solution
        use = par.use_of_buyer
        q0 = par.d_0.sum(axis=3)
        q = sol.z.sum(axis=3)
        value = (sol.p[:, :, None, None] * sol.tau[..., use] * sol.z).sum(axis=3)
        idx = pd.MultiIndex.from_product([par.regions, par.sectors, par.regions], names=["exporter", "commodity", "importer"])
        df = pd.DataFrame(
            {
                "value_0": q0.reshape(-1),
                "value": value.reshape(-1),
                "quantity": q.reshape(-1),
                "pct_change": 100.0 * np.divide(q - q0, q0, out=np.zeros_like(q), where=q0 > 0).reshape(-1),
            },
            index=idx,
        )
        keep = (df.index.get_level_values("exporter") != df.index.get_level_values("importer")) & (df["value_0"] + df["value"] > 0)
        return df[keep]

    def _transfer(self, sol) -> np.ndarray:
        """Net transfer from abroad received in equilibrium ``sol`` (currency): the instrument times the
        closure's transfer index (the numeraire, or world income relative to the benchmark)."""
        index = self.model.closure.transfer_index(sol.numeraire_value, sol.income, self.params.income_0)
        return sol.instruments.transfer * index

    def trade_balance(self) -> pd.DataFrame:
        """Exports, imports (at producer prices x quantity shipped) and the net transfer by region."""
        par, sol = self.params, self.solution
        R = par.n_regions
        off = ~np.eye(R, dtype=bool)
        use = par.use_of_buyer
        value = sol.p[:, :, None, None] * sol.tau[..., use] * sol.z * off[:, None, :, None]
        exports = value.sum(axis=(1, 2, 3))
        imports = value.sum(axis=(0, 1, 3))
        return pd.DataFrame(
            {
                "exports": exports,
                "imports": imports,
                "balance": exports - imports,
                "transfer": self._transfer(sol),
            },
            index=self._regions(),
        )

    # ------------------------------------------------------------------ the counterfactual table
    def mrio(self) -> Benchmark:
        """The counterfactual MRIO in the benchmark's layout, values at basic prices.

        Intermediate and final deliveries are valued at the exporter's producer price times the
        quantity shipped (``p * tau * z``), factor payments at factor prices, with the scenario's
        tariffs; the table balances like the benchmark (up to the solve tolerance).
        """
        par, sol, b = self.params, self.solution, self.bench
        S = par.n_sectors
        use = par.use_of_buyer
        value = sol.p[:, :, None, None] * sol.tau[..., use] * sol.z
        meta = dict(b.metadata)
        meta["name"] = f"{b.metadata.get('name', 'benchmark')} / {self.scenario.name}"
        meta["note"] = "counterfactual table written by cge.Results.mrio (values at basic prices)"
        factors, payments = list(b.factors), sol.w * sol.factor_demand
        if np.any(sol.output_tax != 0):  # output sold at p = (1 + t^o) c: the tax is part of value added
            factors.append("output_tax")
            meta["net_tax_factors"] = ["output_tax"]
            tax = sol.output_tax * sol.unit_cost * sol.y * par.x_0
            payments = np.concatenate([payments, tax[..., None]], axis=2)
        return Benchmark(
            regions=list(b.regions),
            sectors=list(b.sectors),
            factors=factors,
            agents=list(b.agents),
            z_0=value[..., :S].copy(),
            f_0=value[..., S:].copy(),
            fp_0=payments,
            tariff_0=sol.tariff.copy(),
            duty_exemption_0=np.array(sol.instruments.duty_exemption),
            employment=None if par.employment_0 is None else self.employment()["persons"].to_numpy().reshape(par.x_0.shape),
            elasticities={k: v.copy() for k, v in b.elasticities.items()},
            groups={k: list(v) for k, v in b.groups.items()},
            metadata=meta,
            employment_proxy=list(b.employment_proxy),
            balance_tolerance=1e-6,
        )

    # ------------------------------------------------------------------ firm size
    def by_firm_size(self) -> pd.DataFrame:
        """Output, value added, employment and exports of value added by region x sector x size, benchmark and counterfactual.

        On a benchmark split by firm size (:func:`cge.firms.split_firm_size`): :func:`cge.firms.by_firm_size`
        of the benchmark and of the counterfactual table (:meth:`mrio`, values at basic prices), as a
        tidy frame with one row per (region, sector, size, variable) and columns ``benchmark``,
        ``counterfactual``, ``change`` and ``pct_change``. Variables: ``output``, ``value_added``,
        ``employment`` (persons), ``exports`` (direct gross exports), ``va_exports_direct`` (value
        added in the row's own exports), ``va_exports_indirect`` (in other domestic producers'
        exports), ``va_exports`` (their sum) and ``va_exports_share`` (the row's share of the
        domestic value added in exports of its economy's split sectors, as in
        :func:`cge.firms.sme_shares`: summed over SME rows, the SME share; NaN for unsplit sectors).
        """
        from .firms import firm_size_changes

        wide = firm_size_changes(self.bench, self.mrio())
        wide = wide.rename(columns={"before": "benchmark", "after": "counterfactual", "pct": "pct_change"}, level="table")
        split = wide.index.get_level_values("size") != "all"
        for table in ("benchmark", "counterfactual"):
            va = wide[("va_exports", table)].where(split)
            wide[("va_exports_share", table)] = va / va.groupby(level="region", sort=False).transform("sum")
        share = wide["va_exports_share"]
        wide[("va_exports_share", "change")] = share["counterfactual"] - share["benchmark"]
        wide[("va_exports_share", "pct_change")] = 100.0 * wide[("va_exports_share", "change")] / share["benchmark"].where(share["benchmark"] != 0)
        out = wide.stack(level="variable", future_stack=True)[["benchmark", "counterfactual", "change", "pct_change"]]
        out.columns.name = None
        return out.reset_index().assign(scenario=self.scenario.name)[
            ["scenario", "region", "sector", "size", "variable", "benchmark", "counterfactual", "change", "pct_change"]
        ]

    def sme_shares(self) -> pd.DataFrame:
        """By region: SME shares of output, value added, employment, gross exports and domestic value added in
        exports (:func:`cge.firms.sme_shares`), benchmark and counterfactual side by side (columns ``(share, table)``)."""
        from .firms import sme_shares

        return pd.concat({"benchmark": sme_shares(self.bench), "counterfactual": sme_shares(self.mrio())}, axis=1, names=["table", "share"]).swaplevel(axis=1).sort_index(axis=1, level=0, sort_remaining=False)

    # ------------------------------------------------------------------ value chains
    def gvc(self, groups: dict | None = None) -> pd.DataFrame:
        """Headline GVC indicators of the benchmark and the counterfactual table, side by side.

        Long frame ``indicator, region, unit, benchmark, scenario, change`` from
        :func:`cge.gvc.summary` on :meth:`Benchmark.to_mrio` and on :meth:`mrio`; ``change`` is in
        percentage points for shares and in % for values. ``groups`` defaults to the benchmark's
        region groups of more than one region (each is also reported as one economy, with its
        intra-group trade share).
        """

        groups = self.bench.groups if groups is None else groups
        # a group of one region, or named like a region, would repeat that region's rows
        groups = {g: list(m) for g, m in groups.items() if len(m) > 1 and g not in self.params.regions}
        key = tuple(sorted((k, tuple(v)) for k, v in groups.items()))
        done = self._gvc_tables  # results never change: compute each table once
        if key not in done:
            done[key] = self._gvc(groups, key)
        return done[key].copy()

    def _gvc(self, groups: dict, key: tuple) -> pd.DataFrame:
        cache = self.model.benchmark_gvc
        if key not in cache:
            cache[key] = _gvc_summary(self.bench, groups, self.unit)
        before = cache[key]
        after = _gvc_summary(self.mrio(), groups, self.unit)
        df = before.merge(after, on=["indicator", "region", "unit"], suffixes=("_benchmark", "_scenario"))
        df = df.rename(columns={"value_benchmark": "benchmark", "value_scenario": "scenario"})
        share = df["unit"] == "share"
        df["change"] = np.where(
            share,
            100.0 * (df["scenario"] - df["benchmark"]),
            100.0 * np.divide(df["scenario"] - df["benchmark"], df["benchmark"], out=np.zeros(len(df)), where=df["benchmark"].to_numpy() != 0),
        )
        df["change_unit"] = np.where(share, "pp", "%")
        return df

    # ------------------------------------------------------------------ tidy export
    TIDY_COLUMNS = ("scenario", "variable", "region", "sector", "partner", "value", "unit")
    """Columns of :meth:`tidy`, in order."""

    def tidy(self, gvc: bool = False, variables=None) -> pd.DataFrame:
        """Every reported variable in one long frame, without solving anything.

        Columns :attr:`TIDY_COLUMNS` (``scenario, variable, region, sector, partner, value, unit``);
        ``sector`` and ``partner`` are empty where a variable is not by sector or by partner.

        - welfare: ``welfare_ev`` (currency units), ``welfare_ev_pct`` (% of income) by region and
          World and, when the solve stored a path, every term of its decomposition
          (``welfare_terms_of_trade``, ..., ``welfare_residual``);
        - by region and sector: ``output_pct``, ``price``, and where the benchmark has persons
          ``employment`` (persons), ``employment_pct``, ``wage`` and ``real_wage`` (indices);
        - by region: ``factor_price_<factor>``, ``real_gdp_pct``, ``tariff_revenue`` (collected by
          the importing region) and ``output_tax_revenue``;
        - by route and commodity, ``region`` the exporter and ``partner`` the importer:
          ``exports_value`` (f.o.b.) and ``exports_pct`` (quantity); ``tariff_revenue_route``
          (tariff paid on the route; summed over exporters and commodities it is the importer's
          ``tariff_revenue``); ``va_exports_value`` and ``va_exports_pct``: value added of the
          exporter's sector absorbed in the importer's final demand (Johnson and Noguera 2012;
          :func:`cge.gvc.leontief` with ``post="final_demand"`` on :meth:`mrio` and on the
          benchmark's :meth:`~cge.Benchmark.to_mrio`), with ``sector`` the sector of origin;
        - with ``gvc``, the headline GVC indicators of :meth:`gvc` by region (and region group), named
          as there: ``<indicator>`` (scenario, e.g. ``gvc_participation_backward_wwyz``),
          ``<indicator>_benchmark`` and ``<indicator>_change`` (pp for shares, % otherwise).
        """
        keep = None if variables is None else set(variables)

        def want(*names) -> bool:
            return keep is None or any(v == n or (n.endswith("_") and v.startswith(n)) for v in keep for n in names)

        unit = self.unit
        frames = []
        if want("welfare_"):
            w = self.welfare()
            cols = [("ev", unit), ("ev_pct", "% of income")]
            cols += [(c, unit) for c in w.columns if c not in ("income_0", "income", "utility_index", "ev", "ev_pct")]
            for col, u in cols:
                name = f"welfare_{col}"
                frames.append(_frame(name, w.index, "", "", w[col], u))
        if want("output_pct"):
            frames.append(_long(self.output()["pct_change"], "output_pct", "%"))
        if want("price"):
            frames.append(_long(self.prices()["price"], "price", "index"))
        if want("factor_price_"):
            fp = self.factor_prices()
            for f in fp.columns:
                frames.append(_frame(f"factor_price_{f}", fp.index, "", "", fp[f], "index"))
        if self.params.employment_0 is not None and "labour" in self.params.factors and want("employment", "employment_pct"):
            e = self.employment()
            frames.append(_long(e["persons"], "employment", "persons"))
            frames.append(_long(e["pct_change"], "employment_pct", "%"))
            frames.append(_long(e["wage"], "wage", "index"))
            frames.append(_long(e["real_wage"], "real_wage", "index"))
        if want("real_gdp_pct", "tariff_revenue", "output_tax_revenue"):
            g = self.real_gdp()
            frames.append(_frame("real_gdp_pct", g.index, "", "", g["real_gdp_pct"], "%"))
            frames.append(_frame("tariff_revenue", g.index, "", "", self._tariff_revenue(), unit))
            frames.append(_frame("output_tax_revenue", g.index, "", "", self._output_tax_revenue(), unit))
        if want("exports_value", "exports_pct"):
            tr = self.trade()
            ex, com, im = (tr.index.get_level_values(k) for k in ("exporter", "commodity", "importer"))
            frames.append(_frame("exports_value", ex, com, im, tr["value"], unit))
            frames.append(_frame("exports_pct", ex, com, im, tr["pct_change"], "%"))
        if want("tariff_revenue_route"):
            frames.append(_route_frame("tariff_revenue_route", self._tariff_revenue_by_route(), self.params, unit))
        if want("va_exports_value", "va_exports_pct"):
            va0, va1 = (_va_exports(t) for t in (self.bench, self.mrio()))
            va = pd.DataFrame({"value": va1.stack(), "value_0": va0.stack()})
            va = va[va.index.get_level_values("origin") != va.index.get_level_values("importer")]
            va = va[(va["value"] != 0) | (va["value_0"] != 0)]
            at = [va.index.get_level_values(k) for k in ("origin", "origin_sector", "importer")]
            frames.append(_frame("va_exports_value", *at, va["value"], unit))
            pct = 100.0 * np.divide(va["value"] - va["value_0"], va["value_0"], out=np.zeros(len(va)), where=va["value_0"].to_numpy() != 0)
            frames.append(_frame("va_exports_pct", *at, pct, "%"))
        if gvc:
            gv = self.gvc()
            for col in ("benchmark", "scenario", "change"):
                units = gv["unit"] if col != "change" else gv["change_unit"]
                frames.append(pd.DataFrame({"variable": gv["indicator"] + ("" if col == "scenario" else f"_{col}"),
                                            "region": gv["region"], "sector": "", "partner": "", "value": gv[col], "unit": units}))
        df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["variable", "region", "sector", "partner", "value", "unit"])
        if keep is not None:
            df = df[df["variable"].isin(keep)].reset_index(drop=True)
        df.insert(0, "scenario", self.scenario.name)
        return df

    def _tariff_revenue_by_route(self) -> np.ndarray:
        """Tariff paid on each route and commodity, [exporter, commodity, importer] (both uses)."""
        par, sol = self.params, self.solution
        use = par.use_of_buyer
        cif = sol.p[:, :, None, None] * sol.tau[..., use]
        return (sol.instruments.buyer_tariff(use) * cif * sol.z).sum(axis=3)

    def to_pymrio(self):
        """The counterfactual table (:meth:`mrio`) as a ``pymrio.IOSystem``.

        ``Z`` (region-sector x region-sector) and ``Y`` (region-sector x (region, agent)) at basic
        prices, ``x`` gross output (the row sums of Z and Y), and an extension ``factor_inputs``
        whose ``F`` holds the factor payments (and any output tax) of each region-sector; the
        benchmark's currency as unit. ``Y`` summed over agents and ``x`` are those of
        ``mrio().to_mrio()``. Call ``calc_all()`` for coefficients and multipliers.
        """
        import pymrio

        table = self.mrio()
        R, S = table.n_regions, table.n_sectors
        rows = pd.MultiIndex.from_product([table.regions, table.sectors], names=["region", "sector"])
        fd = pd.MultiIndex.from_product([table.regions, table.agents], names=["region", "category"])
        Z = pd.DataFrame(table.z_0.reshape(R * S, R * S), index=rows, columns=rows)
        Y = pd.DataFrame(table.f_0.reshape(R * S, R * len(table.agents)), index=rows, columns=fd)
        x = pd.DataFrame({"indout": Z.sum(axis=1) + Y.sum(axis=1)})
        payments = pd.DataFrame(table.fp_0.reshape(R * S, -1).T, index=pd.Index(table.factors, name="stressor"), columns=rows)
        unit = pd.DataFrame({"unit": self.unit}, index=rows)
        factor_inputs = {"name": "factor_inputs", "F": payments, "unit": pd.DataFrame({"unit": self.unit}, index=payments.index)}
        return pymrio.IOSystem(Z=Z, Y=Y, x=x, unit=unit, factor_inputs=factor_inputs, name=str(table.metadata.get("name", self.scenario.name)))

    def __repr__(self) -> str:
        return f"Results({self.scenario.name!r}, max residual {self.solution.max_residual:.2e})"


def _gvc_summary(bench: Benchmark, groups: dict, unit: str) -> pd.DataFrame:
    from .gvc import summary

    return summary(bench.to_mrio(), groups=groups, value_unit=unit)


def _frame(variable: str, region, sector, partner, values, unit) -> pd.DataFrame:
    return pd.DataFrame(
        {"variable": variable, "region": region, "sector": sector, "partner": partner, "value": np.asarray(values, dtype=float), "unit": unit}
    )


def _long(series: pd.Series, variable: str, unit: str) -> pd.DataFrame:
    return _frame(variable, series.index.get_level_values(0), series.index.get_level_values(1), "", series.to_numpy(), unit)


def _route_frame(variable: str, values: np.ndarray, par, unit: str) -> pd.DataFrame:
    """Rows of an [exporter, commodity, importer] array for international routes with a non-zero value."""
    R, S = par.n_regions, par.n_sectors
    r, i, s = np.meshgrid(np.arange(R), np.arange(S), np.arange(R), indexing="ij")
    keep = ((r != s) & (values != 0)).reshape(-1)
    regions, sectors = np.asarray(par.regions, dtype=object), np.asarray(par.sectors, dtype=object)
    return _frame(variable, regions[r.reshape(-1)[keep]], sectors[i.reshape(-1)[keep]], regions[s.reshape(-1)[keep]], values.reshape(-1)[keep], unit)


def _va_exports(bench: Benchmark) -> pd.DataFrame:
    """Value added of each origin region-sector absorbed in each region's final demand (Johnson and
    Noguera 2012), rows ``(origin, origin_sector)``, columns ``importer``."""
    from .gvc import leontief

    return leontief(bench.to_mrio(), post="final_demand")
