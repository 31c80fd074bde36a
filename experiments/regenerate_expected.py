"""Regenerate the expected headline welfare table used by the regression test.

    python experiments/regenerate_expected.py     # writes tests/data/headline_welfare.csv

Runs experiments/headline.toml on the built-in eastasia-2011 benchmark and stores EV (currency units
and % of income) by region and scenario. Regenerate only when a change of the model or the benchmark
is intended, and say why in the commit message.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from cge.experiment import run_spec

HERE = Path(__file__).resolve().parent
TARGET = HERE.parent / "tests" / "data" / "headline_welfare.csv"


def headline_welfare(out: Path) -> pd.DataFrame:
    done = run_spec(HERE / "headline.toml", out, progress=False)
    rows = []
    for name, w in done["welfare"].items():
        rows.append(pd.DataFrame({"scenario": name, "region": w.index, "ev": w["ev"].to_numpy(), "ev_pct": w["ev_pct"].to_numpy()}))
    return pd.concat(rows, ignore_index=True)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        df = headline_welfare(Path(tmp))
    df.to_csv(TARGET, index=False, float_format="%.10g")
    print(df.to_string())
    print("wrote", TARGET)
