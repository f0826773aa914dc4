"""`costcalc sweep` to CSV against a minimal program writing the same CSV, whole processes, same run.

    python benchmarks/sweep.py [--runs 3]

10^6 configurations of MobileNet v1 (1000 alphas x 1000 input sizes) to a CSV file: median time and
peak memory of `costcalc sweep ... --format csv -o FILE` and of benchmarks/minimal.py writing the
same rows (the files are compared, all but the published top-1 column, which the minimal program
leaves empty), and the same sweep as streamed JSON.
"""

from __future__ import annotations

import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import HERE, costcalc_cmd, medians, start  # noqa: E402

ALPHAS = ",".join(f"{0.2 + i * 0.0008:.4f}" for i in range(1000))
SIZES = ",".join(str(96 + i) for i in range(1000))


def without_top1(path: str):
    with open(path) as fh:
        for line in fh:
            if not line.startswith("#"):  # costcalc's leading comment lines: its conventions
                yield line.rsplit(",", 1)[0]


def main() -> None:
    runs = start(3)
    with tempfile.TemporaryDirectory() as tmp:
        ours, theirs, js = (os.path.join(tmp, f) for f in ("costcalc.csv", "minimal.csv", "costcalc.json"))
        commands = {
            "costcalc sweep (10^6 configurations) --format csv -o FILE":
                costcalc_cmd() + ["sweep", "mobilenet", "--alpha", ALPHAS, "--resolution", SIZES, "-f", "csv", "-o", ours],
            "minimal program writing the same CSV":
                [sys.executable, os.path.join(HERE, "minimal.py"), "csv", theirs, ALPHAS, SIZES],
            "costcalc sweep (10^6 configurations) --format json -o FILE":
                costcalc_cmd() + ["sweep", "mobilenet", "--alpha", ALPHAS, "--resolution", SIZES, "-f", "json", "-o", js],
        }
        results = medians(commands, runs)
        same = all(a == b for a, b in zip(without_top1(ours), without_top1(theirs)))
        assert same and sum(1 for _ in without_top1(ours)) == sum(1 for _ in without_top1(theirs)) == 1_000_001, \
            "the CSVs differ"
    base = results["minimal program writing the same CSV"][0]
    for name, (t, rss) in results.items():
        print(f"  {name:60s} {t:6.2f} s {rss:6.0f} MiB peak  {t / base:5.2f}x minimal")
    print("  (the two CSV files are identical but for costcalc's leading comment lines and the top-1 column)")


if __name__ == "__main__":
    main()
