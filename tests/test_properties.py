"""Property tests (Hypothesis): generated valid specs keep the engine's invariants, and generated
corruptions of them always end in exit status 0 or 2 with one line on stderr, never a traceback."""

from __future__ import annotations

import contextlib
import copy
import io

import numpy as np
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costcalc.cli import main
from costcalc.engine import QUANTITIES, evaluate
from costcalc.spec import build_spec
from costcalc.yamlio import parse_yaml

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data):
        return True


def dump(doc) -> str:
    return yaml.dump(doc, Dumper=_NoAliases, sort_keys=False)


# -- generated valid specs ------------------------------------------------------------------------

# shape-preserving layers (stride 1, 'same' padding) and size-changing ones ('same': never below 1)
keep_shape = st.one_of(
    st.builds(lambda k: {"type": "dwconv", "kernel": k, "padding": "same"}, st.sampled_from([1, 3, 5])),
    st.just({"type": "bn"}),
    st.sampled_from([{"type": "relu"}, {"type": "relu6"}, {"type": "sigmoid"}, {"type": "identity"}]),
)
conv = st.builds(
    lambda out, k, s, bias: {"type": "conv", "out": out, "kernel": k, "stride": s, "padding": "same", "bias": bias},
    st.integers(1, 24), st.sampled_from([1, 3, [3, 1], [1, 3]]), st.sampled_from([1, 1, 2]), st.booleans(),
)
pool = st.builds(lambda kind, s: {"type": kind, "kernel": 3, "stride": s, "padding": "same"},
                 st.sampled_from(["maxpool", "avgpool"]), st.sampled_from([1, 2]))
branch = st.lists(st.one_of(keep_shape, st.builds(lambda o: {"type": "conv", "out": o, "kernel": 1}, st.integers(1, 8))),
                  min_size=0, max_size=2)
concat = st.builds(lambda bs: {"type": "concat", "branches": bs}, st.lists(branch, min_size=2, max_size=3))
add = st.builds(lambda b: {"type": "add", "branches": [b, []]}, st.lists(keep_shape, min_size=1, max_size=2))
block_use = st.builds(lambda out, n: {"block": "unit", "args": {"out": out}, "repeat": n}, st.integers(1, 16), st.integers(1, 3))
item = st.one_of(conv, conv, pool, keep_shape, concat, add, block_use)


@st.composite
def specs(draw):
    return {
        "name": "generated",
        "input": {"channels": draw(st.integers(1, 8)), "size": draw(st.integers(4, 40))},
        "blocks": {"unit": {"args": {"out": None, "stride": 1},
                            "layers": [{"type": "conv", "out": "$out", "kernel": 3, "stride": "$stride", "padding": "same"},
                                       {"type": "bn"}, {"type": "relu"}]}},
        "layers": draw(st.lists(item, min_size=1, max_size=12)) + [{"type": "avgpool", "global": True}],
    }


def build(doc):
    return build_spec(parse_yaml(dump(doc), "generated.yaml"), "generated.yaml")


@SETTINGS
@given(specs())
def test_generated_specs_keep_the_invariants(doc):
    spec = build(doc)
    base = doc["input"]["size"]
    alphas, sizes = [1.0, 0.5], [base, 2 * base]
    grid = evaluate(spec, alpha=alphas, resolution=sizes)
    # rows sum to totals
    for q in QUANTITIES:
        assert np.array_equal(grid.per_layer(q).sum(axis=0), grid.total(q))
    # params do not depend on the resolution (no fully-connected layer here)
    params = grid.total("params")
    assert np.all(params == params[:, :1])
    # a concat's channels are the sum of its inputs'
    one = evaluate(spec)
    chans = [int(np.reshape(lr.c, -1)[0]) for lr in one.layers]
    for i, layer in enumerate(spec.layers):
        if layer.type == "concat":
            inputs = [spec.input_channels if j < 0 else chans[j] for j in layer.inputs]
            assert chans[i] == sum(inputs)
    # the vectorised grid equals a scalar evaluation of each configuration
    for i, a in enumerate(alphas):
        for j, r in enumerate(sizes):
            scalar = evaluate(spec, alpha=a, resolution=r)
            for q in QUANTITIES:
                assert int(scalar.total(q)) == int(grid.total(q)[i, j])


# -- generated corruptions ------------------------------------------------------------------------

WRONG = st.sampled_from(["x", -1, 0, 2.5, [], {}, None, True, "$ nope", "$ 1/0", 10**30])


def run_cli(path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["report", str(path), "--format", "json"])
    return code, err.getvalue()


@st.composite
def corrupted(draw):
    doc = copy.deepcopy(draw(specs()))  # strategies may share dicts between draws
    layers = doc["layers"]
    i = draw(st.integers(0, len(layers) - 1))
    layer = layers[i]
    action = draw(st.sampled_from(["delete", "wrong", "rename", "truncate", "top"]))
    must_fail = True
    if action == "delete":
        key = draw(st.sampled_from(sorted(layer)))
        kind = layer.get("type")
        del layer[key]
        must_fail = key in ("type", "block", "kernel", "args") or (key == "out" and kind == "conv")
    elif action == "wrong":
        key = draw(st.sampled_from(sorted(layer)))
        layer[key] = draw(WRONG)
        must_fail = False  # e.g. 'padding: 0' or 'repeat: 0' can be valid
    elif action == "rename":
        layer["type"] = draw(st.sampled_from(["convv", "Conv", "pool", "linearr", "", "relu7"]))
        layer.pop("block", None)
    elif action == "top":
        doc[draw(st.sampled_from(["inputs", "layer", "blocks_", "refs"]))] = 1
    text = dump(doc)
    if action == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
        must_fail = False
    return text, must_fail


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(corrupted())
def test_corrupted_specs_never_crash(tmp_path, case):
    text, must_fail = case
    path = tmp_path / "corrupt.yaml"
    path.write_text(text, encoding="utf-8")
    code, err = run_cli(path)
    assert code in (0, 2), err
    if must_fail:
        assert code == 2
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("error: ") and "corrupt.yaml" in err, err
    assert "Traceback" not in err


# -- properties that would have caught the defects of "Reliability II" -----------------------------

from costcalc import expr  # noqa: E402
from costcalc.engine import check_grid  # noqa: E402
from costcalc.errors import SpecError  # noqa: E402


def _windows(n: int, k: int, s: int, p: int) -> int:
    """Window positions counted one by one (an oracle independent of the size formula): a window
    starts every s steps from -p while it stays within the padded input."""
    return sum(1 for start in range(-p, n + p - k + 1, s))


@SETTINGS
@given(st.integers(1, 64), st.integers(1, 7), st.integers(1, 4), st.integers(0, 8))
def test_pooling_never_makes_more_windows_than_fit(n, k, s, p):
    text = (f"name: p\ninput: {{channels: 1, size: {n}}}\n"
            f"layers:\n  - {{type: maxpool, kernel: {k}, stride: {s}, padding: {p}}}\n")
    try:
        spec = build_spec(parse_yaml(text, "p.yaml"), "p.yaml")
        out = evaluate(spec).layers[0].h
    except SpecError as exc:  # refused: padding over half the kernel, or a window larger than the input
        assert p > k // 2 or k > n + 2 * p, str(exc)
        return
    assert p <= k // 2 and out == _windows(n, k, s, p) and 1 <= out <= n + 1


@SETTINGS
@given(st.lists(st.floats(1e-3, 1000, allow_nan=False), min_size=1, max_size=4),
       st.lists(st.integers(1, 4096), min_size=1, max_size=3))
def test_grid_totals_equal_scalar_evaluation_over_the_whole_range(alphas, sizes):
    # a float cast past int64 once wrapped to a row of zeros (alpha 3e17): every total equals the
    # exact one-configuration evaluation, or the configuration is refused
    import costcalc

    spec = costcalc.load_spec("lenet5")
    try:
        grid = evaluate(spec, alpha=alphas, resolution=sizes)
    except SpecError:
        return
    for i, a in enumerate(alphas):
        for j, r in enumerate(sizes):
            one = evaluate(spec, alpha=a, resolution=r)
            for q in QUANTITIES:
                assert int(one.total(q)) == int(grid.total(q)[i, j]) >= 0


@SETTINGS
@given(specs())
def test_names_are_unique_after_expansion(doc):
    names = [layer.name for layer in build(doc).layers]
    assert len(names) == len(set(names))


@SETTINGS
@given(specs(), st.lists(st.sampled_from([1.0, 0.75, 0.5, 0.3, 0.1]), min_size=1, max_size=4, unique=True),
       st.lists(st.integers(1, 64), min_size=1, max_size=4, unique=True))
def test_the_grid_check_fails_exactly_when_the_grid_does(doc, alphas, sizes):
    # sweep checks one row, one column and the largest configuration before it streams anything
    spec = build(doc)
    try:
        evaluate(spec, alpha=alphas, resolution=sizes, per_layer=False)
        whole = None
    except SpecError as exc:
        whole = str(exc)
    try:
        check_grid(spec, np.array(alphas), np.array(sizes))
        probe = None
    except SpecError as exc:
        probe = str(exc)
    assert (whole is None) == (probe is None), (whole, probe)


NUMBER = st.one_of(st.integers(-10**6, 10**6), st.floats(-1e6, 1e6, allow_nan=False))
OPS = st.sampled_from(["+", "-", "*", "/", "//", "%", "**"])


@st.composite
def expressions(draw, depth=0):
    if depth > 3 or draw(st.booleans()):
        return repr(draw(NUMBER))
    if draw(st.booleans()):
        fn = draw(st.sampled_from(["round", "int", "max", "min", "abs", "floor", "ceil", "make_divisible"]))
        args = [draw(expressions(depth + 1)) for _ in range(2 if fn in ("round", "max", "min", "make_divisible") else 1)]
        return f"{fn}({', '.join(args)})"
    return f"({draw(expressions(depth + 1))} {draw(OPS)} {draw(expressions(depth + 1))})"


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(expressions())
def test_expressions_end_quickly_in_a_bounded_number_or_an_error(text):
    # round(5, -1000000000) once hung: every function and operator is bounded (the deadline fails a hang)
    try:
        value = expr.evaluate("$" + text, {})
    except expr.ExprError:
        return
    assert isinstance(value, (int, float, bool))
    assert abs(value) <= expr.MAX_MAGNITUDE


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["a", "conv_12", "", "x/y.3"]), st.sampled_from(["", "relu", "8x32x32"]),
                          st.sampled_from(["", "1,024", "7"])), min_size=1, max_size=5),
       st.sampled_from(["left", "right"]), st.sampled_from(["left", "right"]))
def test_a_long_table_is_laid_out_as_a_short_one(distinct, first, last):
    """to_text formats the rest of a line once per distinct rest in long tables: the same text as
    formatting every line (the oracle), trailing blanks and right-aligned first columns included."""
    from costcalc import report as rp

    # a unique (or empty) first cell and a rest that repeats, as a long report's rows
    rows = [("" if i % 7 == 0 else f"n{i}",) + distinct[i % len(distinct)] for i in range(1200)]
    cols = [("A", "a", first), ("B", "b", "left"), ("C", "c", "right"), ("D", "d", last)]
    widths = [max(len(h), *(len(r[k]) for r in rows)) for k, (h, _, _) in enumerate(cols)]
    pattern = " " + "   ".join(f"{{:{'>' if j == 'right' else '<'}{w}}}" for w, (_, _, j) in zip(widths, cols))
    oracle = [pattern.format(*r).rstrip() for r in rows]
    assert rp._fitted_long([r[0] for r in rows], [r[1:] for r in rows], widths, cols) == oracle
    # and whole: the long path (rests checked and laid out once) against the short one for every row
    table = rp.Table(title="t", columns=cols, rows=rows, footer=[("Total", "", "9", "")], notes=["n"])
    original = rp.LONG_TABLE
    try:
        rp.LONG_TABLE = 10 ** 9
        short = rp.to_text(table, 200)
    finally:
        rp.LONG_TABLE = original
    assert rp.to_text(table, 200) == short and all(line in short for line in oracle[:5])
