"""The command line: the doctor reports a working solver chain."""

import subprocess
import sys

import pytest

from cge.doctor import checks


@pytest.mark.solver
def test_doctor_reports_a_working_solver_chain():
    rows = {c.name: c for c in checks()}
    assert all(c.ok for c in rows.values()), [c for c in rows.values() if not c.ok]
    assert rows["ipopt"].detail.startswith("Ipopt 3.")
    out = subprocess.run([sys.executable, "-m", "cge", "doctor"], capture_output=True, text=True)
    assert out.returncode == 0
    assert "solver chain ready" in out.stdout
    # the test solve reports a residual below the tolerance
    residual = float(out.stdout.split("max residual ")[1].split()[0])
    assert residual <= 1e-8


@pytest.mark.unit
def test_benchmarks_and_describe_list_the_built_in_tables():
    out = subprocess.run([sys.executable, "-m", "cge", "benchmarks"], capture_output=True, text=True)
    assert out.returncode == 0
    assert "eastasia-2011" in out.stdout and "18 regions x 14 sectors" in out.stdout
    out = subprocess.run([sys.executable, "-m", "cge", "describe", "eastasia-2011"], capture_output=True, text=True)
    assert out.returncode == 0
    lines = out.stdout.splitlines()
    assert lines[0].startswith("eastasia-2011: 18 regions x 14 sectors, year 2011")
    vnm = next(line for line in lines if line.startswith("VNM"))
    gdp, output, exports, imports, tariff = (float(v) for v in vnm.split()[1:])
    import cge

    s = cge.Benchmark.load("eastasia-2011").summary().loc["VNM"]
    assert gdp == pytest.approx(s["gdp"], abs=0.01) and tariff == pytest.approx(100 * s["mean_tariff"], abs=0.01)
    bad = subprocess.run([sys.executable, "-m", "cge", "run", "no-such-file.toml"], capture_output=True, text=True)
    assert bad.returncode == 2 and "no such scenario file" in bad.stderr
