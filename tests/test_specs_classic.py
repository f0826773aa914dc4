"""SqueezeNet, AlexNet and VGG-16: hand-computed layers and the papers' comparisons."""

from __future__ import annotations

import json

import numpy as np

import costcalc
from conftest import render
from costcalc.verify import quantity


def layer_sum(result, prefix, q="params"):
    return int(quantity(result, q, prefix))


def test_fire2_params_by_hand():
    # fire2 on 96 channels (Iandola et al. 2016, Table 1: 11,920):
    # squeeze 16 x (96 + 1) = 1,552; expand1x1 64 x (16 + 1) = 1,088; expand3x3 64 x (9*16 + 1) = 9,280
    res = costcalc.evaluate(costcalc.load_spec("squeezenet"))
    assert layer_sum(res, "fire2") == 1_552 + 1_088 + 9_280 == 11_920
    # output: 64 + 64 channels at 55x55 (Table 1: 55x55x128)
    fire2 = [lr for lr in res.layers if lr.name == "fire2/expand"][0]
    assert (int(np.reshape(fire2.c, -1)[0]), int(np.reshape(fire2.h, -1)[0])) == (128, 55)


def test_squeezenet_table1_output_sizes():
    # Table 1: conv1 111x111x96, maxpool1 55x55x96, maxpool4 27x27x256, maxpool8 13x13x512, conv10 13x13x1000
    res = costcalc.evaluate(costcalc.load_spec("squeezenet"))
    shapes = {lr.name: (int(np.reshape(lr.c, -1)[0]), int(np.reshape(lr.h, -1)[0])) for lr in res.layers}
    assert shapes["conv1"] == (96, 111)
    assert shapes["pool1"] == (96, 55)
    assert shapes["pool4"] == (256, 27)
    assert shapes["pool8"] == (512, 13)
    assert shapes["head/conv10"] == (1000, 13)


def test_released_caffe_conv10_runs_over_a_zero_border():
    # forresti/SqueezeNet @51147dc SqueezeNet_v1.0/deploy.prototxt: conv10 {num_output: 1000, pad: 1,
    # kernel_size: 1} on fire9's 512x13x13 gives (13 + 2 - 1) / 1 + 1 = 15: 1000 x 512 x 15 x 15 MACs
    paper = costcalc.evaluate(costcalc.load_spec("squeezenet:1.0"))
    caffe = costcalc.evaluate(costcalc.load_spec("squeezenet:1.0", settings={"impl": "caffe"}))
    conv10 = [lr for lr in caffe.layers if lr.name == "head/conv10"][0]
    assert (int(np.reshape(conv10.c, -1)[0]), int(np.reshape(conv10.h, -1)[0])) == (1000, 15)
    assert int(np.reshape(conv10.values["macs"], -1)[0]) == 1000 * 512 * 15 * 15 == 115_200_000
    assert int(caffe.total("macs")) - int(paper.total("macs")) == 1000 * 512 * (15 * 15 - 13 * 13)
    assert int(caffe.total("params")) == int(paper.total("params"))
    # v1.1's released conv10 has no padding: the same network as the spec's
    v11 = [costcalc.evaluate(costcalc.load_spec("squeezenet:1.1", settings=s)).total("macs")
           for s in (None, {"impl": "caffe"})]
    assert int(v11[0]) == int(v11[1])


def test_simple_bypass_adds_no_parameters_but_adds_ops():
    # Iandola et al. 2016, Sec. 6: the simple bypass is an element-wise add, no parameters (4.8 MB both)
    plain = costcalc.evaluate(costcalc.load_spec("squeezenet:1.0"))
    bypass = costcalc.evaluate(costcalc.load_spec("squeezenet", variant="simple_bypass"))
    assert int(plain.total("params")) == int(bypass.total("params"))
    # four adds: fire3 and fire5 outputs 128x55x55 and 256x27x27, fire7 384x27x27, fire9 512x13x13
    extra = 128 * 55 * 55 + 256 * 27 * 27 + 384 * 27 * 27 + 512 * 13 * 13
    assert int(bypass.total("ops")) - int(plain.total("ops")) == extra


def test_squeezenet_11_is_cheaper():
    # forresti/SqueezeNet v1.1 README: "2.4x less computation than v1.0" (at 224x224 the count gives 2.35x)
    v10 = costcalc.evaluate(costcalc.load_spec("squeezenet:1.0"), resolution=224).total("macs")
    v11 = costcalc.evaluate(costcalc.load_spec("squeezenet:1.1"), resolution=224).total("macs")
    assert 2.3 < v10 / v11 < 2.4


def test_alexnet_grouped_conv2_and_fc6_by_hand():
    res = costcalc.evaluate(costcalc.load_spec("alexnet"))
    # conv2: 256 x (96/2) x 5 x 5 + 256 = 307,456 (Deep Compression Table 4: 307K)
    assert layer_sum(res, "conv2") == 256 * 48 * 25 + 256 == 307_456
    # fc6 reads pool5's 256 x 6 x 6 = 9,216 values: 9,216 x 4,096 + 4,096
    assert layer_sum(res, "fc6") == 9_216 * 4_096 + 4_096


def test_vgg16_first_conv_macs_by_hand():
    # conv1_1: 224 x 224 x 64 x 3 x 9 = 86,704,128 MACs
    res = costcalc.evaluate(costcalc.load_spec("vgg16"))
    assert layer_sum(res, "stage1/conv.1/conv", "macs") == 224 * 224 * 64 * 3 * 9 == 86_704_128


def test_compare_squeezenet_alexnet(run):
    # Iandola et al. 2016, Table 2: SqueezeNet 4.8 MB vs AlexNet 240 MB, "50x"
    r = run("compare", "squeezenet", "alexnet", "--format", "json")
    sq, ax = json.loads(r.out)
    ratio = ax["totals"]["params"] / sq["totals"]["params"]
    assert 48 < ratio < 50
    assert abs(ax["totals"]["size_mb"] / sq["totals"]["size_mb"] - ratio) < 1e-3
    assert sq["top1"] == 57.5 and ax["top1"] == 57.2


def test_variant_syntax(run):
    a = json.loads(run("report", "squeezenet:1.1", "--format", "json").out)
    b = json.loads(run("report", "squeezenet", "--variant", "1.1", "--format", "json").out)
    assert a["totals"] == b["totals"] and a["config"]["variant"] == "1.1"


def test_golden_squeezenet_report_and_compare(golden):
    from costcalc.report import Conventions, compare_table, report_table

    res = costcalc.evaluate(costcalc.load_spec("squeezenet"))
    golden("report_squeezenet_depth1.txt", render(report_table(res, Conventions(), depth=1)))
    both = [costcalc.evaluate(costcalc.load_spec(n)) for n in ("squeezenet", "alexnet")]
    golden("compare_squeezenet_alexnet.txt", render(compare_table(both, Conventions())))
