"""One small pure cost rule per layer type.

Counting convention, stated once: one multiply-accumulate is one MAC.  MACs
are counted for convolutions and fully-connected layers only (the papers'
"mult-adds"); everything else (bias adds, BatchNorm, activations, pooling,
element-wise adds, LRN) is counted as *other ops*, one per elementary
operation, and never mixed into MACs.  FLOPs are derived from MACs by the
report (2 per MAC unless told otherwise).

A rule takes the layer, the shapes of its inputs and the scaled output
channels, and returns a :class:`Cost`.  Memory access cost is *not* computed
here: the engine derives it centrally from its definition (input activations
+ output activations + weights; ShuffleNet v2, Sec. 2).  Shapes are arrays
that broadcast over the (alpha x resolution) grid; :class:`Q` carries an
exact upper bound alongside every count so that int64 overflow is detected,
never wrapped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .ir import ACTIVATIONS, LAYER_TYPES, Layer

INT64_MAX = 2**63 - 1


class CountOverflow(ArithmeticError):
    pass


class ShapeError(ValueError):
    """An impossible configuration; the engine adds the file and the place."""


class Q:
    """A non-negative count with an exact upper bound on its entries, so that int64 overflow is caught.

    `a` is a Python int (one configuration: exact, fast) or an int64 array broadcasting over the grid.
    """

    __slots__ = ("a", "mx")

    def __init__(self, a, mx: int | None = None):
        self.a = a
        self.mx = (a if type(a) is int else int(np.max(a))) if mx is None else mx

    @staticmethod
    def of(value) -> "Q":
        if isinstance(value, Q):
            return value
        if isinstance(value, (int, np.integer)):
            return Q(int(value), int(value))
        return Q(value)

    def __mul__(self, other) -> "Q":
        if type(other) is int:
            oa = omx = other
        else:
            other = Q.of(other)
            oa, omx = other.a, other.mx
        bound = self.mx * omx
        if bound > INT64_MAX:
            if type(self.a) is int and type(oa) is int:
                raise CountOverflow()
            exact = np.max(np.multiply(self.a, oa, dtype=np.float64))
            if exact >= 2.0**63 * (1 - 1e-12):
                raise CountOverflow()
            return Q(np.multiply(self.a, oa))
        return Q(self.a * oa, bound)

    __rmul__ = __mul__

    def __add__(self, other) -> "Q":
        other = Q.of(other)
        bound = self.mx + other.mx
        if bound > INT64_MAX:
            if type(self.a) is int and type(other.a) is int:
                raise CountOverflow()
            exact = np.max(np.add(self.a, other.a, dtype=np.float64))
            if exact >= 2.0**63 * (1 - 1e-12):
                raise CountOverflow()
            return Q(np.add(self.a, other.a))
        return Q(self.a + other.a, bound)

    __radd__ = __add__

    def __floordiv__(self, k: int) -> "Q":
        return Q(self.a // k, self.mx // k)


ZERO = Q(0, 0)


def _min(a) -> int:
    return a if type(a) is int else int(np.min(a))


def _differ(a, b) -> bool:
    if type(a) is int and type(b) is int:
        return a != b
    return bool(np.any(np.not_equal(a, b)))


class Shape:
    """Channels, height and width; each a Q broadcasting over the grid."""

    __slots__ = ("c", "h", "w", "_elements")

    def __init__(self, c: Q, h: Q, w: Q):
        self.c, self.h, self.w = c, h, w
        self._elements = None

    @property
    def elements(self) -> Q:
        if self._elements is not None:
            return self._elements
        e = self.c * self.h * self.w
        if type(e.a) is int:  # cache scalars only: a grid-sized array per layer would hold memory
            self._elements = e
        return e


@dataclass
class Cost:
    shape: Shape
    params: Q = ZERO  # weights + biases + BatchNorm scale/shift
    bn_params: Q = ZERO
    macs: Q = ZERO
    ops: Q = ZERO  # other element-wise operations
    reads: Q | None = None  # activations read, if not all of every input
    moves_data: bool = True  # False for views (flatten, dropout, identity): no memory traffic


Rule = Callable[[Layer, list, "Q | None"], Cost]
RULES: dict[str, Rule] = {}


def rule(*types: str):
    def register(fn: Rule) -> Rule:
        for t in types:
            if t in RULES:
                raise ValueError(f"a rule for {t!r} is already registered")
            if t not in LAYER_TYPES:
                raise ValueError(f"{t!r} is not a layer type")
            RULES[t] = fn
        return fn

    return register


# -- geometry ----------------------------------------------------------------


def _positive(q: Q, what: str) -> Q:
    if _min(q.a) < 1:
        raise ShapeError(what)
    return q


def conv_size(n: Q, k: int, s: int, p, d: int) -> Q:
    """Output length of a convolution: TF 'same'/'valid' or explicit padding."""
    if p == "same":
        out = (n.a + (s - 1)) // s
    else:
        pad = 0 if p == "valid" else p
        out = (n.a + 2 * pad - d * (k - 1) - 1) // s + 1
    return _positive(Q(out, max(int(n.mx) + 2 * (0 if isinstance(p, str) else p), 1)), f"kernel {k} (dilation {d}) is larger than its padded input")


def pool_size(n: Q, k: int, s: int, p: int, ceil: bool) -> Q:
    """Output length of a pooling window; `ceil` is Caffe's rounding (last window clipped)."""
    span = n.a + 2 * p - k
    if ceil:
        out = -(-span // s) + 1
        if p > 0:
            out = out - ((out - 1) * s >= n.a + p)
    else:
        out = span // s + 1
    return _positive(Q(out, max(int(n.mx) + 2 * p, 1)), f"pooling window {k} is larger than its padded input")


def _pad(p, i):
    return p if isinstance(p, str) else p[i]


def _check_divisible(c: Q, g: int, what: str, by: str = "groups"):
    if g == 1:
        return
    if type(c.a) is int:
        if c.a % g:
            raise ShapeError(f"{what} {c.a} not divisible by {by} {g}")
        return
    rem = np.asarray(c.a) % g
    if np.any(rem):
        bad = int(np.asarray(c.a).flat[int(np.argmax(rem != 0))])
        raise ShapeError(f"{what} {bad} not divisible by {by} {g}")


# -- rules -------------------------------------------------------------------


@rule("conv")
def conv(layer: Layer, ins: list[Shape], out_c: Q | None) -> Cost:
    x = ins[0]
    if out_c is None:  # `expand`: a multiple of the (already scaled) input channels
        out_c = x.c * layer.attrs["expand"]
    (kh, kw), (sh, sw), (dh, dw) = layer.attrs["kernel"], layer.attrs["stride"], layer.attrs["dilation"]
    g = layer.attrs["groups"]
    _check_divisible(x.c, g, "input channels")
    _check_divisible(out_c, g, "output channels")
    p = layer.attrs["padding"]
    ho, wo = conv_size(x.h, kh, sh, _pad(p, 0), dh), conv_size(x.w, kw, sw, _pad(p, 1), dw)
    per_out = (x.c // g) * (kh * kw)  # weights feeding one output value
    params = out_c * per_out
    shape = Shape(out_c, ho, wo)
    ops = ZERO
    if layer.attrs["bias"]:
        params = params + out_c
        ops = shape.elements
    return Cost(shape, params=params, macs=shape.elements * per_out, ops=ops)


@rule("dwconv")
def dwconv(layer: Layer, ins: list[Shape], out_c: Q | None) -> Cost:
    x = ins[0]
    (kh, kw), (sh, sw), (dh, dw) = layer.attrs["kernel"], layer.attrs["stride"], layer.attrs["dilation"]
    p = layer.attrs["padding"]
    ho, wo = conv_size(x.h, kh, sh, _pad(p, 0), dh), conv_size(x.w, kw, sw, _pad(p, 1), dw)
    c = x.c * layer.attrs["multiplier"]
    params = c * (kh * kw)
    shape = Shape(c, ho, wo)
    ops = ZERO
    if layer.attrs["bias"]:
        params = params + c
        ops = shape.elements
    return Cost(shape, params=params, macs=shape.elements * (kh * kw), ops=ops)


@rule("linear")
def linear(layer: Layer, ins: list[Shape], out_c: Q) -> Cost:
    fan_in = ins[0].elements  # a linear layer reads its whole input (implicit flatten)
    params = fan_in * out_c
    one = Q.of(1)
    ops = ZERO
    if layer.attrs["bias"]:
        params = params + out_c
        ops = out_c
    return Cost(Shape(out_c, one, one), params=params, macs=fan_in * out_c, ops=ops)


@rule("maxpool", "avgpool")
def pool(layer: Layer, ins: list[Shape], out_c: Q | None) -> Cost:
    x = ins[0]
    if layer.attrs["global"]:
        one = Q.of(1)
        shape = Shape(x.c, one, one)
        return Cost(shape, ops=x.elements)  # one compare/add per input element
    kh, kw = layer.attrs["kernel"]
    sh, sw = layer.attrs["stride"] or (kh, kw)
    p = layer.attrs["padding"]
    if isinstance(p, str):
        ph, pw = (kh // 2, kw // 2) if p == "same" else (0, 0)
        if p == "same":
            ho, wo = Q((x.h.a + sh - 1) // sh, x.h.mx), Q((x.w.a + sw - 1) // sw, x.w.mx)
        else:
            ho, wo = pool_size(x.h, kh, sh, 0, layer.attrs["ceil"]), pool_size(x.w, kw, sw, 0, layer.attrs["ceil"])
    else:
        ho, wo = pool_size(x.h, kh, sh, p[0], layer.attrs["ceil"]), pool_size(x.w, kw, sw, p[1], layer.attrs["ceil"])
    shape = Shape(x.c, ho, wo)
    return Cost(shape, ops=shape.elements * (kh * kw))


@rule("bn")
def batchnorm(layer: Layer, ins: list[Shape], out_c: Q | None) -> Cost:
    x = ins[0]
    bn = x.c * 2  # learnable scale and shift (moving statistics are not parameters)
    return Cost(Shape(x.c, x.h, x.w), params=bn, bn_params=bn, ops=x.elements * 2)


@rule(*ACTIVATIONS)
def activation(layer: Layer, ins: list[Shape], out_c: Q | None) -> Cost:
    x = ins[0]
    return Cost(Shape(x.c, x.h, x.w), ops=x.elements)


@rule("lrn")
def lrn(layer: Layer, ins: list[Shape], out_c: Q | None) -> Cost:
    x = ins[0]
    # sum of `size` squares, one power and one division per element
    return Cost(Shape(x.c, x.h, x.w), ops=x.elements * (layer.attrs["size"] + 2))


@rule("dropout", "identity")
def passthrough(layer: Layer, ins: list[Shape], out_c: Q | None) -> Cost:
    x = ins[0]
    return Cost(Shape(x.c, x.h, x.w), moves_data=False)


@rule("flatten")
def flatten(layer: Layer, ins: list[Shape], out_c: Q | None) -> Cost:
    one = Q.of(1)
    return Cost(Shape(ins[0].elements, one, one), moves_data=False)


def _same_spatial(ins: list[Shape], what: str):
    first = ins[0]
    for k, other in enumerate(ins[1:], start=1):
        if _differ(first.h.a, other.h.a) or _differ(first.w.a, other.w.a):
            raise ShapeError(
                f"{what} of mismatched sizes: input 0 is {_hw(first)}, input {k} is {_hw(other)}"
            )


def _hw(s: Shape) -> str:
    return f"{int(np.max(s.h.a))}x{int(np.max(s.w.a))}"


@rule("add")
def add(layer: Layer, ins: list[Shape], out_c: Q | None) -> Cost:
    if len(ins) < 2:
        raise ShapeError("add needs at least two inputs (give it branches)")
    _same_spatial(ins, "add")
    first = ins[0]
    for k, other in enumerate(ins[1:], start=1):
        if _differ(first.c.a, other.c.a):
            raise ShapeError(
                f"add of mismatched shapes: input 0 has {int(np.max(first.c.a))} channels, input {k} has {int(np.max(other.c.a))}"
            )
    shape = Shape(first.c, first.h, first.w)
    return Cost(shape, ops=shape.elements * (len(ins) - 1))


@rule("concat")
def concat(layer: Layer, ins: list[Shape], out_c: Q | None) -> Cost:
    _same_spatial(ins, "concat")
    c = ins[0].c
    for other in ins[1:]:
        c = c + other.c
    return Cost(Shape(c, ins[0].h, ins[0].w))


@rule("split")
def split(layer: Layer, ins: list[Shape], out_c: Q | None) -> Cost:
    x = ins[0]
    n = layer.attrs["sections"]
    _check_divisible(x.c, n, "channels", "sections")
    shape = Shape(x.c // n, x.h, x.w)
    return Cost(shape, reads=shape.elements)  # reads only its own section


@rule("shuffle")
def shuffle(layer: Layer, ins: list[Shape], out_c: Q | None) -> Cost:
    x = ins[0]
    _check_divisible(x.c, layer.attrs["groups"], "channels")
    return Cost(Shape(x.c, x.h, x.w))
