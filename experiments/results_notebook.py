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
# # From `cge run` outputs to a publication table and figure
#
# This notebook reads the folder written by `cge run SPEC --out DIR` (by default the headline
# experiment, `results/headline`, written by `make demo`; set the environment variable
# `CGE_RESULTS` to read another) and turns it into a publication-style welfare table (EV in % of
# income with its decomposition) and a figure of welfare against the change in backward GVC
# participation.

# %%
import json
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from cge import experiment, tables

results = Path(os.environ.get("CGE_RESULTS", "results/headline"))
meta = json.loads((results / "metadata.json").read_text())
scenarios = list(meta["scenarios"])
print(meta["title"], "|", meta["benchmark"]["name"], "| benchmark hash", meta["benchmark"]["hash"], "| commit", meta["git_commit"][:10])
print("scenarios:", scenarios)

# %% [markdown]
# ## Welfare table
# EV in % of benchmark income for every scenario, and the decomposition of the first scenario's
# EV (currency units) into its parts.

# %%
tidy = pd.read_csv(results / "results.csv")
ev_pct = tidy[tidy.variable == "welfare_ev_pct"].pivot(index="region", columns="scenario", values="value")[scenarios]
first = scenarios[0]
slug = experiment.slug(first)
dec = pd.read_csv(results / f"decomposition_{slug}.csv", index_col=0)
table = ev_pct.round(3).join(dec.round(1))
order = [r for r in dec.index if r != "World"] + ["World"]
table = table.loc[order]
table.columns = [f"EV % — {c}" if c in scenarios else f"{c} — {first}" for c in table.columns]
print(table.to_markdown())

# %%
assert abs(ev_pct.loc["World"]).max() < 100.0
table.to_latex(results / "publication_welfare.tex", float_format=lambda v: f"{v:.2f}", caption="Welfare effects", label="tab:welfare")

# %% [markdown]
# ## Figure: welfare and value chains
# Each region's EV (% of income) against the change in its backward GVC participation
# (percentage points), for the first scenario.

# %%
gvc = pd.read_csv(results / f"gvc_{slug}.csv")
back = gvc[gvc.indicator == "gvc_participation_backward_wwyz"].set_index("region")["change"]
regions = [r for r in ev_pct.index if r in back.index]
fig, ax = plt.subplots(figsize=(6, 4))
ax.scatter(back.loc[regions], ev_pct.loc[regions, first])
for r in regions:
    ax.annotate(r, (back.loc[r], ev_pct.loc[r, first]), fontsize="small", xytext=(3, 3), textcoords="offset points")
ax.axhline(0, color="black", linewidth=0.6)
ax.axvline(0, color="black", linewidth=0.6)
ax.set_xlabel(f"{tables.label('gvc_participation_backward_wwyz')}, change (pp)")
ax.set_ylabel(tables.label("ev_pct"))
ax.set_title(first)
fig.savefig(results / "publication_welfare_gvc.png", dpi=150, bbox_inches="tight")
print("wrote", results / "publication_welfare.tex", results / "publication_welfare_gvc.png")
