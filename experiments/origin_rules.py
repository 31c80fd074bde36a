"""Rules of origin and preference use: RCEP with and without its cumulation, a harmonised ASEAN rule.

Solves on ``eastasia-2011`` (fast backend) with :class:`cge.Origin` (utilisation of preferences in
equilibrium, compliance costs calibrated to Thai utilisation, :mod:`cge.origin`):

- ``rcep_full_use``: the tariff cuts of ``rcep.toml`` (zero tariffs among the RCEP members) in
  today's model, where every shipment between partners claims the preference at no cost;
- ``rcep_cumulation``: the same cuts as RCEP's preferential rates, RCEP as signed (RVC 40% or a
  change of heading, materials of all 15 parties count as originating);
- ``rcep_bilateral``: the same cuts under ASEAN+1-style rules: RCEP with bilateral cumulation only;
- ``asean_harmonised``: no tariff change; every ASEAN agreement with a coded rule (ATIGA and the
  ASEAN+1 FTAs) gets one rule, RVC 40% without the change of subheading AIFTA requires, and one
  cumulation zone, all of ASEAN's FTA partners (ASEAN, China, Japan, Korea, Australia-New Zealand,
  India);
- on the benchmark split by firm size (:func:`cge.split_firm_size`; SMEs' median compliance cost
  twice large firms', ``OriginParams.sme_cost_factor``): ``firms_rcep_cumulation`` (RCEP as signed),
  ``firms_rcep_sme_halved`` (the same with SMEs' compliance costs halved) and ``firms_sme_halved``
  (SMEs' costs halved, no tariff change).

Writes ``experiments/origin_rules.csv`` (utilisation, MFN, preferential, effective tariffs and
compliance costs by agreement, benchmark and scenario; welfare by region; members' intermediate
imports from RCEP partners), ``experiments/origin_rules.md`` (the same as tables) and the
``origin_rules`` block of ``experiments/README.md``.

    PYTHONPATH=. python experiments/origin_rules.py
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

import cge
from cge import datasets
from cge.origin import Origin, OriginParams, cumulation_diversion

HERE = Path(__file__).resolve().parent
CSV = HERE / "origin_rules.csv"
MD = HERE / "origin_rules.md"
README = HERE / "README.md"
BLOCK = ("<!-- results:origin_rules (experiments/origin_rules.py) -->\n", "<!-- /results:origin_rules -->")
ASEAN_AGREEMENTS = ("ATIGA", "ACFTA", "AKFTA", "AJCEP", "AANZFTA", "AIFTA")
PARTNERS = ("CHN", "JPN", "KOR", "ANZ", "IND")
STEPS = 8
"""Path steps of the welfare decomposition of the RCEP runs."""
DECOMPOSITION = ("tariff_efficiency", "trade_costs", "terms_of_trade", "residual")
VARIANTS = {
    "default": {},
    "cost_sigma=0.5": {"cost_sigma": 0.5},
    "cost_sigma=2": {"cost_sigma": 2.0},
    "rvc_dispersion=0.05": {"rvc_dispersion": 0.05},
    "cth_share=0.5": {"cth_share": 0.5},
    "calibration=aggregate": {"calibration": "aggregate"},
}
"""Assumptions varied for the RCEP cumulation comparison (rvc_dispersion 0.2 cannot reach ACFTA's 94% target)."""


def run(bench_name: str = "eastasia-2011") -> dict:
    """Solve the four scenarios; returns the benchmark, the Origin block and the results by name."""
    bench = datasets.load(bench_name)
    model = cge.Model(bench, backend="fast")
    origin = Origin(bench)
    rcep = bench.groups["RCEP"]
    cuts = cge.Scenario.from_shocks(bench, [{"instrument": "tariff", "exporters": rcep, "importers": rcep, "value": 0.0}], name="rcep")
    zone = list(bench.groups["ASEAN"]) + list(PARTNERS)
    out = {
        "rcep_full_use": model.solve(cuts, decompose=STEPS),
        "rcep_cumulation": origin.solve(model, cuts, agreements=["RCEP"], decompose=STEPS),
        "rcep_bilateral": origin.solve(model, cuts, agreements=["RCEP"], rules={"RCEP": {"cumulation": "bilateral"}}, decompose=STEPS),
        "asean_harmonised": origin.solve(
            model, cge.Scenario(name="asean_harmonised"),
            rules={a: {"rvc_pct": 40.0, "ctsh_required": False} for a in ASEAN_AGREEMENTS},
            zones={a: zone for a in ASEAN_AGREEMENTS},
        ),
    }
    firms = cge.split_firm_size(bench)
    fmodel, forigin = cge.Model(firms, backend="fast"), Origin(firms)
    fcuts = cge.Scenario.from_shocks(firms, [{"instrument": "tariff", "exporters": rcep, "importers": rcep, "value": 0.0}], name="rcep")
    out["firms_rcep_cumulation"] = forigin.solve(fmodel, fcuts, agreements=["RCEP"])
    out["firms_rcep_sme_halved"] = forigin.solve(fmodel, fcuts, agreements=["RCEP"], sme_cost=0.5)
    out["firms_sme_halved"] = forigin.solve(fmodel, cge.Scenario(name="sme_halved"), sme_cost=0.5)
    rows = []
    for label, kw in VARIANTS.items():
        o = origin if not kw else Origin(bench, OriginParams(**kw))
        cum = out["rcep_cumulation"] if not kw else o.solve(model, cuts, agreements=["RCEP"])
        bil = out["rcep_bilateral"] if not kw else o.solve(model, cuts, agreements=["RCEP"], rules={"RCEP": {"cumulation": "bilateral"}})
        wc, wb = cum.welfare()["ev"], bil.welfare()["ev"]
        uc = cum.by_agreement().set_index(["agreement", "case"]).loc[("RCEP", "scenario"), "utilisation"]
        ub = bil.by_agreement().set_index(["agreement", "case"]).loc[("RCEP", "scenario"), "utilisation"]
        rows.append({"variant": label, "world_cumulation": wc["World"], "world_bilateral": wb["World"], "world_difference": wc["World"] - wb["World"],
                     "THA_difference": wc["THA"] - wb["THA"], "rcep_use_cumulation": uc, "rcep_use_bilateral": ub})
    return {"bench": bench, "origin": origin, "results": out, "rcep": rcep, "sensitivity": pd.DataFrame(rows)}


def tables(run_out: dict) -> dict:
    res = run_out["results"]
    welfare = pd.DataFrame({name: r.welfare()["ev"] for name, r in res.items()})
    welfare["cumulation_minus_bilateral"] = welfare["rcep_cumulation"] - welfare["rcep_bilateral"]
    decomposition = pd.DataFrame({name: res[name].results.welfare_decomposition().sum() if hasattr(res[name], "results")
                                  else res[name].welfare_decomposition().sum() for name in ("rcep_full_use", "rcep_cumulation", "rcep_bilateral")}).T
    decomposition = decomposition[["ev", *DECOMPOSITION]]
    income = res["rcep_full_use"].welfare()["income_0"]
    agreements = pd.concat({name: r.by_agreement() for name, r in res.items() if hasattr(r, "by_agreement")}, names=["scenario"])
    agreements = agreements.reset_index(level=0).reset_index(drop=True)
    diversion = cumulation_diversion(res["rcep_cumulation"], res["rcep_bilateral"], run_out["rcep"])
    by_size = pd.concat({name: _by_size(r) for name, r in res.items() if name.startswith("firms_")}, names=["scenario"])
    by_size = by_size.reset_index(level=0).reset_index(drop=True)
    return {"welfare": welfare, "income": income, "agreements": agreements, "diversion": diversion,
            "calibration": run_out["origin"].calibration_table(), "medians": run_out["origin"].medians,
            "iterations": {n: r.iterations for n, r in res.items() if hasattr(r, "iterations")}, "by_size": by_size,
            "sensitivity": run_out["sensitivity"], "decomposition": decomposition}


def _by_size(res) -> pd.DataFrame:
    """Utilisation of eligible trade (a margin in the case) by firm size, benchmark and scenario."""
    rt = res.routes()
    rt["size"] = rt["commodity"].str.rsplit("_", n=1).str[-1].where(rt["commodity"].str.endswith(("_sme", "_large")), "all")
    rows = []
    for case, sfx in (("benchmark", "_0"), ("scenario", "")):
        e = rt[(rt["agreement" + sfx] != "") & (rt["margin" + sfx] > 1e-9)]
        for size, g in e.groupby("size"):
            w = g["trade" + sfx]
            rows.append({"size": size, "case": case, "utilisation": float((g["utilisation" + sfx] * w).sum() / w.sum()),
                         "compliance_value": float(g["compliance_value" + sfx].sum()), "trade": float(w.sum())})
    return pd.DataFrame(rows)


def _long(t: dict) -> pd.DataFrame:
    rows = []
    for _, r in t["agreements"].iterrows():
        for v in ("utilisation", "mfn", "preferential", "effective", "compliance", "compliance_value", "trade", "rvc"):
            rows.append(("agreements", r["scenario"], r["agreement"], r["case"], v, r[v]))
    for region, r in t["welfare"].iterrows():
        for scenario, v in r.items():
            rows.append(("welfare", scenario, region, "scenario", "ev", v))
    for _, r in t["by_size"].iterrows():
        for v in ("utilisation", "compliance_value", "trade"):
            rows.append(("firm_size", r["scenario"], r["size"], r["case"], v, r[v]))
    for scenario, r in t["decomposition"].iterrows():
        for v, x in r.items():
            rows.append(("decomposition", scenario, "World", "scenario", v, x))
    for _, r in t["sensitivity"].iterrows():
        for v in t["sensitivity"].columns[1:]:
            rows.append(("sensitivity", "rcep_cumulation vs rcep_bilateral", r["variant"], "scenario", v, r[v]))
    for region, r in t["diversion"].iterrows():
        for v in ("share_with", "share_without", "change_pp", "change_value"):
            rows.append(("rcep_sourcing", "rcep_cumulation vs rcep_bilateral", region, "scenario", v, r[v]))
    return pd.DataFrame(rows, columns=["table", "scenario", "key", "case", "variable", "value"])


def _write(path: Path, text: str) -> None:
    """Write beside the target, then rename over it (a crash leaves the old file whole)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.tmp-")
    with os.fdopen(fd, "w", newline="\n") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _bn(x: float) -> str:
    sign = "-" if x < 0 else ""
    return f"{sign}US${abs(x) / 1e3:,.1f}bn" if abs(x) >= 1e3 else f"{sign}US${abs(x):,.0f}m"


def paragraph(t: dict) -> str:
    w, ag = t["welfare"], t["agreements"].set_index(["scenario", "agreement", "case"])
    cal = t["calibration"].set_index("target")
    diff = w["cumulation_minus_bilateral"].drop("World")
    bench_rows = ag.xs("rcep_cumulation").xs("benchmark", level="case")
    pct = lambda x: f"{100 * x:.1f}%"  # noqa: E731
    before = ", ".join(f"{a} {pct(r['utilisation'])} (effective {pct(r['effective'])}, MFN {pct(r['mfn'])})" for a, r in bench_rows.iterrows())
    rc = ag.loc[("rcep_cumulation", "RCEP", "scenario")]
    rb = ag.loc[("rcep_bilateral", "RCEP", "scenario")]
    div = t["diversion"]
    sens = t["sensitivity"]
    dec = t["decomposition"]
    bs = t["by_size"].set_index(["scenario", "size", "case"])["utilisation"]
    h = ag.xs("asean_harmonised")
    harm = ", ".join(f"{a} {pct(h.loc[(a, 'benchmark'), 'utilisation'])} -> {pct(h.loc[(a, 'scenario'), 'utilisation'])}"
                     for a in ASEAN_AGREEMENTS if (a, "scenario") in h.index)
    matched = ", ".join(f"{k} {pct(cal.loc[k, 'model'])}" for k in cal.index if cal.loc[k, "matched"])
    return (
        f"*Results:* calibrated benchmark utilisation of eligible trade (Thai targets matched: "
        f"{matched}; Thailand's all-FTA "
        f"rate {pct(cal.loc['all FTAs', 'model'])} against {pct(cal.loc['all FTAs', 'observed'])} observed) by agreement, all "
        f"exporters: {before}. RCEP as signed: utilisation of RCEP on its routes {pct(rc['utilisation'])}, effective tariff "
        f"{pct(rc['effective'])} against a preferential rate of 0 and MFN {pct(rc['mfn'])}, compliance costs "
        f"{_bn(rc['compliance_value'])}; with bilateral cumulation only {pct(rb['utilisation'])}, effective {pct(rb['effective'])}, "
        f"compliance costs {_bn(rb['compliance_value'])}. World welfare: {_bn(w.loc['World', 'rcep_full_use'])} in today's model "
        f"(full use, free proof of origin), {_bn(w.loc['World', 'rcep_cumulation'])} with RCEP's cumulation and "
        f"{_bn(w.loc['World', 'rcep_bilateral'])} with bilateral cumulation (welfare decomposition of RCEP as signed: tariff "
        f"efficiency {_bn(dec.loc['rcep_cumulation', 'tariff_efficiency'])}, trade costs, i.e. compliance, "
        f"{_bn(dec.loc['rcep_cumulation', 'trade_costs'])}; today's model: tariff efficiency "
        f"{_bn(dec.loc['rcep_full_use', 'tariff_efficiency'])}): a difference of "
        f"{_bn(w.loc['World', 'cumulation_minus_bilateral'])}; by region from {_bn(diff.min())} ({diff.idxmin()}) to "
        f"{_bn(diff.max())} ({diff.idxmax()}); under {len(sens)} variants of the assumptions the world difference ranges from "
        f"{_bn(sens['world_difference'].min())} to {_bn(sens['world_difference'].max())} and Thailand's from "
        f"{_bn(sens['THA_difference'].min())} to {_bn(sens['THA_difference'].max())}. Cumulation moves members' intermediate imports towards RCEP partners by "
        f"{_bn(div['change_value'].sum())} ({div['change_pp'].min():+.2f} to {div['change_pp'].max():+.2f} percentage points of "
        f"their intermediate imports). A harmonised ASEAN rule without tariff change: utilisation {harm}; world welfare "
        f"{_bn(w.loc['World', 'asean_harmonised'])}. On the benchmark split by firm size (SMEs' cost twice large firms'), "
        f"SMEs use {pct(bs.loc[('firms_sme_halved', 'sme', 'benchmark')])} of their eligible preferences and large firms "
        f"{pct(bs.loc[('firms_sme_halved', 'large', 'benchmark')])}; halving SMEs' compliance costs raises SMEs' use to "
        f"{pct(bs.loc[('firms_sme_halved', 'sme', 'scenario')])} and world welfare by {_bn(w.loc['World', 'firms_sme_halved'])}; "
        f"with RCEP, world welfare is {_bn(w.loc['World', 'firms_rcep_cumulation'])} and "
        f"{_bn(w.loc['World', 'firms_rcep_sme_halved'])} with SMEs' costs halved. (origin_rules.md)\n"
    )


def main() -> Path:
    t = tables(run())
    _write(CSV, _long(t).to_csv(index=False, float_format="%.10g", lineterminator="\n"))
    w = t["welfare"].copy()
    lines = [
        "<!-- Generated by experiments/origin_rules.py; do not edit. -->",
        "",
        "**Calibration** (Thai export utilisation; compliance-cost medians, fraction of value: "
        + ", ".join(f"{k} {v:.4f}" for k, v in t["medians"].items()) + ")",
        "",
        t["calibration"].drop(columns="source").to_markdown(index=False, floatfmt=".4f"),
        "",
        "**Utilisation and tariffs by agreement** (eligible trade: routes and commodities with a margin; tariffs as "
        "fractions, model units; compliance cost as a fraction of value and in US$ million)",
        "",
        t["agreements"].to_markdown(index=False, floatfmt=".4f"),
        "",
        "**Welfare** (EV, US$ million)",
        "",
        w.to_markdown(floatfmt=",.1f"),
        "",
        f"**World welfare decomposition of the RCEP runs** (US$ million; Huff and Hertel 2000, {STEPS} path steps; "
        "compliance costs are in the trade-cost term)",
        "",
        t["decomposition"].to_markdown(floatfmt=",.1f"),
        "",
        "**Intermediate imports of RCEP members from RCEP partners**, with and without RCEP's cumulation",
        "",
        t["diversion"].to_markdown(floatfmt=".4f"),
        "",
        "**RCEP with minus without cumulation under other assumptions** (EV, US$ million; RCEP's utilisation of its "
        "eligible trade)",
        "",
        t["sensitivity"].to_markdown(index=False, floatfmt=",.3f"),
        "",
        "**Utilisation by firm size** (benchmark split by firm size; eligible trade)",
        "",
        t["by_size"].to_markdown(index=False, floatfmt=".4f"),
        "",
        f"Fixed-point iterations: {t['iterations']}.",
        "",
    ]
    _write(MD, "\n".join(lines))
    text = README.read_text()
    start, end = BLOCK
    if start in text:
        head, rest = text.split(start, 1)
        tail = rest.split(end, 1)[1]
        _write(README, head + start + paragraph(t) + end + tail)
    return CSV


if __name__ == "__main__":
    print(main())
