"""Reading YAML safely in one pass, keeping the line of every key and item.

The document is built straight from libyaml's event stream with an explicit
stack: no recursion (so no nesting depth can overflow a stack), one pass over
the text, and every limit checked as the events arrive, before anything large
is built.  What a spec may contain is plain data: mappings, sequences,
strings, booleans, null, integers of bounded size and finite floats.
Anchors and aliases (a spec has blocks for reuse), merge keys, duplicate keys
(which PyYAML would silently overwrite), binary, sets and other tags are
refused with the line they stand on.  A date-like scalar stays the string
it was written as.
"""

from __future__ import annotations

import functools
import gc
import math
import re

import yaml

from .errors import SpecError

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: deepest nesting of mappings and sequences in one document
MAX_NESTING = 256
#: digits of an integer literal (2**63 has 19; a count that needs more is refused by the checks anyway)
MAX_INT_DIGITS = 40
#: items of one mapping or sequence (the loader passes its layer limit: a longer list cannot be a spec)
MAX_ITEMS = 1_000_000


class LineDict(dict):
    """A mapping that remembers the line of each key (1-based)."""

    line: int | None = None
    checked = False  # a whole spec document checked by costcalc.format.check_spec
    #: a mapping read from the same text as this one (a long run repeats its lines): this one's keys
    #: and values equal its; costcalc.spec keys its checks by it (None: no such mapping)
    same: dict | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines: dict = {}

    def line_of(self, key) -> int | None:
        return self.lines.get(key, self.line)


class LineList(list):
    """A sequence that remembers the line of each item (1-based)."""

    line: int | None = None

    def __init__(self, *args):
        super().__init__(*args)
        self.lines: list = []

    def line_of(self, index: int) -> int | None:
        return self.lines[index] if 0 <= index < len(self.lines) else self.line


class _Refused(Exception):
    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.line = line


_STR = "tag:yaml.org,2002:str"
_TAGS = {  # explicit tags a spec may use, and what they build
    _STR: "str", "tag:yaml.org,2002:int": "int", "tag:yaml.org,2002:float": "float",
    "tag:yaml.org,2002:bool": "bool", "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:timestamp": "str",
}
_COLLECTION_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
_resolver = yaml.resolver.Resolver()
_constructor = yaml.constructor.SafeConstructor()
_DIGITS = re.compile(r"[0-9a-fA-F]")


def _short(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!")[:60]


def _scalar(event, line: int, cache: dict):
    value = event.value
    tag = event.tag
    key = (value, tag, event.implicit[0])
    hit = cache.get(key, _MISS)
    if hit is not _MISS:
        return hit
    out = cache[key] = _construct(value, tag, event, line)
    return out


_MISS = object()
_EXPONENT = re.compile(r"^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+$")


def _construct(value: str, tag, event, line: int):
    if tag in (None, "!"):
        tag = _resolver.resolve(yaml.ScalarNode, value, event.implicit) if event.implicit[0] else _STR
    kind = _TAGS.get(tag)
    if kind is None:
        if tag == "tag:yaml.org,2002:merge":
            raise _Refused("YAML merge keys (<<) are not supported in specs", line)
        raise _Refused(f"YAML tag {_short(tag)} is not supported in specs (plain numbers, strings, lists and mappings only)", line)
    if kind == "str":
        if event.implicit[0] and _EXPONENT.match(value):
            kind = "float"  # 4.7e9, 1e-6: numbers, as YAML 1.2 reads them (YAML 1.1 wants 4.7e+9)
        else:
            return value
    if kind == "null":
        return None
    node = yaml.ScalarNode(tag, value)
    try:
        if kind == "bool":
            return _constructor.construct_yaml_bool(node)
        if kind == "int":
            if len(_DIGITS.findall(value)) > MAX_INT_DIGITS:
                raise _Refused(f"integer with more than {MAX_INT_DIGITS} digits", line)
            return _constructor.construct_yaml_int(node)
        number = _constructor.construct_yaml_float(node)
    except (ValueError, KeyError, IndexError):
        raise _Refused(f"not a valid {kind}: {value[:40]!r}", line) from None
    if not math.isfinite(number):
        raise _Refused(f"infinite or NaN number {value[:40]!r} (numbers must be finite)", line)
    return number


def parse_events(text: str, max_nesting: int = MAX_NESTING, max_items: int = MAX_ITEMS, fast=None):
    """Build one YAML document from the event stream; raise _Refused or yaml.YAMLError.

    One loop, with the container being filled, whether it is a mapping and its pending key kept in
    locals (the stack holds the outer ones): this loop is the whole cost of reading a large spec, so
    a plain scalar is looked up by its text alone and a line is read only where it is kept (keys and
    list items) or reported. `fast`: the placeholder and runs of _fast_runs (the text is its text)."""
    Scalar, MapStart, SeqStart = yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent
    MapEnd, SeqEnd, Alias, DocStart, StreamEnd = (yaml.MappingEndEvent, yaml.SequenceEndEvent, yaml.AliasEvent,
                                                  yaml.DocumentStartEvent, yaml.StreamEndEvent)
    stack: list = []  # (container, is a mapping, its pending key) of every container outside `top`
    top = None  # the container being filled
    is_map = False
    key = _NO_KEY  # in a mapping: the key waiting for its value
    root = _NOTHING = object()
    documents = 0
    cache: dict = {}  # tagged scalars: (text, tag, plain) -> value
    plain: dict = {}  # plain scalars (keys, types, small numbers repeat): text -> value
    token, runs = fast[1:] if fast is not None else (None, None)
    loader = _Base(text)
    get_event = loader.get_event
    try:
        while True:
            event = get_event()
            cls = type(event)
            if cls is Scalar:
                if event.anchor is not None:
                    raise _Refused(_NO_ALIASES, event.start_mark.line + 1)
                if event.tag is None:
                    if event.implicit[0]:
                        value = plain.get(event.value, _NO_KEY)
                        if value is _NO_KEY:
                            value = plain[event.value] = _construct(event.value, None, event, event.start_mark.line + 1)
                    else:
                        value = event.value  # quoted: a string
                else:
                    value = _scalar(event, event.start_mark.line + 1, cache)
                if is_map and key is not _NO_KEY:  # a mapping's value: no line is kept for it
                    top[key] = value
                    key = _NO_KEY
                    continue
            elif cls is MapStart or cls is SeqStart:
                line = event.start_mark.line + 1
                if event.anchor is not None:
                    raise _Refused(_NO_ALIASES, line)
                if event.tag not in (None, "!") and event.tag not in _COLLECTION_TAGS:
                    raise _Refused(f"YAML tag {_short(event.tag)} is not supported in specs", line)
                if len(stack) >= max_nesting:
                    raise _Refused(f"YAML nested more than {max_nesting} levels deep", line)
                value = LineDict() if cls is MapStart else LineList()
                value.line = line
                if is_map and key is not _NO_KEY:
                    top[key] = value
                    key = _NO_KEY
                elif top is None:
                    root = value
                elif is_map:
                    raise _Refused("a mapping key must be a plain scalar", line)
                else:
                    if len(top) >= max_items:
                        raise _Refused(f"a list of more than {max_items} items (limit; see --max-layers)", line)
                    top.append(value)
                    top.lines.append(line)
                stack.append((top, is_map, key))
                top, is_map, key = value, cls is MapStart, _NO_KEY
                continue
            elif cls is MapEnd or cls is SeqEnd:
                done = top
                top, is_map, key = stack.pop()
                if top is None:
                    root = done
                continue
            elif cls is Alias:
                raise _Refused(_NO_ALIASES, event.start_mark.line + 1)
            elif cls is DocStart:
                documents += 1
                if documents > 1:
                    raise _Refused("more than one YAML document (a spec is one document)", event.start_mark.line + 1)
                continue
            elif cls is StreamEnd:
                break
            else:
                continue
            # a scalar that is a key, a list item, or the whole document
            line = event.start_mark.line + 1
            if is_map:
                if value in top:
                    raise _Refused(f"duplicate key {value!r}", line)
                if len(top) >= max_items:
                    raise _Refused(f"a mapping of more than {max_items} keys (limit; see --max-layers)", line)
                top.lines[value] = line
                key = value
            elif top is None:
                root = value
            else:
                if value == token and runs is not None:
                    items = _fast_items(runs.pop(line), plain, max_items) if line in runs and len(stack) + 2 < max_nesting else None
                    if items is None:
                        raise _Fallback
                    if len(top) + len(items) > max_items:
                        raise _Refused(f"a list of more than {max_items} items (limit; see --max-layers)", items[max_items - len(top)].line)
                    top.extend(items)
                    top.lines.extend(item.line for item in items)
                    continue
                if len(top) >= max_items:
                    raise _Refused(f"a list of more than {max_items} items (limit; see --max-layers)", line)
                top.append(value)
                top.lines.append(line)
        if runs:
            raise _Fallback  # a placeholder was not read as a list item
    finally:
        loader.dispose()
    return None if root is _NOTHING else root


_NO_KEY = object()
_NO_ALIASES = "YAML anchors and aliases are not supported in specs (use a block instead)"

# -- long runs of one-line layers ----------------------------------------------
#
# A generated spec writes one layer per line (`  - {type: conv, out: 8, kernel: 3}`), and for 100,000
# layers libyaml's ten events a line are most of the time it takes to read. A run of such lines, in a
# grammar small enough to read by hand exactly as YAML reads it (keys that are names; values that are
# plain scalars of safe characters, quoted strings without escapes, or flat lists of those), is read
# here: the text libyaml sees has the run's first line replaced by one placeholder item and the rest
# by blank lines, so every line keeps its number, and the run's items are put in place of the
# placeholder. Anything else (a comment inside the braces, an alias, a tag, a quote with escapes, a
# duplicate key, a value the checks refuse) leaves the line to libyaml; and if a placeholder is not
# read back as an item of the list it stood in, the whole text is read again the ordinary way.

#: the shortest run worth reading by hand (shorter ones are left to libyaml)
FAST_RUN = 256

_PLAIN_VALUE = r"(?:[-+]?[A-Za-z0-9_$.(][A-Za-z0-9_$.()+\-*/]*(?: [A-Za-z0-9_$.()+\-*/]+)*)"
_VALUE = rf"(?:{_PLAIN_VALUE}|\"[^\"\\\n]*\"|'[^'\n]*')"
@functools.cache
def _patterns() -> tuple:
    """(line, pair, list item) patterns, compiled when a long text first needs them."""
    pair = r"[A-Za-z_][A-Za-z0-9_]*: (?:" + _VALUE + r"|\[ *(?:" + _VALUE + r"(?: *, *" + _VALUE + r")*)? *\])"
    return (re.compile(r"( *)- \{ *((?:" + pair + r"(?: *, *" + pair + r")*)?) *\}(?: +#[^\n]*)? *"),
            re.compile(r"([A-Za-z_][A-Za-z0-9_]*): (" + _VALUE + r"|\[[^\]]*\])"), re.compile(_VALUE))


class _PlainEvent:
    implicit = (True, False)


class _Fallback(Exception):
    """The fast reading cannot vouch for the text: read it the ordinary way."""


def _fast_runs(text: str):
    """(the text for libyaml, the placeholder, {line of a placeholder: its run's (line, body) pairs})
    or None where no run is long enough."""
    run = FAST_RUN
    if text.count("\n") < run:
        return None
    lines = text.split("\n")
    seen: dict = {}  # line -> (indent, body) or None: a generated spec repeats its lines

    def match(line: str, fullmatch=_patterns()[0].fullmatch):
        hit = seen.get(line, _NO_KEY)
        if hit is _NO_KEY:
            m = fullmatch(line)
            hit = seen[line] = None if m is None else m.groups()
        return hit

    runs: dict = {}
    i, n = 0, len(lines)
    while i < n:
        m = match(lines[i])
        if m is None:
            i += 1
            continue
        indent = m[0]
        bodies = [(i + 1, m[1])]
        j = i + 1
        while j < n:
            mj = match(lines[j])
            if mj is None or mj[0] != indent:
                break
            j += 1
            bodies.append((j, mj[1]))
        if j - i >= run:
            runs[i] = bodies
        i = j
    if not runs:
        return None
    token = "costcalc_fast_run"
    while token in text:
        token += "_"
    fast = {}
    for i, bodies in runs.items():
        fast[i + 1] = bodies
        lines[i] = f"{lines[i][:lines[i].index('-')]}- {token}"
        for k in range(i + 1, i + len(bodies)):
            lines[k] = ""
    return "\n".join(lines), token, fast


def _fast_value(text: str, line: int, plain: dict):
    first = text[0]
    if first == '"' or first == "'":
        return text[1:-1]  # quoted, no escapes: the text between the quotes, a string
    if first == "[":
        return [_fast_value(v, line, plain) for v in _patterns()[2].findall(text)]  # a LineList per item, below
    value = plain.get(text, _NO_KEY)
    if value is _NO_KEY:
        try:
            value = plain[text] = _construct(text, None, _PlainEvent, line)
        except _Refused:
            raise _Fallback from None  # the ordinary reading reports it, with its line
    return value


def _fast_items(run: list, plain: dict, max_items: int) -> list:
    """The run's layers: each body is read once (generated lines repeat), each item built afresh."""
    items = []
    bodies: dict = {}  # body -> (its mapping, the keys whose values are lists)
    fromkeys, new, update = dict.fromkeys, LineDict.__new__, dict.update
    pairs_of = _patterns()[1].findall
    get = plain.get
    for line, body in run:
        hit = bodies.get(body)
        if hit is None:
            pairs = []
            for key, value in pairs_of(body):
                # a plain scalar read before is looked up by its text (a quoted one or a list never is:
                # no plain scalar starts with a quote or a bracket)
                k = get(key, _NO_KEY)
                if k is _NO_KEY:
                    k = _fast_value(key, line, plain)
                v = get(value, _NO_KEY)
                if v is _NO_KEY:
                    v = _fast_value(value, line, plain)
                pairs.append((k, v))
            mapping = dict(pairs)
            listed = [k for k, v in pairs if type(v) is list]
            if (len(mapping) != len(pairs) or len(pairs) > max_items
                    or any(len(mapping[k]) > max_items for k in listed)):
                raise _Fallback  # a duplicate key (as the dict sees it: true and 1 are one key), or too many items
            hit = bodies[body] = (mapping, listed)
        mapping, listed = hit
        item = new(LineDict)  # a copy of the body's mapping, without LineDict.__init__ (set below)
        update(item, mapping)
        item.line = line
        item.lines = fromkeys(item, line)
        item.same = mapping
        for key in listed:
            values = LineList(item[key])
            values.line = line
            values.lines = [line] * len(values)
            item[key] = values
        items.append(item)
    return items


def parse_yaml(text: str, source: str, max_nesting: int = MAX_NESTING, max_items: int = MAX_ITEMS):
    """Parse one YAML document; any problem is a one-line SpecError."""
    enabled = gc.isenabled()
    gc.disable()  # building the document allocates many objects and frees none: no cycles to collect
    try:
        fast = _fast_runs(text)
        if fast is not None:
            try:
                return parse_events(fast[0], max_nesting, max_items, fast)
            except (_Fallback, _Refused, yaml.YAMLError):
                pass  # read again the ordinary way: it decides, and reports any problem as it finds it
        return parse_events(text, max_nesting, max_items)
    except _Refused as exc:
        raise SpecError(source, "", str(exc), exc.line) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        raise SpecError(source, "", f"invalid YAML: {problem}", line) from None
    except yaml.YAMLError as exc:
        raise SpecError(source, "", f"invalid YAML: {' '.join(str(exc).split())}") from None
    finally:
        if enabled:
            gc.enable()


def dump_spec(doc: dict, comment: str = "") -> str:
    """A spec document as YAML: the top-level keys in order, one layer per line (flow style)."""
    import yaml

    def flow(value) -> str:
        return yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=1 << 30, allow_unicode=True).strip()

    out = [f"# {comment}"] if comment else []
    for key, value in doc.items():
        if key == "layers":
            out.append("layers:")
            out.extend(f"  - {flow(item)}" for item in value)
        elif isinstance(value, dict):
            out.append(f"{key}: {flow(value)}")
        else:
            out.append(yaml.safe_dump({key: value}, sort_keys=False, width=100, allow_unicode=True).rstrip())
    return "\n".join(out) + "\n"
