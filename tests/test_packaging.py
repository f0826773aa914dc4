"""The installed package carries every subpackage and every bundled spec."""

from __future__ import annotations

import re

from conftest import ROOT


def test_every_subpackage_is_listed_in_pyproject():
    text = (ROOT / "pyproject.toml").read_text()
    listed = set(re.search(r"packages = \[([^\]]*)\]", text).group(1).replace('"', "").replace(" ", "").split(","))
    found = {"costcalc." + ".".join(p.parent.relative_to(ROOT / "costcalc").parts) if p.parent != ROOT / "costcalc" else "costcalc"
             for p in (ROOT / "costcalc").rglob("__init__.py")}
    assert found | {"costcalc.specs"} <= listed


def test_specs_are_package_data():
    text = (ROOT / "pyproject.toml").read_text()
    assert '"costcalc.specs" = "specs"' in text and '"costcalc.specs" = ["*.yaml"]' in text
    assert (ROOT / "specs" / "__init__.py").exists()


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = 'python -m pip install ".[test]" && python -m pytest -q'
    assert command in readme and command in ci
