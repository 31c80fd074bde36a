r"""Heterogeneous-firm (Melitz-Pareto) sectors in the fast backend: residuals and their exact Jacobian.

The economy of :class:`cge.melitz.MelitzParameters`: regions ``r, s``, sectors ``i`` whose
producers are a mass of firms with Pareto-distributed productivity (Melitz 2003; Chaney 2008), an
input bundle Cobb-Douglas in labour (price ``w``), the sector's specific factor (``k``) and the
composites of all sectors at the region's price indices (unit cost :math:`\hat c_{ri} = \hat w_r^{b^L_{ri}}
\hat k_{ri}^{b^K_{ri}} \prod_j \hat P_{rj}^{\gamma_{rji}}`), and a regional household with
Cobb-Douglas shares :math:`\alpha_{si}` across sectors and a CES (elasticity :math:`\sigma_i`)
across varieties. All unknowns are relative to the benchmark (each 1 there):

=============  ==========================  ========================================================
``w``          regions                     labour market (one replaced by the numeraire)
``N``          (region, sector)            free entry: expected profits pay the sunk entry cost
``phi``        routes (r, i, s)            zero cut-off profit: the marginal firm of a route breaks even
                                           (eliminated: see :class:`MelitzSystem`)
``P``          (region, sector)            the price index of the variety aggregate
``I``          regions                     income balance of the regional household
``k``          (region, sector)            the sector's specific factor (fixed endowment)
``E``          markets (sector, region)    spending of all buyers in the market (input-output
                                           benchmarks only; otherwise :math:`\hat E_{si} = \hat I_s`)
=============  ==========================  ========================================================

With :math:`a = \sigma - 1` and :math:`\kappa_{ris} = \tau_{ris} (1 + t_{ris}) / (1 + t^0_{ris})`
the change in the delivered price per unit of productivity, and :math:`g_{ris} = (1 + t_{ris}) /
(1 + t^0_{ris})`, Pareto productivity (shape :math:`\theta > a`) gives, for the value buyers in
``s`` spend on the varieties of ``r`` (the mass of firms serving the route :math:`N \phi^{-\theta}`
times the revenue of the average one, whose productivity is proportional to the cut-off):

.. math::
    \hat V_{ris} = \hat E_{si} \hat P_{si}^{a} \hat N_{ri} \hat\phi_{ris}^{a - \theta} (\hat\kappa_{ris} \hat c_r)^{-a},
    \qquad E^0_{si} \hat E_{si} = F^0_{si} \hat I_s + \textstyle\sum_j \gamma_{sij} Y^0_{sj} \hat Y_{sj}

(final spending :math:`F^0` and the input demand of the region's sectors, a constant share
:math:`\gamma` of their sales :math:`Y`; in the equations below read :math:`\hat w_r` in unit costs
and fixed costs as :math:`\hat c_{ri}`)

and the equations are (benchmark shares: :math:`\lambda^0_{ris}` of origin ``r`` in the spending of
``s``, :math:`\omega^0_{ris}` of destination ``s`` in the sales of ``r`` at basic prices)

.. math::
    \text{price index:}\quad & \textstyle\sum_r \lambda^0_{ris} \hat V_{ris} / \hat E_{si} = 1 \\
    \text{zero cut-off profit:}\quad & \ln \hat E_{si} + a \ln \hat P_{si} - a \ln(\hat\kappa_{ris} \hat w_r)
        + a \ln \hat\phi_{ris} - \ln \hat g_{ris} = \ln(\hat w_r \hat f_{ris}) \\
    \text{free entry:}\quad & \textstyle\sum_s \omega^0_{ris} \hat V_{ris} / \hat g_{ris} = \hat N_{ri} \hat w_r \\
    \text{labour market:}\quad & \textstyle\sum_{i} \beta^0_{ri} \sum_s \omega^0_{ris} \hat V_{ris} / \hat g_{ris} = \hat w_r \\
    \text{income balance:}\quad & \hat I_s I^0_s = \hat w_s W^0_s + \textstyle\sum_{r,i} t_{ris} X^0_{ris} \hat V_{ris} / \hat g_{ris} + B_s

(:math:`\beta^0_{ri}` the sector's share of the region's labour, :math:`W^0_s` the wage bill,
:math:`B_s` the net transfer from abroad, fixed in units of the numeraire, the world wage index).
The zero cut-off profit condition says the revenue of the marginal firm at basic prices,
:math:`E P^{a} (\kappa w / \phi)^{-a} / g`, is :math:`\sigma` times its fixed cost of serving the
route, :math:`w_r f_{ris}`: **fixed costs of serving a route are paid in the exporter's input**
(its input bundle), as in Melitz (2003) and Balistreri, Hillberry and Rutherford (2011). Free entry and
zero cut-off profits make the sector's revenue split into constant shares of variable costs
(:math:`(\sigma - 1)/\sigma`), fixed costs of serving routes (:math:`(\theta - \sigma + 1) /
(\theta\sigma)`) and entry costs (:math:`(\sigma - 1)/(\theta\sigma)`), all paid in the bundle, so
each input's demand is a constant share of revenue (labour: :math:`\beta^0`; specific factor:
:math:`\hat k = \hat Y`; composites: the spending equation). Tariffs are ad valorem on the value at
the border and the cut-off is set by sales net of the tariff, so the elasticity of a route's sales
with respect to :math:`1 + t` is :math:`\theta\sigma/(\sigma - 1)`, against :math:`\theta` for
iceberg costs (Felbermayr, Jung and Larch 2015; tested).

Derived results: the trade elasticity is :math:`\theta` (ZCP eliminated, :math:`\partial \ln V /
\partial \ln \tau = -\theta`), and with one sector, balanced trade and no tariffs, welfare
:math:`\hat I / \hat P` equals :math:`\hat\lambda_{ss}^{-1/\theta}` (Arkolakis, Costinot and
Rodriguez-Clare 2012). As :math:`\theta \to \sigma - 1` the cut-offs drop out of :math:`\hat V`
(and the fixed costs of serving routes vanish as a share of revenue): the model becomes Krugman's,
and with one sector (the firm mass is then fixed) Armington's with elasticity :math:`\sigma`.

The cut-offs are eliminated analytically (zero cut-off profit is linear in logarithms), so the
unknowns solved for are ``w``, ``N``, ``P``, ``I``, ``k`` and (input-output benchmarks) ``E``; the Jacobian is built in logarithms (every
residual is a function of :math:`\ln \hat V`, which is linear in the log unknowns: the route's
``E``, ``P``, ``N`` and the unit cost's ``w``, ``k`` and the producer region's ``P``)
and scaled by the levels. Sectors without heterogeneous firms are Armington sectors
(:math:`\hat N = \hat\phi = 1`: one CES level across origins of elasticity :math:`\sigma`).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np


class MelitzSystem:
    r"""Residuals and exact Jacobian of the Melitz-Pareto economy of one :class:`cge.melitz.MelitzParameters`.

    The cut-offs are eliminated: zero cut-off profit is linear in logarithms, so
    :math:`\ln\hat\phi_{ris} = [(1 + a)\ln\hat w_r + \ln(\hat f_{ris}\hat g_{ris}) + a\ln\hat\kappa_{ris}
    - \ln\hat E_{si} - a\ln\hat P_{si}] / a` and

    .. math::
        \ln\hat V_{ris} = \tfrac{\theta}{a}\ln\hat E_{si} + \theta\ln\hat P_{si} + \ln\hat N_{ri}
            + \big(\tfrac{(a - \theta)(1 + a)}{a} - a\big)\ln\hat w_r
            + \tfrac{a - \theta}{a}\ln(\hat f_{ris}\hat g_{ris}) - \theta\ln\hat\kappa_{ris}

    (Armington sectors: :math:`\hat\phi = \hat N = 1`, coefficients ``1, a, 1, -a, 0, -a``). The
    unknowns are ``w``, ``N``, ``P`` and ``I``; the cut-offs follow from the formula above
    (:attr:`state.phi`), and the zero cut-off profit residuals are zero by construction.
    """

    def __init__(self, params):
        P = params
        self.params = P
        R, S = P.n_regions, P.n_sectors
        self.R, self.S = R, S
        self.route = P.x_0 > 0  # [r, i, s] routes with benchmark trade
        self.route_idx = np.flatnonzero(self.route.ravel())
        self.n_route = len(self.route_idx)
        self.active = P.x_0.sum(axis=2) > 0  # [r, i] producers
        self.active_idx = np.flatnonzero(self.active.ravel())
        self.market = P.v_0.sum(axis=0) > 0  # [i, s] markets with spending
        self.market_idx = np.flatnonzero(self.market.ravel())
        self.nN, self.nP = len(self.active_idx), len(self.market_idx)
        self.c_w = 0
        self.c_N = R
        self.c_P = self.c_N + self.nN
        self.c_I = self.c_P + self.nP
        self.c_k = self.c_I + R
        self.bL = P.labour_share  # (R, S) share of the mobile input (labour) in each sector's costs
        self.bK = P.specific_share  # (R, S) share of the sector's specific factor
        self.gam = np.where(self.active[:, None, :], P.input_share, 0.0)  # [r, j, i] share of composite j in the costs of (r, i)
        self.io = bool((self.gam > 0).any())  # intermediate inputs: market spending E is an unknown
        self.spec = self.active & (self.bK > 0.0)  # sectors with a specific factor
        self.spec_idx = np.flatnonzero(self.spec.ravel())
        self.nk = len(self.spec_idx)
        self.c_E = self.c_k + self.nk
        self.nE = self.nP if self.io else 0
        self.n = self.c_E + self.nE
        v0 = P.v_0
        self.lam = np.divide(v0, v0.sum(axis=0)[None], out=np.zeros_like(v0), where=self.route)
        xr = P.x_0.sum(axis=2)
        self.omega = np.divide(P.x_0, xr[:, :, None], out=np.zeros_like(P.x_0), where=self.route)
        self.beta = xr * P.labour_share / P.labour_bill_0[:, None]  # sector's share of the region's labour
        self.K0 = xr * P.specific_share  # payments to each sector's specific factor
        self.walras = int(np.argmax(P.labour_bill_0))  # the labour market left out (Walras' law)
        self.num_weights = P.labour_bill_0 / P.labour_bill_0.sum()
        self.het = np.asarray(P.heterogeneous, dtype=bool)  # (S,) Melitz sectors; the others Armington
        a, th = P.sigma - 1.0, P.theta
        h = self.het
        # coefficients of ln V on ln E, ln P, ln w, ln(f g), ln kappa, per sector
        self.e_E = np.where(h, th / a, 1.0)
        self.e_P = np.where(h, th, a)
        self.e_w = np.where(h, (a - th) * (1.0 + a) / a - a, -a)
        self.e_fg = np.where(h, (a - th) / a, 0.0)
        self.e_k = np.where(h, -th, -a)
        # route cells: indices and the columns of their unknowns
        ri, ii, si = np.unravel_index(self.route_idx, (R, S, R))
        self.ri, self.ii, self.si = ri, ii, si
        col_N = np.full(R * S, -1)
        col_N[self.active_idx] = self.c_N + np.arange(self.nN)
        col_P = np.full(S * R, -1)
        col_P[self.market_idx] = self.c_P + np.arange(self.nP)
        self.col_N, self.col_P = col_N, col_P
        self.k_N = col_N[ri * S + ii]
        self.k_P = col_P[ii * R + si]
        self.k_w = self.c_w + ri
        self.k_I = self.c_I + si
        if self.io:
            col_E = np.full(S * R, -1)
            col_E[self.market_idx] = self.c_E + np.arange(self.nE)
            self.col_E = col_E
            self.k_E = col_E[ii * R + si]  # the market's spending
            # intermediate inputs of each route's producer: (sector j, column of P_rj, share), padded
            jj = np.arange(S)
            g = self.gam[ri, :, ii]  # [route, j]
            colP_r = col_P[jj[None, :] * R + ri[:, None]]  # [route, j]
            if ((g > 0) & (colP_r < 0)).any():
                raise ValueError("an input share on a market without spending")
            self.g_route, self.colP_route = g, colP_r
            # the spending equation: E_si = fw_si I_s + sum_j iw_sij sales_sj
            self.fw = np.array(P.final_weight).T  # [i, s]
            self.iw = np.array(P.inter_weight).transpose(1, 0, 2)  # [i, s, j]
        else:
            self.k_E = self.k_I
        col_k = np.full(R * S, -1)
        col_k[self.spec_idx] = self.c_k + np.arange(self.nk)
        self.col_k = col_k
        self.k_k = col_k[ri * S + ii]
        self.bL_route = self.bL[ri, ii]
        self.bK_route = self.bK[ri, ii]

    # ------------------------------------------------------------------ unknowns
    def unpack(self, x):
        R, S = self.R, self.S
        w = x[self.c_w : self.c_w + R]
        N = np.ones(R * S)
        N[self.active_idx] = x[self.c_N : self.c_N + self.nN]
        Pi = np.ones(S * R)
        Pi[self.market_idx] = x[self.c_P : self.c_P + self.nP]
        inc = x[self.c_I : self.c_I + R]
        k = np.ones(R * S)
        k[self.spec_idx] = x[self.c_k : self.c_k + self.nk]
        return w, N.reshape(R, S), Pi.reshape(S, R), inc, k.reshape(R, S)

    def benchmark_point(self):
        return np.ones(self.n)

    def unknown_names(self) -> list[str]:
        P = self.params
        reg, sec = P.regions, P.sectors
        out = [f"w ({r})" for r in reg]
        out += [f"N ({reg[k // self.S]}, {sec[k % self.S]})" for k in self.active_idx]
        out += [f"P ({reg[k % self.R]}, {sec[k // self.R]})" for k in self.market_idx]
        out += [f"I ({r})" for r in reg]
        out += [f"k ({reg[k // self.S]}, {sec[k % self.S]})" for k in self.spec_idx]
        if self.io:
            out += [f"E ({reg[k % self.R]}, {sec[k // self.R]})" for k in self.market_idx]
        return out

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, x, inst):
        """Flows, cut-offs, residuals and the pieces the Jacobian reads, at the levels ``x`` under instruments ``inst``."""
        P = self.params
        R, S = self.R, self.S
        w, N, Pi, inc, k = self.unpack(x)
        st = SimpleNamespace(x=np.array(x, dtype=float), w=w, N=N, P=Pi, inc=inc, k=k, inst=inst)
        if self.io:
            E = np.ones(S * R)
            E[self.market_idx] = x[self.c_E : self.c_E + self.nE]
            E = E.reshape(S, R)
        else:
            E = np.broadcast_to(inc[None, :], (S, R))  # [i, s] relative spending = relative income (Cobb-Douglas)
        st.E = E
        sec = lambda c: c[None, :, None]  # noqa: E731
        with np.errstate(divide="ignore", invalid="ignore"):
            lnE, lnP = np.log(E), np.log(Pi)
            lnw = self.bL * np.log(w)[:, None] + self.bK * np.log(k)  # [r, i] log unit cost of the input bundle
            if self.io:
                lnw = lnw + np.einsum("rji,jr->ri", self.gam, lnP)
            st.c = np.exp(lnw)
            lnfg = np.log(inst.fixed_cost) + np.log(inst.g)
            lnk = np.log(inst.kappa)
            lnV = (sec(self.e_E) * lnE[None] + sec(self.e_P) * lnP[None] + np.log(N)[:, :, None]
                   + sec(self.e_w) * lnw[:, :, None] + sec(self.e_fg) * lnfg + sec(self.e_k) * lnk)
            a = sec(P.sigma - 1.0)
            lnphi = ((1.0 + a) * lnw[:, :, None] + lnfg + a * lnk - lnE[None] - a * lnP[None]) / a
        st.phi = np.where(self.route & sec(self.het), np.exp(lnphi), 1.0)
        V = np.where(self.route, np.exp(lnV), 0.0)  # relative buyer value of each route
        X = V / inst.g  # relative value at basic prices
        st.V, st.X = V, X
        res = np.empty(self.n)
        sales = (self.omega * X).sum(axis=2)  # [r, i] relative sales
        labour = (self.beta * sales).sum(axis=1)
        lab_res = labour - w
        st.walras_excess = float(lab_res[self.walras])
        lab_res[self.walras] = float(self.num_weights @ w) - inst.numeraire_value
        res[self.c_w : self.c_w + R] = lab_res
        fe = np.where(self.het[None, :], sales - N * st.c, N - 1.0)  # free entry; Armington: fixed producers
        res[self.c_N : self.c_N + self.nN] = fe.ravel()[self.active_idx]
        # specific factors: payments (1 - bL) X over benchmark payments, at a fixed endowment
        res[self.c_k : self.c_k + self.nk] = (sales - k).ravel()[self.spec_idx]
        share = (self.lam * V).sum(axis=0) / E  # price index: spending adds up
        res[self.c_P : self.c_P + self.nP] = (share - 1.0).ravel()[self.market_idx]
        st.tariff_revenue = (inst.tariff * P.x_0 * X).sum(axis=(0, 1))
        income = w * P.labour_bill_0 + (self.K0 * k).sum(axis=1) + st.tariff_revenue + inst.transfer
        res[self.c_I : self.c_I + R] = inc - income / P.income_0
        if self.io:  # spending in each market: final demand and the input demand of the region's sectors
            spend = self.fw * inc[None, :] + np.einsum("isj,sj->is", self.iw, sales)
            res[self.c_E : self.c_E + self.nE] = (E - spend).ravel()[self.market_idx]
        st.sales = sales
        st.residual = res
        return st

    # ------------------------------------------------------------------ Jacobian
    def _add_route_terms(self, J, rows, weight):
        """``J[rows, :] += weight * d ln V / d ln x`` for every route cell (four unknowns per route)."""
        ii = self.ii
        ok = rows >= 0
        rows, weight, ii = rows[ok], weight[ok], ii[ok]
        np.add.at(J, (rows, self.k_E[ok]), weight * self.e_E[ii])
        np.add.at(J, (rows, self.k_P[ok]), weight * self.e_P[ii])
        np.add.at(J, (rows, self.k_N[ok]), weight)
        np.add.at(J, (rows, self.k_w[ok]), weight * self.e_w[ii] * self.bL_route[ok])
        kk = self.k_k[ok]
        has = kk >= 0
        np.add.at(J, (rows[has], kk[has]), (weight * self.e_w[ii] * self.bK_route[ok])[has])
        if self.io:  # the input bundle's intermediate composites
            g, cols = self.g_route[ok], self.colP_route[ok]
            on = g > 0
            r2 = np.broadcast_to(rows[:, None], g.shape)[on]
            np.add.at(J, (r2, cols[on]), (weight[:, None] * self.e_w[ii][:, None] * g)[on])

    def jacobian(self, st):
        """Exact dense Jacobian of :meth:`evaluate`'s residuals with respect to the (level) unknowns."""
        P = self.params
        R, S, n = self.R, self.S, self.n
        ri, ii, si = self.ri, self.ii, self.si
        J = np.zeros((n, n))  # in logs first; scaled by the levels at the end
        V = st.V[ri, ii, si]
        X = st.X[ri, ii, si]
        # labour markets
        self._add_route_terms(J, self.c_w + ri, self.beta[ri, ii] * self.omega[ri, ii, si] * X)
        J[self.c_w + np.arange(R), self.c_w + np.arange(R)] -= st.w
        row = self.c_w + self.walras
        J[row] = 0.0
        J[row, self.c_w : self.c_w + R] = self.num_weights * st.w
        # free entry
        het = self.het[ii]
        self._add_route_terms(J, np.where(het, self.col_N[ri * S + ii], -1), self.omega[ri, ii, si] * X)
        rN, iN = np.unravel_index(self.active_idx, (R, S))
        hN = self.het[iN]
        Nw = st.N[rN, iN] * st.c[rN, iN]
        diag = self.c_N + np.arange(self.nN)
        J[diag, diag] += np.where(hN, -Nw, st.N[rN, iN])
        J[diag[hN], self.c_w + rN[hN]] -= (Nw * self.bL[rN, iN])[hN]
        kN = self.col_k[self.active_idx]
        sel = hN & (kN >= 0)
        J[diag[sel], kN[sel]] -= (Nw * self.bK[rN, iN])[sel]
        if self.io:
            for j in range(S):
                gj = self.gam[rN, j, iN]
                cj = self.col_P[j * R + rN]
                on = hN & (gj > 0)
                J[diag[on], cj[on]] -= (Nw * gj)[on]
        # specific factors
        self._add_route_terms(J, self.col_k[ri * S + ii], self.omega[ri, ii, si] * X)
        rk, ik = np.unravel_index(self.spec_idx, (R, S))
        J[self.c_k + np.arange(self.nk), self.c_k + np.arange(self.nk)] -= st.k[rk, ik]
        # price index: sum_r lam V / E - 1
        lV = self.lam[ri, ii, si] * V / st.E[ii, si]
        self._add_route_terms(J, self.k_P, lV)
        np.add.at(J, (self.k_P, self.k_E), -lV)
        # income balance: I - (w W0 + sum t x0 X + B) / I0
        J[self.c_I + np.arange(R), self.c_I + np.arange(R)] += st.inc
        J[self.c_I + np.arange(R), self.c_w + np.arange(R)] -= st.w * P.labour_bill_0 / P.income_0
        J[self.c_I + rk, self.c_k + np.arange(self.nk)] -= self.K0[rk, ik] * st.k[rk, ik] / P.income_0[rk]
        tX = st.inst.tariff[ri, ii, si] * P.x_0[ri, ii, si] * X / P.income_0[si]
        self._add_route_terms(J, self.c_I + si, -tX)
        if self.io:  # spending: E - fw I - sum_j iw sales_sj
            iE, sE = np.unravel_index(self.market_idx, (S, R))
            rowsE = self.c_E + np.arange(self.nE)
            J[rowsE, rowsE] += st.E[iE, sE]
            J[rowsE, self.c_I + sE] -= self.fw[iE, sE] * st.inc[sE]
            wX = self.omega[ri, ii, si] * X
            for i in range(S):  # input demand for sector i's composite in the producer's region ri
                rows_i = self.col_E[i * R + ri]
                self._add_route_terms(J, rows_i, -self.iw[i, ri, ii] * wX)
        return J / st.x[None, :]
