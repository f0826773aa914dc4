"""The command line: formats, the JSON contract, exit codes, one-line errors, help, golden tables."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, read_csv, render

COMMANDS = ["report", "compare", "sweep", "verify", "check", "list", "schema"]


def test_report_header_states_configuration_and_conventions(run):
    r = run("report", "mobilenet", "--alpha", "0.75", "--rho", "0.857")
    assert r.code == 0, r.err
    assert "alpha 0.75, input 3x192x192" in r.out
    assert "1 MAC = 1 multiply-accumulate = 2 FLOPs" in r.out
    assert "batch 1" in r.out
    # 0.75 MobileNet-192: Howard et al. 2017, Table 10 gives 239 M mult-adds
    assert "239,273,472" in r.out


def test_json_contract(run):
    r = run("report", "mobilenet", "--format", "json", "--flops-per-mac", "1", "--bytes", "2")
    doc = json.loads(r.out)
    assert set(doc) >= {"spec", "config", "totals", "layers"}
    assert set(doc["config"]) >= {"alpha", "resolution", "variant", "flops_per_mac", "bytes"}
    assert set(doc["totals"]) >= {"params", "bn_params", "macs", "flops", "mem_access", "activations"}
    assert set(doc["layers"][0]) >= {"name", "type", "output", "params", "bn_params", "macs", "flops", "mem_access", "activations"}
    t = doc["totals"]
    assert t["flops"] == t["macs"]  # --flops-per-mac 1
    assert t["mem_access_bytes"] == 2 * t["mem_access"]
    for q in ("params", "bn_params", "macs", "mem_access", "activations"):
        assert sum(layer[q] for layer in doc["layers"]) == t[q], q


def test_depth_rolls_up_to_blocks(run):
    doc = json.loads(run("report", "mobilenet", "--depth", "1", "--format", "json").out)
    names = [layer["name"] for layer in doc["layers"]]
    assert "conv8" in names and "conv8.1/dw" not in names
    conv8 = doc["layers"][names.index("conv8")]
    assert conv8["layers"] == 30  # 5 repeats x (dw, bn, relu, pw, bn, relu)
    assert sum(layer["macs"] for layer in doc["layers"]) == doc["totals"]["macs"]


def test_csv_and_markdown(run):
    text = run("report", "mobilenet", "--format", "csv").out
    assert text.startswith("# config: alpha 1, input 3x224x224") and "# 1 MAC = 1 multiply-accumulate" in text
    rows = read_csv(text)
    assert rows[0]["name"] == "conv1" and rows[0]["output"] == "32x112x112"
    assert rows[-2]["name"] == "softmax" and rows[-3]["output"] == "1000"  # shapes as the table writes them
    assert rows[-1]["name"] == "Total" and rows[-1]["layers"] == "84"
    assert sum(int(r["macs"]) for r in rows[:-1]) == int(rows[-1]["macs"]) == 568_740_352
    md = run("report", "mobilenet", "--format", "markdown").out
    assert "| Layer | Type |" in md and "| conv1 | conv |" in md


def test_output_is_written_atomically(run, tmp_path):
    target = tmp_path / "out.json"
    assert run("report", "mobilenet", "--format", "json", "-o", str(target)).code == 0
    before = target.read_text()
    assert json.loads(before)["spec"] == "mobilenet"
    # a failing run leaves the previous file intact and no temporary file behind
    assert run("report", "nosuchspec", "--format", "json", "-o", str(target)).code == 2
    assert target.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_compare_ratios(run):
    doc = json.loads(run("compare", "mobilenet", "mobilenet:conv", "--format", "json").out)
    assert [d["label"] for d in doc] == ["mobilenet:dws", "mobilenet:conv"]
    # Table 4: 29.3 M vs 4.2 M weights, 4866 M vs 569 M mult-adds: ~8.5x the compute
    ratio = doc[1]["totals"]["macs"] / doc[0]["totals"]["macs"]
    assert 8.4 < ratio < 8.7
    assert doc[0]["top1"] == 70.6 and doc[1]["top1"] == 71.7
    table = run("compare", "mobilenet", "mobilenet:conv").out
    assert "vs first" in table and "8.56x" in table
    # --set applies to the specs that have the parameter; one no spec has is an error
    doc = json.loads(run("compare", "mobilenet", "mobilenet:conv", "--set", "classes=10", "--format", "json").out)
    assert doc[0]["config"]["settings"]["classes"] == 10
    r = run("compare", "mobilenet", "--set", "groups=3")
    assert r.code == 2 and "no compared spec has this parameter" in r.err


def test_sweep_is_the_papers_sixteen_models(run):
    r = run("sweep", "mobilenet", "--alpha", "1,0.75,0.5,0.25", "--resolution", "224,192,160,128", "--format", "csv")
    rows = read_csv(r.out)
    assert len(rows) == 16 and r.out.startswith("# 1 MAC = 1 multiply-accumulate")
    got = {(float(x["alpha"]), int(x["resolution"])): int(x["macs"]) for x in rows}
    # Howard et al. 2017, Table 6 (alpha at 224) and Table 7 (resolution at 1.0), +-1 M rounding
    for key, published in {(0.75, 224): 325, (0.5, 224): 149, (1.0, 160): 290, (1.0, 128): 186}.items():
        assert abs(got[key] / 1e6 - published) <= 1
    table = run("sweep", "mobilenet", "--alpha", "1,0.5", "--rho", "1,0.714").out
    assert "160" in table and "70.6" in table


def test_verify_passes_and_fails(run, write_spec):
    r = run("verify", "mobilenet")
    assert r.code == 0, r.out
    assert "passed, 0 failed" in r.out
    bad = write_spec("""
name: wrong
input: {channels: 1, size: 4}
layers: [{type: conv, out: 1, kernel: 1, bias: false}]
references:
  - {quantity: macs, value: 17, source: "a test: 4*4*1*1 = 16 MACs, so 17 must fail"}
""")
    r = run("verify", bad)
    assert r.code == 1
    assert "FAIL" in r.out


def test_list_shows_specs_and_variants(run):
    r = run("list")
    assert r.code == 0
    assert "mobilenet" in r.out and "dws*" in r.out and "conv" in r.out
    entries = json.loads(run("list", "--format", "json").out)
    assert any(e["name"] == "mobilenet" for e in entries)
    # a parameter's choices, default first; a narrow column breaks them after a |, not inside a name
    assert {e["name"]: e for e in entries}["resnet"]["choices"]["stride_on"] == ["auto", "3x3", "1x1"]
    lines = [line.split() for line in r.out.splitlines()]
    words = {w.rstrip(",") for line in lines for w in line}
    assert "impl=paper|torchvision|" in words and "impl=pape" not in words and "r|torchvision|keras" not in words


@pytest.mark.parametrize(
    "args, expected",
    [
        (["report", "nosuchspec"], "no such file or bundled spec"),
        (["report", "mobilenet:nope"], "no variant 'nope'"),
        (["report", "mobilenet", "--alpha", "-1"], "'--alpha': expected a number above 0 and at most 1000, got '-1'"),
        (["report", "mobilenet", "--alpha", "abc"], "'--alpha': expected a number above 0 and at most 1000, got 'abc'"),
        (["report", "mobilenet", "--rho", "1", "--resolution", "224"], "not both"),
        (["report", "mobilenet", "--resolution", "0"], "'--resolution': expected a whole number from 1 to 1,000,000, got '0'"),
        (["report", "mobilenet", "--resolution", "22.5"], "'--resolution': expected a whole number from 1 to 1,000,000, got '22.5'"),
        (["report", "mobilenet", "--set", "clases=10"], "did you mean 'classes'?"),
        (["report", "mobilenet", "--set", "novalue"], "expected KEY=VALUE"),
        (["report", "mobilenet", "--bogus"], "No such option"),
        (["report", "mobilenet", "--format", "xml"], "'xml' is not one of"),
        (["frobnicate"], "No such command"),
    ],
)
def test_bad_input_is_one_line_exit_2(run, args, expected):
    r = run(*args)
    assert r.code == 2
    assert r.err.count("\n") == 1 and r.err.startswith("error: ")
    assert expected in r.err
    assert "Traceback" not in r.err and r.out == ""


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(run, command):
    for flag in ("-h", "--help"):
        r = run(command, flag)
        assert r.code == 0
        assert "Example:" in r.out


def test_python_dash_m_runs():
    proc = subprocess.run([sys.executable, "-m", "costcalc", "report", "mobilenet", "--format", "json"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["totals"]["macs"] == 568_740_352


def test_golden_report(golden):
    import costcalc
    from costcalc.report import Conventions, report_table

    res = costcalc.evaluate(costcalc.load_spec("mobilenet"), alpha=0.75, rho=0.857)
    golden("report_mobilenet_075_192_depth1.txt", render(report_table(res, Conventions(), depth=1)))


def test_golden_compare(golden):
    import costcalc
    from costcalc.report import Conventions, compare_table

    results = [costcalc.evaluate(costcalc.load_spec(ref)) for ref in ("mobilenet", "mobilenet:conv")]
    golden("compare_mobilenet_dws_conv.txt", render(compare_table(results, Conventions())))


def test_a_grid_error_names_the_configuration_that_fails(run, write_spec):
    # the grid's own error would quote its largest values ("input 0 has 8 channels, input 1 has 8")
    path = write_spec("name: t\ninput: {channels: 8, size: 32}\n"
                      "layers:\n  - {type: add, branches: [[{type: conv, out: 8, kernel: 1}], []]}\n")
    for args in (["sweep", path, "--alpha", "1,0.5"], ["sweep", path, "--alpha", "1,0.5", "--format", "csv"]):
        r = run(*args)
        assert r.code == 2 and r.out == "" and r.err.count("\n") == 1
        assert "at alpha 0.5, input 32 px: add of mismatched shapes: input 0 has 4 channels, input 1 has 8" in r.err
    r = run("sweep", "googlenet", "--resolution", "224,97")
    assert r.code == 2 and "at alpha 1, input 97 px: pooling window 7 is larger" in r.err


def test_shell_completion_offers_bundled_specs_and_files():
    def complete(words: str) -> list[str]:
        env = {**os.environ, "_COSTCALC_COMPLETE": "bash_complete", "COMP_WORDS": words,
               "COMP_CWORD": str(len(words.split()) - 1)}
        proc = subprocess.run([sys.executable, "-m", "costcalc"], capture_output=True, text=True, env=env, cwd=ROOT)
        return proc.stdout.split()

    assert complete("costcalc report squeeze") == ["plain,squeezenet", "plain,squeezenext", "file,squeeze"]
    assert "plain,mobilenet_v2" in complete("costcalc analyze dws mobile")
    assert "plain,sweep" in complete("costcalc sw")


def test_group_by_type_tells_pointwise_from_depthwise(run):
    doc = json.loads(run("report", "mobilenet", "--group-by", "type", "--format", "json").out)
    groups = {g["name"]: g for g in doc["layers"]}
    assert sum(g["macs"] for g in doc["layers"]) == doc["totals"]["macs"] == 568_740_352
    assert sum(g["layers"] for g in doc["layers"]) == 84
    assert groups["conv 1x1"]["layers"] == 13 and groups["dwconv 3x3"]["layers"] == 13
    # Howard et al. 2017, Table 2: 1x1 convolutions take 94.86% of the mult-adds, depthwise 3x3 3.06%
    assert abs(100 * groups["conv 1x1"]["macs"] / 568_740_352 - 94.86) < 0.01
    assert abs(100 * groups["dwconv 3x3"]["macs"] / 568_740_352 - 3.06) < 0.01
    table = run("report", "mobilenet", "--group-by", "type").out
    assert "by layer type" in table and "Output" not in table and "conv 1x1" in table
    csv_rows = read_csv(run("report", "mobilenet", "--group-by", "stage", "--format", "csv").out)
    assert [r["name"] for r in csv_rows[:3]] == ["conv1", "conv1_bn", "conv1_relu"]
    r = run("report", "mobilenet", "--group-by", "type", "--depth", "1")
    assert r.code == 2 and "not both" in r.err
