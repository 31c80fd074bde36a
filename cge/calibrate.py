"""Calibration: benchmark -> model parameters (pure functions, no Pyomo).

Every price is 1 in the benchmark; quantities are measured in benchmark-value units at basic prices,
so a buyer's benchmark price is ``1 + tariff_0``. Shares ``theta_*`` are benchmark value shares at
buyer prices. All equations of the model are written in relative form (each variable is 1 in the
benchmark), so their residuals are relative errors. A sector with a duty exemption ``e`` pays
``tariff_0 (1 - e)`` on its imported inputs, so ``Parameters.tariff_0`` (by buyer) holds that rate.

Buyers ``b`` are the using sectors followed by the final-demand agents of a region; use ``u(b)`` is
intermediate for sectors and final for agents.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .benchmark import ELASTICITIES, Benchmark, RegionsSectors
from .sourcing import MODES, Sourcing, sourcing_of

SOURCING = tuple(MODES)


class CalibrationError(ValueError):
    """The benchmark cannot be calibrated with the options asked for."""


@dataclass
class Parameters(RegionsSectors):
    """Calibrated parameters and the sparsity pattern of the model (arrays indexed by position)."""

    regions: list[str]
    sectors: list[str]
    factors: list[str]
    agents: list[str]
    sourcing: Sourcing
    sigma: dict[str, np.ndarray]
    d_0: np.ndarray  # (R, S, R, B) purchases at basic prices; B = sectors + agents
    tariff_0: np.ndarray  # (R, S, R, B) tariff faced by each buyer
    use_of_buyer: np.ndarray  # (B,) 0 intermediate, 1 final
    v_0: np.ndarray  # (R, S, R, B) purchases at buyer prices
    qa_0: np.ndarray  # (R, B, S) Armington composite of buyer b in s of commodity i, [s, b, i]
    m_0: np.ndarray  # (R, B, S) import composite [s, b, i] (agent sourcing)
    m_common_0: np.ndarray  # (R, S) import composite [s, i] summed over buyers (common sourcing)
    x_0: np.ndarray  # (R, S) output at basic prices
    va_0: np.ndarray  # (R, S) value added (factor payments)
    int_0: np.ndarray  # (R, S) intermediate inputs at buyer prices
    fp_0: np.ndarray  # (R, S, F) factor payments
    fd_0: np.ndarray  # (R, A) final expenditure of each agent at buyer prices
    income_0: np.ndarray  # (R,) regional household income
    transfer_0: np.ndarray  # (R,) net transfer from abroad
    alpha: np.ndarray  # (R, A) Cobb-Douglas shares of agents in income
    employment_0: np.ndarray | None
    persons_weight: np.ndarray | None = None  # (R, S, F) persons for labour where the benchmark has them, value otherwise
    household: int = 0
    sigma_fd: float = 1.0
    notes: list[str] = field(default_factory=list)
    tariff_use_0: np.ndarray | None = None  # (R, S, R, 2) benchmark tariff by use, before duty exemptions
    duty_exemption_0: np.ndarray | None = None  # (R, S) share of the intermediate-use tariff each sector does not pay
    size_group: np.ndarray | None = None  # (S,) commodity group of each sector under the firm-size nest, None: no nest
    groups: list[str] | None = None  # labels of the commodity groups (the original sectors)

    @property
    def size_nest(self) -> bool:
        """True when buyers choose between firm sizes of one commodity through a CES nest (:mod:`cge.fast.sizenest`)."""
        return self.size_group is not None

    @property
    def buyers(self) -> list[str]:
        return list(self.sectors) + list(self.agents)

    def one_level(self, i: int) -> bool:
        """True when commodity ``i`` is sourced through a single CES level (sigma_dm == sigma_mm)."""
        return bool(self.sigma["sigma_dm"][i] == self.sigma["sigma_mm"][i])


SIZE_RULE_OF_TWO = 2.0
"""Default ``sigma_size`` of a commodity: this multiple of its ``sigma_mm`` (see :func:`size_groups`)."""


def calibrate(bench: Benchmark, sourcing: str = "agent", elasticities: dict | None = None, size_nest: bool | None = None) -> Parameters:
    """Derive the model's parameters from a benchmark.

    ``size_nest``: buyers choose between the SME and large-firm supplies of one commodity from one
    source through a CES nest (:func:`size_groups`); ``None`` (default) turns it on when the
    benchmark was split by firm size (``metadata["firm_size"]``), ``False`` treats the sizes as
    distinct commodities. Its elasticity is the key ``"sigma_size"`` of ``elasticities``.

    ``elasticities`` overrides the benchmark's (scalar or per-sector values); its key ``"set"`` (or
    a plain string) first selects a named elasticity set stored with the benchmark (metadata
    ``elasticity_sets``: the published sets of the built-in benchmarks). With
    ``sourcing="common"`` all buyers of a region share one import mix per commodity (as in the
    standard GTAP model); tariffs and trade costs must then be the same for both uses.
    """
    rule = sourcing_of(sourcing)
    R, S, A = bench.n_regions, bench.n_sectors, len(bench.agents)
    if bench.metadata.get("net_tax_factors"):
        raise CalibrationError(
            f"factors {bench.metadata['net_tax_factors']} are net output taxes (a counterfactual table with output taxes): "
            "such a table is for accounting (GVC indicators); a model is calibrated on benchmarks whose factors are factors"
        )
    overlap = set(bench.sectors) & set(bench.agents)
    if overlap:
        raise CalibrationError(f"sector and agent labels overlap: {sorted(overlap)}")
    sigma = {k: np.array(v, dtype=float) for k, v in bench.elasticities.items()}
    if elasticities is not None and not isinstance(elasticities, (str, dict)):
        raise CalibrationError(f"elasticities = {elasticities!r}; must be a dict such as {{'sigma_mm': 8.0}} or the name of a stored set")
    overrides = {"set": elasticities} if isinstance(elasticities, str) else dict(elasticities or {})
    name = overrides.pop("set", None)
    if name is not None:
        sets = bench.metadata.get("elasticity_sets", {})
        if name not in sets:
            raise CalibrationError(f"elasticity set {name!r} is not stored with this benchmark; available: {sorted(sets)}")
        sigma.update({k: np.asarray(v, dtype=float) for k, v in sets[name].items() if k in ELASTICITIES})
    size_sigma = overrides.pop("sigma_size", None)
    for k, v in overrides.items():
        if k not in ELASTICITIES:
            raise CalibrationError(f"elasticities: unknown parameter {k!r}; allowed: {list(ELASTICITIES) + ['sigma_size']}")
        try:
            arr = np.broadcast_to(np.asarray(v, dtype=float), (S,)).copy()
        except (TypeError, ValueError):
            raise CalibrationError(
                f"elasticities: {k} = {v!r}; must be a number or one number per sector ({S}: {list(bench.sectors)})"
            ) from None
        if (~np.isfinite(arr) | (arr < 0)).any():
            raise CalibrationError(f"elasticities: {k} must be finite and >= 0, got {arr}")
        sigma[k] = arr

    if np.ptp(sigma["sigma_fd"]) != 0.0:
        raise CalibrationError(f"elasticities: sigma_fd is the final agents' elasticity across commodities and must be one value, got {sigma['sigma_fd']}")
    d_0 = np.concatenate([bench.z_0, bench.f_0], axis=3)
    use_of_buyer = np.array([0] * S + [1] * A)
    tariff_0 = np.ascontiguousarray(bench.tariff_0[..., use_of_buyer])  # (fancy indexing leaves the buyer axis outermost)
    rule.check(bench, tariff=bench.tariff_0, duty_exemption=bench.duty_exemption_0)
    if bench.duty_exemption_0.any():  # a sector pays t (1 - e) on its imported inputs
        tariff_0[..., :S] *= (1.0 - bench.duty_exemption_0)[None, None]
    v_0 = d_0 * (1.0 + tariff_0)
    qa_0 = v_0.sum(axis=0).transpose(1, 2, 0)  # [s, b, i]
    offdiag = ~np.eye(R, dtype=bool)
    m_0 = (v_0 * offdiag[:, None, :, None]).sum(axis=0).transpose(1, 2, 0)
    m_common_0 = m_0.sum(axis=1)

    x_0 = bench.output
    fp_0 = bench.fp_0.copy()
    va_0 = fp_0.sum(axis=2)
    int_0 = qa_0[:, :S, :].sum(axis=2)
    fd_0 = qa_0[:, S:, :].sum(axis=2)
    income_0 = fd_0.sum(axis=1)
    if (income_0 <= 0).any():
        bad = [bench.regions[s] for s in np.flatnonzero(income_0 <= 0)]
        raise CalibrationError(f"regions without final demand cannot be calibrated: {bad}")
    if "household" not in bench.agents:
        raise CalibrationError("a 'household' final-demand agent is required")
    household = bench.agents.index("household")
    if (fd_0[:, household] <= 0).any():
        bad = [bench.regions[s] for s in np.flatnonzero(fd_0[:, household] <= 0)]
        raise CalibrationError(f"household final demand is zero in {bad}; the consumer price index needs it")
    alpha = fd_0 / income_0[:, None]
    transfer_0 = income_0 - va_0.sum(axis=1) - bench.tariff_revenue
    persons_weight, notes = _persons_weights(bench, fp_0)
    size_group, groups = size_groups(bench, size_nest, size_sigma, sigma)
    return Parameters(
        regions=list(bench.regions),
        sectors=list(bench.sectors),
        factors=list(bench.factors),
        agents=list(bench.agents),
        sourcing=rule,
        sigma=sigma,
        d_0=d_0,
        tariff_0=tariff_0,
        use_of_buyer=use_of_buyer,
        v_0=v_0,
        qa_0=qa_0,
        m_0=m_0,
        m_common_0=m_common_0,
        x_0=x_0,
        va_0=va_0,
        int_0=int_0,
        fp_0=fp_0,
        fd_0=fd_0,
        income_0=income_0,
        transfer_0=transfer_0,
        alpha=alpha,
        employment_0=None if bench.employment is None else bench.employment.copy(),
        household=household,
        sigma_fd=float(sigma["sigma_fd"][0]),
        persons_weight=persons_weight,
        notes=notes,
        tariff_use_0=np.array(bench.tariff_0),
        duty_exemption_0=np.array(bench.duty_exemption_0),
        size_group=size_group,
        groups=groups,
    )


def size_groups(bench: Benchmark, size_nest: bool | None, sigma_size, sigma: dict) -> tuple[np.ndarray | None, list[str] | None]:
    r"""The commodity groups of the firm-size nest, and ``sigma["sigma_size"]`` (set in place).

    On a benchmark split by firm size (:func:`cge.firms.split_firm_size`), the SME and large-firm
    goods of a sector ``j`` (``metadata["firm_size"]["sector_of"]``) form one group: a buyer
    chooses among origins of the group (the Armington nests) and, within an origin, between its
    sizes through a CES of elasticity :math:`\sigma^{size}_g` with benchmark value shares
    (:mod:`cge.fast.sizenest`). Unsplit sectors are groups of one. The nest is on when
    ``size_nest`` is True, or None and the benchmark carries the metadata; off, the sizes are
    distinct commodities.

    Default elasticity (``sigma_size`` not given): twice the group's ``sigma_mm``. This is the
    "rule of two" (Jomini et al. 1991; Hertel et al. 2007 find GTAP's import-source elasticities
    close to twice the domestic-import ones) applied one level further down: the SME and large-firm
    varieties of one origin share its costs, standards and trade costs and are closer substitutes
    than the varieties of different origins, so the within-origin elasticity is above the across-
    origin one. No estimate of substitution between firm sizes of one origin exists that we know
    of; the value is an assumption, recorded in results metadata (``elasticities["sigma_size"]``,
    per sector) and set by ``elasticities={"sigma_size": ...}`` (a number, or one per sector;
    the sectors of a group must agree).

    References: Jomini, P. et al. (1991), SALTER: A General Equilibrium Model of the World Economy;
    Hertel, T., Hummels, D., Ivanic, M. and Keeney, R. (2007), How confident can we be of CGE-based
    assessments of free trade agreements?, Economic Modelling 24(4).
    """
    meta = bench.metadata.get("firm_size")
    on = (meta is not None) if size_nest is None else bool(size_nest)
    if not on:
        if sigma_size is not None:
            raise CalibrationError("elasticities: sigma_size is the elasticity of the firm-size nest, which is off (a benchmark not split by firm size, or size_nest=False)")
        return None, None
    if meta is None or "sector_of" not in meta:
        raise CalibrationError("size_nest=True needs a benchmark split by firm size (Benchmark.split_firm_size): metadata['firm_size']['sector_of'] is missing")
    S = bench.n_sectors
    origin = [meta["sector_of"].get(j, j) for j in bench.sectors]
    groups = list(dict.fromkeys(origin))
    group = np.array([groups.index(o) for o in origin], dtype=int)
    if sigma_size is None:
        value = SIZE_RULE_OF_TWO * sigma["sigma_mm"]
    else:
        try:
            value = np.broadcast_to(np.asarray(sigma_size, dtype=float), (S,)).copy()
        except (TypeError, ValueError):
            raise CalibrationError(f"elasticities: sigma_size = {sigma_size!r}; must be a number or one number per sector ({S})") from None
        if (~np.isfinite(value) | (value < 0)).any():
            raise CalibrationError(f"elasticities: sigma_size must be finite and >= 0, got {value}")
    for k in ("sigma_dm", "sigma_mm"):
        value_k = sigma[k]
        for g, name in enumerate(groups):
            members = np.flatnonzero(group == g)
            if np.ptp(value_k[members]) != 0.0:
                raise CalibrationError(f"elasticities: {k} differs between the firm sizes of {name!r} ({[bench.sectors[j] for j in members]}); the size nest needs one value per commodity")
    for g, name in enumerate(groups):
        members = np.flatnonzero(group == g)
        if np.ptp(value[members]) != 0.0:
            raise CalibrationError(f"elasticities: sigma_size differs between the firm sizes of {name!r}; give one value per commodity")
    sigma["sigma_size"] = value
    return group, groups


def _persons_weights(bench: Benchmark, fp_0: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Units in which factor markets clear under fixed wage premia (``Closure(labour_market="premia")``).

    Labour is counted in persons where the benchmark has employment for every sector of a region
    that pays labour: benchmark wage differences between sectors are then fixed premia, and full
    employment holds total persons fixed. Elsewhere labour is counted in benchmark-value
    (efficiency) units, like the other factors. The default closure counts labour in efficiency
    units everywhere (:func:`cge.closure.factor_weights`).
    """
    weight = fp_0.copy()
    notes = []
    if bench.employment is None or "labour" not in bench.factors:
        return weight, notes
    f = bench.factors.index("labour")
    for s, region in enumerate(bench.regions):
        paid = fp_0[s, :, f] > 0
        persons = bench.employment[s]
        if paid.any() and (persons[paid] > 0).all():
            weight[s, :, f] = np.where(paid, persons, 0.0)
        elif paid.any():
            notes.append(f"{region}: labour counted in value units (employment missing for a sector that pays labour)")
    return weight, notes
