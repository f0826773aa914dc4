"""The spec format, declared once as plain data, and the one validator that reads it.

Every section of a spec (parameters, variants, references, accuracy,
analyses, ...) is a :class:`Kind` here with its type, range and default;
:func:`check_spec` checks a parsed document against :data:`SPEC` before
anything is built or computed, and every problem is a one-line
:class:`SpecError` naming the file, the place and the line.  Layer items are
declared in :data:`costcalc.ir.LAYER_TYPES` and checked with the same field
kinds (:func:`check_field`) as the loader expands them, since their values may
be ``$`` expressions that only the expansion can resolve.

The bounds are stated here and in the README ("errors and limits"):
width multipliers up to :data:`MAX_ALPHA`, input sizes up to
:data:`MAX_PIXELS`, integers below 2**62, plain data nested at most
:data:`MAX_PLAIN_DEPTH` deep.
"""

from __future__ import annotations

import math
import re
from typing import Any, Mapping

from .errors import SpecError

MAX_ALPHA = 1000.0  # width multiplier
MAX_RHO = 1000.0  # resolution multiplier
MAX_PIXELS = 1_000_000  # input height or width
MAX_FLOPS_PER_MAC = 1000.0
MAX_INT = 2**62  # any integer a spec gives (counts are checked against int64 as they are computed)
MAX_PLAIN_DEPTH = 8  # lists and mappings inside a parameter value
MAX_STRING = 100_000  # characters of one string
MAX_REFERENCES = 5_000  # published figures (and accuracies) in one spec: verify evaluates each
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def as_set(key: str, value) -> str:
    """A parameter's setting as --set takes it: ``minimalistic=true`` (YAML's spelling of a switch,
    not Python's ``True``)."""
    return f"{key}={as_value(value)}"


def as_value(value) -> str:
    """A parameter's value as --set takes it (``true``, ``3x3``, ``0.5``)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def kind_of(value) -> str:
    """How a value is shown in a message: short and safe."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, int):
        text = repr(value) if abs(value) < 10**30 else f"an integer of {len(str(abs(value)))} digits"
        return text
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return repr(value) if len(value) < 40 else repr(value[:37] + "...")
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"


def line_of(container, key) -> int | None:
    getter = getattr(container, "line_of", None)
    return getter(key) if getter else None


def _join(where: str, key) -> str:
    return f"{where}.{key}" if where else str(key)


class Kind:
    """One kind of value: `check` returns the value (normalised) or raises SpecError."""

    what = "a value"

    def check(self, value, src: str, where: str, line):  # pragma: no cover - abstract
        raise NotImplementedError

    def fail(self, value, src, where, line, what=None):
        raise SpecError(src, where, f"expected {what or self.what}, got {kind_of(value)}", line)


class Str(Kind):
    def __init__(self, nonempty: bool = False):
        self.nonempty = nonempty
        self.what = "a non-empty string" if nonempty else "a string"

    def check(self, value, src, where, line):
        if not isinstance(value, str) or (self.nonempty and not value.strip()):
            self.fail(value, src, where, line)
        if len(value) > MAX_STRING:
            raise SpecError(src, where, f"a string longer than {MAX_STRING} characters", line)
        return value


class Name(Kind):
    """A name written as a string (a number is taken as its text: variant ``1.1``)."""

    what = "a name"

    def __init__(self, identifier: bool = False):
        self.identifier = identifier
        if identifier:
            self.what = "a name of letters, digits and _ (usable in expressions)"

    def check(self, value, src, where, line):
        if isinstance(value, (int, float)) and not isinstance(value, bool) and not self.identifier:
            value = str(value)
        if not isinstance(value, str) or not value or len(value) > 200:
            self.fail(value, src, where, line)
        if self.identifier and not _IDENT.match(value):
            self.fail(value, src, where, line)
        return value


class Bool(Kind):
    what = "true or false"

    def check(self, value, src, where, line):
        if not isinstance(value, bool):
            self.fail(value, src, where, line)
        return value


class Num(Kind):
    """A finite number within [lo, hi] (or (lo, hi] with `lo_open`)."""

    def __init__(self, lo: float = 0.0, hi: float = 1e300, lo_open: bool = False):
        self.lo, self.hi, self.lo_open = lo, hi, lo_open
        self.what = f"a number above {lo:g} and at most {hi:g}" if lo_open else f"a number from {lo:g} to {hi:g}"

    def check(self, value, src, where, line):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(value, src, where, line)
        if isinstance(value, int) and abs(value) > MAX_INT:
            self.fail(value, src, where, line)
        v = float(value)
        if not math.isfinite(v) or v < self.lo or v > self.hi or (self.lo_open and v == self.lo):
            self.fail(value, src, where, line)
        return value


class Int(Kind):
    def __init__(self, lo: int = 0, hi: int = MAX_INT):
        self.lo, self.hi = lo, hi
        self.what = f"an integer from {lo:,} to {hi:,}"

    def check(self, value, src, where, line):
        if isinstance(value, float) and value.is_integer() and abs(value) < MAX_INT:
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not self.lo <= value <= self.hi:
            self.fail(value, src, where, line)
        return value


class Enum(Kind):
    def __init__(self, *values):
        self.values = values
        self.what = "one of " + ", ".join(repr(v) for v in values)

    def check(self, value, src, where, line):
        if isinstance(value, bool) or not any(value == v and type(value) is type(v) for v in self.values):
            hint = did_you_mean(value, [v for v in self.values if isinstance(v, str)]) if isinstance(value, str) else ""
            raise SpecError(src, where, f"expected {self.what}, got {kind_of(value)}{hint}", line)
        return value


class OneOf(Kind):
    def __init__(self, *kinds: Kind, what: str | None = None):
        self.kinds = kinds
        self.what = what or " or ".join(k.what for k in kinds)

    def check(self, value, src, where, line):
        errors = []
        for k in self.kinds:
            try:
                return k.check(value, src, where, line)
            except SpecError as exc:
                errors.append((k, exc))
        for k, exc in errors:  # the alternative of the value's own shape says best what is wrong
            if (isinstance(value, dict) and isinstance(k, _Mapping)) or (isinstance(value, list) and isinstance(k, List)):
                raise exc
        self.fail(value, src, where, line)


class Expr(Kind):
    """A ``$`` expression (checked once resolved, by the loader) or a value of `kind`."""

    def __init__(self, kind: Kind):
        self.kind = kind
        self.what = f"{kind.what} or a $ expression"

    def check(self, value, src, where, line):
        if isinstance(value, str) and value.startswith("$"):
            return value
        return self.kind.check(value, src, where, line)


class Plain(Kind):
    """Plain data: strings, booleans, null, bounded integers, finite floats, and lists or mappings
    of them nested at most MAX_PLAIN_DEPTH deep (parameter values, block arguments, --set)."""

    what = "plain data (numbers, strings, true/false, lists or mappings of them)"

    def check(self, value, src, where, line, depth: int = 0):
        if value is None or isinstance(value, (bool, str)):
            if isinstance(value, str) and len(value) > MAX_STRING:
                raise SpecError(src, where, f"a string longer than {MAX_STRING} characters", line)
            return value
        if isinstance(value, int):
            if abs(value) >= MAX_INT:
                raise SpecError(src, where, f"integer {kind_of(value)} out of range (at most 2**62)", line)
            return value
        if isinstance(value, float):
            if not math.isfinite(value):
                raise SpecError(src, where, f"expected a finite number, got {value!r}", line)
            return value
        if depth >= MAX_PLAIN_DEPTH and isinstance(value, (list, tuple, dict)):
            raise SpecError(src, where, f"nested more than {MAX_PLAIN_DEPTH} levels deep", line)
        if isinstance(value, (list, tuple)):
            return [self.check(v, src, f"{where}[{i}]", line_of(value, i) or line, depth + 1) for i, v in enumerate(value)]
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                if isinstance(k, bool) or not isinstance(k, (str, int, float)):
                    raise SpecError(src, where, f"a key must be a string or a number, got {kind_of(k)}", line)
                out[k] = self.check(v, src, _join(where, k), line_of(value, k) or line, depth + 1)
            return out
        self.fail(value, src, where, line)


class List(Kind):
    def __init__(self, items: Kind, nonempty: bool = False, most: int | None = None):
        self.items, self.nonempty, self.most = items, nonempty, most
        self.what = "a non-empty list" if nonempty else "a list"

    def check(self, value, src, where, line):
        if value is None and not self.nonempty:
            return []
        if not isinstance(value, list) or (self.nonempty and not value):
            self.fail(value, src, where, line)
        if self.most is not None and len(value) > self.most:
            raise SpecError(src, where, f"a list of {len(value):,} items: more than {self.most:,} (limit)", line)
        return [self.items.check(v, src, f"{where}[{i}]", line_of(value, i) or line) for i, v in enumerate(value)]


class _Mapping(Kind):
    """A mapping checked entry by entry (`entry`); the result keeps the lines of its keys."""

    what = "a mapping"

    def entries(self, value, src, where, line):
        if not isinstance(value, dict):
            self.fail(value, src, where, line)
        out = _like(value, {})
        for k, v in value.items():
            kline = line_of(value, k) or line
            name, checked = self.entry(k, v, src, where, kline)
            out[name] = checked
            _keep_line(out, name, kline)
        return out

    def entry(self, key, value, src, where, line):  # pragma: no cover - abstract
        raise NotImplementedError


class Dict(_Mapping):
    """A mapping of names (checked by `keys`) to values of one kind."""

    def __init__(self, values: Kind, keys: Kind | None = None):
        self.values, self.keys = values, keys or Name()

    def check(self, value, src, where, line):
        return _like(value, {}) if value is None else self.entries(value, src, where, line)

    def entry(self, key, value, src, where, line):
        name = self.keys.check(key, src, _join(where, key), line)
        return name, self.values.check(value, src, _join(where, name), line)


class Map(_Mapping):
    """A mapping with named fields: unknown keys are errors (with a 'did you mean')."""

    def __init__(self, fields: Mapping[str, Kind], required: tuple = (), what: str = "a mapping"):
        self.fields, self.required, self.what = dict(fields), tuple(required), what

    def entry(self, key, value, src, where, line):
        if key not in self.fields:
            raise SpecError(src, _join(where, key), f"unknown key{did_you_mean(str(key), self.fields)}", line)
        return key, self.fields[key].check(value, src, _join(where, key), line)

    def check(self, value, src, where, line):
        if value is None and not self.required:
            return _like(value, {})
        out = self.entries(value, src, where, line)
        for k in self.required:
            if k not in value:
                raise SpecError(src, _join(where, k), "missing", getattr(value, "line", None) or line)
        return out


AMOUNT_UNITS = {"": 1, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}
_AMOUNT = re.compile(r"\s*([0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][+-]?[0-9]+)?)\s*([KMGT]?)\s*\Z")


def parse_amount(value):
    """A count written as a number or with a unit: 300M, 5.5M, 1.2G, 750K, 4e6. None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str) and len(value) < 40 and (m := _AMOUNT.match(value)):
        number = float(m.group(1).replace("_", "")) * AMOUNT_UNITS[m.group(2)]
    else:
        return None
    return number if math.isfinite(number) and 0 <= number <= 1e30 else None


class Amount(Kind):
    """A non-negative count, as a number or with a unit (300M, 5M, 1.2G)."""

    what = "a count such as 300M, 5M, 1.2G or a plain number"

    def check(self, value, src, where, line):
        number = parse_amount(value)
        if number is None:
            self.fail(value, src, where, line)
        return number


class Anything(Kind):
    """Checked elsewhere (layer lists: by the loader as it expands them)."""

    def __init__(self, what: str):
        self.what = what

    def check(self, value, src, where, line):
        return value


def _like(original, data: dict):
    """A LineDict (keeping lines) when the original was one, else a plain dict."""
    from .yamlio import LineDict

    out = LineDict(data)
    out.line = getattr(original, "line", None)
    return out


def _keep_line(out, key, line) -> None:
    if line is not None:
        out.lines[key] = line


def did_you_mean(word: str, choices) -> str:
    import difflib  # only on the error path

    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


# ---------------------------------------------------------------------------
# Layer field kinds (the vocabulary of costcalc.ir.LAYER_TYPES), checked after $ expressions resolve
# ---------------------------------------------------------------------------


def _integral(v):
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer() and abs(v) < MAX_INT:
        return int(v)
    return None


def check_field(value, kind: str, src: str, where: str, line):
    """Check one layer (or input) value of a field kind: int+, int0, channels, pair+, pair0,
    padding, bool, fraction, str, shape."""
    if kind in ("int+", "int0", "channels"):
        iv = _integral(value)
        lo = 0 if kind == "int0" else 1
        if iv is None or iv < lo:
            what = "a non-negative integer" if kind == "int0" else "a positive integer"
            raise SpecError(src, where, f"expected {what}, got {kind_of(value)}", line)
        if iv >= MAX_INT:
            raise SpecError(src, where, f"value {iv} is too large", line)
        return iv
    if kind in ("pair+", "pair0"):
        lo = 1 if kind == "pair+" else 0
        items = value if isinstance(value, (list, tuple)) else [value, value]
        what = "a positive integer" if lo else "a non-negative integer"
        if len(items) != 2:
            raise SpecError(src, where, f"expected {what} or a list of two, got a list of {len(items)}", line)
        out = []
        for item in items:
            iv = _integral(item)
            if iv is None or iv < lo:
                raise SpecError(src, where, f"expected {what} or a list of two, got {kind_of(value)}", line)
            if iv >= MAX_INT:
                raise SpecError(src, where, f"value {iv} is too large", line)
            out.append(iv)
        return tuple(out)
    if kind == "padding":
        if value in ("same", "valid"):
            return value
        try:
            return check_field(value, "pair0", src, where, line)
        except SpecError:
            raise SpecError(src, where, f"expected 'same', 'valid', a non-negative integer or a list of two, "
                                        f"got {kind_of(value)}", line) from None
    if kind == "bool":
        if not isinstance(value, bool):
            raise SpecError(src, where, f"expected true or false, got {kind_of(value)}", line)
        return value
    if kind == "fraction":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
            raise SpecError(src, where, f"expected a number from 0 to below 1, got {kind_of(value)}", line)
        return float(value)
    if kind == "str":
        if not isinstance(value, str):
            raise SpecError(src, where, f"expected a string, got {kind_of(value)}", line)
        return value
    if kind == "shape":  # channels, height, width
        items = value if isinstance(value, (list, tuple)) else None
        if items is None or len(items) != 3 or any(_integral(x) is None or _integral(x) < 1 or _integral(x) >= MAX_INT for x in items):
            raise SpecError(src, where, f"expected [channels, height, width] (three positive integers), got {kind_of(value)}", line)
        return tuple(_integral(x) for x in items)
    raise AssertionError(kind)


class Field(Kind):
    """A layer field kind used outside a layer (`defaults`, `input`)."""

    def __init__(self, kind: str):
        self.kind = kind
        self.what = kind

    def check(self, value, src, where, line):
        if isinstance(value, str) and value.startswith("$"):
            return value
        return check_field(value, self.kind, src, where, line)


# ---------------------------------------------------------------------------
# The declaration
# ---------------------------------------------------------------------------

UNITS = {"": 1, "K": 1e3, "M": 1e6, "G": 1e9}
ROUNDINGS = ("truncate", "make_divisible", "round", "fixed")  # fixed: the widths are as written (an imported model)
BITS = Int(1, 32)

CONFIG = Map({
    "alpha": Num(0, MAX_ALPHA, lo_open=True),
    "resolution": Int(1, MAX_PIXELS),
    "rho": Num(0, MAX_RHO, lo_open=True),
    "variant": Name(),
    "set": Dict(Plain(), Name(identifier=True)),
    "flops_per_mac": Num(0, MAX_FLOPS_PER_MAC, lo_open=True),
}, what="a mapping (alpha, resolution, rho, variant, set, flops_per_mac)")

#: options a reference passes to a derived quantity (costcalc.analysis)
OPTIONS = Map({
    "keep": Num(0, 1, lo_open=True),
    "conv_bits": BITS,
    "fc_bits": BITS,
    "index_bits": BITS,
    "huffman": Enum("off", "measured", "entropy"),
    "fillers": Enum("random", "none", "bracket"),  # bracket: a reference passes between the two estimates
    "type": Str(nonempty=True),
})


def _reference() -> Map:
    from .quantities import known

    return Map({
        "quantity": Enum(*known()),
        "value": Num(0, 1e30),
        "unit": Enum(*UNITS),
        "tolerance": Num(0, 1e30),
        "config": CONFIG,
        "layer": OneOf(Str(nonempty=True), List(Str(nonempty=True), nonempty=True)),
        "source": Str(nonempty=True),
        "convention": Str(),
        "note": Str(),
        "expect": Enum("match", "deviates", "unexplained"),
        # how the source printed the figure: rounded to nearest (the check: within +-tolerance) or cut
        # off at its last digit (value <= count < value + tolerance, the tolerance being that digit's step)
        "printed": Enum("rounded", "truncated"),
        "options": OPTIONS,
    }, required=("quantity", "value", "source"))


#: a condition the parameters must meet (a combination a spec cannot build is refused, never built)
REQUIRE = Map({"that": Str(nonempty=True), "else": Str(nonempty=True)}, required=("that", "else"),
              what="a mapping (that: a $ expression of the parameters, else: the error)")
CHOICE = OneOf(Str(nonempty=True), Num(-1e300), Bool(), what="a name, a number, or true or false")
ACCURACY = Map({"top1": Num(0, 100), "config": CONFIG, "source": Str(nonempty=True)}, required=("top1", "source"))
#: a published cost figure of a cited paper that verify does not check, and why (verify's coverage)
UNCHECKED = Map({"figure": Str(nonempty=True), "source": Str(nonempty=True), "reason": Str(nonempty=True),
                 "figures": Int(1, 100_000)},  # how many published figures the entry stands for (default 1)
                required=("figure", "source", "reason"), what="a mapping (figure, source, reason, figures)")

COMPRESSION = Map({
    "source": Str(),
    "index_bits": BITS,
    "conv_bits": BITS,
    "fc_bits": BITS,
    "layers": Dict(Map({
        "keep": Num(0, 1, lo_open=True),
        "bits": BITS,
        "index_bits": BITS,
        "huffman_bits": Num(0, 32, lo_open=True),
        "huffman_index_bits": Num(0, 32, lo_open=True),
    })),
}, what="a mapping (source, index_bits, conv_bits, fc_bits, layers)")

ANALYSES = Map({"compression": COMPRESSION}, what="a mapping (compression)")

#: what a budget may bound: upper bounds, per configuration (costcalc check)
BUDGET_QUANTITIES = ("params", "weights", "macs", "flops", "mem_access", "activations", "peak_activation", "size_mb")
BUDGET_ENTRY = Map({"config": CONFIG, "note": Str(), **{q: Amount() for q in BUDGET_QUANTITIES}},
                   what="a mapping of upper bounds (params, macs, flops, ...) and a config")
BUDGET = OneOf(BUDGET_ENTRY, List(BUDGET_ENTRY, nonempty=True, most=MAX_REFERENCES))

INPUT = Map({"channels": Field("int+"), "size": Field("pair+")}, required=("channels", "size"),
            what="a mapping with channels and size")
WIDTH = Map({
    "rounding": Enum(*ROUNDINGS),
    "divisor": Int(1, 4096),
    "min_channels": Int(1, 2**20),
    "multiplier": Num(0, 64, lo_open=True),
    "use": Str(nonempty=True),  # with fixed widths: what to use instead of --alpha
}, what="a mapping (rounding, divisor, min_channels, multiplier, use)")

LAYERS = Anything("a non-empty list of layers")
BLOCK = Map({
    "args": Dict(Plain(), Name(identifier=True)),
    "layers": LAYERS,
    "description": Str(),
}, required=("layers",), what="a mapping with args and layers")


def _defaults() -> Map:
    from .ir import LAYER_TYPES

    kinds = {k: kind for fields in LAYER_TYPES.values() for k, (kind, _) in fields.items()}
    return Map({k: Field(kind) for k, kind in kinds.items()}, what="a mapping of layer keys")


_SHARED = None


def _shared() -> dict:
    """The sections a variant may override, and so the top level too."""
    global _SHARED
    if _SHARED is None:
        _SHARED = {
            "parameters": Dict(Plain(), Name(identifier=True)),
            "blocks": Dict(BLOCK),
            "layers": LAYERS,
            "input": INPUT,
            "width": WIDTH,
            "defaults": _defaults(),
            "notes": List(Str()),
            "analyses": ANALYSES,
        }
    return _SHARED


_SPEC = None


def spec_format() -> Map:
    """The whole declaration (built once, on first use)."""
    global _SPEC
    if _SPEC is None:
        shared = _shared()
        variant = Map({"description": Str(), **shared}, what="a mapping")
        _SPEC = Map({
            "name": Str(nonempty=True),
            "title": Str(),
            "description": Str(),
            "paper": Str(),
            **shared,
            "variants": Dict(variant),
            "default_variant": Name(),
            # the implementations people run beside the paper's network, chosen with --set impl=NAME
            "implementations": Dict(Str(nonempty=True), Name(identifier=True)),
            # the values a parameter may take (a string compared in expressions would otherwise fall
            # silently into an `else`): anything else is refused where it is set
            "choices": Dict(List(CHOICE, nonempty=True, most=1000), Name(identifier=True)),
            "requires": List(REQUIRE, most=MAX_REFERENCES),
            "references": List(_reference(), most=MAX_REFERENCES),
            "accuracy": List(ACCURACY, most=MAX_REFERENCES),
            "unchecked": List(UNCHECKED, most=MAX_REFERENCES),
            "budget": BUDGET,
        }, required=("input", "layers"), what="a mapping at the top level")
    return _SPEC


def check_spec(doc, src: str) -> dict:
    """Check a parsed spec document against the declaration; returns the checked document, marked
    as such (checking it again returns it at once: verify builds one document in many settings)."""
    if getattr(doc, "checked", False):
        return doc
    out = spec_format().check(doc, src, "", getattr(doc, "line", None))
    out.checked = True
    return out


def check_settings(settings: Mapping[str, Any], src: str) -> dict:
    """Values given for parameters (``--set`` or ``settings=``): names and plain data."""
    return Dict(Plain(), Name(identifier=True)).check(dict(settings), src, "settings", None)
