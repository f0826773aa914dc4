"""Mutants of the bundled specs, and a runner that costs each in its own process.

A mutant changes one place of a bundled spec's document: a value becomes a hostile one (non-finite,
huge, negative, the wrong type, deeply nested, a control sequence, an expression that loops or
overflows), a key is deleted, renamed or added, a list item is duplicated. Each mutant runs as
``costcalc <command> MUTANT --format json`` in its own process, with a time and an address-space
limit; it must end in exit 0 with sane numbers, exit 1 (verify: a figure off), or exit 2 with one
line on stderr, and never in a traceback, a crash or a hang.

    python tests/mutation.py 4000          # a large run by hand (the test suite runs a sample)
"""

from __future__ import annotations

import copy
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
MEMORY = 1 << 30
TIMEOUT = 60

HOSTILE = [
    float("inf"), float("-inf"), float("nan"), 0, -1, -(2**63), 2**63, 10**40, 1e308, 1e-300, 0.5, 3.7,
    "", "x", "0.5", "1e9", "$ 1/0", "$ 2**64 * 2**64", "$ round(5, -1000000000)", "$ nope", "$ __import__('os')",
    "\x1b[2J\x1b]0;owned\x07", "\u202e", "a/b", True, False, None, [], {}, [1, 2, 3], {"a": 1},
    [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]], "same", "valid", "up", "deviates", "M",
]
KEYS = ["typo", "repeat", "stride", "padding", "groups", "out", "kernel", "branches", "block", "type", "bias",
        "scale", "fused", "config", "alpha", "rho", "resolution", "unit", "tolerance", "keep", "bits"]
COMMANDS = (["report"], ["report", "--depth", "1"], ["verify"], ["sweep", "--alpha", "1,0.5", "--resolution", "224,97"])


def _places(node, path=()):
    """Every (path, value) in a document."""
    yield path, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _places(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _places(v, path + (i,))


def _get(doc, path):
    for p in path:
        doc = doc[p]
    return doc


def mutate(doc, rng: random.Random):
    doc = copy.deepcopy(doc)
    places = [p for p, _ in _places(doc) if p]
    path = rng.choice(places)
    parent, last = _get(doc, path[:-1]), path[-1]
    action = rng.choice(["value", "value", "value", "delete", "rename", "add", "duplicate"])
    if action == "value":
        parent[last] = copy.deepcopy(rng.choice(HOSTILE))
    elif action == "delete":
        del parent[last]
    elif action == "rename" and isinstance(parent, dict):
        parent[rng.choice(KEYS)] = parent.pop(last)
    elif action == "add" and isinstance(parent, dict):
        parent[rng.choice(KEYS)] = copy.deepcopy(rng.choice(HOSTILE))
    elif action == "duplicate" and isinstance(parent, list):
        parent.insert(last, copy.deepcopy(parent[last]))
    else:
        parent[last] = copy.deepcopy(rng.choice(HOSTILE))
    return doc


def mutants(seed: int, count: int):
    """(name, command, YAML text) of `count` mutants, the same for the same seed."""
    rng = random.Random(seed)
    specs = sorted((ROOT / "specs").glob("*.yaml"))
    docs = {p.stem: yaml.safe_load(p.read_text()) for p in specs}
    out = []
    for k in range(count):
        name = rng.choice(sorted(docs))
        text = yaml.safe_dump(mutate(docs[name], rng), sort_keys=False, allow_unicode=False)
        out.append((f"{name}-{seed}-{k}", rng.choice(COMMANDS), text))
    return out


def _limit():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def run_one(case, folder: str) -> str | None:
    """None if the mutant ended well, else what went wrong."""
    name, command, text = case
    path = os.path.join(folder, f"{name}.yaml")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    argv = [sys.executable, "-m", "costcalc", command[0], path, *command[1:], "--format", "json"]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, cwd=ROOT,
                              env={**os.environ, "COLUMNS": "100"}, preexec_fn=_limit)
    except subprocess.TimeoutExpired:
        return f"{name}: hang (over {TIMEOUT} s)"
    err = proc.stderr
    if "Traceback" in err or proc.returncode not in (0, 1, 2) or (proc.returncode == 1 and command[0] != "verify"):
        return f"{name}: exit {proc.returncode}: {err[-400:]}"
    if proc.returncode == 2:
        if not (err.startswith("error: ") and err.count("\n") == 1 and proc.stdout == ""):
            return f"{name}: not one line: {err[-400:]}"
        if "\x1b" in err:
            return f"{name}: raw escape in the error"
        return None
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        return f"{name}: exit {proc.returncode} without JSON"
    if command[0] == "report" and not all(isinstance(v, (int, float)) and v >= 0 for v in data["totals"].values()):
        return f"{name}: negative or non-numeric totals {data['totals']}"
    return None


def run(seed: int, count: int, workers: int = 2) -> list[str]:
    with tempfile.TemporaryDirectory() as folder:
        with ThreadPoolExecutor(workers) as pool:
            results = pool.map(lambda c: run_one(c, folder), mutants(seed, count))
            return [r for r in results if r]


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    problems = run(seed=int(sys.argv[2]) if len(sys.argv) > 2 else 1, count=n)
    print("\n".join(problems) or f"{n} mutants: all ended in exit 0, 1 (verify) or 2 with one line")
    sys.exit(1 if problems else 0)
