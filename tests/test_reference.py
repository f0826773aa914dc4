"""Every bundled spec loads, evaluates and reproduces its paper's published numbers.

The numbers and their sources live in each spec's `references` (paper + table, tolerance = the paper's
own rounding); figures a paper gets inconsistently are marked `expect: deviates` with the explanation.
"""

from __future__ import annotations

import pytest

import costcalc
from costcalc.spec import bundled_names, describe

NAMES = bundled_names()


def test_there_are_bundled_specs():
    assert "mobilenet" in NAMES


@pytest.mark.parametrize("name", NAMES)
def test_bundled_spec_loads_in_every_variant(name):
    for variant in describe(name)["variants"] or [None]:
        spec = costcalc.load_spec(name, variant=variant)
        res = costcalc.evaluate(spec)
        assert int(res.total("macs")) > 0
        assert spec.title and spec.description


@pytest.mark.parametrize("name", NAMES)
def test_bundled_spec_verifies_against_its_paper(name):
    checks = costcalc.verify(name)
    assert checks, f"{name} carries no published references"
    failed = [(c.reference.quantity, c.reference.config, c.reference.value, c.computed) for c in checks if not c.ok]
    assert not failed
    for c in checks:
        assert c.reference.source
        if c.status == "deviates":
            assert c.reference.note


def test_verify_command_passes_on_every_bundled_spec(run):
    r = run("verify", "--format", "json")
    assert r.code == 0, r.out[-2000:]
