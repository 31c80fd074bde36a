"""Regenerate the toy benchmark committed in tests/data/toy (3 regions x 3 sectors).

    python tests/data/make_toy.py
"""

from pathlib import Path

from cge.synthetic import random_benchmark

HERE = Path(__file__).resolve().parent


def make_toy():
    bench = random_benchmark(3, 3, seed=7)
    bench.regions[:] = ["ASEAN", "China", "RoW"]
    bench.sectors[:] = ["primary", "electronics", "services"]
    bench.groups = {"Asia": ["ASEAN", "China"]}
    bench.metadata.update(
        name="toy-3x3",
        unit="US$ million",
        source="synthetic: cge.synthetic.random_benchmark(3, 3, seed=7), relabelled",
        citation="none (synthetic test data)",
    )
    bench.validate()
    return bench


if __name__ == "__main__":
    make_toy().write(HERE / "toy")
    print(f"wrote {HERE / 'toy'}")
