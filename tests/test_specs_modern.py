"""ShuffleNet v1/v2 and the later families: hand-computed units, structure, parameters, goldens."""

from __future__ import annotations

import json

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
    shapes = {lr.name: int(lr.c.reshape(-1)[0]) for lr in res.layers}
    assert shapes["stage3/unit.1/concat/keep"] == shapes["stage3/unit.1/concat/split"] == 116
    assert shapes["stage3/unit.1/concat"] == 232
    # stride-2 unit: 116 (projection) + (232 - 116) (main) = 232
    assert shapes["stage3/1/concat/proj_pw/conv"] + shapes["stage3/1/concat/pw2/conv"] == shapes["stage3/1/concat"] == 232


def test_fused_structural_ops_move_no_data():
    plain = costcalc.evaluate(costcalc.load_spec("shufflenet_v2"))
    fused = costcalc.evaluate(costcalc.load_spec("shufflenet_v2", settings={"fused": True}))
    assert int(fused.total("macs")[0, 0]) == int(plain.total("macs")[0, 0])
    saved = int(plain.total("mem_access")[0, 0]) - int(fused.total("mem_access")[0, 0])
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
    # g = 5 is not in Table 1's channel table: a one-line error naming the expression
    r = run("report", "shufflenet", "--set", "groups=5")
    assert r.code == 2 and r.err.count("\n") == 1 and "stage_channels[groups]" in r.err and "no entry 5" in r.err
    # a table that exists but does not divide: bottleneck 100 / 4 = 25 channels shuffled in 3 groups
    r = run("report", "shufflenet", "--set", "stage_channels={3: [100, 200, 400]}")
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
