"""CES price indices and demand factors in calibrated share form, with exact special cases.

With benchmark value shares :math:`\\theta_k` and relative prices :math:`p_k` (1 in the benchmark),

.. math::
    P = \\Big(\\sum_k \\theta_k p_k^{1-\\sigma}\\Big)^{1/(1-\\sigma)}, \\qquad
    q_k / \\bar q_k = (Q/\\bar Q)\\,(P/p_k)^{\\sigma}.

``sigma = 0`` is Leontief (:math:`P = \\sum_k \\theta_k p_k`) and ``sigma = 1`` Cobb-Douglas
(:math:`P = \\prod_k p_k^{\\theta_k}`); both are written exactly.
"""

from __future__ import annotations


def ces_price(sigma: float, shares, prices):
    """CES unit-cost index of relative ``prices`` with benchmark value ``shares`` summing to 1."""
    pairs = [(th, p) for th, p in zip(shares, prices) if th > 0.0]
    if len(pairs) == 1:
        return pairs[0][1]
    if sigma == 0.0:
        return sum(th * p for th, p in pairs)
    if sigma == 1.0:
        out = 1.0
        for th, p in pairs:
            out = out * p**th
        return out
    rho = 1.0 - sigma
    return sum(th * p**rho for th, p in pairs) ** (1.0 / rho)


def ces_demand(sigma: float, index, price):
    """Relative demand per unit of the composite: :math:`(P/p)^{\\sigma}`."""
    if sigma == 0.0:
        return 1.0
    if sigma == 1.0:
        return index / price
    return (index / price) ** sigma
