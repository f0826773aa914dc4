"""The gating merge `mul` (squeeze-excitation, spatial gates): shapes broadcast over 1-wide axes,
one op per output element, memory access reads both inputs whole; hand-computed."""

from __future__ import annotations

import numpy as np
import pytest

from costcalc.engine import QUANTITIES, evaluate
from costcalc.errors import SpecError
from costcalc.memory import peak
from costcalc.spec import build_spec
from costcalc.yamlio import parse_yaml

SE = """name: se
input: {channels: 16, size: 8}
defaults: {bias: false}
blocks:
  se:                                  # squeeze-excitation, written once
    args: {c: null, r: 4}
    layers:
      - type: mul
        branches:
          - []                         # the feature map itself
          - [{type: avgpool, global: true}, {type: conv, out: "$ c // r", kernel: 1}, {type: relu},
             {type: conv, out: $c, kernel: 1}, {type: sigmoid}]
layers:
  - {name: stem, type: conv, out: 16, kernel: 1}
  - {name: se, block: se, args: {c: 16}}
"""


def spec(text):
    return build_spec(parse_yaml(text, "t.yaml"), "t.yaml")


def test_squeeze_excitation_is_one_block():
    res = evaluate(spec(SE))
    rows = {lr.name: lr for lr in res.layers}
    gate = rows["se/mul"]
    assert (gate.c, gate.h, gate.w) == (16, 8, 8)  # the gate (16x1x1) scales every pixel of its channel
    # one multiply per output element; reads the map (1,024) and the gate (16), writes 1,024
    assert gate.values["ops"] == 1024 and gate.values["mem_access"] == 1024 + 16 + 1024
    # the gate's two 1x1 convs: 16 -> 4 -> 16, 64 weights and 64 MACs each
    assert res.total("params") == 16 * 16 + 64 + 64 and res.total("macs") == 16 * 16 * 64 + 64 + 64
    # at the product: the map, the gate and the output are alive
    p = peak(res)
    assert (p.elements, p.layer, p.alive) == (1024 + 16 + 1024, "se/mul", 3)


def test_a_spatial_gate_broadcasts_over_channels():
    text = ("name: g\ninput: {channels: 8, size: 4}\nlayers:\n  - type: mul\n    branches:\n      - []\n"
            "      - [{type: conv, out: 1, kernel: 1, scale: false}, {type: sigmoid}]\n")
    gate = evaluate(spec(text)).layers[-1]
    assert (gate.c, gate.h, gate.w) == (8, 4, 4) and gate.values["ops"] == 128
    assert gate.values["mem_access"] == 128 + 16 + 128


def test_shapes_that_do_not_broadcast_are_one_line():
    text = ("name: g\ninput: {channels: 8, size: 4}\nlayers:\n  - type: mul\n    branches:\n      - []\n"
            "      - [{type: conv, out: 4, kernel: 1}]\n")
    with pytest.raises(SpecError) as info:
        evaluate(spec(text))
    assert "mul of shapes that do not broadcast (input 0 is 8x4x4, input 1 is 4x4x4)" in str(info.value)
    with pytest.raises(SpecError) as info:
        evaluate(spec("name: g\ninput: {channels: 8, size: 4}\nlayers:\n  - {type: mul}\n"))
    assert "at least two inputs" in str(info.value)


def test_the_grid_equals_scalar_evaluation_with_gates():
    s = spec(SE.replace("input: {channels: 16, size: 8}", "input: {channels: 3, size: 8}"))  # the stem scales
    alphas, sizes = [1.0, 0.5, 0.25], [8, 16, 7]
    grid = evaluate(s, alpha=alphas, resolution=sizes)
    for i, a in enumerate(alphas):
        for j, r in enumerate(sizes):
            one = evaluate(s, alpha=a, resolution=r)
            for q in QUANTITIES:
                assert one.total(q) == int(grid.total(q)[i, j]), (a, r, q)
    assert np.all(grid.total("params") == grid.total("params")[:, :1])
