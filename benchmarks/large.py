"""Whole `costcalc report` of long explicit chains (100,000 to 300,000 layers), against the floor of
merely reading the same file's YAML events with libyaml, in the same run.

    python benchmarks/large.py [--runs 3]

Each chain alternates a 3x3 conv (padding 1) and a ReLU, one layer per line, as a generator would
write it; the report is a table of every layer to a file. A generated network repeats its layers, and
costcalc reads, checks, costs and formats a repeated layer once; the "varied" chain of 100,000 layers
repeats nothing (every line has its own name, and its widths and kernels change pseudo-randomly), to
show the cost when nothing repeats.
"""

from __future__ import annotations

import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import costcalc_cmd, medians, start  # noqa: E402

FLOOR = """
import sys, yaml
loader = yaml.CSafeLoader(open(sys.argv[1]).read())
while not isinstance(loader.get_event(), yaml.StreamEndEvent):
    pass
"""


def chain(path: str, n: int) -> None:
    with open(path, "w") as fh:
        fh.write("name: chain\ninput: {channels: 8, size: 32}\nlayers:\n")
        fh.write("".join("  - {type: conv, out: 8, kernel: 3, padding: 1}\n" if i % 2 == 0 else "  - {type: relu}\n"
                         for i in range(n)))


def varied(path: str, n: int) -> None:
    with open(path, "w") as fh:
        fh.write("name: varied\ninput: {channels: 8, size: 32}\nlayers:\n")
        for i in range(n):
            k = (i * 7919) % 3
            fh.write(f"  - {{name: c{i}, type: conv, out: {8 + (i * 104729) % 256}, kernel: {1 + 2 * k}, padding: {k}}}\n")


def main() -> None:
    runs = start(3)
    with tempfile.TemporaryDirectory() as tmp:
        commands = {}
        for n in (100_000, 200_000, 300_000):
            path = os.path.join(tmp, f"chain{n}.yaml")
            chain(path, n)
            commands[(n, "report")] = costcalc_cmd() + ["report", path, "--max-layers", str(n), "-o", os.path.join(tmp, "out.txt")]
            commands[(n, "floor")] = [sys.executable, "-c", FLOOR, path]
        path = os.path.join(tmp, "varied.yaml")
        varied(path, 100_000)
        commands[("varied", "report")] = costcalc_cmd() + ["report", path, "--max-layers", "100000", "-o", os.path.join(tmp, "out.txt")]
        commands[("varied", "floor")] = [sys.executable, "-c", FLOOR, path]
        results = medians(commands, runs)
    for n in (100_000, 200_000, 300_000):
        t, rss = results[(n, "report")]
        floor = results[(n, "floor")][0]
        print(f"  {n:>7,} layers: report {t:5.2f} s ({t / n * 1e6:4.1f} us/layer), peak {rss:4.0f} MiB; "
              f"reading the YAML alone {floor:4.2f} s -> {t / floor:4.2f}x")
    t, rss = results[("varied", "report")]
    floor = results[("varied", "floor")][0]
    print(f"  100,000 varied: report {t:5.2f} s ({t / 100_000 * 1e6:4.1f} us/layer), peak {rss:4.0f} MiB; "
          f"reading the YAML alone {floor:4.2f} s -> {t / floor:4.2f}x")


if __name__ == "__main__":
    main()
