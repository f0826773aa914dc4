"""The peer tools reproduced: what fvcore, ptflops, thop and torchinfo print for torchvision's networks,
to the integer, at two resolutions; and the explanation's parts add up to the difference.

The expected numbers were obtained by running the tools (never a dependency of costcalc): in a
throw-away venv with torch 2.14.1, torchvision 0.29.1, fvcore 0.1.5.post20221221, ptflops 0.7.5,
thop 0.1.1-2209072238 and torchinfo 1.8.0, for torchvision.models.CONSTRUCTOR in eval mode on a
1x3xRxR input: FlopCountAnalysis(model, x).total(); get_model_complexity_info(model, (3, R, R),
as_strings=False) (pytorch backend); profile(model, inputs=(x,)); summary(model, input_size=(1, 3, R,
R)).total_mult_adds. Each tool also printed torchvision's own parameter count (the params costcalc
reports for these specs).
"""

from __future__ import annotations

import json

import pytest

import costcalc
from costcalc.peers import PARTS, TOOLS, count_like, totals

# constructor: (spec, alpha, {resolution: (fvcore, ptflops, thop, torchinfo)})
MEASURED = {
    "resnet18()": ("resnet:18", 1.0, {224: (1819065856, 1825313768, 1824033792, 1814083944), 160: (928345600, 931533800, 930880512, 925809000)}),
    "resnet34()": ("resnet:34", 1.0, {224: (3671262720, 3680019432, 3678739456, 3663779432), 160: (1873344000, 1877812200, 1877158912, 1869534824)}),
    "resnet50()": ("resnet:50", 1.0, {224: (4111512576, 4132436968, 4133742592, 4089238376), 160: (2098713600, 2109389800, 2110056448, 2087375720)}),
    "resnet101()": ("resnet:101", 1.0, {224: (7833969664, 7865129960, 7866435584, 7801511784), 160: (3997926400, 4013825000, 4014491648, 3981418344)}),
    "resnext50_32x4d()": ("resnet:resnext50_32x4d", 1.0, {224: (4259381248, 4286878696, 4288184320, 4230549096), 160: (2174156800, 2188186600, 2188853248, 2159480424)}),
    "wide_resnet50_2()": ("resnet:wide_resnet50_2", 1.0, {224: (11426922496, 11454419944, 11455725568, 11398090344), 160: (5831065600, 5845095400, 5845762048, 5816389224)}),
    "mobilenet_v2()": ("mobilenet_v2", 1.0, {224: (314193216, 320300008, 327486720, 300809384), 160: (160929600, 164045800, 167712000, 154118312)}),
    "mobilenet_v3_large()": ("mobilenet_v3:large", 1.0, {224: (226033824, 231316416, 234838456, 216621520), 160: (117290400, 119990208, 121785016, 112503760)}),
    "mobilenet_v3_small()": ("mobilenet_v3:small", 1.0, {224: (59649536, 60910032, 62477944, 56527424), 160: (31448576, 32094672, 32893048, 29864000)}),
    "shufflenet_v2_x1_0()": ("shufflenet_v2:1.0x", 1.0, {224: (148808392, 152387568, 152708792, 144925172), 160: (76424200, 78250800, 78414200, 74451380)}),
    "shufflenet_v2_x0_5()": ("shufflenet_v2:0.5x", 1.0, {224: (42524256, 44770632, 44572064, 40485400), 160: (22197600, 23344200, 23242400, 21161752)}),
    "squeezenet1_0()": ("squeezenet:1.0", 1.0, {224: (819093576, 836821960, 819094576, 823270824), 160: (404349064, 413134600, 404350064, 406420456)}),
    "squeezenet1_1()": ("squeezenet:1.1", 1.0, {224: (349320936, 359982728, 349321936, 351741288), 160: (170774312, 176097480, 170775312, 171983016)}),
    "googlenet(aux_logits=False, init_weights=True)": ("googlenet", 1.0, {224: (1504878688, 1513907448, 1511332032, 1498391752), 160: (768296800, 772903800, 771589824, 764994760)}),
    "alexnet()": ("alexnet", 1.0, {224: (714197696, 716441128, 714206912, 714682664), 160: (378048192, 379170344, 378057408, 378292520)}),
    "vgg16()": ("vgg16", 1.0, {224: (15470289408, 15523225576, 15470314496, 15483821032), 160: (7953560064, 7980580840, 7953585152, 7960468456)}),
    "densenet121()": ("densenet:121", 1.0, {224: (2865546752, 2899843048, 2897007104, 2834246312), 160: (1462515200, 1480013800, 1478566400, 1446587048)}),
    "densenet169()": ("densenet:169", 1.0, {224: (3397970816, 3438996968, 3436117120, 3360002728), 160: (1734473600, 1755405800, 1753936000, 1715180200)}),
    "efficientnet_b0()": ("efficientnet:b0", 1.0, {224: (401659392, 410196896, 415145024, 385867108), 160: (205862400, 210223520, 212747840, 197830756)}),
    "efficientnet_b3()": ("efficientnet:b3", 1.0, {224: (993639392, 1010257000, 1019632544, 962816616), 160: (508622048, 517111144, 521894048, 492949224)}),
    "mnasnet1_0()": ("mnasnet", 1.0, {224: (325329152, 334926312, 336242432, 314454792), 160: (166611200, 171508200, 172179200, 161082120)}),
    "mnasnet0_5()": ("mnasnet", 0.5, {224: (110586848, 115966088, 116717728, 104477592), 160: (57048800, 59793800, 60176800, 53942424)}),
    "inception_v3(aux_logits=False, init_weights=True)": ("inception_v3", 1.0, {224: (2847268992, 2855804792, 2856567712, 2837956552), 160: (1283863168, 1287896696, 1288236960, 1279508424)}),
}


def _result(ref, alpha, px):
    spec = costcalc.load_spec(ref)
    if "torchvision" in spec.implementations:  # what the tools measure: torchvision's network
        spec = costcalc.load_spec(ref, settings={"impl": "torchvision"})
    return costcalc.evaluate(spec, alpha=alpha, resolution=px)


@pytest.mark.parametrize("ctor", list(MEASURED))
@pytest.mark.parametrize("px", [224, 160])
def test_each_tool_prints_what_costcalc_says_it_would(ctor, px):
    ref, alpha, figures = MEASURED[ctor]
    res = _result(ref, alpha, px)
    got = tuple(totals(count_like(res, tool))["total"] for tool in TOOLS)
    assert got == figures[px], ctor


@pytest.mark.parametrize("tool", list(TOOLS))
def test_the_parts_add_up_to_the_difference(tool):
    res = _result("mobilenet_v2", 1.0, 224)
    t = totals(count_like(res, tool))
    assert t["macs"] == res.total("macs") == 300_774_272  # the MACs part is costcalc's count
    assert t["total"] - t["macs"] == sum(t[p] for p in PARTS[1:])


def test_mobilenet_v2_the_issue_numbers_by_cause():
    # ptflops 0.7.5 prints 320,300,008 for torchvision's mobilenet_v2 at 224: the 1,000 classifier
    # biases; BatchNorm 2 per element; ReLU6 (a module calling the unpatched F.hardtanh) 1 per element;
    # F.adaptive_avg_pool2d (a function: counted once) 1 per input element: 1280 x 7 x 7 = 62,720
    t = totals(count_like(_result("mobilenet_v2", 1.0, 224), "ptflops"))
    assert t["biases"] == 1000 and t["pooling"] == 1280 * 7 * 7
    assert t["batchnorm"] == 2 * res_bn_elements() and t["total"] == 320_300_008


def res_bn_elements():
    res = costcalc.evaluate(costcalc.load_spec("mobilenet_v2"))
    # a BatchNorm's input is its output: every BatchNorm's output elements
    return sum(int(lr.c) * int(lr.h) * int(lr.w) for lr in res.layers if lr.type == "bn")


def test_thop_adaptive_pool_counts_window_plus_one():
    # thop's count_adap_avgpool: (in / out + 1) per output; SqueezeNet 1.0 at 224 pools 1000 x 13 x 13
    t = totals(count_like(_result("squeezenet:1.0", 1.0, 224), "thop"))
    assert t["pooling"] == (13 * 13 + 1) * 1000


def test_report_compare_sweep_and_explain(run):
    out = run("report", "mobilenet_v2", "--count-like", "ptflops")
    assert out.code == 0 and "ptflops would print 320,300,008 = MACs 300,774,272 + biases 1,000" in out.out
    doc = json.loads(run("report", "shufflenet_v2", "--count-like", "thop", "--format", "json").out)
    # the tools measure torchvision's network: --count-like builds it where the spec has it
    assert doc["totals"]["thop"] == 152_708_792 and doc["config"]["settings"]["impl"] == "torchvision"
    assert sum(layer["thop"] for layer in doc["layers"]) == 152_708_792
    rows = json.loads(run("compare", "resnet18", "googlenet", "--count-like", "fvcore", "--format", "json").out)
    assert [r["totals"]["fvcore"] for r in rows] == [1_819_065_856, 1_504_878_688]
    csv = run("sweep", "mobilenet_v2", "--alpha", "1", "--resolution", "224,160", "--count-like", "torchinfo", "--format", "csv").out
    assert csv.splitlines()[-2].endswith(",300809384") and csv.splitlines()[-1].endswith(",154118312")
    ex = json.loads(run("explain", "mobilenet_v2", "--count-like", "ptflops", "--format", "json").out)
    assert ex["count"] == 320_300_008 and ex["difference"] == 19_525_736
    assert sum(p["count"] for p in ex["parts"] if p["part"] != "macs") == ex["difference"]
    assert sum(row["difference"] for row in ex["layers"]) == ex["difference"]
    bad = run("explain", "mobilenet_v2")
    assert bad.code == 2 and "needs --count-like" in bad.err
    assert run("report", "mobilenet_v2", "--count-like", "ptflops", "--batch", "2").code == 2
