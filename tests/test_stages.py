"""Production stages (cge.stages): a sector split into parts and components and assembly.

The split is a pure transformation of the table: summing the stages back gives the original
benchmark (every array, tariff revenue). With ``rule="proportional"`` both stages have the
sector's cost structure, so the split model is the unsplit model written with more goods: see
:func:`test_proportional_split_reproduces_the_unsplit_model`.
"""

import numpy as np
import pytest

import cge
from cge.stages import merge_stages, split_stages, stage_mapping
from cge.synthetic import random_benchmark

STAGED = ["machinery", "electrical_optical", "transport_equipment"]


@pytest.fixture(scope="module")
def eastasia():
    return cge.Benchmark.load("eastasia-2011")


def _close(merged, bench, tol=1e-9):
    for name in ("z_0", "f_0", "fp_0", "tariff_0", "employment"):
        a, b = getattr(merged, name), getattr(bench, name)
        assert np.abs(a - b).max() <= tol * max(1.0, np.abs(b).max()), name
    np.testing.assert_allclose(merged.tariff_revenue, bench.tariff_revenue, rtol=1e-9)


@pytest.mark.unit
@pytest.mark.parametrize("rule", ["assembly_first", "proportional"])
def test_split_then_merge_gives_back_the_benchmark(eastasia, rule):
    split = split_stages(eastasia, rule=rule)
    assert split.n_sectors == eastasia.n_sectors + 3
    assert split.sectors[6:8] == ["machinery_parts", "machinery_assembly"]
    assert stage_mapping(split)["electrical_optical_assembly"] == "electrical_optical"
    assert split.metadata["stages"]["rule"] == rule
    np.testing.assert_allclose(split.costs, split.output, rtol=1e-12, atol=1e-9)  # every stage balances
    np.testing.assert_allclose(split.tariff_revenue, eastasia.tariff_revenue, rtol=1e-12)
    merged = merge_stages(split)
    assert merged.sectors == eastasia.sectors
    for key in ("sector_labels", "sector_members", "elasticity_sets"):
        assert merged.metadata[key] == eastasia.metadata[key], key
    for k, v in eastasia.elasticities.items():
        np.testing.assert_array_equal(merged.elasticities[k], v)
    cp = split.metadata["elasticity_sets"]["CP"]["sigma_mm"]
    assert len(cp) == split.n_sectors and cp[split.sectors.index("machinery_assembly")] == eastasia.metadata["elasticity_sets"]["CP"]["sigma_mm"][6]
    assert split.metadata["sector_labels"]["machinery_assembly"] == eastasia.metadata["sector_labels"]["machinery"] + " (assembly)"
    _close(merged, eastasia)


@pytest.mark.unit
def test_stages_sell_to_their_use_and_assembly_buys_the_parts(eastasia):
    split = split_stages(eastasia)
    n = split.sectors.index
    for j in STAGED:
        p, a = n(f"{j}_parts"), n(f"{j}_assembly")
        assert split.z_0[:, a].sum() == 0 and split.f_0[:, p].sum() == 0
        k = eastasia.sectors.index(j)
        np.testing.assert_allclose(split.z_0[:, p].sum(axis=(1, 2)), eastasia.z_0[:, k].sum(axis=(1, 2)), rtol=1e-12)
        np.testing.assert_allclose(split.f_0[:, a], eastasia.f_0[:, k], rtol=0)
        for r in (p, a):  # tariffs and elasticities copied
            np.testing.assert_array_equal(split.tariff_0[:, r], eastasia.tariff_0[:, k])
            assert split.elasticities["sigma_dm"][r] == eastasia.elasticities["sigma_dm"][k]
        # assembly is parts-intensive and parts value-added intensive (stylised facts, module docstring)
        own_a = split.z_0[:, p, :, a].sum(axis=0) / split.output[:, a]
        own_p = split.z_0[:, p, :, p].sum(axis=0) / split.output[:, p]
        va = lambda c: split.value_added[:, c] / split.output[:, c]  # noqa: E731
        assert (own_a >= own_p - 1e-12).all()
        assert (va(p) >= va(a) - 1e-12).all() and (va(p) > va(a)).any()
        # employment follows labour payments: the wage per person is the sector's
        li = split.factors.index("labour")
        wage = lambda b, c: b.fp_0[:, c, li] / b.employment[:, c]  # noqa: E731
        np.testing.assert_allclose(wage(split, a), wage(eastasia, k), rtol=1e-12)


@pytest.mark.unit
def test_split_errors_name_the_problem(eastasia):
    with pytest.raises(cge.BenchmarkError, match="unknown.*'cars'"):
        split_stages(eastasia, ["cars"])
    with pytest.raises(cge.BenchmarkError, match="rule"):
        split_stages(eastasia, rule="random")
    with pytest.raises(cge.BenchmarkError, match="parts_cap"):
        split_stages(eastasia, parts_cap=1.5)
    with pytest.raises(cge.BenchmarkError, match="split already"):
        split_stages(split_stages(eastasia, ["machinery"]), ["metals"])


@pytest.mark.solver
@pytest.mark.parametrize("backend", ["pyomo", "fast"])
def test_proportional_split_reproduces_the_unsplit_model(backend):
    """With identical stage structures the split model has the unsplit model's equilibrium (1e-8).

    Why: both stages of a sector use the same inputs in the same benchmark shares, so at any prices
    their unit costs are equal and, with zero profits, p_parts = p_assembly = the unsplit sector's
    price. Intermediate buyers of the sector's good now buy parts, final buyers assembled goods, each
    through its own Armington nest with the unsplit benchmark shares (sourcing by agent) and the
    tariffs of their use, so every demand is the unsplit one. Market clearing then fixes each stage's
    output, and their sum (constant returns, one price) is the unsplit sector's output; income,
    tariff revenue and welfare are unchanged.
    """
    bench = random_benchmark(3, 3, seed=17)
    split = split_stages(bench, ["S2", "S3"], rule="proportional")
    t = bench.tariff_0.copy()
    t[:, :, 0, :] *= 0.3  # R1 cuts its tariffs by 70%
    t[0, 1, 2, 0] += 0.1  # and R3 raises one on R1's parts of S2
    origin = [bench.sectors.index(stage_mapping(split)[j]) for j in split.sectors]
    runs = [
        cge.Model(b, backend=backend).solve(cge.Scenario(tariff=tt))
        for b, tt in ((bench, t), (split, t[:, origin]))
    ]
    (w0, w1) = (r.welfare()["ev"] for r in runs)
    np.testing.assert_allclose(w1.to_numpy(), w0.to_numpy(), rtol=1e-8, atol=1e-8)
    p0, p1 = runs[0].prices()["price"], runs[1].prices()["price"]
    for reg in bench.regions:
        assert abs(p1[(reg, "S1")] - p0[(reg, "S1")]) <= 1e-8
        for j in ("S2", "S3"):
            assert abs(p1[(reg, f"{j}_parts")] - p0[(reg, j)]) <= 1e-8
            assert abs(p1[(reg, f"{j}_assembly")] - p0[(reg, j)]) <= 1e-8
    q0, q1 = runs[0].output()["output"], runs[1].output()["output"]
    for reg in bench.regions:
        for j in ("S2", "S3"):
            total = q1[(reg, f"{j}_parts")] + q1[(reg, f"{j}_assembly")]
            assert abs(total - q0[(reg, j)]) <= 1e-8 * max(1.0, q0[(reg, j)])


@pytest.mark.solver
def test_split_eastasia_replicates_the_benchmark(eastasia):
    split = split_stages(eastasia)
    assert cge.Model(split, backend="fast").residuals().abs().max() <= 1e-9


SCENARIOS = __import__("pathlib").Path(__file__).resolve().parents[1] / "experiments" / "stages.toml"


@pytest.mark.unit
def test_scenario_files_request_the_split(tmp_path):
    from cge.scenario import load_spec

    spec = load_spec(SCENARIOS)
    bench = spec.load_benchmark()
    assert "machinery_parts" in bench.sectors and bench.metadata["stages"]["rule"] == "assembly_first"
    # the parts cut and the removal of tariffs on assembled goods forgo the same benchmark revenue
    forgone = {}
    for sc in spec.scenarios[:2]:
        t = sc.build(bench, spec.region_groups, spec.sector_groups).tariff
        paid = lambda tt: np.einsum("risj,ris->", bench.z_0, tt[..., 0]) + np.einsum("risa,ris->", bench.f_0, tt[..., 1])  # noqa: E731
        forgone[sc.name] = paid(bench.tariff_0) - paid(t)
    assert forgone["parts_cut"] == pytest.approx(forgone["assembly_free"], rel=1e-5)
    for table, message in (
        ('{ name = "eastasia-2011", split_stages = "machinery" }', "split_stages = 'machinery'; must be true"),
        ('{ name = "eastasia-2011", stage_rule = "proportional" }', "without split_stages"),
        ('{ name = "eastasia-2011", split_stages = true, stage_rule = "even" }', "stage_rule = 'even'"),
        ('{ name = "eastasia-2011", split_stages = true, parts_cap = 1 }', "parts_cap = 1"),
        ('{ name = "eastasia-2011", split_stages = true, stages = 2 }', "unknown key 'stages'"),
    ):
        path = tmp_path / "bad.toml"
        path.write_text(f'benchmark = {table}\n[[scenario]]\nname = "base"\n')
        with pytest.raises(cge.ScenarioError, match=message.replace("(", r"\(").replace("[", r"\[")):
            load_spec(path)
    path.write_text('benchmark = { name = "eastasia-2011", split_stages = ["cars"] }\n[[scenario]]\nname = "base"\n')
    with pytest.raises(cge.ScenarioError, match=r"bad.toml: \[benchmark\] split_stages: .*unknown: \['cars'\]"):
        load_spec(path).load_benchmark()


@pytest.mark.solver
def test_stage_tariffs_table_is_what_its_script_writes(tmp_path):
    """experiments/stage_tariffs.md is generated: no number in it is typed by hand."""
    import importlib.util
    import sys

    path = SCENARIOS.parent / "stage_tariffs.py"
    spec = importlib.util.spec_from_file_location("stage_tariffs", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("stage_tariffs", mod)
    spec.loader.exec_module(mod)
    written = mod.main(tmp_path / "stage_tariffs.md")
    assert written.read_text() == (SCENARIOS.parent / "stage_tariffs.md").read_text()


@pytest.mark.solver
def test_a_split_in_chosen_regions_only():
    """``regions``: the rule in the chosen regions, proportional stages elsewhere (same sectors everywhere).

    Outside the chosen region both stages have the sector's cost structure, so after a shock their
    prices stay equal (one unit cost); in the chosen region the assembly-first stages differ.
    """
    bench = random_benchmark(3, 3, seed=18)
    split = split_stages(bench, ["S2"], regions=["R1"], parts_cap=0.3)
    assert split.metadata["stages"]["regions"] == ["R1"]
    _close(merge_stages(split), bench)
    p, a = split.sectors.index("S2_parts"), split.sectors.index("S2_assembly")
    x = split.output
    shares = [np.concatenate([split.z_0[:, :, s, m].ravel(), split.fp_0[s, m]]) / x[s, m] for s in range(3) for m in (p, a)]
    for s in (1, 2):  # R2, R3: the sector's structure in both stages
        np.testing.assert_allclose(shares[2 * s], shares[2 * s + 1], rtol=1e-12, atol=1e-15)
    assert np.abs(shares[0] - shares[1]).max() > 1e-3  # R1: assembly first
    with pytest.raises(cge.BenchmarkError, match=r"unknown: \['R9'\]"):
        split_stages(bench, ["S2"], regions=["R9"])
    model = cge.Model(split, backend="fast")
    assert model.residuals().abs().max() <= 1e-9
    t = split.tariff_0.copy()
    t[:, :, 0] *= 0.2
    res = model.solve(cge.Scenario(tariff=t))
    prices = res.solution.p
    np.testing.assert_allclose(prices[1:, p], prices[1:, a], rtol=1e-10)
    assert abs(prices[0, p] - prices[0, a]) > 1e-5
