"""Whole-process time of the everyday commands against the import floor, and of `verify`.

The floor is a bare `python -c "import numpy, yaml, click"`: what any CLI with these dependencies
pays before it does anything (output to a pipe or a file imports no rich); on a terminal, tables are
drawn by rich, so that path is measured against a floor that imports rich too, through script(1).
`verify` (every bundled spec against its paper) is compared with `report mobilenet`. Runs are
interleaved so that all see the same machine state; medians are reported.

    python benchmarks/startup.py [--runs 30]
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import costcalc_cmd, machine, medians  # noqa: E402


def _specs() -> list:
    from costcalc.spec import bundled_names

    return bundled_names()


def _figures() -> int:
    import costcalc

    return sum(len(costcalc.load_spec(name).references) for name in _specs())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    cli = costcalc_cmd()
    floor = [sys.executable, "-c", "import numpy, yaml, click"]
    commands = {
        "floor: python -c 'import numpy, yaml, click'": floor,
        "costcalc report mobilenet": cli + ["report", "mobilenet"],
        "costcalc report mobilenet --format json": cli + ["report", "mobilenet", "--format", "json"],
        "costcalc compare squeezenet alexnet": cli + ["compare", "squeezenet", "alexnet"],
        f"costcalc verify ({_figures()} figures, {len(_specs())} specs)": cli + ["verify"],
    }
    script = shutil.which("script")
    if script:  # on a terminal costcalc draws with rich: measure that too, through a pseudo-terminal
        rich_floor = [sys.executable, "-c", "import numpy, yaml, click, rich.console, rich.table"]
        commands["floor with rich, on a terminal (script -qc)"] = [script, "-qec", shlex.join(rich_floor), "/dev/null"]
        commands["costcalc report mobilenet, on a terminal (rich)"] = [
            script, "-qec", shlex.join(cli + ["report", "mobilenet"]), "/dev/null"]
    results = medians(commands, args.runs)
    print(f"{machine()}; {args.runs} interleaved runs, medians")
    base = results["floor: python -c 'import numpy, yaml, click'"][0]
    report = results["costcalc report mobilenet"][0]
    for name, (t, _) in results.items():
        if "terminal" in name:
            ref, what = results["floor with rich, on a terminal (script -qc)"][0], "its floor"
        elif "verify" in name:
            ref, what = report, "report mobilenet"
        else:
            ref, what = base, "floor"
        print(f"  {name:52s} {t * 1000:7.1f} ms  {t / ref:5.2f}x {what}")


if __name__ == "__main__":
    main()
