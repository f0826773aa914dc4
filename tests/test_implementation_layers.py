"""Layer by layer against the implementations people run: every conv and linear layer of a spec (as
that implementation, where the spec lists it) has the parameters and MACs of the module that
torchvision, pytorchcv, timm or Keras runs in its place, in the order they run.

The expected integers are in tests/data/implementation_layers.json with how they were counted (the
libraries and their versions, the constructors, the hooks): they come from running those libraries,
never from costcalc, and no test needs them installed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import costcalc

DATA = json.loads((Path(__file__).parent / "data" / "implementation_layers.json").read_text())

#: constructor -> (spec, settings): the spec as that implementation builds the network
SPECS = {
    "torchvision.models.alexnet(weights=None)": ("alexnet", {"impl": "torchvision"}),
    "torchvision.models.vgg16(weights=None)": ("vgg16", {"impl": "torchvision"}),
    "torchvision.models.squeezenet1_0(weights=None)": ("squeezenet:1.0", {"impl": "torchvision"}),
    "torchvision.models.squeezenet1_1(weights=None)": ("squeezenet:1.1", {"impl": "torchvision"}),
    "torchvision.models.googlenet(weights=None)": ("googlenet", {"impl": "torchvision"}),
    "torchvision.models.shufflenet_v2_x0_5(weights=None)": ("shufflenet_v2:0.5x", {"impl": "torchvision"}),
    "torchvision.models.shufflenet_v2_x1_0(weights=None)": ("shufflenet_v2:1.0x", {"impl": "torchvision"}),
    "torchvision.models.shufflenet_v2_x1_5(weights=None)": ("shufflenet_v2:1.5x", {"impl": "torchvision"}),
    "torchvision.models.shufflenet_v2_x2_0(weights=None)": ("shufflenet_v2:2.0x", {"impl": "torchvision"}),
    "torchvision.models.mobilenet_v2(weights=None)": ("mobilenet_v2", {}),
    "torchvision.models.mobilenet_v3_large(weights=None)": ("mobilenet_v3:large", {"impl": "torchvision"}),
    "torchvision.models.mobilenet_v3_small(weights=None)": ("mobilenet_v3:small", {"impl": "torchvision"}),
    "torchvision.models.mnasnet1_0(weights=None)": ("mnasnet", {}),
    "torchvision.models.efficientnet_b0(weights=None)": ("efficientnet:b0", {}),
    "torchvision.models.resnet18(weights=None)": ("resnet:18", {}),
    "torchvision.models.resnet50(weights=None)": ("resnet:50", {}),
    "torchvision.models.resnext50_32x4d(weights=None)": ("resnet:resnext50_32x4d", {}),
    "torchvision.models.densenet121(weights=None)": ("densenet:121", {}),
    "torchvision.models.inception_v3(weights=None)": ("inception_v3", {}),
    **{f"torchvision.models.{ctor}(weights=None)": (ref, {}) for ctor, ref in [
        ("resnet34", "resnet:34"), ("resnet101", "resnet:101"), ("resnet152", "resnet:152"),
        ("resnext101_32x8d", "resnet:resnext101_32x8d"), ("wide_resnet50_2", "resnet:wide_resnet50_2"),
        ("densenet161", "densenet:161"), ("densenet169", "densenet:169"), ("densenet201", "densenet:201"),
        ("mnasnet0_5", "mnasnet"), ("mnasnet0_75", "mnasnet"), ("mnasnet1_3", "mnasnet"),
        *[(f"efficientnet_b{i}", f"efficientnet:b{i}") for i in range(1, 8)]]},
    **{f"torchvision.models.MobileNetV2(width_mult={w})": ("mobilenet_v2", {}) for w in (0.5, 0.75, 1.4)},
    **{f"torchvision MobileNetV3(*_mobilenet_v3_conf('mobilenet_v3_{v}', width_mult=0.75))": (f"mobilenet_v3:{v}", {"impl": "torchvision"})
       for v in ("large", "small")},
    **{f"keras.applications.MobileNetV3{v.title()}(weights=None, alpha={a}, minimalistic={m})":
       (f"mobilenet_v3:{v}", {"impl": "keras", "minimalistic": m})
       for v in ("large", "small") for a, m in ((1.0, False), (0.75, False), (1.0, True))},
    "pytorchcv get_model('shufflenet_g1_w1')": ("shufflenet", {"groups": 1, "scale": 1.0, "impl": "pytorchcv"}),
    "pytorchcv get_model('shufflenet_g3_w1')": ("shufflenet", {"groups": 3, "scale": 1.0, "impl": "pytorchcv"}),
    "pytorchcv get_model('shufflenet_g8_w1')": ("shufflenet", {"groups": 8, "scale": 1.0, "impl": "pytorchcv"}),
    "pytorchcv get_model('shufflenet_g3_wd2')": ("shufflenet", {"groups": 3, "scale": 0.5, "impl": "pytorchcv"}),
    "pytorchcv get_model('sqnxt23_w1')": ("squeezenext:1.0-SqNxt-23", {"impl": "pytorchcv"}),
    "pytorchcv get_model('sqnxt23v5_w2')": ("squeezenext:2.0-SqNxt-23v5", {"impl": "pytorchcv"}),
    **{f"keras.applications.ResNet{n}(weights=None)": (f"resnet:{n}", {"impl": "keras"}) for n in (50, 101, 152)},
    "keras.applications.InceptionV3(weights=None)": ("inception_v3", {"impl": "keras"}),
    **{f"keras.applications.MobileNetV2(weights=None, alpha={a})": ("mobilenet_v2", {}) for a in (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)},
    **{f"keras.applications.EfficientNetB{i}(weights=None)": (f"efficientnet:b{i}", {}) for i in range(8)},
    **{f"keras.applications.DenseNet{n}(weights=None)": (f"densenet:{n}", {}) for n in (121, 169, 201)},
    "keras.applications.VGG16(weights=None)": ("vgg16", {}),
    "keras.applications.Xception(weights=None)": ("xception", {}),
    "timm.create_model('semnasnet_100')": ("mnasnet:a1", {}),
    "timm.create_model('mnasnet_small')": ("mnasnet:small", {}),
    **{f"keras.applications.MobileNet(weights=None, alpha={a})": ("mobilenet", {}) for a in (1.0, 0.75, 0.5, 0.25)},
}


def test_every_recorded_network_is_checked():
    assert set(SPECS) == set(DATA["nets"])


def counted_layers(ref: str, settings: dict, px: int, alpha: float = 1.0) -> list:
    spec = costcalc.load_spec(ref, settings=settings or None)
    res = costcalc.evaluate(spec, alpha=alpha, resolution=px)
    return [(lr.name, int(lr.values["params"]) - int(lr.values["bn_params"]), int(lr.values["macs"]))
            for lr in res.layers if lr.type in ("conv", "dwconv", "linear")]


def in_running_order(ref: str, settings: dict, layers: list) -> list:
    """The spec's layers in the order the implementation lists them, where the two differ: pytorchcv's
    SqueezeNext unit runs its identity (projection) conv before the main branch, and Keras' ResNet
    lists a unit's projection shortcut (`_0_conv`) after the main branch's 3x3 (`_2_conv`); the spec
    lists the main branch first, then the shortcut."""
    if ref.startswith("squeezenext"):
        return _moved(layers, "/add/identity/conv", lambda name: True)
    if ref.startswith("resnet") and settings.get("impl") == "keras":
        return _moved(layers, "/add/downsample/conv", lambda name: name.endswith("/add/main/conv3/conv"))
    return layers


def _moved(layers: list, suffix: str, before) -> list:
    """Each layer whose name ends in `suffix` moved in front of the first layer of its unit (the part
    of its name before ``/add/``) for which `before(name)` holds."""
    out: list = []
    for layer in layers:
        unit = layer[0].split("/add/")[0]
        if layer[0].endswith(suffix):
            at = next(i for i, other in enumerate(out) if other[0].split("/add/")[0] == unit and before(other[0]))
            out.insert(at, layer)
        else:
            out.append(layer)
    return out


@pytest.mark.parametrize("ctor", list(SPECS))
def test_each_conv_and_linear_layer_equals_the_implementations_module(ctor):
    ref, settings = SPECS[ctor]
    net = DATA["nets"][ctor]
    ours = in_running_order(ref, settings, counted_layers(ref, settings, net["px"], net.get("alpha", 1.0)))
    theirs = net["layers"]
    assert len(ours) == len(theirs), f"{ref}: {len(ours)} conv/linear layers, the implementation runs {len(theirs)}"
    if ctor.startswith("keras.applications.InceptionV3"):
        # Keras lists an Inception module's branches interleaved by depth (a topological order of its
        # own); every module's layers come before the next module's, which reads their concatenation:
        # module by module, the same layers
        at = 0
        for module, size in _modules(ours):
            mine = sorted((p, m) for _, p, m in ours[at:at + size])
            keras = sorted((p, m) for _, p, m in theirs[at:at + size])
            assert mine == keras, f"{ref} {module} vs {[n for n, _, _ in theirs[at:at + size]]}"
            at += size
        return
    for (name, params, macs), (module, t_params, t_macs) in zip(ours, theirs):
        assert (params, macs) == (t_params, t_macs), f"{ref} {name} vs {module}: {(params, macs)} != {(t_params, t_macs)}"


def test_the_architectures_page_says_how_many_networks_are_checked():
    import re

    text = (Path(__file__).parent.parent / "docs" / "architectures.md").read_text(encoding="utf-8")
    said = re.search(r"the test suite checks (\d+) networks layer\s+by layer", text)
    assert said and int(said.group(1)) == len(DATA["nets"])


def _modules(layers: list) -> list:
    """(top-level block, how many of the layers are in it), in order."""
    out: list = []
    for name, _, _ in layers:
        top = name.split("/")[0]
        if out and out[-1][0] == top:
            out[-1][1] += 1
        else:
            out.append([top, 1])
    return out
