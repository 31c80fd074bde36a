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
