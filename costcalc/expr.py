"""Safe arithmetic for spec values: a string that starts with ``$``.

``$out`` or ``$ stage_channels[groups][1] * scale`` are evaluated against the
spec's parameters and the enclosing block's arguments.  Only arithmetic,
comparisons, conditional expressions, indexing and a few functions are
allowed; anything else is an error, never executed.
"""

from __future__ import annotations

import ast
import math
import operator

MAX_LENGTH = 500


class ExprError(ValueError):
    pass


def make_divisible(value, divisor=8, min_value=None):
    """Round to the nearest multiple of `divisor`, never more than 10% down."""
    min_value = divisor if min_value is None else min_value
    new = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new < 0.9 * value:
        new += divisor
    return new


def _round(value, digits=None):
    if digits is not None and (not isinstance(digits, int) or isinstance(digits, bool) or abs(digits) > 30):
        raise ExprError(f"round: digits must be a whole number from -30 to 30, got {digits!r}")
    return round(value) if digits is None else round(value, digits)


#: the largest magnitude of any number an expression computes (every step is checked)
MAX_MAGNITUDE = 2**64


def _bounded(value):
    if isinstance(value, bool):
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
    "int": int,
    "round": _round,
    "min": min,
    "max": max,
    "abs": abs,
    "floor": math.floor,
    "ceil": math.ceil,
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


def is_expression(value) -> bool:
    return isinstance(value, str) and value.startswith("$")


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
        names = scope.names() if isinstance(scope, Scope) else scope
        known = ", ".join(sorted(str(k) for k in names if not str(k).startswith("_"))) or "none"
        raise ExprError(f"unknown name {node.id!r} (known: {known})")
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left, right = _eval(node.left, scope), _eval(node.right, scope)
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (left, right)):
            raise ExprError(f"arithmetic needs numbers: {ast.unparse(node)!r}")
        if isinstance(node.op, ast.Pow) and (abs(right) > 64 or abs(left) > 2**32):
            raise ExprError("power too large")
        result = _BINOPS[type(node.op)](left, right)
        if isinstance(result, complex):
            raise ExprError(f"not a real number: {ast.unparse(node)!r}")
        return _bounded(result)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
        value = _eval(node.operand, scope)
        if isinstance(node.op, ast.Not):
            return not value
        return -value if isinstance(node.op, ast.USub) else +value
    if isinstance(node, ast.Compare) and all(type(op) in _CMPOPS for op in node.ops):
        left = _eval(node.left, scope)
        for op, comp in zip(node.ops, node.comparators):
            right = _eval(comp, scope)
            if not _CMPOPS[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.BoolOp):
        values = [_eval(v, scope) for v in node.values]
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.IfExp):
        return _eval(node.body, scope) if _eval(node.test, scope) else _eval(node.orelse, scope)
    if isinstance(node, ast.Subscript):
        container = _eval(node.value, scope)
        key = _eval(node.slice, scope)
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
