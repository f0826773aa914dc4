"""Peak activation memory (tensors alive at once) and the batch, hand-computed on small graphs."""

from __future__ import annotations

import pytest

from costcalc.engine import evaluate
from costcalc.memory import peak
from costcalc.spec import build_spec
from costcalc.yamlio import parse_yaml


def result(layers: str, channels: int = 4, size: int = 8, **kw):
    text = f"name: t\ninput: {{channels: {channels}, size: {size}}}\ndefaults: {{bias: false}}\nlayers:\n{layers}"
    return evaluate(build_spec(parse_yaml(text, "t.yaml"), "t.yaml"), **kw)


def test_a_chain_holds_a_layer_and_its_input():
    # input 4x8x8 = 256; conv to 8 channels: 512; relu: 512. At the conv: 256 + 512; at the relu: 512 + 512
    p = peak(result("  - {name: c, type: conv, out: 8, kernel: 1}\n  - {name: r, type: relu}\n"))
    assert (p.elements, p.layer, p.alive) == (1024, "r", 2)


def test_a_residual_block_holds_its_shortcut_until_the_add():
    # x: 256. conv (x alive): 256 + 256 = 512; relu: x + conv + relu = 768 (the shortcut is held);
    # add: x + relu + add = 768 (the conv output is freed after the relu)
    p = peak(result("  - {name: add, type: add, branches: [[{name: c, type: conv, out: 4, kernel: 1}, {name: r, type: relu}], []]}\n"))
    assert (p.elements, p.layer, p.alive) == (768, "add/r", 3)


def test_a_two_branch_concat_holds_both_branches():
    # x: 256; a: 2 channels = 128; b: 6 channels = 384; the concat: 512. At b: x + a + b = 768;
    # at the concat (x is freed after b): a + b + 512 = 1024
    p = peak(result("  - {name: cat, type: concat, branches: [[{name: a, type: conv, out: 2, kernel: 1}],"
                    " [{name: b, type: conv, out: 6, kernel: 1}]]}\n"))
    assert (p.elements, p.layer, p.alive) == (1024, "cat", 3)


def test_views_and_fused_layers_allocate_nothing():
    # flatten is its input's tensor; the fused bn too: the linear holds the conv output (512) and its 10
    p = peak(result("  - {type: conv, out: 8, kernel: 1}\n  - {type: bn, fused: true}\n  - {type: flatten}\n"
                    "  - {name: fc, type: linear, out: 10}\n"))
    assert (p.elements, p.alive) == (256 + 512, 2)  # the conv step: input + output; the fc step: 512 + 10


def test_the_batch_scales_activations_macs_and_traffic_but_reads_weights_once():
    one = result("  - {type: conv, out: 8, kernel: 3, padding: 1}\n")
    four = result("  - {type: conv, out: 8, kernel: 3, padding: 1}\n", batch=4)
    t1 = {q: int(one.total(q)) for q in ("params", "macs", "mem_access", "activations")}
    t4 = {q: int(four.total(q)) for q in ("params", "macs", "mem_access", "activations")}
    # params 8 x 4 x 9 = 288; MACs 8x8x8 outputs x 36 = 18,432; traffic 256 in + 512 out + 288 weights
    assert t1 == {"params": 288, "macs": 18_432, "mem_access": 256 + 512 + 288, "activations": 512}
    assert t4 == {"params": 288, "macs": 4 * 18_432, "mem_access": 4 * (256 + 512) + 288, "activations": 4 * 512}
    assert peak(four).elements == 4 * (256 + 512)


def test_the_batch_in_every_command(run):
    import json

    doc = json.loads(run("report", "mobilenet", "--batch", "8", "--format", "json").out)
    assert doc["config"]["batch"] == 8 and doc["totals"]["macs"] == 8 * 568_740_352
    assert doc["totals"]["params"] == 4_231_976 and "batch 8" in doc["conventions"][-1]  # weights are not per image
    from conftest import read_csv

    sweep = read_csv(run("sweep", "mobilenet", "--alpha", "1,0.5", "--batch", "2", "--format", "csv").out)
    assert sweep[0]["macs"] == str(2 * 568_740_352)
    assert run("check", "mobilenet", "--batch", "2", "--max-macs", "1.2G").code == 0
    assert run("check", "mobilenet", "--batch", "3", "--max-macs", "1.2G").code == 1
    r = run("report", "mobilenet", "--batch", "0")
    assert r.code == 2 and "'--batch'" in r.err


@pytest.mark.parametrize("batch", [0, -1, 2.5, True, 1 << 21])
def test_a_bad_batch_from_python(batch):
    with pytest.raises(ValueError):
        result("  - {type: relu}\n", batch=batch)
