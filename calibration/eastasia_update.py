# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A recent base year: eastasia-2019 and eastasia-2022
#
# Companion of `eastasia_2011.py`. It updates the 2011 hybrid table to 2019 and 2022 with the ICIO
# cube's growth of output and bilateral trade (`cge.sources.update`), checks the margins, rebuilds
# the two benchmarks and compares them with the committed files, runs the back-test on WIOD (2008
# and 2005 updated to 2011 against the true 2011 table) and shows what changed in the networks from
# 2011 to 2022: intra-regional trade shares, US imports from China and Viet Nam, China's and Viet
# Nam's GVC participation. Method and assumptions: `calibration/README.md`, section 5.
#
# Run it with `jupytext --to notebook calibration/eastasia_update.py` and Jupyter, or as a script.

# %%
import sys
from pathlib import Path

ROOT = next(p for p in (Path.cwd(), Path.cwd().parent) if (p / "calibration" / "recipes.py").is_file())
sys.path.insert(0, str(ROOT))

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import cge  # noqa: E402
from calibration import backtest, build_all, checks, recipes  # noqa: E402
from cge.sources import build, shared_data_dir, update  # noqa: E402

print("raw data:", shared_data_dir())

# %% [markdown]
# ## 1. The update: targets met, table balanced
#
# Each route (origin region, WIOD sector, buyer region) grows with the cube's growth of its
# (exporter, bridge group, importer) cell; one RAS per buyer region fits the 2011 input structure to
# the new route totals, intermediate inputs ((1 - 2011 value-added share) x new output) and final
# demand (absorption minus inputs, 2011 agent shares).

# %%
inputs = build.load_inputs(io_proxies=recipes.io_proxies())
h0 = inputs.hybrid
_, groups, group_names = update.group_matrix(inputs.cube, h0.sectors)
base_cube = update.cube_on_table(inputs.cube, h0.regions, inputs.split.members, h0.sectors)
routes0 = np.einsum("ris,ig->rgs", h0.Z.sum(axis=3) + h0.F.sum(axis=3), groups)
rows = []
for year in (2019, 2022):
    later, report = build_all.updated_inputs(inputs, year)
    h = later.hybrid
    target = update.cube_on_table(later.cube, h0.regions, inputs.split.members, h0.sectors)
    g, fb = update.growth_factors(base_cube, target, routes0)
    routes = np.einsum("ris,ig->rgs", h.Z.sum(axis=3) + h.F.sum(axis=3), groups)
    rows.append({
        "year": year,
        "world output (tn US$)": h.sales.sum() / 1e6,
        "largest route error vs cube growth": float(np.max(np.abs(routes - routes0 * g) / np.maximum(1.0, routes0 * g))),
        "largest |costs - sales| / sales": h.balance_residual(),
        "RAS sweeps (max)": report.iterations,
        "fallback routes": report.fallback_routes,
        "fallback value (bn US$)": report.fallback_value / 1e3,
        "mean |va share change|": report.va_share_deviation_weighted,
        "seconds": report.seconds,
    })
pd.DataFrame(rows).set_index("year").T

# %% [markdown]
# ## 2. The benchmarks: rebuilt, compared with the committed files, replicated in the model

# %%
_, built = build_all.build_all(("eastasia-2019", "eastasia-2022"), inputs)
for name, (bench, rep) in built.items():
    diffs = build_all.compare(bench, cge.Benchmark.load(name))
    residual = float(cge.Model(bench, backend="fast").residuals().abs().max())
    print(f"{name}: committed benchmark: {'identical' if not diffs else diffs}; largest residual {residual:.1e}; "
          f"tariff revenue {bench.tariff_revenue.sum() / 1e3:,.1f} bn US$")
    if rep.collection is not None and not rep.collection.table.empty:
        print(rep.collection.table[["implied", "collected", "collection_rate", "ratio_after"]].round(3).to_string())
    else:
        print("  no collected-duty data for this year: applied tariffs kept")

# %% [markdown]
# ## 3. Back-test: WIOD 2008 and 2005 updated to 2011
#
# Errors x 100 of the update (WIOD 2016 cube growth), of the same update with WIOD 2013's own 2011
# margins, and of the base table unchanged, against the true WIOD 2011 table.

# %%
bt = backtest.run()
print(backtest.markdown(bt))

# %%
fig, ax = plt.subplots(figsize=(8, 3.5))
keys = ["input_coefficients", "bilateral_shares", "output_structure", "vax_ratio_mean", "gvc_participation_mean"]
kinds = ["update", "own margins", "unchanged"]
x = np.arange(len(keys))
for n, kind in enumerate(kinds):
    ax.bar(x + (n - 1) * 0.27, [100 * bt.loc[k, (2008, kind)] for k in keys], width=0.27, label=kind)
ax.set_xticks(x, [k.replace("_", " ") for k in keys], rotation=15)
ax.set_ylabel("error x 100")
ax.set_title("Back-test, WIOD 2008 -> 2011")
ax.legend()
fig.tight_layout()

# %% [markdown]
# ## 4. What changed 2011 -> 2022
#
# Intra-group shares of members' trade (trade inside an aggregated region, such as the rest of
# ASEAN or the EU, is domestic), US goods imports, Borin-Mancini GVC participation (GVC-related
# trade / gross exports) and VAX ratios.

# %%
benches = {n: cge.Benchmark.load(n) for n in ("eastasia-2011", "eastasia-2019", "eastasia-2022")}
changes = checks.network_changes(benches)
changes.round(3)

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
years = [2011, 2019, 2022]
for e in ("CHN", "VNM", "THA", "MYS", "KOR"):
    axes[0].plot(years, changes.loc[f"GVC participation (Borin-Mancini), {e}"].to_numpy(), marker="o", label=e)
axes[0].set_title("GVC participation (Borin-Mancini)")
axes[0].legend()
for g in ("ASEAN", "ASEAN+3", "EastAsia", "RCEP"):
    axes[1].plot(years, changes.loc[f"intra-{g} share of members' trade"].to_numpy(), marker="o", label=g)
axes[1].set_title("intra-group share of members' trade")
axes[1].legend()
fig.tight_layout()
