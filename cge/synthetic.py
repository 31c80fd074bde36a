"""Seeded random balanced benchmarks, for tests, demos and scaling benchmarks.

The table is built so that it balances exactly: input coefficients (at buyer prices) with column
sums below one, final demand with home bias, output from the Leontief inverse, and factor payments
as the remainder of each column.
"""

from __future__ import annotations

import numpy as np

from .benchmark import Benchmark


def random_benchmark(
    n_regions: int,
    n_sectors: int,
    seed: int = 0,
    tariffs: bool = True,
    agents=("household", "government", "investment"),
    home_bias: float = 4.0,
) -> Benchmark:
    """A random balanced benchmark with ``n_regions`` x ``n_sectors``, labour and capital.

    Trade is unbalanced (each region's final demand is drawn independently); tariffs, when asked
    for, are drawn between 0 and 15% on imports (intermediate and final uses differ). Employment is
    labour payments divided by a wage that differs by region and sector.
    """
    rng = np.random.default_rng(seed)
    R, S, A = n_regions, n_sectors, len(agents)
    regions = [f"R{k + 1}" for k in range(R)]
    sectors = [f"S{k + 1}" for k in range(S)]
    home = np.eye(R)[:, None, :, None] * (home_bias - 1.0) + 1.0

    t = np.zeros((R, S, R, 2))
    if tariffs:
        t = rng.uniform(0.0, 0.15, size=(R, S, R, 2))
        t[np.arange(R), :, np.arange(R), :] = 0.0

    a = rng.uniform(0.2, 1.0, size=(R, S, R, S)) * home
    share_int = rng.uniform(0.35, 0.65, size=(R, S))  # intermediate cost share of (s, j)
    a *= share_int[None, None, :, :] / np.einsum("risj,ris->sj", a, 1.0 + t[..., 0])[None, None]
    f = rng.uniform(0.5, 1.5, size=(R, S, R, A)) * home[..., :1] * rng.uniform(0.5, 2.0, size=(1, 1, R, 1))
    f *= np.array([0.6, 0.2, 0.2][:A] if A <= 3 else np.full(A, 1.0 / A))[None, None, None, :] * 100.0

    N = R * S
    A_mat = a.reshape(N, N)
    x = np.linalg.solve(np.eye(N) - A_mat, f.sum(axis=(2, 3)).reshape(N)).reshape(R, S)
    z = a * x[None, None, :, :]
    inputs = np.einsum("risj,ris->sj", z, 1.0 + t[..., 0])
    va = x - inputs
    labour_share = rng.uniform(0.4, 0.7, size=(R, S))
    labour = va * labour_share
    capital = va - labour
    wage = rng.uniform(0.005, 0.05, size=(R, 1)) * rng.uniform(0.5, 2.0, size=(R, S))  # sector premia
    return Benchmark.from_arrays(
        regions,
        sectors,
        z,
        f,
        {"labour": labour, "capital": capital},
        tariffs=t,
        employment=labour / wage,
        agents=list(agents),
        metadata={
            "name": f"random-{R}x{S}-seed{seed}",
            "currency": "model units",
            "source": "cge.synthetic.random_benchmark",
            "seed": seed,
        },
    )
