"""Checks of the calibration, shared by build_all.py, the notebook and the tests.

Each function returns a tidy pandas frame or a number; none of them asserts (the tests do).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import cge
from cge.aggregate import country_groups
from cge.sources.build import Inputs


def source_facts(inputs: Inputs) -> pd.DataFrame:
    """Facts reproduced from the raw sources (compare with PROVENANCE.txt of each data set)."""
    w, s = inputs.wiot, inputs.sea
    chn = w.regions.index("CHN")
    rows = [
        ("wiod_world_output_2011", w.x.sum() / 1e6, "trillion US$"),
        ("wiod_world_value_added_2011", w.value_added.sum() / 1e6, "trillion US$"),
        ("wiod_chn_output_2011", w.x[chn].sum() / 1e6, "trillion US$"),
        ("wiod_jpn_output_2011", w.x[w.regions.index("JPN")].sum() / 1e6, "trillion US$"),
        ("wiod_idn_output_2011", w.x[w.regions.index("IDN")].sum() / 1e6, "trillion US$"),
        ("sea_chn_employment_2009", s.total("EMP", 2009)[s.countries.index("CHN")] / 1e3, "million persons"),
        ("sea_usa_employment_2009", s.total("EMP", 2009)[s.countries.index("USA")] / 1e3, "million persons"),
        ("icio_world_output_2011", inputs.cube.trade.sum() / 1e6, "trillion US$"),
    ]
    return pd.DataFrame(rows, columns=["fact", "value", "unit"])


def _flows(Z: np.ndarray, F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bilateral flows (R, R): intermediate and final, exporter x importer."""
    return Z.sum(axis=(1, 3)), F.sum(axis=(1, 3))


def trade_shares(Z: np.ndarray, F: np.ndarray, regions: list[str], group: list[str]) -> dict[str, float]:
    """Shares in international trade (flows between distinct regions of the table).

    ``intra_group_share_of_exports``: exports of group members to members over their total exports;
    ``intra_group_share_of_trade``: twice the intra-group flows over members' exports plus imports;
    ``intermediate_share_of_world_trade``: intermediate goods and services in world trade.
    """
    zi, fi = _flows(Z, F)
    T = zi + fi
    R = len(regions)
    off = ~np.eye(R, dtype=bool)
    g = np.array([r in group for r in regions])
    intra = T[np.ix_(g, g)][off[np.ix_(g, g)]].sum()
    exports = (T * off)[g].sum()
    imports = (T * off)[:, g].sum()
    return {
        "intra_group_share_of_exports": float(intra / exports),
        "intra_group_share_of_trade": float(2 * intra / (exports + imports)),
        "intermediate_share_of_world_trade": float((zi * off).sum() / (T * off).sum()),
    }


def trade_share_table(inputs: Inputs, bench: cge.Benchmark) -> pd.DataFrame:
    """Intra-East-Asia and intermediate trade shares on the detailed hybrid table and the benchmark.

    Aggregation turns trade inside an aggregated region (the EU, the rest of ASEAN...) into domestic
    flows, so the benchmark's shares differ from the country-level ones.
    """
    h = inputs.hybrid
    east_asia_iso = country_groups(inputs.year)["EastAsia"]
    rows = []
    for label, Z, F, regions, group in (
        ("hybrid table (countries)", h.Z, h.F, h.regions, [r for r in h.regions if r in east_asia_iso]),
        (f"benchmark {bench.metadata.get('name', '')}", bench.z_0, bench.f_0, bench.regions, bench.groups.get("EastAsia", [])),
    ):
        shares = trade_shares(Z, F, regions, group)
        rows += [(label, k, v) for k, v in shares.items()]
    return pd.DataFrame(rows, columns=["table", "indicator", "value"])


def row_identity(inputs: Inputs) -> pd.DataFrame:
    """Largest relative gap between the split economies plus remaining RoW and WIOD's RoW, by block."""
    rep = inputs.split
    return pd.DataFrame(
        [(k, v) for k, v in rep.identity_error.items()] + [(f"ICIO shares: {k}", v) for k, v in rep.icio_share_error.items()],
        columns=["check", "max_relative_gap"],
    )


def balance(bench: cge.Benchmark) -> pd.DataFrame:
    """Output (sales) and costs by region with the largest relative gap of its sectors."""
    sales, costs = bench.output, bench.costs
    rel = np.abs(costs - sales) / np.maximum(1.0, sales)
    return pd.DataFrame(
        {"output": sales.sum(axis=1), "costs": costs.sum(axis=1), "max_relative_gap": rel.max(axis=1)},
        index=pd.Index(bench.regions, name="region"),
    )


def split_economies(inputs: Inputs) -> pd.DataFrame:
    """Output, value added, exports and imports of the split economies: hybrid table vs ICIO."""
    h, cube = inputs.hybrid, inputs.cube
    R = len(h.regions)
    off = ~np.eye(R, dtype=bool)
    T = h.Z.sum(axis=(1, 3)) + h.F.sum(axis=(1, 3))
    rows = []
    for r in list(inputs.split.output.index):
        k = h.index(r)
        row = {
            "region": r,
            "output": h.sales[k].sum(),
            "value_added": h.va[k].sum(),
            "exports": (T[k] * off[k]).sum(),
            "imports": (T[:, k] * off[:, k]).sum(),
        }
        if r in cube.countries:
            c = cube.index(r)
            row["icio_output"] = cube.trade[c].sum()
            row["icio_exports"] = cube.trade[c].sum() - cube.trade[c, :, c].sum()
            row["icio_imports"] = cube.trade[:, :, c].sum() - cube.trade[c, :, c].sum()
        rows.append(row)
    df = pd.DataFrame(rows).set_index("region")
    df["va_share"] = df["value_added"] / df["output"]
    return df


def employment_table(bench: cge.Benchmark) -> pd.DataFrame:
    """Persons engaged by region (millions) and whether they come from a proxy."""
    return pd.DataFrame(
        {
            "persons_million": bench.employment.sum(axis=1) / 1e6,
            "labour_share": bench.fp_0[..., bench.factors.index("labour")].sum(axis=1) / bench.fp_0.sum(axis=(1, 2)),
            "proxy": [r in bench.employment_proxy for r in bench.regions],
        },
        index=pd.Index(bench.regions, name="region"),
    )


def sea_employment(inputs: Inputs, year: int) -> pd.Series:
    """SEA persons engaged (total industries, millions) by country in ``year``."""
    s = inputs.sea
    return pd.Series(s.total("EMP", year) / 1e3, index=s.countries, name=f"persons_million_{year}")


__all__ = [
    "balance",
    "employment_table",
    "row_identity",
    "sea_employment",
    "source_facts",
    "split_economies",
    "trade_share_table",
    "trade_shares",
]


def network_changes(benches: dict[str, cge.Benchmark], economies=("CHN", "VNM", "THA", "MYS", "KOR", "JPN", "USA")) -> pd.DataFrame:
    """Changes in the trade networks across benchmarks of different base years (one column per benchmark).

    Rows: intra-group shares of trade of the benchmark's groups (IMF definition, :func:`cge.gvc.intra_regional_trade_share`;
    trade inside an aggregated region such as the EU or the rest of ASEAN is domestic), US goods imports
    from China and Viet Nam (US$ billion), and the Borin-Mancini GVC participation (GVC-related trade over
    gross exports, :func:`cge.gvc.borin_mancini`) and VAX ratio of ``economies``.
    """
    from cge.gvc import MRIO, borin_mancini, intra_regional_trade_share, vax

    cols = {}
    for name, b in benches.items():
        t = MRIO.of(b.to_mrio())
        col = {}
        for g, row in intra_regional_trade_share(t, b.groups).iterrows():
            col[f"intra-{g} share of members' trade"] = row["share"]
        members = b.metadata.get("sector_members", {})
        goods = [n for n, s in enumerate(b.sectors) if all(int(w[1:]) <= 16 for w in members.get(s, ["c99"]))]
        usa = b.regions.index("USA")
        for e in ("CHN", "VNM"):
            k = b.regions.index(e)
            col[f"US goods imports from {e} (US$ bn)"] = (b.z_0[k, goods, usa].sum() + b.f_0[k, goods, usa].sum()) / 1e3
        bm, vx = borin_mancini(t), vax(t)
        for e in economies:
            col[f"GVC participation (Borin-Mancini), {e}"] = bm.loc[e, "GVC"] / bm.loc[e, "GEXP"]
        for e in economies:
            col[f"VAX ratio, {e}"] = vx.loc[e, "VAX_ratio"]
        cols[name] = col
    return pd.DataFrame(cols)
