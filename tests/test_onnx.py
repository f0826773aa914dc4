"""ONNX in and out: `report model.onnx`, `convert`, `export`, and the round trip spec -> ONNX -> costcalc.

Expected numbers come from outside costcalc: hand-computed literals for small graphs built with
onnx.helper, and for the files in tests/data/onnx the counts of torchvision itself (see
TORCHVISION below and tests/data/onnx/make_fixtures.py, which made them).
"""

from __future__ import annotations

import random
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT

DATA = ROOT / "tests" / "data" / "onnx"

#: torchvision 0.29.1 with torch 2.14.1, each model built as torchvision.models.NAME() in eval mode
#: (googlenet and inception_v3 with aux_logits=False, init_weights=False), exported by
#: torch.onnx.export at the input size given, made by tests/data/onnx/make_fixtures.py:
#: name -> (px, params, MACs, file params)
#: - params: sum(p.numel() for p in model.parameters()) (weights, biases, BatchNorm affine)
#: - MACs: forward hooks on every nn.Conv2d (output elements x in/groups x kh x kw) and nn.Linear (in x out)
#: - file params: of the `dynamo` export (torch.onnx.export(dynamo=True), the default), whose optimizer folds
#:   each BatchNorm into the conv before it and drops all-zero biases: per node, the elements of the Conv/Gemm
#:   weight and bias and the BatchNormalization scale and shift initializers, counted with the onnx package.
#: The `ts` export (dynamo=False, do_constant_folding=False) keeps every BatchNorm: its params are torchvision's.
TORCHVISION = {
    "resnet18": (224, 11689512, 1814073344, 11679912),
    "resnet50": (224, 25557032, 4089184256, 25503912),
    "mobilenet_v2": (224, 3504872, 300774272, 3469760),
    "mobilenet_v3_large": (224, 5483032, 216589760, 5451272),
    "mobilenet_v3_small": (224, 2542856, 56510400, 2525832),
    "shufflenet_v2_x1_0": (224, 2278604, 144907992, 2262424),
    "squeezenet1_0": (224, 1248424, 818924576, 1244448),
    "squeezenet1_1": (224, 1235496, 349151936, 1231552),
    "googlenet": (224, 6624904, 1498376192, 6610344),
    "efficientnet_b0": (224, 5288548, 385814752, 5236192),
    "mnasnet1_0": (224, 4383312, 314415872, 4344392),
    "densenet121": (224, 7978856, 2834161664, 7962880),
    "inception_v3": (299, 23834568, 5713216096, 23800136),
    "alexnet": (224, 61100840, 714188480, 61100840),
    "vgg16": (224, 138357544, 15470264320, 138344128),
    "resnext50_32x4d": (224, 25028904, 4230479872, 24960680),
}
FIXTURES = [(name, kind) for name in TORCHVISION for kind in ("ts", "dynamo")]


#: Keras 3.15.1 Applications, keras.applications.NAME(weights=None) at its default input size, exported by
#: Model.export(format="onnx") with KERAS_BACKEND=torch (torch 2.14.1's torch.onnx: BatchNorm spelled
#: (x - mean) * factor + shift) and with KERAS_BACKEND=tensorflow (TensorFlow 2.x + tf2onnx: BatchNorm
#: folded into the convs), made by tests/data/onnx/make_keras_fixtures.py: name -> (px, trainable
#: params, BatchNorm channels without a learned scale, MACs, file params of the tf2onnx export)
#: - trainable: sum of model.trainable_weights' sizes (Keras' count_params() adds BatchNorm's moving
#:   mean and variance, which are not learned)
#: - BatchNorm without scale: InceptionV3's BatchNorms have scale=False; the graph has a constant factor
#:   there and costcalc counts it as BatchNorm's (2 per channel), so params = trainable + these channels
#: - MACs: each Conv2D, DepthwiseConv2D, SeparableConv2D and Dense layer from its static output shape
#: - file params: per node, as counted with the onnx package by the oracle in make_keras_fixtures.py
KERAS = {
    "MobileNet": (224, 4231976, 0, 568740352, 4214048),
    "MobileNetV2": (224, 3504872, 0, 300774272, 3476896),
    "ResNet50": (224, 25583592, 0, 3857973248, 25502912),
    "DenseNet121": (224, 7978856, 0, 2834161664, 7928544),
    "EfficientNetB0": (224, 5288548, 0, 385814752, 5245152),
    "InceptionV3": (299, 23817352, 17216, 5713216096, 23799136),
    "VGG16": (224, 138357544, 0, 15470264320, None),  # tf2onnx: not exported (too slow here)
    "Xception": (299, 22855952, 0, 8357403496, 22800424),  # torch backend: torch.onnx fails on it
}
KERAS_FILES = [(n, k) for n in KERAS for k in ("keras-torch", "keras-tf") if (DATA / f"{n}.{k}.onnx").exists()]


@pytest.mark.parametrize("name,kind", KERAS_FILES, ids=[f"{n}.{k}" for n, k in KERAS_FILES])
def test_keras_exports_count_as_keras_does(name, kind):
    from costcalc import evaluate, load_spec

    px, trainable, unscaled, macs, file_params = KERAS[name]
    spec = load_spec(_fixture(name, kind))
    assert spec.input_size == (px, px) and spec.input_channels == 3
    res = evaluate(spec)
    assert res.total("macs") == macs
    assert res.total("params") == (trainable + unscaled if kind == "keras-torch" else file_params)


def test_every_keras_fixture_is_checked():
    assert len(KERAS_FILES) == 14


def _fixture(name, kind):
    return str(DATA / f"{name}.{kind}.onnx")


# -- the files exported by torch: torchvision's own integers ------------------------------------


@pytest.mark.parametrize("name,kind", FIXTURES, ids=[f"{n}.{k}" for n, k in FIXTURES])
def test_torchvision_exports_count_as_torchvision_does(name, kind):
    from costcalc import evaluate, load_spec

    px, params, macs, file_params = TORCHVISION[name]
    spec = load_spec(_fixture(name, kind))
    assert spec.input_size == (px, px)
    res = evaluate(spec)
    assert res.total("macs") == macs
    assert res.total("params") == (params if kind == "ts" else file_params)


def test_the_report_of_an_onnx_file_names_its_layers_after_the_modules(run):
    r = run("report", _fixture("resnet18", "ts"), "--depth", "1", "--format", "json")
    assert r.code == 0, r.err
    import json

    doc = json.loads(r.out)
    assert [row["name"] for row in doc["layers"]][:6] == ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2"]
    assert doc["totals"]["params"] == 11689512
    assert doc["totals"]["bn_params"] == 2 * 4800  # torchvision resnet18: 9,600 BatchNorm affine parameters


def test_an_onnx_model_takes_another_resolution_but_not_another_width(run):
    r = run("report", _fixture("resnet18", "ts"), "--resolution", "448", "--format", "json")
    assert r.code == 0, r.err
    import json

    # torchvision counts at 448 px (same constructor, input 1x3x448x448): every conv has 4x the
    # output elements, the classifier (512 x 1000 MACs) stays
    fc = 512 * 1000
    assert json.loads(r.out)["totals"]["macs"] == 4 * (1814073344 - fc) + fc
    r = run("report", _fixture("resnet18", "ts"), "--alpha", "0.5")
    assert r.code == 2
    assert "widths of this network are fixed" in r.err and "Traceback" not in r.err


def test_convert_writes_a_spec_that_reports_the_same(run, tmp_path):
    import json

    import jsonschema

    from costcalc.schema import spec_schema
    from costcalc.yamlio import parse_yaml

    for name in ("shufflenet_v2_x1_0", "densenet121", "efficientnet_b0", "inception_v3"):
        for kind in ("ts", "dynamo"):
            out = tmp_path / f"{name}.{kind}.yaml"
            r = run("convert", _fixture(name, kind), "-o", str(out))
            assert r.code == 0, r.err
            text = out.read_text()
            jsonschema.validate(parse_yaml(text, str(out)), spec_schema())
            a = json.loads(run("report", _fixture(name, kind), "--format", "json").out)
            b = json.loads(run("report", str(out), "--format", "json").out)
            assert a["totals"] == b["totals"]
            assert [x["name"] for x in a["layers"]] == [x["name"] for x in b["layers"]]


def test_convert_refuses_a_yaml_spec(run):
    r = run("convert", "mobilenet")
    assert r.code == 2 and "reads an ONNX model" in r.err


# -- small graphs built with onnx.helper: hand-computed counts -----------------------------------

onnx = pytest.importorskip("onnx", reason="the onnx package (the test extra installs it)")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def _save(tmp_path, nodes, inits=None, dims=(1, 3, 8, 8), out="y", opset=17, name="m.onnx", value_info=()):
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(dims))],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)],
        initializer=[numpy_helper.from_array(np.asarray(v), k) for k, v in (inits or {}).items()],
        value_info=list(value_info))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    path = tmp_path / name
    path.write_bytes(model.SerializeToString())
    return str(path)


def _w(*shape):
    return np.zeros(shape, dtype=np.float32)


def _i(*values):
    return np.array(values, dtype=np.int64)


def _totals(path, **kw):
    from costcalc import evaluate, load_spec

    res = evaluate(load_spec(path), **kw)
    return {q: res.total(q) for q in ("params", "macs", "ops", "mem_access")}, res


def test_conv_relu_pool_gemm(tmp_path):
    path = _save(tmp_path, [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("GlobalAveragePool", ["r"], ["p"], name="pool"),
        helper.make_node("Flatten", ["p"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], name="fc", transB=1),
    ], {"w": _w(4, 3, 3, 3), "b": _w(4), "fw": _w(10, 4), "fb": _w(10)})
    t, res = _totals(path)
    # conv: 4x3x3x3 + 4 = 112 params, 8x8 outputs x 4 x 27 = 6,912 MACs; fc: 40 + 10 params, 40 MACs
    assert t["params"] == 112 + 50
    assert t["macs"] == 6912 + 40
    # ops: conv bias 256, relu 256, pool 256 (one add per input), fc bias 10
    assert t["ops"] == 256 + 256 + 256 + 10
    # memory access: conv 192 in + 256 out + 112 weights; relu 256 + 256; pool 256 + 4; fc 4 + 10 + 50
    assert t["mem_access"] == 560 + 512 + 260 + 64
    assert [lr.type for lr in res.layers] == ["conv", "relu", "avgpool", "linear"]  # Flatten before Gemm: a view


def test_grouped_and_depthwise_convs(tmp_path):
    path = _save(tmp_path, [
        helper.make_node("Conv", ["x", "dw"], ["d"], name="dw", group=3, kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Conv", ["d", "gw"], ["y"], name="gc", group=2, kernel_shape=[1, 1]),
    ], {"dw": _w(6, 1, 3, 3), "gw": _w(4, 3, 1, 1)})
    t, res = _totals(path)
    assert [lr.type for lr in res.layers] == ["dwconv", "conv"]
    # depthwise, multiplier 2: 6 x 9 = 54 params, 6x8x8 x 9 = 3,456 MACs; 2 groups of 3 -> 2: 4 x 3 = 12, 4x64x3 = 768
    assert (t["params"], t["macs"]) == (54 + 12, 3456 + 768)


@pytest.mark.parametrize("how", ["pads", "Pad", "auto_pad"])
def test_tf_style_padding_gives_the_same_output_and_counts(tmp_path, how):
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], name="conv", kernel_shape=[3, 3], strides=[2, 2],
                              **({"pads": [0, 0, 1, 1]} if how == "pads" else {"auto_pad": "SAME_UPPER"} if how == "auto_pad" else {}))]
    inits = {"w": _w(5, 3, 3, 3)}
    if how == "Pad":
        nodes.insert(0, helper.make_node("Pad", ["x", "pads"], ["xp"], name="pad"))
        nodes[1].input[0] = "xp"
        inits["pads"] = _i(0, 0, 0, 0, 0, 0, 1, 1)
    t, res = _totals(_save(tmp_path, nodes, inits))
    lr = res.layers[-1]
    assert (int(lr.c), int(lr.h), int(lr.w)) == (5, 4, 4)  # TF 'same': ceil(8 / 2)
    assert t["macs"] == 5 * 16 * 27


def test_channel_shuffle_split_slice_and_concat(tmp_path):
    path = _save(tmp_path, [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv", kernel_shape=[1, 1]),
        helper.make_node("Reshape", ["c", "s5"], ["r5"], name="view"),
        helper.make_node("Transpose", ["r5"], ["t5"], name="transpose", perm=[0, 2, 1, 3, 4]),
        helper.make_node("Reshape", ["t5", "s4"], ["sh"], name="shuffle"),
        helper.make_node("Split", ["sh"], ["a", "b"], name="split", axis=1, num_outputs=2),
        helper.make_node("Slice", ["b", "st", "en", "ax"], ["b2"], name="slice"),
        helper.make_node("Concat", ["a", "b2"], ["y"], name="cat", axis=1),
    ], {"w": _w(4, 3, 1, 1), "s5": _i(1, 2, 2, 8, 8), "s4": _i(1, -1, 8, 8), "st": _i(1), "en": _i(2), "ax": _i(1)})
    t, res = _totals(path)
    types = [(lr.type, int(lr.c)) for lr in res.layers]
    assert types == [("conv", 4), ("shuffle", 4), ("split", 2), ("split", 2), ("split", 1), ("concat", 3)]
    spec = res.spec
    assert spec.layers[1].attrs["groups"] == 2
    # memory access: conv 192 + 256 + 12; shuffle 256 + 256; each split reads and writes its section:
    # 128 + 128 twice; the slice 64 + 64; concat 128 + 64 in, 192 out
    assert t["mem_access"] == 460 + 512 + 256 + 256 + 128 + 384


def test_squeeze_excitation_and_swish(tmp_path):
    path = _save(tmp_path, [
        helper.make_node("Sigmoid", ["x"], ["s"], name="act/sigmoid"),
        helper.make_node("Mul", ["x", "s"], ["a"], name="act/mul"),  # x * sigmoid(x): swish
        helper.make_node("GlobalAveragePool", ["a"], ["p"], name="se/pool"),
        helper.make_node("Conv", ["p", "w1", "b1"], ["q"], name="se/fc1", kernel_shape=[1, 1]),
        helper.make_node("Relu", ["q"], ["qr"], name="se/relu"),
        helper.make_node("Conv", ["qr", "w2", "b2"], ["g"], name="se/fc2", kernel_shape=[1, 1]),
        helper.make_node("Sigmoid", ["g"], ["gs"], name="se/gate"),
        helper.make_node("Mul", ["gs", "a"], ["y"], name="se/scale"),
    ], {"w1": _w(2, 3, 1, 1), "b1": _w(2), "w2": _w(3, 2, 1, 1), "b2": _w(3)})
    t, res = _totals(path)
    assert [lr.type for lr in res.layers] == ["swish", "avgpool", "conv", "relu", "conv", "sigmoid", "mul"]
    assert (int(res.layers[-1].c), int(res.layers[-1].h)) == (3, 8)  # the gate broadcasts over 8x8
    assert t["params"] == 8 + 9 and t["macs"] == 6 + 6
    # ops: swish 192, pool 192, biases 2 + 3, relu 2, sigmoid 3, the gating product 192
    assert t["ops"] == 192 + 192 + 5 + 2 + 3 + 192


def test_matmul_with_a_bias_add_clip_and_reduce_mean(tmp_path):
    path = _save(tmp_path, [
        helper.make_node("Clip", ["x", "lo", "hi"], ["c"], name="relu6"),
        helper.make_node("ReduceMean", ["c"], ["m"], name="mean", axes=[2, 3], keepdims=0),
        helper.make_node("MatMul", ["m", "w"], ["mm"], name="fc"),
        helper.make_node("Add", ["mm", "b"], ["y"], name="fc_bias"),
    ], {"lo": np.array(0, np.float32), "hi": np.array(6, np.float32), "w": _w(3, 7), "b": _w(7)}, opset=13)
    t, res = _totals(path)
    assert [lr.type for lr in res.layers] == ["relu6", "avgpool", "linear"]
    assert res.spec.layers[-1].attrs["bias"] is True
    assert (t["params"], t["macs"]) == (21 + 7, 21)


def test_keras_layouts_and_batchnorm_spelled_out(tmp_path):
    """Keras' exports: an N, H, W, C input, transposes around each conv, a BatchNorm as
    (x - mean) * scale + shift, and (tf2onnx) a folded BatchNorm's remaining per-channel factor."""
    path = _save(tmp_path, [
        helper.make_node("Cast", ["x"], ["xc"], name="cast", to=1),
        helper.make_node("Transpose", ["xc"], ["t"], name="to_nchw", perm=[0, 3, 1, 2]),
        helper.make_node("Conv", ["t", "w"], ["c"], name="conv", kernel_shape=[1, 1]),
        helper.make_node("Transpose", ["c"], ["ct"], name="to_nhwc", perm=[0, 2, 3, 1]),
        helper.make_node("Sub", ["ct", "mean"], ["s"], name="bn/sub"),
        helper.make_node("Mul", ["s", "inv"], ["m"], name="bn/mul"),
        helper.make_node("Add", ["m", "beta"], ["b"], name="bn/add"),
        helper.make_node("Relu", ["b"], ["r"], name="relu"),
        helper.make_node("Transpose", ["r"], ["rt"], name="back", perm=[0, 3, 1, 2]),
        helper.make_node("Mul", ["rt", "gamma"], ["y"], name="scale"),
    ], {"w": _w(4, 3, 1, 1), "mean": _w(4), "inv": _w(4), "beta": _w(4), "gamma": _w(1, 4, 1, 1)}, dims=(1, 8, 8, 3))
    t, res = _totals(path)
    assert res.spec.input_channels == 3 and res.spec.input_size == (8, 8)
    assert [lr.type for lr in res.layers] == ["conv", "bn", "relu", "scale"]
    # conv 4 x 3; bn 2 x 4; scale 4 (one factor per channel)
    assert t["params"] == 12 + 8 + 4
    assert t["ops"] == 2 * 256 + 256 + 256


def _unknown(tmp_path, value_info=()):
    return _save(tmp_path, [
        helper.make_node("Relu", ["x"], ["r"], name="features/relu"),
        helper.make_node("Foo", ["r"], ["f"], name="features.3/Foo", domain=""),
        helper.make_node("Conv", ["f", "w"], ["y"], name="conv", kernel_shape=[1, 1]),
    ], {"w": _w(2, 3, 1, 1)}, value_info=value_info)


def test_an_unknown_operator_is_an_error_naming_the_node(run, tmp_path):
    path = _unknown(tmp_path)
    out = tmp_path / "out.json"
    r = run("report", path, "-f", "json", "-o", str(out))
    assert r.code == 2
    assert r.err == f"error: {path}: node 'features.3/Foo' (op Foo): no cost rule\n"
    assert not out.exists()


def test_allow_unknown_keeps_it_as_an_uncosted_row(run, tmp_path):
    info = [helper.make_tensor_value_info("f", TensorProto.FLOAT, [1, 3, 8, 8])]
    path = _unknown(tmp_path, info)
    r = run("report", path, "--allow-unknown")
    assert r.code == 0, r.err
    assert "NOT COSTED: 1 layer without a cost rule (Foo); the totals leave out" in r.out
    assert "uncosted" in r.out
    # without a recorded shape there is nothing to carry on with: still the error
    r = run("report", _unknown(tmp_path / "..", ()), "--allow-unknown")
    assert r.code == 2 and "no cost rule" in r.err


def _bad_files(tmp_path):
    good = _save(tmp_path, [helper.make_node("Relu", ["x"], ["y"], name="relu")], name="good.onnx")
    data = open(good, "rb").read()
    cases = {
        "truncated.onnx": data[: len(data) // 2],
        "garbage.onnx": bytes(random.Random(1).randrange(256) for _ in range(300)),
        "yaml.onnx": b"name: x\nlayers: []\n",
        "empty.onnx": b"",
    }
    for name, blob in cases.items():
        (tmp_path / name).write_bytes(blob)
    _save(tmp_path, [helper.make_node("Relu", ["x"], ["y"], name="relu")], opset=99, name="opset.onnx")
    _save(tmp_path, [helper.make_node("Relu", ["x"], ["y"], name="relu")], dims=("N", 3, "H", "W"), name="dynamic.onnx")
    _save(tmp_path, [helper.make_node("Relu", ["z"], ["y"], name="relu")], name="undefined.onnx")
    huge = [helper.make_node("ConstantOfShape", ["big"], ["zeros"], name="zeros"),
            helper.make_node("Relu", ["x"], ["y"], name="relu")]
    _save(tmp_path, huge, {"big": _i(100000, 100000, 100000)}, name="huge.onnx")
    return {
        "truncated.onnx": "not a readable ONNX model: truncated",
        "garbage.onnx": "not a readable ONNX model",
        "yaml.onnx": "not a readable ONNX model",
        "empty.onnx": "empty file",
        "opset.onnx": "operator set 99 is not supported",
        "dynamic.onnx": "input 'x': expected a static shape [N, C, H, W], got [N, 3, H, W]",
        "undefined.onnx": "node 'relu' (op Relu): input 0 ('z') is not defined before this node",
        "huge.onnx": "node 'zeros' (op ConstantOfShape): a constant too large to evaluate",
    }


def test_bad_onnx_files_are_one_line_errors(run, tmp_path):
    for name, message in _bad_files(tmp_path).items():
        out = tmp_path / "out.csv"
        r = run("report", str(tmp_path / name), "-f", "csv", "-o", str(out))
        assert r.code == 2, name
        assert r.err.startswith(f"error: {tmp_path / name}") and message in r.err, (name, r.err)
        assert r.err.count("\n") == 1 and "Traceback" not in r.err
        assert not out.exists()


def test_mutated_onnx_files_never_end_in_a_traceback(run, tmp_path):
    """Bytes flipped, cut and repeated anywhere in a real export: a report or one located line."""
    data = (DATA / "shufflenet_v2_x1_0.ts.onnx").read_bytes()
    rng = random.Random(7)
    path = tmp_path / "m.onnx"
    for k in range(150):
        blob = bytearray(data)
        kind = k % 3
        at = rng.randrange(len(blob))
        if kind == 0:
            for _ in range(rng.randint(1, 8)):
                blob[rng.randrange(len(blob))] = rng.randrange(256)
        elif kind == 1:
            blob = blob[:at]
        else:
            blob[at:at] = blob[at:at + rng.randint(1, 64)]
        path.write_bytes(bytes(blob))
        r = run("report", str(path), "-f", "json")
        assert r.code in (0, 2), (k, r.err)
        if r.code == 2:
            assert r.err.startswith("error: ") and r.err.count("\n") == 1, (k, r.err)


# -- export, and the round trip spec -> ONNX -> costcalc -------------------------------------------


def _configs():
    from costcalc.spec import bundled_names, describe

    out = []
    for name in bundled_names():
        variants = list(describe(name)["variants"]) or [None]
        out += [f"{name}:{v}" if v else name for v in variants]
    return out


QUANTITIES = ("params", "bn_params", "macs", "ops", "mem_access", "activations")


@pytest.mark.parametrize("ref", _configs())
def test_round_trip_spec_onnx_costcalc(ref):
    from costcalc import evaluate, load_spec
    from costcalc.onnx_export import export_model
    from costcalc.onnx_import import document
    from costcalc.onnxio import read_model
    from costcalc.spec import build_spec

    spec = load_spec(ref)
    alpha = 0.5 if spec.width.rounding != "fixed" and ref.startswith("mobilenet") else 1.0
    model = export_model(spec, alpha, weights="zeros")
    back = build_spec(document(read_model(model.SerializeToString()), "m.onnx"), "m.onnx")
    a, b = evaluate(spec, alpha), evaluate(back)
    assert {q: a.total(q) for q in QUANTITIES} == {q: b.total(q) for q in QUANTITIES}
    theirs = {lr.name: lr for lr in b.layers}
    for lr in a.layers:  # every layer of the spec is a layer of the model, with the same counts
        if lr.type == "flatten" and lr.name not in theirs:
            continue  # a flatten before a linear layer is folded into it (a view either way)
        assert {q: int(lr.values[q]) for q in QUANTITIES} == {q: int(theirs[lr.name].values[q]) for q in QUANTITIES}, lr.name


def test_export_writes_a_checked_model_that_onnx_runtime_runs(run, tmp_path):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime (the test extra installs it)")
    from costcalc import evaluate, load_spec

    for ref, args in (("shufflenet_v2", ()), ("squeezenet:1.1", ("--resolution", "160")),
                      ("mobilenet", ("--alpha", "0.25", "--resolution", "128")), ("googlenet", ()),
                      ("shufflenet", ("--set", "groups=8"))):
        path = tmp_path / "m.onnx"
        r = run("export", ref, *args, "-o", str(path))
        assert r.code == 0, r.err
        model = onnx.load(str(path))
        onnx.checker.check_model(model, full_check=True)
        spec = load_spec(ref, settings={"groups": 8} if "groups=8" in args else None)
        kw = dict(zip(("alpha" if a == "--alpha" else "resolution" for a in args[::2] if a != "--set"),
                      (float(v) for a, v in zip(args[::2], args[1::2]) if a != "--set")))
        res = evaluate(spec, **kw)
        for lr in res.layers:  # every layer's tensor as an output: ONNX Runtime's shapes are costcalc's
            if lr.name != model.graph.output[0].name:
                model.graph.output.append(helper.make_empty_tensor_value_info(lr.name))
        sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        h = int(res.resolution.reshape(-1)[0])
        x = np.random.default_rng(0).standard_normal((2, 3, h, h), dtype=np.float32)
        got = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {"input": x})))
        for lr in res.layers:
            y = got[lr.name]
            assert y.shape[0] == 2
            assert (y.shape[1:] if y.ndim == 4 else (y.shape[1], 1, 1)) == (int(lr.c), int(lr.h), int(lr.w)), (ref, lr.name)
        assert np.isfinite(got[res.layers[-1].name]).all()


def test_a_batchnorm_without_a_learned_scale_round_trips(tmp_path):
    """gamma: false (Keras' BatchNormalization(scale=False)) exports its scale as ones made from a
    shape (ConstantOfShape), which ONNX Runtime runs and costcalc reads back as no parameter; a
    scale that is an initializer is learned. 8 channels: 8 parameters, not 16."""
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime (the test extra installs it)")
    from costcalc import evaluate, load_spec
    from costcalc.onnx_export import export_model
    from costcalc.onnx_import import document
    from costcalc.onnxio import read_model
    from costcalc.spec import build_spec

    for gamma, params in ((False, 8), (True, 16)):
        spec = load_spec(f"name: t\ninput: {{channels: 8, size: 4}}\nlayers:\n  - {{type: bn, gamma: {str(gamma).lower()}}}\n")
        model = export_model(spec, 1.0, weights="random")
        onnx.checker.check_model(model, full_check=True)
        y = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(
            None, {"input": np.ones((1, 8, 4, 4), np.float32)})[0]
        assert y.shape == (1, 8, 4, 4) and np.isfinite(y).all()
        back = build_spec(document(read_model(model.SerializeToString()), "m.onnx"), "m.onnx")
        assert evaluate(back).total("params") == evaluate(spec).total("params") == params
        assert back.layers[0].attrs["gamma"] is gamma


def test_export_of_a_bad_configuration_writes_nothing(run, tmp_path):
    out = tmp_path / "m.onnx"
    r = run("export", "googlenet", "--resolution", "100", "-o", str(out))
    assert r.code == 2 and "googlenet.yaml" in r.err
    assert not out.exists()


def test_zeros_and_random_weights(run, tmp_path):
    for weights in ("zeros", "random"):
        out = tmp_path / f"{weights}.onnx"
        assert run("export", "lenet5", "--weights", weights, "-o", str(out)).code == 0
        model = onnx.load(str(out))
        w = numpy_helper.to_array(next(t for t in model.graph.initializer if t.name.endswith(".weight")))
        assert (not w.any()) if weights == "zeros" else (w.std() > 0)
        assert weights in model.doc_string


def test_the_yaml_path_imports_no_onnx():
    code = ("import sys; from costcalc.cli import main; main(['report', 'mobilenet']); "
            f"main(['report', {_fixture('resnet18', 'ts')!r}]); "
            "sys.exit(3 if any(m == 'onnx' or m.startswith(('onnx.', 'onnxruntime')) for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


# -- `from`: a layer that reads an earlier one -----------------------------------------------------


def test_from_names_an_earlier_layer(run, write_spec):
    path = write_spec("""
input: {channels: 3, size: 8}
layers:
  - {name: a, type: conv, out: 4, kernel: 1}
  - {name: b/x, type: conv, out: 4, kernel: 1}
  - {name: c, type: conv, out: 4, kernel: 1, from: a}
  - {name: cat, type: concat, from: [a, b/x, c]}
  - {name: d, type: conv, out: 2, kernel: 1, from: input}
""")
    from costcalc import evaluate, load_spec

    res = evaluate(load_spec(path))
    assert [int(lr.c) for lr in res.layers] == [4, 4, 4, 12, 2]
    # weights + biases (the default): a 4 x 3 + 4; b and c read a: 4 x 4 + 4; d reads the input: 2 x 3 + 2
    assert [int(lr.values["params"]) for lr in res.layers] == [16, 20, 20, 0, 8]


def test_from_errors(run, write_spec):
    r = run("report", write_spec("input: {channels: 3, size: 8}\nlayers:\n  - {name: a, type: relu}\n"
                                 "  - {name: b, type: relu, from: aa}\n"))
    assert r.code == 2 and "layers[1].from: no layer 'aa' before this one (did you mean 'a'?)" in r.err
    r = run("report", write_spec("input: {channels: 3, size: 8}\nlayers:\n  - {name: a, type: relu}\n"
                                 "  - {type: add, from: [a, input], branches: [[], []]}\n"))
    assert r.code == 2 and "not both" in r.err


def test_verify_of_a_model_without_references_says_so(run):
    r = run("verify", str(ROOT / "docs" / "examples" / "resnet18.onnx"))
    assert r.code == 0 and "no published figures to check" in r.out


def _random_graph(rng):
    """A small graph of random operators, inputs and attributes (most of them nonsense)."""
    ops = ["Conv", "Relu", "Add", "Mul", "Concat", "Split", "Slice", "Reshape", "Transpose", "MaxPool", "AveragePool",
           "GlobalAveragePool", "Flatten", "Gemm", "MatMul", "BatchNormalization", "Clip", "Sigmoid", "Pad", "ReduceMean",
           "Identity", "Dropout", "Squeeze", "Unsqueeze", "Cast", "Sub", "Div", "Softmax", "LRN", "Shape", "Gather",
           "Constant", "HardSigmoid", "Sum", "Range", "Expand", "ConstantOfShape", "Foo"]
    names = ["kernel_shape", "pads", "strides", "group", "axis", "perm", "split", "num_outputs", "axes", "keepdims",
             "transB", "ceil_mode", "size", "auto_pad", "to", "dilations"]

    def ints(n, lo=-3, hi=9):
        return [rng.randint(lo, hi) for _ in range(n)]

    tensors, nodes, inits = ["x"], [], []
    for k in range(rng.randint(1, 6)):
        op = rng.choice(ops)
        ins = [rng.choice(tensors) for _ in range(rng.randint(0, 3))]
        attrs = {}
        for a in rng.sample(names, rng.randint(0, 3)):
            if a in ("kernel_shape", "strides", "dilations"):
                attrs[a] = ints(rng.choice([1, 2, 3]), 0, 4)
            elif a in ("pads", "perm", "split", "axes"):
                attrs[a] = ints(rng.choice([1, 2, 4, 5, 8]), -1, 5)
            elif a == "auto_pad":
                attrs[a] = rng.choice(["SAME_UPPER", "VALID", "NOTSET", "XX"])
            else:
                attrs[a] = rng.randint(-3, 8)
        for _ in range(rng.randint(0, 2)):
            shape = ints(rng.randint(0, 4), 0, 5)
            value = np.zeros(shape, np.float32) if rng.random() < .7 else np.array(ints(max(1, len(shape))), np.int64)
            inits.append(numpy_helper.from_array(value, f"w{len(inits)}"))
            ins.append(f"w{len(inits) - 1}")
        outs = [f"t{k}_{j}" for j in range(rng.choice([1, 1, 1, 2]))]
        nodes.append(helper.make_node(op, ins, outs, name=f"n{k}", **attrs))
        tensors += outs
    dims = rng.choice([[1, 3, 8, 8], [1, 4, 6, 6], ["N", 3, 8, 8], [1, 8, 8, 3], [1, 3, 1, 1]])
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)],
                              [helper.make_tensor_value_info(tensors[-1], TensorProto.FLOAT, None)], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", rng.choice([11, 13, 17, 18]))])
    model.ir_version = 8
    return model.SerializeToString()


def _perturbed_net(rng):
    """A valid small network with one or two attributes or inputs changed at random."""
    specs = {
        "conv": ("Conv", ["x", "w"], {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "strides": [1, 1], "group": 1}),
        "relu": ("Relu", ["conv"], {}),
        "pool": ("MaxPool", ["relu"], {"kernel_shape": [2, 2], "strides": [2, 2]}),
        "cat": ("Concat", ["pool", "pool"], {"axis": 1}),
        "gap": ("GlobalAveragePool", ["cat"], {}),
        "flat": ("Flatten", ["gap"], {"axis": 1}),
        "fc": ("Gemm", ["flat", "fw"], {"transB": 1}),
    }
    order = list(specs)
    for _ in range(rng.randint(1, 2)):
        name = rng.choice(order)
        op, ins, attrs = specs[name]
        attrs, ins = dict(attrs), list(ins)
        if attrs and rng.random() < 0.7:
            key = rng.choice(list(attrs))
            attrs[key] = rng.randint(-2, 5) if isinstance(attrs[key], int) else [rng.randint(-1, 4) for _ in attrs[key]]
        else:
            ins[rng.randrange(len(ins))] = rng.choice(order + ["x", "w"])
        specs[name] = (op, ins, attrs)
    nodes = [helper.make_node(op, ins, [name], name=name, **attrs) for name, (op, ins, attrs) in specs.items()]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("fc", TensorProto.FLOAT, None)],
                              initializer=[numpy_helper.from_array(_w(4, 3, 3, 3), "w"), numpy_helper.from_array(_w(5, 8), "fw")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def test_random_graphs_never_end_in_a_traceback(run, tmp_path):
    """Random operators with random inputs and attributes, and valid networks with random changes:
    a report or one line naming the node."""
    rng = random.Random(3)
    path = tmp_path / "m.onnx"
    outcomes = {0: 0, 2: 0}
    for k in range(300):
        path.write_bytes(_random_graph(rng) if k % 2 else _perturbed_net(rng))
        for args in (("report", str(path), "-f", "json"), ("report", str(path), "--allow-unknown"), ("convert", str(path))):
            r = run(*args)
            assert r.code in (0, 2), (k, args, r.err)
            assert r.code == 0 or (r.err.startswith("error: ") and r.err.count("\n") == 1), (k, r.err)
            outcomes[r.code] += 1
    assert outcomes[0] > 50  # the corpus reaches the cost rules, not only the checks
