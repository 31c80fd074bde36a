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
# This notebook reads the folder written by `cge run SPEC --out DIR` and turns it into a
# publication-style welfare table (EV in % of income with its decomposition) and a figure of welfare
# against the change in backward GVC participation.
#
# Which folder: the parameter `results_dir` below, else the environment variable `CGE_RESULTS`, else
# `results/headline` of this checkout (written by `make demo`), found from the folder the notebook is
# opened in. If that folder does not exist yet, the headline experiment is run first (about 20 s).

# %% tags=["parameters"]
results_dir = None

# %%
# %matplotlib inline
import json
import os
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from cge import experiment, figures, tables


def find_results(results_dir=None) -> Path:
    """The results folder: the parameter, $CGE_RESULTS, or results/headline of this checkout."""
    chosen = results_dir or os.environ.get("CGE_RESULTS")
    if chosen:
        return Path(chosen).expanduser().resolve()
    here = Path.cwd().resolve()  # Jupyter starts the kernel in the notebook's folder
    root = next((p for p in (here, *here.parents) if (p / "experiments" / "headline.toml").is_file()), None)
    if root is None:
        raise FileNotFoundError(f"no checkout of cge above {here}: set results_dir or CGE_RESULTS to a `cge run` folder")
    folder = root / "results" / "headline"
    if not (folder / "metadata.json").is_file():
        print(f"{folder} has no results yet: running experiments/headline.toml")
        experiment.run_spec(root / "experiments" / "headline.toml", folder, progress=False)
    return folder


results = find_results(results_dir)
meta = json.loads((results / "metadata.json").read_text())
scenarios = list(meta["scenarios"])
bench_meta = meta["benchmark"]["metadata"]
unit = bench_meta.get("unit", bench_meta.get("currency", ""))
print(meta["title"], "|", meta["benchmark"]["name"], "| benchmark hash", meta["benchmark"]["hash"], "| commit", meta["git_commit"][:10])
print("results:", results)
print("scenarios:", scenarios)

# %% [markdown]
# ## Welfare table
# EV in % of benchmark income for every scenario, and the decomposition of the first scenario's
# EV (currency units) into its parts. Labels and precision come from `cge.tables`.

# %%
tidy = pd.read_csv(results / "results.csv")
ev_pct = tidy[tidy.variable == "welfare_ev_pct"].pivot(index="region", columns="scenario", values="value")[scenarios]
first = scenarios[0]
own = results / meta["scenarios"][first]["folder"]  # the first scenario's tables and figures
dec = pd.read_csv(own / "decomposition.csv", index_col=0)
order = [r for r in dec.index if r != "World"] + ["World"]
table = pd.concat({f"EV % — {c}": ev_pct[c] for c in scenarios}, axis=1).join(dec.rename(columns=lambda c: f"{tables.label(c, unit)} — {first}"))
table = table.loc[order]
table.index.name = "region"
print(table.to_markdown(floatfmt=".2f"))

# %%
assert abs(ev_pct.loc["World"]).max() < 100.0
published = pd.concat({c: ev_pct[c].rename("ev_pct").to_frame() for c in scenarios}, axis=1, names=["scenario", "variable"]).loc[order]
(results / "publication_welfare.tex").write_text(tables.to_latex(published, "Welfare effects (EV, % of income)", "tab:welfare"))
print((results / "publication_welfare.tex").read_text())

# %% [markdown]
# ## The package's welfare figure
# Regions sorted by the first scenario's EV, World set apart (`cge.figures.welfare_figure`).

# %%
welfare = {c: pd.DataFrame({"ev_pct": ev_pct[c]}) for c in scenarios}
figures.welfare_figure(welfare)

# %% [markdown]
# ## Figure: welfare and value chains
# Each region's EV (% of income) against the change in its backward GVC participation
# (percentage points), for the first scenario.

# %%
gvc = pd.read_csv(own / "gvc.csv")
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
fig.savefig(results / "publication_welfare_gvc.png", dpi=150, bbox_inches="tight")
print("wrote", results / "publication_welfare.tex", results / "publication_welfare_gvc.png")
plt.show()
