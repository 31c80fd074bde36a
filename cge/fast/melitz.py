r"""Heterogeneous-firm (Melitz-Pareto) sectors in the fast backend: residuals and their exact Jacobian.

The economy of :class:`cge.melitz.MelitzParameters`: regions ``r, s``, sectors ``i`` whose
producers are a mass of firms with Pareto-distributed productivity (Melitz 2003; Chaney 2008), one
primary input (labour, price ``w``), no intermediate inputs, and a regional household with
Cobb-Douglas shares :math:`\alpha_{si}` across sectors and a CES (elasticity :math:`\sigma_i`)
across varieties. All unknowns are relative to the benchmark (each 1 there):

=============  ==========================  ========================================================
``w``          regions                     labour market (one replaced by the numeraire)
``N``          (region, sector)            free entry: expected profits pay the sunk entry cost
``phi``        routes (r, i, s)            zero cut-off profit: the marginal firm of a route breaks even
``P``          (region, sector)            the price index of the variety aggregate
``I``          regions                     income balance of the regional household
=============  ==========================  ========================================================

With :math:`a = \sigma - 1` and :math:`\kappa_{ris} = \tau_{ris} (1 + t_{ris}) / (1 + t^0_{ris})`
the change in the delivered price per unit of productivity, and :math:`g_{ris} = (1 + t_{ris}) /
(1 + t^0_{ris})`, Pareto productivity (shape :math:`\theta > a`) gives, for the value buyers in
``s`` spend on the varieties of ``r`` (the mass of firms serving the route :math:`N \phi^{-\theta}`
times the revenue of the average one, whose productivity is proportional to the cut-off):

.. math::
    \hat V_{ris} = \hat E_{si} \hat P_{si}^{a} \hat N_{ri} \hat\phi_{ris}^{a - \theta} (\hat\kappa_{ris} \hat w_r)^{-a},
    \qquad \hat E_{si} = \hat I_s

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
(its labour), as in Melitz (2003) and Balistreri, Hillberry and Rutherford (2011). Free entry and
zero cut-off profits make the sector's revenue split into constant shares of variable costs
(:math:`(\sigma - 1)/\sigma`), fixed costs of serving routes (:math:`(\theta - \sigma + 1) /
(\theta\sigma)`) and entry costs (:math:`(\sigma - 1)/(\theta\sigma)`), all paid in labour, so labour
demand is revenue over the wage.

Derived results: the trade elasticity is :math:`\theta` (ZCP eliminated, :math:`\partial \ln V /
\partial \ln \tau = -\theta`), and with one sector, balanced trade and no tariffs, welfare
:math:`\hat I / \hat P` equals :math:`\hat\lambda_{ss}^{-1/\theta}` (Arkolakis, Costinot and
Rodriguez-Clare 2012). As :math:`\theta \to \sigma - 1` the cut-offs drop out of :math:`\hat V`
(and the fixed costs of serving routes vanish as a share of revenue): the model becomes Krugman's,
and with one sector (the firm mass is then fixed) Armington's with elasticity :math:`\sigma`.

Unknowns are the levels of the table above; the Jacobian is built in logarithms (every residual is
a function of :math:`\ln \hat V`, which is linear in the log unknowns) and scaled by the levels.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np


class MelitzSystem:
    """Residuals and exact Jacobian of the Melitz-Pareto economy of one :class:`cge.melitz.MelitzParameters`."""

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
        # column offsets of the unknowns (and rows of the equations that determine them)
        self.c_w = 0
        self.c_N = R
        self.c_phi = self.c_N + self.nN
        self.c_P = self.c_phi + self.n_route
        self.c_I = self.c_P + self.nP
        self.n = self.c_I + R
        v0 = P.v_0
        self.lam = np.divide(v0, v0.sum(axis=0)[None], out=np.zeros_like(v0), where=self.route)
        xr = P.x_0.sum(axis=2)
        self.omega = np.divide(P.x_0, xr[:, :, None], out=np.zeros_like(P.x_0), where=self.route)
        self.beta = xr / P.wage_bill_0[:, None]  # sector's share of the region's labour
        self.a = (P.sigma - 1.0)[None, :, None]  # [1, i, 1]
        self.theta = P.theta[None, :, None]
        self.walras = int(np.argmax(P.wage_bill_0))  # the labour market left out (Walras' law)
        self.num_weights = P.wage_bill_0 / P.wage_bill_0.sum()
        self.het = np.asarray(P.heterogeneous, dtype=bool)  # (S,) Melitz sectors; the others Armington

    # ------------------------------------------------------------------ unknowns
    def unpack(self, x):
        R, S = self.R, self.S
        w = x[self.c_w : self.c_w + R]
        N = np.ones(R * S)
        N[self.active_idx] = x[self.c_N : self.c_N + self.nN]
        phi = np.ones(R * S * R)
        phi[self.route_idx] = x[self.c_phi : self.c_phi + self.n_route]
        Pi = np.ones(S * R)
        Pi[self.market_idx] = x[self.c_P : self.c_P + self.nP]
        inc = x[self.c_I : self.c_I + R]
        return w, N.reshape(R, S), phi.reshape(R, S, R), Pi.reshape(S, R), inc

    def benchmark_point(self):
        return np.ones(self.n)

    def unknown_names(self) -> list[str]:
        P = self.params
        reg, sec = P.regions, P.sectors
        out = [f"w ({r})" for r in reg]
        out += [f"N ({reg[k // self.S]}, {sec[k % self.S]})" for k in self.active_idx]
        out += [f"phi ({reg[k // (self.S * self.R)]}, {sec[(k // self.R) % self.S]}, {reg[k % self.R]})" for k in self.route_idx]
        out += [f"P ({reg[k % self.R]}, {sec[k // self.R]})" for k in self.market_idx]
        out += [f"I ({r})" for r in reg]
        return out

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, x, inst):
        """Flows, residuals and the pieces the Jacobian reads, at the levels ``x`` under instruments ``inst``."""
        P = self.params
        R, S = self.R, self.S
        w, N, phi, Pi, inc = self.unpack(x)
        st = SimpleNamespace(x=np.array(x, dtype=float), w=w, N=N, phi=phi, P=Pi, inc=inc, inst=inst)
        a, th = self.a, self.theta
        E = np.broadcast_to(inc[None, :], (S, R))  # [i, s] relative spending = relative income (Cobb-Douglas)
        st.E = E
        with np.errstate(divide="ignore"):
            lnV = (np.log(E) + a[0] * np.log(Pi))[None] + np.log(N)[:, :, None] + (a - th) * np.log(phi) - a * (np.log(inst.kappa) + np.log(w)[:, None, None])
        V = np.where(self.route, np.exp(lnV), 0.0)  # relative buyer value of each route
        X = V / inst.g  # relative value at basic prices
        st.V, st.X = V, X
        res = np.empty(self.n)
        # labour markets (the largest replaced by the numeraire), in relative form
        sales = (self.omega * X).sum(axis=2)  # [r, i] relative sales
        labour = (self.beta * sales).sum(axis=1)
        lab_res = labour - w
        st.walras_excess = float(lab_res[self.walras])
        lab_res[self.walras] = float(self.num_weights @ w) - inst.numeraire_value
        res[self.c_w : self.c_w + R] = lab_res
        # free entry (Armington sectors: a fixed mass of producers)
        fe = np.where(self.het[None, :], sales - N * w[:, None], N - 1.0)
        res[self.c_N : self.c_N + self.nN] = fe.ravel()[self.active_idx]
        # zero cut-off profit (logarithmic: a relative error)
        with np.errstate(divide="ignore", invalid="ignore"):
            zcp = (np.log(E) + a[0] * np.log(Pi))[None] - a * (np.log(inst.kappa) + np.log(w)[:, None, None]) + a * np.log(phi) - np.log(inst.g) - np.log(w)[:, None, None] - np.log(inst.fixed_cost)
        zcp = np.where(self.het[None, :, None], zcp, np.log(phi))  # Armington sectors: no selection
        res[self.c_phi : self.c_phi + self.n_route] = zcp.ravel()[self.route_idx]
        # price index: spending adds up
        share = (self.lam * V).sum(axis=0) / E
        res[self.c_P : self.c_P + self.nP] = (share - 1.0).ravel()[self.market_idx]
        # income balance
        st.tariff_revenue = (inst.tariff * P.x_0 * X).sum(axis=(0, 1))
        income = w * P.wage_bill_0 + st.tariff_revenue + inst.transfer
        res[self.c_I : self.c_I + R] = inc - income / P.income_0
        st.residual = res
        return st

    # ------------------------------------------------------------------ Jacobian
    def jacobian(self, st):
        """Exact dense Jacobian of :meth:`evaluate`'s residuals with respect to the (level) unknowns."""
        P = self.params
        R, S, n = self.R, self.S, self.n
        a = P.sigma - 1.0
        th = P.theta
        inst = st.inst
        # d ln V[r, i, s] / d ln(unknowns): a sparse pattern written as index lists per route cell
        ri, ii, si = np.unravel_index(self.route_idx, (R, S, R))
        col_N = np.full(R * S, -1)
        col_N[self.active_idx] = self.c_N + np.arange(self.nN)
        col_P = np.full(S * R, -1)
        col_P[self.market_idx] = self.c_P + np.arange(self.nP)
        k = np.arange(self.n_route)
        cN = col_N[ri * S + ii]
        cP = col_P[ii * R + si]
        cphi = self.c_phi + k
        cw = self.c_w + ri
        cI = self.c_I + si
        aa = a[ii]
        # G[k, :] = d ln V_k / d ln x  (route k)
        G = np.zeros((self.n_route, n))
        np.add.at(G, (k, cI), 1.0)
        np.add.at(G, (k, cP), aa)
        np.add.at(G, (k, cN), 1.0)
        np.add.at(G, (k, cphi), aa - th[ii])
        np.add.at(G, (k, cw), -aa)
        J = np.zeros((n, n))  # in logs first; scaled by the levels at the end
        V = st.V[ri, ii, si]
        X = st.X[ri, ii, si]
        # labour markets
        wX = self.beta[ri, ii] * self.omega[ri, ii, si] * X
        np.add.at(J, self.c_w + ri, wX[:, None] * G)
        J[self.c_w + np.arange(R), self.c_w + np.arange(R)] -= st.w
        row = self.c_w + self.walras
        J[row] = 0.0
        J[row, self.c_w : self.c_w + R] = self.num_weights * st.w
        # free entry
        oX = self.omega[ri, ii, si] * X
        het = self.het[ii]
        row_N = col_N[ri * S + ii]
        np.add.at(J, row_N[het], oX[het, None] * G[het])
        rN, iN = np.unravel_index(self.active_idx, (R, S))
        hN = self.het[iN]
        Nw = st.N[rN, iN] * st.w[rN]
        diag = self.c_N + np.arange(self.nN)
        J[diag, diag] += np.where(hN, -Nw, st.N[rN, iN])
        J[diag[hN], self.c_w + rN[hN]] -= Nw[hN]
        # zero cut-off profit (linear in logs; Armington sectors: ln phi = 0)
        rows = self.c_phi + k
        J[rows[het], cI[het]] += 1.0
        J[rows[het], cP[het]] += aa[het]
        J[rows[het], cw[het]] += -aa[het] - 1.0
        J[rows, cphi] += np.where(het, aa, 1.0)
        # price index: sum_r lam V / E - 1
        lV = self.lam[ri, ii, si] * V / st.E[ii, si]
        row_P = col_P[ii * R + si]
        np.add.at(J, row_P, lV[:, None] * G)
        np.add.at(J, (row_P, cI), -lV)
        # income balance: I - (w W0 + sum t x0 X + B) / I0
        J[self.c_I + np.arange(R), self.c_I + np.arange(R)] += st.inc
        J[self.c_I + np.arange(R), self.c_w + np.arange(R)] -= st.w * P.wage_bill_0 / P.income_0
        tX = inst.tariff[ri, ii, si] * P.x_0[ri, ii, si] * X / P.income_0[si]
        np.add.at(J, self.c_I + si, -tX[:, None] * G)
        return J / st.x[None, :]

    def flows(self, st) -> dict:
        """Relative route values and firm masses at the state ``st``."""
        th = self.params.theta[None, :, None]
        served = np.where(self.route, st.N[:, :, None] * np.power(st.phi, -th), 0.0)
        return {"V": st.V, "X": st.X, "served": served}
