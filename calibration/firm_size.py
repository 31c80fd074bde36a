"""The firm-size split of eastasia-2011: calibrated SME shares against their targets, and SMEs' exports.

Writes the two tables of the "Firm size" section of ``calibration/README.md`` (between its
``<!-- firm-size tables -->`` markers); ``--check`` compares instead of writing
(``tests/test_firms.py`` runs the check). Needs ``../shared/data/sme_shares``.

    python -m calibration.firm_size [--check]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cge
from cge.firms import calibrated_shares, sme_shares, split_firm_size

README = Path(__file__).resolve().parent / "README.md"
BEGIN, END = "<!-- firm-size tables -->", "<!-- /firm-size tables -->"
FLAG = {"data": "", "proxy measure": " (m)", "proxy economy": " (e)", "rule": " (r)"}


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def tables(bench_name: str = "eastasia-2011") -> str:
    """The two markdown tables, as in the README."""
    split = split_firm_size(cge.Benchmark.load(bench_name))
    cal, sh = calibrated_shares(split), sme_shares(split)
    bounded = sorted({a.split()[0] for a in split.metadata["firm_size"]["adjusted"]})
    lines = [
        f"SME shares (%) of the split sectors of `{bench_name}`: target and calibrated. Flags: (m) the",
        "economy's figure for a related measure, (e) another economy's figure, (r) the fill rule;",
        f"unflagged: the economy's figure. Economies with a sector at a bound: {', '.join(bounded) or 'none'}.",
        "",
        "| economy | value added: target | calibrated | employment: target | calibrated | exports: target | calibrated |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in split.regions:
        cells = []
        for what in ("va", "employment", "exports"):
            row = cal.loc[(s, what)]
            cells += [_pct(row["target_share"]) + FLAG[row["flag"]], _pct(row["calibrated"])]
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    above = [s for s in split.regions if sh.loc[s, "va_in_exports"] > sh.loc[s, "exports"]]
    lines += [
        "",
        "SMEs' share (%) of gross exports and of the domestic value added in exports (TiVA's",
        "`EXGR_DVA` by origin row: `cge.firms.by_firm_size`), and the indirect part of SMEs' value added",
        f"in exports. The value-added share is above the gross-export share in {len(above)} of",
        f"{split.n_regions} economies (OECD stylised fact: about 50% against 40%).",
        "",
        "| economy | gross exports | value added in exports | difference (points) | indirect part of SME VA in exports |",
        "|---|---|---|---|---|",
    ]
    for s in split.regions:
        r = sh.loc[s]
        lines.append(f"| {s} | {_pct(r['exports'])} | {_pct(r['va_in_exports'])} | {100 * (r['va_in_exports'] - r['exports']):+.1f} | {_pct(r['indirect_share'])} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the README instead of writing")
    args = parser.parse_args(argv)
    text = README.read_text()
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{BEGIN}\n{tables()}{END}{tail}"
    if args.check:
        if new != text:
            print("calibration/README.md: the firm-size tables differ from what calibration/firm_size.py writes")
            return 1
        return 0
    README.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
