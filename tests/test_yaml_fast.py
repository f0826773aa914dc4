"""The fast reading of long runs of one-line layers (costcalc.yamlio._fast_runs) against libyaml's
ordinary reading of the same text: the same document, the same lines, the same types, and the same
error where the text is refused. The oracle is the event-by-event reading (parse_events), which the
rest of the suite tests against YAML itself."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costcalc import yamlio
from costcalc.errors import SpecError
from costcalc.yamlio import LineDict, LineList, parse_events, parse_yaml


@pytest.fixture(autouse=True)
def short_runs(monkeypatch):
    monkeypatch.setattr(yamlio, "FAST_RUN", 3)  # the property texts are short: read runs of 3 lines on


def shape(value):
    """Everything the spec loader can see of a document: values with their types, and every line."""
    if isinstance(value, LineDict):
        return ("map", value.line, [(shape(k), value.lines.get(k), shape(v)) for k, v in value.items()])
    if isinstance(value, LineList):
        return ("seq", value.line, list(value.lines), [shape(v) for v in value])
    assert not isinstance(value, (dict, list)), "plain containers carry no lines"
    return (type(value).__name__, repr(value))


def ordinary(text: str):
    """The oracle: libyaml's events alone, or the one-line error."""
    try:
        return shape(parse_yaml_without_fast(text))
    except SpecError as exc:
        return ("error", str(exc))


def parse_yaml_without_fast(text: str):
    original = yamlio._fast_runs
    yamlio._fast_runs = lambda text: None
    try:
        return parse_yaml(text, "t.yaml")
    finally:
        yamlio._fast_runs = original


def fast(text: str):
    try:
        return shape(parse_yaml(text, "t.yaml"))
    except SpecError as exc:
        return ("error", str(exc))


def test_a_long_run_is_read_by_hand_and_equals_libyaml():
    text = "name: chain\nlayers:\n" + "".join(f"  - {{type: conv, out: {8 + i % 3}, kernel: [1, 3], name: 'c{i}'}}\n"
                                              for i in range(10)) + "  - {type: relu}  # a comment\n"
    assert yamlio._fast_runs(text) is not None  # the path under test is taken
    doc = parse_yaml(text, "t.yaml")
    assert doc["layers"][4] == {"type": "conv", "out": 9, "kernel": [1, 3], "name": "c4"}
    assert doc["layers"][4].line == 7 and doc["layers"].lines[4] == 7 and doc["layers"][4]["kernel"].lines == [7, 7]
    assert fast(text) == ordinary(text)


def test_a_placeholder_that_is_not_a_list_item_reads_the_text_again():
    # the run sits inside a literal block scalar: it is text, not layers
    text = "description: |\n" + "".join("  - {type: relu}\n" for _ in range(5)) + "layers: []\n"
    assert fast(text) == ordinary(text)
    assert parse_yaml(text, "t.yaml")["description"].count("{type: relu}") == 5


@pytest.mark.parametrize("line", [
    "  - {type: conv, type: relu}",        # a duplicate key
    "  - {out: 1, true: 2, 1: 3}",         # true and 1 are one key
    "  - {x: 99999999999999999999999999999999999999999999999}",  # refused: too many digits
    "  - {x: .inf}",                       # refused: not finite
    "  - {x: *a}",                         # an alias
    "  - {x: &a 1}",                       # an anchor
    "  - {x: !!int 3}",                    # a tag
    "  - {x: \"a\\tb\"}",                  # an escape
    "  - {<<: 1}",                         # a merge key
    "  - {x: 1:30}",                       # YAML 1.1 sexagesimal
    "  - {x: 2001-12-14}",                 # a date stays a string
    "  - {x: 0x1F, y: 010, z: 1_000, w: +3, v: -.5, u: 1e5}",
    "  - {x: yes, y: off, z: null, w: ~}",
])
def test_hard_lines_read_as_libyaml_reads_them(line):
    text = "layers:\n" + "\n".join([line] * 4) + "\n"
    assert fast(text) == ordinary(text)


#: values the fast reading takes, and values it must leave to libyaml (or read exactly as libyaml does)
SAFE = ["conv", "relu", "8", "-1", "+2", "0.5", ".5", "1e3", "1E-3", "true", "null", "yes", "Off", "$c", "$ c * 2",
        "a b", "x_1", "(1)", "0x10", "010", "0o7", "1_000", "0b11", "2001-12-14", "'q, r'", '"s: t"', '""', "''",
        "[1, 3]", "[]", "[a, 'b c']", "[ 1 ,2 ]", "-.inf", "9" * 45, ".nan", "c//2", "a-b", "+", "+.5"]
HOSTILE = ["~", "'it''s'", "[1, [2]]", "*x", "&y z", "!!str 1", "a#b", "a #b", "a:b", "{}", "-", "?", "@x",
           "%x", "`x`", '"a\\tb"', "a  b", "[1,,2]", "a\tb"]
TOKENS = SAFE * 4 + HOSTILE
KEYS = ["type", "out", "kernel", "name", "true", "null", "on", "x", "_y", "k2"] * 3 + ["1", "a b", "'q'", "<<", "?x"]


@st.composite
def layer_line(draw):
    pairs = draw(st.lists(st.tuples(st.sampled_from(KEYS), st.sampled_from(TOKENS)), max_size=4))
    sep = draw(st.sampled_from([", ", ",", " , "]))
    tail = draw(st.sampled_from(["", "  ", "  # c", "#c", " # {x: 1}"]))
    indent = draw(st.sampled_from(["  ", "  ", "    ", ""]))
    return indent + "- {" + sep.join(f"{k}: {v}" for k, v in pairs) + "}" + tail


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(layer_line(), min_size=1, max_size=12), st.integers(0, 3),
       st.sampled_from(["layers:\n", "name: n\nlayers:\n", "- \n", "blocks:\n  b:\n    layers:\n", ""]))
def test_any_run_reads_as_libyaml_reads_it(lines, copies, head):
    text = head + "\n".join(lines * (copies + 1)) + "\n"
    assert fast(text) == ordinary(text)


@st.composite
def safe_line(draw):
    pairs = draw(st.lists(st.tuples(st.sampled_from(KEYS[:10]), st.sampled_from(SAFE)), max_size=5))
    return "  - {" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}" + draw(st.sampled_from(["", " # c"]))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(safe_line(), min_size=3, max_size=20))
def test_runs_of_lines_it_takes_read_as_libyaml_reads_them(lines):
    text = "name: n\nlayers:\n" + "\n".join(lines) + "\n"
    assert fast(text) == ordinary(text)


def test_a_spec_read_the_fast_way_builds_the_same_layers_as_one_read_the_ordinary_way():
    """Items read from the same line share their check key (LineDict.same): a run mixing repeated and
    distinct lines, named and unnamed layers, a repeat and a `from` builds what libyaml's reading does."""
    from costcalc.spec import build_spec

    lines = ["  - {type: conv, out: 8, kernel: 3, padding: 1}", "  - {type: relu}", "  - {type: conv, out: 8, kernel: 1}",
             "  - {type: conv, out: 8, kernel: 3, padding: 1, name: named}", "  - {type: bn}",
             "  - {type: conv, out: 8, kernel: 1, repeat: 2}", "  - {type: add, from: [relu, conv]}",
             "  - {type: conv, out: 16, kernel: 3, stride: 2, padding: 1}", "  - {type: relu, name: r}"]
    body = [lines[(i * 7) % 3] for i in range(40)] + lines[3:] + [lines[i % 2] for i in range(20)]
    text = "name: mix\ninput: {channels: 8, size: 16}\nlayers:\n" + "\n".join(body) + "\n"
    assert yamlio._fast_runs(text) is not None
    fast_doc, plain_doc = parse_yaml(text, "t.yaml"), parse_yaml_without_fast(text)
    assert any(getattr(item, "same", None) is not None for item in fast_doc["layers"])
    built = [build_spec(doc, "t.yaml").layers for doc in (fast_doc, plain_doc)]
    assert built[0] == built[1] and len(built[0]) == len(body) + 1  # the repeat adds one layer
