"""Shared pieces of the benchmarks: the machine line, timing whole processes with their peak memory."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def machine() -> str:
    import numpy as np

    return (f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"numpy {np.__version__}, {platform.system()} {platform.release()}")


def start(runs: int) -> int:
    """Parse --runs (default `runs`) and print the machine line; the number of runs."""
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=runs)
    n = ap.parse_args().runs
    print(machine())
    return n


def costcalc_cmd() -> list[str]:
    exe = shutil.which("costcalc")
    return [exe] if exe else [sys.executable, "-m", "costcalc"]


TIME = shutil.which("time") or ("/usr/bin/time" if os.path.exists("/usr/bin/time") else None)


def run(cmd: list[str], env: dict | None = None) -> tuple[float, float]:
    """(seconds, peak resident MiB) of one whole process. The peak is read by GNU time, whose child
    is a fresh process (a child forked from this one would report this process's memory too)."""
    full = [TIME, "-f", "%M"] + cmd if TIME else cmd
    t0 = time.perf_counter()
    if env is None:  # as an installed package runs: its modules compiled once (pip writes the .pyc files)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.run(full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} ... failed: {proc.stderr.decode()[-500:]}")
    lines = proc.stderr.decode().strip().splitlines()
    peak = int(lines[-1]) / 1024 if TIME and lines and lines[-1].isdigit() else float("nan")
    return elapsed, peak


def medians(commands: dict, runs: int) -> dict:
    """Interleaved runs of each command (the same machine state for all); median time, max peak."""
    import statistics

    for cmd in commands.values():  # warm the file cache
        run(cmd)
    times = {k: [] for k in commands}
    peaks = {k: 0.0 for k in commands}
    for _ in range(runs):
        for name, cmd in commands.items():
            t, rss = run(cmd)
            times[name].append(t)
            peaks[name] = max(peaks[name], rss)
    return {k: (statistics.median(v), peaks[k]) for k, v in times.items()}


def best_of(fn, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best
