"""The spec loader: expansion, names, variants, parameters, and one-line located errors."""

from __future__ import annotations

import numpy as np
import pytest

import costcalc
from costcalc.errors import SpecError
from costcalc.spec import _same_choice, build_spec, load_spec
from costcalc.yamlio import parse_yaml

HEAD = "name: t\ninput: {channels: 3, size: 32}\n"


def load(text: str, **kw):
    return build_spec(parse_yaml(text, "t.yaml"), "t.yaml", **kw)


def error(text: str, **kw) -> str:
    with pytest.raises(SpecError) as info:
        load(text, **kw)
    message = str(info.value)
    assert "\n" not in message
    return message


# -- expansion ------------------------------------------------------------------------


def test_blocks_repeat_and_hierarchical_names():
    spec = load(HEAD + """
blocks:
  pair:
    args: {out: null, stride: 1}
    layers:
      - {name: a, type: conv, out: $out, kernel: 3, stride: $stride, padding: 1}
      - {name: b, type: relu}
layers:
  - {name: s1, block: pair, args: {out: 8, stride: 2}, repeat: 3}
  - {type: relu}
  - {type: relu}
""")
    names = [layer.name for layer in spec.layers]
    assert names == ["s1.1/a", "s1.1/b", "s1.2/a", "s1.2/b", "s1.3/a", "s1.3/b", "relu", "relu_2"]
    strides = [layer.attrs["stride"] for layer in spec.layers if layer.type == "conv"]
    # only the first repetition keeps the stride
    assert strides == [(2, 2), (1, 1), (1, 1)]


def test_branches_make_a_graph():
    spec = load(HEAD + """
layers:
  - {name: stem, type: conv, out: 8, kernel: 1}
  - name: fire
    type: concat
    branches:
      - [{name: e1, type: conv, out: 4, kernel: 1}]
      - [{name: e3, type: conv, out: 4, kernel: 3, padding: 1}]
      - []
""")
    by = {layer.name: i for i, layer in enumerate(spec.layers)}
    assert list(by) == ["stem", "fire/e1", "fire/e3", "fire"]
    assert spec.layers[by["fire/e1"]].inputs == (by["stem"],)
    assert spec.layers[by["fire/e3"]].inputs == (by["stem"],)
    # the empty branch is the identity: the merge reads the stem directly
    assert spec.layers[by["fire"]].inputs == (by["fire/e1"], by["fire/e3"], by["stem"])
    res = costcalc.evaluate(spec)
    assert int(np.reshape(res.layers[-1].c, -1)[0]) == 4 + 4 + 8


def test_expressions_parameters_and_set():
    text = HEAD + """
parameters: {width: 2, table: {a: 3, b: 5}, pick: a}
layers:
  - {type: conv, out: "$ table[pick] * width", kernel: 1}
"""
    assert load(text).layers[0].attrs["out"] == 6
    assert load(text, settings={"pick": "b", "width": 3}).layers[0].attrs["out"] == 15
    assert "no parameter 'widht' to set (did you mean 'width'?)" in error(text, settings={"widht": 1})


def test_variants_overlay_and_default():
    text = HEAD + """
parameters: {c: 4}
variants:
  small: {description: four}
  big: {description: eight, parameters: {c: 8}}
layers:
  - {type: conv, out: $c, kernel: 1}
"""
    assert load(text).variant == "small"
    assert load(text, variant="big").layers[0].attrs["out"] == 8
    assert "no variant 'bgi' (did you mean 'big'?)" in error(text, variant="bgi")


def test_bundled_spec_by_name_file_name_and_variant_suffix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # from any directory
    assert load_spec("mobilenet").name == "mobilenet"
    assert load_spec("mobilenet.yaml").name == "mobilenet"
    assert load_spec("mobilenet:conv").variant == "conv"


# -- errors: one line, the file, the line, the place ----------------------------------------


@pytest.mark.parametrize(
    "body, expected",
    [
        ("layers:\n  - {type: conv, out: 8, kernel: 3, stride: -1}\n",
         "t.yaml:4: layers[0].stride: expected a positive integer or a list of two, got -1"),
        ("layers:\n  - {type: convv, out: 8, kernel: 3}\n",
         "t.yaml:4: layers[0].type: unknown layer type 'convv' (did you mean 'conv'?)"),
        ("layers:\n  - {type: conv, out: 8, kernel: 3, strid: 2}\n",
         "t.yaml:4: layers[0].strid: unknown key (did you mean 'stride'?)"),
        ("layers:\n  - {type: conv, kernel: 3}\n", "layers[0].out: a conv layer needs 'out' (channels) or 'expand'"),
        ("layers:\n  - {type: linear}\n", "layers[0].out: missing"),
        ("layers:\n  - {type: conv, out: 0, kernel: 3}\n", "layers[0].out: expected a positive integer, got 0"),
        ("layers:\n  - {type: conv, out: 2.5, kernel: 3}\n", "expected a positive integer, got 2.5"),
        ("layers:\n  - {type: conv, out: 8, kernel: 3, padding: wide}\n", "layers[0].padding: expected 'same', 'valid'"),
        ("layers:\n  - {type: conv, out: 8, kernel: 3, bias: 1}\n", "layers[0].bias: expected true or false, got 1"),
        ("layers:\n  - {type: relu, repeat: 1000000000}\n", "layers[0].repeat: 1000000000 is more than the limit"),
        ("layers:\n  - {block: nope}\n", "layers[0].block: unknown block 'nope'"),
        ("layers:\n  - {type: conv, out: $missing, kernel: 1}\n", "layers[0].out: unknown name 'missing'"),
        ("layers:\n  - {type: conv, out: \"$ __import__('os')\", kernel: 1}\n", "not allowed in an expression"),
        ("layers:\n  - {type: split, sections: 2, index: 2}\n", "layers[0].index: index 2 out of range"),
        ("layers:\n  - {type: relu, branches: [[]]}\n", "layers[0].branches: unknown key"),
        ("layers:\n  - {name: a, type: relu}\n  - {name: a, type: relu}\n", "layers[1].name: duplicate layer name 'a'"),
        ("layers: []\n", "layers: expected a non-empty list of layers"),
        ("layers:\n  - 5\n", "layers[0]: expected a layer (a mapping), got 5"),
        ("layers:\n  - {type: relu}\nbogus: 1\n", "bogus: unknown key"),
        ("layers:\n  - {type: relu}\nreferences:\n  - {quantity: macz, value: 1, source: x}\n",
         "references[0].quantity: expected one of 'params'"), ("layers:\n  - {type: relu}\nreferences:\n  - {quantity: macz, value: 1, source: x}\n",
             "got 'macz' (did you mean 'macs'?)"),
        ("layers:\n  - {type: relu}\nreferences:\n  - {quantity: macs, value: 1, source: x, expect: deviates}\n",
         "references[0].note: a reference that deviates needs a note"),
        ("layers:\n  - {type: relu}\nreferences:\n  - {quantity: macs, value: 1, source: x, expect: unexplained}\n",
         "references[0].note: a reference that is unexplained needs a note saying what was tried"),
    ],
)
def test_malformed_specs_give_one_located_line(body, expected):
    assert expected in error(HEAD + body)


def test_block_cycles_are_reported_with_their_path():
    message = error(HEAD + """
blocks:
  a: {layers: [{block: b}]}
  b: {layers: [{block: a}]}
layers:
  - {block: a}
""")
    assert "block 'a' uses itself: a -> b -> a" in message


def test_yaml_problems():
    assert "invalid YAML" in error("name: t\nlayers: [\n")
    assert "duplicate key 'name'" in error("name: t\nname: u\n")
    message = error("a: &x [1, 2]\nb: *x\n")
    # reported at the anchored node, the first place the parser can know it is shared
    assert "anchors and aliases are not supported" in message and "t.yaml:1" in message
    assert "expected a mapping at the top level" in str(_file_error("- 1\n- 2\n"))


def _file_error(text, tmp=[]):  # noqa: B006 - a tiny cache of one temp dir
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "x.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        load_spec(str(path))
    return info.value


def test_unreadable_inputs(tmp_path):
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\x00\x01\x02")
    latin = tmp_path / "l.yaml"
    latin.write_bytes("name: caf\xe9\n".encode("latin-1"))
    for path, expected in [
        (binary, "binary file"),
        (latin, "not UTF-8"),
        (tmp_path, "is a directory"),
        (tmp_path / "missing.yaml", "no such file"),
    ]:
        with pytest.raises(SpecError) as info:
            load_spec(str(path))
        assert expected in str(info.value)


def test_unknown_bundled_name_suggests():
    with pytest.raises(SpecError) as info:
        load_spec("mobilenett")
    assert "did you mean 'mobilenet'?" in str(info.value)


@pytest.mark.parametrize("name, label", [
    ("mobilenet_v3_large", "mobilenet_v3:large"), ("efficientnet_b0", "efficientnet:b0"), ("resnet18", "resnet:18"),
    ("resnet50", "resnet:50"), ("densenet121", "densenet:121"), ("resnext50_32x4d", "resnet:resnext50_32x4d"),
    ("mobilenet_v2", "mobilenet_v2"),
])
def test_torchvision_names_are_a_spec_and_its_variant(name, label):
    assert load_spec(name).label == label


def test_a_torchvision_style_name_with_no_such_variant_says_which_there_are():
    with pytest.raises(SpecError) as info:
        load_spec("resnet5")
    assert "no variant '5' (did you mean '50'?)" in str(info.value)


def test_python_callers_get_the_same_checks():
    import math

    import costcalc

    for bad in ({"classes": math.nan}, {"classes": {1, 2}}, {"classes": 10**80}, {"classes": [[[[[[[[[[1]]]]]]]]]]}):
        with pytest.raises(costcalc.SpecError):
            costcalc.load_spec("mobilenet", settings=bad)
    for bad in ({"max_depth": 10**6}, {"max_layers": 0}, {"max_repeat": 2.5}, {"max_bytes": True}):
        with pytest.raises(ValueError):
            costcalc.Limits(**bad)
    spec = costcalc.load_spec("mobilenet")
    for kwargs in ({"alpha": 3e17}, {"alpha": math.inf}, {"rho": 1e-9}, {"resolution": 10**7}, {"alpha": "x"}):
        with pytest.raises(ValueError):
            costcalc.evaluate(spec, **kwargs)


def test_load_spec_takes_a_dict_or_yaml_text_and_gives_python_ints():
    import costcalc

    doc = {"name": "mine", "input": {"channels": 3, "size": 8}, "layers": [{"type": "conv", "out": 4, "kernel": 3}]}
    text = "name: mine\ninput: {channels: 3, size: 8}\nlayers:\n  - {type: conv, out: 4, kernel: 3}\n"
    for ref in (doc, text):
        res = costcalc.evaluate(costcalc.load_spec(ref))
        # 3x3 conv, 3 -> 4 channels, 8x8 without padding: 6x6x4 outputs x 27 = 3,888 MACs; 4 x 27 + 4 params
        assert res.total("macs") == 3888 and type(res.total("macs")) is int and res.total("params") == 112
        assert res.records()[0] == {"name": "conv", "type": "conv", "channels": 4, "height": 6, "width": 6, "params": 112,
                                    "bn_params": 0, "macs": 3888, "ops": 144, "mem_access": 192 + 144 + 112,
                                    "activations": 144, "weights": 112}
    grid = costcalc.evaluate(costcalc.load_spec(doc), alpha=[1.0], resolution=[8, 10])
    assert grid.total("macs").tolist() == [[3888, 8 * 8 * 4 * 27]]  # lists give arrays, even of one alpha
    assert [r["resolution"] for r in grid.records()] == [8, 10]
    with pytest.raises(costcalc.SpecError) as info:
        costcalc.load_spec({**doc, "layers": [{"type": "conv", "out": -4, "kernel": 3}]})
    assert str(info.value) == "<dict>: layers[0].out: expected a positive integer, got -4"
    with pytest.raises(costcalc.SpecError) as info:
        costcalc.load_spec("mobilenet", settings={"clases": 10})
    assert "no parameter 'clases' to set (did you mean 'classes'?)" in str(info.value) and "--set" not in str(info.value)


def test_an_implementation_is_chosen_with_impl_and_checked():
    tv = load_spec("shufflenet_v2", settings={"impl": "torchvision"})
    assert tv.settings["impl"] == "torchvision" and "torchvision" in tv.implementations
    with pytest.raises(SpecError) as info:
        load_spec("shufflenet_v2", settings={"impl": "torchvison"})
    assert "no implementation 'torchvison' (did you mean 'torchvision'?) (implementations: paper, torchvision)" in str(info.value)
    # a spec with implementations must declare the parameter
    with pytest.raises(SpecError, match="declares the parameter impl"):
        load_spec("name: x\ninput: {channels: 3, size: 8}\nimplementations: {torchvision: t}\nlayers:\n  - {type: relu}\n")


def test_list_shows_the_implementations(run):
    import json

    entries = {e["name"]: e for e in json.loads(run("list", "--format", "json").out)}
    assert set(entries["googlenet"]["implementations"]) == {"torchvision"}
    assert "impl=paper\\|torchvision" in run("list", "--format", "markdown").out  # a Markdown table escapes |


def test_a_blocks_layers_are_checked_once_per_distinct_arguments():
    text = HEAD + """
blocks:
  unit:
    args: {k: 3}
    layers:
      - {name: c, type: conv, out: 4, kernel: $k, padding: $k // 2}
layers:
  - {name: a, block: unit, repeat: 2}
  - {name: b, block: unit, args: {k: 5}}
  - {name: d, block: unit, args: {k: $ 3}}
"""
    spec = load(text)
    by = {layer.name: layer for layer in spec.layers}
    assert by["a.1/c"].attrs is by["a.2/c"].attrs is by["d/c"].attrs  # one check for k = 3
    assert by["b/c"].attrs["kernel"] == (5, 5) and by["b/c"].attrs["padding"] == (2, 2)
    # the type of a value is part of the key: true (equal to 1 in Python) is checked afresh, and refused
    flags = HEAD + """
blocks:
  unit:
    args: {c: 1}
    layers:
      - {name: c, type: conv, out: $c, kernel: 1}
layers:
  - {name: a, block: unit}
  - {name: b, block: unit, args: {c: true}}
"""
    assert "layers[1].blocks.unit.layers[0].out" in error(flags)
    assert load(flags.replace("c: true", "c: 1"))


def test_a_combination_the_spec_cannot_build_is_refused():
    text = HEAD + """
parameters: {impl: paper, groups: 1}
implementations: {lib: "no grouped convs"}
requires:
  - {that: "$ groups == 1 or impl == 'paper'", else: "lib has no grouped network"}
layers:
  - {type: conv, out: 4, kernel: 1, groups: $groups}
"""
    assert load(text, settings={"impl": "lib"}) and load(text, settings={"groups": 1 + 0})
    message = error(text, settings={"impl": "lib", "groups": 2})
    assert message.endswith("t.yaml:7: requires[0]: lib has no grouped network (impl=lib, groups=2)"), message
    assert "requires[0].that: expected a $ expression that is true or false" in error(text.replace('"$ groups == 1', '"$ groups + 1 #'))


def test_a_parameter_takes_only_its_choices():
    text = HEAD + """
parameters: {unit: plain, groups: 1}
choices:
  unit: [plain, wide]
  groups: [1, 2, 4]
variants:
  a: {parameters: {unit: plain}}
  b: {parameters: {unit: tall}}
layers:
  - {type: conv, out: "$ 8 if unit == 'wide' else 4", kernel: 1, groups: $groups}
"""
    # a value that is not a choice would have fallen into the `else`: a narrow network, silently
    assert error(text, variant="a", settings={"unit": "wdie"}) == (
        "t.yaml: parameter 'unit': 'wdie' is not one of its choices (plain, wide) (did you mean 'wide'?)")
    assert load(text, variant="a", settings={"unit": "wide"}).layers[0].attrs["out"] == 8
    # numbers: 2.0 is the choice 2, true is not the choice 1, nor "2" the choice 2
    assert load(text, variant="a", settings={"groups": 2.0}).layers[0].attrs["groups"] == 2
    assert error(text, variant="a", settings={"groups": 3}) == "t.yaml: parameter 'groups': 3 is not one of its choices (1, 2, 4)"
    assert error(text, variant="a", settings={"groups": True}) == "t.yaml: parameter 'groups': expected a number, got true"
    assert _same_choice(2.0, 2) and not _same_choice(True, 1) and not _same_choice("2", 2) and not _same_choice(1, True)
    # the file's own values are checked too, with their place and line
    assert error(text, variant="b") == "t.yaml:10: variants.b.parameters.unit: parameter 'unit': 'tall' is not one of its choices (plain, wide)"
    assert error(text.replace("[plain, wide]", "[wide]"), variant="a") == (
        "t.yaml:9: variants.a.parameters.unit: parameter 'unit': 'plain' is not one of its choices (wide)")
    flat = HEAD + "parameters:\n  unit: tall\nchoices: {unit: [plain]}\nlayers:\n  - {type: relu}\n"
    assert error(flat) == "t.yaml:4: parameters.unit: parameter 'unit': 'tall' is not one of its choices (plain)"
    # choices of no parameter, and choices of impl (the implementations are its choices)
    assert "t.yaml:7: choices.group: no parameter 'group' (did you mean 'groups'?)" in error(text.replace("  groups: [1", "  group: [1"), variant="a")
    assert "choices.impl: impl's choices are the spec's implementations" in error(
        text.replace("unit: plain, groups: 1}", "unit: plain, groups: 1, impl: paper}").replace("  groups: [1", "  impl: [paper]\n  groups: [1"), variant="a")


def test_a_spec_whose_own_network_is_an_implementation_offers_no_paper():
    from costcalc.spec import describe

    assert load_spec("resnet50").settings["impl"] == "torchvision"
    with pytest.raises(SpecError) as info:
        load_spec("resnet50", settings={"impl": "paper"})
    assert str(info.value) == "resnet.yaml: no implementation 'paper' (implementations: torchvision, keras)"
    assert describe("resnet")["choices"]["impl"] == ["torchvision", "keras"]
    assert describe("shufflenet_v2")["choices"] == {"width": [0.5, 1.0, 1.5, 2.0], "impl": ["paper", "torchvision"]}


def test_every_bundled_text_parameter_has_its_choices():
    """A text parameter is compared in expressions (`unit == 'full'`): a value none of them names
    would build the `else` network without a word, so every bundled one lists what it may be."""
    from costcalc.spec import bundled_names, describe, read_document

    for name in bundled_names():
        doc, _ = read_document(name)
        info = describe(name)
        for values in [doc.get("parameters") or {}, *[v.get("parameters") or {} for v in (doc.get("variants") or {}).values()]]:
            for key, value in values.items():
                if isinstance(value, str):
                    assert key in info["choices"], f"{name}: text parameter {key!r} has no choices"


def test_keras_resnet_is_the_papers_v1_with_conv_biases(run):
    """Keras' residual_block_v1 (keras/src/applications/resnet.py): the stride on the first 1x1 conv,
    a bias on every Conv2D. ResNet-50's convs have 26,560 output channels in all (64 in the stem; per
    stage, blocks x (2 x planes + 4 x planes) plus the 4 x planes projection: 3 x 384 + 256 ...), so
    Keras has 26,560 parameters more than the same network without biases."""
    v1 = load_spec("resnet50", settings={"stride_on": "1x1"})
    keras = load_spec("resnet50", settings={"impl": "keras"})
    plain, with_bias = costcalc.evaluate(v1), costcalc.evaluate(keras)
    stem = 64
    stages = sum(n * 6 * p + 4 * p for n, p in ((3, 64), (4, 128), (6, 256), (3, 512)))
    assert stem + stages == 26_560
    assert with_bias.total("params") - plain.total("params") == 26_560
    assert with_bias.total("macs") == plain.total("macs")  # biases add no multiply-accumulates
    # the stride where Keras puts it: layer2's first 1x1 already runs at 28x28
    conv1 = next(lr for lr in with_bias.layers if lr.name == "layer2/0/add/main/conv1/conv")
    assert (conv1.h, conv1.w) == (28, 28)
    out = run("report", "resnet18", "--set", "impl=keras")
    assert out.code == 2 and "Keras has ResNet50, ResNet101 and ResNet152 only" in out.err and "Traceback" not in out.err
    out = run("report", "resnet50", "--set", "impl=keras", "--set", "stride_on=3x3")
    assert out.code == 2 and "leave stride_on=auto" in out.err


def test_bundled_grouped_squeezenext_refuses_the_implementation_without_it(run):
    out = run("report", "squeezenext:1.0-G-SqNxt-23", "--set", "impl=pytorchcv")
    assert out.code == 2 and "pytorchcv has no grouped SqueezeNext" in out.err and "Traceback" not in out.err
