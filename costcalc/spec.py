"""YAML spec -> validated, expanded :class:`costcalc.ir.Spec`.

The loader checks every key for type and range before anything is computed,
expands blocks, repeats and branches into primitive layers with hierarchical
names, and turns every problem into a one-line :class:`SpecError` naming the
file, the place in the spec and (where YAML gives it) the line.
"""

from __future__ import annotations

import gc
import os
import stat
from typing import Any, Iterable, Mapping, NamedTuple

from . import expr
from .errors import SpecError
from .format import MAX_PIXELS, MAX_REFERENCES, UNITS, as_set, as_value, check_field, check_settings, check_spec, did_you_mean, kind_of
from .ir import (
    COMMON_KEYS,
    INSTANCE_KEYS,
    LAYER_TYPES,
    MERGE_TYPES,
    REQUIRED,
    SPELLINGS,
    Accuracy,
    Deferred,
    Layer,
    Reference,
    Spec,
    WidthPolicy,
)
from .yamlio import LineDict, LineList, parse_yaml

# ---------------------------------------------------------------------------
# Limits (generous for real networks; overridable)
# ---------------------------------------------------------------------------


class _LimitValues(NamedTuple):
    max_layers: int = 100_000  # primitive layers after expansion
    max_repeat: int = 100_000  # one item's repeat count
    max_depth: int = 32  # nesting of blocks and branches
    max_bytes: int = 16 * 1024 * 1024  # size of a spec file
    allow_unknown: bool = False  # an ONNX operator without a cost rule is an uncosted layer, not an error


class Limits(_LimitValues):
    """Bounds on the work one spec may ask for; each can be raised (within LIMIT_RANGES)."""

    __slots__ = ()

    def __new__(cls, *args, **kwargs):
        self = super().__new__(cls, *args, **kwargs)
        if not isinstance(self.allow_unknown, bool):
            raise ValueError(f"Limits.allow_unknown: expected true or false, got {self.allow_unknown!r}")
        for name, (lo, hi) in LIMIT_RANGES.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                raise ValueError(f"Limits.{name}: expected a whole number from {lo:,} to {hi:,}, got {value!r}")
        return self


#: how far each limit may be set: the nesting limit keeps the expansion within Python's stack
LIMIT_RANGES = {"max_layers": (1, 10**9), "max_repeat": (1, 10**9), "max_depth": (1, 200), "max_bytes": (1, 2**31)}


DEFAULT_LIMITS = Limits()
MAX_INPUT_CHANNELS = 2**31  # the input tensor's channels


# ---------------------------------------------------------------------------
# Finding a spec: bundled name, bundled file name, or a path
# ---------------------------------------------------------------------------


def bundled_dir() -> str:
    """The folder of bundled specs: costcalc/specs when installed, else the source tree's specs/.
    (os.path rather than pathlib: pathlib costs a few milliseconds of start-up.)"""
    here = os.path.dirname(os.path.abspath(__file__))
    installed = os.path.join(here, "specs")
    return installed if os.path.isdir(installed) else os.path.join(os.path.dirname(here), "specs")


def _stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def bundled_names() -> list[str]:
    return sorted(_stem(f) for f in os.listdir(bundled_dir()) if f.endswith(".yaml"))


def split_ref(ref: str) -> tuple[str, str | None]:
    """'squeezenet:1.1' -> ('squeezenet', '1.1'); a path with a drive or no colon is kept whole.
    A torchvision-style name that is a bundled spec's name and a variant is that variant:
    'mobilenet_v3_large' -> ('mobilenet_v3', 'large'), 'resnet18' -> ('resnet', '18')."""
    if ":" in ref and not os.path.exists(ref):
        base, _, variant = ref.rpartition(":")
        if base and variant and "/" not in variant and "\\" not in variant:
            return base, variant
    elif os.sep not in ref and "/" not in ref and "." not in ref and not os.path.exists(ref):
        names = bundled_names()
        if ref not in names:
            for name in sorted(names, key=len, reverse=True):
                rest = ref[len(name):]
                if ref.startswith(name) and (rest[:1].isdigit() or (rest[:1] == "_" and rest[1:])):
                    return name, rest.lstrip("_")
            for name in names:  # a variant's own name: 'resnext50_32x4d' -> ('resnet', 'resnext50_32x4d')
                if ref in (describe(name).get("variants") or {}):
                    return name, ref
    return ref, None


def resolve(ref: str) -> tuple[str, str]:
    """Return (path, shown name) for a bundled name, bundled file name or path."""
    looks_like_path = os.sep in ref or "/" in ref
    if looks_like_path or os.path.exists(ref):
        if not os.path.exists(ref):
            raise SpecError(ref, "", "no such file")
        return ref, ref
    stem = ref[:-5] if ref.endswith(".yaml") else ref[:-4] if ref.endswith(".yml") else ref
    candidate = os.path.join(bundled_dir(), f"{stem}.yaml")
    if os.path.isfile(candidate):
        return candidate, f"{stem}.yaml"
    names = bundled_names()
    hint = did_you_mean(stem, names)
    raise SpecError(ref, "", f"no such file or bundled spec{hint} (bundled: {', '.join(names)})")


def is_onnx(path: str) -> bool:
    return path.lower().endswith(".onnx")


def read_text(path: str, shown: str, max_bytes: int, what: str = "YAML spec") -> str:
    """A text file of at most `max_bytes` bytes: a regular file, UTF-8, no NUL; one-line errors."""
    try:
        # O_NONBLOCK: a FIFO or a device is opened without waiting, then refused
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise SpecError(shown, "", "not a regular file (a FIFO, device or socket cannot be a spec)")
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise SpecError(shown, "", f"cannot read: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise SpecError(shown, "", f"file larger than {max_bytes} bytes")
    if b"\x00" in data:
        raise SpecError(shown, "", f"binary file, not a {what}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SpecError(shown, "", f"not UTF-8 text (byte {exc.start})", line) from None


def _max_items(limits: Limits) -> int:
    """The longest YAML list or mapping: a layer list up to --max-layers, and the references and other
    sections up to their own limit, whichever is larger."""
    return max(limits.max_layers, MAX_REFERENCES)


def read_document(ref: str, limits: Limits = DEFAULT_LIMITS) -> tuple[LineDict, str]:
    path, shown = resolve(ref)
    if os.path.isdir(path):
        raise SpecError(shown, "", "is a directory, not a spec file")
    if is_onnx(path):  # the ONNX front end: the same document, made from the graph
        from .onnx_import import read_onnx

        return read_onnx(path, shown, limits.max_layers, limits.allow_unknown), shown
    text = read_text(path, shown, limits.max_bytes)
    doc = parse_yaml(text, shown, max_items=_max_items(limits))
    if doc is None:
        raise SpecError(shown, "", "empty spec file")
    if not isinstance(doc, dict):
        raise SpecError(shown, "", f"expected a mapping at the top level, got {kind_of(doc)}", getattr(doc, "line", None))
    return doc, shown


# ---------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------


def load_spec(
    ref,
    variant: str | None = None,
    settings: Mapping[str, Any] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    strict_settings: bool = True,
    prefer_impl: str | None = None,
) -> Spec:
    """A checked, expanded spec from a bundled name (``"mobilenet"``, ``"squeezenet:1.1"``), a path
    to a YAML file, YAML text (a string with a line break), or a dict of the same format.

    `variant` picks one of the spec's variants; `settings` gives values to its parameters (what
    ``--set KEY=VALUE`` does on the command line), e.g. ``load_spec("shufflenet", settings={"groups":
    8, "scale": 0.5})``; each is checked as the file's own values are. With `prefer_impl`, the spec
    is built as that implementation where it lists one and `settings` do not choose `impl`
    (--count-like: the tools measure torchvision's networks). Problems raise SpecError."""
    doc, shown, variant = _document(ref, variant, limits)
    if prefer_impl is not None and "impl" not in (settings or {}):
        listed = doc.get("implementations") if isinstance(doc, Mapping) else None
        if isinstance(listed, Mapping) and prefer_impl in listed:
            settings = {**(settings or {}), "impl": prefer_impl}
    return build_spec(doc, shown, variant, settings, limits, strict_settings)


def _of_declared_kind(shown: str, key: str, declared, value):
    """`value` for parameter `key`, refused where it is not of the kind the spec declares: a switch
    (true/false) set to "maybe" or 1, or a number set to true or to text, would build some other
    network without a word (an expression reads "maybe" as true and true as 1)."""
    if isinstance(declared, bool):
        if not isinstance(value, bool):
            raise SpecError(shown, "", f"parameter {key!r}: expected true or false, got {kind_of(value)}")
    elif isinstance(declared, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SpecError(shown, "", f"parameter {key!r}: expected a number, got {kind_of(value)}")
    return value


def implementations(doc: Mapping) -> list:
    """The values of a spec's `impl`: its own network (the parameter's default: `paper`, or one of the
    implementations where the spec's network is one) first, then the implementations it lists."""
    own = (doc.get("parameters") or {}).get("impl", "paper")
    return list(dict.fromkeys([own if isinstance(own, str) else "paper", *(doc.get("implementations") or {})]))


def _same_choice(value, choice) -> bool:
    """`value` is `choice` (1 is 1.0, but true is not 1 and "1" is not 1)."""
    if isinstance(value, bool) or isinstance(choice, bool):
        return value is choice
    if isinstance(value, str) or isinstance(choice, str):
        return isinstance(value, str) and value == choice
    return value == choice


def _document(ref, variant, limits: Limits) -> tuple:
    """(the parsed document, the name it is shown by, the variant) of what load_spec is given."""
    if isinstance(ref, Mapping):
        return ref, "<dict>", variant
    if not isinstance(ref, str) or not ref:
        raise SpecError(repr(ref)[:60], "", "expected a bundled spec name, a path, YAML text or a dict")
    if "\n" in ref:  # YAML text
        if len(ref) > limits.max_bytes:
            raise SpecError("<text>", "", f"text longer than {limits.max_bytes} characters")
        doc = parse_yaml(ref, "<text>", max_items=_max_items(limits))
        if not isinstance(doc, dict):
            raise SpecError("<text>", "", f"expected a mapping at the top level, got {kind_of(doc)}")
        return doc, "<text>", variant
    ref, inline_variant = split_ref(ref)
    doc, shown = read_document(ref, limits)
    return doc, shown, inline_variant if variant is None else variant


def describe(ref: str) -> dict:
    """Name, title, description, variants and parameters of a spec, without expanding it."""
    doc, shown = read_document(ref)
    doc = check_spec(doc, shown)
    variants = doc.get("variants") or {}
    return {
        "name": str(doc.get("name") or _stem(shown)),
        "title": str(doc.get("title", "")),
        "description": " ".join(str(doc.get("description", "")).split()),
        "variants": {str(k): " ".join(str((v or {}).get("description", "")).split()) for k, v in variants.items()},
        "default_variant": doc.get("default_variant"),
        "parameters": dict(doc.get("parameters") or {}),
        "implementations": dict(doc.get("implementations") or {}),
        "choices": {**{k: list(v) for k, v in (doc.get("choices") or {}).items()},
                    **({"impl": implementations(doc)} if "impl" in (doc.get("parameters") or {}) else {})},
    }


def build_spec(
    doc: Mapping,
    shown: str,
    variant: str | None = None,
    settings: Mapping[str, Any] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    strict_settings: bool = True,
) -> Spec:
    """Validate and expand a parsed spec; `settings` override its parameters (--set).

    With ``strict_settings=False`` settings the spec does not declare are ignored
    (``compare`` applies one --set to several specs).
    """
    doc = check_spec(doc, shown)  # every section against the one declaration (costcalc.format)
    settings = check_settings(settings or {}, shown)
    ctx = _Ctx(shown, limits)
    name = doc.get("name", _stem(shown))

    # -- variants: overlay the chosen variant's keys on the top level
    variants = doc.get("variants") or {}
    variant_names = list(variants)
    if variant is None and variants:
        variant = doc.get("default_variant", variant_names[0])
        if variant not in variants:
            ctx.fail("default_variant", f"no such variant {variant!r}", _line(doc, "default_variant"))
    merged = dict(doc)
    if variant is not None:
        variant = str(variant)
        if variant not in variants:
            known = ", ".join(variant_names) or "none"
            raise SpecError(shown, "", f"no variant {variant!r}{did_you_mean(variant, variant_names)} (variants: {known})")
        for key, value in variants[variant].items():
            if key in ("parameters", "blocks", "defaults", "analyses"):
                merged[key] = {**(doc.get(key) or {}), **value}
            elif key != "description":
                merged[key] = value

    # -- parameters and --set
    declared = merged.get("parameters") or {}
    params = dict(declared)
    for key, value in settings.items():
        if key not in params and not strict_settings:
            continue
        if key not in params:
            known = ", ".join(params) or "none"
            raise SpecError(shown, "", f"no parameter {key!r} to set{did_you_mean(key, list(params))} (parameters: {known})")
        params[key] = _of_declared_kind(shown, key, params[key], value)

    impls = dict(doc.get("implementations") or {})
    if impls or "impl" in params:
        if "impl" not in declared:
            ctx.fail("implementations", "a spec with implementations declares the parameter impl (its default: paper)",
                     _line(doc, "implementations"))
        if not isinstance(declared["impl"], str):
            ctx.fail("parameters.impl", f"expected a name (paper, or an implementation it lists), got {kind_of(declared['impl'])}",
                     _line(declared, "impl"))
        allowed = implementations(doc)
        if params["impl"] not in allowed:
            raise SpecError(shown, "", f"no implementation {params['impl']!r}{did_you_mean(str(params['impl']), allowed)} "
                            f"(implementations: {', '.join(allowed)})")
    for key, allowed in (doc.get("choices") or {}).items():
        where = f"choices.{key}"
        if key == "impl":
            ctx.fail(where, "impl's choices are the spec's implementations", _line(doc.get("choices"), key))
        if key not in declared:
            everywhere = {k for v in variants.values() for k in (v.get("parameters") or {})} | set(doc.get("parameters") or {})
            if key not in everywhere:
                ctx.fail(where, f"no parameter {key!r}{did_you_mean(key, sorted(everywhere))}", _line(doc.get("choices"), key))
            continue  # a parameter of other variants
        value = params[key]
        if not any(_same_choice(value, c) for c in allowed):
            listed = ", ".join(map(as_value, allowed))
            hint = did_you_mean(value, [c for c in allowed if isinstance(c, str)]) if isinstance(value, str) else ""
            problem = f"parameter {key!r}: {kind_of(value)} is not one of its choices ({listed}){hint}"
            if key in settings:
                raise SpecError(shown, "", problem)
            set_by = (variants[variant].get("parameters") or {}) if variant is not None else {}
            if key in set_by:
                ctx.fail(f"variants.{variant}.parameters.{key}", problem, _line(set_by, key))
            ctx.fail(f"parameters.{key}", problem, _line(doc.get("parameters"), key))
    for key in params:
        if key in expr.CONFIG_NAMES:
            ctx.fail(f"parameters.{key}", f"{key!r} is a reserved name (in a layer's keys it is the configuration's); "
                     "give the parameter another name", _line(declared, key))

    # -- input, width policy, defaults
    inp = merged.get("input")
    scope = dict(params)
    for i, req in enumerate(doc.get("requires") or []):
        where = f"requires[{i}]"
        holds = ctx._get(req, "that", scope, where)
        if not isinstance(holds, bool):
            ctx.fail(f"{where}.that", f"expected a $ expression that is true or false, got {kind_of(holds)}", _line(req, "that"))
        if not holds:
            read = expr.names_of(req["that"]) or frozenset()
            chosen = ", ".join(as_set(k, v) for k, v in params.items() if k in read)
            ctx.fail(where, f"{req['else']} ({chosen})" if chosen else req["else"], getattr(req, "line", None))
    channels = ctx.value(inp, "channels", "int+", "input.", scope)
    size = ctx.value(inp, "size", "pair+", "input.", scope)
    if channels > MAX_INPUT_CHANNELS:
        ctx.fail("input.channels", f"{channels} is more than {MAX_INPUT_CHANNELS:,} channels", _line(inp, "channels"))
    if max(size) > MAX_PIXELS:
        ctx.fail("input.size", f"{max(size)} is more than {MAX_PIXELS:,} pixels", _line(inp, "size"))
    width = merged.get("width") or {}
    width = WidthPolicy(width.get("rounding", "truncate"), width.get("divisor", 8), width.get("min_channels", 1),
                        use=width.get("use", ""), multiplier=width.get("multiplier", 1.0))
    if width.rounding == "fixed" and width.multiplier != 1:
        ctx.fail("width.multiplier", "fixed widths take no multiplier", _line(merged.get("width"), "multiplier"))
    ctx.defaults = dict(merged.get("defaults") or {})
    ctx.blocks = merged.get("blocks") or {}
    layers_doc = merged.get("layers")
    if not isinstance(layers_doc, list) or not layers_doc:
        ctx.fail("layers", f"expected a non-empty list of layers, got {kind_of(layers_doc)}", _line(merged, "layers"))

    enabled = gc.isenabled()
    gc.disable()  # expansion allocates many objects and frees none: no cycles to collect
    try:
        out = ctx.expand(layers_doc, -1, "", "layers", scope, depth=0, stack=())
    finally:
        if enabled:
            gc.enable()
    if out == -1:
        ctx.fail("layers", "the network has no layers")

    refs = [_reference(r, f"references[{i}]", shown) for i, r in enumerate(doc.get("references") or [])]
    accs = [Accuracy(float(a["top1"]), a["source"], dict(a.get("config") or {})) for a in doc.get("accuracy") or []]
    if variants:  # accuracy figures without a variant are the default variant's
        first = str(doc.get("default_variant", variant_names[0]))
        accs = [a if "variant" in a.config else Accuracy(a.top1, a.source, {**a.config, "variant": first}) for a in accs]
    return Spec(
        name=name,
        title=str(doc.get("title", name)),
        description=" ".join(str(doc.get("description", "")).split()),
        source=shown,
        input_channels=channels,
        input_size=size,
        layers=tuple(ctx.layers),
        width=width,
        variant=variant,
        variants={k: " ".join(str((v or {}).get("description", "")).split()) for k, v in variants.items()},
        settings={k: params[k] for k in declared} if declared else {},
        parameters=dict(declared),
        references=tuple(refs),
        accuracy=tuple(accs),
        paper=str(doc.get("paper", "")),
        notes=tuple(" ".join(str(n).split()) for n in doc.get("notes") or []),
        analyses=merged.get("analyses") or {},
        budget=doc.get("budget"),
        implementations=impls,
        deferred=any(layer.deferred for layer in ctx.layers),
        split=ctx.split,
    )


def _reference(ref: Mapping, where: str, src: str) -> Reference:
    """A checked `references` item as a Reference, in base units."""
    if ref.get("expect") in ("deviates", "unexplained") and not ref.get("note"):
        what = "deviates" if ref.get("expect") == "deviates" else "is unexplained"
        raise SpecError(src, f"{where}.note", f"a reference that {what} needs a note "
                        + ("proving why" if what == "deviates" else "saying what was tried"), getattr(ref, "line", None))
    layer = ref.get("layer")
    if isinstance(layer, list):
        layer = ", ".join(layer)
    mult = UNITS[ref.get("unit", "")]
    return Reference(
        quantity=ref["quantity"],
        value=ref["value"] * mult,
        tolerance=ref.get("tolerance", 0) * mult,
        source=" ".join(ref["source"].split()),
        config=dict(ref.get("config") or {}),
        layer=layer,
        convention=" ".join(ref.get("convention", "").split()),
        note=" ".join(ref.get("note", "").split()),
        expect=ref.get("expect", "match"),
        unit=ref.get("unit", ""),
        options=dict(ref.get("options") or {}),
        where=where,
        printed=ref.get("printed", "rounded"),
    )


# ---------------------------------------------------------------------------
# The expansion context
# ---------------------------------------------------------------------------


def _line(container, key) -> int | None:
    getter = getattr(container, "line_of", None)
    return getter(key) if getter else None


def _check_keys(ctx: "_Ctx", mapping: dict, allowed: Iterable[str], where: str) -> None:
    allowed = tuple(sorted(allowed)) if isinstance(allowed, frozenset) else tuple(allowed)
    for key in mapping:
        if key not in allowed:
            place = f"{where}.{key}" if where else str(key)
            ctx.fail(place, f"unknown key{did_you_mean(str(key), allowed)}", _line(mapping, key))


class _Ctx:
    def __init__(self, source: str, limits: Limits):
        self.source = source
        self.limits = limits
        self.layers: list[Layer] = []
        self.names: dict[str, int] = {}  # full name after expansion (they must stay unique) -> node index
        self.checked: dict = {}  # _content_key(item) or _scoped_key -> checked (type, attrs, scale, fused, ...)
        self.plain: dict = {}  # id(LineDict.same) -> the _content_key of its items (None: not a plain layer)
        self.item_names: dict = {}  # id(item) -> (the item, kept so the id stays its own; the names its expressions read)
        self.kinds: dict = {}  # layer type -> (allowed keys, checked defaults)
        self.blocks: dict = {}
        self.defaults: dict = {}
        self.split: frozenset = frozenset()  # axes evaluated one value at a time (Spec.split)

    # -- errors ---------------------------------------------------------------
    def fail(self, where: str, message: str, line: int | None = None):
        raise SpecError(self.source, where, message, line)

    # -- values ---------------------------------------------------------------
    def _get(self, mapping, key, scope, here: str, label: str | None = None):
        """mapping[key], evaluated if it is a $ expression; the place (here.label) and the line are
        worked out only for an error (this runs for every name and argument of every instance)."""
        value = mapping[key]
        if type(value) is str and value.startswith("$"):
            try:
                return expr.evaluate(value, scope)
            except expr.ExprError as exc:
                self.fail(f"{here}.{label or key}", str(exc), _line(mapping, key))
        return value

    def value(self, mapping, key, kind, prefix, scope, defer: bool = False):
        """mapping[key] resolved and checked as `kind`; the place and line are worked out only for
        an error (this runs for every key of every layer). With `defer` (a layer's own keys), an
        expression that names the configuration is kept as a Deferred for the engine."""
        if key not in mapping:
            self.fail(f"{prefix}{key}", "missing", getattr(mapping, "line", None))
        value = mapping[key]
        try:
            if type(value) is str and value.startswith("$"):
                if defer:
                    names = expr.config_names(value)
                    if names:
                        try:
                            block_input = scope["_block_input"]
                        except KeyError:
                            block_input = -1  # at the top level: the network input
                        return Deferred(value, scope, kind, key, frozenset(expr.CONFIG_NAMES[n] for n in names), block_input)
                value = expr.evaluate(value, scope)
            return check_field(value, kind, self.source, "", None)
        except expr.ExprError as exc:
            self.fail(f"{prefix}{key}", str(exc), _line(mapping, key))
        except SpecError as exc:
            self.fail(f"{prefix}{key}", exc.detail, _line(mapping, key))

    def check_kind(self, value, kind, where, line):
        return check_field(value, kind, self.source, where, line)

    def _layer_kind(self, ltype: str):
        """(the keys a `ltype` item may have, its checked defaults: the spec's `defaults`, else the
        type's), worked out once per type and spec."""
        hit = self.kinds.get(ltype)
        if hit is None:
            fields = LAYER_TYPES[ltype]
            allowed = frozenset(COMMON_KEYS + tuple(fields) + (("branches",) if ltype in MERGE_TYPES else ()))
            defaults = {}
            for key, (kind, default) in fields.items():
                if key in self.defaults:
                    defaults[key] = self.check_kind(self.defaults[key], kind, f"defaults.{key}", None)
                elif default is not REQUIRED:
                    defaults[key] = default if default is None else self.check_kind(default, kind, f"defaults.{key}", None)
            hit = self.kinds[ltype] = (allowed, defaults)
        return hit

    # -- expansion ------------------------------------------------------------
    def add(self, layer: Layer) -> int:
        if len(self.layers) >= self.limits.max_layers:
            self.fail(layer.where, f"more than {self.limits.max_layers} layers after expansion (limit; see --max-layers)", layer.line)
        names, layers = self.names, self.layers
        index = len(layers)
        if names.setdefault(layer.name, index) != index:  # e.g. `x` repeated twice (x.1, x.2) beside a layer named `x.2`
            other = layers[names[layer.name]]
            self.fail(layer.where, f"layer name {layer.name!r} after expansion is also the name of {other.where}", layer.line)
        layers.append(layer)
        return index

    def expand(self, items, inp: int, prefix: str, where: str, scope: dict, depth: int, stack: tuple,
               used: dict | None = None) -> int:
        """Expand a list of layer items reading from node `inp`; return the last node. `used` holds the
        names taken under `prefix` (shared by the branches of one merge, so auto-names stay unique)."""
        if depth > self.limits.max_depth:
            self.fail(where, f"blocks and branches nested more than {self.limits.max_depth} deep")
        if not isinstance(items, list):
            self.fail(where, f"expected a list of layers, got {kind_of(items)}", getattr(items, "line", None))
        used = {} if used is None else used
        cur = inp
        checked, plain = self.checked, self.plain
        for i, item in enumerate(items):
            here = f"{where}[{i}]"
            if not isinstance(item, dict):
                self.fail(here, f"expected a layer (a mapping), got {kind_of(item)}", _line(items, i))
            # the common case of a long spec: one plain layer, checked before (the same keys), no
            # block, repeat, branches or `from`: what _layer does, without its general machinery. Its
            # key is worked out once for all the items read from the same text (LineDict.same)
            same = getattr(item, "same", None)
            key = _NOT_YET if same is None else plain.get(id(same), _NOT_YET)
            if key is _NOT_YET:
                key = None if "block" in item or "repeat" in item or "from" in item or "branches" in item else _content_key(item)
                if same is not None:
                    plain[id(same)] = key
            hit = checked.get(key) if key is not None else None
            if hit is None:
                if "block" in item:
                    cur = self._instance(item, cur, prefix, here, scope, depth, stack, used)
                    continue
                cur = self._layer(item, cur, prefix, here, scope, depth, stack, used)
                continue
            ltype, attrs, scale, fused, deferred, spelling = hit
            name = self._name(item, ltype, here, scope, used)
            cur = self.add(Layer(prefix + name, ltype, (cur,), attrs, here, getattr(item, "line", None), scale, fused,
                                 deferred, spelling))
        return cur

    def _name(self, item, default, here, scope, used) -> str:
        if "name" in item:
            name = self._get(item, "name", scope, here)
            if isinstance(name, (int, float)) and not isinstance(name, bool):
                name = str(name)
            if not isinstance(name, str) or not name or name.startswith("/") or name.endswith("/") or "//" in name:
                self.fail(f"{here}.name", f"expected a name (parts joined by '/'), got {kind_of(name)}", _line(item, "name"))
            if name in used:
                self.fail(f"{here}.name", f"duplicate layer name {name!r} (also {used[name]})", _line(item, "name"))
            used[name] = here
            return name
        # auto names: relu, relu_2, relu_3, ...; the counter per default name keeps this linear
        counter = used.setdefault(("#", default), 1)
        name, k = default, counter
        if k > 1:
            name = f"{default}_{k}"
        while name in used:
            k += 1
            name = f"{default}_{k}"
        used[("#", default)] = k + 1
        used[name] = here
        return name

    def _repeat(self, item, here, scope) -> int:
        if "repeat" not in item:
            return 1
        n = self.value(item, "repeat", "int0", f"{here}.", scope)  # 0: the item is left out
        if n > self.limits.max_repeat:
            self.fail(f"{here}.repeat", f"{n} is more than the limit of {self.limits.max_repeat} (see --max-repeat)", _line(item, "repeat"))
        return n

    def _instance(self, item, cur, prefix, here, scope, depth, stack, used) -> int:
        _check_keys(self, item, INSTANCE_KEYS, here)
        bname = self._get(item, "block", scope, here)
        if not isinstance(bname, str) or bname not in self.blocks:
            known = ", ".join(map(str, self.blocks)) or "none defined"
            self.fail(f"{here}.block", f"unknown block {kind_of(bname)}{did_you_mean(str(bname), self.blocks)} (blocks: {known})", _line(item, "block"))
        if bname in stack:
            cycle = " -> ".join(stack[stack.index(bname):] + (bname,))
            self.fail(f"{here}.block", f"block {bname!r} uses itself: {cycle}", _line(item, "block"))
        bdef = self.blocks[bname]
        bwhere = f"blocks.{bname}"
        declared = bdef.get("args") or {}
        given = item.get("args") or {}
        if not isinstance(given, dict):
            self.fail(f"{here}.args", f"expected a mapping, got {kind_of(given)}", _line(item, "args"))
        for key in declared:
            if key in expr.CONFIG_NAMES:
                self.fail(f"{bwhere}.args.{key}", f"{key!r} is a reserved name (in a layer's keys it is the configuration's); "
                          "give the argument another name", _line(declared, key))
        for key in given:
            if key not in declared:
                self.fail(f"{here}.args.{key}", f"block {bname!r} has no argument {key!r}{did_you_mean(str(key), declared)}", _line(given, key))
        args = {}
        for key, default in declared.items():
            if key in given:
                args[key] = self._get(given, key, scope, here, f"args.{key}")
            elif default is None:
                self.fail(f"{here}.args", f"block {bname!r} needs argument {key!r}", _line(item, "block"))
            else:
                args[key] = self._get(declared, key, scope, bwhere, f"args.{key}")
        n = self._repeat(item, here, scope)
        name = self._name(item, bname, here, scope, used)
        if "from" in item:
            cur = self._from(item, prefix, here, scope, single=True)[0]
        for r in range(n):
            before = len(self.layers)
            inner = expr.Scope({**args, "repeat_index": r, "_block_input": cur}, scope)
            if r > 0 and "stride" in inner:
                inner["stride"] = 1
            full = f"{prefix}{name}.{r + 1}" if n > 1 else f"{prefix}{name}"
            cur = self.expand(bdef.get("layers"), cur, f"{full}/", f"{here}.{bwhere}.layers", inner, depth + 1, stack + (bname,))
            if r == 0:
                self._project(n, len(self.layers) - before, here, item)
        return cur

    def _from(self, item, prefix: str, here: str, scope, single: bool) -> list[int]:
        """The nodes named by an item's `from`: each a layer before it, looked up under the current
        block first, then from the top; `input` is the network input unless a layer has that name."""
        value = self._get(item, "from", scope, here)
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not names or not all(isinstance(x, str) and x for x in names) or (single and len(names) != 1):
            want = "the name of an earlier layer" if single else "a name or a list of names of earlier layers"
            self.fail(f"{here}.from", f"expected {want}, got {kind_of(value)}", _line(item, "from"))
        out = []
        for x in names:
            node = self.names.get(prefix + x)
            if node is None:
                node = self.names.get(x)
            if node is not None:
                out.append(node)
            elif x == "input":
                out.append(-1)
            else:
                self.fail(f"{here}.from", f"no layer {x!r} before this one{did_you_mean(x, list(self.names)[-2000:])}", _line(item, "from"))
        return out

    def _project(self, n: int, per: int, here: str, item) -> None:
        """Fail at once when `n` repetitions of `per` layers cannot fit the layer limit."""
        if n > 1 and len(self.layers) + per * (n - 1) > self.limits.max_layers:
            self.fail(f"{here}.repeat", f"{n} repetitions of {per} layers make more than {self.limits.max_layers} layers "
                      "after expansion (limit; see --max-layers)", _line(item, "repeat"))

    def _layer(self, item, cur, prefix, here, scope, depth, stack, used) -> int:
        if "type" not in item:
            self.fail(here, "missing 'type' (or 'block')", getattr(item, "line", None))
        key = _content_key(item)
        if key is None:
            key = self._scoped_key(item, scope)
        hit = self.checked.get(key) if key is not None else None
        if hit is None:
            hit = self._checked_layer(item, here, scope)
            if key is not None:  # the same text checks the same way: a chain of identical items is checked once
                self.checked[key] = hit
        ltype, attrs, scale, fused, deferred, spelling = hit
        n = self._repeat(item, here, scope) if "repeat" in item else 1
        name = self._name(item, ltype, here, scope, used)
        branches = item.get("branches")
        sources = None
        if "from" in item:
            sources = self._from(item, prefix, here, scope, single=ltype not in MERGE_TYPES)
            if branches is not None:
                self.fail(f"{here}.from", "a merge takes its inputs from 'branches' or from 'from', not both", _line(item, "from"))
            if ltype in MERGE_TYPES:
                branches = [[]] * len(sources)  # each named input is an identity branch
            else:
                cur = sources[0]
        for r in range(n):
            before = len(self.layers)
            full = f"{prefix}{name}.{r + 1}" if n > 1 else f"{prefix}{name}"
            rattrs, rdeferred = attrs, deferred  # shared, never changed: a Layer's attrs are read-only
            if r > 0 and "stride" in attrs and "stride" in item:
                rattrs = {**attrs, "stride": (1, 1)}
                rdeferred = tuple(k for k in deferred if k != "stride")
            if branches is not None:
                if not isinstance(branches, list) or len(branches) < 1:
                    self.fail(f"{here}.branches", f"expected a list of branches (each a list of layers), got {kind_of(branches)}", _line(item, "branches"))
                ends = []
                taken: dict = {}  # one namespace for all the branches under `full/`
                for j, branch in enumerate(branches):
                    bw = f"{here}.branches[{j}]"
                    if branch is None or branch == []:
                        ends.append(cur if sources is None or r > 0 else sources[j])
                        continue
                    ends.append(self.expand(branch, cur, f"{full}/", bw, scope, depth + 1, stack, taken))
                inputs = tuple(ends)
            else:
                inputs = (cur,)
            cur = self.add(Layer(full, ltype, inputs, rattrs, here, getattr(item, "line", None), scale, fused, rdeferred, spelling))
            if r == 0 and n > 1:
                self._project(n, len(self.layers) - before, here, item)
        return cur

    def _scoped_key(self, item, scope) -> tuple | None:
        """A key for a layer item with $ expressions: the item itself (it lives in the document) and
        the values of the names its expressions read, so that a block's layers are checked once for
        each distinct set of arguments, not once per instance. None: check it afresh (the names hold
        lists or tables, an expression names the configuration or does not parse, or there are branches)."""
        hit = self.item_names.get(id(item))
        if hit is None:
            hit = self.item_names[id(item)] = (item, _expression_names(item))
        names = hit[1]
        if names is None:
            return None
        values = []
        for n in names:
            if n in scope:
                v = scope[n]
                t = type(v)
                if t not in _KEY_VALUE_TYPES:
                    return None
                values.append((t, v))
            else:
                values.append(None)  # not a name of the scope: a function's name, True or False, or an error
        return id(item), tuple(values)

    def _checked_layer(self, item, here, scope):
        """(type, attrs, scale, fused) of a layer item: every key checked, defaults filled in."""
        ltype = self._get(item, "type", scope, here)
        if not isinstance(ltype, str) or ltype not in LAYER_TYPES:
            self.fail(f"{here}.type", f"unknown layer type {kind_of(ltype)}{did_you_mean(str(ltype), LAYER_TYPES)} "
                      f"(types: {', '.join(LAYER_TYPES)})", _line(item, "type"))
        fields = LAYER_TYPES[ltype]
        allowed, defaults = self._layer_kind(ltype)
        for key in item:
            if key not in allowed:
                _check_keys(self, item, allowed, here)  # names the unknown key, with a "did you mean"
        scale = "yes"
        if "scale" in item:
            s = self._get(item, "scale", scope, here)
            if s not in (True, False, "up"):
                self.fail(f"{here}.scale", f"expected true, false or 'up', got {kind_of(s)}", _line(item, "scale"))
            scale = {True: "yes", False: "no"}.get(s, s)
        spelling = "module"
        if "pytorch" in item:
            spelling = self._get(item, "pytorch", scope, here)
            if spelling not in SPELLINGS:
                self.fail(f"{here}.pytorch", f"expected one of {', '.join(SPELLINGS)}, got {kind_of(spelling)}", _line(item, "pytorch"))
        fused = False
        if "fused" in item:
            fused = self._get(item, "fused", scope, here)
            if type(fused) is not bool:
                fused = self.check_kind(fused, "bool", f"{here}.fused", _line(item, "fused"))
        attrs = {}
        deferred = []
        for key, (kind, default) in fields.items():
            if key in item:
                attrs[key] = v = self.value(item, key, kind, f"{here}.", scope, defer=kind in DEFERRABLE)
                if type(v) is Deferred:
                    deferred.append(key)
                    # channels vary with alpha alone: an `out` of alpha is evaluated on the grid at once;
                    # anything else that varies is evaluated one alpha or one resolution at a time
                    self.split |= v.axes - {"a"} if key == "out" else v.axes
            elif key in defaults:
                attrs[key] = defaults[key]
            else:
                self.fail(f"{here}.{key}", f"missing (a {ltype} layer needs {key!r})", getattr(item, "line", None))
        if "bias" in attrs and attrs["bias"] is None:
            attrs["bias"] = True
        if ltype in ("maxpool", "avgpool"):
            if attrs["output"] is not None and (attrs["global"] or any(k in item for k in ("kernel", "stride", "padding", "ceil"))):
                self.fail(f"{here}.output", "an adaptive pool (output) takes no kernel, stride, padding, ceil or global",
                          _line(item, "output"))
            if not attrs["global"] and attrs["kernel"] is None and attrs["output"] is None:
                self.fail(f"{here}.kernel", f"missing (a {ltype} layer needs a kernel unless global: true or an output size)",
                          getattr(item, "line", None))
        if ltype == "conv" and (attrs["out"] is None) == (attrs["expand"] is None):
            self.fail(f"{here}.out", "a conv layer needs 'out' (channels) or 'expand' (a multiple of its input channels), not both", getattr(item, "line", None))
        bad = None if deferred else cross_check(ltype, attrs)
        if bad:
            key, message = bad
            self.fail(f"{here}.{key}", message, _line(item, key) if key in item else getattr(item, "line", None))
        return ltype, attrs, scale, fused, tuple(deferred), spelling


#: field kinds whose value may name the configuration (expr.CONFIG_NAMES): numbers and geometry
DEFERRABLE = frozenset({"channels", "int+", "int0", "pair+", "pair0", "padding", "fraction"})


def cross_check(ltype: str, attrs) -> tuple | None:
    """(key, message) where a layer's keys contradict each other, else None: at load time, or for a
    layer whose keys name the configuration, when the engine has evaluated them."""
    if ltype in ("maxpool", "avgpool") and not attrs["global"] and attrs["output"] is None:
        pad = attrs["padding"]
        if not isinstance(pad, str) and any(p > k // 2 for p, k in zip(pad, attrs["kernel"])):
            # a window over padding alone has nothing to pool (PyTorch refuses it likewise)
            return "padding", f"padding {list(pad)} is more than half the kernel {list(attrs['kernel'])}"
    if ltype == "split" and attrs["index"] >= attrs["sections"]:
        return "index", f"index {attrs['index']} out of range for {attrs['sections']} sections"
    return None


_PLAIN = (int, float, bool, type(None))
_KEY_VALUE_TYPES = frozenset(_PLAIN + (str,))


def _expression_names(item) -> tuple | None:
    """The names the $ expressions of a layer item read (sorted), or None where its check cannot be
    keyed by them: branches, lists that are not numbers, an expression that names the configuration
    (the engine evaluates it) or does not parse."""
    names: set = set()
    return None if _key_parts(item, names) is None else tuple(sorted(names))


_NOT_YET = object()


def _content_key(item) -> tuple | None:
    """A key for a layer item whose check does not depend on the scope: no $ expressions, no branches;
    types are part of the key (``1`` and ``true`` check differently). None: check it afresh."""
    return _key_parts(item, None)


def _key_parts(item, names: set | None) -> tuple | None:
    """(key, type, value) of each key a layer's check reads, or None where they cannot key it. A $
    expression makes it None unless `names` collects the names it reads."""
    parts = []
    for k, v in item.items():
        if k in ("name", "comment", "repeat"):
            continue
        t = type(v)
        if t is str:
            if v.startswith("$"):
                if names is None:
                    return None
                found = expr.names_of(v)
                if found is None or expr.config_names(v):
                    return None
                names |= found
        elif t is LineList or t is list:
            if not all(type(x) is int for x in v):
                return None
            v = tuple(v)
        elif t not in _PLAIN:
            return None
        parts.append((k, t, v))
    return tuple(parts)
