"""Scenarios: the policy instruments a counterfactual changes.

A :class:`Scenario` holds new levels of the instruments (not changes), each declared in
:mod:`cge.instruments`: bilateral ad-valorem tariffs and iceberg trade costs, each as an (R, S, R)
array (same for both uses) or an (R, S, R, 2) array by use (intermediate, final), and output taxes
(negative: subsidies) as an (R, S) array, net transfers from abroad as an (R,) array (zero for
balanced trade), and duty exemptions (the share of the intermediate-use tariff a sector does not pay
on its imported inputs) as an (R, S) array in [0, 1]. Instruments left as ``None`` keep their
benchmark values (tariffs, trade deficits and duty exemptions of the benchmark, trade costs 1, no
output taxes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .instruments import NAMES as INSTRUMENT_NAMES
from .instruments import PRODUCER_AXES, ROUTE3_AXES, SPEC, InstrumentError, Instruments


class ScenarioError(ValueError):
    """A scenario does not fit the benchmark."""


@dataclass
class Scenario:
    """New levels of the policy instruments, with a name for results tables."""

    tariff: np.ndarray | None = None
    iceberg: np.ndarray | None = None
    name: str = "scenario"
    description: str = ""
    numeraire_value: float = 1.0
    meta: dict = field(default_factory=dict)
    output_tax: np.ndarray | None = None
    transfer: np.ndarray | None = None
    duty_exemption: np.ndarray | None = None
    fixed_cost: np.ndarray | None = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ScenarioError(f"Scenario(name={self.name!r}): the name must be a non-empty string")
        if isinstance(self.numeraire_value, bool) or not isinstance(self.numeraire_value, (int, float, np.floating, np.integer)):
            raise ScenarioError(f"scenario {self.name!r}: numeraire_value = {self.numeraire_value!r}; must be a positive number")

    def instruments(self, bench) -> Instruments:
        """Every instrument at this scenario's level, checked against the benchmark."""
        arrays = {n: getattr(self, n) for n in INSTRUMENT_NAMES}
        try:
            return Instruments.from_arrays(bench, where=f"scenario {self.name!r}", numeraire_value=self.numeraire_value, **arrays)
        except InstrumentError as exc:
            raise ScenarioError(str(exc)) from None

    @classmethod
    def from_shocks(cls, bench, shocks, name: str = "scenario", description: str = "", region_groups: dict | None = None,
                    sector_groups: dict | None = None) -> "Scenario":
        """The scenario of a list of shocks selected by label, as in the ``[[scenario.shock]]`` tables
        of a scenario file.

        Each shock is a dict with the keys of a shock table (``instrument``, ``op``, ``value``,
        ``exporters``, ``importers``, ``sectors``, ``use``, ``regions``, their ``not_*`` forms and
        ``name``), checked with the same messages; shocks apply in order, starting from the
        benchmark's levels. Selections take region and sector names, the benchmark's region groups
        and the groups given here (``{"ASEAN": ["IDN", "THA"]}``), lists of them or ``"all"``::

            cge.Scenario.from_shocks(bench, [
                {"instrument": "tariff", "exporters": "RCEP", "importers": "RCEP", "value": 0.0},
                {"instrument": "iceberg", "importers": "IDN", "sectors": "parts", "op": "scale", "value": 0.97},
            ], name="rcep_facilitation", sector_groups={"parts": ["machinery", "electrical_optical"]})
        """
        if not isinstance(name, str) or not name:
            raise ScenarioError(f"Scenario.from_shocks(name={name!r}): the name must be a non-empty string")
        where = f"scenario {name!r}"
        if isinstance(shocks, dict):
            shocks = [shocks]
        if not isinstance(shocks, (list, tuple)):
            raise ScenarioError(f"{where}: shocks = {shocks!r}; must be a list of shock dicts such as {{'instrument': 'tariff', 'value': 0.0}}")
        parsed = []
        for k, shock in enumerate(shocks):
            if not isinstance(shock, dict):
                raise ScenarioError(f"{where} shock {k + 1}: must be a dict (the keys of a [[scenario.shock]] table), got {shock!r}")
            parsed.append(_shock(shock, f"{where} shock {k + 1}"))
        groups = {key: _groups(g, key, where) for key, g in (("region_groups", region_groups or {}), ("sector_groups", sector_groups or {}))}
        return ScenarioSpec(name, description, parsed).build(bench, groups["region_groups"], groups["sector_groups"])

    @classmethod
    def from_instruments(cls, inst: Instruments, name: str = "scenario", description: str = "") -> "Scenario":
        """The scenario whose instruments are ``inst``."""
        return cls(**{n: np.array(getattr(inst, n)) for n in INSTRUMENT_NAMES}, name=name, description=description,
                   numeraire_value=inst.numeraire_value)


# ---------------------------------------------------------------------- scenario files (TOML)

INSTRUMENTS = INSTRUMENT_NAMES
OPERATIONS = ("set", "scale", "add")
USE_CHOICES = ("all", "intermediate", "final")
SHOCK_KEYS = {"instrument", "op", "value", "exporters", "importers", "sectors", "use", "not_exporters", "not_importers", "not_sectors", "name", "regions", "not_regions"}
SCENARIO_KEYS = {"name", "description", "shock", "closure", "elasticities", "sourcing", "sweep"}
MODEL_KEYS = {"sourcing", "closure", "elasticities", "backend"}
TOP_KEYS = {"title", "description", "benchmark", "model", "scenario", "sector_groups", "region_groups", "output", "sensitivity"}
OUTPUT_KEYS = {"gvc": "true or false (GVC tables and figures)", "decomposition_steps": "a whole number >= 1"}
RESERVED_FOLDERS = {"figures"}
"""Folder names of a results folder's run-level files, which no scenario may take."""
SELECTIONS = ("exporters", "importers", "sectors", "not_exporters", "not_importers", "not_sectors", "regions", "not_regions")


@dataclass
class Shock:
    """A rule: an operation on one instrument over a selection of its cells.

    Route instruments (tariffs, iceberg costs) select exporters x sectors x importers x uses and
    apply to international routes only (exporter != importer); producer instruments (output taxes)
    select producing ``regions`` x ``sectors``; region instruments (net transfers) select ``regions``.
    Selections take region or sector names, group names
    (the benchmark's region groups, or groups defined in the file), lists of them, or ``"all"``;
    ``not_*`` removes members.
    """

    instrument: str
    op: str
    value: float
    exporters: object = "all"
    importers: object = "all"
    sectors: object = "all"
    use: str = "all"
    not_exporters: object = ()
    not_importers: object = ()
    not_sectors: object = ()
    name: str = ""
    regions: object = "all"
    not_regions: object = ()

    def mask(self, bench, region_groups: dict, sector_groups: dict, where: str) -> np.ndarray:
        """Boolean selection of the instrument's cells this shock applies to (the instrument's shape)."""
        R = bench.n_regions
        groups = {**bench.groups, **region_groups}

        def pick(key, labels, grp):
            return _select(getattr(self, key), labels, grp, f"{where}.{key}") & ~_select(
                getattr(self, f"not_{key}"), labels, grp, f"{where}.not_{key}", empty_ok=True
            )

        axes = SPEC[self.instrument].axes
        if axes == ("region",):
            return pick("regions", bench.regions, groups)
        se = pick("sectors", bench.sectors, sector_groups)
        if axes == PRODUCER_AXES:
            return pick("regions", bench.regions, groups)[:, None] & se[None, :]
        ex, im = pick("exporters", bench.regions, groups), pick("importers", bench.regions, groups)
        if axes == ROUTE3_AXES:  # routes without a use (fixed costs): international routes only
            return ex[:, None, None] & se[None, :, None] & im[None, None, :] & ~np.eye(R, dtype=bool)[:, None, :]
        us = np.array([self.use in ("all", "intermediate"), self.use in ("all", "final")])
        out = ex[:, None, None, None] & se[None, :, None, None] & im[None, None, :, None] & us[None, None, None, :]
        out &= ~np.eye(R, dtype=bool)[:, None, :, None]
        return out

    def apply(self, arr: np.ndarray, mask: np.ndarray) -> np.ndarray:
        out = arr.copy()
        if self.op == "set":
            out[mask] = self.value
        elif self.op == "scale":
            out[mask] *= self.value
        else:
            out[mask] += self.value
        return out


@dataclass
class ScenarioSpec:
    """One scenario of a file: its shocks and any model options of its own."""

    name: str
    description: str = ""
    shocks: list = field(default_factory=list)
    closure: dict = field(default_factory=dict)
    elasticities: dict = field(default_factory=dict)
    sourcing: str | None = None
    label: str = ""
    """Display name (tables, figures, report); default the name. A labelled sweep sets it."""
    stem: str = ""
    """Name of the scenario's results folder and files; default :func:`slug` of the name."""

    @property
    def display(self) -> str:
        """The name shown in tables, figures and the report."""
        return self.label or self.name

    @property
    def folder(self) -> str:
        """The stem of the scenario's results folder."""
        return self.stem or slug(self.name)

    def build(self, bench, region_groups=None, sector_groups=None) -> Scenario:
        """The :class:`Scenario` of this spec on a benchmark."""
        levels = {spec.name: spec.benchmark_value(bench) for spec in SPEC.values()}
        for n, shock in enumerate(self.shocks):
            mask = shock.mask(bench, region_groups or {}, sector_groups or {}, f"scenario {self.name!r} shock {n + 1}")
            levels[shock.instrument] = shock.apply(levels[shock.instrument], mask)
        return Scenario(**levels, name=self.name, description=self.description)


@dataclass
class RunSpec:
    """A scenario file: benchmark, model options and scenarios."""

    path: object
    title: str
    description: str
    benchmark: str
    model: dict
    scenarios: list
    region_groups: dict = field(default_factory=dict)
    sector_groups: dict = field(default_factory=dict)
    output: dict = field(default_factory=dict)
    sensitivity: object = None  # cge.sensitivity.Specification of a [sensitivity] table
    stages: dict | None = None  # arguments of cge.split_stages when the file asks for the split
    processing: dict | None = None  # arguments of cge.split_processing when the file asks for it
    firm_size: dict | None = None  # arguments of cge.split_firm_size when the file asks for the split

    def benchmark_folder(self):
        """The benchmark's folder: a built-in name or a folder (relative to the scenario file)."""
        from pathlib import Path

        from .benchmark import BenchmarkError
        from .datasets import locate

        try:
            return locate(self.benchmark, base=Path(self.path).parent)
        except BenchmarkError as exc:
            raise ScenarioError(f"{self.path}: {exc}") from None

    def load_benchmark(self):
        """The benchmark, read and checked (:meth:`cge.Benchmark.read`), its sectors split into
        production stages (:func:`cge.split_stages`) or by firm size (:func:`cge.split_firm_size`;
        the model then has the firm-size nest) when the file asks for it."""
        from .benchmark import Benchmark, BenchmarkError
        from .processing import split_processing
        from .stages import split_stages

        bench = Benchmark.read(self.benchmark_folder())
        if self.firm_size is not None:
            from .firms import split_firm_size

            try:
                return split_firm_size(bench, **self.firm_size)
            except BenchmarkError as exc:
                raise ScenarioError(f"{self.path}: [benchmark] {exc}") from None
        try:
            if self.processing is not None:
                return split_processing(bench, **self.processing)
            if self.stages is None:
                return bench
            return split_stages(bench, **self.stages)
        except BenchmarkError as exc:
            raise ScenarioError(f"{self.path}: [benchmark] {exc}") from None


def load_spec(path) -> RunSpec:
    """Read and check a scenario file; errors name the file, the key, the value and what is allowed."""
    from pathlib import Path

    from .files import read_toml

    path = Path(path)
    doc = read_toml(path, ScenarioError, "no such scenario file")
    _keys(doc, TOP_KEYS, f"{path}")
    for key in ("title", "description"):
        _string(doc, key, f"{path}")
    bench, stages, processing, firm_size = doc.get("benchmark"), None, None, None
    if isinstance(bench, dict):
        _keys(bench, set(BENCHMARK_KEYS), f"{path}: [benchmark]")
        stages = _stages(bench, f"{path}: [benchmark]")
        processing = _processing(bench, f"{path}: [benchmark]")
        firm_size = _firm_size(bench, f"{path}: [benchmark]")
        chosen = [k for k, v in (("split_stages", stages), ("split_processing", processing), ("split_firm_size", firm_size)) if v is not None]
        if len(chosen) > 1:
            raise ScenarioError(f"{path}: [benchmark] {' and '.join(chosen)} cannot be combined; choose one")
        bench = bench.get("name") or bench.get("path")
    if not isinstance(bench, str) or not bench:
        raise ScenarioError(f"{path}: key 'benchmark' = {bench!r}; must name a built-in benchmark or a folder (a string)")
    model = doc.get("model", {})
    _keys(model, MODEL_KEYS, f"{path}: [model]")
    _model_options(model, f"{path}: [model]")
    scenarios = []
    raw = doc.get("scenario")
    if not isinstance(raw, list) or not raw:
        raise ScenarioError(f"{path}: at least one [[scenario]] table is needed")
    for n, sc in enumerate(raw):
        where = f"{path}: scenario {n + 1}"
        if not isinstance(sc, dict):
            raise ScenarioError(f"{where}: must be a table")
        _keys(sc, SCENARIO_KEYS, where)
        name = sc.get("name")
        if not isinstance(name, str) or not name:
            raise ScenarioError(f"{where}: key 'name' must be a non-empty string, got {name!r}")
        where = f"{path}: scenario {name!r}"
        _string(sc, "description", where)
        _model_options(sc, where)
        raw_shocks = sc.get("shock", [])
        if not isinstance(raw_shocks, list):
            raise ScenarioError(f"{where}: shock must be an array of tables ([[scenario.shock]]), got {raw_shocks!r}")
        shocks = [_shock(s, f"{where} shock {k + 1}") for k, s in enumerate(raw_shocks)]
        base = ScenarioSpec(
            name=name,
            description=sc.get("description", ""),
            shocks=shocks,
            closure=dict(sc.get("closure", {})),
            elasticities=_elasticity_table(sc.get("elasticities", {})),
            sourcing=sc.get("sourcing"),
        )
        scenarios.extend(_sweep(base, sc.get("sweep"), where))
    names = [s.name for s in scenarios]
    dup = sorted({x for x in names if names.count(x) > 1})
    if dup:
        raise ScenarioError(f"{path}: scenario names must be unique, repeated: {dup}")
    folders: dict = {}
    for sc in scenarios:
        key = sc.folder.lower()  # one folder per scenario, on case-insensitive file systems too
        if key in RESERVED_FOLDERS or key in folders:
            other = f"scenario {folders[key]!r}" if key in folders else "the run's own files"
            raise ScenarioError(f"{path}: scenario {sc.name!r} would write its results into folder {sc.folder!r}, "
                                f"as {other} does; rename it")
        folders[key] = sc.name
    groups = doc.get("sector_groups", {})
    rgroups = doc.get("region_groups", {})
    for key, g in (("sector_groups", groups), ("region_groups", rgroups)):
        _groups(g, key, f"{path}")
    output = doc.get("output", {})
    _keys(output, set(OUTPUT_KEYS), f"{path}: [output]")
    if "gvc" in output and not isinstance(output["gvc"], bool):
        raise ScenarioError(f"{path}: [output] gvc = {output['gvc']!r}; must be {OUTPUT_KEYS['gvc']}")
    steps = output.get("decomposition_steps", 1)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ScenarioError(f"{path}: [output] decomposition_steps = {steps!r}; must be {OUTPUT_KEYS['decomposition_steps']}")
    model = dict(model)
    if "elasticities" in model:
        model["elasticities"] = _elasticity_table(model["elasticities"])
    return RunSpec(
        path=path,
        title=doc.get("title", path.stem),
        description=doc.get("description", ""),
        benchmark=bench,
        model=model,
        scenarios=scenarios,
        region_groups=rgroups,
        sector_groups=groups,
        output=dict(output),
        sensitivity=_sensitivity(doc, path, names),
        stages=stages,
        processing=processing,
        firm_size=firm_size,
    )


BENCHMARK_KEYS = {
    "name": "a built-in benchmark",
    "path": "a benchmark folder, relative to the scenario file",
    "split_stages": "true (the GVC-heavy manufacturing sectors) or a list of sectors to split into parts and assembly",
    "stage_rule": 'how inputs are split between the stages: "assembly_first" (default) or "proportional"',
    "parts_cap": "the largest share of own-use parts in the assembly stage's costs (default 0.5), between 0 and 1",
    "stage_regions": "a list of regions whose stages follow stage_rule (default all; the others split proportionally)",
    "split_processing": "true (China's export processing, cge.split_processing defaults) or a list of regions with processing regimes",
    "processing_exempt": "true (default: processing inputs duty-free, the region's revenue kept) or false",
    "split_firm_size": "true (every goods sector) or a list of sectors to split into SMEs and large firms (the model then has the firm-size nest)",
    "firm_size_rule": 'the structures of the two firm types: "stylised" (default) or "proportional"',
}


def _split(table: dict, where: str, key: str, dependent: tuple, fix: str):
    """The ``key`` switch of a ``[benchmark]`` table: None when it is absent or false (then no ``dependent`` key may be given), else true or its list of labels."""
    split = table.get(key, False)
    if split is False:
        extra = [k for k in dependent if k in table]
        if extra:
            raise ScenarioError(f"{where}: {extra} given without {key}; add {fix}")
        return None
    if not (split is True or (isinstance(split, list) and split and all(isinstance(x, str) for x in split))):
        raise ScenarioError(f"{where}: {key} = {split!r}; must be {BENCHMARK_KEYS[key]}")
    return split


def _firm_size(table: dict, where: str) -> dict | None:
    """Arguments of :func:`cge.split_firm_size` from a ``[benchmark]`` table, or None when it asks for no split."""
    from .firms import RULES

    split = _split(table, where, "split_firm_size", ("firm_size_rule",), "split_firm_size = true or a list of sectors")
    if split is None:
        return None
    rule = table.get("firm_size_rule", "stylised")
    if rule not in RULES:
        raise ScenarioError(f"{where}: firm_size_rule = {rule!r}; must be {BENCHMARK_KEYS['firm_size_rule']}")
    return {"sectors": None if split is True else list(split), "rule": rule}


def _stages(table: dict, where: str) -> dict | None:
    """Arguments of :func:`cge.split_stages` from a ``[benchmark]`` table, or None when it asks for no split."""
    from .stages import RULES

    split = _split(table, where, "split_stages", ("stage_rule", "parts_cap", "stage_regions"), "split_stages = true or a list of sectors")
    if split is None:
        return None
    rule = table.get("stage_rule", "assembly_first")
    if rule not in RULES:
        raise ScenarioError(f"{where}: stage_rule = {rule!r}; must be {BENCHMARK_KEYS['stage_rule']}")
    cap = table.get("parts_cap", 0.5)
    if isinstance(cap, bool) or not isinstance(cap, (int, float)) or not 0.0 < cap < 1.0:
        raise ScenarioError(f"{where}: parts_cap = {cap!r}; must be {BENCHMARK_KEYS['parts_cap']}")
    out = {"sectors": None if split is True else list(split), "rule": rule, "parts_cap": float(cap)}
    regions = table.get("stage_regions")
    if regions is not None:
        if not (isinstance(regions, list) and regions and all(isinstance(x, str) for x in regions)):
            raise ScenarioError(f"{where}: stage_regions = {regions!r}; must be {BENCHMARK_KEYS['stage_regions']}")
        out["regions"] = list(regions)
    return out


def _processing(table: dict, where: str) -> dict | None:
    """Arguments of :func:`cge.split_processing` from a ``[benchmark]`` table, or None when it asks for no split."""
    split = _split(table, where, "split_processing", ("processing_exempt",), "split_processing = true")
    if split is None:
        return None
    exempt = table.get("processing_exempt", True)
    if not isinstance(exempt, bool):
        raise ScenarioError(f"{where}: processing_exempt = {exempt!r}; must be {BENCHMARK_KEYS['processing_exempt']}")
    out = {"exempt": exempt}
    if split is not True:
        out["regions"] = list(split)
    return out


def _groups(groups, key: str, where: str) -> dict:
    """A table of groups, ``{name: [labels]}``, checked; errors name ``key`` and the group."""
    if not isinstance(groups, dict):
        raise ScenarioError(f"{where}: {key} = {groups!r}; must be a table mapping group names to lists of labels")
    for name, members in groups.items():
        if not isinstance(members, (list, tuple)) or not members or not all(isinstance(m, str) for m in members):
            raise ScenarioError(f"{where}: {key}.{name} = {members!r}; must be a non-empty list of labels (strings)")
    return {name: list(members) for name, members in groups.items()}


def slug(name: str) -> str:
    """A name as a file-name stem: letters, digits, ``-``, ``_`` and ``.`` kept, other runs of
    characters replaced by one ``_`` (``cut[0.5]`` -> ``cut_0.5``)."""
    out, gap = [], False
    for c in str(name):
        if c.isalnum() or c in "-_.":
            if gap and out:
                out.append("_")
            out.append(c)
            gap = False
        else:
            gap = True
    return "".join(out).strip(".") or "scenario"


def _sensitivity(doc: dict, path, names: list):
    """The file's ``[sensitivity]`` table as a :class:`cge.sensitivity.Specification` (None without one)."""
    if "sensitivity" not in doc:
        return None
    from .sensitivity import Specification

    spec = Specification.from_table(doc["sensitivity"], f"{path}: [sensitivity]")
    unknown = sorted(set(spec.scenarios or ()) - set(names))
    if unknown:
        raise ScenarioError(f"{path}: [sensitivity] scenarios: {unknown[0]!r} is not a scenario of the file; scenarios: {names}")
    return spec


def _elasticity_table(el) -> dict:
    return {"set": el} if isinstance(el, str) else dict(el)


def _keys(table: dict, allowed: set, where: str) -> None:
    if not isinstance(table, dict):
        raise ScenarioError(f"{where}: must be a table, got {table!r}")
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ScenarioError(f"{where}: unknown key {unknown[0]!r}; allowed: {sorted(allowed)}")


def _string(table: dict, key: str, where: str) -> None:
    """``table[key]``, when given, must be a string."""
    if key in table and not isinstance(table[key], str):
        raise ScenarioError(f"{where}: {key} = {table[key]!r}; must be a string")


def _number(value, where: str, allowed: str = "a finite number >= 0", low: float = 0.0) -> None:
    """A number (not a boolean), finite and >= ``low``; otherwise an error naming value and what is allowed."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value < low:
        raise ScenarioError(f"{where} = {value!r}; must be {allowed}")


def _model_options(table: dict, where: str) -> None:
    from .closure import CAPITAL_CLOSURES, LABOUR_CLOSURES, LABOUR_MARKETS, Closure, ClosureError

    src = table.get("sourcing")
    if src is not None and src not in ("agent", "common"):
        raise ScenarioError(f"{where}: sourcing = {src!r}; allowed: ['agent', 'common']")
    backend = table.get("backend")
    if backend is not None and backend not in ("pyomo", "fast", "auto"):
        raise ScenarioError(f"{where}: backend = {backend!r}; allowed: ['pyomo', 'fast', 'auto']")
    closure = table.get("closure", {})
    if not isinstance(closure, dict):
        raise ScenarioError(f"{where}: closure must be a table such as {{ labour = 'full_employment' }}")
    allowed = {"labour", "capital", "labour_supply_elasticity", "numeraire", "labour_market", "labour_cet_elasticity", "transfer"}
    unknown = sorted(set(closure) - allowed)
    if unknown:
        raise ScenarioError(f"{where}: closure key {unknown[0]!r} unknown; allowed: {sorted(allowed)} (labour in {list(LABOUR_CLOSURES)}, labour_market in {list(LABOUR_MARKETS)}, capital in {list(CAPITAL_CLOSURES)})")
    for key in ("labour", "capital"):
        if key in closure and not isinstance(closure[key], str):
            allowed_values = list(LABOUR_CLOSURES if key == "labour" else CAPITAL_CLOSURES)
            raise ScenarioError(f"{where}: closure.{key} = {closure[key]!r}; allowed: {allowed_values}")
    if "labour_supply_elasticity" in closure:
        _number(closure["labour_supply_elasticity"], f"{where}: closure.labour_supply_elasticity")
    num = closure.get("numeraire", "world_factor_prices")
    if not (isinstance(num, str) or (isinstance(num, list) and all(isinstance(x, str) for x in num))):
        raise ScenarioError(
            f"{where}: closure.numeraire = {num!r}; allowed: 'world_factor_prices', ['factor', region, factor], ['output', region, sector]"
        )
    try:
        Closure(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in closure.items()})
    except ClosureError as exc:
        raise ScenarioError(f"{where}: {exc}") from None
    el = table.get("elasticities", {})
    from .benchmark import ELASTICITIES

    if isinstance(el, str):
        el = {"set": el}
    if not isinstance(el, dict):
        raise ScenarioError(f"{where}: elasticities must be a set name or a table such as {{ sigma_mm = 8.0 }}")
    if "set" in el and not isinstance(el["set"], str):
        raise ScenarioError(f"{where}: elasticities.set = {el['set']!r}; must name an elasticity set of the benchmark")
    for k, v in el.items():
        if k == "set":
            continue
        if k not in ELASTICITIES and k != "sigma_size":
            raise ScenarioError(f"{where}: elasticities key {k!r} unknown; allowed: {list(ELASTICITIES) + ['sigma_size']}")
        vals = v if isinstance(v, list) else [v]
        for x in vals or [None]:
            _number(x, f"{where}: elasticities.{k}", "a finite number >= 0 or a non-empty list of them")


def _shock(table: dict, where: str) -> Shock:
    _keys(table, SHOCK_KEYS, where)
    inst = table.get("instrument")
    if inst not in INSTRUMENTS:
        raise ScenarioError(f"{where}: instrument = {inst!r}; allowed: {list(INSTRUMENTS)}")
    op = table.get("op", "set")
    if op not in OPERATIONS:
        raise ScenarioError(f"{where}: op = {op!r}; allowed: {list(OPERATIONS)}")
    value = table.get("value")
    use = table.get("use", "all")
    if use not in USE_CHOICES:
        raise ScenarioError(f"{where}: use = {use!r}; allowed: {list(USE_CHOICES)}")
    _shock_value(inst, op, value, where)
    keys_of_axis = {"exporter": {"exporters", "not_exporters"}, "importer": {"importers", "not_importers"},
                    "commodity": {"sectors", "not_sectors"}, "sector": {"sectors", "not_sectors"},
                    "region": {"regions", "not_regions"}, "use": {"use"}}
    allowed_here = set().union(*(keys_of_axis[a] for a in SPEC[inst].axes))
    wrong = sorted(set().union(*keys_of_axis.values()) & set(table) - allowed_here)
    if wrong:
        raise ScenarioError(f"{where}: key {wrong[0]!r} does not apply to instrument {inst!r} (axes: {', '.join(SPEC[inst].axes)})")
    for key in SELECTIONS:
        sel = table.get(key, "all")
        if not (isinstance(sel, str) or (isinstance(sel, list) and all(isinstance(x, str) for x in sel))):
            kind = "sector" if key.endswith("sectors") else "region"
            raise ScenarioError(f"{where}: {key} = {sel!r}; must be a {kind} or group name, a list of them, or 'all'")
    _string(table, "name", where)
    kw = {k: table[k] for k in SELECTIONS + ("name",) if k in table}
    return Shock(instrument=inst, op=op, value=float(value), use=use, **kw)


def _shock_value(inst: str, op: str, value, where: str) -> None:
    """The value of a shock: a finite number, and a level the instrument can take when ``op`` sets it."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise ScenarioError(f"{where}: value = {value!r}; must be a finite number")
    spec = SPEC[inst]
    if op == "set" and (value < spec.lower if spec.lower_allowed else value <= spec.lower):
        raise ScenarioError(f"{where}: value = {value!r}; {inst} must {'be at least' if spec.lower_allowed else 'exceed'} {spec.lower:g} ({spec.description})")
    if op == "set" and value > spec.upper:
        raise ScenarioError(f"{where}: value = {value!r}; {inst} must be at most {spec.upper:g} ({spec.description})")


SWEEP_KEYS = {"shock", "values", "labels", "label"}


def _sweep(base: ScenarioSpec, sweep, where: str) -> list:
    """Expand ``sweep = { shock = k, values = [...] }`` (k counts from 1) into one scenario a value.

    Each scenario is named ``<name>[<value>]``. Optional ``labels`` (one a value: numbers or
    strings) name the values in the quantity the reader thinks in, e.g. days saved for iceberg
    factors: the scenario is then ``<name>[<label>]``; optional ``label`` names that quantity
    (``"days"``), shown in tables and figures (``<name>: 1.5 days``) and used in file names
    (``<name>_1.5_days``).
    """
    if sweep is None:
        return [base]
    if not isinstance(sweep, dict) or set(sweep) - SWEEP_KEYS or "values" not in sweep:
        raise ScenarioError(f"{where}: sweep must be a table {{ shock = 1, values = [ ... ] }} with optional labels = [ ... ] and label = '...'")
    k = sweep.get("shock", 1)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= len(base.shocks):
        raise ScenarioError(f"{where}: sweep.shock = {k!r}; must be a shock number from 1 to {len(base.shocks)}")
    values = sweep["values"]
    if not isinstance(values, list) or not values or not all(_finite(v) for v in values):
        raise ScenarioError(f"{where}: sweep.values = {values!r}; must be a non-empty list of finite numbers")
    swept = base.shocks[k - 1]
    for v in values:
        _shock_value(swept.instrument, swept.op, v, f"{where}: sweep.values")
    labels = sweep.get("labels")
    if labels is None:
        labels = [f"{v:g}" for v in values]
    elif (not isinstance(labels, list) or len(labels) != len(values)
          or not all(_finite(x) or (isinstance(x, str) and x.strip() and not set(x) & set("[]")) for x in labels)):
        raise ScenarioError(f"{where}: sweep.labels = {labels!r}; must be a list of {len(values)} labels, one a value "
                            "(finite numbers or non-empty strings without brackets)")
    else:
        labels = [f"{x:g}" if _finite(x) else x.strip() for x in labels]
    if len(set(labels)) < len(labels):
        raise ScenarioError(f"{where}: sweep.labels = {sweep.get('labels', values)!r}; each value needs its own label")
    quantity = sweep.get("label", "")
    if not isinstance(quantity, str) or (quantity == "" and "label" in sweep):
        raise ScenarioError(f"{where}: sweep.label = {quantity!r}; must be a non-empty string naming the swept quantity, e.g. 'days'")
    out = []
    for v, lab in zip(values, labels):
        shocks = [Shock(**{**s.__dict__, "value": float(v)}) if n == k - 1 else s for n, s in enumerate(base.shocks)]
        named = f"{lab} {quantity}".strip()
        out.append(ScenarioSpec(f"{base.name}[{lab}]", base.description, shocks, base.closure, base.elasticities, base.sourcing,
                                label=f"{base.name}: {named}" if quantity else "", stem=slug(f"{base.name}_{named}")))
    return out


def _finite(x) -> bool:
    """A number (not a boolean) that is finite."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and bool(np.isfinite(x))


def _select(sel, labels: list, groups: dict, where: str, empty_ok: bool = False) -> np.ndarray:
    """Boolean mask over ``labels`` from names, group names, lists of them, or 'all'."""
    if sel == "all":
        return np.ones(len(labels), dtype=bool)
    if not (isinstance(sel, str) or (isinstance(sel, (list, tuple)) and all(isinstance(x, str) for x in sel))):
        raise ScenarioError(f"{where}: {sel!r} is not a selection; give a label or group name, a list of them, or 'all'")
    items = [sel] if isinstance(sel, str) else list(sel)
    if not items and not empty_ok:
        raise ScenarioError(f"{where}: empty selection")
    out = np.zeros(len(labels), dtype=bool)
    for item in items:
        if item in labels:
            out[labels.index(item)] = True
        elif item in groups:
            for member in groups[item]:
                if member not in labels:
                    raise ScenarioError(f"{where}: group {item!r} names {member!r}, which is not in the benchmark")
                out[labels.index(member)] = True
        else:
            raise ScenarioError(f"{where}: {item!r} is neither a label nor a group; labels: {labels}, groups: {sorted(groups)}")
    return out
