"""The JSON Schema of the spec format, generated from its one declaration (costcalc.format and the
layer vocabulary of costcalc.ir), so that editors can complete and check a spec as it is written.

    costcalc schema > costcalc.schema.json

It states what the loader checks before anything is built: keys, types, ranges and layer fields.
What only the expansion can check (a ``$`` expression's value, channels that divide by groups, a
block's arguments) is left to ``costcalc report``.
"""

from __future__ import annotations

from . import format as fm
from .ir import COMMON_KEYS, INSTANCE_KEYS, LAYER_TYPES, MERGE_TYPES, REQUIRED, SPELLINGS

EXPRESSION = {"type": "string", "pattern": r"^\$", "description": "a $ expression over the parameters and arguments"}
_DIGITS = {"int+": 1, "channels": 1, "int0": 0}


def _num(kind) -> dict:
    out = {"type": "number", "maximum": kind.hi}
    out["exclusiveMinimum" if kind.lo_open else "minimum"] = kind.lo
    return out


def _name(kind) -> dict:
    if kind.identifier:
        return {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$", "maxLength": 200}
    return {"type": ["string", "number"]}


def _map(kind) -> dict:
    out = {"type": "object", "properties": {k: schema_of(v) for k, v in kind.fields.items()},
           "additionalProperties": False}
    if kind.required:
        out["required"] = list(kind.required)
    return out


def _list(kind) -> dict:
    out = {"type": "array", "items": schema_of(kind.items)}
    if kind.nonempty:
        out["minItems"] = 1
    if kind.most is not None:
        out["maxItems"] = kind.most
    return out


#: one small function per kind of the declaration
HANDLERS = {
    fm.Str: lambda k: {"type": "string", **({"minLength": 1} if k.nonempty else {}), "maxLength": fm.MAX_STRING},
    fm.Name: _name,
    fm.Bool: lambda k: {"type": "boolean"},
    fm.Num: _num,
    fm.Int: lambda k: {"type": "integer", "minimum": k.lo, "maximum": k.hi},
    fm.Enum: lambda k: {"enum": list(k.values)},
    fm.OneOf: lambda k: {"anyOf": [schema_of(x) for x in k.kinds]},
    fm.Expr: lambda k: {"anyOf": [schema_of(k.kind), EXPRESSION]},
    fm.Plain: lambda k: {"description": "plain data: numbers, strings, true/false, lists or mappings of them"},
    fm.List: _list,
    fm.Dict: lambda k: {"type": "object", "propertyNames": schema_of(k.keys) if k.keys.identifier else {},
                        "additionalProperties": schema_of(k.values)},
    fm.Map: _map,
    fm.Anything: lambda k: {"$ref": "#/$defs/layers"},
    fm.Field: lambda k: field(k.kind),
    fm.Amount: lambda k: {"anyOf": [{"type": "number", "minimum": 0},
                                    {"type": "string", "pattern": r"^\s*[0-9][0-9_]*(\.[0-9_]*)?([eE][+-]?[0-9]+)?\s*[KMGT]?\s*$"}]},
}


def schema_of(kind) -> dict:
    return HANDLERS[type(kind)](kind)


def field(kind: str) -> dict:
    """A layer field kind (costcalc.format.check_field), or a $ expression."""
    if kind in _DIGITS:
        base = {"type": "integer", "minimum": _DIGITS[kind], "maximum": fm.MAX_INT - 1}
    elif kind in ("pair+", "pair0"):
        one = {"type": "integer", "minimum": 1 if kind == "pair+" else 0, "maximum": fm.MAX_INT - 1}
        base = {"anyOf": [one, {"type": "array", "items": {"anyOf": [one, EXPRESSION]}, "minItems": 2, "maxItems": 2}]}
    elif kind == "shape":
        one = {"type": "integer", "minimum": 1, "maximum": fm.MAX_INT - 1}
        return {"type": "array", "items": one, "minItems": 3, "maxItems": 3}
    elif kind == "padding":
        return {"anyOf": [{"enum": ["same", "valid"]}, field("pair0")]}
    elif kind == "bool":
        base = {"type": "boolean"}
    elif kind == "fraction":
        base = {"type": "number", "minimum": 0, "exclusiveMaximum": 1}
    else:
        base = {"type": "string"}
    return {"anyOf": [base, EXPRESSION]}


#: `from`: the name of an earlier layer (or, for a merge, a list of names) to read instead of the previous one
FROM = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]}


def _layer_item(ltype: str) -> dict:
    props = {"type": {"const": ltype}, "name": {"type": ["string", "number"]},
             "repeat": field("int0"), "scale": {"anyOf": [{"enum": [True, False, "up"]}, EXPRESSION]},
             "fused": field("bool"), "comment": {"type": "string"}, "from": FROM,
             "pytorch": {"anyOf": [{"enum": list(SPELLINGS)}, EXPRESSION]}}
    props.update({k: field(kind) for k, (kind, _) in LAYER_TYPES[ltype].items()})
    if ltype in MERGE_TYPES:
        props["branches"] = {"type": "array", "items": {"anyOf": [{"$ref": "#/$defs/layers"}, {"type": "null"}]}}
    assert set(props) >= set(COMMON_KEYS)
    required = ["type"] + [k for k, (_, default) in LAYER_TYPES[ltype].items() if default is REQUIRED]
    return {"type": "object", "properties": props, "required": required, "additionalProperties": False}


def _layer_of_any_type() -> dict:
    """A layer whose type is a $ expression: any layer key of any type."""
    props: dict = {}
    for ltype in LAYER_TYPES:
        props.update(_layer_item(ltype)["properties"])
    props["type"] = EXPRESSION
    return {"type": "object", "properties": props, "required": ["type"], "additionalProperties": False}


def spec_schema() -> dict:
    instance = {"type": "object", "required": ["block"], "additionalProperties": False,
                "properties": {"block": {"type": "string"}, "name": {"type": ["string", "number"]},
                               "args": {"type": "object"}, "repeat": field("int0"), "comment": {"type": "string"},
                               "from": FROM}}
    assert set(instance["properties"]) == set(INSTANCE_KEYS)
    layers = {"type": "array",
              "items": {"anyOf": [instance] + [_layer_item(t) for t in LAYER_TYPES] + [_layer_of_any_type()]}}
    out = {"$schema": "https://json-schema.org/draft/2020-12/schema",
           "title": "costcalc spec",
           "description": "A CNN architecture for costcalc: layers, blocks, parameters, variants, and the published "
                          "figures it is checked against. Generated by `costcalc schema` from costcalc.format.",
           **schema_of(fm.spec_format()),
           "$defs": {"layers": layers}}
    return out
