r"""Tariffs along the value chain: cumulative tariff burdens and effective rates of protection.

On a benchmark (or counterfactual) table with its tariffs by use, :func:`cumulative_tariffs` measures
how tariffs add up when goods cross borders several times (Yi 2003; Rouzet and Miroudot 2013): the
tariff paid per unit of a delivery directly, plus the tariffs paid upstream on the imported inputs,
and the inputs of those inputs, embodied in it. With input coefficients :math:`A` (at basic prices)
and the matrix :math:`T` of tariffs on intermediate flows (zero on domestic flows), the upstream
tariff content per unit of output of row :math:`k` is

.. math::
    \tau^{u} = u'(A \circ T)(I - A)^{-1},

tariffs on inputs counted once, at every stage, on a value that includes the tariffs paid before it
(a basic price covers the producer's costs, tariffs on its inputs included). The cumulative tariff of
a delivery from row :math:`k` to a buyer is the direct tariff on it plus :math:`\tau^u_k`; with no
intermediate trade it is the direct tariff. :func:`effective_protection` gives Corden's (1966)
effective rate of protection of each region-sector from the same data:

.. math::
    ERP_{sj} = \frac{t_{sj} - \sum_i a_{sij} t_{si}}{1 - \sum_i a_{sij}},

with :math:`a_{sij}` the input coefficient of commodity :math:`i` (all origins, basic prices),
:math:`t_{si}` the import-weighted average tariff region :math:`s` applies to commodity :math:`i` in
intermediate use, and :math:`t_{sj}` the one on its imports of :math:`j` (all uses): the protection
of the sector's value added, which tariffs on its inputs lower. A sector with a duty exemption
:math:`e_{sj}` (:mod:`cge.instruments`) pays :math:`t (1 - e_{sj})` on its imported inputs: both
measures use the rate each buyer pays (an export-processing activity with a full exemption pays no
tariff on its inputs, and its ERP is its output tariff over its value-added share).

References
----------
- Corden, W. M. (1966). The structure of a tariff system and the effective protective rate.
  *Journal of Political Economy* 74(3), 221-237.
- Rouzet, D. and Miroudot, S. (2013). The cumulative impact of trade barriers along the value chain:
  an empirical assessment using the OECD inter-country input-output model. GTAP conference paper.
- Yi, K.-M. (2003). Can vertical specialization explain the growth of world trade? *Journal of
  Political Economy* 111(1), 52-102.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def upstream_tariff_content(bench) -> np.ndarray:
    r"""Tariffs paid upstream per unit of output of each region-sector, :math:`u'(A \circ T)(I - A)^{-1}` (R, S)."""
    R, S = bench.n_regions, bench.n_sectors
    n = R * S
    x = bench.output.reshape(n)
    Z = bench.z_0.reshape(n, n)
    A = np.divide(Z, x[None, :], out=np.zeros_like(Z), where=x[None, :] > 0)
    if bench.duty_exemption_0.any():  # each using sector's rate, net of its duty exemption
        Tm = bench.intermediate_tariff.reshape(n, n)
    else:
        T = bench.tariff_0[..., 0]  # [r, i, s] on intermediate use
        Tm = np.repeat(T[:, :, :, None], S, axis=3).reshape(n, n)  # the same rate for every using sector of s
    direct = (A * Tm).sum(axis=0)
    return np.linalg.solve((np.eye(n) - A).T, direct).reshape(R, S)


def cumulative_tariffs(bench) -> pd.DataFrame:
    """Direct and cumulative tariffs of every international delivery, intermediate and final.

    Long frame ``exporter, commodity, importer, use, value, direct, upstream, cumulative``: the
    delivery's value at basic prices, its direct tariff, the tariffs embodied upstream per unit
    (:func:`upstream_tariff_content` of the exporter's sector) and their sum.
    """
    R, S = bench.n_regions, bench.n_sectors
    up = upstream_tariff_content(bench)
    rows = []
    off = ~np.eye(R, dtype=bool)
    for u, (use, flows) in enumerate((("intermediate", bench.z_0.sum(axis=3)), ("final", bench.f_0.sum(axis=3)))):
        t = bench.tariff_0[..., u]
        r, i, s = np.nonzero((flows > 0) & off[:, None, :])
        rows.append(pd.DataFrame({
            "exporter": np.asarray(bench.regions)[r], "commodity": np.asarray(bench.sectors)[i],
            "importer": np.asarray(bench.regions)[s], "use": use, "value": flows[r, i, s],
            "direct": t[r, i, s], "upstream": up[r, i], "cumulative": t[r, i, s] + up[r, i],
        }))
    return pd.concat(rows, ignore_index=True)


def final_goods_burden(bench, commodities=None) -> pd.DataFrame:
    """The cumulative tariff burden on final goods by importer (value-weighted over origins and
    ``commodities``, default all): direct tariffs, upstream tariffs embodied, and their sum."""
    ct = cumulative_tariffs(bench)
    ct = ct[ct["use"] == "final"]
    if commodities is not None:
        ct = ct[ct["commodity"].isin(list(commodities))]
    weights = ct["value"]
    out = ct[["direct", "upstream", "cumulative"]].mul(weights, axis=0).groupby(ct["importer"], sort=False).sum()
    out = out.div(weights.groupby(ct["importer"], sort=False).sum(), axis=0)
    return out.reindex([r for r in bench.regions if r in out.index]).rename_axis("importer")


def effective_protection(bench) -> pd.DataFrame:
    """Nominal output tariff, input tariff content and effective rate of protection by region x sector."""
    R, S = bench.n_regions, bench.n_sectors
    off = ~np.eye(R, dtype=bool)[:, None, :]
    x = bench.output
    inputs = bench.z_0.sum(axis=0)  # [i, s, j]: inputs of commodity i bought by (s, j), all origins
    a = np.divide(inputs, x[None], out=np.zeros_like(inputs), where=x[None] > 0)
    imp_int = np.where(off, bench.z_0.sum(axis=3), 0.0)  # [r, i, s]
    imp_all = imp_int + np.where(off, bench.f_0.sum(axis=3), 0.0)
    t_int = _weighted(bench.tariff_0[..., 0], imp_int)  # [i, s]
    exempt = bench.duty_exemption_0
    paid_int = (np.where(off[..., None], bench.z_0 * bench.intermediate_tariff, 0.0).sum(axis=3) if exempt.any()
                else bench.tariff_0[..., 0] * np.where(off, bench.z_0.sum(axis=3), 0.0))
    t_all = _weighted(paid_int + bench.tariff_0[..., 1] * np.where(off, bench.f_0.sum(axis=3), 0.0), imp_all, already=True)
    share = a.sum(axis=0)  # [s, j]
    input_tariffs = (a * t_int[:, :, None]).sum(axis=0)  # [s, j]
    if exempt.any():  # a sector with a duty exemption pays (1 - e) of the rate on its inputs
        input_tariffs = input_tariffs * (1.0 - exempt)
    nominal = t_all.T  # [s, j]
    with np.errstate(divide="ignore", invalid="ignore"):
        erp = np.where((x > 0) & (share < 1), (nominal - input_tariffs) / (1.0 - share), np.nan)
    idx = pd.MultiIndex.from_product([bench.regions, bench.sectors], names=["region", "sector"])
    return pd.DataFrame({"nominal": nominal.ravel(), "input_share": share.ravel(), "input_tariffs": input_tariffs.ravel(),
                         "effective": erp.ravel()}, index=idx)


def _weighted(t, flows, already=False) -> np.ndarray:
    """Import-weighted average over exporters: ``[i, s]`` from tariffs and flows ``[r, i, s]``."""
    paid = t.sum(axis=0) if already else (t * flows).sum(axis=0)
    total = flows.sum(axis=0)
    return np.divide(paid, total, out=np.zeros_like(total), where=total > 0)
