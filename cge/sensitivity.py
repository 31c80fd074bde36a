r"""Systematic sensitivity analysis: results with their uncertainty over the elasticities.

A :class:`Specification` says which elasticities vary and how, and the design that samples them:

* ``"monte_carlo"``: ``draws`` independent draws from a seeded generator;
* ``"quadrature"``: Stroud's order-3 points, the Gaussian quadrature of Arndt (1996) and DeVuyst and
  Preckel (1997): :math:`2n` equally weighted points for :math:`n` independent, symmetric
  variables, which reproduce their means, variances, covariances and third moments exactly, so the
  mean of any polynomial of degree 3 in the elasticities is exact;
* ``"sets"``: the published elasticity sets stored with the benchmark, equally weighted (a discrete
  distribution over the literature).

Each :class:`Vary` rule moves a group of elasticities (``sigma_dm`` and ``sigma_mm`` together, say)
by one common relative deviation, :math:`\sigma = \bar\sigma (1 + s\,u)`, around the model's chosen
values :math:`\bar\sigma`, where ``s`` is the rule's ``spread`` and ``u`` is uniform on
:math:`[-1, 1]`, symmetric triangular on :math:`[-1, 1]`, or standard normal truncated where
:math:`\sigma` would fall below zero; ``by_sector`` gives each sector its own deviation.

:func:`sweep` solves every draw of every scenario through any :mod:`concurrent.futures` executor or
Dask distributed (a ``LocalCluster`` of ``jobs`` workers, or ``scheduler=ADDRESS``): the
benchmark and scenarios are scattered once, each worker builds the model once and changes only its
elasticities for each draw (:meth:`cge.Model.with_elasticities`), each draw starts from the solution
at the chosen elasticities, and workers return tidy frames. A draw that fails is recorded, not
fatal. Every draw is solved from the same start whatever worker takes it, so the same seed gives the
same tables (to the bit) with any number of workers.

References: Arndt, C. (1996), An introduction to systematic sensitivity analysis via Gaussian
quadrature, GTAP Technical Paper 2, Purdue University. DeVuyst, E. A. and Preckel, P. V. (1997),
Sensitivity analysis revisited: a quadrature-based approach, Journal of Policy Modeling 19(2),
175-185. Stroud, A. H. (1957), Remarks on the disposition of points in numerical integration
formulas, Mathematical Tables and Other Aids to Computation 11(60), 257-261.
"""

from __future__ import annotations

import math
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .benchmark import ELASTICITIES
from .scenario import ScenarioError, _select

DESIGNS = ("monte_carlo", "quadrature", "sets")
DISTRIBUTIONS = ("uniform", "triangular", "normal")
DEFAULT_VARIABLES = ("welfare_ev", "welfare_ev_pct")
"""Variables of :meth:`cge.Results.tidy` kept for every draw unless a specification names others."""
KEYS = ["scenario", "variable", "region", "sector", "partner", "unit"]
Z95 = 1.6448536269514722
"""Standard normal 95% quantile: the band of a quadrature design is the mean plus or minus this many sd."""


class SensitivityError(ScenarioError):
    """A sensitivity specification is not valid."""


# ---------------------------------------------------------------------- specification
@dataclass(frozen=True)
class Vary:
    """A group of elasticities moved by one common relative deviation (see the module docstring)."""

    elasticities: tuple = ("sigma_dm", "sigma_mm")
    distribution: str = "uniform"
    spread: float = 0.5
    sectors: object = "all"
    by_sector: bool = False

    def __post_init__(self):
        names = (self.elasticities,) if isinstance(self.elasticities, str) else tuple(self.elasticities)
        object.__setattr__(self, "elasticities", names)
        unknown = [n for n in names if n not in ELASTICITIES]
        if not names or unknown:
            raise SensitivityError(f"vary: elasticities {list(names)}; each must be one of {list(ELASTICITIES)}")
        if self.distribution not in DISTRIBUTIONS:
            raise SensitivityError(f"vary: distribution = {self.distribution!r}; allowed: {list(DISTRIBUTIONS)}")
        s = self.spread
        if isinstance(s, bool) or not isinstance(s, (int, float)) or not math.isfinite(s) or s <= 0:
            raise SensitivityError(f"vary: spread = {s!r}; must be a number > 0 (relative to the chosen values)")
        if self.distribution != "normal" and s > 1:
            raise SensitivityError(f"vary: spread = {s!r} would make {self.distribution} elasticities negative; must be at most 1")

    def lower(self) -> float:
        """Lowest value of the standard deviation ``u`` (where the elasticity reaches zero)."""
        return -1.0 / self.spread if self.distribution == "normal" else -1.0

    def from_uniform(self, q: np.ndarray) -> np.ndarray:
        """The deviations ``u`` at probabilities ``q`` in (0, 1) (inverse distribution function)."""
        if self.distribution == "uniform":
            return 2.0 * q - 1.0
        if self.distribution == "triangular":
            return np.where(q < 0.5, np.sqrt(2.0 * q) - 1.0, 1.0 - np.sqrt(2.0 * (1.0 - q)))
        from scipy.stats import norm

        low = norm.cdf(self.lower())
        return norm.ppf(low + q * (1.0 - low))

    def moments(self) -> tuple[float, float]:
        """Mean and standard deviation of ``u``."""
        if self.distribution == "uniform":
            return 0.0, 1.0 / math.sqrt(3.0)
        if self.distribution == "triangular":
            return 0.0, 1.0 / math.sqrt(6.0)
        from scipy.stats import truncnorm

        dist = truncnorm(self.lower(), np.inf)
        return float(dist.mean()), float(dist.std())

    def columns(self, bench, sector_groups: dict) -> list:
        """Sector positions each deviation moves: one list of all selected sectors, or one per sector."""
        picked = list(np.flatnonzero(_select(self.sectors, list(bench.sectors), {**sector_groups}, "vary.sectors")))
        return [[j] for j in picked] if self.by_sector else [picked]


@dataclass(frozen=True)
class Specification:
    """Which elasticities vary, how, and the design that samples them (see the module docstring).

    ``variables`` are names of the ``variable`` column of :meth:`cge.Results.tidy` kept for each
    draw; ``keep_draws`` asks for the value of every draw besides the summary; ``scenarios``
    restricts the analysis to some scenarios of a file.
    """

    design: str = "monte_carlo"
    draws: int = 100
    seed: int = 0
    vary: tuple = (Vary(),)
    sets: tuple | None = None
    variables: tuple = DEFAULT_VARIABLES
    keep_draws: bool = False
    scenarios: tuple | None = None

    def __post_init__(self):
        if self.design not in DESIGNS:
            raise SensitivityError(f"design = {self.design!r}; allowed: {list(DESIGNS)}")
        for key in ("draws", "seed"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, int) or v < (1 if key == "draws" else 0):
                raise SensitivityError(f"{key} = {v!r}; must be a whole number >= {1 if key == 'draws' else 0}")
        object.__setattr__(self, "vary", tuple(self.vary))
        if self.design != "sets" and not self.vary:
            raise SensitivityError(f"design {self.design!r} needs at least one [[sensitivity.vary]] rule")
        if not all(isinstance(v, Vary) for v in self.vary):
            raise SensitivityError("vary must hold cge.sensitivity.Vary rules")
        object.__setattr__(self, "variables", tuple(self.variables))
        if not self.variables or not all(isinstance(v, str) for v in self.variables):
            raise SensitivityError(f"variables = {list(self.variables)!r}; must be a non-empty list of variable names of Results.tidy")

    @classmethod
    def from_table(cls, table, where: str = "[sensitivity]") -> "Specification":
        """The specification of a scenario file's ``[sensitivity]`` table; errors name the key."""
        if not isinstance(table, dict):
            raise SensitivityError(f"{where}: must be a table")
        allowed = {"design", "draws", "seed", "vary", "sets", "variables", "keep_draws", "scenarios"}
        unknown = sorted(set(table) - allowed)
        if unknown:
            raise SensitivityError(f"{where}: unknown key {unknown[0]!r}; allowed: {sorted(allowed)}")
        rules = table.get("vary", [])
        if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
            raise SensitivityError(f"{where}: vary must be an array of tables ([[sensitivity.vary]])")
        vary = []
        for n, rule in enumerate(rules):
            bad = sorted(set(rule) - {"elasticities", "distribution", "spread", "sectors", "by_sector"})
            if bad:
                raise SensitivityError(f"{where} vary {n + 1}: unknown key {bad[0]!r}; allowed: elasticities, distribution, spread, sectors, by_sector")
            try:
                vary.append(Vary(**rule))
            except SensitivityError as exc:
                raise SensitivityError(f"{where} vary {n + 1}: {exc}") from None
        opts = {k: table[k] for k in ("design", "draws", "seed", "keep_draws") if k in table}
        for key in ("sets", "variables", "scenarios"):
            if key in table:
                v = table[key]
                if not isinstance(v, list) or not v or not all(isinstance(x, str) for x in v):
                    raise SensitivityError(f"{where}: {key} = {v!r}; must be a non-empty list of names")
                opts[key] = tuple(v)
        if "keep_draws" in opts and not isinstance(opts["keep_draws"], bool):
            raise SensitivityError(f"{where}: keep_draws = {opts['keep_draws']!r}; must be true or false")
        if vary:
            opts["vary"] = tuple(vary)  # without rules: sigma_dm and sigma_mm together, uniform +/- 50%
        try:
            return cls(**opts)
        except SensitivityError as exc:
            raise SensitivityError(f"{where}: {exc}") from None

    # ------------------------------------------------------------------ design
    def points(self, bench, sigma: dict, sector_groups: dict | None = None) -> tuple[list, pd.DataFrame]:
        """Elasticities of every draw around ``sigma`` (the chosen values, per sector).

        Returns the overrides of each draw (``{name: array over sectors}``, for
        :meth:`cge.Model.with_elasticities`) and the design as a long frame ``draw, label,
        elasticity, sector, value``.
        """
        if self.design == "sets":
            return self._sets(bench, sigma)
        groups = sector_groups or {}
        cols = [(rule, c) for rule in self.vary for c in rule.columns(bench, groups)]
        if self.design == "monte_carlo":
            q = np.random.default_rng(self.seed).random((self.draws, len(cols)))
            u = np.column_stack([rule.from_uniform(q[:, k]) for k, (rule, _) in enumerate(cols)])
        else:
            x = stroud3(len(cols))
            u = np.column_stack([m + sd * x[:, k] for k, (m, sd) in enumerate(rule.moments() for rule, _ in cols)])
            low = np.array([rule.lower() for rule, _ in cols])
            if (u < low).any():
                raise SensitivityError("quadrature points fall below zero elasticities; use a smaller spread")
        overrides = []
        for row in u:
            values = {}
            for (rule, sectors), dev in zip(cols, row):
                for name in rule.elasticities:
                    arr = values.setdefault(name, np.array(sigma[name], dtype=float))
                    arr[sectors] = sigma[name][sectors] * (1.0 + rule.spread * dev)
            overrides.append(values)
        return overrides, _design_frame(bench, overrides, [""] * len(overrides))

    def _sets(self, bench, sigma: dict) -> tuple[list, pd.DataFrame]:
        stored = bench.metadata.get("elasticity_sets", {})
        names = list(self.sets or sorted(stored))
        missing = [n for n in names if n not in stored]
        if not names or missing:
            raise SensitivityError(f"elasticity sets {missing or names} are not stored with this benchmark; available: {sorted(stored)}")
        overrides = [{k: np.asarray(v, dtype=float) for k, v in stored[n].items() if k in ELASTICITIES} for n in names]
        return overrides, _design_frame(bench, overrides, names)


def stroud3(n: int) -> np.ndarray:
    """Stroud's (1957) order-3 points for ``n`` independent variables of mean 0 and variance 1: ``(2n, n)``.

    Equally weighted, they reproduce every moment of order 1, 2 and 3 of symmetric distributions
    (Arndt 1996; DeVuyst and Preckel 1997): point ``k`` has coordinates
    :math:`\\sqrt2 \\cos((2r-1)k\\pi/n)` and :math:`\\sqrt2 \\sin((2r-1)k\\pi/n)` for
    :math:`r = 1, \\ldots, \\lfloor n/2 \\rfloor`, and :math:`(-1)^k` last when ``n`` is odd.
    """
    if n < 1:
        raise SensitivityError("quadrature needs at least one varying elasticity")
    k = np.arange(1, 2 * n + 1)[:, None]
    out = np.empty((2 * n, n))
    for r in range(1, n // 2 + 1):
        angle = (2 * r - 1) * k[:, 0] * np.pi / n
        out[:, 2 * r - 2] = np.sqrt(2.0) * np.cos(angle)
        out[:, 2 * r - 1] = np.sqrt(2.0) * np.sin(angle)
    if n % 2:
        out[:, n - 1] = np.where(k[:, 0] % 2 == 0, 1.0, -1.0)
    return out


def _design_frame(bench, overrides: list, labels: list) -> pd.DataFrame:
    rows = [
        (d, labels[d], name, sector, float(v))
        for d, values in enumerate(overrides)
        for name, arr in values.items()
        for sector, v in zip(bench.sectors, np.broadcast_to(arr, (bench.n_sectors,)))
    ]
    return pd.DataFrame(rows, columns=["draw", "label", "elasticity", "sector", "value"])


# ---------------------------------------------------------------------- execution
@dataclass
class _Context:
    """What every worker needs, scattered once: the benchmark, scenarios, model options and starts."""

    bench: object
    scenarios: list
    model: dict
    variables: tuple | None
    decompose: int | bool
    starts: dict
    token: str = field(default_factory=lambda: uuid.uuid4().hex)


_LOCAL = threading.local()


def _worker_model(ctx: _Context):
    """The model at the chosen elasticities, built once per worker thread and sweep."""
    from .solve import Model

    cache = getattr(_LOCAL, "models", None)
    if cache is None or cache[0] != ctx.token:
        _LOCAL.models = cache = (ctx.token, Model(ctx.bench, **ctx.model))
    return cache[1]


def _solve_chunk(ctx: _Context, chunk: list) -> tuple[pd.DataFrame | None, list, float]:
    """Solve the draws ``[(draw, overrides)]`` of every scenario; tidy values, failures and CPU seconds."""
    import time

    from threadpoolctl import threadpool_limits

    cpu = time.thread_time()
    frames, failures = [], []
    with threadpool_limits(1):  # small factorisations: threads only contend on a shared machine
        central = _worker_model(ctx)
        for draw, overrides in chunk:
            try:
                model = central.with_elasticities(overrides) if overrides else central
            except Exception as exc:  # noqa: BLE001 - a draw's failure is recorded, not fatal
                failures += [(draw, sc.name, _message(exc)) for sc in ctx.scenarios]
                continue
            for sc in ctx.scenarios:
                try:
                    res = _solve_from(model, sc, ctx.starts.get(sc.name), ctx.decompose)
                    df = res.tidy(variables=ctx.variables)
                except Exception as exc:  # noqa: BLE001
                    failures.append((draw, sc.name, _message(exc)))
                    continue
                df.insert(0, "draw", draw)
                frames.append(df)
    return (pd.concat(frames, ignore_index=True) if frames else None), failures, time.thread_time() - cpu


def _solve_from(model, scenario, start, decompose):
    """Solve from ``start`` (the solution at the chosen elasticities), from the benchmark if that fails."""
    from .solve import SolveError

    if start is not None:
        try:
            return model.solve(scenario, start=start, homotopy=False, decompose=decompose)
        except SolveError:
            pass
    return model.solve(scenario, decompose=decompose)


def _message(exc: Exception) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


@dataclass
class SweepResult:
    """Tidy values of every draw (column ``draw``), the central solve, and the draws that failed;
    the number of workers, the wall-clock time and the CPU time the workers spent on the draws."""

    values: pd.DataFrame
    central: pd.DataFrame
    failures: pd.DataFrame
    workers: int = 1
    seconds: float = float("nan")
    cpu_seconds: float = float("nan")


def sweep(
    bench,
    scenarios,
    draws: list | None = None,
    *,
    closure=None,
    sourcing: str = "agent",
    elasticities=None,
    backend: str = "auto",
    solver_options: dict | None = None,
    variables=DEFAULT_VARIABLES,
    decompose: bool | int = False,
    executor=None,
    jobs: int = 1,
    scheduler: str | None = None,
    chunks: int | None = None,
) -> SweepResult:
    """Solve every scenario at every draw of the elasticities; tidy frames, failures recorded.

    ``draws`` are elasticity overrides (``{name: value or array over sectors}``, as given by
    :meth:`Specification.points`), relative to the model's ``elasticities``; ``None`` solves the
    scenarios once. ``variables`` are kept of :meth:`cge.Results.tidy` (``None``: all).
    Execution: in this process (``jobs=1``, the default); on ``executor``, any
    :class:`concurrent.futures.Executor` or a ``dask.distributed.Client``; on a Dask scheduler at
    ``scheduler`` (an address); or on a Dask ``LocalCluster`` of ``jobs`` single-threaded
    workers. The tables do not depend on the choice, nor on the number of workers.
    """
    import time

    from .solve import Model

    scenarios = [scenarios] if not isinstance(scenarios, (list, tuple)) else list(scenarios)
    names = [s.name for s in scenarios]
    if len(set(names)) < len(names):
        raise ScenarioError(f"sweep: scenario names must be unique, got {names}")
    options = dict(closure=closure, sourcing=sourcing, elasticities=elasticities, backend=backend, solver_options=solver_options)
    t0 = time.perf_counter()
    model = Model(bench, **options)
    options["backend"] = model.backend  # the same backend on every worker
    central = {sc.name: model.solve(sc, decompose=decompose) for sc in scenarios}
    central_frame = pd.concat([r.tidy(variables=variables) for r in central.values()], ignore_index=True)
    missing = sorted(set(variables or ()) - set(central_frame["variable"]))
    if missing:
        known = sorted(set(next(iter(central.values())).tidy()["variable"]))
        raise SensitivityError(f"variables {missing} are not reported for this model; Results.tidy reports {known}")
    ctx = _Context(bench, scenarios, options, None if variables is None else tuple(variables), decompose,
                   {name: r.solution for name, r in central.items()})
    work = list(enumerate(draws if draws is not None else [None]))
    outputs, workers = _run(ctx, work, executor, jobs, scheduler, chunks)
    frames = [f for f, _, _ in outputs if f is not None]
    failures = pd.DataFrame([x for _, fl, _ in outputs for x in fl], columns=["draw", "scenario", "error"])
    if not frames:
        raise RuntimeError(f"sweep: every draw failed; first failure: {failures['error'].iloc[0] if len(failures) else 'none'}")
    values = pd.concat(frames, ignore_index=True).sort_values(["draw", "scenario"], kind="stable", ignore_index=True)
    if draws is None:
        values = values.drop(columns="draw")
    failures = failures.sort_values(["draw", "scenario"], kind="stable", ignore_index=True)
    return SweepResult(values, central_frame, failures, workers, time.perf_counter() - t0, sum(c for _, _, c in outputs))


def _chunks(work: list, n: int) -> list:
    size = max(1, math.ceil(len(work) / n))
    return [work[k : k + size] for k in range(0, len(work), size)]


WORKER_ENV = {"MALLOC_TRIM_THRESHOLD_": str(2**28), "MALLOC_MMAP_THRESHOLD_": str(2**24)}
"""Memory settings of local worker processes, read by the C library when a worker starts: Dask's
default trim threshold (64 kB) makes every array of a solve a fresh mapping of zeroed pages, which
triples the time of a solve; these keep the arrays on the heap."""
DASK_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    **{f"distributed.nanny.pre-spawn-environ.{k}": v for k, v in WORKER_ENV.items()},
}
"""Dask settings of the clusters this module starts: :data:`WORKER_ENV`, no statistical profiler
and a slow event-loop tick (both take the interpreter lock from a worker's solves every few ms)."""


@contextmanager
def dask_client(jobs: int = 2, scheduler: str | None = None, processes: bool = True):
    """A ``dask.distributed.Client`` of a scheduler at ``scheduler``, or of a new ``LocalCluster`` of
    ``jobs`` single-threaded workers (processes, or threads of this process), closed on exit."""
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set(DASK_CONFIG):
        if scheduler is not None:
            with Client(scheduler) as client:
                yield client
            return
        with LocalCluster(n_workers=jobs, threads_per_worker=1, processes=processes, dashboard_address=None) as cluster, Client(cluster) as client:
            client.wait_for_workers(jobs)
            yield client


def _run(ctx: _Context, work: list, executor, jobs: int, scheduler, chunks) -> tuple[list, int]:
    """Outputs of :func:`_solve_chunk` over chunks of ``work``, in order, and the number of workers."""
    if executor is None and scheduler is None and jobs <= 1:
        return [_solve_chunk(ctx, work)], 1
    if executor is None:
        with dask_client(jobs, scheduler) as client:
            return _run_dask(ctx, work, client, chunks)
    if type(executor).__module__.startswith("distributed"):
        return _run_dask(ctx, work, executor, chunks)
    workers = getattr(executor, "_max_workers", jobs) or 1
    futures = [executor.submit(_solve_chunk, ctx, part) for part in _chunks(work, chunks or 4 * workers)]
    return [f.result() for f in futures], workers


def _run_dask(ctx: _Context, work: list, client, chunks) -> tuple[list, int]:
    workers = max(1, len(client.scheduler_info(n_workers=-1).get("workers", {}))) if hasattr(client, "scheduler_info") else 1
    shared = client.scatter(ctx, broadcast=True)
    futures = [client.submit(_solve_chunk, shared, part, pure=False) for part in _chunks(work, chunks or 4 * workers)]
    return client.gather(futures), workers


# ---------------------------------------------------------------------- summaries
def summarise(values: pd.DataFrame, central: pd.DataFrame | None = None, band: str = "empirical") -> pd.DataFrame:
    """Mean, standard deviation, 5-95% band and sign fractions of every reported cell over the draws.

    ``values`` is tidy with a ``draw`` column (failed draws absent). ``band``: ``"empirical"``
    (5th and 95th percentiles of the draws) or ``"normal"`` (mean -/+ 1.645 sd, for quadrature
    designs whose few points carry moments, not quantiles). ``share_positive`` is the fraction of
    draws with a value above zero, ``same_sign`` the fraction whose sign is that of ``central``
    (the value at the chosen elasticities).
    """
    wide = values.set_index(KEYS + ["draw"])["value"].unstack("draw")
    v = wide.to_numpy(dtype=float)
    ok = np.isfinite(v)
    n = ok.sum(axis=1)
    mean = np.nanmean(v, axis=1)
    sd = np.sqrt(np.nanmean((v - mean[:, None]) ** 2, axis=1))
    if band == "normal":
        low, high = mean - Z95 * sd, mean + Z95 * sd
    else:
        low, high = np.nanquantile(v, 0.05, axis=1), np.nanquantile(v, 0.95, axis=1)
    out = wide.index.to_frame(index=False)
    cen = np.full(len(out), np.nan)
    if central is not None:
        cen = central.set_index(KEYS)["value"].reindex(wide.index).to_numpy(dtype=float)
    out["central"] = cen
    out["mean"], out["sd"], out["p05"], out["p95"] = mean, sd, low, high
    out["share_positive"] = np.where(ok, v > 0, False).sum(axis=1) / n
    out["same_sign"] = np.where(ok, np.sign(v) == np.sign(cen)[:, None], False).sum(axis=1) / n
    out["draws"] = n
    return out


@dataclass
class Analysis:
    """A sensitivity analysis: its specification, design, the draws' values and their summary."""

    spec: Specification
    design: pd.DataFrame
    sweep: SweepResult

    @property
    def values(self) -> pd.DataFrame:
        return self.sweep.values

    @property
    def failures(self) -> pd.DataFrame:
        return self.sweep.failures

    def summary(self) -> pd.DataFrame:
        """:func:`summarise` of the draws, with the band the design calls for."""
        return summarise(self.values, self.sweep.central, band="normal" if self.spec.design == "quadrature" else "empirical")


def analyse(spec: Specification, bench, scenarios, sector_groups: dict | None = None, **options) -> Analysis:
    """Run a :class:`Specification` on scenarios of a benchmark; ``options`` go to :func:`sweep`."""
    from .calibrate import calibrate

    sigma = calibrate(bench, sourcing=options.get("sourcing", "agent"), elasticities=options.get("elasticities")).sigma
    draws, design = spec.points(bench, sigma, sector_groups)
    result = sweep(bench, scenarios, draws, variables=spec.variables, **options)
    return Analysis(spec, design, result)


# ---------------------------------------------------------------------- scenario files
def analyse_spec(spec, executor=None, jobs: int = 1, scheduler: str | None = None) -> tuple:
    """Run the ``[sensitivity]`` table of a scenario file (:func:`cge.scenario.load_spec`).

    Scenarios sharing model options are swept together (one model per group, as ``cge run``
    builds them). Returns the benchmark and the :class:`Analysis`.
    """
    from .closure import Closure
    from .experiment import _model_key, check_spec

    if spec.sensitivity is None:
        raise SensitivityError(f"{spec.path}: no [sensitivity] table")
    sens = spec.sensitivity
    bench, built = check_spec(spec)
    groups: dict = {}
    for sc, scenario in zip(spec.scenarios, built):
        if sens.scenarios is None or sc.name in sens.scenarios:
            groups.setdefault(_model_key(spec, sc), []).append(scenario)
    parts, designs = [], []
    for (closure_d, el_d, sourcing, backend), scenarios in groups.items():
        options = dict(
            closure=Closure(**dict(closure_d)),
            sourcing=sourcing,
            elasticities={k: (list(v) if isinstance(v, tuple) else v) for k, v in el_d},
            backend=backend,
            executor=executor,
            jobs=jobs,
            scheduler=scheduler,
        )
        part = analyse(sens, bench, scenarios, sector_groups=spec.sector_groups, **options)
        part.design.insert(0, "scenarios", " ".join(s.name for s in scenarios))
        parts.append(part)
        designs.append(part.design)
    joined = SweepResult(
        *(pd.concat([getattr(p.sweep, k) for p in parts], ignore_index=True) for k in ("values", "central", "failures")),
        workers=parts[0].sweep.workers,
        seconds=sum(p.sweep.seconds for p in parts),
        cpu_seconds=sum(p.sweep.cpu_seconds for p in parts),
    )
    return bench, Analysis(sens, pd.concat(designs, ignore_index=True), joined)


def write(analysis: Analysis, bench, out, spec=None) -> list:
    """Write an analysis into folder ``out``: ``summary.csv``, ``design.csv``, ``failures.csv``,
    ``draws.csv`` (when the specification keeps draws), the figure of EV with its band and
    ``metadata.json``; returns the paths."""
    import json
    from pathlib import Path

    from . import __version__, figures, tables
    from .experiment import git_commit, json_default

    out = Path(out)
    files = []
    summary = analysis.summary()
    frames = {"summary": summary, "design": analysis.design, "failures": analysis.failures}
    if analysis.spec.keep_draws:
        frames["draws"] = analysis.values
    for stem, df in frames.items():
        df.to_csv(out / f"{stem}.csv", index=False)
        files.append(out / f"{stem}.csv")
    if (summary["variable"] == "welfare_ev_pct").any():
        files += figures.welfare_bands(summary, out / "figures", names=tables.Names.from_benchmark(bench))
    sens = analysis.spec
    meta = {
        "spec": None if spec is None else str(spec.path),
        "title": None if spec is None else spec.title,
        "package_version": __version__,
        "git_commit": git_commit(),
        "benchmark": {"name": bench.metadata.get("name"), "hash": bench.hash()},
        "sensitivity": {
            "design": sens.design,
            "draws": int(analysis.design["draw"].nunique()),
            "seed": sens.seed if sens.design == "monte_carlo" else None,
            "vary": [vars(v) for v in sens.vary] if sens.design != "sets" else [],
            "sets": sorted(set(analysis.design["label"])) if sens.design == "sets" else None,
            "variables": list(sens.variables),
            "band": "mean -/+ 1.645 sd" if sens.design == "quadrature" else "5th-95th percentiles of the draws",
        },
        "failed_draws": int(analysis.failures["draw"].nunique()),
        "workers": analysis.sweep.workers,
        "seconds": analysis.sweep.seconds,
    }
    (out / "metadata.json").write_text(json.dumps(meta, indent=2, default=json_default))
    files.append(out / "metadata.json")
    return files
