r"""The reduced equilibrium system: residuals and their exact Jacobian, evaluated on whole arrays.

Unknowns (each 1 in the benchmark), in this order in the vector ``x``:

=========  ==================  ==================================================================
``p``      producers (s, j)    zero profit :math:`p_{sj} = c_{sj}`
``Y``      producers           goods market clearing (the largest market: the numeraire instead)
``w``      factor markets      factor market clearing
``INC``    regions             income balance of the regional household
``LS``     labour regions      the labour-supply rule of the closure
=========  ==================  ==================================================================

Every other unknown of the reference model is a closed form of these and is eliminated:
delivered prices :math:`p^d = p\,\kappa` with :math:`\kappa = \tau (1 + t) / (1 + t^0)`; import
and Armington price indices ``PM``, ``PA``; buyer price indices ``PINT``, ``PFD`` (``PB``);
value-added price ``PVA``; unit cost ``c``; composite demands ``QA`` and bilateral quantities
``z``. The residuals of the remaining equations are those of the reference model
(``cge/model``), so a point that zeroes them solves the full system.

The Jacobian follows from Shephard's lemma and log-derivatives of the CES demands. With
:math:`D_{r'isb} = \partial P^A_{isb} / \partial p_{r'i}` (the unit demand of the composite for
source :math:`r'`, times :math:`\kappa`), the log-change of the quantity buyer ``b`` in ``s``
takes from ``r`` is

.. math::
    d\ln z_{risb} = d\ln Q^B_{sb} + a^{PB}_{sb}\, d\ln P^B_{sb} + a^{c}_{sb}\, d\ln c_{sb}
        + (\sigma^{dm}_i - \sigma^{B}_{sb})\, d\ln P^A_{isb}
        + \nu_{risb} (\sigma^{mm}_i - \sigma^{dm}_i)\, d\ln P^M_{isb} - \sigma_{risb}\, d\ln p_{ri}

(``nu`` marks nested imports, ``sigma`` is ``sigma_mm`` for them and ``sigma_dm`` otherwise). With
common sourcing the same formula holds when ``z`` is each buyer's allocated share of a route's
imports. Market clearing and tariff revenue are sums of ``z`` with known weights, so their
Jacobian blocks are sums of these terms: the same-commodity terms ``(r, i) x (r', i)`` are one
batched matrix product over commodities; the buyer-level terms (``PB``, ``c``) one matrix product,
skipped when their coefficients vanish (Leontief ``sigma_top = sigma_int = 0`` and Cobb-Douglas
``sigma_fd = 1``, the defaults).

Evaluations with sourcing by agent never build a per-buyer flow array: a delivered price depends
on the buyer's use only (``[r, i, s, use]``), so CES terms are powers per use, and each sum over
exporters or buyers is a contraction of the benchmark flows ``d_0`` with per-use prices and
per-composite factors. The contractions are batched matrix products over a composite-first copy
of ``d_0`` (``[i, s, b, r]``: buyers x exporters per composite), made with the model: two passes
over the flows per evaluation, the sum over exporters and the sum over buyers, each for one term
per route (a commodity's imports into its import nest where it has one, every origin where it
has not; the domestic terms of nested commodities are per importer and class). The per-class
prices and instruments of an evaluation are kept commodity-first (``[i, s, r, class]``, the order
of those products), so no array is transposed, and powers are exponentials of a per-scenario
constant plus a per-producer term (:attr:`FlowInstruments.agent_terms`). The Jacobian
builds the per-buyer terms one commodity at a time (:meth:`System._agent_flow_terms`: slices
``[r, s, b]``, reduced to Jacobian blocks as they are made), so no flow-size array lives beside
the dense Jacobian; :meth:`System.flows` builds them whole for common sourcing, the firm-size
nest and the full-model check's callers. Newton steps factorise the Jacobian by blocks
(:meth:`System.block_pattern`, :func:`cge.fast.solvers.factorise_blocks`).

With the firm-size nest (:mod:`cge.fast.sizenest`, a subclass of :class:`System`) the composites are
commodity groups and the Armington terms of the Jacobian (goods markets and tariff revenue against
producer prices) come from :meth:`cge.fast.sizenest.SizeNestSystem.price_terms`; the rest of
:meth:`System.jacobian` is shared.
"""

from __future__ import annotations

from functools import cached_property
from types import SimpleNamespace

import numpy as np

from .solvers import one_blas_thread


def ces_index(sigma, terms, exists=None):
    """CES price index :math:`(\\sum \\theta p^{1-\\sigma})^{1/(1-\\sigma)}`, Cobb-Douglas at ``sigma = 1``.

    ``terms`` is a list of ``(theta, price, axis)``: benchmark shares and prices, summed over
    ``axis`` (``None``: no sum); ``sigma`` broadcasts against the result. Leontief (``sigma = 0``)
    is exact through the general form (powers of one). Cells where ``exists`` is false are 1.
    """
    sigma = np.asarray(sigma, dtype=float)
    cd = sigma == 1.0

    def total(values):
        return sum(v if axis is None else v.sum(axis=axis) for v, axis in values)

    def expand(a, axis):
        return a if axis is None else np.expand_dims(a, axis)

    out = None
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        if not cd.all():
            rho = np.where(cd, 1.0, 1.0 - sigma)
            acc = total([(th * np.power(pr, expand(rho, ax)), ax) for th, pr, ax in terms])
            out = np.power(acc, 1.0 / rho)
        if cd.any():
            geo = np.exp(total([(th * np.log(pr), ax) for th, pr, ax in terms]))
            out = geo if out is None else np.where(cd, geo, out)
    if exists is not None:
        out = np.where(exists, out, 1.0)
    return out


def _inverse(a, mask):
    """``1 / a`` where ``mask``, 0 elsewhere."""
    return np.divide(1.0, a, out=np.zeros(a.shape), where=mask)


BLAS_MIN = 2_000_000
"""Flow arrays from this many cells have their same-commodity products made by BLAS, smaller ones
by ``einsum``'s own loop (a rule on size, so the bits of a model never depend on the machine)."""


def _same_commodity(x, y):
    """``out[i, r, q] = sum_{s, b} x[r, i, s, b] y[q, i, s, b]``: one matrix product per commodity.

    Below :data:`BLAS_MIN` cells ``einsum``'s loop; above, a batch of BLAS products (regions x
    regions, inner dimension importers x buyers) on copies
    with the commodity outermost, in one BLAS thread: the products are small, threads only
    contend on a shared machine, and one thread keeps the bits independent of the thread count.
    """
    R, S = x.shape[:2]
    if x.size < BLAS_MIN:
        return np.einsum("risb,qisb->irq", x, y)
    xt = np.ascontiguousarray(x.transpose(1, 0, 2, 3)).reshape(S, R, -1)
    yt = np.ascontiguousarray(y.transpose(1, 0, 2, 3)).reshape(S, R, -1)
    with one_blas_thread():
        return np.matmul(xt, yt.transpose(0, 2, 1))


def _by_buyer(a, use):
    """``a[..., use]`` (a class array on the buyers) as a C-ordered array: fancy indexing of the last
    axis returns it with that axis outermost, and arithmetic with flow slices then runs several
    times slower."""
    return np.take(np.ascontiguousarray(a), use, axis=-1)


class _AgentRows:
    """The rows of ``dPB[s, b] / dp`` (``[(s, b), producers]``) of final-demand agents, indexed as the whole array."""

    def __init__(self, rows, B, S):
        self.rows, self.B, self.S = rows, B, S

    def __getitem__(self, idx):
        idx = np.asarray(idx)
        b = idx % self.B
        if np.any(b < self.S):
            raise IndexError("dPB/dp of sectors is not kept")
        return self.rows[(idx // self.B) * (self.B - self.S) + b - self.S]


ROWS = 512
"""Rows per slice when a dense block of the Jacobian is updated in place."""

COMMODITY_CHUNK = 8
"""Commodities whose price derivatives are written into the Jacobian together (its columns ``[r, i]``
have the commodity innermost: eight adjacent columns fill a cache line)."""


class FlowInstruments:
    """The instruments of one scenario (:class:`cge.instruments.Instruments`) on the flow layout ``[r, i, s, b]``.

    Evaluations read them per price class (``[r, i, s, class]``): a buyer's delivered price depends
    on its use only, except for a sector with a duty exemption, which pays ``t (1 - e[s, j])`` on its
    imported inputs and forms a class of its own. ``groups`` lists ``(class, buyers)`` (a slice of
    adjacent buyers; one class may span several slices) and ``use`` the class of each buyer. Without
    exemptions the classes are the uses and nothing differs from a model without the instrument.
    The per-buyer arrays that the Jacobian and the full-model check read are built when first asked for;
    with sourcing by agent the per-class arrays also have commodity-first copies (``kappa_c1``,
    ``tau_c1``, ``t_c1``, ``w0_c1``: ``[i, s, r, class]``) for the evaluations.
    """

    def __init__(self, layout, inst):
        self.layout = layout
        self.source = inst
        self.numeraire_value = inst.numeraire_value
        n_use = layout.tariff_0_u.shape[-1]
        self.t_u = np.ascontiguousarray(np.asarray(inst.tariff, dtype=float)[..., :n_use])
        self.tau_u = np.ascontiguousarray(np.asarray(inst.iceberg, dtype=float)[..., :n_use])
        self.groups, self.use, t0_u = layout.use_groups, layout.use, layout.tariff_0_u
        e = np.asarray(getattr(inst, "duty_exemption", np.zeros_like(layout.exemption_0)), dtype=float)
        exempt = np.flatnonzero((e != 0).any(axis=0) | (layout.exemption_0 != 0).any(axis=0))
        if len(exempt):
            if layout.common:
                raise ValueError("duty exemptions need sourcing by agent (see cge.sourcing.Sourcing.check)")
            self.groups, self.use, t0_u, self.t_u, self.tau_u = self._exemption_classes(exempt, e, t0_u)
        self.w_0 = 1.0 + t0_u  # benchmark buyer price of each class
        self.kappa_u = self.tau_u * (1.0 + self.t_u) / self.w_0
        if layout.common:
            self.kappa_c = self.kappa[..., 0]  # the same for every buyer under common sourcing
        if not layout.common:  # commodity-first copies ``[i, s, r, class]`` for the evaluations' batched products
            self.kappa_c1, self.tau_c1, self.t_c1, self.w0_c1 = (
                np.ascontiguousarray(a.transpose(1, 2, 0, 3)) for a in (self.kappa_u, self.tau_u, self.t_u, self.w_0)
            )
        self.to = np.where(layout.prod, inst.output_tax, 0.0)  # output tax (R, S)
        self.transfer = inst.transfer  # (R,) in units of the closure's transfer index
        self.markup = 1.0 + self.to

    def _exemption_classes(self, exempt, e, t0_u):
        """Price classes with one more class per exempted sector ``j``: the intermediate rates times
        ``1 - e[s, j]`` (and ``1 - e0[s, j]`` for the benchmark's), trade costs of intermediate use."""
        L = self.layout
        n_use = t0_u.shape[-1]
        use = np.array(L.use)
        use[exempt] = n_use + np.arange(len(exempt))
        groups, start = [], 0
        for b in range(1, len(use) + 1):
            if b == len(use) or use[b] != use[start]:
                groups.append((int(use[start]), slice(start, b)))
                start = b
        keep = (1.0 - e[:, exempt])[None, None]  # [1, 1, s, k]
        keep_0 = (1.0 - L.exemption_0[:, exempt])[None, None]
        t_u = np.concatenate([self.t_u, self.t_u[..., :1] * keep], axis=3)
        tau_u = np.concatenate([self.tau_u, np.repeat(self.tau_u[..., :1], len(exempt), axis=3)], axis=3)
        t0 = np.concatenate([t0_u, t0_u[..., :1] * keep_0], axis=3)
        return groups, use, np.ascontiguousarray(t0), np.ascontiguousarray(t_u), np.ascontiguousarray(tau_u)

    # flow-size arrays built each time they are asked for (once a solve, by the Jacobian under common
    # sourcing and by the check of the full model), not kept
    @property
    def t_b(self):
        return self._per_buyer(self.t_u)

    @property
    def tau_b(self):
        return self._per_buyer(self.tau_u)

    @property
    def kappa(self):
        return self._per_buyer(self.kappa_u)

    def _per_buyer(self, a):
        """A per-use array ``[r, i, s, use]`` on the flow layout ``[r, i, s, b]`` (contiguous)."""
        out = np.empty(a.shape[:3] + (len(self.layout.use),))
        for u, g in self.groups:
            out[..., g] = a[..., u, None]
        return out

    @cached_property
    def agent_terms(self):
        """Per-scenario constants and buffers of the evaluations with sourcing by agent (:meth:`System._agent_prices`).

        One term per commodity and route ``[i, s, r, class]``: where commodity ``i`` is nested
        (``sigma_dm != sigma_mm``), its imports in the import nest (``sigma = sigma_mm``, zero at
        home); elsewhere every origin (``sigma = sigma_dm``). ``nested[i]``; ``nsig[i] = -sigma``;
        ``A = -sigma ln kappa``; ``W = w_0 kappa`` on the cells the term covers (the CES terms are
        ``pd^-sigma p W = exp(AF + (1 - sigma) ln p)``, ``AF = ln(kappa^(1 - sigma) w_0)`` there, and a route's
        sales ``F C tau_W / p`` with ``tau_W = tau / W``); ``cd``: commodities whose term is Cobb-Douglas (``ln pd w_0``: ``lnk``,
        ``W0``); ``lnk_home``, ``w0_home`` (``[i, s, class]``): the domestic routes. ``F``, ``M``,
        ``V``, ``C``: buffers of the two batched products, overwritten by every evaluation (``V`` is
        zero outside each buyer's class and stays so).
        """
        L = self.layout
        S, R, B = L.S, L.R, L.B
        n_u = self.kappa_c1.shape[-1]
        ev = SimpleNamespace(nested=L.sig_mm != L.sig_dm)
        sig = np.where(ev.nested, L.sig_mm, L.sig_dm)
        ev.nsig = -sig
        ev.lnk = np.log(self.kappa_c1)
        ev.A = ev.lnk * ev.nsig[:, None, None, None]
        keep = np.where(ev.nested[:, None, None, None], L.offdiag[None, :, :, None], True)
        ev.W0 = np.where(keep, self.w0_c1, 0.0)
        ev.W = ev.W0 * self.kappa_c1
        with np.errstate(divide="ignore"):
            ev.AF = ev.A + ev.lnk + np.log(ev.W0)  # ln(kappa^(1 - sigma) w_0), -inf where the term is zero
        ev.tau_W = np.divide(self.tau_c1, ev.W, out=np.zeros(ev.W.shape), where=ev.W > 0)  # z = F C tau / (W p)
        ev.cd = [int(i) for i in np.flatnonzero(sig == 1.0)]
        ar = np.arange(R)
        ev.tau_home = np.ascontiguousarray(self.tau_c1[:, ar, ar, :])
        ev.lnk_home = np.ascontiguousarray(ev.lnk[:, ar, ar, :])  # [i, s, class]
        ev.w0_home = np.ascontiguousarray(self.w0_c1[:, ar, ar, :])
        ev.F = np.empty((S, R, R, n_u))
        ev.M = np.empty((S, R, B, n_u))
        ev.V = np.zeros((S, R, B, n_u))
        ev.C = np.empty((S, R, R, n_u))
        return ev

    @cached_property
    def lnkappa(self):
        return np.log(self.kappa)


class System:
    """Residuals and Jacobian of the reduced system of one model (see the module docstring)."""

    def __init__(self, layout):
        self.lay = layout
        if not layout.common and type(self)._agent_prices is System._agent_prices and not layout.grouped:
            self._check_nests()
            self._flows_by_composite()  # with the model's other constant arrays, not in its first solve

    def _check_nests(self):
        """The premise of the evaluations by agent (:attr:`FlowInstruments.agent_terms`): in a commodity with
        an import nest (``sigma_mm != sigma_dm``) every import flow enters one (a buyer without a nest
        has no imports, as the nest exists wherever benchmark imports do)."""
        L = self.lay
        nested = np.flatnonzero(L.sig_mm != L.sig_dm)
        stray = L.flow[:, nested] & ~L.nest[nested][None]
        ar = np.arange(L.R)
        stray[ar, :, ar, :] = False
        if stray.any():
            r, i, s, b = (int(v[0]) for v in np.nonzero(stray))
            P = L.params
            raise ValueError(
                f"benchmark flow of {P.sectors[nested[i]]} from {P.regions[r]} to {P.buyers[b]} in {P.regions[s]} "
                "has no import nest (zero benchmark imports of that composite); the benchmark is inconsistent"
            )

    # ------------------------------------------------------------------ unknowns
    def unpack(self, x):
        L = self.lay
        R, S = L.R, L.S
        p = np.ones(R * S)
        p[L.prod_idx] = x[L.col_p : L.col_p + L.N]
        y = np.zeros(R * S)
        y[L.prod_idx] = x[L.col_y : L.col_y + L.N]
        w = x[L.col_w : L.col_w + L.K]
        inc = x[L.col_inc : L.col_inc + R]
        ls = np.ones(R)
        ls[L.labour_regions] = x[L.col_ls : L.col_ls + L.L]
        return p.reshape(R, S), y.reshape(R, S), w, inc, ls

    def benchmark_point(self):
        return np.ones(self.lay.n)

    def block_pattern(self):
        """Rows and columns of the Jacobian's block-triangular pattern (:func:`cge.fast.solvers.factorise_blocks`).

        Zero profit against producer prices, goods markets against output (less the market of the
        numeraire, whose row is the numeraire's), and the border: factor markets, income balance,
        labour supply and that market. Unit costs do not depend on output, so zero profit against
        output is the zero block.
        """
        L = self.lay
        N, n = L.N, L.n
        rest = np.arange(2 * N, n)
        keep = np.delete(np.arange(N), L.walras_pos)
        first = (np.arange(L.row_zp, L.row_zp + N), np.arange(L.col_p, L.col_p + N))
        second = (L.row_mk + keep, L.col_y + keep)
        border = (np.concatenate([rest, [L.row_mk + L.walras_pos]]), np.concatenate([rest, [L.col_y + L.walras_pos]]))
        return first, second, border

    # ------------------------------------------------------------------ prices
    def prices(self, p, w, inst, st=None):
        """Every price index as a closed form of producer and factor prices."""
        L = self.lay
        st = SimpleNamespace() if st is None else st
        st.lnpd = np.log(p)[:, :, None, None] + inst.lnkappa
        st.pd = np.exp(st.lnpd)
        if L.common:
            st.pdc = p[:, :, None] * inst.kappa_c
            st.PMc = ces_index(L.sig_mm[:, None], [(L.th_Mc, st.pdc, 0)], exists=L.nest_c)
            st.PM = np.broadcast_to(st.PMc[:, :, None], L.th_nest.shape)
        else:
            st.PM = ces_index(L.sig_mm[:, None, None], [(L.th_M, st.pd, 0)], exists=L.nest)
        st.PA = ces_index(L.sig_dm[:, None, None], [(L.th_dir, st.pd, 0), (L.th_nest, st.PM, None)], exists=L.comp)
        self._buyer_prices(st, w)
        return st

    def _buyer_prices(self, st, w):
        """Buyer price indices, value-added price and unit cost from the Armington prices ``st.PA``."""
        L = self.lay
        R, S = L.R, L.S
        lnPA = getattr(st, "lnPA", None)
        st.PB = ces_index(L.sig_c, [(L.th_B, st.PA, 0)], exists=L.buyer) if lnPA is None else self._buyer_index(st)
        st.PINT, st.PFD = st.PB[:, :S], st.PB[:, S:]
        wu = np.ones((R, S, L.F))
        wu[L.use_s, L.use_j, L.use_f] = w[L.use_k]
        st.PVA = ces_index(L.sig_va, [(L.th_F, wu, 2)], exists=L.has_va)
        st.c = ces_index(L.sig_top, [(L.th_va, st.PVA, None), (L.th_int, st.PINT, None)], exists=L.prod)
        return st

    def _buyer_runs(self):
        """Runs of adjacent buyers with one elasticity ``sigma_c`` in every region, ``[(buyers, sigma)]``
        (sectors share ``sigma_int`` by sector, agents ``sigma_fd``), or ``None`` if the elasticities
        differ by region or make more than eight runs."""
        if not hasattr(self, "_pb_runs"):
            sig = self.lay.sig_c
            self._pb_runs = None
            if (sig == sig[:1]).all():
                col = sig[0]
                cut = [0] + [b for b in range(1, len(col)) if col[b] != col[b - 1]] + [len(col)]
                if len(cut) <= 9:
                    self._pb_runs = [(slice(a, b), float(col[a])) for a, b in zip(cut[:-1], cut[1:])]
        return self._pb_runs

    def _buyer_index(self, st):
        """Buyer price indices ``PB[s, b]`` (as :func:`ces_index` of ``PA`` with ``sigma_c``) from ``PA`` and
        ``ln PA``, by runs of buyers with one elasticity: sums of ``PA`` under Leontief, of ``ln PA``
        under Cobb-Douglas, one exponential per composite otherwise (no power function on composites)."""
        L = self.lay
        runs = self._buyer_runs() or [(slice(None), None)]
        pb = np.empty(L.buyer.shape)
        for g, sigma in runs:
            th, ln = L.th_B[..., g], st.lnPA[..., g]
            if sigma == 0.0:
                pb[:, g] = (th * st.PA[..., g]).sum(axis=0)
            elif sigma == 1.0:
                pb[:, g] = np.exp((th * ln).sum(axis=0))
            else:
                sig = L.sig_c[:, g] if sigma is None else sigma
                cd = np.asarray(sig == 1.0)
                rho = np.where(cd, 0.0, 1.0 - sig)
                acc = (th * np.exp(rho * ln)).sum(axis=0)
                with np.errstate(divide="ignore", invalid="ignore"):
                    out = np.power(acc, 1.0 / np.where(cd, 1.0, rho))
                if cd.any():
                    out = np.where(cd, np.exp((th * ln).sum(axis=0)), out)
                pb[:, g] = out
        return np.where(L.buyer, pb, 1.0)

    # ------------------------------------------------------------------ the whole state
    def evaluate(self, x, inst):
        """Prices, quantities and residual vector at ``x`` (a namespace, reused by the Jacobian).

        With sourcing by agent, flows enter as contractions of the benchmark flows with per-use
        prices and per-buyer weights (:meth:`_agent_flows`); the per-buyer flow arrays are built
        only when the Jacobian or the solution asks for them (:meth:`flows`).
        """
        L = self.lay
        p, y, w, inc, ls = self.unpack(x)
        st = SimpleNamespace()
        st.p, st.y, st.w, st.inc, st.ls, st.inst = p, y, w, inc, ls, inst
        if L.common:
            self.prices(p, w, inst, st)
        else:
            self._agent_prices(st, inst)
        self._quantities(st)
        if L.common:
            self._common_quantities(st, inst)
            fl = self.flows(st)
            sold = fl.U.sum(axis=(2, 3))
            revenue = fl.T.sum(axis=(0, 1, 3)) * L.params.income_0
        else:
            sold, revenue = self._agent_flows(st, inst)
        st.residual = self._residual(st, inst, sold, revenue)
        return st

    def _quantities(self, st):
        """Buyer quantity indices, composite demands and factor demands."""
        L = self.lay
        R, S = L.R, L.S
        y, w, inc = st.y, st.w, st.inc
        # buyer quantity index and composite demand
        qb = np.zeros((R, L.B))
        with np.errstate(divide="ignore", invalid="ignore"):
            qb[:, :S] = np.where(L.has_int, y * np.power(st.c / st.PINT, L.sig_top), 0.0)
            qb[:, S:] = np.where(L.agent_exists, inc[:, None] / st.PFD, 0.0)
        st.QB = qb
        if getattr(st, "lnPA", None) is None:  # the evaluations by agent have it from the price indices
            st.lnPA = np.log(st.PA)
        lnq = np.log(st.PB)[None] - st.lnPA  # QA = QB (PB / PA)^sigma_c
        lnq *= L.sig_c[None]
        st.QA = np.exp(lnq, out=lnq)
        st.QA *= qb[None]
        st.QA *= L.comp
        # factor demands
        ratio_va = np.where(L.has_va, st.c / st.PVA, 1.0)
        st.VAQ = y * np.power(ratio_va, L.sig_top)
        wk = w[L.use_k]
        pva_u = st.PVA[L.use_s, L.use_j]
        st.FD = L.use_fp0 * st.VAQ[L.use_s, L.use_j] * np.power(pva_u / wk, L.sig_va[L.use_s, L.use_j])

    def deliveries(self, st):
        """The flows ``Zb`` of :meth:`flows` alone (with sourcing by agent, one flow-size array instead of four).

        Subclasses that override :meth:`flows` get theirs."""
        L = self.lay
        if L.common or type(self).flows is not System.flows:
            return self.flows(st).Zb
        inst = st.inst
        sdm, smm = L.sig_dm[:, None, None], L.sig_mm[:, None, None]
        a_dir = np.exp(sdm * st.lnPA)
        a_imp = a_dir * np.exp((smm - sdm) * np.log(st.PM))
        zb = np.empty(L.d_0.shape)  # h of flows(), then the flows in place
        g_dir, g_imp = self._class_powers(st)
        for u, g in inst.groups:
            np.multiply(a_dir[None, :, :, g], g_dir[..., u, None], out=zb[..., g])
            np.copyto(zb[..., g], a_imp[None, :, :, g] * g_imp[..., u, None], where=L.imp[..., g])
        zb *= st.QA[None]
        zb *= L.d_0
        return zb

    def flows(self, st):
        """Per-buyer demand terms ``h``, flows ``Zb`` and their shares ``U`` (of output), ``T`` (of income) at ``st``.

        A namespace of its own (not kept on the state): flow-size arrays live while they are used.
        """
        L, P, inst = self.lay, self.lay.params, st.inst
        shape = L.d_0.shape
        fl = SimpleNamespace()
        if L.common:
            fl.h, fl.Zb = st.h, st.Zb
        else:  # h = PA^sdm pd^-sdm (direct), PA^sdm PM^(smm - sdm) pd^-smm (nested imports)
            sdm, smm = L.sig_dm[:, None, None], L.sig_mm[:, None, None]
            a_dir = np.exp(sdm * st.lnPA)
            a_imp = a_dir * np.exp((smm - sdm) * np.log(st.PM))
            g_dir, g_imp = self._class_powers(st)
            fl.h = h = np.empty(shape)
            fl.Zb = np.empty(shape)
            for u, g in inst.groups:
                np.multiply(a_dir[None, :, :, g], g_dir[..., u, None], out=h[..., g])
                np.copyto(h[..., g], a_imp[None, :, :, g] * g_imp[..., u, None], where=L.imp[..., g])
            np.multiply(h, st.QA[None], out=fl.Zb)
            fl.Zb *= L.d_0
        to_u = inst.tau_u / L.x_0[:, :, None, None]
        to_t = inst.t_u * inst.tau_u * st.p[:, :, None, None] / P.income_0[None, None, :, None]
        fl.U, fl.T = np.empty(shape), np.empty(shape)
        for u, g in inst.groups:
            np.multiply(fl.Zb[..., g], to_u[..., u, None], out=fl.U[..., g])
            np.multiply(fl.Zb[..., g], to_t[..., u, None], out=fl.T[..., g])
        return fl

    # ------------------------------------------------------------------ sourcing by agent: contractions
    def _transform(self, sigma, price):
        """``price^(1 - sigma)``, or ``ln price`` where ``sigma = 1``: the terms a CES index sums."""
        cd = sigma == 1.0
        if not cd.any():
            return np.power(price, 1.0 - sigma)
        return np.where(cd, np.log(price), np.power(price, np.where(cd, 1.0, 1.0 - sigma)))

    def _flows_by_composite(self):
        """The benchmark flows as ``[i, s, b, r]`` (a contiguous copy, made once): each composite's
        flows a small matrix buyers x exporters, so that the contractions of an evaluation are
        batched matrix products (:meth:`_agent_prices`, :meth:`_agent_flows`)."""
        if getattr(self, "_d0_isbr", None) is None:
            self._d0_isbr = np.ascontiguousarray(self.lay.d_0.transpose(1, 2, 3, 0))
        return self._d0_isbr

    def _ln_index(self, sigma, acc, exists, absent=None):
        """``(P, ln P)`` of CES indices from their sums of terms ``acc`` (the inverse of :meth:`_transform` on their sum), 1 and 0 where not ``exists``
        (``absent``: ``1.0 - exists`` as floats, when the caller keeps it)."""
        cd = sigma == 1.0
        ln = acc + (~exists if absent is None else absent)  # acc is 0 where the index does not exist: a log of 1 there, not of 0 (slow and -inf)
        np.log(ln, out=ln)
        if not cd.any():
            ln *= 1.0 / (1.0 - sigma)
        else:
            ln = np.where(cd, acc, ln / np.where(cd, 1.0, 1.0 - sigma))
            np.copyto(ln, 0.0, where=~exists)
        return np.exp(ln), ln

    def _class_powers(self, st):
        """``(g_dir, g_imp)``: ``pd^-sigma_dm`` and ``pd^-sigma_mm`` per price class, ``[r, i, s, class]``.

        Made when first asked for (by the Jacobian and the flows; an evaluation by agent needs neither).
        ``g_imp`` is ``pd`` to the power of the one term per commodity of
        :attr:`FlowInstruments.agent_terms`: exact on the import cells of nested commodities, which are
        the only cells that read it."""
        if getattr(st, "g_dir", None) is None:
            ev = st.inst.agent_terms
            lnp = np.log(st.p).T[:, None, :, None]
            lnpd = lnp + ev.lnk  # [i, s, r, class]
            lnpd *= -self.lay.sig_dm[:, None, None, None]
            st.g_dir = np.exp(lnpd, out=lnpd).transpose(2, 0, 1, 3)
            g = ev.A + lnp * ev.nsig[:, None, None, None]
            st.g_imp = np.exp(g, out=g).transpose(2, 0, 1, 3)
        return st.g_dir, st.g_imp

    def _agent_prices(self, st, inst):
        """Import and Armington price indices as contractions of per-class delivered prices with benchmark flows.

        A buyer's delivered price ``p kappa`` depends on its price class only, so CES terms are per
        class. Each commodity needs one term per exporter: imports into the import nest
        (``sigma_mm``, zero at home) where the commodity is nested, every origin (``sigma_dm``) where
        it is not (:attr:`FlowInstruments.agent_terms`); the domestic terms of nested commodities
        are per (commodity, importer, class). ``th_M = v_0 / m_0`` and ``th_dir = v_0 / qa_0`` with
        ``v_0 = d_0 (1 + t^0)`` turn the sums over exporters into one batched product of the
        benchmark flows ``[i, s, b, r]`` with the terms ``pd^(1 - sigma) w_0 = exp(AF + (1 - sigma) ln p)``
        (``AF`` per scenario, ``ln p`` broadcast over importers, no power function).
        """
        L = self.lay
        S, R = L.S, L.R
        ev = inst.agent_terms
        n_u = ev.A.shape[3]
        if not hasattr(self, "d_own"):
            P = L.params
            ar = np.arange(R)
            self.d_own = np.ascontiguousarray(L.d_0[ar, :, ar, :].transpose(1, 0, 2))  # [i, s, b]
            self.inv_m0 = _inverse(P.m_0.transpose(2, 0, 1), L.nest)
            self.inv_qa0 = _inverse(P.qa_0.transpose(2, 0, 1), L.comp)
            self.absent_nest, self.absent_comp = (~L.nest).astype(float), (~L.comp).astype(float)
        lnp = np.log(st.p).T  # [i, r]
        per_producer = self._per_producer(n_u)
        F = np.add(ev.AF.reshape(S, R, -1), per_producer(lnp * (1.0 + ev.nsig[:, None])), out=ev.F.reshape(S, R, -1))
        F = np.exp(F, out=F).reshape(S, R, R, n_u)  # pd^(1 - sigma) w_0 [i, s, r, class]
        st.g_imp = st.g_dir = None  # pd^-sigma when asked for: _class_powers
        for i in ev.cd:  # Cobb-Douglas nests sum logs of delivered prices (see _transform)
            F[i] = (ev.lnk[i] + lnp[i][None, :, None]) * ev.W0[i]
        M = np.matmul(self._flows_by_composite(), F, out=ev.M)  # [i, s, b, class]
        X = np.empty(L.comp.shape)
        for u, g in inst.groups:
            X[:, :, g] = M[:, :, g, u]
        nested = ev.nested[:, None, None]
        sdm = L.sig_dm[:, None, None]
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            st.PM, st.lnPM = self._ln_index(L.sig_mm[:, None, None], X * self.inv_m0, L.nest, self.absent_nest)
            lnpd = lnp[:, :, None] + ev.lnk_home  # [i, s, class]: domestic delivered prices
            st.g_home = np.exp(-sdm * lnpd)
            f_home = self._transform(sdm, np.exp(lnpd)) * ev.w0_home
            own = np.where(nested, self.d_own * f_home[:, :, inst.use], X)
            pm_term = self._transform(sdm, st.PM) if (L.sig_dm == 1.0).any() else np.exp((1.0 - sdm) * st.lnPM)
            acc = own * self.inv_qa0 + L.th_nest * pm_term
            st.PA, st.lnPA = self._ln_index(sdm, acc, L.comp, self.absent_comp)
        self._buyer_prices(st, st.w)

    def _per_producer(self, n_u):
        """``[i, r] -> [i, 1, (r, class)]``: a per-producer array broadcast over importers on the layout
        ``[i, s, (r, class)]`` (the broadcast axis in the middle: several times faster than along a short inner axis)."""
        S = self.lay.S
        return lambda a: np.repeat(a[:, :, None], n_u, axis=2).reshape(S, 1, -1)

    def _agent_flows(self, st, inst):
        """Deliveries of each producer (relative to output) and tariff revenue of each region, as contractions.

        ``z = QA (PA / pd)^sigma_dm`` for direct flows and ``QA (PA / PM)^sigma_dm (PM / pd)^sigma_mm``
        for nested imports: a per-buyer factor ``a`` times a per-class ``pd^-sigma``. The sums over the
        buyers of each class are one batched product of the benchmark flows with the factors (a
        per-scenario buffer ``[i, s, b, class]``, zero outside each buyer's class) in the layout of
        the terms of :meth:`_agent_prices`; the domestic flows of nested commodities are added per
        (commodity, importer, class).
        """
        L = self.lay
        S, R = L.S, L.R
        ev = inst.agent_terms
        n_u = ev.A.shape[3]
        per_producer = self._per_producer(n_u)
        sdm, smm = L.sig_dm[:, None, None], L.sig_mm[:, None, None]
        a = st.QA * np.exp(sdm * st.lnPA)
        nested = ev.nested[:, None, None]
        a_h = np.where(nested, np.where(L.nest, a * np.exp((smm - sdm) * st.lnPM), 0.0), a)  # imports, or every origin
        V = ev.V
        for u, g in inst.groups:
            V[:, :, g, u] = a_h[:, :, g]
        C = np.matmul(self._flows_by_composite().transpose(0, 1, 3, 2), V, out=ev.C)  # [i, s, r, class]
        cd = {i: C[i] * np.exp(-(ev.lnk[i] + np.log(st.p[:, i])[None, :, None])) * inst.tau_c1[i] for i in ev.cd}  # pd^-1 C tau
        z = np.multiply(ev.F, C, out=C)  # sales at delivered prices: pd^-sigma C tau = F C tau / (W p)
        z *= ev.tau_W
        z.reshape(S, R, -1)[...] *= per_producer(1.0 / st.p.T)
        for i, zi in cd.items():
            z[i] = zi
        ar = np.arange(R)
        home = np.zeros((S, R, n_u))  # domestic sales of nested commodities by class
        for u, g in inst.groups:
            home[:, :, u] += np.einsum("isb,isb->is", self.d_own[:, :, g], a[:, :, g])
        nest_i = np.flatnonzero(ev.nested)
        z[nest_i[:, None], ar[None, :], ar[None, :], :] = (st.g_home * home * ev.tau_home)[nest_i]
        sold = z.reshape(S, R, -1).sum(axis=1).reshape(S, R, n_u).sum(axis=2).T / L.x_0
        z *= inst.t_c1
        pv = np.repeat(st.p.T[:, :, None], n_u, axis=2).reshape(S, -1, 1)  # [i, (r, class), 1]
        revenue = np.matmul(z.reshape(S, R, -1), pv)[..., 0].sum(axis=0)
        return sold, revenue

    def _common_quantities(self, st, inst):
        """Common sourcing: one import composite per (commodity, importer), allocated to buyers."""
        L = self.lay
        sdm = L.sig_dm[None, :, None, None]
        h = np.exp(sdm * (st.lnPA[None] - st.lnpd)) * L.direct
        dan = np.where(L.nest, np.power(st.PA / st.PM, L.sig_dm[:, None, None]), 0.0)
        weight = L.mu * st.QA * dan  # [i, s, b]
        st.QM = weight.sum(axis=2)
        hc = np.where(L.route, np.power(st.PMc[None] / st.pdc, L.sig_mm[None, :, None]), 0.0)
        st.z_imp = st.QM[None] * hc  # [r, i, s] relative
        total = L.d_imp * st.z_imp
        share = np.divide(weight, st.QM[:, :, None], out=np.zeros_like(weight), where=st.QM[:, :, None] > 0)
        st.Zb = L.d_0 * st.QA[None] * h + total[..., None] * share[None] * L.offdiag[:, None, :, None]
        st.h, st.hc, st.dan = h, hc, dan

    def _price_derivatives(self, st, h):
        """``D = dPA[i, s, b] / dp[r, i]`` and ``dPM / dp / PM`` on the flow layout (Shephard's lemma)."""
        L, inst = self.lay, st.inst
        if L.common:
            dmc = L.th_Mc * st.hc * inst.kappa_c  # d PM[i, s] / d p[r, i]
            D = L.th_dir * h * inst.kappa + (L.th_nest * st.dan)[None] * dmc[..., None]
            dm = np.where(L.nest[None] & L.offdiag[:, None, :, None], (dmc / st.PMc[None])[..., None], 0.0)
        else:
            D = np.empty(L.d_0.shape)
            th_A = L.th_A
            for u, g in inst.groups:
                np.multiply(th_A[..., g], inst.kappa_u[..., u, None], out=D[..., g])
            D *= h
            da_nest = np.where(L.nest, L.th_nest * np.power(st.PA / st.PM, L.sig_dm[:, None, None]), 1.0)
            dm = np.where(L.imp, D / (da_nest * st.PM)[None], 0.0)
        return D, dm

    # ------------------------------------------------------------------ residuals
    def _residual(self, st, inst, sold, revenue):
        """Reduced residuals, given the deliveries of each producer ``sold`` (relative to output) and each region's tariff revenue."""
        L, P = self.lay, self.lay.params
        R = L.R
        res = np.empty(L.n)
        res[L.row_zp : L.row_zp + L.N] = (st.p - inst.markup * st.c).ravel()[L.prod_idx]
        excess = (st.y - sold).ravel()[L.prod_idx]
        st.walras_excess = float(excess[L.walras_pos])
        excess[L.walras_pos] = self.numeraire_residual(st, inst)
        res[L.row_mk : L.row_mk + L.N] = excess
        supply = np.ones(L.K)  # supply index of each factor market: 1, or the region's labour supply
        endogenous = L.supply_ls >= 0
        supply[endogenous] = st.ls[np.array(L.labour_regions, dtype=int)][L.supply_ls[endogenous]]
        st.WL = L.cet_wage(st.w)
        if len(L.cet_k):  # sector labour supplies of the CET: (w / W)^eta
            k = L.cet_k
            supply[k] *= np.power(st.w[k] / st.WL[L.cet_region[k]], L.cet_eta)
        st.supply = supply
        demand = np.bincount(L.use_k, weights=st.FD * L.fm_coef, minlength=L.K)
        res[L.row_fm : L.row_fm + L.K] = demand - supply
        factor_income = np.bincount(L.use_s, weights=st.w[L.use_k] * st.FD, minlength=R)
        st.revenue = revenue
        st.output_tax_revenue = (inst.to * st.c * st.y * P.x_0).sum(axis=1)
        st.transfer_index = L.closure.transfer_index(inst.numeraire_value, st.inc * P.income_0, P.income_0)
        income = factor_income + st.revenue + st.output_tax_revenue + inst.transfer * st.transfer_index
        res[L.row_ib : L.row_ib + R] = st.inc - income / P.income_0
        if L.L:
            res[L.row_ls : L.row_ls + L.L] = self._labour_residual(st)
        return res

    def numeraire_residual(self, st, inst):
        L = self.lay
        if L.numeraire_output is not None:
            return st.p.ravel()[L.prod_idx[L.numeraire_output]] - inst.numeraire_value
        return float(L.numeraire_weights @ st.w[L.numeraire_keys]) - inst.numeraire_value

    def _labour_residual(self, st):
        L, P = self.lay, self.lay.params
        s = np.array(L.labour_regions)
        wl = st.w[L.labour_market[s]]
        pfd = st.PFD[s, P.household]
        if L.closure.labour == "fixed_real_wage":
            return wl - pfd
        eta = L.closure.labour_supply_elasticity
        return st.ls[s] - np.power(wl / pfd, eta)

    # ------------------------------------------------------------------ Jacobian
    def jacobian(self, st):
        """Exact dense Jacobian of the residual vector at the state ``st``."""
        L, P = self.lay, self.lay.params
        R, S, B, N, K = L.R, L.S, L.B, L.N, L.K
        RS, RB = R * S, R * B
        prod = L.prod_idx
        J = np.zeros((L.n, L.n))
        cp, cy, cw, ci = L.col_p, L.col_y, L.col_w, L.col_inc
        zp, mk, ib = L.row_zp, L.row_mk, L.row_ib
        p_prod = st.p.ravel()[prod]
        y_prod = st.y.ravel()[prod]
        grows = self._buyer_terms(st)[2]
        # ---- price block: Shephard's lemma
        with np.errstate(divide="ignore", invalid="ignore"):
            pb_pa = np.where(L.comp, L.th_B * np.power(st.PB[None] / st.PA, L.sig_c[None]), 0.0)  # dPB/dPA [i, s, b]
            c_pint = np.where(L.has_int, L.th_int * np.power(st.c / st.PINT, L.sig_top), 0.0)
            c_pva = np.where(L.has_va, L.th_va * np.power(st.c / st.PVA, L.sig_top), 0.0)
        every = N == RS  # every region produces every good: no selection of producers needed
        # sourcing by agent, flows as System builds them (a subclass with flows of its own keeps the whole-array path)
        chunked = not (L.common or L.grouped) and type(self).flows is System.flows and type(self)._price_derivatives is System._price_derivatives
        # zero profit x prices straight into J when unit costs are needed nowhere else (no output
        # tax, sigma_top = 0, no buyer-level terms of sectors): dPB/dp then kept for agents only
        into_j = (
            chunked and every and not st.inst.to.ravel()[prod].any() and not L.sig_top.ravel()[prod].any()
            and not (grows % B < S).any()
        )
        if chunked:  # sourcing by agent: the flow terms one commodity at a time (no flow-size arrays)
            J[mk + np.arange(N), cy + np.arange(N)] = 1.0
            zp_coef = st.inst.markup * c_pint if into_j else None
            ft = self._agent_flow_terms(st, pb_pa, grows, J, zp_coef)  # fills goods markets x output in place
            U = T = None
            jpb = _AgentRows(ft.jpb_agents.reshape(R * L.A, RS), B, S) if into_j else ft.jpb.reshape(RB, RS)
        else:
            fl = self.flows(st)
            U, T = fl.U, fl.T
            if L.grouped:  # the firm-size nest (cge.fast.sizenest): its own Armington and size terms
                dsold, jrev, D = self.price_terms(st, U, T)
                pb_pa = pb_pa[L.gidx]  # dPB / dPA of each commodity's group
            else:
                D, dm = self._price_derivatives(st, fl.h)
            del fl
            jpb = np.multiply(D, pb_pa[None], order="C").transpose(2, 3, 0, 1).reshape(RB, RS)  # dPB[s, b] / dp (C order: D may be a view)
        jc_p = None
        if not into_j:
            if not every:
                jpb = jpb[:, prod]
            jc_p = jpb[(prod // S) * B + prod % S]
            jc_p *= c_pint.ravel()[prod][:, None]
        wk = st.w[L.use_k]
        pva_w = np.zeros((N, K))
        np.add.at(pva_w, (L.use_pos, L.use_k), L.use_theta * np.power(st.PVA[L.use_s, L.use_j] / wk, L.sig_va[L.use_s, L.use_j]))
        jc_w = c_pva.ravel()[prod][:, None] * pva_w

        idx = np.arange(N)
        markup = st.inst.markup.ravel()[prod][:, None]
        if into_j:
            J[zp + idx, cp + idx] += 1.0
        else:
            J[zp + idx, cp + idx] = 1.0
            for a in range(0, N, ROWS):  # in slices of rows: no temporary of the block's size
                J[zp + a : zp + min(a + ROWS, N), cp : cp + N] -= markup[a : a + ROWS] * jc_p[a : a + ROWS]
        J[zp : zp + N, cw : cw + K] = -markup * jc_w

        # ---- goods markets
        if not chunked:
            J[mk + idx, cy + idx] = 1.0
            # sales to the producing sectors: rows and columns taken from U (a copy of U[..., :S] is slow)
            uy = U.reshape(RS, RB) if every else np.take(U.reshape(RS, RB), prod, axis=0)
            uy = np.take(uy, (prod // S) * B + prod % S, axis=1)
            uy /= y_prod[None, :]
            J[mk : mk + N, cy : cy + N] -= uy
            del uy
        sold_agents = ft.uf if chunked else U[..., S:].sum(axis=3)  # [r, i, s]
        J[mk : mk + N, ci : ci + R] = -(sold_agents / st.inc[None, None, :]).reshape(RS, R)[prod]
        if chunked:
            self._scatter_goods_prices(J, ft.blocks, ft.own, p_prod)
        elif L.grouped:
            J[mk : mk + N, cp : cp + N] -= dsold if every else np.take(np.take(dsold, prod, axis=0), prod, axis=1)
            del dsold
        else:
            self._goods_price_block(J, st, U, D, dm, p_prod)

        # ---- income balance
        TB = ft.TB if chunked else T.sum(axis=(0, 1))  # [s, b]
        ridx = np.arange(R)
        J[ib + ridx, ci + ridx] = 1.0 - TB[:, S:].sum(axis=1) / st.inc
        if L.closure.transfer == "world_income_share":  # transfer_s = B_s sum_r I_r / sum_r I0_r
            J[ib : ib + R, ci : ci + R] -= np.outer(st.inst.transfer / P.income_0, P.income_0 / P.income_0.sum())
        reg = prod // S
        J[ib + reg, cy + idx] = -TB[reg, prod % S] / y_prod
        if chunked:
            jp = ft.jp
        elif L.grouped:
            jp = jrev
        else:
            jp = self._income_price_block(st, T, D, dm)
        J[ib : ib + R, cp : cp + N] = -jp.reshape(R, RS)[:, prod]
        ub = ft.ub.reshape(RS, -1)[prod] if chunked else None
        self._jacobian_rest(J, st, U, T, TB, jpb, jc_p, jc_w, c_pint, c_pva, pva_w, p_prod, y_prod, ub=ub)
        return J

    def _agent_flow_terms(self, st, pb_pa, grows, J=None, zp_coef=None):
        """The Jacobian's flow-level terms with sourcing by agent, built one commodity at a time.

        The same terms as :meth:`flows`, :meth:`_price_derivatives`, :meth:`_goods_price_block` and
        :meth:`_income_price_block` make from whole flow arrays, reduced per commodity ``i``
        (slices ``[r, s, b]`` of the flows) as soon as they are made: ``jpb`` (dPB[s, b] / dp[r, i],
        as ``[s, b, r, i]``), ``uy`` (sales to sectors ``[r, i, s, j]``), ``uf`` (sales to agents
        ``[r, i, s]``), the same-commodity price blocks ``blocks[i, r, q]`` and own-price terms
        ``own[r, i]`` of goods markets, ``TB[s, b]`` (tariff revenue by buyer), ``jp[s, q, i]``
        (tariff revenue against producer prices) and ``ub`` (sales to the buyers ``grows`` whose
        price index or unit cost terms enter, ``[r, i, grows]``). No flow-size array is kept, so
        memory stays that of the Jacobian; the products run in one BLAS thread (bits independent
        of the thread count, see :func:`_same_commodity`). ``J``: when given, the Jacobian, from whose
        goods-market x output block the sales to sectors over their output are subtracted in place
        instead of returned as ``uy``. ``zp_coef[s, j]`` (with ``J``, every region producing every
        good): zero profit x producer prices is ``-zp_coef dPINT/dp`` in ``J`` (the unit ``1`` on its
        diagonal left to the caller), and ``jpb`` is kept for the agents only (``jpb_agents``).
        """
        L, P, inst = self.lay, self.lay.params, st.inst
        R, S, B = L.R, L.S, L.B
        use = inst.use
        sdm, smm = L.sig_dm[:, None, None], L.sig_mm[:, None, None]
        a_dir = np.exp(sdm * st.lnPA)  # h = a pd^-sigma: see flows()
        g_dir, g_imp = self._class_powers(st)
        a_imp = a_dir * np.exp((smm - sdm) * np.log(st.PM))
        to_u = inst.tau_u / L.x_0[:, :, None, None]
        to_t = inst.t_u * inst.tau_u * st.p[:, :, None, None] / P.income_0[None, None, :, None]
        coef_pa = L.coef_pa / st.PA
        cpm = L.coef_pm_c
        sig_flow = L.sig_dm[:, None, None] + cpm
        with np.errstate(divide="ignore", invalid="ignore"):
            da_nest = np.where(L.nest, L.th_nest * np.power(st.PA / st.PM, L.sig_dm[:, None, None]), 1.0)
            inv_m = 1.0 / (da_nest * st.PM)  # dm = D / (da_nest PM) on import cells
        ar = np.arange(R)
        pos = L.prod_pos.reshape(R, S)  # position of each producer, -1 for none
        seller = (L.row_mk + pos).T  # [i, r]: goods-market row of each producer
        buyers = np.flatnonzero(pos.ravel() >= 0)  # producers among the (s, j), in column order
        inv_y = 1.0 / st.y.ravel()[buyers]
        ft = SimpleNamespace(
            jpb=np.empty((R, B, R, S)) if zp_coef is None else None, uy=None if J is not None else np.empty((R, S, R, S)), uf=np.empty((R, S, R)), blocks=np.empty((S, R, R)),
            own=np.empty((R, S)), TB=np.zeros((R, B)), jp=np.empty((R, R, S)), ub=np.empty((R, S, len(grows))),
        )
        if zp_coef is not None:
            ft.jpb_agents = np.empty((R, B - S, R, S))
            jzp = J[L.row_zp : L.row_zp + L.N, L.col_p : L.col_p + L.N].reshape(R, S, R, S)  # [s, j, r, i]
            zp_coef = zp_coef[:, :, None]
        xbuf = np.empty((min(S, COMMODITY_CHUNK), R, B, R))  # dPB / dp of a few commodities, written to J together

        def flush(a, b):
            x = xbuf[: b - a].transpose(1, 2, 3, 0)  # [s, b, r, i]
            if zp_coef is None:
                ft.jpb[..., a:b] = x
            else:
                jzp[..., a:b] -= zp_coef[..., None] * x[:, :S]
                ft.jpb_agents[..., a:b] = x[:, S:]

        i0 = 0
        with one_blas_thread():
            for i in range(S):
                imp = L.imp[:, i]
                h = _by_buyer(g_dir[:, i], use) * a_dir[i][None]
                if imp.any():
                    h = np.where(imp, _by_buyer(g_imp[:, i], use) * a_imp[i][None], h)
                zb = h * st.QA[i][None]
                zb *= L.d_0[:, i]
                u = zb * _by_buyer(to_u[:, i], use)
                t = zb * _by_buyer(to_t[:, i], use)
                del zb
                D = L.th_A_of(i) * _by_buyer(inst.kappa_u[:, i], use)
                D *= h
                np.multiply(D, pb_pa[i][None], out=xbuf[i - i0].transpose(2, 0, 1))  # dPB[s, b] / dp[r, i] as [s, b, r]
                if i + 1 - i0 == len(xbuf) or i + 1 == S:  # commodities i0..i into the Jacobian's [..., r, i] blocks
                    flush(i0, i + 1)
                    i0 = i + 1
                if J is None:
                    ft.uy[:, i] = u[..., :S]
                else:
                    rows = np.flatnonzero(pos[:, i] >= 0)
                    J[seller[i, rows], L.col_y : L.col_y + L.N] -= u[rows, :, :S].reshape(len(rows), R * S)[:, buyers] * inv_y
                ft.uf[:, i] = u[..., S:].sum(axis=2)
                blk = (u * coef_pa[i][None]).reshape(R, -1) @ D.reshape(R, -1).T
                ta = t.sum(axis=0)  # [s, b]
                jp = np.einsum("sb,qsb->sq", ta * coef_pa[i], D)
                if cpm[i].any():
                    dm = np.where(imp, D * inv_m[i][None], 0.0)
                    x = u * cpm[i][None]
                    x[ar, ar, :] = 0.0
                    blk += x.reshape(R, -1) @ dm.reshape(R, -1).T
                    jp += np.einsum("sb,qsb->sq", ta * cpm[i], dm)
                ft.blocks[i] = blk
                ft.own[:, i] = np.einsum("rsb,sb->r", u, sig_flow[i]) - (u[ar, ar, :] * cpm[i]).sum(axis=1)
                ft.TB += ta
                t_sig = np.einsum("rsb,sb->rs", t, sig_flow[i])
                t_sig[ar, ar] -= (t[ar, ar, :] * cpm[i]).sum(axis=1)
                jp += ((t.sum(axis=2) - t_sig) / st.p[:, i, None]).T
                ft.jp[:, :, i] = jp
                if len(grows):
                    ft.ub[:, i] = u.reshape(R, -1)[:, grows]
        return ft

    def _buyer_terms(self, st):
        """Coefficients of ``d ln PB`` and ``d ln c`` in the flows of each buyer ``[s, b]``, and the buyers where one is not zero."""
        L = self.lay
        with np.errstate(divide="ignore", invalid="ignore"):
            coef_pb = np.where(L.buyer, L.a_pb / st.PB, 0.0)
            coef_c = np.zeros((L.R, L.B))
            coef_c[:, : L.S] = np.where(L.has_int, L.a_c[:, : L.S] / st.c, 0.0)
        return coef_pb, coef_c, np.flatnonzero((coef_pb != 0) | (coef_c != 0))

    def _goods_price_block(self, J, st, U, D, dm, p_prod):
        """Goods markets x producer prices through the Armington nests (no firm-size nest)."""
        L = self.lay
        R = L.R
        coef_pa = L.coef_pa / st.PA  # d ln PA = D / PA dp
        blocks = _same_commodity(U * coef_pa[None], D)
        cpm = L.coef_pm_c  # [i, s, b]; on import cells only (r != s)
        ar = np.arange(R)
        if cpm.any():
            x = U * cpm[None]
            x[ar, :, ar, :] = 0.0
            blocks += _same_commodity(x, dm)
            del x
        sig_flow = L.sig_dm[:, None, None] + cpm  # [i, s, b], sigma_dm on domestic cells
        own = np.einsum("risb,isb->ri", U, sig_flow)
        own[ar] -= (U[ar, :, ar, :] * cpm.transpose(1, 0, 2)).sum(axis=2)
        self._scatter_goods_prices(J, blocks, own, p_prod)

    def _scatter_goods_prices(self, J, blocks, own, p_prod):
        """Goods markets x producer prices: the same-commodity blocks ``blocks[i, r, q]`` into the (empty) price columns, and the own-price terms ``own[r, i]``."""
        L = self.lay
        R, S, N = L.R, L.S, L.N
        mk, cp = L.row_mk, L.col_p
        idx = np.arange(N)
        pos = L.prod_pos.reshape(R, S).T  # [i, r]: position of each producer, -1 for none
        rows, cols = np.broadcast_arrays(pos[:, :, None], pos[:, None, :])
        ok = (rows >= 0) & (cols >= 0)
        J[mk + rows[ok], cp + cols[ok]] = -blocks[ok]
        J[mk + idx, cp + idx] += own.ravel()[L.prod_idx] / p_prod

    def _income_price_block(self, st, T, D, dm):
        """Tariff revenue x producer prices ``[s, q, i]`` through the Armington nests (no firm-size nest)."""
        L = self.lay
        R = L.R
        coef_pa = L.coef_pa / st.PA
        cpm = L.coef_pm_c
        ar = np.arange(R)
        sig_flow = L.sig_dm[:, None, None] + cpm
        TA = T.sum(axis=0)  # [i, s, b]
        jp = np.einsum("isb,qisb->sqi", TA * coef_pa, D)
        if cpm.any():
            jp += np.einsum("isb,qisb->sqi", TA * cpm, dm)
        t_sig = np.einsum("risb,isb->ris", T, sig_flow)
        t_sig[ar, :, ar] -= (T[ar, :, ar, :] * cpm.transpose(1, 0, 2)).sum(axis=2)
        jp += ((T.sum(axis=3) - t_sig) / st.p[:, :, None]).transpose(2, 0, 1)
        return jp

    def _jacobian_rest(self, J, st, U, T, TB, jpb, jc_p, jc_w, c_pint, c_pva, pva_w, p_prod, y_prod, ub=None):
        """Factor income, output taxes, buyer-level terms, factor markets, numeraire and labour supply.

        ``ub``: sales of each producer to the buyers with buyer-level terms (``U`` at those buyers,
        producers x buyers of :meth:`_buyer_terms`), when ``U`` is not given."""
        L, P = self.lay, self.lay.params
        R, S, B, N, K = L.R, L.S, L.B, L.N, L.K
        RS, RB = R * S, R * B
        prod = L.prod_idx
        cp, cy, cw, cl = L.col_p, L.col_y, L.col_w, L.col_ls
        mk, fm, ib, lsr = L.row_mk, L.row_fm, L.row_ib, L.row_ls
        idx = np.arange(N)
        # factor income: the direct term w -> w * FD (the FD terms follow with the factor markets)
        np.add.at(J, (ib + L.use_s, cw + L.use_k), -st.FD / P.income_0[L.use_s])

        # output-tax revenue t^o c Y X0 / I0 in income balance
        to = st.inst.to.ravel()[prod]
        if to.any():
            reg = prod // S
            base = to * P.x_0.ravel()[prod] / P.income_0[reg]
            J[ib + reg, cy + idx] -= base * st.c.ravel()[prod]
            G = np.zeros((R, N))
            G[reg, idx] = base * y_prod
            J[ib : ib + R, cp : cp + N] -= G @ jc_p
            J[ib : ib + R, cw : cw + K] -= G @ jc_w

        # ---- buyer-level terms (price index and unit cost of each buyer)
        coef_pb, coef_c, grows = self._buyer_terms(st)
        if len(grows):
            g_p = (coef_pb.ravel()[grows] + coef_c.ravel()[grows] * np.pad(c_pint, ((0, 0), (0, B - S))).ravel()[grows])[:, None] * jpb[grows]
            g_w = np.zeros((len(grows), K))
            sec = grows % B < S
            pos = L.prod_pos[(grows[sec] // B) * S + grows[sec] % B]
            g_w[sec] = (coef_c.ravel()[grows[sec]] * c_pva.ravel()[(grows[sec] // B) * S + grows[sec] % B])[:, None] * pva_w[pos]
            if ub is None:
                ub = U.reshape(RS, RB)[np.ix_(prod, grows)]
            J[mk : mk + N, cp : cp + N] -= ub @ g_p
            J[mk : mk + N, cw : cw + K] -= ub @ g_w
            tb = np.zeros((R, len(grows)))
            tb[grows // B, np.arange(len(grows))] = TB.ravel()[grows]
            J[ib : ib + R, cp : cp + N] -= tb @ g_p
            J[ib : ib + R, cw : cw + K] -= tb @ g_w

        # ---- factor markets, and the factor demands inside income balance
        sva = L.sig_va.ravel()[prod]
        stop = L.sig_top.ravel()[prod]
        pva_prod = st.PVA.ravel()[prod]
        c_prod = st.c.ravel()[prod]

        def demand_rows(rows, coef, nrows):
            """d(sum_u coef_u FD_u) / d(y, p, w) for rows given per factor use ``u``."""
            phi = st.FD * coef
            afu = np.zeros((nrows, N))
            np.add.at(afu, (rows, L.use_pos), phi)
            jy = afu / y_prod[None, :]
            jw = (afu * ((sva - stop) / pva_prod)[None, :]) @ pva_w
            np.add.at(jw, (rows, L.use_k), -phi * L.sig_va[L.use_s, L.use_j] / st.w[L.use_k])
            jp = None
            if stop.any():
                a_top = afu * (stop / c_prod)[None, :]
                jp = a_top @ jc_p
                jw += a_top @ jc_w
            return jy, jp, jw

        jy, jp_fm, jw = demand_rows(L.use_k, L.fm_coef, K)
        J[fm : fm + K, cy : cy + N] = jy
        if jp_fm is not None:
            J[fm : fm + K, cp : cp + N] = jp_fm
        J[fm : fm + K, cw : cw + K] = jw
        jy, jp_in, jw = demand_rows(L.use_s, st.w[L.use_k] / P.income_0[L.use_s], R)
        J[ib : ib + R, cy : cy + N] -= jy
        if jp_in is not None:
            J[ib : ib + R, cp : cp + N] -= jp_in
        J[ib : ib + R, cw : cw + K] -= jw
        for k in np.flatnonzero(L.supply_ls >= 0):
            J[fm + k, cl + L.supply_ls[k]] = -1.0
        if len(L.cet_k):  # d supply_k / d w: own price and, through W, every market of the region
            k = L.cet_k
            eta, region = L.cet_eta, L.cet_region[k]
            wk, W = st.w[k], st.WL[region]
            share = np.power(wk / W, eta)
            J[fm + k, cw + k] -= eta * share / wk
            dW = L.cet_theta[k] * np.power(wk / W, eta)  # dW[s] / dw_m for the markets m of region s
            same = region[:, None] == region[None, :]
            J[np.ix_(fm + k, cw + k)] += np.where(same, (eta * share / W)[:, None] * dW[None, :], 0.0)

        # ---- numeraire (in the row of the goods market left out)
        row = mk + L.walras_pos
        J[row, :] = 0.0
        if L.numeraire_output is not None:
            J[row, cp + L.numeraire_output] = 1.0
        else:
            J[row, cw + L.numeraire_keys] = L.numeraire_weights

        # ---- labour supply
        if L.L:
            hh = P.household
            for n, s in enumerate(L.labour_regions):
                k = L.labour_market[s]
                jpfd = jpb[s * B + S + hh]
                if L.closure.labour == "fixed_real_wage":
                    J[lsr + n, cw + k] = 1.0
                    J[lsr + n, cp : cp + N] = -jpfd
                else:
                    eta = L.closure.labour_supply_elasticity
                    pfd = st.PFD[s, hh]
                    q = (st.w[k] / pfd) ** eta
                    J[lsr + n, cl + n] = 1.0
                    J[lsr + n, cw + k] = -eta * q / st.w[k]
                    J[lsr + n, cp : cp + N] = eta * q / pfd * jpfd
        return J
