"""Latency: the roofline per layer (hand-computed), device profiles (validated like specs), the
calibration's fit, and measurements in ONNX Runtime (run, never timed against a bound)."""

from __future__ import annotations

import json

import pytest

from conftest import read_csv

SPEC = """
input: {channels: 3, size: 8}
layers:
  - {name: conv, type: conv, out: 4, kernel: 3, padding: 1, bias: false}
  - {name: relu, type: relu}
  - {name: flat, type: flatten}
"""

# rates chosen so every term is a round number of milliseconds
PROFILE = """
name: toy
title: a device of round numbers
macs_per_s: {conv: 1.0e6, conv1x1: 1.0e6, group: 1.0e6, dwconv: 1.0e6, linear: 1.0e6}
ops_per_s: 1.0e5
bandwidth: 1.0e6
overhead: 0.001
run_overhead: 0.0005
"""


@pytest.fixture
def toy(write_spec):
    return write_spec(SPEC, "net.yaml"), write_spec(PROFILE, "toy.yaml")


def test_roofline_by_hand(run, toy):
    spec, profile = toy
    r = run("report", spec, "--device", profile, "-f", "json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    lat = [row["latency_ms"] for row in doc["layers"]]
    # conv: 8x8 outputs x 4 x 27 = 6,912 MACs at 1e6/s = 6.912 ms; memory 192 + 256 + 108 = 556 elements
    # x 4 B at 1e6 B/s = 2.224 ms: compute-bound, + 1 ms overhead
    # relu: 256 ops at 1e5/s = 2.56 ms; memory 512 x 4 B = 2.048 ms: + 1 ms
    # flatten: a view, nothing
    assert lat == [7.912, 3.56, 0.0]
    assert doc["totals"]["latency_ms"] == 7.912 + 3.56 + 0.5  # and 0.5 ms per inference
    assert doc["device"] == "toy"


def test_a_fused_activation_costs_nothing(run, toy, write_spec):
    spec, _ = toy
    fused = write_spec(PROFILE + "fuse: [relu]\n", "fused.yaml")
    doc = json.loads(run("report", spec, "--device", fused, "-f", "json").out)
    assert [row["latency_ms"] for row in doc["layers"]] == [7.912, 0.0, 0.0]


def test_the_table_states_the_device_and_the_bounds(run, toy):
    spec, profile = toy
    r = run("report", spec, "--device", profile)
    assert "latency: predicted on a device of round numbers [toy] by a roofline per layer" in r.out
    text = " ".join(r.out.split())
    assert ("predicted latency 11.972 ms on toy (batch 1): layers 11.472 ms + 0.500 ms per inference; "
            "2 layers compute-bound, 0 memory-bound, 0 fused") in text  # relu: 2.56 ms of ops > 2.048 ms of memory
    assert "Latency ms" in r.out


def test_sweep_and_compare_predict_what_report_predicts(run):
    rows = read_csv(run("sweep", "mobilenet", "--alpha", "1,0.5", "--resolution", "224,160", "--device", "gtx1080ti",
                        "-f", "csv").out)
    assert len(rows) == 4
    for row in rows:
        one = json.loads(run("report", "mobilenet", "--alpha", row["alpha"], "--resolution", row["resolution"],
                             "--device", "gtx1080ti", "-f", "json").out)
        assert float(row["latency_ms"]) == one["totals"]["latency_ms"]
    cmp = json.loads(run("compare", "mobilenet", "squeezenet", "--device", "snapdragon810", "-f", "json").out)
    rep = json.loads(run("report", "squeezenet", "--device", "snapdragon810", "-f", "json").out)
    assert cmp[1]["totals"]["latency_ms"] == rep["totals"]["latency_ms"]


def test_layer_latencies_add_up_to_the_total(run):
    doc = json.loads(run("report", "shufflenet_v2", "--device", "snapdragon810", "-f", "json").out)
    from costcalc.latency import load_profile

    run_ms = load_profile("snapdragon810").run_overhead * 1e3
    assert sum(r["latency_ms"] for r in doc["layers"]) + run_ms == pytest.approx(doc["totals"]["latency_ms"], abs=1e-5)
    depth = json.loads(run("report", "shufflenet_v2", "--device", "snapdragon810", "--depth", "1", "-f", "json").out)
    assert depth["totals"]["latency_ms"] == doc["totals"]["latency_ms"]


def test_layer_kinds():
    from costcalc import load_spec
    from costcalc.latency import kind_of

    spec = load_spec("shufflenet")
    kinds = {layer.name: kind_of(layer) for layer in spec.layers}
    assert kinds["conv1"] == "conv"
    assert "group" in kinds.values() and "dwconv" in kinds.values() and "data" in kinds.values()
    assert kinds["fc"] == "linear" and kinds["globalpool"] == "elementwise"


def test_bundled_profiles_have_sources():
    from costcalc.latency import device_names, load_profile

    assert {"gtx1080ti", "snapdragon810", "i7-8700k"} <= set(device_names())
    for name in device_names():
        p = load_profile(name)
        assert p.sources and all(p.sources.values())
        assert set(p.macs_per_s) == {"conv", "conv1x1", "group", "dwconv", "linear"}


@pytest.mark.parametrize("text,message", [
    ("name: x\n", "missing"),
    (PROFILE.replace("bandwidth: 1.0e6", "bandwidth: -3"), "bandwidth: expected a number above 0"),
    (PROFILE + "bandwith: 3\n", "did you mean 'bandwidth'"),
    (PROFILE.replace("conv: 1.0e6, ", ""), "macs_per_s"),
    ("- a\n- b\n", "expected a device profile"),
    (PROFILE + "fuse: [conv]\n", "fuse"),
    (PROFILE.replace("overhead: 0.001", "overhead: .nan"), "finite"),
])
def test_bad_profiles_are_one_line_errors(run, write_spec, text, message):
    spec = write_spec(SPEC, "net.yaml")
    profile = write_spec(text, "bad.yaml")
    r = run("report", spec, "--device", profile)
    assert r.code == 2 and message in r.err and r.err.count("\n") == 1, r.err
    assert r.err.startswith("error: ") and "bad.yaml" in r.err


def test_an_unknown_device_lists_the_bundled_ones(run):
    r = run("report", "mobilenet", "--device", "gtx1080")
    assert r.code == 2 and "did you mean 'gtx1080ti'" in r.err and "snapdragon810" in r.err


def test_kendall_tau():
    from costcalc.latency import kendall_tau

    assert kendall_tau([1, 2, 3], [10, 20, 30]) == 1
    assert kendall_tau([1, 2, 3], [3, 2, 1]) == -1
    assert kendall_tau([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(4 / 6)  # 5 concordant pairs, 1 discordant


def test_calibration_recovers_a_known_device():
    """The fit, fed the times a known profile predicts for each probe chain, gives that profile back
    (its relu and sigmoid probes are memory-bound here: the bandwidth is recovered), and the fitted
    profile predicts every probe's time as measured."""
    from costcalc.engine import evaluate
    from costcalc.latency import Profile, predict
    from costcalc.measure import PROBES, fit, probe_spec

    truth = Profile("t", "", {"conv": 5e10, "conv1x1": 4e10, "group": 2e10, "dwconv": 1e10, "linear": 3e9},
                    ops_per_s=1e12, bandwidth=8e10, overhead=2e-6, data_bandwidth=3e10, run_overhead=5e-5)

    def measure(spec):
        return predict(evaluate(spec), truth).total

    got = fit(measure)
    # the overhead probe (a 1x1 conv on 8x4x4) adds its own tiny compute: 1,024 MACs at 4e10/s
    assert got["overhead"] == pytest.approx(truth.overhead + 1024 / 4e10, rel=1e-6)
    assert got["run_overhead"] == pytest.approx(truth.run_overhead, rel=1e-6)
    assert got["bandwidth"] == pytest.approx(truth.bandwidth, rel=0.01)
    assert got["data_bandwidth"] == pytest.approx(truth.data_bandwidth, rel=0.01)
    for kind in ("conv", "conv1x1", "group", "dwconv"):
        assert got["macs_per_s"][kind] == pytest.approx(truth.macs_per_s[kind], rel=0.02), kind
    fitted = Profile("f", "", got["macs_per_s"], got["ops_per_s"], got["bandwidth"], got["overhead"],
                     data_bandwidth=got["data_bandwidth"], run_overhead=got["run_overhead"])
    for name, (c, h, item) in PROBES.items():
        spec = probe_spec(c, h, item, 9)
        assert predict(evaluate(spec), fitted).total == pytest.approx(measure(spec), rel=0.01), name


# -- measured in ONNX Runtime (the test extra installs it): runs, not speeds ---------------------------

ort = pytest.importorskip("onnxruntime", reason="onnxruntime (the test extra installs it)")


def test_bench_measures_a_spec(run):
    r = run("bench", "lenet5", "--runs", "3", "--warmup", "1", "--device", "snapdragon810", "-f", "json")
    assert r.code == 0, r.err
    rec = json.loads(r.out)
    assert rec["runs"] == 3 and rec["median_ms"] > 0 and rec["p10_ms"] <= rec["p90_ms"]
    assert rec["predicted_ms"] > 0 and rec["runtime"].startswith("ONNX Runtime")


def test_calibrate_writes_a_profile_that_device_accepts(run, tmp_path):
    out = tmp_path / "local.yaml"
    r = run("calibrate", "--runs", "2", "-o", str(out))
    assert r.code == 0, r.err
    r = run("report", "mobilenet", "--device", str(out), "-f", "json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["totals"]["latency_ms"] > 0


def test_the_guideline_experiments_are_measured(run):
    r = run("analyze", "guidelines", "--measure", "--runs", "1", "--device", "snapdragon810", "-f", "json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    recs = doc["settings"]
    assert {g: sum(x["guideline"] == g for x in recs) for g in ("G1", "G2", "G3", "G4")} == {"G1": 12, "G2": 12, "G3": 15, "G4": 12}
    assert all(x["measured_images_per_s"] > 0 and x["predicted_images_per_s"] > 0 for x in recs)
    # equal FLOPs within a row of the paper's tables: G1's settings at x1 are 60.7 M to 64.2 M MACs
    g1 = [x["macs"] for x in recs if x["guideline"] == "G1" and x["scale"] == "x1"]
    assert max(g1) / min(g1) < 1.06
    assert len(doc["verdicts"]) == 4 and all("with the paper on the fastest setting" in v for v in doc["verdicts"])


def _bundled():
    from costcalc.spec import bundled_names

    return bundled_names()


@pytest.mark.parametrize("ref", _bundled())
def test_every_bundled_spec_is_predicted_and_measured(run, ref):
    from costcalc.latency import device_names

    for device in device_names():
        doc = json.loads(run("report", ref, "--device", device, "-f", "json").out)
        assert doc["totals"]["latency_ms"] > 0
    r = run("bench", ref, "--runs", "1", "--warmup", "0", "-f", "json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["median_ms"] > 0
