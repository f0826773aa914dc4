"""Safe arithmetic for spec values: a string that starts with ``$``.

``$out`` or ``$ stage_channels[groups][1] * scale`` are evaluated against the
spec's parameters and the enclosing block's arguments.  Only arithmetic,
comparisons, conditional expressions, indexing and a few functions are
allowed; anything else is an error, never executed.

A layer's keys may also name its configuration (:data:`CONFIG_NAMES`): the
scaled input channels, the input's height and width, alpha and the
resolution. Those are known only when the network is evaluated, so the engine
evaluates such an expression then, on Python numbers for one configuration or
on NumPy vectors over a grid; every operation and function here takes either.
"""

from __future__ import annotations

import ast
import math
import operator
import sys

MAX_LENGTH = 500


class ExprError(ValueError):
    pass


#: names a layer's key may use besides parameters and arguments, known per configuration, and the
#: axis each varies with: "a" (alpha) or "r" (the resolution)
CONFIG_NAMES = {"in_channels": "a", "block_in_channels": "a", "alpha": "a", "in_height": "r", "in_width": "r",
                "resolution": "r"}


def _np():
    return sys.modules.get("numpy")  # arrays only ever come from the engine, which has imported it


def _is_array(v) -> bool:
    np = _np()
    return np is not None and isinstance(v, np.ndarray)


def _is_number(v) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, float)):
        return True
    return _is_array(v) and v.dtype.kind in "iuf"


_SCALARS = (int, float, bool, str)


def uniform(v):
    """An array whose entries are all equal as that one Python value (else the array)."""
    if type(v) in _SCALARS:
        return v
    if _is_array(v) and v.size and (v == v.flat[0]).all():
        return v.flat[0].item()
    return v


def make_divisible(value, divisor=8, min_value=None):
    """Round to the nearest multiple of `divisor`, never more than 10% down."""
    min_value = divisor if min_value is None else min_value
    if _is_array(value):
        np = _np()
        new = np.maximum(min_value, np.floor(value + divisor / 2) // divisor * divisor)
        return np.where(new < 0.9 * value, new + divisor, new).astype(np.int64)
    new = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new < 0.9 * value:
        new += divisor
    return new


def _round(value, digits=None):
    if digits is not None and (not isinstance(digits, int) or isinstance(digits, bool) or abs(digits) > 30):
        raise ExprError(f"round: digits must be a whole number from -30 to 30, got {digits!r}")
    if _is_array(value):  # NumPy rounds halves to even, as Python's round does
        np = _np()
        return np.rint(value).astype(np.int64) if digits is None else np.round(value, digits)
    return round(value) if digits is None else round(value, digits)


def _whole(fn, python):
    """int, floor, ceil: a Python int, or an int64 array."""
    def call(value):
        if _is_array(value):
            np = _np()
            return fn(np)(value).astype(np.int64)
        return python(value)
    return call


def _extreme(python, name):
    """min, max: of numbers, of a list, or elementwise where an argument is an array."""
    def call(*args):
        if len(args) == 1 and isinstance(args[0], list):
            args = tuple(args[0])
        if not args:
            raise ExprError(f"{name}() of nothing")
        if any(_is_array(a) for a in args):
            np = _np()
            out = args[0]
            for a in args[1:]:
                out = (np.minimum if name == "min" else np.maximum)(out, a)
            return out
        return python(args)
    return call


def _abs(value):
    return _np().abs(value) if _is_array(value) else abs(value)


#: the largest magnitude of any number an expression computes (every step is checked)
MAX_MAGNITUDE = 2**64


def _bounded(value):
    if type(value) is int and -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE:  # the common case, at once
        return value
    if isinstance(value, bool):
        return value
    if _is_array(value):
        np = _np()
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            raise ExprError("the expression computes an infinite or NaN number")
        if value.size and np.abs(value.astype(np.float64)).max() > MAX_MAGNITUDE:
            raise ExprError("a number in the expression is too large (more than 2**64)")
        return value
    if isinstance(value, int):
        if abs(value) > MAX_MAGNITUDE:
            raise ExprError("a number in the expression is too large (more than 2**64)")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ExprError("the expression computes an infinite or NaN number")
        if abs(value) > MAX_MAGNITUDE:
            raise ExprError("a number in the expression is too large (more than 2**64)")
    return value


FUNCTIONS = {
    "int": _whole(lambda np: np.trunc, int),
    "round": _round,
    "min": _extreme(min, "min"),
    "max": _extreme(max, "max"),
    "abs": _abs,
    "floor": _whole(lambda np: np.floor, math.floor),
    "ceil": _whole(lambda np: np.ceil, math.ceil),
    "make_divisible": make_divisible,
}

_BINOPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_CMPOPS = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}


_parsed: dict = {}  # expression text -> its syntax tree: block instances repeat the same expressions


class Scope(dict):
    """The names an expression sees: its own (a block's arguments, the repeat index) over its
    parent's (the enclosing block's, then the spec's parameters), shared, never copied: a spec with
    100,000 parameters and 6,000 block instances holds its parameters once."""

    __slots__ = ("parent",)

    def __init__(self, local: dict, parent):
        super().__init__(local)
        self.parent = parent

    def __missing__(self, name):
        return self.parent[name]

    def __contains__(self, name) -> bool:
        return dict.__contains__(self, name) or name in self.parent

    def names(self) -> set:
        parent = self.parent
        return set(dict.keys(self)) | (parent.names() if isinstance(parent, Scope) else set(parent))


_config_names: dict = {}  # expression text -> the configuration names it uses


def config_names(text: str) -> frozenset:
    """The :data:`CONFIG_NAMES` an expression uses (empty if it does not parse: evaluating it says why)."""
    hit = _config_names.get(text)
    if hit is None:
        hit = (names_of(text) or frozenset()) & _CONFIG_SET
        if len(_config_names) < 10_000:
            _config_names[text] = hit
    return hit


_CONFIG_SET = frozenset(CONFIG_NAMES)


_names: dict = {}  # expression text -> every name it reads


def names_of(text: str) -> frozenset | None:
    """Every name a ``$...`` expression reads (None if it does not parse: evaluating it says why)."""
    hit = _names.get(text, _UNPARSED)
    if hit is _UNPARSED:
        try:
            tree = ast.parse(text[1:].strip(), mode="eval")
            hit = frozenset(n.id for n in ast.walk(tree) if isinstance(n, ast.Name))
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            hit = None
        if len(_names) < 10_000:
            _names[text] = hit
    return hit


_UNPARSED = object()


def evaluate(text: str, scope: dict):
    """Evaluate ``$...`` text in `scope`; raises ExprError with a short reason."""
    body = text[1:].strip()
    if not body:
        raise ExprError("empty expression")
    if len(body) > MAX_LENGTH:
        raise ExprError(f"expression longer than {MAX_LENGTH} characters")
    tree = _parsed.get(body)
    if tree is None:
        try:
            tree = ast.parse(body, mode="eval")
        except SyntaxError:
            raise ExprError(f"cannot parse expression {body!r}") from None
        except (ValueError, MemoryError, RecursionError):  # null bytes, absurd nesting
            raise ExprError(f"cannot parse expression {body[:40]!r}") from None
        if len(_parsed) < 10_000:
            _parsed[body] = tree
    try:
        return _eval(tree.body, scope)
    except ExprError:
        raise
    except ZeroDivisionError:
        raise ExprError(f"division by zero in {body!r}") from None
    except KeyError as exc:
        raise ExprError(f"cannot evaluate {body!r}: no entry {exc} in the table") from None
    except (TypeError, ValueError, IndexError, OverflowError) as exc:
        raise ExprError(f"cannot evaluate {body!r}: {exc}") from None
    except RecursionError:
        raise ExprError("expression nested too deeply") from None


def _eval(node, scope):
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str)) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in scope:
            return scope[node.id]
        if node.id in ("True", "False"):
            return node.id == "True"
        if node.id in CONFIG_NAMES:
            raise ExprError(f"{node.id!r} is known only in a layer's own keys (out, kernel, stride, ...), "
                            "where it is the configuration's; not here")
        names = scope.names() if isinstance(scope, Scope) else scope
        known = ", ".join(sorted(str(k) for k in names if not str(k).startswith("_"))) or "none"
        raise ExprError(f"unknown name {node.id!r} (known: {known})")
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left, right = _eval(node.left, scope), _eval(node.right, scope)
        tl, tr = type(left), type(right)
        if not ((tl is int or tl is float) and (tr is int or tr is float)):  # not the common case: two numbers
            if not (_is_number(left) and _is_number(right)):
                raise ExprError(f"arithmetic needs numbers: {ast.unparse(node)!r}")
            if _is_array(left) or _is_array(right):
                return _array_binop(node, left, right)
        if isinstance(node.op, ast.Pow) and (abs(right) > 64 or abs(left) > 2**32):
            raise ExprError("power too large")
        result = _BINOPS[type(node.op)](left, right)
        if isinstance(result, complex):
            raise ExprError(f"not a real number: {ast.unparse(node)!r}")
        return _bounded(result)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
        value = _eval(node.operand, scope)
        if isinstance(node.op, ast.Not):
            return _np().logical_not(value) if _is_array(value) else not value
        return -value if isinstance(node.op, ast.USub) else +value
    if isinstance(node, ast.Compare) and all(type(op) in _CMPOPS for op in node.ops):
        left = _eval(node.left, scope)
        result = True
        for op, comp in zip(node.ops, node.comparators):
            right = _eval(comp, scope)
            this = uniform(_CMPOPS[type(op)](left, right))
            if _is_array(this):
                result = this if result is True else result & this
            elif not this:
                return False
            left = right
        return result
    if isinstance(node, ast.BoolOp):
        values = [uniform(_eval(v, scope)) for v in node.values]
        if any(_is_array(v) for v in values):
            np = _np()
            return (np.logical_and if isinstance(node.op, ast.And) else np.logical_or).reduce(np.broadcast_arrays(*values))
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.IfExp):
        test = uniform(_eval(node.test, scope))
        if _is_array(test):  # a condition that differs between configurations: both sides, chosen per entry
            return _np().where(test, _eval(node.body, scope), _eval(node.orelse, scope))
        return _eval(node.body, scope) if test else _eval(node.orelse, scope)
    if isinstance(node, ast.Subscript):
        container = _eval(node.value, scope)
        key = uniform(_eval(node.slice, scope))
        if _is_array(key):
            if not isinstance(container, list) or not all(_is_number(x) for x in container) or key.dtype.kind not in "iu":
                raise ExprError(f"cannot look up {ast.unparse(node)!r}: the key differs between configurations "
                                "(only a list of numbers can be indexed by such a key)")
            return _np().asarray(container)[key]
        if isinstance(container, dict) and key not in container and isinstance(key, (int, float)):
            # YAML keys may be written as numbers or strings: accept both
            key = str(key) if str(key) in container else key
        return container[key]
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_eval(e, scope) for e in node.elts]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS:
        if node.keywords:
            raise ExprError("keyword arguments are not allowed")
        args = [_eval(a, scope) for a in node.args]
        if len(args) > 64:
            raise ExprError("too many arguments")
        return _bounded(FUNCTIONS[node.func.id](*args))
    raise ExprError(f"not allowed in an expression: {ast.unparse(node)!r}")


def _array_binop(node, left, right):
    """Arithmetic where an operand is an array (values over a grid): the bounds checked in float64
    first, so an int64 result never wraps."""
    np = _np()
    op = type(node.op)
    if op in (ast.Div, ast.FloorDiv, ast.Mod) and (np.asarray(right) == 0).any():
        raise ZeroDivisionError
    if op is ast.Pow and (np.abs(np.asarray(right)).max() > 64 or np.abs(np.asarray(left)).max() > 2**32):
        raise ExprError("power too large")
    with np.errstate(all="ignore"):
        approx = _BINOPS[op](np.asarray(left, dtype=np.float64), np.asarray(right, dtype=np.float64))
        if not np.isfinite(approx).all() or np.abs(approx).max() > MAX_MAGNITUDE:
            raise ExprError("a number in the expression is too large (more than 2**64)")
        if op is ast.Pow and (np.asarray(right) < 0).any():
            left = np.asarray(left, dtype=np.float64)
        return _BINOPS[op](left, right)
