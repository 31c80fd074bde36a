"""Back-test of the base-year update (:mod:`cge.sources.update`) on WIOD: 2008 and 2005 taken to 2011.

The same method that takes the 2011 hybrid table to 2019 and 2022 takes the WIOD 2013 release
tables of 2008 and 2005 to 2011, with the growth of the WIOD 2016 based trade cube (bilateral trade
by 16 sectors and domestic absorption, the only 2011 information used), and the result is compared
with the true WIOD 2011 table. Two yardsticks: the base table itself (2008 or 2005 structure, no
update), which an update should beat, and the same update with WIOD 2013's own 2011 route sales as
margins ("own margins"), which separates the error of the method (what the margins cannot pin down)
from the error of the margins (the WIOD 2016 cube's growth is that of another release, as the
ICIO 2023 cube's is for the hybrid table).

    python -m calibration.backtest            # print the table of calibration/README.md
    python -m calibration.backtest --write    # also rewrite tests/data/calibration/backtest_errors.csv

Errors (all fractions; :func:`errors`):

- ``input_coefficients``: weighted absolute error of the multi-regional input coefficients
  ``a[r,i,s,j] = Z / x[s,j]``: ``sum |a_est - a_true| x_true / sum Z_true``;
- ``national_coefficients``: the same on coefficients summed over origins (the technology);
- ``value_added_shares``: output-weighted mean absolute error of ``va / x``;
- ``bilateral_shares``: import-weighted half sum of absolute differences of the origin shares of
  each importer's imports of each commodity (0 = same shares, 1 = disjoint);
- ``output_structure``: half sum of absolute differences of the shares of world output by region
  and sector;
- ``vax_ratio_mean`` / ``_max``: mean and largest absolute error over the 41 economies of the
  Johnson-Noguera VAX ratio (value added absorbed abroad / gross exports, :func:`cge.gvc.vax`);
- ``gvc_participation_mean`` / ``_max``: the same for Borin-Mancini GVC participation, GVC-related
  trade over gross exports (:func:`cge.gvc.borin_mancini`, exporter perspective, source approach).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cge.gvc import MRIO, borin_mancini, vax  # noqa: E402
from cge.sources.hybrid import Table, prepare_wiod  # noqa: E402
from cge.sources.icio_cubes import read_cube  # noqa: E402
from cge.sources.update import group_matrix, update_table, update_with_cubes, wiod16_members  # noqa: E402
from cge.sources.wiod import read_wiot  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = ROOT / "tests" / "data" / "calibration" / "backtest_errors.csv"
TARGET_YEAR = 2011
BASE_YEARS = (2008, 2005)
HEADLINE = (
    "input_coefficients",
    "national_coefficients",
    "value_added_shares",
    "bilateral_shares",
    "output_structure",
    "vax_ratio_mean",
    "vax_ratio_max",
    "gvc_participation_mean",
    "gvc_participation_max",
)
LABELS = {
    "input_coefficients": "input coefficients, by origin (weighted abs. error / coefficient)",
    "national_coefficients": "input coefficients, all origins (technology)",
    "value_added_shares": "value-added shares of output (output-weighted MAE)",
    "bilateral_shares": "bilateral import shares by importer x commodity (half L1, import-weighted)",
    "output_structure": "world output shares by region x sector (half L1)",
    "vax_ratio_mean": "VAX ratio by economy, mean abs. error",
    "vax_ratio_max": "VAX ratio by economy, largest abs. error",
    "gvc_participation_mean": "Borin-Mancini GVC participation by economy, mean abs. error",
    "gvc_participation_max": "Borin-Mancini GVC participation by economy, largest abs. error",
}


def indicators(table: Table) -> pd.DataFrame:
    """VAX ratio and Borin-Mancini GVC participation (GVC / gross exports) by economy."""
    t = MRIO(table.Z, table.F.sum(axis=3), None, table.va, regions=table.regions, sectors=table.sectors)
    bm = borin_mancini(t)
    return pd.DataFrame({"vax_ratio": vax(t)["VAX_ratio"], "gvc_participation": bm["GVC"] / bm["GEXP"]})


def _half_l1_shares(est: np.ndarray, true: np.ndarray, axis: int) -> float:
    """Weighted (by ``true`` totals) half sum of absolute differences of shares along ``axis``."""
    te, tt = est.sum(axis=axis, keepdims=True), true.sum(axis=axis, keepdims=True)
    se = np.divide(est, te, out=np.zeros_like(est), where=te > 0)
    st = np.divide(true, tt, out=np.zeros_like(true), where=tt > 0)
    return float((0.5 * np.abs(se - st).sum(axis=axis) * tt.squeeze(axis)).sum() / tt.sum())


def errors(est: Table, true: Table) -> dict[str, float]:
    """Errors of the table ``est`` against ``true`` (same regions, sectors, agents); see the module docstring."""
    xe, xt = est.sales, true.sales
    ae = np.divide(est.Z, xe[None, None], out=np.zeros_like(est.Z), where=xe[None, None] > 0)
    out = {"input_coefficients": float(np.abs(ae * xt[None, None] - true.Z).sum() / true.Z.sum())}
    ne, nt = ae.sum(axis=0), true.Z.sum(axis=0)
    out["national_coefficients"] = float(np.abs(ne * xt[None] - nt).sum() / nt.sum())
    ve = np.divide(est.va, xe, out=np.zeros_like(xe), where=xe > 0)
    vt = np.divide(true.va, xt, out=np.zeros_like(xt), where=xt > 0)
    out["value_added_shares"] = float((np.abs(ve - vt) * xt).sum() / xt.sum())
    R = len(true.regions)
    me, mt = est.Z.sum(axis=3) + est.F.sum(axis=3), true.Z.sum(axis=3) + true.F.sum(axis=3)
    me[np.arange(R), :, np.arange(R)] = 0.0
    mt[np.arange(R), :, np.arange(R)] = 0.0
    out["bilateral_shares"] = _half_l1_shares(me, mt, axis=0)
    out["output_structure"] = 0.5 * float(np.abs(xe / xe.sum() - xt / xt.sum()).sum())
    ie, it = indicators(est), indicators(true)
    for k in ("vax_ratio", "gvc_participation"):
        d = (ie[k] - it[k]).abs()
        out[f"{k}_mean"], out[f"{k}_max"] = float(d.mean()), float(d.max())
        out[f"{k}_argmax"] = str(d.idxmax())
    return out


def route_sales(table: Table, groups: np.ndarray) -> np.ndarray:
    """Sales of each (exporter, group, buyer region) route of a table: the margins a cube would give."""
    return np.einsum("ris,ig->rgs", table.Z.sum(axis=3) + table.F.sum(axis=3), groups)


def run(base_years=BASE_YEARS, target_year: int = TARGET_YEAR) -> pd.DataFrame:
    """The back-test: one column per (base year, estimate = update | base table unchanged)."""
    true = prepare_wiod(read_wiot(target_year))
    cube_t = read_cube(target_year, "WIOD")
    cols = {}
    for y in base_years:
        base = prepare_wiod(read_wiot(y))
        cube_b = read_cube(y, "WIOD")
        updated, report = update_with_cubes(base, cube_b, cube_t, wiod16_members(base.regions, cube_b))
        cols[(y, "update")] = errors(updated, true) | {"ras_sweeps": report.iterations, "seconds": round(report.seconds, 1)}
        _, groups, _ = group_matrix(cube_b, base.sectors)
        own = update_table(base, route_sales(base, groups), route_sales(true, groups), groups, y, target_year)[0]
        cols[(y, "own margins")] = errors(own, true)
        cols[(y, "unchanged")] = errors(base, true)
    return pd.DataFrame(cols)


def markdown(df: pd.DataFrame) -> str:
    """The README table: errors in percentage points of the share or coefficient."""
    years = sorted({y for y, _ in df.columns}, reverse=True)
    kinds = ("update", "own margins", "unchanged")
    head = "| error (x 100) | " + " | ".join(f"update {y} -> {TARGET_YEAR} | own margins {y} -> {TARGET_YEAR} | {y} unchanged" for y in years) + " |"
    lines = [head, "|---|" + "---|---|---|" * len(years)]
    for k in HEADLINE:
        cells = []
        for y in years:
            for kind in kinds:
                v = 100 * float(df.loc[k, (y, kind)])
                arg = f" ({df.loc[k.replace('_max', '_argmax'), (y, kind)]})" if k.endswith("_max") else ""
                cells.append(f"{v:.2f}{arg}")
        lines.append(f"| {LABELS[k]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def recorded(df: pd.DataFrame) -> pd.DataFrame:
    """The bounds the test asserts: each update error rounded up at the second significant digit."""
    rows = []
    for y in sorted({y for y, _ in df.columns}, reverse=True):
        for k in HEADLINE:
            v = float(df.loc[k, (y, "update")])
            scale = 10.0 ** (np.floor(np.log10(v)) - 1) if v > 0 else 1e-6
            rows.append({"base_year": y, "error": k, "value": v, "bound": float(np.ceil(v / scale) * scale)})
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"rewrite {EXPECTED.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    df = run()
    print(markdown(df))
    if args.write:
        rec = recorded(df)
        EXPECTED.write_text(
            "# Back-test of cge.sources.update (WIOD 2008 and 2005 to 2011): errors of the update and the bounds that\n"
            "# tests/test_update.py asserts. Regenerate: python -m calibration.backtest --write\n"
            + rec.to_csv(index=False, float_format="%.6g")
        )
        print("wrote", EXPECTED)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
