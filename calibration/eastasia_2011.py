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
# # Calibration of the East Asia 2011 benchmark
#
# This notebook rebuilds the built-in benchmark `eastasia-2011` from the raw sources in
# `../shared/data` (or `$CGE_SHARED_DATA`) and shows the checks: the facts reproduced from the
# sources, the split of WIOD's rest of the world (RoW) into eight ASEAN economies, Hong Kong and
# New Zealand, the balance of the table, tariffs, elasticities, employment, and the benchmark
# replication in the model. The method is described in `calibration/README.md`; the code is in
# `cge.sources` (readers, hybrid table, build) and `calibration/` (recipes and checks).
#
# Run it with `jupytext --to notebook calibration/eastasia_2011.py` and Jupyter, or as a script.

# %%
import sys
from pathlib import Path

import matplotlib

if "ipykernel" not in sys.modules:
    matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

HERE = Path.cwd() if (Path.cwd() / "recipes.py").is_file() else Path.cwd() / "calibration"
sys.path.insert(0, str(HERE.parent))

import cge  # noqa: E402
from calibration import build_all, checks, recipes  # noqa: E402
from cge.sources import build, shared_data_dir  # noqa: E402

pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 20)
print("raw data:", shared_data_dir())

# %% [markdown]
# ## 1. Raw sources and the facts they reproduce
#
# WIOD 2013 release (2011 table), the WIOD Socio-Economic Accounts and the ICIO-based trade and
# tariff cube of 2011. The facts below are those recorded in each data set's PROVENANCE.txt
# (world output 141.8 trillion US$, China's output 22.3 trillion, China's 2009 employment about
# 780 million persons).

# %%
inputs = build.load_inputs(io_proxies=recipes.io_proxies())
print(f"read and built the hybrid table in {inputs.seconds:.1f} s")
checks.source_facts(inputs).round(3)

# %% [markdown]
# ## 2. Preparing WIOD: final agents, inventories, value added
#
# Final demand categories go to three agents; negative inventory changes are netted against fixed
# capital formation and the remaining negative cells removed without changing any sector's output.

# %%
for note in inputs.table.notes:
    print("-", note)

# %% [markdown]
# ## 3. Splitting the rest of the world
#
# The split economies and the remaining RoW must add up to WIOD's RoW cell by cell, trade with the
# 40 WIOD countries follows ICIO shares by bridge sector group, and output = sales = costs. The
# initial estimate (proxy structures, ICIO shares, scaled to the data margins) is far from balanced;
# iterative proportional fitting closes every margin.

# %%
split = inputs.split
print(f"IPF sweeps: {split.fit.iterations}, largest margin error {split.fit.max_error:.2e}")
print(
    f"balance of the split economies before balancing: largest relative gap {split.balance_before:.3f}, "
    f"sum of gaps {100 * split.imbalance_before_share:.1f}% of their output; after: {split.balance_after:.2e}"
)
split.balance_before_cells.head(8)

# %%
checks.row_identity(inputs)

# %%
fig, ax = plt.subplots(1, 2, figsize=(11, 3.8))
ax[0].semilogy(np.arange(1, len(split.fit.history) + 1) * 10, split.fit.history)
ax[0].set_xlabel("IPF sweep")
ax[0].set_ylabel("largest relative margin error")
ax[0].set_title("Balancing the split")
econ = checks.split_economies(inputs).drop(index="ROW")
x = np.arange(len(econ))
ax[1].bar(x - 0.2, econ["output"] / 1e3, 0.4, label="hybrid table")
ax[1].bar(x + 0.2, econ["icio_output"] / 1e3, 0.4, label="ICIO 2011")
ax[1].set_xticks(x, econ.index, rotation=45)
ax[1].set_ylabel("gross output, billion US$")
ax[1].set_title("Output of the split economies")
ax[1].legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# Output, value added and trade of the split economies against ICIO (the ICIO values are not
# imposed: output and trade follow ICIO shares of WIOD's RoW totals, and value added follows the
# proxies' structure).

# %%
econ[["output", "icio_output", "value_added", "va_share", "exports", "icio_exports", "imports", "icio_imports"]].round(3)

# %% [markdown]
# Trade among the split economies is not imposed; it follows ICIO through the prior. Gap between the
# model's and ICIO's origin shares (half the sum of absolute differences, weighted by purchases):

# %%
print(f"{100 * split.internal_share_gap:.2f}% of the split economies' purchases from each other")

# %% [markdown]
# The cells the balancing moved most, relative to the initial estimate:

# %%
split.largest_adjustments.round(1)

# %% [markdown]
# ## 4. The benchmark
#
# Aggregation to 18 regions x 14 sectors, SEA labour shares and employment, Teti tariffs and the
# Fontagné-Guimbard-Orefice elasticities. The rebuilt benchmark must equal the committed one.

# %%
bench, report = build.build_benchmark(recipes.recipe("eastasia-2011"), inputs)
print(bench)
diffs = build_all.compare(bench, cge.Benchmark.load("eastasia-2011"))
print("committed benchmark:", "identical" if not diffs else diffs)
checks.balance(bench)

# %% [markdown]
# Tariffs: trade-weighted tariffs by importer on goods (intermediate use, after the revenue treatment), %.

# %%
flows = bench.z_0.sum(axis=3) + bench.f_0.sum(axis=3)
services = set(build.concordance.BRIDGE[-1][1])
goods = [i for i, s in enumerate(bench.sectors) if not set(bench.metadata["sector_members"][s]) <= services]
paid = np.einsum("ris,ris->rs", flows[:, goods], bench.tariff_0[..., 0][:, goods, :])
trade = flows[:, goods].sum(axis=1)
np.fill_diagonal(trade, 0.0)
avg = pd.DataFrame(100 * np.divide(paid, trade, out=np.zeros_like(paid), where=trade > 0), index=bench.regions, columns=bench.regions)
avg.index.name, avg.columns.name = "exporter", "importer"
avg.round(1)

# %%
fig, ax = plt.subplots(figsize=(7.5, 6))
im = ax.imshow(avg.to_numpy(), cmap="viridis")
ax.set_xticks(range(bench.n_regions), bench.regions, rotation=90)
ax.set_yticks(range(bench.n_regions), bench.regions)
ax.set_xlabel("importer")
ax.set_ylabel("exporter")
ax.set_title("Tariff on goods (intermediate use), 2011 (%)")
fig.colorbar(im, ax=ax, shrink=0.8)
fig.tight_layout()
plt.show()

# %% [markdown]
# Tariff revenue against the customs duties collected in 2011 (US$ million; WDI GC.TAX.IMPT.CN at the
# official exchange rate): effective collection rates by region (section 3b of the README; duty
# drawback on inputs of exporters is the build option `tariff_collection = "drawback"`). The rates above are after this treatment.

# %%
report.collection.table.drop(columns="members").round(3)

# %% [markdown]
# Elasticities (sigma_mm from Fontagné, Guimbard and Orefice 2022 via the cube; sigma_dm = sigma_mm / 2),
# and the other published sets for comparison (sigma_mm of each set, trade-weighted to model sectors).

# %%
MK = build.icio_to_model(inputs.cube, inputs.hybrid.sectors, build.mapping_from_spec(recipes.recipe("eastasia-2011").sectors, sources=inputs.hybrid.sectors, groups={}), bench.sectors)
sets = {src: build.model_elasticities(inputs, MK, src, 0.5)["sigma_mm"] for src in sorted(inputs.cube.sigma)}
pd.DataFrame(sets, index=pd.Index(bench.sectors, name="sector")).round(2)

# %% [markdown]
# ## 5. Employment, factor shares and trade structure

# %%
checks.employment_table(bench).round(3)

# %%
checks.trade_share_table(inputs, bench).round(4)

# %% [markdown]
# ## 6. Benchmark replication in the model
#
# Calibrated to the benchmark, the model must reproduce it: the largest residual of any equation
# at the benchmark point is at rounding level.

# %%
model = cge.Model(bench)
res = model.residuals().abs()
print(f"{len(res)} equations, largest residual {res.max():.2e} ({res.idxmax()})")
