"""The fast backend's Newton system at scale: the per-commodity Jacobian and the factorisation by blocks.

* The Jacobian built one commodity at a time with sourcing by agent (``System._agent_flow_terms``,
  zero profit written straight into the matrix when unit costs are needed nowhere else) equals the
  construction from whole flow arrays, which a subclass with flows of its own keeps, to rounding:
  under Leontief defaults (the direct path), other elasticities and output taxes (the general
  path), and a fixed real wage, whose labour rows read the agents' price derivatives.
* The factorisation by blocks (zero profit x prices, goods markets x output, a Schur complement on
  the border) solves ``J d = f`` as one dense LU does; a Jacobian whose declared zero block is not
  zero is refused and ``"auto"`` then falls back to the dense LU.
* The flows a solution reports (``System.deliveries``) are those of ``System.flows``, bit for bit,
  and two solves from the benchmark give the same bytes.
"""

import numpy as np
import pytest

import cge
from cge.fast import FastModel
from cge.fast import solvers
from cge.fast.system import System
from cge.synthetic import random_benchmark

OTHER = dict(sigma_top=0.5, sigma_va=0.8, sigma_int=0.3, sigma_fd=0.7, sigma_dm=2.5, sigma_mm=5.0)
FIXED_WAGE = cge.Closure(labour="fixed_real_wage")


class WholeArrays(System):
    """The reduced system with flows of its own (the same ones): its Jacobian takes the whole-array path."""

    def flows(self, st):
        return super().flows(st)


def engine_at(R, S, seed=4, output_tax=False, **options):
    model = FastModel(random_benchmark(R, S, seed=seed), **options)
    engine = model.engine
    if output_tax:
        inst = engine._inst.source
        to = np.random.default_rng(2).uniform(-0.2, 0.3, size=inst.output_tax.shape)
        model._set_instruments(cge.Instruments(tariff=inst.tariff, iceberg=inst.iceberg, output_tax=to, transfer=inst.transfer))
        engine = model.engine
    x = np.random.default_rng(1).uniform(0.8, 1.2, size=engine.layout.n)
    return engine, engine.evaluate(x)


@pytest.mark.unit
@pytest.mark.parametrize("options", [dict(), dict(closure=FIXED_WAGE), dict(elasticities=OTHER, output_tax=True)],
                         ids=["Leontief", "fixed real wage", "other elasticities and output taxes"])
def test_per_commodity_jacobian_equals_whole_arrays(options):
    engine, st = engine_at(5, 4, **options)
    got = engine.system.jacobian(st)
    expected = WholeArrays(engine.layout).jacobian(st)
    assert np.count_nonzero(expected) > 4 * engine.layout.n
    assert np.abs(got - expected).max() <= 1e-13 * np.abs(expected).max()


@pytest.mark.unit
def test_block_factorisation_solves_as_dense_lu():
    engine, st = engine_at(14, 14)
    J = engine.system.jacobian(st)
    n = len(J)
    assert n >= solvers.BLOCK_MIN
    f = np.random.default_rng(5).normal(size=n)
    dense = solvers.factorise(J.copy(), "dense")(f)
    blocks = solvers.factorise_blocks(J, engine.system.block_pattern())(f)
    assert np.abs(J @ blocks - f).max() <= 1e-11 * np.abs(f).max()
    assert np.abs(blocks - dense).max() <= 1e-9 * np.abs(dense).max()
    single = solvers.factorise_blocks(J, engine.system.block_pattern(), single=True)(f)  # a chord step's accuracy
    assert np.abs(J @ single - f).max() <= 1e-3 * np.abs(f).max()


@pytest.mark.unit
def test_a_jacobian_without_the_zero_block_takes_the_dense_lu():
    engine, st = engine_at(14, 14)
    J = engine.system.jacobian(st)
    L = engine.layout
    J[L.row_zp, L.col_y + 1] = 0.5  # zero profit now depends on an output
    with pytest.raises(ValueError, match="zero block"):
        solvers.factorise_blocks(J, engine.system.block_pattern())
    f = np.random.default_rng(6).normal(size=len(J))
    d = solvers.factorise(J.copy(), "auto", blocks=engine.system.block_pattern())(f)
    assert np.abs(J @ d - f).max() <= 1e-11 * np.abs(f).max()


@pytest.mark.unit
def test_reported_flows_are_those_of_the_flow_arrays():
    engine, st = engine_at(5, 4, elasticities=OTHER)
    assert np.array_equal(engine.system.deliveries(st), engine.system.flows(st).Zb)


@pytest.mark.solver
def test_solves_from_the_benchmark_give_the_same_bytes():
    bench = random_benchmark(14, 14, seed=4)
    t = bench.tariff_0.copy()
    t[1:, :, 0, :] += 0.1  # the first region's import tariffs
    model = FastModel(bench)
    first = model.solve(cge.Scenario(tariff=t, name="rise"))
    x = model.engine.values().tobytes()
    model.reset()
    second = model.solve(cge.Scenario(tariff=t, name="rise"))
    assert model.engine.values().tobytes() == x
    assert np.asarray(first.solution.utility).tobytes() == np.asarray(second.solution.utility).tobytes()
    assert first.solution.max_residual <= 1e-10


def test_evaluation_by_agent_refuses_imports_outside_the_import_nest():
    """The evaluations by agent sum a nested commodity's imports in its import nest only: a layout with
    an import flow where the buyer has no nest would lose that flow, so it is refused by name."""
    from cge.fast.system import System
    from cge.synthetic import random_benchmark

    model = FastModel(random_benchmark(4, 3, seed=2))
    L = model.engine.layout
    i = int(np.flatnonzero(L.sig_mm != L.sig_dm)[0])
    r, s, b = (int(v[0]) for v in np.nonzero(L.flow[:, i] & (np.arange(L.R)[:, None, None] != np.arange(L.R)[None, :, None])))
    L.nest = L.nest.copy()
    L.nest[i, s, b] = False
    with pytest.raises(ValueError, match=rf"{L.params.sectors[i]} from {L.params.regions[r]} to {L.params.buyers[b]} in {L.params.regions[s]}"):
        System(L)


def test_page_policy_switches_numpy_huge_pages_off_for_large_jacobians_and_restores_them(monkeypatch):
    """Solves with a dense Jacobian from ``solvers.SMALL_PAGES_FROM`` bytes run without numpy's advice for
    huge pages, smaller ones with it; numpy's setting is left as found, and ``NUMPY_MADVISE_HUGEPAGE``
    decides when it is set."""
    switch = getattr(np, "_core", getattr(np, "core", None)).multiarray._set_madvise_hugepage
    before = switch(True)
    large, small = solvers.SMALL_PAGES_FROM, solvers.SMALL_PAGES_FROM - 1
    try:
        monkeypatch.delenv("NUMPY_MADVISE_HUGEPAGE", raising=False)
        with solvers.page_policy(large):
            assert switch(False) is False  # off inside
        assert switch(True) is True  # restored
        with solvers.page_policy(small):
            assert switch(True) is True  # numpy's default below the size
        outer, inner = solvers.page_policy(large), solvers.page_policy(large)  # overlapping, as in two threads
        outer.__enter__()
        inner.__enter__()
        outer.__exit__(None, None, None)
        assert switch(False) is False  # still off while one is inside
        inner.__exit__(None, None, None)
        assert switch(True) is True  # the last one out restores
        monkeypatch.setenv("NUMPY_MADVISE_HUGEPAGE", "1")
        with solvers.page_policy(large):
            assert switch(True) is True  # the user's choice stands
    finally:
        switch(before)
