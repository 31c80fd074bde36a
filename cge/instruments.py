"""Policy instruments: one typed object that scenarios build, homotopy interpolates, backends read.

Each instrument is declared once in :data:`SPECS` with its array axes, its benchmark value and the
values it may take. :class:`Instruments` holds one level of every instrument (levels, not changes)
plus the value of the numeraire. Adding an instrument means adding its :class:`Spec` here and
writing the economics it changes (its equations in both backends, its welfare term); the tests in
``tests/test_instruments.py`` check every declared instrument against both backends.

=================  =======================================  =========  =====================================
instrument         axes                                     benchmark  enters
=================  =======================================  =========  =====================================
``tariff``         (exporter, commodity, importer, use)     data       delivered price ``p tau (1 + t)``
``iceberg``        (exporter, commodity, importer, use)     1          delivered price; ``tau`` units shipped
``output_tax``     (region, sector)                         0          zero profit ``p = (1 + t^o) c``
``transfer``       (region,)                                data       income balance (the trade deficit)
``duty_exemption`` (region, sector)                         data (0)   delivered price of a sector's
                                                                       imported inputs ``p tau (1 + t (1 - e))``
``fixed_cost``     (exporter, commodity, importer)          1          zero cut-off profit of heterogeneous-
                                                                       firm sectors (:mod:`cge.melitz` only)
=================  =======================================  =========  =====================================

A negative ``output_tax`` is a production subsidy (GTAP's ``to`` below one). Its revenue, the
rate times the value of output at cost, goes to the region's household, as tariff revenue does.
``transfer`` is each region's net transfer from abroad, which finances its trade deficit; its
benchmark level is the benchmark's deficit and the world total cannot change. Setting it to zero
gives the balanced-trade counterfactual (:func:`cge.purge_deficits`). What it is worth after a shock
is set by the closure (:attr:`cge.Closure.transfer`).

``duty_exemption`` ``e[s, j]`` in [0, 1] is the share of the intermediate-use tariff that sector
``(s, j)`` does not pay on its imported inputs: export-processing regimes (China's processing trade
imports its inputs duty-free; Koopman, Wang and Wei 2012) and duty drawback. The sector's delivered
price of an import is ``p tau (1 + t (1 - e))`` and the importing region collects ``t (1 - e)`` on it;
final buyers and other sectors pay the full rate. Its benchmark level is the benchmark's
``duty_exemption_0`` (zero unless the table states one). A buyer-specific tariff needs each buyer to
choose its own import sources, so a non-zero exemption requires sourcing by agent: with one import
mix per commodity (``sourcing="common"``) every buyer of a region pays the same price for a route's
imports and the exemption has nothing to act on (:meth:`cge.sourcing.Sourcing.check` refuses it).

``fixed_cost`` is the fixed cost of serving a route (exporter, commodity, importer) relative to the
benchmark, paid in the exporter's input: trade facilitation that lowers the fixed rather than the
variable cost of exporting, or a fixed cost of proving origin. It acts in the heterogeneous-firm
(Melitz-Pareto) sectors of :class:`cge.melitz.MelitzModel`, which reads these instruments through
:meth:`cge.melitz.MelitzModel.from_instruments`; :class:`cge.Model` has no such sectors, and both
of its backends refuse a value other than 1 with an error naming the instrument.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .benchmark import USES

ROUTE_AXES = ("exporter", "commodity", "importer", "use")
ROUTE3_AXES = ("exporter", "commodity", "importer")
PRODUCER_AXES = ("region", "sector")


class InstrumentError(ValueError):
    """An instrument's values do not fit the benchmark or are not allowed."""


@dataclass(frozen=True)
class Spec:
    """Declaration of one instrument: axes, benchmark value, allowed range, meaning."""

    name: str
    axes: tuple
    benchmark: float | str  # a number, or the Benchmark attribute holding the benchmark levels
    lower: float  # values must exceed this
    description: str
    domestic_zero: bool = False  # routes only: must be zero on domestic flows (exporter == importer)
    sums_to_benchmark: bool = False  # the world total is that of the benchmark (transfers: the world budget)
    upper: float = np.inf  # values may not exceed this
    lower_allowed: bool = False  # the value ``lower`` itself is allowed (a closed interval)

    def shape(self, bench) -> tuple:
        sizes = {"exporter": bench.n_regions, "importer": bench.n_regions, "region": bench.n_regions,
                 "commodity": bench.n_sectors, "sector": bench.n_sectors, "use": len(USES)}
        return tuple(sizes[a] for a in self.axes)

    def labels(self, bench) -> list:
        names = {"exporter": bench.regions, "importer": bench.regions, "region": bench.regions,
                 "commodity": bench.sectors, "sector": bench.sectors, "use": list(USES)}
        return [list(names[a]) for a in self.axes]

    def benchmark_value(self, bench) -> np.ndarray:
        if isinstance(self.benchmark, str):
            return np.array(getattr(bench, self.benchmark), dtype=float)
        return np.full(self.shape(bench), float(self.benchmark))


SPECS = (
    Spec("tariff", ROUTE_AXES, "tariff_0", -1.0, "ad-valorem import tariff on the value at the border (incl. trade cost)", domestic_zero=True),
    Spec("iceberg", ROUTE_AXES, 1.0, 0.0, "iceberg trade cost: units shipped per unit delivered"),
    Spec("output_tax", PRODUCER_AXES, 0.0, -1.0, "ad-valorem tax on output at cost (negative: subsidy)"),
    Spec("transfer", ("region",), "net_transfer", -np.inf,
         "net transfer from abroad (trade deficit), in numeraire units scaled by the closure's transfer index", sums_to_benchmark=True),
    Spec("duty_exemption", PRODUCER_AXES, "duty_exemption_0", 0.0,
         "share of the intermediate-use tariff waived on a sector's imported inputs (processing regimes, duty drawback)",
         upper=1.0, lower_allowed=True),
    Spec("fixed_cost", ROUTE3_AXES, 1.0, 0.0,
         "fixed cost of serving a route relative to the benchmark, in the exporter's input (heterogeneous-firm sectors: cge.melitz)"),
)
"""Every policy instrument of the model, in a fixed order."""

NAMES = tuple(s.name for s in SPECS)
SPEC = {s.name: s for s in SPECS}


@dataclass(frozen=True)
class Instruments:
    """Levels of every policy instrument, and the value of the numeraire.

    Build with :meth:`benchmark` or :meth:`from_arrays`; arrays are read-only copies so that an
    ``Instruments`` never changes after it is made.
    """

    tariff: np.ndarray
    iceberg: np.ndarray
    output_tax: np.ndarray
    transfer: np.ndarray
    duty_exemption: np.ndarray | None = None  # None: no exemption (zeros of the output taxes' shape)
    fixed_cost: np.ndarray | None = None  # None: the benchmark's (ones of the routes' shape)
    numeraire_value: float = 1.0

    def __post_init__(self):
        if self.duty_exemption is None:
            object.__setattr__(self, "duty_exemption", np.zeros(np.shape(self.output_tax)))
        if self.fixed_cost is None:
            object.__setattr__(self, "fixed_cost", np.ones(np.shape(self.tariff)[:3]))
        for name in NAMES:
            arr = np.array(getattr(self, name), dtype=float)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "numeraire_value", float(self.numeraire_value))

    @classmethod
    def benchmark(cls, bench) -> "Instruments":
        """Every instrument at its benchmark level."""
        return cls(**{s.name: s.benchmark_value(bench) for s in SPECS}, numeraire_value=1.0)

    @classmethod
    def from_arrays(cls, bench, where: str = "scenario", numeraire_value: float = 1.0, **arrays) -> "Instruments":
        """Instruments from arrays by name; missing ones keep their benchmark levels; checked.

        Route instruments take ``(R, S, R)`` (same for both uses), ``(R, S, R, 2)`` or a scalar;
        producer instruments ``(R, S)`` or a scalar.
        """
        unknown = sorted(set(arrays) - set(NAMES))
        if unknown:
            raise InstrumentError(f"{where}: unknown instrument {unknown[0]!r}; available: {list(NAMES)}")
        values = {}
        for spec in SPECS:
            given = arrays.get(spec.name)
            values[spec.name] = spec.benchmark_value(bench) if given is None else _fit(spec, given, bench, where)
        out = cls(**values, numeraire_value=numeraire_value)
        out.check(bench, where)
        return out

    def check(self, bench, where: str = "scenario") -> None:
        """Raise :class:`InstrumentError` naming the first cell that is not allowed."""
        for spec in SPECS:
            arr = getattr(self, spec.name)
            if arr.shape != spec.shape(bench):
                raise InstrumentError(f"{where}: {spec.name} has shape {arr.shape}, expected {spec.shape(bench)} ({', '.join(spec.axes)})")
            bad = ~np.isfinite(arr) | ((arr < spec.lower) if spec.lower_allowed else (arr <= spec.lower)) | (arr > spec.upper)
            if bad.any():
                k = tuple(np.argwhere(bad)[0])
                allowed = f"{'>=' if spec.lower_allowed else '>'} {spec.lower:g}" + (f" and <= {spec.upper:g}" if np.isfinite(spec.upper) else "")
                raise InstrumentError(f"{where}: {spec.name} {_cell(spec, bench, k)} = {float(arr[k])!r} is not allowed (must be finite and {allowed})")
            if spec.sums_to_benchmark:
                gap = float(arr.sum() - spec.benchmark_value(bench).sum())
                if abs(gap) > 1e-9 * max(1.0, float(np.abs(bench.income).sum())):
                    raise InstrumentError(
                        f"{where}: {spec.name} adds up to {arr.sum():.6g} over regions, the benchmark's to "
                        f"{spec.benchmark_value(bench).sum():.6g}; transfers between regions must keep the world total"
                    )
            if spec.domestic_zero:
                dom = np.zeros(arr.shape, dtype=bool)
                R = bench.n_regions
                dom[np.arange(R), :, np.arange(R)] = True
                bad = dom & (arr != 0)
                if bad.any():
                    k = tuple(np.argwhere(bad)[0])
                    raise InstrumentError(f"{where}: {spec.name} on a domestic flow {_cell(spec, bench, k)} must be 0")
        if not np.isfinite(self.numeraire_value) or self.numeraire_value <= 0:
            raise InstrumentError(f"{where}: numeraire_value = {self.numeraire_value!r}; must be positive")

    def buyer_tariff(self, use_of_buyer) -> np.ndarray:
        """The tariff each buyer pays ``[r, i, s, b]`` (buyers: the sectors, then the final agents):
        the rate of its use, times ``1 - duty_exemption`` for a sector."""
        t = self.tariff[..., use_of_buyer]
        if self.duty_exemption.any():
            S = self.duty_exemption.shape[1]
            t = t.copy()
            t[..., :S] *= (1.0 - self.duty_exemption)[None, None]
        return t

    def toward(self, target: "Instruments", weight: float) -> "Instruments":
        """The point a share ``weight`` of the way from these instruments to ``target`` (homotopy)."""
        return Instruments(
            **{n: getattr(self, n) + weight * (getattr(target, n) - getattr(self, n)) for n in NAMES},
            numeraire_value=self.numeraire_value + weight * (target.numeraire_value - self.numeraire_value),
        )

    def changed(self, other: "Instruments") -> list[str]:
        """Names of the instruments that differ from ``other``."""
        out = [n for n in NAMES if not np.array_equal(getattr(self, n), getattr(other, n))]
        if self.numeraire_value != other.numeraire_value:
            out.append("numeraire_value")
        return out

    def __eq__(self, other) -> bool:
        return isinstance(other, Instruments) and not self.changed(other)

    __hash__ = None


def _fit(spec: Spec, value, bench, where: str) -> np.ndarray:
    """Bring a user array to the instrument's full shape; errors name the instrument and shapes."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InstrumentError(f"{where}: {spec.name} must be numbers, got {type(value).__name__}") from None
    shape = spec.shape(bench)
    if spec.axes == ROUTE_AXES and arr.ndim == 3:
        arr = np.repeat(arr[..., None], len(USES), axis=3)
    if arr.ndim not in (0, len(shape)):
        raise InstrumentError(f"{where}: {spec.name} has shape {np.shape(value)}; expected {shape} ({', '.join(spec.axes)})"
                              + (" or without the use axis" if spec.axes == ROUTE_AXES else "") + " or a scalar")
    try:
        return np.broadcast_to(arr, shape).copy()
    except ValueError:
        raise InstrumentError(f"{where}: {spec.name} has shape {np.shape(value)}; expected {shape} ({', '.join(spec.axes)})") from None


def _cell(spec: Spec, bench, k: tuple) -> str:
    labels = spec.labels(bench)
    return "(" + ", ".join(labels[n][k[n]] for n in range(len(k))) + ")"


assert tuple(f.name for f in fields(Instruments))[: len(NAMES)] == NAMES, "Instruments fields must follow SPECS"
