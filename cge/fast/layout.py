"""The structure of a calibrated model as dense arrays: masks, benchmark shares and the reduced unknowns.

Arrays follow two layouts so that they broadcast against each other without copies:

* flows ``[r, i, s, b]`` (exporter, commodity, importer, buyer), as ``Parameters.d_0``;
* composites ``[i, s, b]`` (commodity, importer, buyer): the last three axes of a flow, so a
  composite array ``X`` meets flows as ``X[None]``. ``Parameters`` stores composites as
  ``[s, b, i]``; :func:`to_sbi` converts back.

Buyers ``b`` are the sectors followed by the final-demand agents. Every buyer has a price index
``PB[s, b]`` over its Armington composites: the intermediate price ``PINT`` for a sector (CES
``sigma_int[j]``) and the final-demand price ``PFD`` for an agent (CES ``sigma_fd``); and a quantity
index ``QB[s, b]``: the intermediate composite ``Y (c / PINT)^sigma_top`` of a sector and the agent
quantity ``INC / PFD`` of an agent. The reference model writes the two cases as separate equations
(``input_demand``, ``final_demand``); they share one form here.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from ..closure import ClosureError, cet_markets, factor_market_of, factor_weights, labour_regions, position


def to_sbi(composite: np.ndarray) -> np.ndarray:
    """A composite array ``[i, s, b]`` in the ``Parameters`` order ``[s, b, i]``."""
    return composite.transpose(1, 2, 0)


def _ratio(num, den, mask):
    return np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=mask)


class Layout:
    """Masks, shares and index maps of one calibrated model under one closure (no Pyomo)."""

    def __init__(self, params, closure):
        P = params
        self.params, self.closure = P, closure
        R, S, F, A = P.n_regions, P.n_sectors, len(P.factors), len(P.agents)
        B = S + A
        self.R, self.S, self.F, self.A, self.B = R, S, F, A, B
        self.common = P.sourcing.shared_import_mix
        self.use = P.use_of_buyer
        # buyers of each use (a slice of the buyer axis: sectors, then agents) and the benchmark
        # tariff of each use: per-use arrays [r, i, s, use] meet flows through these
        n_use = int(self.use.max()) + 1
        self.use_groups = []
        for u in range(n_use):
            idx = np.flatnonzero(self.use == u)
            if len(idx):
                assert idx[-1] - idx[0] + 1 == len(idx), "the buyers of one use are adjacent"
                self.use_groups.append((u, slice(int(idx[0]), int(idx[-1]) + 1)))
        first = [int(np.flatnonzero(self.use == u)[0]) if (self.use == u).any() else 0 for u in range(n_use)]
        # by use before duty exemptions (FlowInstruments adds a price class per exempted sector)
        self.tariff_0_u = np.ascontiguousarray(P.tariff_0[..., first] if P.tariff_use_0 is None else P.tariff_use_0[..., :n_use])
        self.exemption_0 = np.zeros((R, S)) if P.duty_exemption_0 is None else np.asarray(P.duty_exemption_0, dtype=float)
        self.offdiag = ~np.eye(R, dtype=bool)
        off4 = self.offdiag[:, None, :, None]

        # ------------------------------------------------------------ producers and unit costs
        self.prod = P.x_0 > 0
        self.prod_idx = np.flatnonzero(self.prod.ravel())
        self.N = len(self.prod_idx)
        self.x_0 = np.where(self.prod, P.x_0, 1.0)
        flat_x = np.where(self.prod, P.x_0, -np.inf).ravel()
        self.walras = divmod(int(np.argmax(flat_x)), S)  # first largest, as max() over PRODUCERS
        self.walras_pos = int(np.searchsorted(self.prod_idx, self.walras[0] * S + self.walras[1]))
        cost_0 = P.va_0 + P.int_0
        self.has_va = self.prod & (P.va_0 > 0)
        self.has_int = self.prod & (P.int_0 > 0)
        self.th_va = _ratio(P.va_0, cost_0, self.has_va)
        self.th_int = _ratio(P.int_0, cost_0, self.has_int)
        sig = P.sigma
        self.sig_top = np.broadcast_to(sig["sigma_top"][None, :], (R, S))
        self.sig_va = np.broadcast_to(sig["sigma_va"][None, :], (R, S))

        # ------------------------------------------------------------ buyers and composites
        self.buyer = np.concatenate([self.has_int, P.fd_0 > 0], axis=1)  # (R, B)
        self.agent_exists = P.fd_0 > 0
        self.sig_c = np.concatenate([np.broadcast_to(sig["sigma_int"][None, :], (R, S)), np.full((R, A), P.sigma_fd)], axis=1)
        qa0 = P.qa_0.transpose(2, 0, 1)  # [i, s, b]
        self.comp = qa0 > 0
        total = np.concatenate([P.int_0, P.fd_0], axis=1)
        self.th_B = _ratio(qa0, total[None], self.comp)
        # coefficients of d ln PB and d ln c in d ln QA (see System.jacobian)
        self.a_pb = np.concatenate([sig["sigma_int"][None, :] - self.sig_top, np.full((R, A), P.sigma_fd - 1.0)], axis=1)
        self.a_c = np.concatenate([np.array(self.sig_top), np.zeros((R, A))], axis=1)

        # ------------------------------------------------------------ Armington nests
        self.sig_dm = sig["sigma_dm"]
        self.sig_mm = sig["sigma_mm"]
        self.flow = P.d_0 > 0
        self.d_0 = P.d_0
        self._qa0 = qa0  # th_A (a flow-size array) is made when asked for, or one commodity at a time
        m0 = P.m_0.transpose(2, 0, 1)
        one_level = P.sigma["sigma_dm"] == P.sigma["sigma_mm"]
        if self.common:
            self.nest = (m0 > 0) & self.comp
        else:
            self.nest = (m0 > 0) & self.comp & ~one_level[:, None, None]
        self.imp = self.flow & off4 & self.nest[None]
        self.direct = self.flow & ~self.imp
        self.th_nest = _ratio(m0, qa0, self.nest)
        self._th_dir = None
        # coefficient of d ln PM in d ln z on import cells (r != s into a nested composite; with
        # common sourcing a buyer's imports come from every partner of the region, so the pattern
        # is wider than the benchmark flows); the flow-layout arrays are built when asked for
        self.coef_pm_c = np.where(self.nest, (self.sig_mm - self.sig_dm)[:, None, None], 0.0)  # [i, s, b]
        self.coef_pa = self.sig_dm[:, None, None] - self.sig_c[None]  # [i, s, b]
        if self.common:
            v_imp = (P.v_0 * off4 * self.flow).sum(axis=3)  # [r, i, s]
            mc = P.m_common_0.T  # [i, s]
            self.route = v_imp > 0
            self.nest_c = mc > 0
            self.th_Mc = _ratio(v_imp, mc[None], self.route)
            self.mu = _ratio(m0, mc[:, :, None], self.nest)
            self.d_imp = (P.d_0 * self.imp).sum(axis=3)  # [r, i, s] imports over buyers

        # ------------------------------------------------------------ factor markets
        market_of = factor_market_of(P, closure)
        self.markets = sorted(set(market_of.values()))
        self.K = len(self.markets)
        kpos = {k: n for n, k in enumerate(self.markets)}
        uses = sorted(market_of)
        self.use_s = np.array([u[0] for u in uses], dtype=int)
        self.use_j = np.array([u[1] for u in uses], dtype=int)
        self.use_f = np.array([u[2] for u in uses], dtype=int)
        self.use_k = np.array([kpos[market_of[u]] for u in uses], dtype=int)
        self.use_n = self.use_s * S + self.use_j
        fp0 = P.fp_0[self.use_s, self.use_j, self.use_f]
        self.use_fp0 = fp0
        self.endowment = np.bincount(self.use_k, weights=fp0, minlength=self.K)
        # markets clear in their own units (persons for labour where the benchmark has them)
        weight = factor_weights(P, closure)[self.use_s, self.use_j, self.use_f]
        self.fm_coef = weight / fp0 / np.bincount(self.use_k, weights=weight, minlength=self.K)[self.use_k]
        self.use_theta = fp0 / P.va_0[self.use_s, self.use_j]
        self.th_F = np.zeros((R, S, F))
        self.th_F[self.use_s, self.use_j, self.use_f] = self.use_theta
        self.prod_pos = np.full(R * S, -1)
        self.prod_pos[self.prod_idx] = np.arange(self.N)
        self.use_pos = self.prod_pos[self.use_n]
        self.market_region = np.array([k[0] for k in self.markets], dtype=int)
        self.labour_regions = labour_regions(P, closure)
        self.L = len(self.labour_regions)
        self.ls_pos = np.full(R, -1)
        self.labour_market = np.full(R, -1)
        if self.labour_regions:
            lab = P.factors.index("labour")
            for n, s in enumerate(self.labour_regions):
                self.ls_pos[s] = n
                self.labour_market[s] = kpos[(s, lab, -1)]
        # labour CET: each region's sector labour markets, their benchmark shares and the elasticity
        self.cet = cet_markets(P, closure)
        self.cet_eta = float(closure.labour_cet_elasticity)
        self.cet_region = np.full(self.K, -1)  # region of each CET labour market, -1 for other markets
        self.cet_theta = np.zeros(self.K)
        for s, sectors in self.cet.items():
            lab = P.factors.index("labour")
            for j, th in sectors:
                self.cet_region[kpos[(s, lab, j)]] = s
                self.cet_theta[kpos[(s, lab, j)]] = th
        self.cet_k = np.flatnonzero(self.cet_region >= 0)
        self.cet_regions = np.array(sorted(self.cet), dtype=int)
        # supply index of each market: position of the region's labour-supply unknown, -1 when fixed at 1
        self.supply_ls = np.full(self.K, -1)
        for s in self.labour_regions:
            self.supply_ls[self.labour_market[s]] = self.ls_pos[s]

        # ------------------------------------------------------------ numeraire
        num = closure.numeraire
        self.numeraire_keys = None
        self.numeraire_output = None
        if num == "world_factor_prices":
            keys = np.arange(self.K)
        elif num[0] == "factor":
            s, f = position(P.regions, num[1], "region"), position(P.factors, num[2], "factor")
            keys = np.array([n for n, k in enumerate(self.markets) if k[0] == s and k[1] == f], dtype=int)
            if len(keys) == 0:
                raise ClosureError(f"numeraire {num}: no payments to {num[2]} in {num[1]}")
        else:
            keys = None
            r, i = position(P.regions, num[1], "region"), position(P.sectors, num[2], "sector")
            if not self.prod[r, i]:
                raise ClosureError(f"numeraire {num}: {num[1]} has no output of {num[2]}")
            self.numeraire_output = int(np.searchsorted(self.prod_idx, r * S + i))
        if keys is not None:
            self.numeraire_keys = keys
            self.numeraire_weights = self.endowment[keys] / self.endowment[keys].sum()

        # ------------------------------------------------------------ the reduced unknowns
        N, K = self.N, self.K
        self.col_p, self.col_y, self.col_w = 0, N, 2 * N
        self.col_inc, self.col_ls = 2 * N + K, 2 * N + K + R
        self.n = 2 * N + K + R + self.L
        self.row_zp, self.row_mk, self.row_fm = 0, N, 2 * N
        self.row_ib, self.row_ls = 2 * N + K, 2 * N + K + R

        # ------------------------------------------------------------ the firm-size nest
        self.grouped = P.size_nest
        if self.grouped:  # Armington arrays by commodity group (cge.fast.sizenest)
            from .sizenest import size_layout

            size_layout(self)

    @property
    def th_A(self):
        """Benchmark share of each flow in its Armington composite ``[r, i, s, b]`` (``v_0 / qa_0``), made when asked for."""
        return _ratio(self.params.v_0, self._qa0[None], self.flow)

    def th_A_of(self, i):
        """``th_A[:, i]``: the shares of commodity ``i``'s flows ``[r, s, b]``, without the whole array."""
        return _ratio(self.params.v_0[:, i], self._qa0[i][None], self.flow[:, i])

    @property
    def th_dir(self):
        """Benchmark share of each direct flow in its Armington composite ``[r, i, s, b]``.

        Kept under common sourcing, whose evaluations read it; with sourcing by agent only the
        check of the full model does, and the flow-size array is built for it and let go.
        """
        if self._th_dir is not None:
            return self._th_dir
        out = np.where(self.direct, self.th_A, 0.0)
        if self.common:
            self._th_dir = out
        return out

    @property
    def th_M(self):
        """Benchmark share of each nested import in its import composite ``[r, i, s, b]`` (sourcing by agent; built when asked for)."""
        return _ratio(self.params.v_0, self.params.m_0.transpose(2, 0, 1)[None], self.imp)

    @cached_property
    def coef_pm(self):
        """:attr:`coef_pm_c` on the flow layout, zero for domestic flows."""
        return self.coef_pm_c[None] * self.offdiag[:, None, :, None]

    @cached_property
    def sig_flow(self):
        """Price elasticity of each flow: ``sigma_mm`` for nested imports, ``sigma_dm`` otherwise."""
        return self.sig_dm[None, :, None, None] + self.coef_pm

    def cet_wage(self, w: np.ndarray) -> np.ndarray:
        """CET wage index ``W[s]`` of each region's labour (1 where there is no CET), from market prices ``w``."""
        out = np.ones(self.R)
        if len(self.cet_k):
            k = self.cet_k
            rho = 1.0 + self.cet_eta
            acc = np.bincount(self.cet_region[k], weights=self.cet_theta[k] * np.power(w[k], rho), minlength=self.R)
            out[self.cet_regions] = np.power(acc[self.cet_regions], 1.0 / rho)
        return out

    def unknown_names(self) -> list[str]:
        """Labels of the reduced unknowns, in the order of the unknown vector."""
        P = self.params
        pairs = [(P.regions[n // self.S], P.sectors[n % self.S]) for n in self.prod_idx]
        out = [f"p ({r}, {i})" for r, i in pairs] + [f"Y ({r}, {i})" for r, i in pairs]
        for s, f, j in self.markets:
            out.append(f"w ({P.regions[s]}, {P.factors[f]}" + (f", {P.sectors[j]})" if j >= 0 else ")"))
        out += [f"INC ({r})" for r in P.regions]
        out += [f"LS ({P.regions[s]})" for s in self.labour_regions]
        return out
