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


def test_a_stale_deviation_mark_passes_and_says_so(run, tmp_path):
    path = tmp_path / "dv.yaml"
    path.write_text("name: dv\ninput: {channels: 3, size: 8}\nlayers:\n  - {type: conv, out: 4, kernel: 1}\n"
                    "references:\n  - {quantity: params, value: 16, tolerance: 0, expect: deviates, note: stale, source: x}\n")
    out = run("verify", str(path))
    assert out.code == 0 and "is marked expect: deviates but is within its tolerance" in out.out  # 3 x 4 + 4 biases = 16


def test_an_unexplained_figure_is_listed_apart_and_does_not_fail(run, tmp_path):
    path = tmp_path / "ux.yaml"
    head = "name: ux\ninput: {channels: 3, size: 8}\nlayers:\n  - {type: conv, out: 4, kernel: 1}\nreferences:\n"
    path.write_text(head + "  - {quantity: params, value: 20, tolerance: 0, expect: unexplained, note: tried x, source: x}\n"
                    "  - {quantity: params, value: 17, tolerance: 0, expect: deviates, note: proof, source: y}\n")
    out = run("verify", str(path))
    assert out.code == 0  # 16 params: neither figure fails
    assert "0 passed, 0 failed, 1 known deviations (inconsistencies of the sources, each proved in its note), 1 unexplained" in out.out
    assert "unexplained [1] ux params 20: tried x" in out.out and "deviation [2] ux params 17: proof" in out.out
    records = {r["source"]: r["status"] for r in __import__("json").loads(run("verify", str(path), "--format", "json").out)}
    assert records == {"x": "unexplained", "y": "deviates"}
    path.write_text(head + "  - {quantity: params, value: 16, tolerance: 0, expect: unexplained, note: tried x, source: x}\n")
    assert "is marked expect: unexplained but is within its tolerance" in run("verify", str(path)).out


def test_verify_states_its_coverage_and_lists_what_it_does_not_check(run):
    import json

    out = run("verify", "squeezenext", "shufflenet")
    line = next(x for x in out.out.splitlines() if x.startswith("coverage:"))
    # a paper's figure (author-year source) or the authors' release counts; library counts do not
    assert "published cost figures (papers and their authors' releases) checked" in line
    missing = json.loads(run("verify", "squeezenext", "--unchecked", "--format", "json").out)
    assert {m["spec"] for m in missing} == {"squeezenext"} and all(m["reason"] for m in missing)
    from costcalc.verify import kind_of_source
    assert kind_of_source("Howard et al. 2017, MobileNets, Table 6") == "paper"
    assert kind_of_source("Tan & Le 2019, EfficientNet, Table 2") == "paper"
    assert kind_of_source("megvii-model/ShuffleNet-Series README") == "release"
    assert kind_of_source("torchvision 0.29.1, resnet18(): sum of parameter sizes") == "implementation"


def test_the_coverage_counts_figures_not_entries(run, tmp_path):
    path = tmp_path / "cv.yaml"
    path.write_text("name: cv\ninput: {channels: 3, size: 8}\nlayers:\n  - {type: conv, out: 4, kernel: 1}\n"
                    "references:\n  - {quantity: params, value: 16, source: 'Doe et al. 2020, X, Table 1'}\n"
                    "  - {quantity: macs, value: 768, source: 'torchvision 0.29.1, x()'}\n"
                    "unchecked:\n  - {figures: 3, figure: three rows of Table 2, source: 'Doe et al. 2020, X, Table 2', reason: r}\n"
                    "  - {figure: one more, source: 'Doe et al. 2020, X, Table 3', reason: r}\n")
    out = run("verify", str(path))
    assert ("coverage: 1 of the 5 published cost figures (papers and their authors' releases) checked; 4 unchecked"
            in out.out), out.out  # 3 x 4 weights + 4 biases = 16 params; 8 x 8 x 4 x 3 = 768 MACs
    listed = run("verify", str(path), "--unchecked")
    assert "4 figures in 2 entries" in listed.out


def test_a_truncated_figure_passes_only_from_itself_up_to_its_last_digit(run, tmp_path):
    """`printed: truncated`: the source cuts the count off at its last digit (300.77 M printed 300 M),
    so the count must lie in [value, value + tolerance); a rounded figure accepts value +- tolerance."""
    import json

    # 3 x 4 weights + 4 biases = 16 params; 8 x 8 x 4 x 3 = 768 MACs
    head = "name: tr\ninput: {channels: 3, size: 8}\nlayers:\n  - {type: conv, out: 4, kernel: 1}\nreferences:\n"
    cases = {  # (value, tolerance, printed) -> status for the count 768
        (760, 10, "truncated"): "pass",   # 760 <= 768 < 770
        (768, 1, "truncated"): "pass",    # the count itself
        (767, 1, "truncated"): "FAIL",    # 768 would print 768
        (770, 10, "truncated"): "FAIL",   # below the figure: a cut-off figure is never above its count
        (770, 10, "rounded"): "pass",     # within +-10
    }
    for (value, tol, printed), status in cases.items():
        path = tmp_path / "tr.yaml"
        path.write_text(head + f"  - {{quantity: macs, value: {value}, tolerance: {tol}, printed: {printed}, source: x}}\n")
        out = run("verify", str(path), "--format", "json")
        (record,) = json.loads(out.out)
        assert (record["status"], record["printed"], out.code) == (status, printed, 0 if status == "pass" else 1), (value, tol, printed)
    path.write_text(head + "  - {quantity: macs, value: 760, tolerance: 10, printed: truncated, source: x}\n")
    text = run("verify", str(path)).out
    assert "[0, 10)" in text and "a tolerance [0, t): the source cuts its figures off" in text
    path.write_text(head + "  - {quantity: macs, value: 760, tolerance: 10, printed: cut, source: x}\n")
    bad = run("verify", str(path))
    assert bad.code == 2 and "printed" in bad.out + bad.err and "Traceback" not in bad.out + bad.err


def test_the_unchecked_list_as_csv_says_how_many_figures_each_entry_stands_for(run):
    import csv
    import io

    out = run("verify", "mnasnet", "--unchecked", "--format", "csv")
    rows = list(csv.DictReader(line for line in io.StringIO(out.out) if not line.startswith("#")))
    assert rows and rows[0]["figures"] == "24" and rows[0]["spec"] == "mnasnet"  # one entry: the README's other 24 rows
