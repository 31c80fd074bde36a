"""Corrupted inputs: every one raises a named error; none is accepted silently.

The cases are generated from tables: each benchmark file x each kind of damage (plain and gzipped
folders), ``metadata.toml`` keys, ``Benchmark.from_arrays`` arguments x each kind of bad array,
scenario-file keys and values, and the command line. Every case asserts the error type and that the
message names the offending item (file, column, key, argument or label). ``CASE_COUNTS`` holds the
number of cases by category; a test checks the total.
"""

import gzip
import os
import shutil
import sys
import tomllib
import warnings
from pathlib import Path

import numpy as np
import pytest
import tomli_w

import cge
from cge.benchmark import ELASTICITIES, FILES, BenchmarkError, BenchmarkWarning
from cge.cli import app
from cge.scenario import ScenarioError, load_spec

pytestmark = pytest.mark.unit

TOY = Path(__file__).resolve().parent / "data" / "toy"
FIRST = {  # the first data row of each toy file, by label column
    "intermediate.csv": ["ASEAN", "primary", "ASEAN", "primary"],
    "final.csv": ["ASEAN", "primary", "ASEAN", "household"],
    "factors.csv": ["ASEAN", "primary", "labour"],
    "employment.csv": ["ASEAN", "primary"],
    "tariffs.csv": ["ASEAN", "primary", "China", "intermediate"],
    "elasticities.csv": ["sigma_dm", "primary"],
    "duty_exemption.csv": ["ASEAN", "primary"],
}


# ---------------------------------------------------------------- helpers


def _lines(file: Path) -> list[str]:
    return file.read_text().splitlines()


def _set_lines(file: Path, lines: list[str]) -> None:
    file.write_text("\n".join(lines) + "\n")


def _set_cell(file: Path, column: str, value: str, row: int = 1) -> None:
    lines = _lines(file)
    header = lines[0].split(",")
    cells = lines[row].split(",")
    cells[header.index(column)] = value
    lines[row] = ",".join(cells)
    _set_lines(file, lines)


def _edit_meta(folder: Path, fn) -> None:
    meta = tomllib.loads((folder / "metadata.toml").read_text())
    fn(meta)
    (folder / "metadata.toml").write_text(tomli_w.dumps(meta))


def _drop_column(file: Path, column: str) -> None:
    rows = [line.split(",") for line in _lines(file)]
    k = rows[0].index(column)
    _set_lines(file, [",".join(r[:k] + r[k + 1:]) for r in rows])


# ---------------------------------------------------------------- benchmark files x kinds of damage

def _plain_damage(fname: str, cols: list[str]) -> list[tuple]:
    """(case id, damage(folder), fragments the message must contain) for one plain CSV file."""
    key = fname.removesuffix(".csv")
    first = FIRST[fname]
    neg = {"tariffs.csv": "rates must exceed -1", "elasticities.csv": "must be finite and >= 0",
           "duty_exemption.csv": "finite shares in [0, 1]"}.get(fname, "negative values")
    cases = [
        ("missing", lambda d: (d / fname).unlink(), [fname, "missing file"]),
        ("empty", lambda d: (d / fname).write_text(""), [fname, "empty file"]),
        ("ragged_line", lambda d: _set_lines(d / fname, _lines(d / fname) + ["a,b,c,d,e,f,g,h"]), [fname, "cannot be read as CSV"]),
        ("binary", lambda d: (d / fname).write_bytes(b"\xff\xfe\x00\x81garbage\x9c\n\x00"), [fname, "cannot be read as CSV"]),
        ("value_renamed", lambda d: _set_lines(d / fname, [_lines(d / fname)[0].replace("value", "values")] + _lines(d / fname)[1:]), [fname, "missing columns ['value']"]),
        ("extra_column", lambda d: _set_lines(d / fname, [line + ",x" for line in _lines(d / fname)][:1] + [line + ",1" for line in _lines(d / fname)[1:]]), [fname, "unexpected columns ['x']"]),
        ("text_value", lambda d: _set_cell(d / fname, "value", "12;5"), [fname, "column 'value' row 2 is not a number", "'12;5'"]),
        ("blank_value", lambda d: _set_cell(d / fname, "value", ""), [fname, "column 'value' row 2 is not a number"]),
        ("nan_value", lambda d: _set_cell(d / fname, "value", "nan"), [fname, "row 2 is not a number", "'nan'"]),
        ("inf_value", lambda d: _set_cell(d / fname, "value", "inf"), [fname, "finite", first[-1]]),
        ("negative_value", lambda d: _set_cell(d / fname, "value", "-1"), [fname, neg, first[0]]),
        ("duplicate_row", lambda d: _set_lines(d / fname, _lines(d / fname) + [_lines(d / fname)[1]]), [fname, "duplicate rows"]),
        ("not_listed", lambda d: _edit_meta(d, lambda m: m["files"].remove(fname)), [fname]),
    ]
    for c in cols:
        cases.append((f"no_{c}_column", lambda d, c=c: _drop_column(d / fname, c), [fname, f"missing columns ['{c}']"]))
        cases.append((f"unknown_{c}", lambda d, c=c: _set_cell(d / fname, c, "Atlantis"), [fname, f"column '{c}'", "Atlantis", "row 2"]))
    return [(f"{key}-{cid}", fn, frag) for cid, fn, frag in cases]


def _gz_damage(fname: str) -> list[tuple]:
    gz = fname + ".gz"
    key = fname.removesuffix(".csv")
    cases = [
        ("truncated", lambda d: (d / gz).write_bytes((d / gz).read_bytes()[: len((d / gz).read_bytes()) // 2]), [gz, "damaged gzip file"]),
        ("not_gzip", lambda d: (d / gz).write_bytes(gzip.decompress((d / gz).read_bytes())), [gz, "damaged gzip file"]),
        ("bad_crc", lambda d: (d / gz).write_bytes((d / gz).read_bytes()[:-8] + b"\x00" * 8), [gz, "damaged gzip file"]),
        ("gzipped_garbage", lambda d: (d / gz).write_bytes(gzip.compress(b"\xff\xfe\x00\x81garbage\x9c")), [gz, "cannot be read as CSV"]),
        ("gzipped_empty", lambda d: (d / gz).write_bytes(gzip.compress(b"")), [gz, "empty file"]),
        ("stale_plain_beside", lambda d: (d / fname).write_bytes(gzip.decompress((d / gz).read_bytes())), [fname, "found beside", gz]),
    ]
    return [(f"{key}.gz-{cid}", fn, frag) for cid, fn, frag in cases]


def _meta_damage() -> list[tuple]:
    m = "metadata.toml"

    def setkey(key, value):
        return lambda d: _edit_meta(d, lambda meta: meta.__setitem__(key, value))

    def delkey(key):
        return lambda d: _edit_meta(d, lambda meta: meta.pop(key))

    def setmeta(key, value):
        return lambda d: _edit_meta(d, lambda meta: meta["metadata"].__setitem__(key, value))

    cases = [
        ("missing", lambda d: (d / m).unlink(), [m, "missing metadata file"]),
        ("not_toml", lambda d: (d / m).write_text("regions = [\n"), [m, "not valid TOML"]),
        ("binary", lambda d: (d / m).write_bytes(b"\xff\xfe\x00\x81"), [m, "not valid TOML"]),
        ("groups_not_table", setkey("groups", 5), [m, "'groups'"]),
        ("group_member_number", lambda d: _edit_meta(d, lambda meta: meta["groups"].__setitem__("Asia", [1, 2])), [m, "'groups'"]),
        ("group_unknown_region", lambda d: _edit_meta(d, lambda meta: meta["groups"].__setitem__("Asia", ["ASEAN", "Atlantis"])), [m, "'Asia'", "Atlantis"]),
        ("proxy_string", setkey("employment_proxy", "ASEAN"), [m, "'employment_proxy'"]),
        ("proxy_unknown_region", setkey("employment_proxy", ["Atlantis"]), [m, "employment_proxy", "Atlantis"]),
        ("metadata_not_table", setkey("metadata", [1]), [m, "[metadata]"]),
        ("files_string", setkey("files", "all"), [m, "'files'"]),
        ("files_unknown", lambda d: _edit_meta(d, lambda meta: meta["files"].append("trade.csv")), [m, "'files'", "trade.csv"]),
        ("files_without_required", lambda d: _edit_meta(d, lambda meta: meta["files"].remove("final.csv")), [m, "'files'", "final.csv"]),
        ("max_tariff_text", setmeta("max_tariff", "high"), [m, "max_tariff", "'high'"]),
        ("max_tariff_negative", setmeta("max_tariff", -1.0), [m, "max_tariff", "-1"]),
        ("max_tariff_bool", setmeta("max_tariff", True), [m, "max_tariff", "True"]),
        ("duplicate_region", setkey("regions", ["ASEAN", "ASEAN", "RoW"]), [m, "'regions'", "duplicate", "ASEAN"]),
        ("factor_renamed_in_metadata", setkey("factors", ["labor", "capital"]), ["factors.csv", "column 'factor'", "labour"]),
    ]
    for key in ("regions", "sectors", "factors", "agents"):
        cases += [
            (f"{key}_missing", delkey(key), [m, f"missing key '{key}'"]),
            (f"{key}_string", setkey(key, "ASEAN"), [m, f"'{key}'", "'ASEAN'"]),
            (f"{key}_numbers", setkey(key, [1, 2, 3]), [m, f"'{key}'", "[1, 2, 3]"]),
            (f"{key}_empty", setkey(key, []), [m, f"'{key}'", "[]"]),
        ]
    return [(f"metadata-{cid}", fn, frag) for cid, fn, frag in cases]


def _rename_labour(d: Path) -> None:
    _edit_meta(d, lambda meta: meta.__setitem__("factors", ["labor", "capital"]))
    (d / "factors.csv").write_text((d / "factors.csv").read_text().replace(",labour,", ",labor,"))


def _semantic_damage() -> list[tuple]:
    """Damage that parses but would change the answer: each is an error naming the item."""
    cases = []
    for p in ELASTICITIES:
        def drop(d, p=p):
            _set_lines(d / "elasticities.csv", [line for line in _lines(d / "elasticities.csv") if not line.startswith(f"{p},electronics,")])
        cases.append((f"elasticity_row_missing-{p}", drop, ["elasticities.csv", f"'{p}'", "electronics"]))
    for use, row in (("intermediate", 1), ("final", 2)):
        def percent(d, row=row):
            value = float(_lines(d / "tariffs.csv")[row].split(",")[-1])
            _set_cell(d / "tariffs.csv", "value", repr(100 * value), row)
        cases.append((f"tariff_in_percent-{use}", percent, ["tariffs.csv", "max_tariff", f"(ASEAN, primary, China, {use})"]))
    cases += [
        ("labour_renamed", _rename_labour, ["employment.csv", "'labour'", "labor"]),
        ("household_renamed", lambda d: (_edit_meta(d, lambda meta: meta.__setitem__("agents", ["consumer", "government", "investment"])),
                                          (d / "final.csv").write_text((d / "final.csv").read_text().replace(",household,", ",consumer,"))),
         ["'household'"]),
        ("flow_changed", lambda d: _set_cell(d / "final.csv", "value", "1000", 1), ["balance", "(ASEAN, primary)"]),
        ("domestic_tariff", lambda d: _set_lines(d / "tariffs.csv", _lines(d / "tariffs.csv") + ["China,primary,China,final,0.1"]), ["tariffs.csv", "domestic", "(China, primary, China, final)"]),
    ]
    return [(f"semantic-{cid}", fn, frag) for cid, fn, frag in cases]


PLAIN = [c for fname, _ in FILES.values() for c in _plain_damage(fname, FILES[fname.removesuffix(".csv")][1])]
GZ = [c for fname, _ in FILES.values() for c in _gz_damage(fname)]
META = _meta_damage()
SEMANTIC = _semantic_damage()


def _with_exemption(toy):
    """The toy with half the tariff on ASEAN primary's imported inputs waived (so that every table,
    duty exemptions too, is written and damaged); the tariff no longer paid is capital income."""
    e = np.zeros((toy.n_regions, toy.n_sectors))
    e[0, 0] = 0.5
    waived = 0.5 * (toy.z_0[:, :, 0, 0] * toy.tariff_0[:, :, 0, 0]).sum()
    assert waived > 0
    factors = {f: toy.fp_0[..., n].copy() for n, f in enumerate(toy.factors)}
    factors["capital"][0, 0] += waived
    return cge.Benchmark.from_arrays(toy.regions, toy.sectors, toy.z_0, toy.f_0, factors, tariffs=toy.tariff_0, employment=toy.employment,
                                     elasticities=toy.elasticities, groups=toy.groups, agents=toy.agents, metadata=toy.metadata,
                                     duty_exemption=e)


@pytest.fixture(scope="module")
def folders(tmp_path_factory, toy):
    base = tmp_path_factory.mktemp("base")
    bench = _with_exemption(toy)
    bench.write(base / "plain")
    bench.write(base / "gz", compress=True)
    return base


def _damaged(folders, tmp_path, kind, damage) -> Path:
    folder = tmp_path / "bench"
    shutil.copytree(folders / kind, folder)
    damage(folder)
    return folder


def _assert_names(message: str, fragments: list[str]) -> None:
    for frag in fragments:
        assert frag in message, f"{frag!r} not in: {message}"


@pytest.mark.parametrize("case", PLAIN + META + SEMANTIC, ids=lambda c: c[0])
def test_damaged_benchmark_folder_is_named(folders, tmp_path, case):
    _, damage, fragments = case
    folder = _damaged(folders, tmp_path, "plain", damage)
    with pytest.raises(BenchmarkError) as err:
        cge.Benchmark.read(folder)
    _assert_names(str(err.value), fragments)


@pytest.mark.parametrize("case", GZ, ids=lambda c: c[0])
def test_damaged_gzipped_benchmark_file_is_named(folders, tmp_path, case):
    _, damage, fragments = case
    folder = _damaged(folders, tmp_path, "gz", damage)
    with pytest.raises(BenchmarkError) as err:
        cge.Benchmark.read(folder)
    _assert_names(str(err.value), fragments)


# ---------------------------------------------------------------- optional tables: an explicit, recorded choice

UNDECLARED = [
    ("tariffs.csv", "no tariffs"),
    ("employment.csv", "no employment"),
    ("elasticities.csv", "default elasticities"),
]


@pytest.mark.parametrize("fname,note", UNDECLARED, ids=[f for f, _ in UNDECLARED])
def test_missing_optional_file_of_an_undeclared_folder_is_warned_and_recorded(folders, tmp_path, fname, note):
    def damage(d):
        _edit_meta(d, lambda meta: meta.pop("files"))
        (d / fname).unlink()

    folder = _damaged(folders, tmp_path, "plain", damage)
    if fname == "tariffs.csv":  # without tariffs the toy's costs change: rebalance with capital payments
        toy = cge.Benchmark.read(folders / "plain")
        paid = (toy.z_0 * toy.intermediate_tariff).sum(axis=(0, 1))
        k = toy.factors.index("capital")
        rows = [f"{r},{i},{f},{float(toy.fp_0[a, b, n] + (paid[a, b] if n == k else 0.0))!r}" for a, r in enumerate(toy.regions)
                for b, i in enumerate(toy.sectors) for n, f in enumerate(toy.factors)]
        _set_lines(folder / "factors.csv", ["region,sector,factor,value"] + rows)
    with pytest.warns(BenchmarkWarning, match=fname):
        bench = cge.Benchmark.read(folder)
    assert any(fname in n and note in n for n in bench.metadata["defaults_used"])


def test_parameter_absent_from_elasticities_file_is_warned_and_recorded(folders, tmp_path):
    folder = _damaged(folders, tmp_path, "plain", lambda d: _set_lines(
        d / "elasticities.csv", [line for line in _lines(d / "elasticities.csv") if not line.startswith("sigma_mm,")]))
    with pytest.warns(BenchmarkWarning, match="sigma_mm"):
        bench = cge.Benchmark.read(folder)
    assert bench.metadata["defaults_used"] == ["elasticities.csv gives no sigma_mm: default 4 for every sector"]
    assert (bench.elasticities["sigma_mm"] == 4.0).all()


def test_a_stated_tariff_bound_admits_high_rates(folders, tmp_path):
    folder = _damaged(folders, tmp_path, "plain", lambda d: _set_cell(d / "tariffs.csv", "value", "3.0", 2))  # a final-use rate of 300%
    with pytest.raises(BenchmarkError, match=r"tariffs.csv: tariffs: rates above max_tariff = 2 \(200% ad valorem\) at \(ASEAN, primary, China, final\)=3"):
        cge.Benchmark.read(folder)
    _edit_meta(folder, lambda meta: meta["metadata"].__setitem__("max_tariff", 5.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bench = cge.Benchmark.read(folder)
    assert bench.tariff_0[0, 0, 1, 1] == 3.0


# ---------------------------------------------------------------- Benchmark.from_arrays arguments


def _args(toy) -> dict:
    return {
        "regions": toy.regions,
        "sectors": toy.sectors,
        "Z": toy.z_0,
        "F": toy.f_0,
        "factors": {"labour": toy.fp_0[..., 0], "capital": toy.fp_0[..., 1]},
        "tariffs": toy.tariff_0,
        "employment": toy.employment,
        "elasticities": {"sigma_mm": toy.elasticities["sigma_mm"]},
        "agents": toy.agents,
    }


ARRAY_ARGS = {  # argument -> (how to get and set it in the kwargs, the name the message must hold)
    "Z": (lambda a: a["Z"], lambda a, v: a.__setitem__("Z", v), "argument Z"),
    "F": (lambda a: a["F"], lambda a, v: a.__setitem__("F", v), "argument F"),
    "factors": (lambda a: a["factors"]["labour"], lambda a, v: a["factors"].__setitem__("labour", v), "factors['labour']"),
    "tariffs": (lambda a: a["tariffs"], lambda a, v: a.__setitem__("tariffs", v), "argument tariffs"),
    "employment": (lambda a: a["employment"], lambda a, v: a.__setitem__("employment", v), "argument employment"),
    "elasticities": (lambda a: a["elasticities"]["sigma_mm"], lambda a, v: a["elasticities"].__setitem__("sigma_mm", v), "sigma_mm"),
}


def _with_cell(arr, value, dtype=float):
    out = np.array(arr, dtype=dtype)
    out.flat[1] = value
    return out


ARRAY_DAMAGE = {
    "short_last_axis": lambda x: x[..., :-1],
    "extra_axis": lambda x: x[..., None],
    "strings": lambda x: x.astype(str),
    "none_inside": lambda x: _with_cell(x, None, object),
    "nan": lambda x: _with_cell(x, np.nan),
    "inf": lambda x: _with_cell(x, np.inf),
    "ragged": lambda x: [*list(x[:-1]), x[-1][:-1]] if x.ndim > 1 else [x[0], [x[1], x[1]], x[2]],
    "complex": lambda x: x.astype(complex),
    "booleans": lambda x: x > 0,
}
FROM_ARRAYS = [(f"{arg}-{kind}", arg, kind) for arg in ARRAY_ARGS for kind in ARRAY_DAMAGE]


@pytest.mark.parametrize("case", FROM_ARRAYS, ids=lambda c: c[0])
def test_bad_from_arrays_argument_is_named(toy, case):
    _, arg, kind = case
    get, put, name = ARRAY_ARGS[arg]
    kwargs = _args(toy)
    put(kwargs, ARRAY_DAMAGE[kind](np.asarray(get(kwargs))))
    with pytest.raises(BenchmarkError) as err:
        cge.Benchmark.from_arrays(**kwargs)
    _assert_names(str(err.value), [name])


FROM_ARRAYS_OTHER = [
    ("regions_string", {"regions": "ABC"}, ["regions", "'ABC'"]),
    ("sectors_number", {"sectors": 3}, ["sectors", "3"]),
    ("region_label_none", {"regions": ["ASEAN", None, "RoW"]}, ["regions", "None"]),
    ("agents_count", {"agents": ["household", "government"]}, ["agents", "argument F has 3 agents"]),
    ("agents_string", {"agents": "household"}, ["agents", "'household'"]),
    ("factors_list", {"factors": [1, 2]}, ["factors must be a non-empty dict"]),
    ("factors_empty", {"factors": {}}, ["factors must be a non-empty dict"]),
    ("elasticities_list", {"elasticities": [1.0]}, ["elasticities must be a dict"]),
    ("elasticity_unknown", {"elasticities": {"sigma_xx": 1.0}}, ["'sigma_xx'"]),
    ("metadata_list", {"metadata": [1]}, ["metadata must be a dict"]),
    ("groups_list", {"groups": ["Asia"]}, ["groups must be a dict"]),
    ("group_member_unknown", {"groups": {"Asia": ["ASEAN", "Atlantis"]}}, ["'Asia'", "Atlantis"]),
    ("proxy_string", {"employment_proxy": "ASEAN"}, ["employment_proxy", "'ASEAN'"]),
    ("tariff_percent", {"tariffs": "percent"}, ["tariffs", "max_tariff", "(ASEAN, primary, China, intermediate)"]),
    ("labour_renamed", {"factors": "labor"}, ["employment", "'labour'", "labor"]),
]


@pytest.mark.parametrize("case", FROM_ARRAYS_OTHER, ids=lambda c: c[0])
def test_bad_from_arrays_option_is_named(toy, case):
    _, change, fragments = case
    kwargs = _args(toy)
    if change.get("tariffs") == "percent":
        change = {"tariffs": 100 * toy.tariff_0}
    if change.get("factors") == "labor":
        change = {"factors": {"labor": toy.fp_0[..., 0], "capital": toy.fp_0[..., 1]}}
    kwargs.update(change)
    with pytest.raises(BenchmarkError) as err:
        cge.Benchmark.from_arrays(**kwargs)
    _assert_names(str(err.value), fragments)


# ---------------------------------------------------------------- scenario files (TOML)

SHOCK = '[[scenario]]\nname = "x"\n[[scenario.shock]]\ninstrument = "tariff"\n'
SCEN = '[[scenario]]\nname = "x"\n'
TOML_CASES = [
    # [output]: booleans are booleans, counts are counts
    ("output_gvc_string", '[output]\ngvc = "no"\n' + SCEN, ["gvc = 'no'", "true or false"]),
    ("output_gvc_number", "[output]\ngvc = 0\n" + SCEN, ["gvc = 0", "true or false"]),
    ("output_steps_zero", "[output]\ndecomposition_steps = 0\n" + SCEN, ["decomposition_steps = 0", "whole number"]),
    ("output_steps_string", '[output]\ndecomposition_steps = "8"\n' + SCEN, ["decomposition_steps = '8'"]),
    ("output_steps_bool", "[output]\ndecomposition_steps = true\n" + SCEN, ["decomposition_steps = True"]),
    ("output_steps_float", "[output]\ndecomposition_steps = 2.5\n" + SCEN, ["decomposition_steps = 2.5"]),
    ("output_unknown_key", "[output]\nfigures = false\n" + SCEN, ["'figures'", "allowed"]),
    ("output_not_table", 'output = "all"\n' + SCEN, ["'all'", "must be a table"]),
    # top level
    ("title_number", "title = 5\n" + SCEN, ["title = 5", "string"]),
    ("description_list", "description = [1]\n" + SCEN, ["description = [1]", "string"]),
    ("unknown_top_key", "scenarios = 1\n" + SCEN, ["'scenarios'", "allowed"]),
    ("no_scenario", 'title = "x"\n', ["[[scenario]]"]),
    ("scenario_not_table", "scenario = [1]\n", ["scenario 1", "must be a table"]),
    ("benchmark_table_bad_key", "#nohead\n[benchmark]\nnam = 'toy'\n" + SCEN, ["'nam'", "allowed"]),
    ("benchmark_number", "#nohead\nbenchmark = 5\n" + SCEN, ["'benchmark' = 5"]),
    ("benchmark_missing", "#nohead\n" + SCEN, ["'benchmark' = None"]),
    # [model]
    ("model_sourcing_number", "[model]\nsourcing = 5\n" + SCEN, ["sourcing = 5", "'agent', 'common'"]),
    ("model_backend_unknown", '[model]\nbackend = "gpu"\n' + SCEN, ["backend = 'gpu'", "'fast'"]),
    ("model_unknown_key", "[model]\nsolver = 'x'\n" + SCEN, ["'solver'", "allowed"]),
    ("closure_not_table", '[model]\nclosure = "full_employment"\n' + SCEN, ["closure must be a table"]),
    ("closure_labour_number", "[model]\nclosure = { labour = 1 }\n" + SCEN, ["closure.labour = 1", "full_employment"]),
    ("closure_capital_unknown", '[model]\nclosure = { capital = "fixed" }\n' + SCEN, ["capital='fixed'", "mobile"]),
    ("closure_elasticity_text", '[model]\nclosure = { labour = "elastic", labour_supply_elasticity = "high" }\n' + SCEN,
     ["closure.labour_supply_elasticity = 'high'", "number"]),
    ("closure_elasticity_bool", "[model]\nclosure = { labour_supply_elasticity = true }\n" + SCEN, ["closure.labour_supply_elasticity = True"]),
    ("closure_elasticity_negative", "[model]\nclosure = { labour_supply_elasticity = -1 }\n" + SCEN, ["closure.labour_supply_elasticity = -1"]),
    ("closure_numeraire_number", "[model]\nclosure = { numeraire = 5 }\n" + SCEN, ["closure.numeraire = 5", "world_factor_prices"]),
    ("closure_numeraire_numbers", '[model]\nclosure = { numeraire = ["factor", 1, 2] }\n' + SCEN, ["closure.numeraire = ['factor', 1, 2]"]),
    ("closure_numeraire_kind", '[model]\nclosure = { numeraire = ["price", "China", "labour"] }\n' + SCEN, ["numeraire=('price'"]),
    ("closure_unknown_key", "[model]\nclosure = { wage = 1 }\n" + SCEN, ["closure key 'wage'"]),
    ("elasticity_bool", "[model]\nelasticities = { sigma_mm = true }\n" + SCEN, ["elasticities.sigma_mm = True"]),
    ("elasticity_string", '[model]\nelasticities = { sigma_mm = "4" }\n' + SCEN, ["elasticities.sigma_mm = '4'"]),
    ("elasticity_negative", "[model]\nelasticities = { sigma_mm = -1 }\n" + SCEN, ["elasticities.sigma_mm = -1"]),
    ("elasticity_nan", "[model]\nelasticities = { sigma_mm = nan }\n" + SCEN, ["elasticities.sigma_mm = nan"]),
    ("elasticity_inf", "[model]\nelasticities = { sigma_mm = inf }\n" + SCEN, ["elasticities.sigma_mm = inf"]),
    ("elasticity_empty_list", "[model]\nelasticities = { sigma_mm = [] }\n" + SCEN, ["elasticities.sigma_mm"]),
    ("elasticity_list_bool", "[model]\nelasticities = { sigma_mm = [1, true, 2] }\n" + SCEN, ["elasticities.sigma_mm = True"]),
    ("elasticity_not_table", "[model]\nelasticities = 4\n" + SCEN, ["elasticities must be a set name or a table"]),
    ("elasticity_unknown", "[model]\nelasticities = { sigma_x = 1 }\n" + SCEN, ["elasticities key 'sigma_x'"]),
    ("elasticity_set_number", "[model]\nelasticities = { set = 4 }\n" + SCEN, ["elasticities.set = 4"]),
    # scenarios
    ("scenario_name_number", "[[scenario]]\nname = 5\n", ["'name'", "5"]),
    ("scenario_description_number", SCEN + "description = 5\n", ["description = 5", "string"]),
    ("scenario_sourcing", SCEN + 'sourcing = "regional"\n', ["sourcing = 'regional'"]),
    ("scenario_unknown_key", SCEN + "shocks = []\n", ["'shocks'", "allowed"]),
    ("scenario_shock_number", SCEN + "shock = 5\n", ["shock must be an array of tables", "5"]),
    ("scenario_duplicate", SCEN + SCEN, ["repeated: ['x']"]),
    # shocks
    ("shock_instrument_number", '[[scenario]]\nname = "x"\n[[scenario.shock]]\ninstrument = 1\nvalue = 0\n', ["instrument = 1", "'tariff'"]),
    ("shock_instrument_unknown", '[[scenario]]\nname = "x"\n[[scenario.shock]]\ninstrument = "quota"\nvalue = 0\n', ["instrument = 'quota'"]),
    ("shock_op_unknown", SHOCK + 'op = "times"\nvalue = 0\n', ["op = 'times'", "'scale'"]),
    ("shock_value_bool", SHOCK + "value = true\n", ["value = True", "finite number"]),
    ("shock_value_string", SHOCK + 'value = "0"\n', ["value = '0'"]),
    ("shock_value_nan", SHOCK + "value = nan\n", ["value = nan"]),
    ("shock_value_inf", SHOCK + "value = inf\n", ["value = inf"]),
    ("shock_value_missing", SHOCK, ["value = None"]),
    ("shock_tariff_below_minus_one", SHOCK + "value = -2\n", ["value = -2", "exceed -1"]),
    ("shock_iceberg_zero", '[[scenario]]\nname = "x"\n[[scenario.shock]]\ninstrument = "iceberg"\nvalue = 0\n', ["value = 0", "iceberg must exceed 0"]),
    ("shock_use_unknown", SHOCK + 'use = "both"\nvalue = 0\n', ["use = 'both'"]),
    ("shock_use_number", SHOCK + "use = 1\nvalue = 0\n", ["use = 1"]),
    ("shock_unknown_key", SHOCK + 'exporter = "China"\nvalue = 0\n', ["'exporter'"]),
    ("shock_name_number", SHOCK + "name = 3\nvalue = 0\n", ["name = 3", "string"]),
]
for _key in ("exporters", "importers", "sectors", "not_exporters", "not_importers", "not_sectors"):
    TOML_CASES += [
        (f"shock_{_key}_number", SHOCK + f"{_key} = 5\nvalue = 0\n", [f"{_key} = 5", "or 'all'"]),
        (f"shock_{_key}_number_list", SHOCK + f'{_key} = ["China", 2]\nvalue = 0\n', [f"{_key} = ['China', 2]"]),
        (f"shock_{_key}_bool", SHOCK + f"{_key} = true\nvalue = 0\n", [f"{_key} = True"]),
    ]
TOML_CASES += [
    # sweeps
    ("sweep_shock_bool", SHOCK + "value = 0\n" + "[scenario.sweep]\nshock = true\nvalues = [0.5]\n", ["sweep.shock = True"]),
    ("sweep_shock_zero", SHOCK + "value = 0\n" + "[scenario.sweep]\nshock = 0\nvalues = [0.5]\n", ["sweep.shock = 0"]),
    ("sweep_values_bool", SHOCK + "value = 0\n" + "[scenario.sweep]\nvalues = [true]\n", ["sweep.values = [True]"]),
    ("sweep_values_string", SHOCK + "value = 0\n" + '[scenario.sweep]\nvalues = "0.5"\n', ["sweep.values = '0.5'"]),
    ("sweep_values_empty", SHOCK + "value = 0\n" + "[scenario.sweep]\nvalues = []\n", ["sweep.values = []"]),
    ("sweep_values_nan", SHOCK + "value = 0\n" + "[scenario.sweep]\nvalues = [nan]\n", ["sweep.values = [nan]"]),
    ("sweep_value_not_allowed", SHOCK + "value = 0\n" + "[scenario.sweep]\nvalues = [0.1, -3]\n", ["sweep.values", "value = -3", "exceed -1"]),
    ("sweep_unknown_key", SHOCK + "value = 0\n" + "[scenario.sweep]\nvalue = [1]\n", ["sweep must be a table"]),
    # groups
    ("sector_groups_number", '[sector_groups]\ngoods = 5\n' + SCEN, ["sector_groups.goods = 5"]),
    ("sector_groups_numbers", '[sector_groups]\ngoods = [1, 2]\n' + SCEN, ["sector_groups.goods = [1, 2]"]),
    ("region_groups_empty", '[region_groups]\nAsia = []\n' + SCEN, ["region_groups.Asia = []"]),
    ("region_groups_not_table", 'region_groups = ["Asia"]\n' + SCEN, ["region_groups = ['Asia']"]),
]
SELECTION_CASES = [  # valid TOML whose labels do not fit the benchmark: named when the scenarios are built
    ("unknown_exporter", SHOCK + 'exporters = "Japan"\nvalue = 0\n', ["exporters", "'Japan'"]),
    ("unknown_sector", SHOCK + 'sectors = ["primary", "steel"]\nvalue = 0\n', ["sectors", "'steel'"]),
    ("unknown_not_importer", SHOCK + 'not_importers = "Japan"\nvalue = 0\n', ["not_importers", "'Japan'"]),
    ("group_member_unknown", '[region_groups]\nRCEP = ["China", "Japan"]\n' + SHOCK + 'importers = "RCEP"\nvalue = 0\n', ["'RCEP'", "'Japan'"]),
    ("empty_selection", SHOCK + "exporters = []\nvalue = 0\n", ["exporters", "empty selection"]),
]


def _spec(tmp_path, text: str) -> Path:
    path = tmp_path / "spec.toml"
    path.write_text(text if text.startswith("#nohead") else f'benchmark = "{TOY}"\n' + text)
    return path


@pytest.mark.parametrize("case", TOML_CASES, ids=lambda c: c[0])
def test_bad_scenario_file_names_key_and_value(tmp_path, case):
    _, text, fragments = case
    with pytest.raises(ScenarioError) as err:
        load_spec(_spec(tmp_path, text))
    _assert_names(str(err.value), ["spec.toml"] + fragments)


@pytest.mark.parametrize("case", SELECTION_CASES, ids=lambda c: c[0])
def test_selection_that_does_not_fit_the_benchmark_is_named(tmp_path, toy, case):
    _, text, fragments = case
    spec = load_spec(_spec(tmp_path, text))
    with pytest.raises(ScenarioError) as err:
        for sc in spec.scenarios:
            sc.build(toy, spec.region_groups, spec.sector_groups)
    _assert_names(str(err.value), fragments)


def test_scenario_file_that_is_not_text_is_named(tmp_path):
    path = tmp_path / "spec.toml"
    path.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(ScenarioError, match="spec.toml: not valid TOML"):
        load_spec(path)


# ---------------------------------------------------------------- the command line


def _cli(args: list[str], capsys) -> str:
    """Run ``cge ARGS`` in-process; assert one ``error:`` line on stderr and exit status 2; return it."""
    with pytest.raises(SystemExit) as exit_:
        app(args=[str(a) for a in args], prog_name="cge")
    out = capsys.readouterr()
    assert exit_.value.code == 2, (exit_.value.code, out.err)
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.err
    assert "Traceback" not in out.err + out.out
    return lines[0]


def _cli_setup(tmp_path: Path, folders: Path) -> dict:
    """Files the CLI cases refer to."""
    ok = _spec(tmp_path, SHOCK + "value = 0\n")
    bad_gz = tmp_path / "bad_gz"
    shutil.copytree(folders / "gz", bad_gz)
    (bad_gz / "final.csv.gz").write_bytes((bad_gz / "final.csv.gz").read_bytes()[:40])
    percent = tmp_path / "percent"
    shutil.copytree(folders / "plain", percent)
    _set_cell(percent / "tariffs.csv", "value", "11.6")
    (tmp_path / "other").mkdir()
    full = tmp_path / "full"
    full.mkdir()
    (full / "welfare.csv").write_text("old\n")
    (tmp_path / "afile").write_text("x")
    return {"ok": ok, "bad_gz": bad_gz, "percent": percent, "full": full}


def _write_spec(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


CLI_CASES = [
    ("describe_unknown", lambda t, f: ["describe", "nonexist"], ["'nonexist'", "built-in"]),
    ("describe_damaged_gzip", lambda t, f: ["describe", f["bad_gz"]], ["final.csv.gz", "damaged gzip"]),
    ("describe_folder_without_metadata", lambda t, f: ["describe", t / "other"], ["metadata.toml"]),
    ("describe_percent_tariffs", lambda t, f: ["describe", f["percent"]], ["tariffs.csv", "max_tariff"]),
    ("run_missing_file", lambda t, f: ["run", t / "nofile.toml"], ["nofile.toml", "no such scenario file"]),
    ("run_not_toml", lambda t, f: ["run", _write_spec(t, "s.toml", "benchmark = \n")], ["s.toml", "not valid TOML"]),
    ("run_gvc_string", lambda t, f: ["run", _spec(t, '[output]\ngvc = "no"\n' + SCEN)], ["gvc = 'no'"]),
    ("run_number_for_selection", lambda t, f: ["run", _spec(t, SHOCK + "exporters = 5\nvalue = 0\n")], ["exporters = 5"]),
    ("run_unknown_label", lambda t, f: ["run", _spec(t, SHOCK + 'exporters = "Japan"\nvalue = 0\n'), "-o", t / "o"], ["'Japan'"]),
    ("run_unknown_benchmark", lambda t, f: ["run", _write_spec(t, "s.toml", 'benchmark = "nowhere"\n' + SCEN), "-o", t / "o"], ["'nowhere'"]),
    ("run_damaged_benchmark", lambda t, f: ["run", _write_spec(t, "s.toml", 'benchmark = "bad_gz"\n' + SCEN), "-o", t / "o"], ["final.csv.gz"]),
    ("run_unknown_elasticity_set", lambda t, f: ["run", _spec(t, '[model]\nbackend = "fast"\nelasticities = "GTAP"\n' + SCEN), "-o", t / "o"], ["'GTAP'"]),
    ("run_elasticity_list_length", lambda t, f: ["run", _spec(t, '[model]\nbackend = "fast"\nelasticities = { sigma_mm = [1, 2] }\n' + SCEN), "-o", t / "o"],
     ["elasticities.sigma_mm", "2 values"]),
    ("run_bad_option", lambda t, f: ["run", f["ok"], "--bogus"], ["--bogus"]),
    ("run_negative_steps", lambda t, f: ["run", f["ok"], "--steps", "-1"], ["--steps"]),
    ("run_steps_text", lambda t, f: ["run", f["ok"], "--steps", "many"], ["--steps", "integer"]),
    ("run_missing_argument", lambda t, f: ["run"], ["Missing argument"]),
    ("unknown_command", lambda t, f: ["frobnicate"], ["frobnicate"]),
    ("run_existing_folder", lambda t, f: ["run", f["ok"], "-o", f["full"]], ["full", "--overwrite"]),
    ("run_output_is_a_file", lambda t, f: ["run", f["ok"], "-o", t / "afile"], ["afile", "not a folder"]),
    ("run_overwrite_own_folder", lambda t, f: ["run", f["ok"], "-o", t, "--overwrite"], ["not replacing", "spec.toml"]),
    ("run_second_file_bad", lambda t, f: ["run", f["ok"], _write_spec(t, "second.toml", f'benchmark = "{TOY}"\n' + SHOCK + 'sectors = "steel"\nvalue = 0\n'), "-o", t / "o"], ["'steel'"]),
    ("run_two_files_one_name", lambda t, f: ["run", f["ok"], _write_spec(t / "other", "spec.toml", "x"), "-o", t / "o"], ["share a name", "spec"]),
]


@pytest.mark.parametrize("case", CLI_CASES, ids=lambda c: c[0])
def test_cli_reports_one_error_line(tmp_path, folders, capsys, monkeypatch, case):
    _, args, fragments = case
    monkeypatch.chdir(tmp_path)
    files = _cli_setup(tmp_path, folders)
    line = _cli(args(tmp_path, files), capsys)
    _assert_names(line, fragments)
    assert not (tmp_path / "o").exists()


def test_cli_error_line_from_a_fresh_process(tmp_path):
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(Path(cge.__file__).resolve().parents[1])}
    proc = subprocess.run([sys.executable, "-m", "cge", "describe", "nonexist"], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1
    assert "'nonexist'" in proc.stderr and "Traceback" not in proc.stderr


# ---------------------------------------------------------------- counts

# ---------------------------------------------------------------- Python objects: scenarios, closures, model options

OBJECT_CASES = [  # (id, call on the toy benchmark, error type, words the message must contain)
    ("scenario-tariff-text", lambda b: cge.Model(b).solve(cge.Scenario(tariff="high")), cge.ScenarioError, ["tariff must be numbers"]),
    ("scenario-tariff-shape", lambda b: cge.Model(b).solve(cge.Scenario(tariff=np.zeros((3, 3)))), cge.ScenarioError, ["tariff has shape (3, 3)"]),
    ("scenario-tariff-nan", lambda b: cge.Model(b).solve(cge.Scenario(tariff=np.full((3, 3, 3), np.nan))), cge.ScenarioError, ["tariff (ASEAN, primary, ASEAN, intermediate) = nan"]),
    ("scenario-tariff-domestic", lambda b: cge.Model(b).solve(cge.Scenario(tariff=np.full((3, 3, 3), 0.1))), cge.ScenarioError, ["domestic flow", "(ASEAN, primary, ASEAN"]),
    ("scenario-iceberg-zero", lambda b: cge.Model(b).solve(cge.Scenario(iceberg=0.0)), cge.ScenarioError, ["iceberg (ASEAN, primary, ASEAN, intermediate) = 0.0"]),
    ("scenario-output-tax-minus-one", lambda b: cge.Model(b).solve(cge.Scenario(output_tax=-1.0)), cge.ScenarioError, ["output_tax (ASEAN, primary) = -1.0"]),
    ("scenario-transfer-total", lambda b: cge.Model(b).solve(cge.Scenario(transfer=np.ones(3))), cge.ScenarioError, ["transfer adds up to"]),
    ("scenario-numeraire-text", lambda b: cge.Scenario(numeraire_value="1"), cge.ScenarioError, ["numeraire_value = '1'"]),
    ("scenario-numeraire-negative", lambda b: cge.Model(b).solve(cge.Scenario(numeraire_value=-1.0)), cge.ScenarioError, ["numeraire_value = -1.0"]),
    ("scenario-name-empty", lambda b: cge.Scenario(name=""), cge.ScenarioError, ["Scenario(name=''"]),
    ("scenario-not-a-scenario", lambda b: cge.Model(b).solve({"tariff": 0.0}), cge.ScenarioError, ["needs a cge.Scenario", "dict"]),
    ("closure-labour", lambda b: cge.Closure(labour="none"), cge.ClosureError, ["labour='none'", "full_employment"]),
    ("closure-labour-type", lambda b: cge.Closure(labour=1), cge.ClosureError, ["labour=1", "must be a string"]),
    ("closure-capital", lambda b: cge.Closure(capital="fixed"), cge.ClosureError, ["capital='fixed'", "sector_specific"]),
    ("closure-numeraire-string", lambda b: cge.Closure(numeraire="gdp"), cge.ClosureError, ["numeraire='gdp'", "world_factor_prices"]),
    ("closure-numeraire-unknown-region", lambda b: cge.Model(b, closure=cge.Closure(numeraire=("factor", "Mars", "labour"))), cge.ClosureError, ["unknown region 'Mars'"]),
    ("closure-elastic-without-eta", lambda b: cge.Closure(labour="elastic"), cge.ClosureError, ["labour_supply_elasticity > 0"]),
    ("closure-eta-text", lambda b: cge.Closure(labour="elastic", labour_supply_elasticity="high"), cge.ClosureError, ["labour_supply_elasticity='high'"]),
    ("closure-labour-market", lambda b: cge.Closure(labour_market="dual"), cge.ClosureError, ["labour_market='dual'", "premia"]),
    ("closure-cet-elasticity", lambda b: cge.Closure(labour_market="cet", labour_cet_elasticity=0), cge.ClosureError, ["labour_cet_elasticity=0"]),
    ("closure-cet-with-fixed-wage", lambda b: cge.Closure(labour="fixed_real_wage", labour_market="cet"), cge.ClosureError, ["labour_market='cet'", "full_employment"]),
    ("closure-transfer", lambda b: cge.Closure(transfer="own_income_share"), cge.ClosureError, ["transfer='own_income_share'"]),
    ("model-closure-string", lambda b: cge.Model(b, closure="fixed_real_wage"), cge.ClosureError, ["closure='fixed_real_wage'"]),
    ("model-backend", lambda b: cge.Model(b, backend="gams"), ValueError, ["backend='gams'", "fast"]),
    ("model-sourcing", lambda b: cge.Model(b, sourcing="both"), cge.CalibrationError, ["sourcing='both'", "agent"]),
    ("model-common-tariffs-by-use", lambda b: cge.Model(b, sourcing="common"), cge.CalibrationError, ["same tariff for both uses", "(ASEAN, primary, China)"]),
    ("model-elasticities-number", lambda b: cge.Model(b, elasticities=5), cge.CalibrationError, ["elasticities = 5"]),
    ("model-elasticity-unknown", lambda b: cge.Model(b, elasticities={"sigma_xx": 2.0}), cge.CalibrationError, ["'sigma_xx'", "sigma_dm"]),
    ("model-elasticity-length", lambda b: cge.Model(b, elasticities={"sigma_mm": [1.0, 2.0]}), cge.CalibrationError, ["sigma_mm = [1.0, 2.0]", "one number per sector"]),
    ("model-elasticity-text", lambda b: cge.Model(b, elasticities={"sigma_mm": "high"}), cge.CalibrationError, ["sigma_mm = 'high'"]),
    ("model-elasticity-negative", lambda b: cge.Model(b, elasticities={"sigma_dm": -1.0}), cge.CalibrationError, ["sigma_dm must be finite and >= 0"]),
    ("model-elasticity-set", lambda b: cge.Model(b, elasticities="GTAP11"), cge.CalibrationError, ["elasticity set 'GTAP11'"]),
    ("model-solver-options", lambda b: cge.Model(b, solver_options=["tol"]), TypeError, ["solver_options=['tol']"]),
    ("model-fast-method", lambda b: cge.Model(b, backend="fast", solver_options={"method": "magic"}), ValueError, ["method='magic'"]),
    ("model-not-a-benchmark", lambda b: cge.Model("eastasia-2011"), TypeError, ["cge.Benchmark", "str"]),
    ("solve-decompose", lambda b: cge.Model(b).solve(decompose=-2), ValueError, ["decompose = -2"]),
    ("solve-start", lambda b: cge.Model(b).solve(start="benchmark"), ValueError, ["start must be the Results"]),
    ("decomposition-not-solved", lambda b: cge.Model(b).solve().welfare(decompose=True), ValueError, ["decompose=True"]),
    ("path-steps", lambda b: cge.Model(b).path(cge.Scenario(), 0), ValueError, ["steps = 0"]),
]


@pytest.mark.parametrize("case", OBJECT_CASES, ids=[c[0] for c in OBJECT_CASES])
def test_bad_python_object_is_named(toy, case):
    _, call, error, words = case
    with pytest.raises(error) as err:
        call(toy)
    for word in words:
        assert word in str(err.value), (word, str(err.value))


CASE_COUNTS = {
    "benchmark files (plain CSV: 6 files x damage)": len(PLAIN),
    "benchmark files (gzipped: 6 files x damage)": len(GZ),
    "metadata.toml": len(META),
    "benchmark content (elasticity rows, percent tariffs, renamed factor, ...)": len(SEMANTIC),
    "optional tables without a declaration (warned and recorded)": len(UNDECLARED) + 1,
    "Benchmark.from_arrays (6 arguments x 9 damages + options)": len(FROM_ARRAYS) + len(FROM_ARRAYS_OTHER),
    "scenario files (TOML keys and values)": len(TOML_CASES) + len(SELECTION_CASES) + 1,
    "command line": len(CLI_CASES) + 1,
    "Python objects (scenarios, closures, model and solve options)": len(OBJECT_CASES),
}


def test_the_suite_covers_at_least_150_cases():
    groups = {"file": PLAIN + GZ + META + SEMANTIC, "toml": TOML_CASES, "selection": SELECTION_CASES, "cli": CLI_CASES,
              "arrays": FROM_ARRAYS + FROM_ARRAYS_OTHER, "objects": OBJECT_CASES}
    ids = [f"{g}:{c[0]}" for g, cases in groups.items() for c in cases]
    assert len(ids) == len(set(ids))  # every case distinct
    assert sum(CASE_COUNTS.values()) >= 150


if __name__ == "__main__":
    for k, v in CASE_COUNTS.items():
        print(f"{v:4d}  {k}")
    print(f"{sum(CASE_COUNTS.values()):4d}  total")
