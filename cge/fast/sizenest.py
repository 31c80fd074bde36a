r"""The firm-size nest in the fast backend: buyers choose between SME and large-firm supplies of one origin.

On a benchmark split by firm size (:func:`cge.firms.split_firm_size`) the sectors ``j_sme`` and
``j_large`` make one commodity group ``g = j`` (:func:`cge.calibrate.size_groups`; an unsplit
sector is a group of one). A buyer ``b`` in ``s`` buys the group through the existing nests, one
level deeper:

* the upper nests (a sector's intermediate nest ``sigma_int``, an agent's final nest ``sigma_fd``)
  see one Armington composite per group, ``QA[g, s, b]`` at price ``PA[g, s, b]``;
* the Armington nests (``sigma_dm``, ``sigma_mm``; by agent or common, :mod:`cge.sourcing`)
  choose among origins ``r`` of the group at the route price ``PR[r, g, s, b]``;
* the route price is a CES (``sigma_size[g]``) of the delivered prices of the group's sizes from
  that origin, with benchmark value shares (at buyer prices):

.. math::
    P^R_{rgsb} = \Big(\sum_{i \in g} \theta^{size}_{risb}\, (p_{ri} \kappa_{risb})^{1 - \sigma^{size}_g}\Big)^{1/(1 - \sigma^{size}_g)},
    \qquad z_{risb} = z^R_{rgsb}\, (P^R_{rgsb} / p_{ri}\kappa_{risb})^{\sigma^{size}_g}

where :math:`z^R` is the route demand the Armington nests give with :math:`P^R` in place of a
delivered price. With common sourcing the import routes ``(r, g, s)`` carry one size mix for all
buyers of a region (``PRc[r, g, s]``, shares of the route's imports); domestic routes are each
buyer's. Goods markets clear per sector (size). With one size in a group :math:`P^R` is the
delivered price and the equations are those of :mod:`cge.fast.system`; with identical sizes
(``split_firm_size(rule="proportional")``) and the same instruments for both, the split model's
results are the unsplit model's, for any ``sigma_size`` (a test).

Jacobian (see :mod:`cge.fast.system` for the unnested form): with
:math:`s_{risb} = \partial \ln P^R_{rgsb} / \partial \ln p_{ri}` (the size's cost share in the
route at current prices), the log-change of a size flow is

.. math::
    d\ln z_{risb} = [\text{buyer terms}] + (\sigma^{dm}_g - \sigma^B_{sb})\, d\ln P^A_{gsb}
        + \nu (\sigma^{mm}_g - \sigma^{dm}_g)\, d\ln P^M_{gsb}
        + (\sigma^{size}_g - \sigma^{route}_{rgsb}) \sum_{i' \in g} s_{ri'sb}\, d\ln p_{ri'}
        - \sigma^{size}_g\, d\ln p_{ri}

and Shephard's lemma gives :math:`\partial P^A_{gsb} / \partial p_{ri} = (\partial P^A / \partial P^R_{rgsb})\, \theta^{size}_{risb} (P^R / p\kappa)^{\sigma^{size}} \kappa`.
The same-commodity products of the unnested Jacobian become same-group products (every pair of
sizes of a group: one matrix product per group, on sector-first copies of the flow terms with the
Armington and nested-import terms side by side; by class one term, as ``dm = D c`` off the
domestic routes, whose terms are subtracted after: :meth:`SizeNestSystem._class_price_terms`), and
the size term adds a block between the sizes of one producer region.

Evaluation by price class (sourcing by agent). A buyer's delivered prices depend on its price
class only (its use, or its duty exemption: :class:`cge.fast.system.FlowInstruments`); when its
size shares do too (:func:`_class_shares`: every buyer of a use mixes the sizes of a route alike,
as :func:`cge.firms.split_firm_size` makes them), so does the route price,
:math:`P^R_{rgs,u}`, and the evaluation is :mod:`cge.fast.system`'s by-class evaluation one level
up: ``PM`` and ``PA`` sum per-class powers of route prices over exporters with the benchmark
route values (:math:`\theta^M = v^R / m_0`, :math:`\theta^A = v^R / q^A_0`), and a size flow
:math:`z_{risb} = d_{0,risb}\, a^k_{gsb}\, (P^R_{rgs,u})^{\sigma^{size} - \sigma^k} p^d_{ris,u}{}^{-\sigma^{size}}`
(``a`` the buyer's ``QA PA^sigma_dm``, times ``PM^(sigma_mm - sigma_dm)`` on nested imports) sums
over buyers as a contraction of ``d_0`` with ``a``: two batched matrix products per evaluation
and no per-buyer array. Per-buyer arrays are built once a state needs them (the Jacobian, the
solution's flows: :meth:`SizeNestSystem._expand`), from per-class powers expanded to the buyers
once (``H``: ``z = d_0 QA H`` and ``D = gth_A H theta kappa``); within a Jacobian they and its other
flow-size temporaries are work arrays kept by the system (:meth:`SizeNestSystem._buffer`: a fresh
array of that size costs as much in first touches of its pages as the products that fill it).
The check of the full model takes the route-price index per class too. Shares that
differ between buyers of one use (an edited split table) take the per-buyer evaluation; both
give the same equilibrium and Jacobian (a test). With common sourcing a buyer's own routes are its
domestic ones (a region's imports reach its buyers through ``PRc``), so evaluations compute the
per-buyer terms on the domestic routes only (:meth:`SizeNestSystem._common_prices`,
:meth:`SizeNestSystem._common_flows`) and build the flow layout when a state needs it.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .layout import _ratio, to_sbi
from .solvers import one_blas_thread
from .system import System, ces_index


# ---------------------------------------------------------------------------------------- layout
def group_sum(a, L, axis):
    """Sum of ``a`` over the sectors of each group along ``axis`` (``L.mem``: the member sectors of each group, padded with ``L.S``).

    Gathers the groups' first members and adds the next ones where a group has them, a fixed order
    of summation (several times faster than ``np.add.reduceat`` on these shapes).
    """
    def take(idx):
        return np.take(a, idx, axis=axis)  # C-ordered (``a[:, idx]`` comes out with axis 1 outermost)

    out = take(L.mem[:, 0])
    for k in range(1, L.mem.shape[1]):
        has = np.flatnonzero(L.mem[:, k] < L.S)
        if axis == 1:
            out[:, has] += np.take(a, L.mem[has, k], axis=1)
        else:
            index = [slice(None)] * a.ndim
            index[axis] = has
            out[tuple(index)] += take(L.mem[has, k])
    return out


def size_layout(L) -> None:
    """Group-level Armington arrays of a :class:`cge.fast.layout.Layout` (set on it, replacing the commodity-level ones)."""
    P = L.params
    S = L.S
    gidx = np.asarray(P.size_group, dtype=int)
    G = int(gidx.max()) + 1
    E = np.zeros((S, G))
    E[np.arange(S), gidx] = 1.0
    L.grouped, L.G, L.gidx, L.E = True, G, gidx, E
    sizes = [np.flatnonzero(gidx == g) for g in range(G)]
    K = max(len(m) for m in sizes)
    L.mem = np.full((G, K), S)  # member sectors of each group, padded with S (a zero commodity)
    L.same_group = gidx[:, None] == gidx[None, :]  # [i, i']: sizes of one group
    for g, m in enumerate(sizes):
        L.mem[g, : len(m)] = m
    first = np.array([m[0] for m in sizes])
    sig = P.sigma
    L.sig_dm, L.sig_mm = sig["sigma_dm"][first], sig["sigma_mm"][first]
    L.sig_size = sig["sigma_size"][first]
    L.sig_size_i = L.sig_size[gidx]
    off4 = L.offdiag[:, None, :, None]

    vg = group_sum(P.v_0, L, 1)  # [r, g, s, b] route values at buyer prices
    L.route_b = vg > 0
    L.th_size = _ratio(P.v_0, vg[:, gidx], L.flow)
    qa0 = vg.sum(axis=0)  # [g, s, b]
    L.comp = qa0 > 0
    total = np.concatenate([P.int_0, P.fd_0], axis=1)
    L.th_B = _ratio(qa0, total[None], L.comp)
    L.gth_A = _ratio(vg, qa0[None], L.route_b)
    m0 = (vg * off4).sum(axis=0)
    one_level = L.sig_dm == L.sig_mm
    L.nest = (m0 > 0) & L.comp if L.common else (m0 > 0) & L.comp & ~one_level[:, None, None]
    L.gimp = L.route_b & off4 & L.nest[None]
    L.gdirect = L.route_b & ~L.gimp
    L.gimp_f, L.gdirect_f, L.no_route = L.gimp.astype(float), L.gdirect.astype(float), ~L.route_b
    L.th_nest = _ratio(m0, qa0, L.nest)
    L.gth_dir = np.where(L.gdirect, L.gth_A, 0.0)
    L.gth_M = _ratio(vg, m0[None], L.gimp)
    L.imp = L.flow & L.gimp[:, gidx]
    L.direct = L.flow & ~L.imp
    L.coef_pm_c = np.where(L.nest, (L.sig_mm - L.sig_dm)[:, None, None], 0.0)  # [g, s, b]
    L.coef_pa = L.sig_dm[:, None, None] - L.sig_c[None]
    L.qa0_g, L.m0_g, L.vg = qa0, m0, vg
    L.class_shares = None if L.common else _class_shares(L, vg)
    if L.class_shares is not None:  # the class's shares on every route a buyer has (equal up to rounding)
        L.th_size = np.where(L.route_b[:, gidx], np.take(L.class_shares, L.use, axis=-1), 0.0)
        # the group-level arrays of the Jacobian on the flow layout (SizeNestSystem._expand)
        L.gth_A_i = np.ascontiguousarray(L.gth_A[:, gidx])
        L.gimp_i = np.ascontiguousarray(L.gimp[:, gidx])
    # Jacobian constant on the flow layout: sigma_size less the route's own elasticity (sigma_mm on
    # nested imports, sigma_dm otherwise)
    sig_route = (L.sig_dm[:, None, None] + L.coef_pm_c)[None] * off4 + L.sig_dm[None, :, None, None] * ~off4
    L.size_W = np.ascontiguousarray((L.sig_size[None, :, None, None] - sig_route)[:, gidx])
    if L.common:
        # with common sourcing every composite with imports is nested, so a buyer's direct routes
        # (its own) are its domestic ones (SizeNestSystem._common_prices)
        assert not (L.gdirect & off4).any(), "direct import routes under common sourcing"
        v_imp = (P.v_0 * L.imp).sum(axis=3)  # [r, i, s]
        vg_imp = group_sum(v_imp, L, 1)  # [r, g, s]
        mc = vg_imp.sum(axis=0)  # [g, s]
        L.route = vg_imp > 0
        L.nest_c = mc > 0
        L.th_Mc = _ratio(vg_imp, mc[None], L.route)
        L.mu = _ratio(m0, mc[:, :, None], L.nest)
        L.d_imp = (P.d_0 * L.imp).sum(axis=3)
        L.route_i = v_imp > 0
        L.th_size_c = _ratio(v_imp, vg_imp[:, gidx], L.route_i)


SHARE_TOLERANCE = 1e-12
"""Largest difference between a buyer's size shares and those of its price class (benchmark values
summed over the class's buyers) for which the evaluations run by class (:func:`_class_shares`)."""


def _class_shares(L, vg):
    """Size shares by use ``[r, i, s, use]`` when every buyer of a use has its use's shares on each route it buys; else None.

    A buyer's size shares ``theta_size[r, i, s, b]`` on a route it buys from are compared with those
    of its use (benchmark values of the use's buyers, summed, over their route values); the rule
    holds when no share differs by more than :data:`SHARE_TOLERANCE` (rounding: the split of
    :func:`cge.firms.split_firm_size` gives every buyer of a use one size mix per route). The model
    then uses the use's shares for every buyer, and route prices are per class, like delivered
    prices (:meth:`SizeNestSystem._class_prices`).
    """
    P = L.params
    n_use = int(L.use.max()) + 1
    v_u = np.zeros(P.v_0.shape[:3] + (n_use,))
    vg_u = np.zeros(vg.shape[:3] + (n_use,))
    for u, g in L.use_groups:
        v_u[..., u] = P.v_0[..., g].sum(axis=3)
        vg_u[..., u] = vg[..., g].sum(axis=3)
    den = vg_u[:, L.gidx]
    th_u = _ratio(v_u, den, den > 0)
    th_b = np.where(L.route_b[:, L.gidx], np.take(th_u, L.use, axis=-1), 0.0)
    if np.max(np.abs(th_b - L.th_size), initial=0.0) > SHARE_TOLERANCE:
        return None
    return th_u


def by_buyer(a, inst, out=None):
    """``a[..., class(b)]``: a class array ``[..., class]`` on the buyer axis (C-ordered; each class's
    run of buyers repeats its column, several times faster than taking by ``inst.use``); into ``out`` when given."""
    if out is not None:  # into a work array: a matrix product with the buyers' classes (weights 0 and 1: exact)
        a = np.ascontiguousarray(a)
        E = class_indicator(inst)
        if E.any(axis=0).all():
            np.matmul(a.reshape(-1, a.shape[-1]), E.T, out=out.reshape(-1, out.shape[-1]))
        else:  # a class without buyers (whose values nobody reads, and may not be finite)
            for u, g in inst.groups:
                out[..., g] = a[..., u, None]
        return out
    runs = getattr(inst, "_class_runs", None)
    if runs is None:
        groups = sorted(inst.groups, key=lambda ug: ug[1].start)
        runs = inst._class_runs = ([u for u, _ in groups], [g.stop - g.start for _, g in groups])
    order, counts = runs
    return np.repeat(np.ascontiguousarray(a[..., order]), counts, axis=-1)


def _per_producer(p, shape):
    """Producer prices ``p[r, i]`` on the class layout ``[i, s, r, class]`` (``shape``) as ``[i, 1, (r, class)]``:
    broadcast over importers with a long inner axis (``p.T[:, None, :, None]`` broadcasts over a class axis of two)."""
    S, R, n_u = shape[0], shape[2], shape[3]
    return np.repeat(p.T[:, :, None], n_u, axis=2).reshape(S, 1, R * n_u)


def class_indicator(inst):
    """``E[b, class]``: 1 where buyer ``b`` is of the class, made once per scenario (sums over each
    class's buyers as one matrix product, several times faster than sums over runs of buyers)."""
    E = getattr(inst, "_class_indicator", None)
    if E is None:
        E = np.zeros((len(inst.use), inst.tau_u.shape[-1]))
        for u, g in inst.groups:
            E[g, u] = 1.0
        inst._class_indicator = E
    return E


def _size_index(L, th, price, exists, inst=None):
    """CES index over the sizes of each group (axis 1): ``th`` shares, ``price`` delivered prices; 1 where not ``exists``.

    ``inst``: ``price`` is by price class (last axis), each buyer reading its class's
    (:func:`by_buyer`; the powers are then taken per class)."""
    shape = (1, -1) + (1,) * (price.ndim - 2)
    sig = L.sig_size.reshape(shape)
    sig_i = L.sig_size_i.reshape(shape)
    cd = sig == 1.0

    def read(a):
        return a if inst is None else by_buyer(a, inst)

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if not cd.any():
            acc = group_sum(th * read(np.power(price, 1.0 - sig_i)), L, 1)
            out = np.log(acc, out=acc)  # acc^(1 / (1 - sigma)) (exp and log are several times faster than power)
            out *= 1.0 / (1.0 - sig)
            np.exp(out, out=out)
        else:
            rho_i = np.where(sig_i == 1.0, 1.0, 1.0 - sig_i)
            rho = np.where(cd, 1.0, 1.0 - sig)
            acc = group_sum(th * read(np.power(price, rho_i)), L, 1)
            geo = np.exp(group_sum(np.where(th > 0, th * read(np.log(price)), 0.0), L, 1))
            out = np.where(cd, geo, np.power(acc, 1.0 / rho))
    return np.where(exists, out, 1.0)


def _same_group(L, X, Y, out):
    """``out[r, i, q, i'] += sum_m X[i, r, m] Y[i', q, m]`` for every pair of sizes ``i, i'`` of one group.

    ``X``, ``Y``: sector-first copies of the flow-layout terms (``[i, r, m]``, ``m`` the importers and
    buyers of each term, the terms side by side), so that a group's sizes are one matrix
    ``(sizes x exporters) x m`` and every pair of its sizes one matrix product per group (a view
    when the sizes are adjacent sectors), in one BLAS thread (:func:`one_blas_thread`).
    """
    R, S = L.R, L.S
    with one_blas_thread():
        for members in L.mem:
            members = members[members < S]
            k = len(members)
            if members[-1] - members[0] == k - 1:
                x, y = X[members[0] : members[-1] + 1], Y[members[0] : members[-1] + 1]
            else:
                x, y = X[members], Y[members]
            block = (x.reshape(k * R, -1) @ y.reshape(k * R, -1).T).reshape(k, R, k, R)
            for a, i in enumerate(members):
                for c, j in enumerate(members):
                    out[:, i, :, j] += block[a, :, c, :]


class SizeNestSystem(System):
    """The reduced system with the firm-size nest (module docstring).

    With sourcing by agent, no elasticity of 1 in the nests and size shares by price class
    (:func:`_class_shares`), evaluations run by class as :class:`System`'s do: route prices are
    per class ``[g, s, r, class]``, and the sums over exporters and buyers are batched matrix
    products with the benchmark route values and flows (:meth:`_class_prices`,
    :meth:`_class_flows`); per-buyer arrays are built only for the Jacobian, the check of the full
    model and the solution (:meth:`_expand`). Otherwise per-buyer flow arrays throughout.
    """

    def __init__(self, layout):
        super().__init__(layout)
        L = layout
        self.by_class = L.class_shares is not None and self._powers()
        if self.by_class:  # constant arrays of the class path, composite-first (the order of the batched products)
            ar = np.arange(L.R)
            self._d0_isbr = np.ascontiguousarray(L.d_0.transpose(1, 2, 3, 0))  # [i, s, b, r]
            self._vg_gsbr = np.ascontiguousarray(L.vg.transpose(1, 2, 3, 0))  # [g, s, b, r]
            self._d0_own = np.ascontiguousarray(L.d_0[ar, :, ar, :].transpose(1, 0, 2))  # [i, s, b]
            self._vg_own = np.ascontiguousarray(L.vg[ar, :, ar, :].transpose(1, 0, 2))  # [g, s, b]
            self._inv_m0 = np.divide(1.0, L.m0_g, out=np.zeros(L.m0_g.shape), where=L.nest)
            self._inv_qa0 = np.divide(1.0, L.qa0_g, out=np.zeros(L.qa0_g.shape), where=L.comp)

    def jacobian(self, st):
        """:meth:`System.jacobian`, with the flow-size temporaries of the size nest's terms in buffers of the system (:meth:`_buffer`)."""
        self._in_jacobian = True
        try:
            return super().jacobian(st)
        finally:
            self._in_jacobian, self._expanded = False, None

    def _buffer(self, name, shape):
        """A flow-size work array kept by the system from one Jacobian to the next (only for temporaries
        that do not outlive the Jacobian): a fresh array of that size comes from the operating system
        each time, and touching its pages cost about as much as the products that fill it."""
        bufs = self.__dict__.setdefault("_buffers", {})
        a = bufs.get(name)
        if a is None or a.shape != shape:
            a = bufs[name] = np.empty(shape)
        return a

    # ------------------------------------------------------------------ sourcing by agent, by class
    def _class_shares_of(self, inst):
        """The size shares of each price class of the scenario, commodity-first ``[i, s, r, class]``
        (a class of duty-exempted buyers has its use's shares), made once per scenario."""
        th = getattr(inst, "_size_class_shares", None)
        if th is None:
            L = self.lay
            th_u = L.class_shares
            th = np.zeros(th_u.shape[:3] + (inst.kappa_u.shape[-1],))  # (zero for a class without buyers)
            for u, g in inst.groups:
                th[..., u] = th_u[..., L.use[g.start]]
            th = inst._size_class_shares = np.ascontiguousarray(th.transpose(1, 2, 0, 3))
        return th

    @staticmethod
    def _over_exporters(flows, fs, inst):
        """``out_k[c, s, b] = sum_r flows[c, s, b, r] f_k[c, s, r, class(b)]``: one batched matrix product (composites ``c``)."""
        C, R, B = flows.shape[:3]
        n_u, K = fs[0].shape[-1], len(fs)
        F = np.empty((C, R, R, n_u, K))
        for k, f in enumerate(fs):
            F[..., k] = f
        M = np.matmul(flows, F.reshape(C, R, R, n_u * K)).reshape(C, R, B, n_u, K)
        out = [np.empty((C, R, B)) for _ in range(K)]
        for u, g in inst.groups:
            for k in range(K):
                out[k][:, :, g] = M[:, :, g, u, k]
        return out

    @staticmethod
    def _over_buyers(flows, vs, inst):
        """``out_k[c, s, r, u] = sum_{b of class u} flows[c, s, b, r] v_k[c, s, b]``: one batched matrix product."""
        C, R, B = flows.shape[:3]
        n_u, K = inst.kappa_u.shape[-1], len(vs)
        V = np.zeros((C, R, B, n_u, K))
        for u, g in inst.groups:
            for k, v in enumerate(vs):
                V[:, :, g, u, k] = v[:, :, g]
        out = np.matmul(flows.transpose(0, 1, 3, 2), V.reshape(C, R, B, n_u * K)).reshape(C, R, R, n_u, K)
        return [out[..., k] for k in range(K)]

    def _class_prices(self, st, inst):
        """Route, import and Armington prices with route prices per class.

        ``PR[g, s, r, class]`` is the CES of the class's delivered prices with the class's size
        shares; ``PM`` and ``PA`` sum ``PR^(1 - sigma)`` over exporters with the benchmark route
        values ``vg[r, g, s, b]`` (``gth_M = vg / m_0``, ``gth_A = vg / qa_0``), batched matrix
        products. Kept for the flows: ``ln PR`` (``lnPRc``, 0 where a class has no route) and
        ``pd^-sigma_size`` (``gs_c``, ``[i, s, r, class]``).
        """
        L = self.lay
        sdm, smm = L.sig_dm[:, None, None], L.sig_mm[:, None, None]
        shape = inst.kappa_c1.shape  # [i, s, r, class]
        st.p_c = _per_producer(st.p, shape)
        pdu = (inst.kappa_c1.reshape(shape[0], shape[1], -1) * st.p_c).reshape(shape)
        st.gs_c = np.log(pdu)  # pd^-sigma_size as an exponential (several times faster than a power)
        st.gs_c *= -L.sig_size_i[:, None, None, None]
        np.exp(st.gs_c, out=st.gs_c)
        pdu *= st.gs_c
        pdu *= self._class_shares_of(inst)
        acc = group_sum(pdu, L, 0)  # [g, s, r, class]
        with np.errstate(divide="ignore", invalid="ignore"):
            lnpr = np.log(acc, out=acc)
            lnpr *= (1.0 / (1.0 - L.sig_size))[:, None, None, None]
            np.copyto(lnpr, 0.0, where=~np.isfinite(lnpr))  # no route of the group for the class: PR = 1
            st.lnPRc = lnpr
            fm = np.exp(lnpr * (1.0 - smm)[..., None])
            ar = np.arange(L.R)
            fm[:, ar, ar, :] = 0.0  # imports only
            fd = np.exp(lnpr * (1.0 - sdm)[..., None])
            xm, xd = self._over_exporters(self._vg_gsbr, [fm, fd], inst)
            st.PM, st.lnPM = self._ln_index(smm, xm * self._inv_m0, L.nest)
            own = self._vg_own * fd[:, ar, ar, :][:, :, inst.use]
            acc = np.where(L.nest, own, xd) * self._inv_qa0 + L.th_nest * np.exp((1.0 - sdm) * st.lnPM)
            st.PA, st.lnPA = self._ln_index(sdm, acc, L.comp)  # ln PA for the buyer indices and the flows (no power function)
        self._buyer_prices(st, st.w)

    def _class_flows(self, st, inst):
        """Deliveries of each producer (relative to output) and tariff revenue of each region, by class.

        A size flow is ``z = d_0 a[g, s, b] PR^(sigma_size - sigma) pd^-sigma_size``: a per-buyer
        factor ``a`` (``QA PA^sigma_dm``, times ``PM^(sigma_mm - sigma_dm)`` on nested imports) times
        per-class powers, so sums over buyers are contractions of ``d_0`` with ``a``.
        """
        L = self.lay
        R, S = L.R, L.S
        gidx = L.gidx
        sdm, smm = L.sig_dm[:, None, None], L.sig_mm[:, None, None]
        a = st.QA * np.exp(sdm * st.lnPA)  # [g, s, b]
        a_imp = np.where(L.nest, a * np.exp((smm - sdm) * st.lnPM), 0.0)
        a_dir = np.where(L.nest, 0.0, a)
        a = a[gidx]
        c_imp, c_dir = self._over_buyers(self._d0_isbr, [a_imp[gidx], a_dir[gidx]], inst)  # [i, s, r, class]
        ar = np.arange(R)
        c_imp[:, ar, ar, :] = 0.0  # domestic routes are direct for every buyer
        own = self._d0_own * a
        c_dir[:, ar, ar, :] = np.matmul(own, class_indicator(inst))  # summed over each class's buyers (weights 0 and 1)
        lnpr = st.lnPRc[gidx]  # [i, s, r, class]
        ssz = L.sig_size_i[:, None, None, None]
        z = np.exp(lnpr * (ssz - L.sig_mm[gidx][:, None, None, None]))
        z *= c_imp
        z += np.exp(lnpr * (ssz - L.sig_dm[gidx][:, None, None, None])) * c_dir
        z *= st.gs_c
        z *= inst.tau_c1
        sold = z.sum(axis=1).sum(axis=2).T / L.x_0
        z *= inst.t_c1
        z.reshape(S, R, -1)[...] *= st.p_c
        revenue = z.reshape(S, R, -1).sum(axis=2).sum(axis=0)
        return sold, revenue

    # ------------------------------------------------------------------ common sourcing: domestic routes by buyer
    def _common_prices(self, st, inst):
        """Common sourcing: route prices of each buyer's domestic routes (``PRd[s, g, b]``; the full
        ``PR`` is 1 elsewhere), of the region's import routes (``PRc``), import and Armington prices.

        A buyer's direct routes are its domestic ones (every composite with imports is nested), so
        the per-buyer CES terms are a region's own sales only, a ``1 / R`` share of the flow layout."""
        L = self.lay
        R = L.R
        ar = np.arange(R)
        st.pdd = st.p[:, :, None] * by_buyer(inst.kappa_u[ar, :, ar, :], inst)  # [s, i, b]
        st.PRd = _size_index(L, L.th_size[ar, :, ar, :], st.pdd, L.route_b[ar, :, ar, :])  # [s, g, b]
        st.PR = np.ones(L.route_b.shape)
        st.PR[ar, :, ar, :] = st.PRd
        st.pdc = st.p[:, :, None] * inst.kappa_c
        st.PRc = _size_index(L, L.th_size_c, st.pdc, L.route)
        st.PMc = ces_index(L.sig_mm[:, None], [(L.th_Mc, st.PRc, 0)], exists=L.nest_c)
        st.PM = np.broadcast_to(st.PMc[:, :, None], L.th_nest.shape)
        gth_d = L.gth_dir[ar, :, ar, :].transpose(1, 0, 2)  # [g, s, b]
        st.PA = ces_index(L.sig_dm[:, None, None], [(gth_d, st.PRd.transpose(1, 0, 2), None), (L.th_nest, st.PM, None)], exists=L.comp)
        self._buyer_prices(st, st.w)

    def _common_flows(self, st, inst):
        """Common sourcing: deliveries (relative to output) and tariff revenue from the domestic flows
        of each buyer (``[s, i, b]``) and the import routes of each region, summed by price class."""
        L = self.lay
        R = L.R
        ar = np.arange(R)
        gidx = L.gidx
        sdm = L.sig_dm[:, None, None]
        ssz = L.sig_size_i[None, :, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            st.hsd = np.where(L.flow[ar, :, ar, :], np.power(st.PRd[:, gidx] / st.pdd, ssz), 0.0)  # [s, i, b]
            pa = st.PA.transpose(1, 0, 2)  # [s, g, b]
            st.hgd = np.where(L.gdirect[ar, :, ar, :], np.power(pa / st.PRd, sdm.transpose(1, 0, 2)), 0.0)
            st.dan = np.where(L.nest, np.power(st.PA / st.PM, sdm), 0.0)
            weight = L.mu * st.QA * st.dan  # [g, s, b]
            st.QM = weight.sum(axis=2)
            st.hc = np.where(L.route, np.power(st.PMc[None] / st.PRc, L.sig_mm[None, :, None]), 0.0)
            st.hsc = np.where(L.route_i, np.power(st.PRc[:, gidx] / st.pdc, L.sig_size_i[None, :, None]), 0.0)
            st.z_imp = st.QM[None, gidx] * st.hc[:, gidx] * st.hsc  # [r, i, s] relative
            st.share = np.divide(weight, st.QM[:, :, None], out=np.zeros_like(weight), where=st.QM[:, :, None] > 0)
        qa = st.QA.transpose(1, 0, 2)  # [s, g, b]
        st.zd = L.d_0[ar, :, ar, :] * (qa * st.hgd)[:, gidx] * st.hsd * L.direct[ar, :, ar, :]  # [s, i, b]
        zu = np.zeros(inst.tau_u.shape)  # deliveries by price class [r, i, s, class]
        imports = (L.d_imp * st.z_imp * L.offdiag[:, None, :])[..., None]
        for u, g in inst.groups:
            zu[..., u] += imports[..., 0] * st.share[gidx][None, :, :, g].sum(axis=3)
            zu[ar, :, ar, u] += st.zd[..., g].sum(axis=2)
        sold = (zu * inst.tau_u).sum(axis=(2, 3)) / L.x_0
        revenue = ((zu * inst.tau_u * inst.t_u).sum(axis=3) * st.p[:, :, None]).sum(axis=(0, 1))
        return sold, revenue

    def _expand_common(self, st):
        """The flow-layout arrays of a common-sourcing state (for the Jacobian and the solution), once:
        ``hs``, ``hg`` (zero off the domestic routes) and the size flows ``Zb``."""
        if hasattr(st, "Zb"):
            return
        L = self.lay
        ar = np.arange(L.R)
        st.hs = np.zeros(L.d_0.shape)
        st.hs[ar, :, ar, :] = st.hsd
        st.hg = np.zeros(L.route_b.shape)
        st.hg[ar, :, ar, :] = st.hgd
        st.Zb = (L.d_imp * st.z_imp)[..., None] * st.share[None, L.gidx] * L.offdiag[:, None, :, None]
        st.Zb[ar, :, ar, :] = st.zd

    def _expand(self, st):
        """Per-buyer arrays of a by-class state, once (for the Jacobian and the solution): the size
        terms ``(PR / pd)^sigma_size`` by class (``hs_c``, ``[i, s, r, class]``), the demand terms
        ``H[r, i, s, b]`` of each size flow per unit of composite and benchmark flow (``hg`` of
        :meth:`_size_flows` of the size's group times ``hs``) and the size flows ``Zb = d_0 QA H``.

        ``H`` is a per-buyer factor (``PA^sigma_dm``, times ``PM^(sigma_mm - sigma_dm)`` on nested
        imports) times a per-class power ``PR^(sigma_size - sigma) pd^-sigma_size`` (as in
        :meth:`_class_flows`): the powers are taken per class and expanded to the buyers once.
        Returns ``(H, Zb)``. Within a Jacobian they are work arrays of the system (:meth:`_buffer`),
        valid for that state until the Jacobian returns; otherwise kept on the state."""
        if hasattr(st, "H"):
            return st.H, st.Zb
        current = getattr(self, "_expanded", None)
        if current is not None and current[0] is st:
            return current[1]
        buffers = getattr(self, "_in_jacobian", False)
        L, inst = self.lay, st.inst
        gidx = L.gidx
        sdm, smm = L.sig_dm[:, None, None], L.sig_mm[:, None, None]
        lnpr = st.lnPRc[gidx]  # [i, s, r, class]
        st.hs_c = np.exp(lnpr * L.sig_size_i[:, None, None, None])
        st.hs_c *= st.gs_c
        f = np.exp(lnpr * -L.sig_dm[gidx][:, None, None, None])
        f *= st.hs_c
        a_dir = np.exp(sdm * st.lnPA)  # [g, s, b]
        H = by_buyer(f.transpose(2, 0, 1, 3), inst, self._buffer("H", L.d_0.shape) if buffers else None)
        H *= a_dir[gidx][None]  # (not masked to routes: d_0 and gth_A, which weigh H, are zero off them)
        np.exp(lnpr * -L.sig_mm[gidx][:, None, None, None], out=f)  # nested imports
        f *= st.hs_c
        imp = by_buyer(f.transpose(2, 0, 1, 3), inst, self._buffer("Zb", L.d_0.shape) if buffers else None)
        imp *= (a_dir * np.exp((smm - sdm) * np.log(st.PM)))[gidx][None]
        np.copyto(H, imp, where=L.gimp_i)
        np.multiply(H, st.QA[gidx][None], out=imp)
        imp *= L.d_0
        if buffers:
            self._expanded = (st, (H, imp))
        else:
            st.H, st.Zb = H, imp
        return H, imp

    def _per_buyer_array(self, a, inst):
        """A per-class array ``[r, i, s, class]`` (uses, and exempted buyers: :class:`FlowInstruments`) on the flow layout."""
        out = np.empty(self.lay.th_size.shape)
        for u, g in inst.groups:
            out[..., g] = a[..., u, None]
        return out

    @staticmethod
    def _per_buyer(inst):
        """The scenario's per-buyer arrays ``kappa``, ``tau`` and ``t * tau``, built once per scenario."""
        cache = getattr(inst, "_size_nest_arrays", None)
        if cache is None:
            tau = inst.tau_b
            cache = inst._size_nest_arrays = SimpleNamespace(kappa=inst.kappa, tau=tau, t_tau=inst.t_b * tau)
        return cache

    # ------------------------------------------------------------------ prices
    def _powers(self):
        """True when no elasticity of the nests is 1: CES terms are then powers, shared between indices and flows."""
        L = self.lay
        return not any((a == 1.0).any() for a in (L.sig_size, L.sig_dm, L.sig_mm))

    def prices(self, p, w, inst, st=None):
        L = self.lay
        st = SimpleNamespace() if st is None else st
        if self._powers() and not L.common:
            return self._agent_prices_by_powers(p, w, inst, st)
        if L.common:
            st.p, st.w = p, w
            self._common_prices(st, inst)
            return st
        st.pd = p[:, :, None, None] * self._per_buyer(inst).kappa
        st.PR = _size_index(L, L.th_size, st.pd, L.route_b)
        st.PM = ces_index(L.sig_mm[:, None, None], [(L.gth_M, st.PR, 0)], exists=L.nest)
        st.PA = ces_index(L.sig_dm[:, None, None], [(L.gth_dir, st.PR, 0), (L.th_nest, st.PM, None)], exists=L.comp)
        self._buyer_prices(st, w)
        return st

    def _agent_prices_by_powers(self, p, w, inst, st):
        """Sourcing by agent, no Cobb-Douglas nest: delivered prices raised to powers per use
        (``pd^-sigma_size`` depends on the buyer's use only), route prices raised once per nest."""
        L = self.lay
        sdm, smm = L.sig_dm[:, None, None], L.sig_mm[:, None, None]
        pdu = p[:, :, None, None] * inst.kappa_u  # [r, i, s, use]
        st.gs_u = np.power(pdu, -L.sig_size_i[None, :, None, None])
        fu = pdu * st.gs_u
        terms = np.take(fu, inst.use, axis=-1)  # each buyer's class, C-ordered
        terms *= L.th_size
        lnpr = group_sum(terms, L, 1)  # the sum of CES terms, then its log over 1 - sigma_size (in place)
        del terms
        with np.errstate(divide="ignore", invalid="ignore"):
            np.log(lnpr, out=lnpr)
            lnpr *= (1.0 / (1.0 - L.sig_size))[None, :, None, None]
            np.copyto(lnpr, 0.0, where=L.no_route)
            st.PR = PR = np.exp(lnpr)
            st.PRdm = np.multiply(lnpr, -sdm[None])
            np.exp(st.PRdm, out=st.PRdm)
            st.PRmm = np.multiply(lnpr, -smm[None])
            np.exp(st.PRmm, out=st.PRmm)
            st.PRmm *= L.gimp_f
            st.PRs = np.multiply(lnpr, L.sig_size[None, :, None, None])
            np.exp(st.PRs, out=st.PRs)
            del lnpr
            tmp = np.multiply(L.gth_M, PR)
            tmp *= st.PRmm
            accm = tmp.sum(axis=0)
            st.PM = np.where(L.nest, np.power(accm, 1.0 / (1.0 - smm)), 1.0)
            np.multiply(L.gth_dir, PR, out=tmp)
            tmp *= st.PRdm
            acca = tmp.sum(axis=0) + L.th_nest * np.power(st.PM, 1.0 - sdm)
            st.PA = np.where(L.comp, np.power(acca, 1.0 / (1.0 - sdm)), 1.0)
        self._buyer_prices(st, w)
        return st

    def evaluate(self, x, inst):
        L = self.lay
        p, y, w, inc, ls = self.unpack(x)
        st = SimpleNamespace()
        st.p, st.y, st.w, st.inc, st.ls, st.inst = p, y, w, inc, ls, inst
        if self.by_class:
            prices, flows = self._class_prices, self._class_flows
        elif L.common:
            prices, flows = self._common_prices, self._common_flows
        else:
            prices, flows = self._buyer_prices_all, self._buyer_flows
        prices(st, inst)
        self._quantities(st)
        sold, revenue = flows(st, inst)
        st.residual = self._residual(st, inst, sold, revenue)
        return st

    def _buyer_prices_all(self, st, inst):
        """Every price index with each buyer's own size mix (sourcing by agent, by buyer)."""
        self.prices(st.p, st.w, inst, st)

    def _buyer_flows(self, st, inst):
        """Deliveries of each producer (relative to output) and tariff revenue from the size flows of each buyer."""
        L = self.lay
        self._size_flows(st, inst)
        zu = np.zeros(inst.tau_u.shape)  # deliveries by price class [r, i, s, class]
        for u, g in inst.groups:  # a class may span several runs of buyers
            zu[..., u] += st.Zb[..., g].sum(axis=3)
        sold = (zu * inst.tau_u).sum(axis=(2, 3)) / L.x_0
        revenue = ((zu * inst.tau_u * inst.t_u).sum(axis=3) * st.p[:, :, None]).sum(axis=(0, 1))
        return sold, revenue

    def _size_flows(self, st, inst):
        """Route demands of the Armington nests and the size flows ``Zb`` (benchmark-value units) they make (sourcing by agent, by buyer)."""
        L = self.lay
        gidx = L.gidx
        sdm, smm = L.sig_dm[:, None, None], L.sig_mm[:, None, None]
        ssz = L.sig_size_i[None, :, None, None]
        if hasattr(st, "gs_u"):  # powers computed with the prices
            pa = np.power(st.PA, sdm)
            hg = np.multiply(st.PRmm, (pa * np.power(st.PM, smm - sdm))[None])  # nested imports (PRmm is 0 elsewhere)
            tmp = np.multiply(st.PRdm, pa[None])
            tmp *= L.gdirect_f
            hg += tmp
            np.multiply(hg, st.PRs, out=tmp)
            tmp *= st.QA[None]
            st.Zb = np.take(tmp, gidx, axis=1)
            st.Zb *= L.d_0
            st.Zb *= np.take(st.gs_u, inst.use, axis=-1)
            st.hg = hg
            return
        with np.errstate(divide="ignore", invalid="ignore"):
            hs = np.where(L.flow, np.power(st.PR[:, gidx] / st.pd, ssz), 0.0)  # size within its route
            a = st.PA[None] / st.PR
            hg = np.where(L.gdirect, np.power(a, sdm[None]), 0.0)
            hg = np.where(L.gimp, np.power(st.PA / st.PM, sdm)[None] * np.power(st.PM[None] / st.PR, smm[None]), hg)
            st.Zb = L.d_0 * (st.QA[None] * hg)[:, gidx] * hs
        st.hg, st.hs = hg, hs

    def flows(self, st):
        L, P, inst = self.lay, self.lay.params, st.inst
        if self.by_class:
            Zb = self._expand(st)[1]
        else:
            if L.common:
                self._expand_common(st)
            arr = self._per_buyer(inst)
            Zb = st.Zb
        fl = SimpleNamespace(Zb=Zb)
        if self.by_class:  # instruments by class, read by each class's buyers
            to_u = inst.tau_u / L.x_0[:, :, None, None]
            to_t = inst.t_u * inst.tau_u * st.p[:, :, None, None] / P.income_0[None, None, :, None]
            buffers = getattr(self, "_in_jacobian", False)  # (U and T do not outlive a Jacobian)
            fl.U = by_buyer(to_u, inst, self._buffer("U", Zb.shape) if buffers else None)  # expanded, then one contiguous product
            fl.U *= Zb  # (a run of buyers is a short inner axis)
            fl.T = by_buyer(to_t, inst, self._buffer("T", Zb.shape) if buffers else None)
            fl.T *= Zb
            return fl
        fl.U = st.Zb * arr.tau
        fl.U /= L.x_0[:, :, None, None]
        fl.T = st.Zb * arr.t_tau
        fl.T *= st.p[:, :, None, None] / P.income_0[None, None, :, None]
        return fl

    def deliveries(self, st):
        """The size flows ``Zb`` alone (no shares of output and income; by class, no route terms either)."""
        if not self.by_class:
            return self.flows(st).Zb
        if hasattr(st, "Zb"):
            return st.Zb
        L, inst = self.lay, st.inst
        gidx = L.gidx
        sdm, smm = L.sig_dm[:, None, None], L.sig_mm[:, None, None]
        a = st.QA * np.exp(sdm * st.lnPA)  # [g, s, b], as in _class_flows
        a_imp = a * np.power(st.PM, smm - sdm)
        lnpr, ssz = st.lnPRc[gidx], L.sig_size_i[:, None, None, None]
        g_dir = np.exp(lnpr * (ssz - L.sig_dm[gidx][:, None, None, None]))
        g_dir *= st.gs_c
        g_imp = np.exp(lnpr * (ssz - L.sig_mm[gidx][:, None, None, None]))
        g_imp *= st.gs_c
        zb = by_buyer(g_dir.transpose(2, 0, 1, 3), inst)
        zb *= a[gidx][None]
        imp = by_buyer(g_imp.transpose(2, 0, 1, 3), inst, self._buffer("deliveries", zb.shape))  # (a work array: not returned)
        imp *= a_imp[gidx][None]
        np.copyto(zb, imp, where=L.imp)  # nested imports
        zb *= L.d_0
        return zb

    def _price_derivatives(self, st, out=None):
        """``D[r, i, s, b] = dPA[g(i), s, b] / dp[r, i]``, ``dm = dPM / dp / PM`` on import cells, and the size shares ``sh``.

        ``out`` (by class): a flow-layout view that receives ``D``; ``dm`` is then not made (None:
        :meth:`_class_price_terms` takes it as ``D`` times :meth:`_import_coefficient`)."""
        L, inst = self.lay, st.inst
        gidx = L.gidx
        if self.by_class:  # dPR / dp and the size shares by class, for every buyer of the class (zero flows
            # and route terms weigh them where a buyer has no route)
            H = self._expand(st)[0]
            kc = self._class_shares_of(inst) * inst.kappa_c1  # dPR / dp = th kappa hs: H carries hs
            sh = kc * st.hs_c
            sh *= st.p.T[:, None, :, None]
            sh *= np.exp(-st.lnPRc[gidx])
            sh = by_buyer(sh.transpose(2, 0, 1, 3), inst, None if out is None else self._buffer("sh", L.d_0.shape))
        else:
            if not hasattr(st, "hs"):  # (P^R / pd)^sigma_size from the powers of the prices
                st.hs = st.PRs[:, gidx] * self._per_buyer_array(st.gs_u, inst)
            ds = L.th_size * st.hs * self._per_buyer(inst).kappa  # dPR / dp (Shephard, within the route)
            sh = np.divide(ds * st.p[:, :, None, None], st.PR[:, gidx], out=np.zeros(ds.shape), where=L.flow)
        if L.common:
            dsc = L.th_size_c * st.hsc * inst.kappa_c  # dPRc / dp
            dmc = (L.th_Mc * st.hc)[:, gidx] * dsc  # dPMc[g, s] / dp[r, i]
            D = (L.gth_dir * st.hg)[:, gidx] * ds * L.direct + (L.th_nest * st.dan)[None, gidx] * dmc[..., None]
            dm = np.where(L.nest[None, gidx] & L.offdiag[:, None, :, None], (dmc / st.PMc[None, gidx])[..., None], 0.0)
            shc = np.divide(dsc * st.p[:, :, None], st.PRc[:, gidx], out=np.zeros(dsc.shape), where=L.route_i)
            sh = np.where(L.offdiag[:, None, :, None] & L.nest[None, gidx], shc[..., None], sh)
        elif self.by_class:
            D = by_buyer(kc.transpose(2, 0, 1, 3), inst, None if out is None else self._buffer("D", L.d_0.shape))
            D *= H
            D = np.multiply(D, L.gth_A_i, out=out)
            if out is not None:
                return D, None, sh
            # D / (da_nest PM) on import cells: zero on domestic ones here; the terms that read dm
            # (coef_pm_c) vanish where the composite is not nested, and D where there is no route
            dm = D * self._import_coefficient(st)[gidx][None]
            ar = np.arange(L.R)
            dm[ar, :, ar, :] = 0.0
            return D, dm, sh
        else:
            D = (L.gth_A * st.hg)[:, gidx] * ds
            da_nest = np.where(L.nest, L.th_nest * np.power(st.PA / st.PM, L.sig_dm[:, None, None]), 1.0)
            dm = np.where(L.imp, D / (da_nest * st.PM)[None, gidx], 0.0)
        return D, dm, sh

    # ------------------------------------------------------------------ Jacobian: the Armington and size terms
    def _import_coefficient(self, st):
        """``dPM / dPA / PM`` per unit of ``dPA / dp`` on nested imports, ``[g, s, b]``: ``dm = D / (da_nest PM)``."""
        L = self.lay
        da_nest = np.where(L.nest, L.th_nest * np.power(st.PA / st.PM, L.sig_dm[:, None, None]), 1.0)
        return 1.0 / (da_nest * st.PM)

    def price_terms(self, st, U, T):
        """Goods-market block ``d sold / dp`` (rows, columns: producers ``[r, i]``, full ``RS x RS``) and income block ``d revenue / dp`` (``R x RS``)."""
        L = self.lay
        R, S = L.R, L.S
        gidx = L.gidx
        cpa = (L.coef_pa / st.PA)[gidx]  # [i, s, b]
        cpm = L.coef_pm_c[gidx]
        M = R * L.B
        if self.by_class and cpm.any():
            return self._class_price_terms(st, U, T, cpa, cpm)
        n = 2 if cpm.any() else 1  # the Armington term, and that of nested imports
        X, Y = self._buffer("X", (S, R, n * M)), self._buffer("Y", (S, R, n * M))  # sector-first (_same_group)

        def flow_view(a, k):  # term k of a sector-first buffer, as a flow-layout [r, i, s, b] view
            return a[:, :, k * M : (k + 1) * M].reshape(S, R, R, L.B).transpose(1, 0, 2, 3)

        D, dm, sh = self._price_derivatives(st)
        off = L.offdiag[:, None, :, None]
        W = L.size_W  # sigma_size - sigma of the route, on the flow layout
        p = st.p
        # goods markets
        dsold = self._buffer("dsold", (R, S, R, S))  # (returned to System.jacobian, which uses it before returning)
        dsold.fill(0.0)
        Ut = U.reshape(R, S, M).transpose(1, 0, 2)
        np.multiply(Ut, cpa.reshape(S, 1, M), out=X[:, :, :M])
        np.copyto(flow_view(Y, 0), D)
        if n == 2:
            np.multiply(Ut, cpm.reshape(S, 1, M), out=X[:, :, M:])
            X[:, :, M:].reshape(S, R, R, L.B)[:, np.arange(R), np.arange(R), :] = 0.0  # nested imports only
            np.copyto(flow_view(Y, 1), dm)
        _same_group(L, X, Y, dsold)
        del X, Ut
        return self._size_and_income_terms(st, U, T, D, sh, dsold, cpa, cpm, dm)

    def _class_price_terms(self, st, U, T, cpa, cpm):
        """:meth:`price_terms` by class with nested imports: the Armington and nested-import terms in one product.

        ``dm = D c`` off the domestic routes (``c``: :meth:`_import_coefficient`), so the two
        same-group products are one, with ``U (cpa + cpm c)`` against ``D``, less the terms of
        domestic routes, which have no import-price term: ``r = s`` (rows made with ``cpa`` alone)
        and ``q = s`` (subtracted after the product: a sum over the buyers for each pair of sizes).
        The income block's nested-import term likewise."""
        L = self.lay
        R, S, B = L.R, L.S, L.B
        gidx = L.gidx
        M = R * B
        ar = np.arange(R)
        X, Y = self._buffer("X1", (S, R, M)), self._buffer("Y1", (S, R, M))  # sector-first (_same_group)
        D, _, sh = self._price_derivatives(st, Y.reshape(S, R, R, B).transpose(1, 0, 2, 3))
        k_imp = cpm * self._import_coefficient(st)[gidx]  # [i, s, b]
        Ut = U.reshape(R, S, M).transpose(1, 0, 2)
        np.multiply(Ut, (cpa + k_imp).reshape(S, 1, M), out=X)
        X.reshape(S, R, R, B)[:, ar, ar, :] = U[ar, :, ar, :].transpose(1, 0, 2) * cpa  # r = s: no import-price term
        dsold = self._buffer("dsold", (R, S, R, S))  # (returned to System.jacobian, which uses it before returning)
        dsold.fill(0.0)
        _same_group(L, X, Y, dsold)
        del X, Ut
        Dd = D[ar, :, ar, :].transpose(1, 0, 2)  # [i', q, b]: D on domestic routes (q = s)
        for members in L.mem:  # less the q = s terms of r != s: sum_b U[r, i, q, b] k_imp[i, q, b] D[q, i', q, b]
            members = members[members < S]
            for i in members:
                for j in members:
                    corr = np.einsum("rqb,qb->rq", U[:, i], k_imp[i] * Dd[j])
                    corr[ar, ar] = 0.0
                    dsold[:, i, :, j] -= corr

        def jp_nested(T):  # sum_b TGi[i, s, b] cpm c D[q, i, s, b] over q != s
            TGi = group_sum(T.sum(axis=0) - T[ar, :, ar, :].transpose(1, 0, 2), L, 0)[gidx]  # on import routes
            w = TGi * k_imp
            jp = np.einsum("isb,qisb->sqi", w, D)
            jp[ar, ar, :] -= np.einsum("isb,isb->si", w, Dd)
            return jp

        return self._size_and_income_terms(st, U, T, D, sh, dsold, cpa, cpm, None, jp_nested)

    def _size_and_income_terms(self, st, U, T, D, sh, dsold, cpa, cpm, dm, jp_nested=None):
        """The size term and own prices into ``dsold``; the income block (``jp_nested``: the
        nested-import term of tariff revenue when made by the caller, else from ``dm``)."""
        L = self.lay
        R, S = L.R, L.S
        gidx = L.gidx
        W = L.size_W  # sigma_size - sigma of the route, on the flow layout
        p = st.p
        K = L.mem.shape[1]
        # the size term within a producer region, and the own price
        ws = np.multiply(W, sh, out=self._buffer("ws", W.shape))  # [r, i', s, b]; W is the group's, the same for every size i of the group
        with one_blas_thread():  # sum_{s,b} U[r, i, s, b] ws[r, i', s, b], every pair of sectors, kept for sizes of one group
            term = np.matmul(U.reshape(R, S, -1), ws.reshape(R, S, -1).transpose(0, 2, 1))  # [r, i, i']
        term *= L.same_group
        term /= p[:, None, :]
        ar = np.arange(R)
        dsold[ar, :, ar, :] += term
        own = L.sig_size_i[None, :] * U.sum(axis=(2, 3)) / p
        dsold[ar[:, None], np.arange(S)[None, :], ar[:, None], np.arange(S)[None, :]] -= own
        # income balance: tariff revenue (T includes the producer price)
        TG = group_sum(T.sum(axis=0), L, 0)[gidx]  # [i, s, b]: revenue on the group, expanded
        jp = np.einsum("isb,qisb->sqi", TG * cpa, D)
        if jp_nested is not None:
            jp += jp_nested(T)
        elif cpm.any():
            ar = np.arange(R)
            TGi = group_sum(T.sum(axis=0) - T[ar, :, ar, :].transpose(1, 0, 2), L, 0)[gidx]  # on import routes
            jp += np.einsum("isb,qisb->sqi", TGi * cpm, dm)
        jp += ((1.0 - L.sig_size_i[None, :, None]) * T.sum(axis=3) / p[:, :, None]).transpose(2, 0, 1)
        tw = np.einsum("risb,risb->ris", T, ws)  # sum_b TW[r, i', s, b] ws[r, i', s, b], TW the group's revenue on the route
        for members in L.mem:
            members = members[members < S]
            for i in members:
                for j in members:
                    if i != j:
                        tw[:, j] += np.einsum("rsb,rsb->rs", T[:, i], ws[:, j])
        jp += (tw / p[:, :, None]).transpose(2, 0, 1)
        return dsold.reshape(R * S, R * S), jp.reshape(R, R * S), D


# ---------------------------------------------------------------------------------------- the full model
def size_price_cells(L):
    """Cells of the route prices: ``PR[r, g, s, b]`` of every route (with common sourcing, domestic routes only) and ``PRc[r, g, s]`` of import routes."""
    if L.common:
        return L.route_b & ~L.offdiag[:, None, :, None], L.route
    return L.route_b, None


def _route_prices(L, st):
    """``PR[r, g, s, b]`` of a by-class state: each buyer's class's (exponentials per class), 1 where the buyer has no route."""
    pr = by_buyer(np.exp(st.lnPRc).transpose(2, 0, 1, 3), st.inst)
    np.copyto(pr, 1.0, where=L.no_route)
    return pr


def variables(st, layout) -> dict:
    """The route prices among the reference model's unknowns."""
    out = {"PR": st.PR if hasattr(st, "PR") else _route_prices(layout, st)}
    if layout.common:
        out["PRc"] = st.PRc
    return out


def indices(layout) -> list:
    """Index tuples of the size-price block: ``(exporter, group, importer, buyer)``, buyer -1 for a common import route."""
    cells, routes = size_price_cells(layout)
    out = [tuple(int(v) for v in k) for k in np.argwhere(cells)]
    if routes is not None:
        out += [(int(r), int(g), int(s), -1) for r, g, s in np.argwhere(routes)]
    return out


def reference_blocks(L, inst, v: dict, out: dict):
    """Residuals of the size-price, import-price, Armington-price (and import-quantity) blocks into ``out``; goods shipped and tariff revenue."""
    gidx = L.gidx
    p, QA, PA, PM, PR = v["p"], v["QA"], v["PA"], v["PM"], v["PR"]
    sdm, smm = L.sig_dm[:, None, None], L.sig_mm[:, None, None]
    ssz = L.sig_size_i[None, :, None, None]
    off = L.offdiag[:, None, :, None]
    comp = to_sbi(L.comp)
    cells, routes = size_price_cells(L)
    if L.common:
        pd = p[:, :, None, None] * inst.kappa
        pr_calc = _size_index(L, L.th_size, pd, L.route_b)
    else:  # delivered prices by price class, read by each buyer (inst.use)
        pdu = p[:, :, None, None] * inst.kappa_u
        if L.class_shares is None:
            pr_calc = _size_index(L, L.th_size, pdu, L.route_b, inst=inst)
        else:  # size shares by class too (the buyers' shares on their routes): the index per class, then on the buyers
            use_of = np.zeros(inst.kappa_u.shape[-1], dtype=int)  # each class's use (an exempted sector's class: its use's shares)
            for u, g in inst.groups:
                use_of[u] = L.use[g.start]
            th_u = np.take(L.class_shares, use_of, axis=-1)
            pr_calc = np.where(L.route_b, by_buyer(_size_index(L, th_u, pdu, True), inst), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        if L.common:
            hs = np.where(L.flow, np.power(PR[:, gidx] / pd, ssz), 0.0)
            PRc = v["PRc"]
            pdc = p[:, :, None] * inst.kappa_c
            prc_calc = _size_index(L, L.th_size_c, pdc, L.route)
            out["size_price"] = np.concatenate([(PR - pr_calc)[cells], (PRc - prc_calc)[routes]])
            pm_calc = ces_index(L.sig_mm[:, None], [(L.th_Mc, PRc, 0)])
            out["import_price"] = (PM - pm_calc).T[L.nest_c.T]
            pm_b = np.broadcast_to(PM[:, :, None], L.th_nest.shape)
            pa_calc = ces_index(sdm, [(L.gth_dir, PR, 0), (L.th_nest, pm_b, None)])
            out["armington_price"] = to_sbi(PA - pa_calc)[comp]
            QM = v["QM"]
            qm = (L.mu * QA * np.power(PA / pm_b, sdm)).sum(axis=2)
            out["import_quantity"] = (QM - qm).T[L.nest_c.T]
            z_route = np.where(L.route, QM[None] * np.power(PM[None] / PRc, L.sig_mm[None, :, None]), 0.0)
            z_imp = np.where(L.route_i, z_route[:, gidx] * np.power(PRc[:, gidx] / pdc, L.sig_size_i[None, :, None]), 0.0)
            z_dir = np.where(L.direct, (QA[None] * np.where(L.gdirect, np.power(PA[None] / PR, sdm[None]), 0.0))[:, gidx] * hs, 0.0)
            tau_c, t_c = inst.tau_b[..., 0], inst.t_b[..., 0]
            shipped = (inst.tau_b * L.d_0 * z_dir).sum(axis=(2, 3)) + (tau_c * L.d_imp * z_imp).sum(axis=2)
            revenue = (t_c * tau_c * p[:, :, None] * L.d_imp * z_imp * L.offdiag[:, None, :]).sum(axis=(0, 1))
        else:
            out["size_price"] = (PR - pr_calc)[cells]
            lnpr = np.log(PR)  # the powers of the route prices as exponentials of one logarithm
            if (L.sig_mm == 1.0).any() or (L.sig_dm == 1.0).any():
                pm_calc = ces_index(smm, [(L.gth_M, PR, 0)])
                pa_calc = ces_index(sdm, [(L.gth_dir, PR, 0), (L.th_nest, PM, None)])
            else:
                terms = np.exp(lnpr * (1.0 - smm)[None])
                terms *= L.gth_M
                pm_calc = np.power(terms.sum(axis=0), 1.0 / (1.0 - smm))
                np.exp(lnpr * (1.0 - sdm)[None], out=terms)
                terms *= L.gth_dir
                pa_calc = np.power(terms.sum(axis=0) + L.th_nest * np.power(PM, 1.0 - sdm), 1.0 / (1.0 - sdm))
            out["import_price"] = to_sbi(PM - pm_calc)[to_sbi(L.nest)]
            out["armington_price"] = to_sbi(PA - pa_calc)[comp]
            # the route terms times PR^sigma_size ((PR / pd)^sigma_size = PR^sigma_size pd^-sigma_size), one exponential each
            ssg = L.sig_size[:, None, None]
            hg = np.exp((np.log(PA) * sdm)[None] + lnpr * (ssg - sdm)[None])
            hg *= L.gdirect_f
            imp = np.exp((np.log(PA / PM) * sdm + np.log(PM) * smm)[None] + lnpr * (ssg - smm)[None])
            np.copyto(hg, imp, where=L.gimp)
            hg *= QA[None]
            z = np.take(hg, gidx, axis=1)
            z *= L.d_0
            with one_blas_thread():  # deliveries by price class at unit delivered prices: one product with the buyers' classes
                zu = (z.reshape(-1, z.shape[-1]) @ class_indicator(inst)).reshape(inst.tau_u.shape)
            zu *= np.power(pdu, -ssz)  # pd^-sigma_size, per class
            zu *= inst.tau_u
            shipped = zu.sum(axis=(2, 3))
            revenue = (inst.t_u * p[:, :, None, None] * zu * off).sum(axis=(0, 1, 3))
    return shipped, revenue
