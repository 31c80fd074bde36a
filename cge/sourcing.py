r"""Import sourcing rules shared by the backends.

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
