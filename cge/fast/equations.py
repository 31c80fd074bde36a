"""The full equation system of the reference model, evaluated on arrays, with its labels.

:func:`equation_residuals` takes a value for every unknown of the reference model (``p``, ``Y``,
``PVA``, ``PINT``, ``w``, ``QA``, ``PA``, ``PM``, ``QM`` (common sourcing), ``PR`` (firm-size nest), ``PFD``, ``INC``, ``LS``; see
``cge/model/variables.py``) and returns the residual of every equation in the order and with the
labels of :mod:`cge.equations`, plus the goods market left out by Walras' law. The fast
backend uses it to check a solution of its reduced system against the whole model: the eliminated
variables are filled in from their closed forms and every equation is evaluated again, written
here as in ``cge/model`` (one residual per equation, relative form).
"""

from __future__ import annotations

import numpy as np

from .layout import _ratio, to_sbi
from .system import ces_index

def variables_of(st, layout) -> dict:
    """The reference model's unknowns at a state of the reduced system (closed forms filled in)."""
    S = layout.S
    pm = st.PMc if layout.common else st.PM
    out = {"QM": st.QM} if layout.common else {}
    if layout.grouped:
        from .sizenest import variables

        out |= variables(st, layout)
    return out | {
        "p": st.p,
        "Y": st.y,
        "PVA": st.PVA,
        "PINT": st.PB[:, :S],
        "w": st.w,
        "QA": st.QA,
        "PA": st.PA,
        "PM": np.asarray(pm),
        "PFD": st.PB[:, S:],
        "INC": st.inc,
        "LS": st.ls,
        "WL": st.WL,
    }


def equation_residuals(layout, inst, v: dict) -> dict:
    """Residual arrays of every equation block (in the reference order), and the Walras market.

    Values are returned as flat arrays in the order of the reference model's index sets.
    """
    L, P = layout, layout.params
    R, S = L.R, L.S
    sdm = L.sig_dm
    p, Y, PVA, PINT, w, QA, PA, PM, PFD, INC, LS = (v[k] for k in ("p", "Y", "PVA", "PINT", "w", "QA", "PA", "PM", "PFD", "INC", "LS"))
    PB = np.concatenate([PINT, PFD], axis=1)
    out = {}
    c = ces_index(L.sig_top, [(L.th_va, PVA, None), (L.th_int, PINT, None)], exists=L.prod)
    out["zero_profit"] = (p - inst.markup * c)[L.prod]
    wu = np.ones((R, S, L.F))
    wu[L.use_s, L.use_j, L.use_f] = w[L.use_k]
    out["pva_def"] = (PVA - ces_index(L.sig_va, [(L.th_F, wu, 2)]))[L.has_va]
    pb_calc = ces_index(L.sig_c, [(L.th_B, PA, 0)])
    out["pint_def"] = (PINT - pb_calc[:, :S])[L.has_int]
    with np.errstate(divide="ignore", invalid="ignore"):
        qb = np.concatenate([Y * np.power(c / PINT, L.sig_top), INC[:, None] / PFD], axis=1)
        composite = to_sbi(QA - qb[None] * np.power(PB[None] / PA, L.sig_c[None]))
    comp = to_sbi(L.comp)
    out["input_demand"] = composite[:, :S][comp[:, :S]]

    if L.grouped:  # the firm-size nest: route prices, then the Armington blocks on them
        from .sizenest import reference_blocks

        shipped, revenue = reference_blocks(L, inst, v, out)
    elif L.common:
        pd = p[:, :, None, None] * inst.kappa
        pm_b = np.broadcast_to(PM[:, :, None], L.th_nest.shape)
        pa_calc = ces_index(sdm[:, None, None], [(L.th_dir, pd, 0), (L.th_nest, pm_b, None)])
        pdc = p[:, :, None] * inst.kappa_c
        pm_calc = ces_index(L.sig_mm[:, None], [(L.th_Mc, pdc, 0)])
        out["import_price"] = (PM - pm_calc).T[L.nest_c.T]
        out["armington_price"] = to_sbi(PA - pa_calc)[comp]
        QM = v["QM"]
        qm = (L.mu * QA * np.power(PA / pm_b, sdm[:, None, None])).sum(axis=2)
        out["import_quantity"] = (QM - qm).T[L.nest_c.T]
        z_imp = np.where(L.route, QM[None] * np.power(PM[None] / pdc, L.sig_mm[None, :, None]), 0.0)
        z = np.where(L.direct, QA[None] * np.power(PA[None] / pd, sdm[None, :, None, None]), 0.0)
        z = np.where(L.imp, z_imp[..., None], z)
        shipped = (inst.tau_b * L.d_0 * z).sum(axis=(2, 3))
        revenue = (inst.t_b * p[:, :, None, None] * inst.tau_b * L.d_0 * z * L.offdiag[:, None, :, None]).sum(axis=(0, 1, 3))
    else:
        # a buyer's delivered price depends on its price class only (its use, or its duty exemption):
        # flows one commodity at a time ([r, s, b] slices), each buyer at the prices of its class
        pdu = p[:, :, None, None] * inst.kappa_u  # [r, i, s, use]
        use = inst.use
        pm_calc, pa_calc = np.empty(QA.shape), np.empty(QA.shape)
        qm = QA * np.power(PA / PM, sdm[:, None, None])
        m0 = P.m_0.transpose(2, 0, 1)  # [i, s, b]
        shipped, revenue = np.zeros((R, S)), np.zeros(R)
        off = L.offdiag[:, :, None]  # [r, s, 1]
        def power(x, e):  # x[r, s, class]^e, on the buyers [r, s, b]
            return np.take(np.power(x, e), use, axis=-1)  # C-ordered, unlike x[..., use]

        for i in range(S):
            pdi = np.ascontiguousarray(pdu[:, i])  # [r, s, class]
            th_dir = np.where(L.direct[:, i], L.th_A_of(i), 0.0)  # Layout.th_dir and th_M, one commodity
            th_M = _ratio(P.v_0[:, i], m0[i][None], L.imp[:, i])
            smm, sdi = L.sig_mm[i], sdm[i]
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                if smm == 1.0:
                    pm_calc[i] = ces_index(smm, [(th_M, np.take(pdi, use, axis=-1), 0)])
                else:  # CES terms raised per class
                    pm_calc[i] = np.power((th_M * power(pdi, 1.0 - smm)).sum(axis=0), 1.0 / (1.0 - smm))
                if sdi == 1.0:
                    pa_calc[i] = ces_index(sdi, [(th_dir, np.take(pdi, use, axis=-1), 0), (L.th_nest[i], PM[i], None)])
                else:
                    acc = (th_dir * power(pdi, 1.0 - sdi)).sum(axis=0) + L.th_nest[i] * np.power(PM[i], 1.0 - sdi)
                    pa_calc[i] = np.power(acc, 1.0 / (1.0 - sdi))
                z_dir = (QA[i] * np.power(PA[i], sdi))[None] * power(pdi, -sdi)
                z_imp = (qm[i] * np.power(PM[i], smm))[None] * power(pdi, -smm)
            z = np.where(L.direct[:, i], z_dir, np.where(L.imp[:, i], z_imp, 0.0))
            dz = L.d_0[:, i] * z
            dzu = np.zeros(pdi.shape)  # deliveries by class [r, s, class]
            for u, g in inst.groups:
                dzu[..., u] += dz[..., g].sum(axis=2)
            tau = inst.tau_u[:, i]
            shipped[:, i] = (tau * dzu).sum(axis=(1, 2))
            revenue += (inst.t_u[:, i] * tau * dzu * p[:, i, None, None] * off).sum(axis=(0, 2))
        out["import_price"] = to_sbi(PM - pm_calc)[to_sbi(L.nest)]
        out["armington_price"] = to_sbi(PA - pa_calc)[comp]
    excess = Y - shipped / L.x_0
    goods = L.prod.copy()
    goods[L.walras] = False
    out["goods_market"] = excess[goods]

    supply = np.ones(L.K)
    for s in L.labour_regions:
        supply[L.labour_market[s]] = LS[s]
    WL = v["WL"]
    if len(L.cet_k):
        k = L.cet_k
        supply[k] *= np.power(w[k] / WL[L.cet_region[k]], L.cet_eta)
    ratio_va = np.where(L.has_va, c / PVA, 1.0)
    vaq = Y * np.power(ratio_va, L.sig_top)
    fd = L.use_fp0 * vaq[L.use_s, L.use_j] * np.power(PVA[L.use_s, L.use_j] / w[L.use_k], L.sig_va[L.use_s, L.use_j])
    out["factor_market_clearing"] = np.bincount(L.use_k, weights=fd * L.fm_coef, minlength=L.K) - supply
    out["pfd_def"] = (PFD - pb_calc[:, S:])[L.agent_exists]
    out["final_demand"] = composite[:, S:][comp[:, S:]]
    factor_income = np.bincount(L.use_s, weights=w[L.use_k] * fd, minlength=R)
    output_tax = (inst.to * c * Y * P.x_0).sum(axis=1)
    index = L.closure.transfer_index(inst.numeraire_value, INC * P.income_0, P.income_0)
    out["income_balance"] = INC - (factor_income + revenue + output_tax + inst.transfer * index) / P.income_0
    if L.numeraire_output is not None:
        num = p.ravel()[L.prod_idx[L.numeraire_output]]
    else:
        num = L.numeraire_weights @ w[L.numeraire_keys]
    out["numeraire"] = np.array([num - inst.numeraire_value])
    if len(L.cet_k):
        out["cet_wage"] = (WL - L.cet_wage(w))[L.cet_regions]
    if L.L:
        s = np.array(L.labour_regions)
        wl = w[L.labour_market[s]]
        pfd = PFD[s, P.household]
        if L.closure.labour == "fixed_real_wage":
            out["labour_supply"] = wl - pfd
        else:
            out["labour_supply"] = LS[s] - np.power(wl / pfd, L.closure.labour_supply_elasticity)
    walras = float(excess[L.walras])
    return out, walras


def equation_indices(layout) -> dict:
    """Index tuples of every equation block, as the reference model's index sets hold them."""
    L = layout
    S = L.S
    comp = to_sbi(L.comp)
    goods = L.prod.copy()
    goods[L.walras] = False

    def tuples(mask, offset=None):
        idx = np.argwhere(mask)
        if offset is not None:
            idx[:, offset[0]] += offset[1]
        return [tuple(int(v) for v in row) for row in idx]

    out = {
        "zero_profit": tuples(L.prod),
        "pva_def": tuples(L.has_va),
        "pint_def": tuples(L.has_int),
        "input_demand": tuples(comp[:, :S]),
    }
    if L.grouped:
        from .sizenest import indices

        out["size_price"] = indices(L)
    out |= {
        "import_price": tuples(L.nest_c.T) if L.common else tuples(to_sbi(L.nest)),
        "armington_price": tuples(comp),
    }
    if L.common:
        out["import_quantity"] = tuples(L.nest_c.T)
    out |= {
        "goods_market": tuples(goods),
        "factor_market_clearing": list(L.markets),
        "pfd_def": tuples(L.agent_exists),
        "final_demand": tuples(comp[:, S:], offset=(1, S)),
        "income_balance": [(s,) for s in range(L.R)],
        "numeraire": [None],
    }
    if len(L.cet_k):
        out["cet_wage"] = [(int(s),) for s in L.cet_regions]
    if L.L:
        out["labour_supply"] = [(s,) for s in L.labour_regions]
    return out
