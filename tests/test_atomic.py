"""Writers never leave a mix: a failure at any file keeps the old folder byte for byte (or no folder).

Both writers, ``Benchmark.write`` and ``cge run``, are made to fail at the k-th file they open for
writing, for every k, and at each rename of the final swap. Reruns of a scenario file write
byte-identical files (``metadata.json`` and its size in ``manifest.json`` aside).
"""

import builtins
import dataclasses
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import cge
from cge import experiment
from cge.benchmark import BenchmarkError
from cge.experiment import OutputError, run_spec
from cge.scenario import load_spec

TOY = Path(__file__).resolve().parent / "data" / "toy"
SPEC = f"""title = "toy cut"
benchmark = "{TOY}"
[model]
backend = "fast"
[output]
decomposition_steps = 2
[[scenario]]
name = "cut"
[[scenario.shock]]
instrument = "tariff"
op = "scale"
value = 0.5
"""

_open = builtins.open


class FailAt:
    """``open`` that raises at the k-th file opened for writing under ``root`` (k = 0: never; counts them)."""

    def __init__(self, root: Path, k: int = 0):
        self.root, self.k, self.count = Path(root).resolve(), k, 0

    def __call__(self, file, mode="r", *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and any(c in mode for c in "wax+") and Path(file).resolve().is_relative_to(self.root):
            self.count += 1
            if self.count == self.k:
                raise OSError(f"injected failure at file {self.count}: {file}")
        return _open(file, mode, *args, **kwargs)


def _inject(monkeypatch, fail: FailAt) -> FailAt:
    monkeypatch.setattr(builtins, "open", fail)
    monkeypatch.setattr(io, "open", fail)
    return fail


def _snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()} if folder.exists() else None


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}.")]


def _doubled(toy) -> cge.Benchmark:
    return dataclasses.replace(toy, z_0=2 * toy.z_0, f_0=2 * toy.f_0, fp_0=2 * toy.fp_0, employment=2 * toy.employment)


def _count_files(monkeypatch, tmp_path, write) -> int:
    with monkeypatch.context() as m:
        counter = _inject(m, FailAt(tmp_path))
        write(tmp_path / "dry")
    return counter.count


# ---------------------------------------------------------------- Benchmark.write


@pytest.mark.unit
@pytest.mark.parametrize("compress", [False, True])
def test_failed_benchmark_write_keeps_the_old_folder(toy, tmp_path, monkeypatch, compress):
    target = tmp_path / "bench"
    toy.write(target)
    (target / "SOURCE.md").write_text("notes on the old table\n")
    before = _snapshot(target)
    new = _doubled(toy)
    n = _count_files(monkeypatch, tmp_path, lambda p: new.write(p, compress=compress))
    assert n == 7  # six tables and metadata.toml
    for k in range(1, n + 1):
        with monkeypatch.context() as m:
            _inject(m, FailAt(tmp_path, k))
            with pytest.raises(OSError, match=f"injected failure at file {k}"):
                new.write(target, compress=compress)
        assert _snapshot(target) == before, k
        assert _leftovers(target) == [], k
    new.write(target, compress=compress)
    back = cge.Benchmark.read(target)
    assert back.hash() == new.hash()
    assert (target / "SOURCE.md").read_text() == "notes on the old table\n"  # files that are not tables are carried over
    suffix = ".csv.gz" if compress else ".csv"
    assert sorted(p.name for p in target.iterdir()) == sorted(["SOURCE.md", "metadata.toml"] + [f + suffix for f in
                                                                ("intermediate", "final", "factors", "employment", "tariffs", "elasticities")])


@pytest.mark.unit
def test_failed_first_benchmark_write_leaves_no_folder(toy, tmp_path, monkeypatch):
    target = tmp_path / "new" / "bench"
    for k in range(1, 8):
        with monkeypatch.context() as m:
            _inject(m, FailAt(tmp_path, k))
            with pytest.raises(OSError):
                toy.write(target)
        assert not target.exists() and _leftovers(target) == []


@pytest.mark.unit
@pytest.mark.parametrize("which", [1, 2])
def test_failed_swap_keeps_the_old_folder(toy, tmp_path, monkeypatch, which):
    """A failure renaming the old folder aside (1) or the new one into place (2) leaves the old one."""
    target = tmp_path / "bench"
    toy.write(target)
    before = _snapshot(target)
    real, calls = os.rename, []

    def rename(src, dst):
        calls.append(src)
        if len(calls) == which:
            raise OSError("injected rename failure")
        return real(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(OSError, match="injected rename failure"):
        _doubled(toy).write(target)
    monkeypatch.undo()
    assert _snapshot(target) == before and _leftovers(target) == []


@pytest.mark.unit
def test_benchmark_write_never_replaces_a_folder_that_is_not_a_benchmark(toy, tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "thesis.tex").write_text("x")
    with pytest.raises(BenchmarkError, match=r"docs: not empty and holds no benchmark"):
        toy.write(tmp_path / "docs")
    assert (tmp_path / "docs" / "thesis.tex").read_text() == "x"


# ---------------------------------------------------------------- cge run


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    spec = tmp_path_factory.mktemp("spec") / "cut.toml"
    spec.write_text(SPEC)
    return spec, experiment.solve_spec(load_spec(spec), progress=False)


@pytest.mark.solver
def test_failed_run_keeps_the_old_results(solved, tmp_path, monkeypatch):
    spec, done = solved
    monkeypatch.setattr(experiment, "solve_spec", lambda *a, **k: done)
    target = tmp_path / "results"
    run_spec(spec, target, progress=False)
    (target / "welfare.csv").write_text("an older run\n")
    (target / "notes.txt").write_text("kept until replaced whole\n")
    before = _snapshot(target)
    with pytest.raises(OutputError, match=r"results: results folder exists and is not empty; pass --overwrite"):
        run_spec(spec, target, progress=False)
    assert _snapshot(target) == before
    n = _count_files(monkeypatch, tmp_path, lambda p: run_spec(spec, p, progress=False))
    assert n >= 20
    for k in range(1, n + 1):
        with monkeypatch.context() as m:
            _inject(m, FailAt(tmp_path, k))
            with pytest.raises(OSError, match=f"injected failure at file {k}"):
                run_spec(spec, target, progress=False, overwrite=True)
        assert _snapshot(target) == before, k
        assert _leftovers(target) == [], k
    out = run_spec(spec, target, progress=False, overwrite=True)
    after = _snapshot(target)
    assert "notes.txt" not in after and after["welfare.csv"] != before["welfare.csv"]  # replaced whole
    assert sorted(str(p.relative_to(target)) for p in out["files"]) == sorted(after)


@pytest.mark.solver
def test_failed_first_run_leaves_no_folder(solved, tmp_path, monkeypatch):
    spec, done = solved
    monkeypatch.setattr(experiment, "solve_spec", lambda *a, **k: done)
    target = tmp_path / "results"
    for k in (1, 10, 20):
        with monkeypatch.context() as m:
            _inject(m, FailAt(tmp_path, k))
            with pytest.raises(OSError):
                run_spec(spec, target, progress=False)
        assert not target.exists() and _leftovers(target) == []


# ---------------------------------------------------------------- reruns reproduce


@pytest.mark.solver
@pytest.mark.parametrize("backend", ["pyomo", "fast"])
def test_rerun_writes_identical_files(tmp_path, backend):
    spec = tmp_path / "cut.toml"
    spec.write_text(SPEC.replace('backend = "fast"', f'backend = "{backend}"'))
    env = {**os.environ, "PYTHONPATH": str(Path(cge.__file__).resolve().parents[1])}
    env.pop("SOURCE_DATE_EPOCH", None)
    for out in ("a", "b"):
        proc = subprocess.run([sys.executable, "-m", "cge", "run", str(spec), "--out", str(tmp_path / out), "--quiet"],
                              capture_output=True, text=True, env=env, timeout=600)
        assert proc.returncode == 0, proc.stderr
    a, b = _snapshot(tmp_path / "a"), _snapshot(tmp_path / "b")
    assert sorted(a) == sorted(b) and len(a) >= 20
    assert any(name.endswith(".svg") for name in a) and any(name.endswith(".png") for name in a)
    differ = [name for name in a if name not in ("metadata.json", "manifest.json") and a[name] != b[name]]
    assert differ == []

    def listed(manifest):  # every entry but metadata.json's size, which changes with the solver timings it records
        return [{**e, "size": None} if e["path"] == "metadata.json" else e for e in json.loads(manifest)["files"]]

    assert listed(a["manifest.json"]) == listed(b["manifest.json"])


@pytest.mark.solver
@pytest.mark.parametrize("backend", ["pyomo", "fast"])
def test_scenarios_solved_in_threads_are_the_sequential_results(tmp_path, backend):
    import pandas as pd

    from cge.experiment import solve_spec
    from cge.scenario import load_spec

    text = SPEC.replace('backend = "fast"', f'backend = "{backend}"')
    text += "".join(
        f'[[scenario]]\nname = "cut{k}"\n[[scenario.shock]]\ninstrument = "tariff"\nop = "scale"\nvalue = {v}\n'
        for k, v in ((2, 0.0), (3, 1.5), (4, 0.2))
    )
    path = tmp_path / "spec.toml"
    path.write_text(text)
    spec = load_spec(path)
    _, one = solve_spec(spec, progress=False, decompose_steps=2)
    _, two = solve_spec(spec, progress=False, decompose_steps=2, jobs=3)
    assert list(one) == list(two) == ["cut", "cut2", "cut3", "cut4"]
    for name in one:
        pd.testing.assert_frame_equal(one[name].tidy(), two[name].tidy(), check_exact=True)
    with pytest.raises(ValueError, match="jobs = 0"):
        solve_spec(spec, progress=False, jobs=0)


@pytest.mark.unit
def test_write_text_replaces_the_file_whole_or_not_at_all(tmp_path):
    """cge.files.write_text: the new bytes (UTF-8, \\n line ends) after a write; after a failed one the
    old file byte for byte and nothing left beside it."""
    from cge.files import write_text

    target = tmp_path / "table.md"
    assert write_text(target, "a\nb \u2020\n") == target
    assert target.read_bytes() == "a\nb \u2020\n".encode("utf-8")
    with pytest.raises(UnicodeEncodeError):
        write_text(target, "half\n" * 10_000 + "\ud800")  # a lone surrogate fails after the first part is written
    assert target.read_bytes() == "a\nb \u2020\n".encode("utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.md"]
