"""ShuffleNet v1/v2 and the later families: hand-computed units, structure, parameters, goldens."""

from __future__ import annotations

import json

import numpy as np
import pytest

import costcalc
from conftest import render
from costcalc.verify import quantity


def block_sum(spec_ref, prefix, q="macs", **kw):
    res = costcalc.evaluate(costcalc.load_spec(spec_ref, **kw))
    return int(quantity(res, q, prefix))


def test_shufflenet_v1_unit_matches_the_papers_formula():
    # Zhang et al. 2017, Sec. 3.2: a ShuffleNet unit costs hw(2cm/g + 9m) mult-adds.
    # Stage 3 of 1x, g = 3: c = 480, m = 120, 14x14: 196 * (2*480*120/3 + 9*120) = 7,738,080
    macs = block_sum("shufflenet", "stage3/unit.1/add/main", settings={"groups": 3})
    assert macs == 196 * (2 * 480 * 120 // 3 + 9 * 120) == 7_738_080


def test_shufflenet_v2_unit_by_hand():
    # 1x, stage 3 unit (232 channels, 14x14): split -> 116; 1x1 116->116, 3x3 dw, 1x1 116->116
    # MACs: 196*116*116 + 196*116*9 + 196*116*116 = 2,637,376 + 204,624 + 2,637,376
    assert block_sum("shufflenet_v2", "stage3/unit.1") == 5_479_376
    # params: 116*116 + 116*9 + 116*116 weights + 3 BNs x 2 x 116 = 28,652
    assert block_sum("shufflenet_v2", "stage3/unit.1", "params") == 28_652


def test_channel_split_halves_and_concat_adds():
    res = costcalc.evaluate(costcalc.load_spec("shufflenet_v2"))
    shapes = {lr.name: int(np.reshape(lr.c, -1)[0]) for lr in res.layers}
    assert shapes["stage3/unit.1/concat/keep"] == shapes["stage3/unit.1/concat/split"] == 116
    assert shapes["stage3/unit.1/concat"] == 232
    # stride-2 unit: 116 (projection) + (232 - 116) (main) = 232
    assert shapes["stage3/1/concat/proj_pw/conv"] + shapes["stage3/1/concat/pw2/conv"] == shapes["stage3/1/concat"] == 232


def test_fused_structural_ops_move_no_data():
    plain = costcalc.evaluate(costcalc.load_spec("shufflenet_v2"))
    fused = costcalc.evaluate(costcalc.load_spec("shufflenet_v2", settings={"fused": True}))
    assert int(fused.total("macs")) == int(plain.total("macs"))
    saved = int(plain.total("mem_access")) - int(fused.total("mem_access"))
    # every concat and shuffle reads and writes its output once each: stage outputs
    # 116x28x28 (4 units), 232x14x14 (8), 464x7x7 (4), each concat + shuffle = 4 x elements
    expected = 4 * (4 * 116 * 28 * 28 + 8 * 232 * 14 * 14 + 4 * 464 * 7 * 7)
    assert saved == expected


def test_set_changes_header_and_macs(run):
    base = json.loads(run("report", "shufflenet", "--format", "json").out)
    other = json.loads(run("report", "shufflenet", "--set", "groups=8", "--set", "scale=0.5", "--format", "json").out)
    assert other["config"]["settings"]["groups"] == 8 and other["config"]["settings"]["scale"] == 0.5
    assert other["totals"]["macs"] < base["totals"]["macs"]
    assert "groups=8, scale=0.5" in run("report", "shufflenet", "--set", "groups=8", "--set", "scale=0.5").out
    r = run("report", "shufflenet", "--set", "group=8")
    assert r.code == 2 and "did you mean 'groups'?" in r.err


def test_groups_that_do_not_divide_are_a_located_error(run):
    # g = 5 is not a row of Table 1: refused where it is set, with the rows there are
    r = run("report", "shufflenet", "--set", "groups=5")
    assert r.code == 2 and r.err == "error: shufflenet.yaml: parameter 'groups': 5 is not one of its choices (1, 2, 3, 4, 8)\n"
    # a table that exists but does not divide: pytorchcv's int(c x s) widths keep 100, so the bottleneck
    # 100 / 4 = 25 channels is shuffled in 3 groups (the paper's rule rounds 100 to 96 first)
    r = run("report", "shufflenet", "--set", "stage_channels={3: [100, 200, 400]}", "--set", "impl=pytorchcv")
    assert r.code == 2 and "channels 25 not divisible by groups 3" in r.err and "stage2/1/concat/main/shuffle" in r.err


def test_odd_channels_cannot_split(run, write_spec):
    path = write_spec("""
name: odd
input: {channels: 5, size: 8}
layers:
  - {name: halves, type: concat, branches: [[{type: split, index: 0}], [{type: split, index: 1}]]}
""")
    r = run("report", path)
    assert r.code == 2 and "channels 5 not divisible by sections 2" in r.err and "halves" in r.err


@pytest.mark.parametrize("name", ["shufflenet", "shufflenet_v2"])
def test_golden_block_rolled_report(golden, name):
    from costcalc.report import Conventions, report_table

    res = costcalc.evaluate(costcalc.load_spec(name))
    golden(f"report_{name}_depth1.txt", render(report_table(res, Conventions(flops_per_mac=1), depth=1)))


def test_xception_middle_flow_separable_conv_by_hand():
    # Chollet 2017 / Keras: SeparableConv2D(728) = 3x3 depthwise (728*9 = 6,552) + 1x1 (728*728 = 529,984),
    # then BN (2*728 = 1,456): 537,992 params; at 19x19: 361 * (6,552 + 529,984) = 193,689,496 MACs
    assert block_sum("xception", "middle.1/add/sep1", "params") == 6_552 + 529_984 + 1_456
    assert block_sum("xception", "middle.1/add/sep1") == 361 * (6_552 + 529_984) == 193_689_496


def test_googlenet_inception_3a_by_hand():
    res = costcalc.evaluate(costcalc.load_spec("googlenet"))
    out = {lr.name: int(np.reshape(lr.c, -1)[0]) for lr in res.layers}
    # Szegedy et al. 2014, Table 1: inception (3a) outputs 28x28x256 = 64 + 128 + 32 + 32
    assert out["inception_3a/concat"] == 64 + 128 + 32 + 32 == 256
    # its 3x3 branch at 28x28 = 784: reduce 784*192*96 = 14,450,688; 3x3 784*96*9*128 = 86,704,128
    assert int(quantity(res, "macs", "inception_3a/concat/3x3_reduce")) == 14_450_688
    assert int(quantity(res, "macs", "inception_3a/concat/3x3")) == 86_704_128


def test_resnet50_bottleneck_by_hand():
    # layer1, second block (56x56 = 3,136; 256 -> 64 -> 64 -> 256):
    # 3136*256*64 + 3136*64*64*9 + 3136*64*256 = 51,380,224 + 115,605,504 + 51,380,224
    assert block_sum("resnet50", "layer1/block.1") == 218_365_952


def test_mobilenet_v2_inverted_residual_by_hand():
    # block2, first block: 16 -> 96 (t = 6) at 112x112, 3x3 dw stride 2 -> 56x56, 96 -> 24
    # 12544*16*96 + 3136*96*9 + 3136*96*24 = 19,267,584 + 2,709,504 + 7,225,344
    assert block_sum("mobilenet_v2", "block2/1") == 29_202_432


def test_squeezenext_block_by_hand():
    # the official 1.0-SqNxt-23 at 227 px: conv1 7x7/2 unpadded gives 111, the 3x3/2 ceil-mode pool 55;
    # a residual block of stage 1 at 55x55 (3,025) with C = 32: 1x1 32->16, 1x1 16->8, 1x3 8->16, 3x1 16->16, 1x1 16->32
    # 3025 * (32*16 + 16*8 + 8*16*3 + 16*16*3 + 16*32) = 3025 * 2304 = 6,969,600
    assert block_sum("squeezenext", "features/stage1/block.1") == 3025 * 2304 == 6_969_600
    # pytorchcv's port at 224 px: conv1 padded by 1 gives 110, the pool 55 as well; its blocks have biases
    assert block_sum("squeezenext", "features/stage1/block.1", settings={"impl": "pytorchcv"}) == 6_969_600


def test_squeezenext_factorised_kernel_saves_a_third():
    # a 3x1 + 1x3 pair costs 2*3 = 6 weights per channel pair where a 3x3 costs 9
    res = costcalc.evaluate(costcalc.load_spec("squeezenext"))
    first = int(quantity(res, "weights", "features/stage1/block.1/unit/add/main/conv3/conv"))
    assert first == 8 * 16 * 3  # the second block's first factor: 1x3 from 8 to 16 channels, no bias
    kinds = [layer.attrs["kernel"] for layer in res.spec.layers if layer.name.endswith("/conv3/conv")][:3]
    assert kinds == [(3, 1), (1, 3), (3, 1)]  # the order alternates from block to block (the prototxt)


@pytest.mark.parametrize("name", ["xception", "googlenet", "mobilenet_v2", "resnet50", "squeezenext"])
def test_golden_block_rolled_reports_of_later_families(golden, name):
    from costcalc.report import Conventions, report_table

    res = costcalc.evaluate(costcalc.load_spec(name))
    golden(f"report_{name}_depth1.txt", render(report_table(res, Conventions(), depth=1)))


def test_resnet_family_blocks_by_hand():
    # ResNet-18, layer1: a basic block, two 3x3 convs 64 -> 64 at 56x56 (3,136): 2 x 3136 x 64 x 64 x 9
    assert block_sum("resnet:18", "layer1/0") == 2 * 3136 * 64 * 64 * 9 == 231_211_008
    # ResNeXt-50 32x4d, layer1's first 3x3: width 64 x 4 / 64 x 32 = 128 channels in 32 groups of 4
    assert block_sum("resnet:resnext50_32x4d", "layer1/0/add/main/conv2") == 3136 * 128 * 4 * 9 == 14_450_688
    # the paper's v1 moves layer2's stride to the first 1x1: its 3x3 then runs at 28x28, not 56x56
    v15 = block_sum("resnet:50", "layer2/0/add/main/conv2")
    v1 = block_sum("resnet:50", "layer2/0/add/main/conv2", settings={"stride_on": "1x1"})
    assert v15 == v1 == 784 * 128 * 128 * 9  # both stride at or before the 3x3: its output is 28x28 either way
    assert block_sum("resnet:50", "layer2/0/add/main/conv1") == 3136 * 256 * 128
    assert block_sum("resnet:50", "layer2/0/add/main/conv1", settings={"stride_on": "1x1"}) == 784 * 256 * 128


def test_densenet_layer_by_hand():
    # DenseNet-121, the first dense layer at 56x56 (3,136) reads the stem's 64 channels:
    # 1x1 64 -> 128 and 3x3 128 -> 32: 3136 x (64 x 128 + 128 x 32 x 9)
    assert block_sum("densenet:121", "denseblock1.1") == 3136 * (64 * 128 + 128 * 32 * 9) == 141_295_616
    # its sixth reads 64 + 5 x 32 = 224 channels
    assert block_sum("densenet:121", "denseblock1.6") == 3136 * (224 * 128 + 128 * 32 * 9)


def test_inception_v3_factorised_kernels_by_hand():
    # Mixed_6b (17x17 = 289, 768 channels in, c7 = 128): the 7x7 branch is 1x1 768 -> 128, 1x7 128 -> 128,
    # 7x1 128 -> 192: 289 x (768 x 128 + 128 x 128 x 7 + 128 x 192 x 7)
    assert block_sum("inception_v3", "Mixed_6b/concat/branch7x7_1") == 289 * 768 * 128
    assert (block_sum("inception_v3", "Mixed_6b/concat/branch7x7_2") + block_sum("inception_v3", "Mixed_6b/concat/branch7x7_3")
            == 289 * (128 * 128 * 7 + 128 * 192 * 7))


def test_mnasnet_width_rounding_by_hand():
    # torchvision's _round_to_multiple_of: 24 x 0.75 = 18 rounds to 16, which is below 90% of 18 (16.2): 24
    res = costcalc.evaluate(costcalc.load_spec("mnasnet"), alpha=0.75)
    widths = {lr.name: int(lr.c) for lr in res.layers}
    assert widths["stacks/stack1/0/project"] == 24 and widths["stem"] == 24  # 32 x 0.75 = 24 exactly
    assert widths["stacks/stack2/0/project"] == 32  # 40 x 0.75 = 30 -> 32
    assert widths["head"] == 1280  # not scaled


def test_mnasnet_small_shortcuts_and_squeeze_by_hand():
    # tensorflow/tpu mnasnet_models.py mnasnet_small: a block adds its input where its stride is 1 and its
    # width stays: r2_k3_s22 (1), r4_k5_s22 (3), r3_k3_s11_i32_o32 (all 3: its first block too), r3_k5_s22 (2)
    res = costcalc.evaluate(costcalc.load_spec("mnasnet:small"))
    assert sum(1 for lr in res.layers if lr.type == "add") == 1 + 3 + 3 + 2
    # the stem is 8 channels: 3 x 3 x 3 x 8 weights at 112 x 112
    stem = [lr for lr in res.layers if lr.name == "stem"][0]
    assert int(stem.values["params"]) == 216 and int(stem.values["macs"]) == 112 * 112 * 8 * 27
    # stack5's second block (88 wide, expanded 528): squeeze to int(88 x 0.25) = 22, with biases
    assert block_sum("mnasnet:small", "stacks/stack5/block.1/add/ir/se", q="params") == (528 * 22 + 22) + (22 * 528 + 528)


def test_mobilenet_v3_squeeze_excitation_by_hand():
    # Large, block 4 (24 -> 40, expanded 72, 5x5 stride 2, SE): squeeze width _make_divisible(72 // 4, 8) = 24
    # (18 rounds to 16, below 90% of 18: 24); fc1 72 -> 24 and fc2 24 -> 72, with biases, on the pooled 1x1
    assert block_sum("mobilenet_v3:large", "features/block4/se") == 72 * 24 + 24 * 72
    assert block_sum("mobilenet_v3:large", "features/block4/se", q="params") == (72 * 24 + 24) + (24 * 72 + 72)


@pytest.mark.parametrize("ref", ["mobilenet_v3:large", "mobilenet_v3:small", "efficientnet:b0", "efficientnet:b3",
                                 "mnasnet:a1", "mnasnet:b1", "resnet:resnext50_32x4d", "densenet:121", "inception_v3"])
def test_sweeps_over_width_and_resolution_are_each_configuration(ref):
    from costcalc.engine import QUANTITIES

    spec = costcalc.load_spec(ref)
    alphas = [1.0] if spec.width.rounding == "fixed" else [0.5, 1.0]
    res = [160, 224, 299]
    grid = costcalc.evaluate(spec, alpha=alphas, resolution=res, per_layer=False)
    for i, a in enumerate(alphas):
        for j, r in enumerate(res):
            one = costcalc.evaluate(spec, alpha=a, resolution=r, per_layer=False)
            assert [int(grid.totals[q][i, j]) for q in QUANTITIES] == [one.total(q) for q in QUANTITIES]


def test_the_compact_networks_of_2017_2019_side_by_side(run):
    out = run("compare", "mobilenet_v3_large", "efficientnet_b0", "mnasnet", "shufflenet_v2", "mobilenet_v2", "--format", "json")
    assert out.code == 0
    rows = {r["label"]: r for r in json.loads(out.out)}
    assert list(rows) == ["mobilenet_v3:large", "efficientnet:b0", "mnasnet:b1", "shufflenet_v2:1.0x", "mobilenet_v2"]
    # published top-1 where the spec carries one: MobileNet v3 (the TF-slim zoo's Large dm=1 checkpoint),
    # EfficientNet-B0 (Table 2)
    assert rows["mobilenet_v3:large"]["top1"] == 75.2 and rows["efficientnet:b0"]["top1"] == 77.1
    assert all(r["top1"] for r in rows.values())
    assert rows["efficientnet:b0"]["totals"]["macs"] == 385_814_752  # torchvision 0.29.1, efficientnet_b0()
    assert rows["mobilenet_v3:large"]["totals"]["params"] == 5_483_032  # torchvision 0.29.1, mobilenet_v3_large()


@pytest.mark.parametrize("args, top1", [
    # a top-1 is shown for the network it was published for, and for no other change of settings
    (["shufflenet_v2"], 69.4),                                   # Ma et al. 2018, Table 8 (the paper's network)
    (["shufflenet_v2", "--set", "impl=torchvision"], 69.362),    # torchvision 0.29.1 ShuffleNet_V2_X1_0_Weights
    (["mobilenet_v3", "--set", "minimalistic=true"], 72.3),      # TF-slim zoo, Large minimalistic
    (["mobilenet_v3", "--set", "impl=torchvision"], 74.042),     # torchvision MobileNet_V3_Large_Weights
    (["mobilenet_v3", "--set", "impl=keras"], None),             # Keras' own figure is not carried
    (["mobilenet_v3", "--set", "classes=1001"], None),
    (["mobilenet_v3", "--alpha", "0.75"], None),                 # the zoo's 0.75 checkpoint is finegrain's
    (["mobilenet_v3", "--alpha", "0.75", "--set", "finegrain=true"], 73.3),
    (["squeezenext", "--set", "width=1"], 59.05),                # the spec's own width 1.0: no change
])
def test_a_published_top1_applies_to_its_own_network_only(run, args, top1):
    out = run("compare", *args, "--format", "json")
    assert out.code == 0, out.err
    assert json.loads(out.out)[0]["top1"] == top1


def test_compare_says_which_rows_a_setting_changed(run):
    # --set applies to every compared spec that has the parameter: the header names the rows it changed
    out = run("compare", "resnet18", "shufflenet_v2", "--set", "impl=torchvision")
    assert out.code == 0
    assert "shufflenet_v2:1.0x: built with impl=torchvision" in out.out and "resnet:18: built" not in out.out
