"""Engine throughput: configurations per second, and a long chain of layers.

    python benchmarks/sweep.py

- 10^5 (alpha, resolution) pairs of MobileNet v1, evaluated pairwise (totals only)
- a 1000 x 1000 grid (10^6 configurations) of MobileNet v1, totals only, with peak memory
- generated chains of 1,000 / 10,000 / 100,000 layers at one configuration
"""

from __future__ import annotations

import os
import platform
import resource
import time

import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import costcalc  # noqa: E402
from costcalc.spec import build_spec  # noqa: E402


def best_of(fn, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def chain_spec(n: int):
    doc = {
        "name": f"chain{n}",
        "input": {"channels": 16, "size": 32},
        "layers": [
            {"type": "conv", "out": 16, "kernel": 3, "padding": 1, "bias": False} if i % 2 == 0 else {"type": "relu"}
            for i in range(n)
        ],
    }
    return build_spec(doc, f"chain{n}")


def main() -> None:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}")
    spec = costcalc.load_spec("mobilenet")
    rng = np.random.default_rng(0)

    n = 100_000
    alphas = rng.uniform(0.25, 1.0, n)
    res = rng.integers(96, 320, n)
    t = best_of(lambda: costcalc.evaluate(spec, alpha=alphas, resolution=res, grid=False, per_layer=False))
    print(f"  10^5 (alpha, resolution) pairs, totals only: {t:.3f} s = {n / t:,.0f} configurations/s")

    a = np.linspace(0.25, 1.0, 1000)
    r = np.arange(96, 1096)
    t = best_of(lambda: costcalc.evaluate(spec, alpha=a, resolution=r, per_layer=False))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  10^6 grid (1000 alphas x 1000 resolutions), totals only: {t:.3f} s = {1e6 / t:,.0f} configurations/s; "
          f"peak RSS {rss:.0f} MB")

    for n in (1_000, 10_000, 100_000):
        t_load = best_of(lambda: chain_spec(n), repeat=1)
        s = chain_spec(n)
        t = best_of(lambda: costcalc.evaluate(s), repeat=1)
        print(f"  chain of {n:>7,} layers: expand {t_load:.3f} s, evaluate {t:.3f} s ({t / n * 1e6:.1f} us/layer)")


if __name__ == "__main__":
    main()
