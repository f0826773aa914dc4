"""costcalc check: budgets from the spec and the command line, exit 1 when over, in every format."""

from __future__ import annotations

import json

import pytest

# MobileNet v1 1.0-224: 568,740,352 MACs, hand-checked against Howard et al. 2017, Table 1
# (tests/test_specs_classic.py), and 4,231,976 params (with BatchNorm and the classifier's bias):
# Keras 3.15.1, keras.applications.MobileNet(weights=None): trainable parameters
MACS, PARAMS = 568_740_352, 4_231_976


def test_a_figure_equal_to_its_bound_is_within_it(run):
    r = run("check", "mobilenet", "--max-macs", str(MACS), "--max-params", str(PARAMS), "--format", "json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert doc["over"] == 0 and [c["computed"] for c in doc["checks"]] == [MACS, PARAMS]
    r = run("check", "mobilenet", "--max-macs", str(MACS - 1))
    assert r.code == 1 and "OVER" in r.out and "1 within budget" not in r.out and "0 within budget, 1 over" in r.out


def test_units_and_the_configuration_given(run):
    r = run("check", "mobilenet", "--alpha", "0.5", "--resolution", "160", "--max-macs", "77M", "--format", "json")
    doc = json.loads(r.out)
    assert r.code == 0 and doc["checks"][0]["budget"] == 77_000_000
    assert doc["checks"][0]["config"] == {"alpha": 0.5, "resolution": 160, "variant": "dws"}
    assert abs(doc["checks"][0]["computed"] - 76e6) <= 1e6  # Howard et al. 2017, Table 9: 0.50 MobileNet-160, 76 M


SPEC = """name: mine
input: {channels: 3, size: 32}
layers:
  - {type: conv, out: 8, kernel: 3, bias: false}
  - {type: linear, out: 10, bias: false}
budget:
  - {macs: 200K, params: 10K, note: the device's limit}
  - {config: {resolution: 64}, macs: 500K}
"""
# conv 3 -> 8, 3x3 on 32x32 without padding: 30x30x8 outputs x 27 = 194,400 MACs, 216 weights;
# linear 7,200 -> 10: 72,000 MACs and weights. At 64 px: 62x62x8 outputs x 27, then 30,752 x 10.


def test_the_specs_own_budget_each_at_its_configuration(run, write_spec):
    r = run("check", write_spec(SPEC), "--format", "json")
    assert r.code == 1, r.err
    checks = {(c["quantity"], c["config_text"]): c for c in json.loads(r.out)["checks"]}
    assert checks[("macs", "default")]["computed"] == 194_400 + 72_000 and checks[("macs", "default")]["status"] == "OVER"
    assert checks[("params", "default")]["computed"] == 216 + 72_000 and checks[("params", "default")]["status"] == "OVER"
    assert checks[("macs", "64px")]["computed"] == 62 * 62 * 8 * 27 + 62 * 62 * 8 * 10
    assert checks[("macs", "default")]["note"] == "the device's limit"


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_every_format_states_the_convention_and_fails_the_build(run, fmt):
    r = run("check", "mobilenet", "--max-macs", "500M", "--format", fmt)
    assert r.code == 1
    assert "OVER" in r.out
    if fmt in ("table", "markdown"):
        assert "1 MAC = 1 multiply-accumulate = 2 FLOPs" in r.out
    elif fmt == "json":
        assert json.loads(r.out)["flops_per_mac"] == 2


@pytest.mark.parametrize("budget,message", [
    ("budget: {macz: 5M}", "budget.macz: unknown key (did you mean 'macs'?)"),
    ("budget: {macs: 5Q}", "expected a count such as 300M"),
    ("budget: {macs: -1}", "expected a count"),
    ("budget: [{macs: 5M, config: {alpha: 0}}]", "alpha"),
])
def test_a_bad_budget_is_one_line(run, write_spec, budget, message):
    r = run("check", write_spec(SPEC.split("budget:")[0] + budget + "\n"))
    assert r.code == 2 and message in r.err and r.err.count("\n") == 1, r.err


def test_no_budget_at_all_is_an_error(run):
    r = run("check", "mobilenet")
    assert r.code == 2 and "no budget" in r.err
