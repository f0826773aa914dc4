"""Hand-computed literals, one or more per layer rule.

Each expected number is worked out in the comment beside it (or cited), not
taken from the code's output.
"""

from __future__ import annotations

import numpy as np
import pytest

from costcalc.engine import evaluate
from costcalc.errors import SpecError
from costcalc.ir import LAYER_TYPES
from costcalc.rules import RULES
from costcalc.spec import build_spec
from costcalc.yamlio import parse_yaml


def one(layers: str, channels: int = 3, size=224, defaults: str = "{}") -> list[dict]:
    """Evaluate a tiny spec (YAML flow list of layers); per-layer dicts of figures."""
    text = f"name: t\ninput: {{channels: {channels}, size: {size}}}\ndefaults: {defaults}\nlayers: {layers}\n"
    spec = build_spec(parse_yaml(text, "t.yaml"), "t.yaml")
    res = evaluate(spec)
    out = []
    for lr in res.layers:
        row = {q: int(np.reshape(v, -1)[0]) for q, v in lr.values.items()}
        row["shape"] = (int(np.reshape(lr.c, -1)[0]), int(np.reshape(lr.h, -1)[0]), int(np.reshape(lr.w, -1)[0]))
        out.append(row)
    return out


def test_every_layer_type_has_a_rule():
    assert set(RULES) == set(LAYER_TYPES)


def test_conv_3x3_stride2_same_matches_tfslim_conv2d_0():
    # 3 -> 32 channels, 3x3/2 'same' on 224 -> 112x112 (ceil(224/2)).
    # MACs = 112*112*32*3*9 = 10,838,016; params = 32*3*9 = 864 (TF-slim docstring, Conv2d_0)
    (r,) = one("[{type: conv, out: 32, kernel: 3, stride: 2, padding: same, bias: false}]")
    assert r["shape"] == (32, 112, 112)
    assert r["macs"] == 10_838_016
    assert r["params"] == 864
    # memory access: input 3*224*224 = 150,528 + output 32*112*112 = 401,408 + weights 864
    assert r["mem_access"] == 150_528 + 401_408 + 864 == 552_800


def test_depthwise_3x3_on_32x112x112():
    # 112*112*32*9 = 3,612,672 MACs; 32*9 = 288 weights (TF-slim docstring, Conv2d_1_depthwise)
    (r,) = one("[{type: dwconv, kernel: 3, padding: same, bias: false}]", channels=32, size=112)
    assert (r["macs"], r["params"], r["shape"]) == (3_612_672, 288, (32, 112, 112))


def test_depthwise_multiplier_and_bias():
    # 8 channels x multiplier 2 = 16 outputs, 3x3 valid on 10 -> 8x8
    # weights 16*9 = 144, biases 16; MACs 8*8*16*9 = 9,216; bias adds 16*8*8 = 1,024 other ops
    (r,) = one("[{type: dwconv, kernel: 3, multiplier: 2, bias: true}]", channels=8, size=10)
    assert r["shape"] == (16, 8, 8)
    assert (r["params"], r["macs"], r["ops"]) == (160, 9_216, 1_024)


def test_grouped_conv_alexnet_conv2():
    # AlexNet conv2: 96 -> 256, 5x5, pad 2, 2 groups on 27x27 (Krizhevsky et al. 2012).
    # params = 256*(96/2)*25 + 256 = 307,200 + 256 = 307,456 (Deep Compression Table 4: 307K)
    # MACs = 27*27*256*48*25 = 223,948,800
    (r,) = one("[{type: conv, out: 256, kernel: 5, padding: 2, groups: 2}]", channels=96, size=27)
    assert r["shape"] == (256, 27, 27)
    assert r["params"] == 307_456
    assert r["macs"] == 223_948_800


def test_rectangular_kernel_and_padding():
    # 3x1 kernel, padding [1, 0] on 16 channels 7x7 -> 7x7, 8 outputs:
    # MACs = 7*7*8*16*3 = 18,816; params = 8*16*3 = 384
    (r,) = one("[{type: conv, out: 8, kernel: [3, 1], padding: [1, 0], bias: false}]", channels=16, size=7)
    assert r["shape"] == (8, 7, 7)
    assert (r["macs"], r["params"]) == (18_816, 384)


def test_dilation_and_valid_padding():
    # 3x3 dilation 2 spans 5 pixels: valid on 9 -> 5x5; 1 -> 1 channel: MACs 25*9 = 225
    (r,) = one("[{type: conv, out: 1, kernel: 3, dilation: 2, padding: valid, bias: false}]", channels=1, size=9)
    assert r["shape"] == (1, 5, 5)
    assert r["macs"] == 225


def test_linear_reads_its_whole_input():
    # AlexNet fc6: 256x6x6 = 9,216 inputs -> 4,096: params 9,216*4,096 + 4,096 = 37,752,832
    # (Deep Compression Table 4: 38M); MACs 37,748,736
    (r,) = one("[{type: linear, out: 4096}]", channels=256, size=6)
    assert r["shape"] == (4096, 1, 1)
    assert (r["params"], r["macs"], r["ops"]) == (37_752_832, 37_748_736, 4_096)


def test_maxpool_floor_and_caffe_ceil():
    # 3x3/2 on 56, no padding: floor (56-3)/2 + 1 = 27; Caffe ceil: ceil(53/2) + 1 = 28
    (floor,) = one("[{type: maxpool, kernel: 3, stride: 2}]", channels=4, size=56)
    (ceil,) = one("[{type: maxpool, kernel: 3, stride: 2, ceil: true}]", channels=4, size=56)
    assert floor["shape"] == (4, 27, 27)
    assert ceil["shape"] == (4, 28, 28)
    # SqueezeNet Table 1: maxpool1 3x3/2 on 111 -> 55 (ceil and floor agree: (111-3)/2 = 54 exactly)
    (sq,) = one("[{type: maxpool, kernel: 3, stride: 2, ceil: true}]", channels=96, size=111)
    assert sq["shape"] == (96, 55, 55)
    # ops: one compare per window element: 4*27*27*9 = 26,244
    assert floor["ops"] == 26_244 and floor["macs"] == 0 and floor["params"] == 0


def test_ceil_pooling_drops_a_window_that_starts_in_the_padding():
    # Caffe: 3x3/2 pad 1 on 4: ceil((4+2-3)/2)+1 = 3; the last window starts at
    # (3-1)*2 = 4 < in + pad = 5, so it is kept.
    (r,) = one("[{type: maxpool, kernel: 3, stride: 2, padding: 1, ceil: true}]", channels=1, size=4)
    assert r["shape"] == (1, 3, 3)
    # on 3 with pad 1 and stride 2, kernel 2: ceil((3+2-2)/2)+1 = 3; (3-1)*2 = 4 >= 3+1 -> 2
    (r,) = one("[{type: maxpool, kernel: 2, stride: 2, padding: 1, ceil: true}]", channels=1, size=3)
    assert r["shape"] == (1, 2, 2)


def test_global_average_pool():
    # 1024x7x7 -> 1024: 50,176 adds
    (r,) = one("[{type: avgpool, global: true}]", channels=1024, size=7)
    assert r["shape"] == (1024, 1, 1)
    assert r["ops"] == 50_176


def test_batchnorm_activation_lrn():
    bn, relu, lrn = one("[{type: bn}, {type: relu6}, {type: lrn, size: 5}]", channels=10, size=4)
    # BN: scale + shift per channel = 20 params, all BN params; 2 ops per element: 2*160
    assert (bn["params"], bn["bn_params"], bn["ops"]) == (20, 20, 320)
    # without a learned scale (Keras' BatchNormalization(scale=False)): the shift alone, 10 params; the
    # normalization still costs its 2 ops per element, and memory access reads 160 + 10, writes 160
    (shift,) = one("[{type: bn, gamma: false}]", channels=10, size=4)
    assert (shift["params"], shift["bn_params"], shift["ops"], shift["mem_access"]) == (10, 10, 320, 330)
    # element-wise: one op per element, 10*4*4 = 160; memory access: read 160 + write 160
    assert (relu["ops"], relu["mem_access"]) == (160, 320)
    # LRN size 5: 5 squares + power + division = 7 ops per element
    assert lrn["ops"] == 7 * 160


def test_views_cost_nothing():
    flat, drop, ident = one("[{type: flatten}, {type: dropout}, {type: identity}]", channels=256, size=6)
    assert flat["shape"] == (9216, 1, 1)
    for r in (flat, drop, ident):
        assert r["mem_access"] == r["ops"] == r["macs"] == r["params"] == r["activations"] == 0


def test_add_concat_split_shuffle():
    rows = one(
        """[
        {name: cat, type: concat, branches: [[{type: conv, out: 6, kernel: 1, bias: false}], []]},
        {name: sum, type: add, branches: [[{type: identity}], [{type: relu}]]},
        {name: half, type: split, sections: 2, index: 1},
        {name: mix, type: shuffle, groups: 5}]""",
        channels=4, size=3,
    )
    conv, cat, ident, relu, add, half, mix = rows
    # concat: 6 + 4 channels; reads both inputs (54 + 36), writes 90
    assert cat["shape"] == (10, 3, 3) and cat["mem_access"] == 54 + 36 + 90
    # add of two 10x3x3 tensors: 90 adds; reads 2*90, writes 90
    assert add["ops"] == 90 and add["mem_access"] == 270
    # split in 2 takes 5 channels; reads only its own 45 elements, writes 45
    assert half["shape"] == (5, 3, 3) and half["mem_access"] == 90
    # shuffle: no arithmetic, reads and writes 45
    assert mix["ops"] == 0 and mix["mem_access"] == 90
    assert conv["shape"] == (6, 3, 3) and ident["shape"] == relu["shape"] == (10, 3, 3)


def test_fused_layer_moves_no_data():
    (r,) = one("[{type: shuffle, groups: 2, fused: true}]", channels=4, size=3)
    assert r["mem_access"] == 0


def test_one_by_one_conv_memory_access_matches_shufflenet_v2_formula():
    # ShuffleNet v2 Sec. 2: MAC = hw(c1 + c2) + c1*c2. h = w = 2, c1 = 3, c2 = 4:
    # 4*7 + 12 = 40
    (r,) = one("[{type: conv, out: 4, kernel: 1, bias: false}]", channels=3, size=2)
    assert r["mem_access"] == 40


@pytest.mark.parametrize(
    "layers, message",
    [
        ("[{type: conv, out: 8, kernel: 1, groups: 3}]", "input channels 4 not divisible by groups 3"),
        ("[{type: conv, out: 6, kernel: 1, groups: 4}]", "output channels 6 not divisible by groups 4"),
        ("[{type: conv, out: 8, kernel: 7}]", "larger than its padded input"),
        ("[{type: maxpool, kernel: 9}]", "larger than its padded input"),
        ("[{type: shuffle, groups: 3}]", "channels 4 not divisible by groups 3"),
        ("[{type: split, sections: 3}]", "channels 4 not divisible by sections 3"),
        ("[{type: add, branches: [[{type: conv, out: 2, kernel: 1}], []]}]", "add of mismatched shapes"),
        ("[{type: concat, branches: [[{type: maxpool, kernel: 2}], []]}]", "concat of mismatched sizes"),
    ],
)
def test_impossible_configurations_name_the_layer(layers, message):
    with pytest.raises(SpecError) as info:
        one(layers, channels=4, size=4)
    text = str(info.value)
    assert text.startswith("t.yaml:")
    assert "layers[0]" in text
    assert message in text


# -- adaptive pooling (PyTorch's AdaptiveAvgPool2d): windows floor(i n / o) .. ceil((i + 1) n / o) --------


def _adaptive(n, o, c=2):
    from costcalc.spec import build_spec
    from costcalc.yamlio import parse_yaml
    from costcalc.engine import evaluate

    text = f"name: a\ninput: {{channels: {c}, size: {n}}}\nlayers:\n  - {{type: avgpool, output: {o}}}\n"
    return evaluate(build_spec(parse_yaml(text, "a.yaml"), "a.yaml")).layers[-1]


def test_adaptive_pool_that_divides_is_a_plain_pool():
    lr = _adaptive(14, 7)  # windows of 2: 7 x 7 outputs x 4 elements x 2 channels
    assert (lr.c, lr.h, lr.w) == (2, 7, 7) and lr.values["ops"] == 2 * 14 * 14


def test_adaptive_pool_with_overlapping_windows_by_hand():
    # 4 -> 6: windows [0,1) [0,2) [1,2) [2,3) [2,4) [3,4): lengths 1 2 1 1 2 1 = 8 per axis
    lr = _adaptive(4, 6)
    assert (lr.h, lr.w) == (6, 6) and lr.values["ops"] == 2 * 8 * 8
    # 5 -> 3: [0,2) [1,4) [3,5): 2 + 3 + 2 = 7 per axis
    assert _adaptive(5, 3).values["ops"] == 2 * 7 * 7


def test_adaptive_pool_takes_no_kernel():
    from costcalc.errors import SpecError
    from costcalc.spec import build_spec
    from costcalc.yamlio import parse_yaml

    text = "name: a\ninput: {channels: 2, size: 8}\nlayers:\n  - {type: avgpool, output: 2, kernel: 2}\n"
    with pytest.raises(SpecError, match="an adaptive pool"):
        build_spec(parse_yaml(text, "a.yaml"), "a.yaml")
