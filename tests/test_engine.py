"""Engine invariants over a grid, vectorisation against scalar evaluation, scaling policies."""

from __future__ import annotations

import numpy as np
import pytest

import costcalc
from costcalc.engine import QUANTITIES, evaluate
from costcalc.errors import SpecError
from costcalc.ir import WidthPolicy
from costcalc.scaling import resolution_from_rho, scale_channels
from costcalc.spec import build_spec
from costcalc.yamlio import parse_yaml

ALPHAS = [1.0, 0.75, 0.5, 0.25]
RESOLUTIONS = [224, 192, 160, 128]


@pytest.fixture(scope="module")
def grid():
    return evaluate(costcalc.load_spec("mobilenet"), alpha=ALPHAS, resolution=RESOLUTIONS)


def test_rows_sum_to_totals(grid):
    for q in QUANTITIES:
        assert np.array_equal(grid.per_layer(q).sum(axis=0), grid.total(q)), q


def test_params_do_not_depend_on_resolution(grid):
    params = grid.total("params")
    assert np.all(params == params[:, :1])


def test_macs_scale_exactly_with_the_square_of_the_resolution():
    # MobileNet's total stride is 32, so at 224 = 7*32 and 160 = 5*32 every spatial
    # layer's output scales by exactly 5/7 per side: MACs x 25/49.  The classifier has
    # no spatial extent and stays constant.
    spec = costcalc.load_spec("mobilenet")
    res = evaluate(spec, resolution=[224, 160])
    for lr in res.layers:
        m224, m160 = (int(v) for v in np.broadcast_to(lr.values["macs"], res.shape)[0])
        if lr.type in ("conv", "dwconv"):
            assert m160 * 49 == m224 * 25, lr.name
        elif lr.type == "linear":
            assert m160 == m224


def test_rho_gives_round_of_rho_times_base():
    # 0.857 * 224 = 191.97 -> 192; 0.714 * 224 = 159.9 -> 160; 0.571 * 224 = 127.9 -> 128
    assert list(resolution_from_rho(224, [1, 0.857, 0.714, 0.571])) == [224, 192, 160, 128]


def test_grid_equals_scalar_evaluation_of_each_configuration(grid):
    spec = grid.spec
    for i, a in enumerate(ALPHAS):
        for j, r in enumerate(RESOLUTIONS):
            one = evaluate(spec, alpha=a, resolution=r)
            for q in QUANTITIES:
                assert int(one.total(q)) == int(grid.total(q)[i, j]), (a, r, q)
            for lr_one, k in zip(one.layers, range(len(one.layers))):
                assert int(np.broadcast_to(lr_one.values["macs"], (1, 1))[0, 0]) == int(grid.per_layer("macs")[k, i, j])


def test_pairwise_evaluation_matches_the_grid_diagonal(grid):
    pairs = evaluate(grid.spec, alpha=ALPHAS, resolution=RESOLUTIONS, grid=False)
    assert pairs.shape == (4,)
    for q in QUANTITIES:
        assert np.array_equal(pairs.total(q), np.diagonal(grid.total(q)))


def test_totals_only_mode_keeps_no_rows(grid):
    lean = evaluate(grid.spec, alpha=ALPHAS, resolution=RESOLUTIONS, per_layer=False)
    assert lean.layers == []
    for q in QUANTITIES:
        assert np.array_equal(lean.total(q), grid.total(q))


def test_the_mobilenet_paper_grid():
    # Howard et al. 2017: Table 6 (alpha at 224) and Table 7 (resolution at alpha 1), mult-adds in
    # millions as printed; the paper truncates (290.68 -> 290), hence the +-1 M tolerance.
    res = evaluate(costcalc.load_spec("mobilenet"), alpha=ALPHAS, resolution=RESOLUTIONS)
    macs = res.total("macs") / 1e6
    for a_idx, published in enumerate([569, 325, 149, 41]):
        assert abs(macs[a_idx, 0] - published) <= 1
    for r_idx, published in enumerate([569, 418, 290, 186]):
        assert abs(macs[0, r_idx] - published) <= 1
    weights = res.total("weights")[:, 0] / 1e6
    assert np.all(np.abs(weights - [4.2, 2.6, 1.3, 0.5]) <= 0.05)


# -- width policies -----------------------------------------------------------------


def test_truncate_policy_is_tfslim_depth_rule():
    # TF-slim: max(int(d * alpha), min_depth=8)
    policy = WidthPolicy("truncate", min_channels=8)
    got = scale_channels(32, np.array([1.0, 0.75, 0.5, 0.25, 0.1]), policy)
    assert list(got) == [32, 24, 16, 8, 8]
    # int() truncates: 1024 * 0.3 = 307.2 -> 307
    assert int(scale_channels(1024, np.array([0.3]), policy)[0]) == 307


def test_make_divisible_policy():
    policy = WidthPolicy("make_divisible", divisor=8)
    # 32 * 0.35 = 11.2: nearest multiple of 8 is 8, but 8 < 0.9 * 11.2 = 10.08 -> 16
    # 96 * 0.35 = 33.6 -> 32 (32 >= 30.24); 1280 * 1.4 = 1792 (already a multiple)
    got = [int(scale_channels(c, np.array([a]), policy)[0]) for c, a in [(32, 0.35), (96, 0.35), (1280, 1.4)]]
    assert got == [16, 32, 1792]


def test_exemptions_no_and_up():
    policy = WidthPolicy("make_divisible", divisor=8)
    a = np.array([0.5, 1.0, 1.4])
    assert list(scale_channels(1000, a, policy, "no")) == [1000, 1000, 1000]
    # MobileNet v2's last conv keeps 1280 for alpha <= 1 and grows above: 1280 * 1.4 = 1792
    assert list(scale_channels(1280, a, policy, "up")) == [1280, 1280, 1792]


# -- overflow ---------------------------------------------------------------------


def test_int64_overflow_is_reported_not_wrapped():
    text = (
        "name: big\ninput: {channels: 3, size: 100000}\n"
        "layers:\n  - {type: conv, out: 100000000, kernel: 1}\n  - {type: conv, out: 100000000, kernel: 1}\n"
    )
    spec = build_spec(parse_yaml(text, "big.yaml"), "big.yaml")
    with pytest.raises(SpecError) as info:
        evaluate(spec)
    assert "overflows 64-bit" in str(info.value)
    assert "layers[1]" in str(info.value)


def test_bad_grid_values_are_rejected():
    spec = costcalc.load_spec("mobilenet")
    for kwargs in ({"alpha": -1}, {"alpha": []}, {"resolution": 0}, {"rho": float("nan")}):
        with pytest.raises(ValueError):
            evaluate(spec, **kwargs)


def test_grid_equals_an_independent_hand_written_mobilenet():
    """benchmarks/minimal.py writes MobileNet v1 out by hand (Table 1, costcalc's stated conventions,
    no costcalc code) and sums it by feature-map size: all six totals agree at every configuration,
    odd input sizes included."""
    import importlib.util

    from conftest import ROOT

    loader = importlib.util.spec_from_file_location("minimal", ROOT / "benchmarks" / "minimal.py")
    minimal = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(minimal)
    alphas = np.array([1.0, 0.75, 0.5, 0.25, 0.33, 0.9, 0.05])
    sizes = np.array([224, 192, 160, 128, 97, 301, 33, 1])
    ours = evaluate(costcalc.load_spec("mobilenet"), alpha=alphas, resolution=sizes, per_layer=False)
    theirs = minimal.totals(alphas, sizes)
    for q in QUANTITIES:
        assert np.array_equal(ours.total(q), theirs[q]), q


@pytest.mark.parametrize("resolution", [1, [1, 1]], ids=["one configuration", "grid"])
def test_counts_exactly_at_the_int64_edge(resolution):
    # 2**63 - 1 = 7**2 * 73 * 127 * 337 * 92737 * 649657: a linear layer with 153,092,023 inputs and
    # 60,247,241,209 outputs has exactly that many weights and MACs (fused: no memory traffic on top)
    assert 153_092_023 * 60_247_241_209 == 2**63 - 1

    def spec(out):
        text = ("name: edge\ninput: {channels: 153092023, size: 1}\n"
                f"layers:\n  - {{type: linear, out: {out}, bias: false, scale: false, fused: true}}\n")
        return build_spec(parse_yaml(text, "edge.yaml"), "edge.yaml")

    res = evaluate(spec(60_247_241_209), alpha=[1.0, 0.5] if resolution != 1 else 1.0, resolution=resolution)
    assert int(np.max(res.total("params"))) == int(np.max(res.total("macs"))) == 2**63 - 1
    with pytest.raises(SpecError) as info:  # one more output: past int64 by 153,092,023
        evaluate(spec(60_247_241_210), alpha=[1.0, 0.5] if resolution != 1 else 1.0, resolution=resolution)
    assert "overflows 64-bit" in str(info.value) and "layers[0]" in str(info.value)


def test_a_deep_padded_chain_does_not_overflow_falsely():
    # the bound of a padded conv's output size once grew by 2 x padding per layer and ignored the
    # kernel: 300,000 such layers stopped with a false overflow; the bound is the size itself now
    # kernel: with 65,536 channels that bound passes 2**63 within 20,000 layers, while the real MACs
    # stay near 2e17
    text = ("name: deep\ninput: {channels: 65536, size: 8}\n"
            "layers:\n  - {type: conv, out: 65536, kernel: 3, padding: 1, repeat: 20000}\n")
    spec = build_spec(parse_yaml(text, "deep.yaml"), "deep.yaml")
    grid = evaluate(spec, alpha=[1.0], resolution=[8, 16], per_layer=False)
    per_pixel = 20000 * 65536 * 65536 * 9
    assert grid.total("macs").tolist() == [[per_pixel * 64, per_pixel * 256]]
    one = evaluate(spec, resolution=16)
    assert int(one.total("macs")) == per_pixel * 256
