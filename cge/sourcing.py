r"""Import sourcing: how buyers choose among source regions, as one object per mode.

A :class:`Sourcing` is chosen once, when a model is calibrated (``Model(bench, sourcing=...)``),
and carries what differs between the modes outside the equations themselves: which instrument
levels it accepts and how the counterfactual table shares imports among buyers. Its flag
``shared_import_mix`` tells the backends which Armington blocks to build (``import_quantity``
exists only with a shared mix; see :mod:`cge.equations`).

* ``"agent"``: every buyer has its own Armington nest (domestic vs imported, ``sigma_dm``; across
  partners, ``sigma_mm``); the model determines each buyer's purchases from each partner.
* ``"common"``: every buyer splits domestic vs imported, and all buyers of a region share one
  import mix per commodity (the standard GTAP structure; Caliendo and Parro 2015 when
  ``sigma_dm == sigma_mm``). Tariffs and trade costs must then be the same for both uses.

With ``sourcing="common"`` the model determines imports by route (exporter ``r``, commodity ``i``,
importer ``s``) from one import composite per commodity and importer, and each buyer ``b`` demands
an import composite :math:`g_{sbi} = Q^A_{sbi} (P^A_{sbi} / P^M_{si})^{\sigma^{dm}_i}` (relative to
the benchmark). The model does not say which buyer takes which partner's goods; the counterfactual
table needs it. :func:`allocate_route_imports` shares a route's imports among its benchmark buyers
in proportion to their benchmark purchases from that route times their import-composite demand:

.. math:: z_{risb} = d^0_{risb}\, g_{sbi}\, \frac{M_{ris}}{\sum_{b'} d^0_{risb'}\, g_{sb'i}}

so that the buyers' purchases add up to the route's flow :math:`M_{ris}` exactly, every buyer's
imports move with its own import demand, and with no shock (:math:`g = 1`, :math:`M = M^0`) the
benchmark table is reproduced cell by cell, with no new non-zero cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def allocate_route_imports(d_0: np.ndarray, domestic: np.ndarray, route: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """Bilateral deliveries ``[r, i, s, b]`` from domestic deliveries and route imports.

    ``d_0`` benchmark deliveries ``[r, i, s, b]``; ``domestic`` the deliveries of domestic flows
    (imports zero); ``route`` imports by route ``[r, i, s]`` (benchmark-value units); ``demand``
    each buyer's import-composite index ``[s, b, i]`` (1 in the benchmark).
    """
    R = d_0.shape[0]
    off = ~np.eye(R, dtype=bool)[:, None, :, None]
    weight = np.where(off, d_0, 0.0) * demand.transpose(2, 0, 1)[None]  # [r, i, s, b]
    total = weight.sum(axis=3, keepdims=True)
    share = np.divide(weight, total, out=np.zeros_like(weight), where=total > 0)
    return np.where(off, 0.0, domestic) + route[..., None] * share


@dataclass(frozen=True)
class Sourcing:
    """One sourcing mode: its name, whether buyers share an import mix, and its rules."""

    name: str
    shared_import_mix: bool

    def check(self, bench, duty_exemption=None, **arrays) -> None:
        """Instrument arrays ``[r, i, s, use]`` this mode accepts: with a shared mix, the same for both uses,
        and no duty exemption (``duty_exemption`` (R, S): a price of imports that differs by buying
        sector needs each buyer to choose its own sources)."""
        if not self.shared_import_mix:
            return
        from .calibrate import CalibrationError

        if duty_exemption is not None and np.any(duty_exemption):
            s, j = np.argwhere(np.asarray(duty_exemption) != 0)[0]
            raise CalibrationError(
                f"sourcing='common' cannot take a duty exemption (({bench.regions[s]}, {bench.sectors[j]}) has "
                f"{float(duty_exemption[s, j]):g}): buyers share one import mix per commodity, so every buyer of a "
                "region pays the same price for a route's imports and none can import duty-free; use sourcing='agent'"
            )

        for name, arr in arrays.items():
            differs = arr[..., 0] != arr[..., 1]
            if differs.any():
                r, i, s = np.argwhere(differs)[0]
                raise CalibrationError(
                    f"sourcing='common' needs the same {name} for both uses; "
                    f"({bench.regions[r]}, {bench.sectors[i]}, {bench.regions[s]}) differs"
                )

    def deliveries(self, d_0, flows, route=None, demand=None) -> np.ndarray:
        """Bilateral deliveries ``[r, i, s, b]`` of the counterfactual table: the model's own flows with
        sourcing by agent; with a shared mix, route imports shared by :func:`allocate_route_imports`."""
        if not self.shared_import_mix:
            return flows
        return allocate_route_imports(d_0, flows, route, demand)


MODES = {"agent": Sourcing("agent", False), "common": Sourcing("common", True)}


def sourcing_of(name) -> Sourcing:
    """The :class:`Sourcing` named ``name`` (``"agent"`` or ``"common"``)."""
    if isinstance(name, Sourcing):
        return name
    if name not in MODES:
        from .calibrate import CalibrationError

        raise CalibrationError(f"sourcing={name!r}; allowed: {list(MODES)}")
    return MODES[name]
