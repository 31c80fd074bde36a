"""One description of the model: every equation block of the registry, in both backends.

The registry (:mod:`cge.equations`) declares each block once. Here every block is compared
between the Pyomo model and the fast backend's array evaluation at random points far from
equilibrium, under model options chosen so that every block of the registry occurs; a block
declared in the registry and forgotten by a backend, or built by a backend and not declared,
fails. The residual check of the one solver front catches a NaN in any block of either backend.
"""

import dataclasses

import numpy as np
import pytest

import cge
from cge.equations import BLOCKS, NAMES, RegistryError, check_blocks
from cge.fast.equations import equation_residuals
from cge.synthetic import random_benchmark

from test_fast_backend import common_benchmark, pyomo_values

pytestmark = pytest.mark.solver

OTHER = dict(sigma_top=0.5, sigma_va=0.8, sigma_int=0.3, sigma_fd=0.7, sigma_dm=2.5, sigma_mm=5.0)
CONFIGS = {
    "agent, other elasticities, fixed real wage": (lambda: random_benchmark(3, 3, seed=21), "agent", OTHER, cge.Closure(labour="fixed_real_wage")),
    "agent, transfers a share of world income": (lambda: random_benchmark(3, 3, seed=28), "agent", None, cge.Closure(transfer="world_income_share")),
    "agent, defaults, specific capital, labour CET": (
        lambda: random_benchmark(3, 2, seed=22), "agent", None, cge.Closure(capital="sector_specific", labour_market="cet", labour_cet_elasticity=1.5),
    ),
    "agent, fixed wage premia, elastic labour": (
        lambda: random_benchmark(3, 3, seed=26), "agent", None, cge.Closure(labour="elastic", labour_supply_elasticity=0.3, labour_market="premia"),
    ),
    "agent, firm-size nest": (
        lambda: random_benchmark(3, 3, seed=29).split_firm_size(sectors=["S1", "S2"]), "agent", dict(OTHER, sigma_size=7.0), cge.Closure(),
    ),
    "common, firm-size nest, Cobb-Douglas sizes": (
        lambda: common_benchmark(3, 3, seed=30).split_firm_size(sectors=["S1", "S3"]), "common", dict(OTHER, sigma_size=1.0), cge.Closure(),
    ),
    "common, other elasticities, elastic labour": (
        lambda: common_benchmark(3, 3, seed=23), "common", OTHER,
        cge.Closure(labour="elastic", labour_supply_elasticity=0.5, numeraire=("output", "R1", "S1")),
    ),
}


def _random_instruments(bench, seed, exempt=False):
    """Tariffs, trade costs and output taxes away from the benchmark (the same for both uses); with
    ``exempt``, duty exemptions for half the sectors (sourcing by agent only)."""
    rng = np.random.default_rng(seed)
    R, S = bench.n_regions, bench.n_sectors
    off = ~np.eye(R, dtype=bool)[:, None, :, None]
    t = np.where(off, rng.uniform(0.0, 0.3, size=(R, S, R, 1)), 0.0) * np.ones((1, 1, 1, 2))
    tau = np.where(off, rng.uniform(0.8, 1.2, size=(R, S, R, 1)), 1.0) * np.ones((1, 1, 1, 2))
    to = rng.uniform(-0.2, 0.2, size=(R, S))
    transfer = bench.net_transfer + rng.normal(0.0, 0.05, size=R) * bench.income.mean()
    transfer -= transfer.mean() - bench.net_transfer.mean()  # the world total stays
    inst = cge.Instruments(tariff=t, iceberg=tau, output_tax=to, transfer=transfer, numeraire_value=1.3)
    if exempt:
        e = np.where(rng.uniform(size=(R, S)) < 0.5, rng.uniform(0.2, 1.0, size=(R, S)), 0.0)
        inst = dataclasses.replace(inst, duty_exemption=e)
    return inst


@pytest.fixture(scope="module")
def evaluated():
    """Residual blocks of both backends at one random point of each configuration."""
    out = {}
    for name, (make, sourcing, el, closure) in CONFIGS.items():
        bench = make()
        ref = cge.Model(bench, closure=closure, sourcing=sourcing, elasticities=el, backend="pyomo")
        fast = cge.Model(bench, closure=closure, sourcing=sourcing, elasticities=el, backend="fast")
        inst = _random_instruments(bench, seed=len(out), exempt=sourcing == "agent")
        ref._set_instruments(inst)
        fast._set_instruments(inst)
        rng = np.random.default_rng(7)
        for v in ref.engine._vars:
            v.set_value(float(rng.uniform(0.7, 1.3)))
        pyomo_blocks, pyomo_walras = ref.residual_blocks()
        fast_blocks, fast_walras = equation_residuals(fast.engine.layout, fast.engine._inst, pyomo_values(ref.engine, fast.engine.layout))
        out[name] = (pyomo_blocks, pyomo_walras, fast_blocks, fast_walras, ref, fast)
    return out


@pytest.mark.parametrize("block", NAMES)
def test_every_registry_block_agrees_between_backends(evaluated, block):
    seen = 0
    for name, (pb, pw, fb, fw, ref, fast) in evaluated.items():
        assert (block in pb) == (block in fb), f"{block}: built by one backend only ({name})"
        if block not in pb:
            continue
        seen += 1
        assert len(pb[block]) == len(fb[block]) > 0, f"{block} ({name}): {len(pb[block])} equations in Pyomo, {len(fb[block])} fast"
        assert np.abs(pb[block]).max() > 1e-4 or block == "numeraire", f"{block} ({name}): the point is not far from equilibrium"
        np.testing.assert_allclose(fb[block], pb[block], rtol=0, atol=1e-12, err_msg=f"{block} ({name})")
        np.testing.assert_allclose(fw, pw, rtol=0, atol=1e-12)
        # labels of the one front are the same for both backends
        assert list(ref.residuals().index) == list(fast.residuals().index)
    assert seen > 0, f"no configuration of this test builds block {block!r}: add one"


def test_backends_build_exactly_the_registry_blocks(evaluated):
    union = set()
    for pb, _, fb, _, ref, fast in evaluated.values():
        assert list(pb) == list(fb)  # same blocks, same (registry) order
        union |= set(pb)
        assert ref.size()["equations"] == fast.size()["equations"] == sum(len(v) for v in pb.values())
    assert union == set(NAMES)
    for b in BLOCKS:
        assert b.label and b.determines and b.latex


def test_an_undeclared_or_misordered_block_is_refused():
    with pytest.raises(RegistryError, match="'tariff_rate_quota' is not declared"):
        check_blocks(["zero_profit", "tariff_rate_quota"], "pyomo")
    with pytest.raises(RegistryError, match="not in the registry's order"):
        check_blocks(["income_balance", "zero_profit"], "fast")


NAN_CASES = (
    (lambda: common_benchmark(3, 2, seed=24), "common", cge.Closure(labour="fixed_real_wage")),
    (lambda: random_benchmark(3, 2, seed=27), "agent", cge.Closure(labour_market="cet")),
    (lambda: random_benchmark(3, 2, seed=31).split_firm_size(sectors=["S1"]), "agent", cge.Closure()),
)


@pytest.mark.parametrize("backend", ["pyomo", "fast"])
def test_a_nan_in_any_block_is_not_an_equilibrium(backend, monkeypatch):
    covered = set()
    for make, sourcing, closure in NAN_CASES:
        model = cge.Model(make(), closure=closure, sourcing=sourcing, backend=backend)
        blocks, _ = model.residual_blocks()
        covered |= set(blocks)
        original = model.engine.residual_blocks
        for block in list(blocks) + ["walras"]:

            def poisoned(block=block):
                b, w = original()
                if block == "walras":
                    return b, float("nan")
                b = dict(b)
                b[block] = b[block].copy()
                b[block][-1] = np.nan
                return b, w

            monkeypatch.setattr(model.engine, "residual_blocks", poisoned)
            with pytest.raises(cge.SolveError, match="worst equations:\n  .*: nan") as err:
                model.solve(homotopy=False)
            first = err.value.args[0].split("worst equations:\n  ")[1].split(":")[0]
            expected = "market clearing, left out by Walras' law" if block == "walras" else next(b.label for b in BLOCKS if b.name == block)
            assert first.startswith(expected), (block, first)
        monkeypatch.setattr(model.engine, "residual_blocks", original)
        assert model.solve().solution.max_residual <= 1e-9
    assert covered == set(NAMES)


def test_a_programming_error_is_not_a_convergence_failure(monkeypatch):
    bench = random_benchmark(3, 2, seed=25)
    for backend in ("pyomo", "fast"):
        model = cge.Model(bench, backend=backend)

        def broken():
            raise TypeError("injected")

        monkeypatch.setattr(model.engine, "run_solver", broken)
        with pytest.raises(TypeError, match="injected"):
            model.solve(cge.Scenario(tariff=bench.tariff_0 * 0.5))
    fast = cge.Model(bench, backend="fast")
    monkeypatch.setattr(fast.engine.system, "evaluate", lambda x, inst: (_ for _ in ()).throw(TypeError("in evaluation")))
    with pytest.raises(TypeError, match="in evaluation"):
        fast.solve(cge.Scenario(tariff=bench.tariff_0 * 0.5))


def test_bad_model_options_name_the_argument(toy):
    with pytest.raises(cge.ClosureError, match="closure='fixed_real_wage'"):
        cge.Model(toy, closure="fixed_real_wage")
    with pytest.raises(ValueError, match="backend='gams'"):
        cge.Model(toy, backend="gams")
    with pytest.raises(cge.CalibrationError, match="sourcing='both'"):
        cge.Model(toy, sourcing="both")
    with pytest.raises(cge.ClosureError, match="labour_supply_elasticity='high'"):
        cge.Closure(labour="elastic", labour_supply_elasticity="high")
    with pytest.raises(cge.ScenarioError, match="needs a cge.Scenario"):
        cge.Model(toy).solve({"tariff": 0})


@pytest.mark.unit
def test_the_model_page_is_written_from_the_registry():
    from pathlib import Path

    from cge.equations import markdown

    page = Path(__file__).resolve().parents[1] / "docs" / "model.md"
    assert page.read_text() == markdown(), "docs/model.md is stale: python -c 'import cge.equations as e; open(\"docs/model.md\", \"w\").write(e.markdown())'"
    for b in BLOCKS:
        assert f"Block `{b.name}` determines `{b.determines}`" in page.read_text()
