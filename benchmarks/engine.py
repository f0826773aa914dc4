"""The grid engine against the minimal grouped NumPy program (benchmarks/minimal.py), in the same run.

    python benchmarks/engine.py

10^6 configurations of MobileNet v1 (1000 alphas x 1000 input sizes), totals only: time (best of 5)
and the ratio to the minimal program, which must give the same six totals; then the peak memory of a
whole process evaluating the grid, and the same million configurations as pairs.
"""

from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import ROOT, best_of, machine, run  # noqa: E402

sys.path.insert(0, ROOT)
import minimal  # noqa: E402

import costcalc  # noqa: E402

CHILD = """
import sys, numpy as np, costcalc
spec = costcalc.load_spec("mobilenet")
a, r = np.linspace(0.2, 1.0, 1000), np.arange(96, 1096)
if sys.argv[1] == "grid":
    costcalc.evaluate(spec, alpha=a, resolution=r, per_layer=False)
elif sys.argv[1] == "pairs":
    costcalc.evaluate(spec, alpha=np.repeat(a, 1000), resolution=np.tile(r, 1000), grid=False, per_layer=False)
"""


def main() -> None:
    print(machine())
    spec = costcalc.load_spec("mobilenet")
    a, r = np.linspace(0.2, 1.0, 1000), np.arange(96, 1096)
    ours = costcalc.evaluate(spec, alpha=a, resolution=r, per_layer=False)
    theirs = minimal.totals(a, r)
    assert all(np.array_equal(ours.total(q), theirs[q]) for q in minimal.QUANTITIES), "the totals differ"
    t_ours = best_of(lambda: costcalc.evaluate(spec, alpha=a, resolution=r, per_layer=False))
    t_min = best_of(lambda: minimal.totals(a, r))
    print(f"  10^6 configurations, six totals: costcalc {t_ours:.3f} s, minimal grouped program {t_min:.3f} s "
          f"-> {t_ours / t_min:.2f}x (the totals are identical)")
    base = run([sys.executable, "-c", "import numpy, costcalc"])[1]
    for mode in ("grid", "pairs"):
        t, rss = run([sys.executable, "-c", CHILD, mode])
        print(f"  whole process, 10^6 as a {mode:5s}: {t:.2f} s, peak {rss:.0f} MiB (importing costcalc alone: {base:.0f} MiB)")


if __name__ == "__main__":
    main()
