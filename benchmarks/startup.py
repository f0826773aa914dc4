"""Whole-process time of `costcalc report mobilenet` against the import floor.

The floor is a bare `python -c "import numpy, yaml, click, rich"`: what any CLI with these
dependencies pays before it does anything.  Runs are interleaved so that both see the same machine
state; medians are reported.

    python benchmarks/startup.py [--runs 30]
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import time


def timed(cmd: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    env = dict(os.environ, COLUMNS="100")
    exe = shutil.which("costcalc")
    cli = [exe] if exe else [sys.executable, "-m", "costcalc"]
    floor = [sys.executable, "-c", "import numpy, yaml, click, rich"]
    commands = {
        "floor: python -c 'import numpy, yaml, click, rich'": floor,
        "costcalc report mobilenet": cli + ["report", "mobilenet"],
        "costcalc report mobilenet --format json": cli + ["report", "mobilenet", "--format", "json"],
    }
    script = shutil.which("script")
    if script:  # on a terminal costcalc draws with rich: measure that too, through a pseudo-terminal
        commands["floor, on a terminal (script -qc)"] = [script, "-qec", shlex.join(floor), "/dev/null"]
        commands["costcalc report mobilenet, on a terminal (rich)"] = [script, "-qec", shlex.join(cli + ["report", "mobilenet"]), "/dev/null"]
    for cmd in commands.values():  # warm the file cache
        timed(cmd, env)
    times = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, cmd in commands.items():
            times[name].append(timed(cmd, env))
    base = statistics.median(times[next(iter(times))])
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}; {args.runs} interleaved runs, medians")
    for name, ts in times.items():
        med = statistics.median(ts)
        ref = statistics.median(times["floor, on a terminal (script -qc)"]) if "terminal" in name else base
        print(f"  {name:52s} {med * 1000:7.1f} ms  {med / ref:5.2f}x floor")


if __name__ == "__main__":
    main()
