"""Names of the configuration in a layer's keys: in_channels, block_in_channels, alpha, in_height,
in_width, resolution. Hand-computed values, grid = one configuration at a time, and one-line errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from costcalc.engine import QUANTITIES, evaluate
from costcalc.errors import SpecError
from costcalc.spec import build_spec, load_spec
from costcalc.yamlio import parse_yaml


def spec(text, **settings_):
    return build_spec(parse_yaml(text, "t.yaml"), "t.yaml", settings=settings_ or None)


# squeeze-excitation whose squeeze width is rounded from the *scaled* width it gates (MobileNet v3's
# _make_divisible(expanded // 4, 8)), and whose excite conv gives back the block's input width
SE = """name: se
input: {channels: 3, size: 32}
width: {rounding: make_divisible, divisor: 8}
defaults: {bias: true}
blocks:
  se:
    layers:
      - name: gate
        type: mul
        branches:
          - []
          - [{type: avgpool, global: true},
             {name: squeeze, type: conv, out: "$ make_divisible(in_channels // 4, 8)", kernel: 1}, {type: relu},
             {name: excite, type: conv, out: "$ block_in_channels", kernel: 1}, {type: hsigmoid}]
layers:
  - {name: stem, type: conv, out: 72, kernel: 3, padding: 1}
  - {name: se, block: se}
"""


def rows(res):
    return {lr.name: lr for lr in res.layers}


@pytest.mark.parametrize("alpha, c, sq", [
    (1.0, 72, 24),    # 72 // 4 = 18 -> 24 (the nearest multiple of 8 is 16, more than 10% below 18)
    (0.75, 56, 16),   # 72 x 0.75 = 54 -> 56; 56 // 4 = 14 -> 16
    (0.5, 40, 16),    # 36 -> 40; 40 // 4 = 10 -> 8, more than 10% below 10 -> 16
    (2.0, 144, 40),   # 144 // 4 = 36 -> 40
])
def test_squeeze_width_follows_the_scaled_channels(alpha, c, sq):
    r = rows(evaluate(spec(SE), alpha=alpha))
    assert r["stem"].c == c
    assert r["se/gate/squeeze"].c == sq and r["se/gate/squeeze"].values["params"] == c * sq + sq
    assert r["se/gate/excite"].c == c and r["se/gate/excite"].values["params"] == sq * c + c
    assert r["se/gate"].c == c


def test_the_squeeze_width_is_not_scaled_again_by_alpha():
    # written as a number (24) it would be scaled to 16 at alpha 0.75; as an expression of the
    # scaled input it is the implementation's own value
    fixed = spec(SE.replace('"$ make_divisible(in_channels // 4, 8)"', "24"))
    assert rows(evaluate(fixed, alpha=0.75))["se/gate/squeeze"].c == 24  # 24 x 0.75 = 18 -> 24
    assert rows(evaluate(fixed, alpha=0.5))["se/gate/squeeze"].c == 16  # 12 -> 16
    assert rows(evaluate(spec(SE), alpha=0.5))["se/gate/squeeze"].c == 16
    assert rows(evaluate(spec(SE), alpha=0.75))["se/gate/squeeze"].c == 16


SPATIAL = """name: sp
input: {channels: 8, size: 32}
layers:
  - {name: c, type: conv, out: 16, kernel: 3, stride: 2, padding: 1}
  - {name: pool, type: avgpool, kernel: "$ [in_height, in_width]"}           # a global pool, spelled out
  - {name: fc, type: conv, out: "$ 10 if resolution < 64 else 20", kernel: 1, scale: false}
"""


@pytest.mark.parametrize("px, fc_out", [(32, 10), (64, 20), (50, 10)])
def test_spatial_names_are_the_input_of_the_layer(px, fc_out):
    res = evaluate(spec(SPATIAL), resolution=px)
    r = rows(res)
    h = (px + 2 - 3) // 2 + 1
    assert (r["pool"].c, r["pool"].h, r["pool"].w) == (16, 1, 1)
    assert r["pool"].values["ops"] == 16 * h * h  # one op per element of each window
    assert r["fc"].c == fc_out
    # the network as this configuration builds it: every key a value
    pool = next(layer for layer in res.spec.layers if layer.name == "pool")
    assert pool.attrs["kernel"] == (h, h) and not pool.deferred


def _one_by_one(s, alphas, res):
    out = {q: np.empty((len(alphas), len(res)), dtype=np.int64) for q in QUANTITIES}
    for i, a in enumerate(alphas):
        for j, r in enumerate(res):
            one = evaluate(s, alpha=float(a), resolution=int(r), per_layer=False)
            for q in QUANTITIES:
                out[q][i, j] = one.total(q)
    return out


@pytest.mark.parametrize("text", [SE, SPATIAL], ids=["out of in_channels", "keys of the resolution"])
def test_a_grid_is_each_configuration(text):
    s = spec(text)
    alphas, res = [0.5, 0.75, 1.0, 1.3], [32, 48, 64, 96]
    grid = evaluate(s, alpha=alphas, resolution=res)
    expect = _one_by_one(s, alphas, res)
    for q in QUANTITIES:
        assert np.array_equal(grid.totals[q], expect[q]), q
    # per layer too, and as pairs
    per = evaluate(s, alpha=alphas, resolution=res, per_layer=True)
    one = evaluate(s, alpha=0.75, resolution=64)
    for lr, lo in zip(per.layers, one.layers):
        assert int(np.broadcast_to(lr.values["macs"], per.shape)[1, 2]) == lo.values["macs"]
    pairs = evaluate(s, alpha=alphas, resolution=res, grid=False)
    for q in QUANTITIES:
        assert np.array_equal(pairs.totals[q], np.diagonal(expect[q])), q


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from([0.25, 0.5, 0.6, 0.75, 1.0, 1.1, 1.4, 2.0]), min_size=1, max_size=4, unique=True),
       st.lists(st.integers(16, 160), min_size=1, max_size=4, unique=True))
def test_property_grid_equals_one_at_a_time(alphas, res):
    for text in (SE, SPATIAL):
        s = spec(text)
        grid = evaluate(s, alpha=alphas, resolution=res, per_layer=False)
        expect = _one_by_one(s, alphas, res)
        assert all(np.array_equal(grid.totals[q], expect[q]) for q in QUANTITIES)


def test_mobilenet_v3_at_other_widths_is_torchvision():
    # torchvision 0.29.1, MobileNetV3(*_mobilenet_v3_conf(NAME, width_mult=0.75)): sum of parameter
    # sizes and conv + linear MACs by forward hooks (run for this spec; also references in the spec)
    large = load_spec("mobilenet_v3:large", settings={"impl": "torchvision"})
    small = load_spec("mobilenet_v3:small", settings={"impl": "torchvision"})
    assert evaluate(large, alpha=0.75).total("params") == 3_377_576
    assert evaluate(large, alpha=0.75).total("macs") == 140_033_816
    assert evaluate(small, alpha=0.75, resolution=160).total("macs") == 20_626_936
    # one sweep over widths and resolutions gives the same integers
    grid = evaluate(large, alpha=[0.75, 1.0], resolution=[224, 160], per_layer=False)
    assert grid.totals["macs"].tolist() == [[140_033_816, 72_676_568], [216_589_760, 112_472_000]]


@pytest.mark.parametrize("impl, expanded", [
    # Large block9 (the table: 80 -> 184 -> 80) at alpha 0.75. TF-slim (the paper's code) and Keras expand
    # the scaled input: make_divisible(80 x 0.75 = 60) = 64, 64 x 184 / 80 = 147.2 -> 144; torchvision
    # scales the table's width: 184 x 0.75 = 138 -> 136 (tensorflow/models slim mobilenet_v3.py and
    # conv_blocks.expand_input_by_factor; keras mobilenet_v3.py _inverted_res_block; torchvision
    # mobilenetv3.py InvertedResidualConfig.adjust_channels)
    ("paper", 144), ("keras", 144), ("torchvision", 136)])
def test_mobilenet_v3_expansion_width_by_implementation(impl, expanded):
    r = rows(evaluate(load_spec("mobilenet_v3:large", settings={"impl": impl}), alpha=0.75))
    assert r["features/block9/add/bneck/expand"].c == expanded
    assert r["features/block9/add/bneck/dw"].c == expanded  # the depthwise conv keeps it


def test_mobilenet_v3_last_layers_by_implementation():
    large = {impl: rows(evaluate(load_spec("mobilenet_v3:large", settings={"impl": impl}), alpha=0.33))
             for impl in ("paper", "torchvision")}
    # TF-slim scales the 960 conv itself: 960 x 0.33 = 316.8 -> 320; torchvision makes it 6x the last
    # block's width: 160 x 0.33 = 52.8 -> 56, 6 x 56 = 336
    assert large["paper"]["features/lastconv"].c == 320 and large["torchvision"]["features/lastconv"].c == 336
    small = {(impl, a, fg): rows(evaluate(load_spec("mobilenet_v3:small", settings={"impl": impl, "finegrain": fg}), alpha=a))
             for impl, a, fg in [("paper", 0.75, False), ("paper", 0.75, True), ("keras", 0.75, False),
                                 ("keras", 1.25, False), ("keras", 0.5, False), ("paper", 0.5, False)]}
    # the classifier conv (1024 in Small): TF-slim scales it (768) unless finegrain; Keras only up
    # (1024 x 1.25 = 1280)
    assert [small[k]["classifier1"].c for k in [("paper", 0.75, False), ("paper", 0.75, True), ("keras", 0.75, False),
                                                ("keras", 1.25, False)]] == [768, 1024, 1024, 1280]
    # Keras' stem is 16 channels at every alpha (3 x 3 x 3 x 16 weights); TF-slim's 16 x 0.5 = 8
    assert small[("keras", 0.5, False)]["stem"].values["params"] == 3 * 3 * 3 * 16
    assert small[("paper", 0.5, False)]["stem"].values["params"] == 3 * 3 * 3 * 8


@pytest.mark.parametrize("settings, words", [
    ({"impl": "torchvision", "minimalistic": True}, "torchvision has no minimalistic"),
    ({"impl": "keras", "finegrain": True}, "finegrain is TF-slim's"),
])
def test_mobilenet_v3_refuses_what_an_implementation_does_not_build(run, settings, words):
    args = [a for k, v in settings.items() for a in ("--set", f"{k}={str(v).lower()}")]
    out = run("report", "mobilenet_v3", *args)
    assert out.code == 2 and words in out.err and "Traceback" not in out.err and len(out.err.strip().splitlines()) == 1


def test_mobilenet_v3_minimalistic_has_no_squeeze_excitation_and_3x3_depthwise():
    r = rows(evaluate(load_spec("mobilenet_v3:small", settings={"minimalistic": True})))
    assert not any("/se/" in name for name in r)
    # Small block4 (24 -> 96 -> 40, a 5x5 depthwise at stride 2 in the full model): 3x3 here, 96 x 9 weights
    assert r["features/block4/dw"].values["params"] == 96 * 9
    assert {lr.type for lr in r.values()} & {"hswish", "hsigmoid"} == set()


def test_efficientnet_squeeze_of_the_block_input():
    # B2 (width 1.1): stage3's first block reads make_divisible(24 x 1.1) = 24 channels, expands
    # them 6x to 144 and squeezes to max(1, 24 // 4) = 6 (torchvision's MBConv); the excite conv
    # gives back 144. Params of a 1x1 conv with bias: in x out + out.
    r = rows(evaluate(load_spec("efficientnet:b2")))
    assert r["stage3/first/expand"].c == 144
    assert r["stage3/first/se/fc1"].c == 6 and r["stage3/first/se/fc1"].values["params"] == 144 * 6 + 6
    assert r["stage3/first/se/fc2"].c == 144 and r["stage3/first/se/fc2"].values["params"] == 6 * 144 + 144
    # depth: stage 6 has ceil(4 x 1.2) = 5 blocks
    assert [n for n in r if n.startswith("stage6/") and n.endswith("/project")] == [
        "stage6/first/project"] + [f"stage6/block.{i}/add/mbconv/project" for i in range(1, 5)]


@pytest.mark.parametrize("text, where, message", [
    ("layers:\n  - {type: conv, out: 8, kernel: 1, repeat: \"$ in_channels\"}\n",
     "layers[0].repeat", "'in_channels' is known only in a layer's own keys"),
    ("parameters: {alpha: 2}\nlayers:\n  - {type: relu}\n", "parameters.alpha", "'alpha' is a reserved name"),
    ("layers:\n  - {type: maxpool, kernel: \"$ in_height - 30\"}\n", "layers[0].kernel",
     "expected a positive integer or a list of two, got 0 (at alpha 1, resolution 30, in_channels 3"),
    ("layers:\n  - {type: conv, out: \"$ 8 // (in_channels - 3)\", kernel: 1}\n", "layers[0].out", "division by zero"),
    ("layers:\n  - {type: conv, out: \"$ in_channels - 3\", kernel: 1}\n", "layers[0].out", "expected a positive integer, got 0"),
    ("layers:\n  - {type: maxpool, kernel: 3, padding: \"$ in_height // 2\"}\n", "layers[0].padding",
     "padding [15, 15] is more than half the kernel [3, 3]"),
])
def test_errors_name_the_file_the_place_and_the_configuration(text, where, message):
    with pytest.raises(SpecError) as err:
        s = spec("name: e\ninput: {channels: 3, size: 30}\n" + text)
        evaluate(s)
    line = str(err.value)
    assert line.startswith("t.yaml:") and where in line and message in line, line
    assert "\n" not in line


def test_a_sweep_error_names_the_configuration_that_fails():
    s = spec("name: e\ninput: {channels: 3, size: 30}\nlayers:\n  - {type: maxpool, kernel: \"$ in_height - 40\"}\n")
    with pytest.raises(SpecError) as err:
        evaluate(s, resolution=[60, 50, 40, 41])
    assert "got 0 (at alpha 1, resolution 40, " in str(err.value)  # the failing one of the four, and only it


def test_export_writes_the_configuration_it_was_asked_for(tmp_path):
    pytest.importorskip("onnx", reason="the onnx extra (installed by the test extra)")
    from costcalc.onnx_export import export_model
    import onnx

    s = spec(SPATIAL)
    path = tmp_path / "sp.onnx"
    onnx.save(export_model(s, resolution=64), str(path))
    back = evaluate(load_spec(str(path)))
    one = evaluate(s, resolution=64)
    assert [back.total(q) for q in ("params", "macs")] == [one.total(q) for q in ("params", "macs")]
    assert back.total("macs") == 8 * 16 * 9 * 32 * 32 + 16 * 20  # the conv, and the 1x1 to 20 at 64 px


def test_latency_over_a_grid_of_a_spec_with_configured_keys():
    from costcalc.latency import load_profile, predict

    s = spec(SPATIAL)
    grid = evaluate(s, resolution=[32, 64], per_layer=True)
    pred = predict(grid, load_profile("snapdragon810"))
    assert pred.total.shape == (1, 2) and np.all(pred.total > 0)
