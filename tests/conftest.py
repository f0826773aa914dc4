"""Shared helpers: run the CLI in-process and capture its output and exit status."""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def run(monkeypatch):
    """run("report", "mobilenet") -> Run(code, out, err), through costcalc.cli.main."""
    from costcalc.cli import main

    def _run(*args: str) -> Run:
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        monkeypatch.setenv("COLUMNS", "120")
        code = main(list(args))
        monkeypatch.undo()
        return Run(code, out.getvalue(), err.getvalue())

    return _run


@pytest.fixture
def write_spec(tmp_path):
    """write_spec(text, name) -> path of a spec file with that YAML text."""

    def _write(text: str, name: str = "mine.yaml") -> str:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return _write


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/* from the current output")


def render(table, width: int = 100) -> str:
    """A report.Table rendered as plain text by a fixed-width, colourless rich Console."""
    from rich.console import Console

    from costcalc.report import to_rich

    buf = io.StringIO()
    Console(file=buf, width=width, color_system=None, soft_wrap=False).print(to_rich(table))
    return buf.getvalue()


@pytest.fixture
def golden(request):
    """golden(name, text): compare with tests/golden/NAME; `pytest --update-golden` rewrites it."""
    update = request.config.getoption("--update-golden")

    def _check(name: str, text: str) -> None:
        path = ROOT / "tests" / "golden" / name
        if update or not path.exists():
            if not update:
                pytest.fail(f"no golden file {path.name}; run pytest --update-golden and review it")
            path.write_text(text, encoding="utf-8")
            return
        assert text == path.read_text(encoding="utf-8"), f"output differs from tests/golden/{name}"

    return _check


def read_csv(text: str) -> list[dict]:
    """costcalc's CSV as records: the leading '#' lines (conventions, configuration) skipped, as
    pandas.read_csv(..., comment="#") does."""
    import csv

    return list(csv.DictReader(line for line in io.StringIO(text) if not line.startswith("#")))
