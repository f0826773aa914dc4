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
+ output activations + weights; ShuffleNet v2, Sec. 2).  Counts are Python
ints for one configuration and :class:`costcalc.counts.Count` over a grid;
a rule is written once with ``+``, ``*``, ``//`` and the helpers of
:mod:`costcalc.counts`, which take either, and int64 overflow is detected
there, never wrapped.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from .counts import differ, first_not_divisible, highest, lowest, spatial
from .ir import ACTIVATIONS, LAYER_TYPES, Layer


class ShapeError(ValueError):
    """An impossible configuration; the engine adds the file and the place."""


class Shape:
    """Channels, height and width: Python ints (one configuration) or counts.Count (a grid)."""

    __slots__ = ("c", "h", "w", "_elements")

    def __init__(self, c, h, w):
        self.c, self.h, self.w = c, h, w
        self._elements = None

    @property
    def elements(self):
        if self._elements is None:
            self._elements = self.c * self.h * self.w
        return self._elements


class Cost(NamedTuple):
    shape: Shape
    params: object = 0  # weights + biases + BatchNorm scale/shift (an int or a counts.Count, as all counts)
    bn_params: object = 0
    macs: object = 0
    ops: object = 0  # other element-wise operations
    reads: object = None  # activations read, if not all of every input
    moves_data: bool = True  # False for views (flatten, dropout, identity): no memory traffic


Rule = Callable[[Layer, list, object], Cost]
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


def _positive(n, what: str):
    if lowest(n) < 1:
        raise ShapeError(what)
    return n


def conv_size(n, k: int, s: int, p, d: int):
    """Output length of a convolution: TF 'same'/'valid' or explicit padding."""
    if type(n) is int:  # one configuration: the formula on the int (no cache, no closure)
        out = (n + (s - 1)) // s if p == "same" else (n + 2 * (0 if p == "valid" else p) - d * (k - 1) - 1) // s + 1
        if out < 1:
            raise ShapeError(f"kernel {k} (dilation {d}) is larger than its padded input")
        return out
    if p == "same":
        out = spatial(n, ("same", s), lambda x: (x + (s - 1)) // s)
    else:
        pad = 0 if p == "valid" else p
        out = spatial(n, ("conv", k, s, pad, d), lambda x: (x + 2 * pad - d * (k - 1) - 1) // s + 1)
    return _positive(out, f"kernel {k} (dilation {d}) is larger than its padded input")


def pool_size(n, k: int, s: int, p: int, ceil: bool):
    """Output length of a pooling window; `ceil` is Caffe's rounding (last window clipped)."""
    def length(x):
        span = x + 2 * p - k
        if not ceil:
            return span // s + 1
        out = -(-span // s) + 1
        return out - ((out - 1) * s >= x + p) if p > 0 else out

    return _positive(spatial(n, ("pool", k, s, p, ceil), length), f"pooling window {k} is larger than its padded input")


def adaptive_span(n, o: int):
    """The summed window lengths of adaptive pooling from length `n` to `o` (n when o divides n;
    windows overlap where it does not): an int, or elementwise over an array of lengths."""
    return sum(-(-(i + 1) * n // o) - (i * n // o) for i in range(o))


def _pad(p, i):
    return p if isinstance(p, str) else p[i]


def _check_divisible(c, g: int, what: str, by: str = "groups"):
    if g == 1:
        return
    bad = first_not_divisible(c, g)
    if bad is not None:
        raise ShapeError(f"{what} {bad} not divisible by {by} {g}")


# -- rules -------------------------------------------------------------------


@rule("conv")
def conv(layer: Layer, ins: list[Shape], out_c) -> Cost:
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
    ops = 0
    if layer.attrs["bias"]:
        params = params + out_c
        ops = shape.elements
    return Cost(shape, params=params, macs=shape.elements * per_out, ops=ops)


@rule("dwconv")
def dwconv(layer: Layer, ins: list[Shape], out_c) -> Cost:
    x = ins[0]
    (kh, kw), (sh, sw), (dh, dw) = layer.attrs["kernel"], layer.attrs["stride"], layer.attrs["dilation"]
    p = layer.attrs["padding"]
    ho, wo = conv_size(x.h, kh, sh, _pad(p, 0), dh), conv_size(x.w, kw, sw, _pad(p, 1), dw)
    c = x.c * layer.attrs["multiplier"]
    params = c * (kh * kw)
    shape = Shape(c, ho, wo)
    ops = 0
    if layer.attrs["bias"]:
        params = params + c
        ops = shape.elements
    return Cost(shape, params=params, macs=shape.elements * (kh * kw), ops=ops)


@rule("linear")
def linear(layer: Layer, ins: list[Shape], out_c) -> Cost:
    fan_in = ins[0].elements  # a linear layer reads its whole input (implicit flatten)
    params = fan_in * out_c
    ops = 0
    if layer.attrs["bias"]:
        params = params + out_c
        ops = out_c
    return Cost(Shape(out_c, 1, 1), params=params, macs=fan_in * out_c, ops=ops)


@rule("maxpool", "avgpool")
def pool(layer: Layer, ins: list[Shape], out_c) -> Cost:
    x = ins[0]
    if layer.attrs["global"]:
        return Cost(Shape(x.c, 1, 1), ops=x.elements)  # one compare/add per input element
    if layer.attrs["output"] is not None:  # adaptive: PyTorch's windows, output i reads floor(i n / o) .. ceil((i + 1) n / o)
        oh, ow = layer.attrs["output"]
        rows = spatial(x.h, ("adaptive", oh), lambda n: adaptive_span(n, oh))
        cols = spatial(x.w, ("adaptive", ow), lambda n: adaptive_span(n, ow))
        return Cost(Shape(x.c, oh, ow), ops=x.c * rows * cols)  # one compare/add per element of every window
    kh, kw = layer.attrs["kernel"]
    sh, sw = layer.attrs["stride"] or (kh, kw)
    p = layer.attrs["padding"]
    if isinstance(p, str):
        ph, pw = (kh // 2, kw // 2) if p == "same" else (0, 0)
        if p == "same":
            ho = spatial(x.h, ("same", sh), lambda v: (v + sh - 1) // sh)
            wo = spatial(x.w, ("same", sw), lambda v: (v + sw - 1) // sw)
        else:
            ho, wo = pool_size(x.h, kh, sh, 0, layer.attrs["ceil"]), pool_size(x.w, kw, sw, 0, layer.attrs["ceil"])
    else:
        ho, wo = pool_size(x.h, kh, sh, p[0], layer.attrs["ceil"]), pool_size(x.w, kw, sw, p[1], layer.attrs["ceil"])
    shape = Shape(x.c, ho, wo)
    return Cost(shape, ops=shape.elements * (kh * kw))


@rule("bn")
def batchnorm(layer: Layer, ins: list[Shape], out_c) -> Cost:
    x = ins[0]
    bn = x.c * (2 if layer.attrs["gamma"] else 1)  # learned scale and shift (moving statistics are not parameters)
    return Cost(Shape(x.c, x.h, x.w), params=bn, bn_params=bn, ops=x.elements * 2)


@rule("scale")
def channel_scale(layer: Layer, ins: list[Shape], out_c) -> Cost:
    x = ins[0]
    k = 2 if layer.attrs["bias"] else 1  # a factor per channel, and a shift with bias
    return Cost(Shape(x.c, x.h, x.w), params=x.c * k, ops=x.elements * k)


@rule("eltwise")
def eltwise(layer: Layer, ins: list[Shape], out_c) -> Cost:
    if layer.attrs["op"] not in ("mul", "add", "sub", "div"):
        raise ShapeError(f"eltwise op {layer.attrs['op']!r}: expected mul, add, sub or div")
    x = ins[0]
    return Cost(Shape(x.c, x.h, x.w), ops=x.elements)


@rule(*ACTIVATIONS)
def activation(layer: Layer, ins: list[Shape], out_c) -> Cost:
    x = ins[0]
    return Cost(Shape(x.c, x.h, x.w), ops=x.elements)


@rule("lrn")
def lrn(layer: Layer, ins: list[Shape], out_c) -> Cost:
    x = ins[0]
    # sum of `size` squares, one power and one division per element
    return Cost(Shape(x.c, x.h, x.w), ops=x.elements * (layer.attrs["size"] + 2))


@rule("dropout", "identity")
def passthrough(layer: Layer, ins: list[Shape], out_c) -> Cost:
    x = ins[0]
    return Cost(Shape(x.c, x.h, x.w), moves_data=False)


@rule("flatten")
def flatten(layer: Layer, ins: list[Shape], out_c) -> Cost:
    return Cost(Shape(ins[0].elements, 1, 1), moves_data=False)


def _same_spatial(ins: list[Shape], what: str):
    first = ins[0]
    for k, other in enumerate(ins[1:], start=1):
        if differ(first.h, other.h) or differ(first.w, other.w):
            raise ShapeError(
                f"{what} of mismatched sizes: input 0 is {_hw(first)}, input {k} is {_hw(other)}"
            )


def _hw(s: Shape) -> str:
    return f"{highest(s.h)}x{highest(s.w)}"


@rule("add")
def add(layer: Layer, ins: list[Shape], out_c) -> Cost:
    if len(ins) < 2:
        raise ShapeError("add needs at least two inputs (give it branches)")
    _same_spatial(ins, "add")
    first = ins[0]
    for k, other in enumerate(ins[1:], start=1):
        if differ(first.c, other.c):
            raise ShapeError(f"add of mismatched shapes: input 0 has {highest(first.c)} channels, input {k} has {highest(other.c)}")
    shape = Shape(first.c, first.h, first.w)
    return Cost(shape, ops=shape.elements * (len(ins) - 1))


@rule("mul")
def mul(layer: Layer, ins: list[Shape], out_c) -> Cost:
    """The element-wise product of its inputs, an axis of extent 1 broadcast against the others'
    (a C x 1 x 1 gate scales every pixel of its channel: squeeze-excitation; a 1 x H x W gate
    every channel of its pixel). One op per output element per extra input; memory access reads
    every input whole and writes the output."""
    if len(ins) < 2:
        raise ShapeError("mul needs at least two inputs (give it branches)")

    def extent(axis: str):
        full = [getattr(x, axis) for x in ins if highest(getattr(x, axis)) != 1]
        for other in full[1:]:
            if differ(full[0], other):
                shapes = ", ".join(f"input {k} is {highest(x.c)}x{_hw(x)}" for k, x in enumerate(ins))
                raise ShapeError(f"mul of shapes that do not broadcast ({shapes})")
        return full[0] if full else getattr(ins[0], axis)

    shape = Shape(extent("c"), extent("h"), extent("w"))
    return Cost(shape, ops=shape.elements * (len(ins) - 1))


@rule("concat")
def concat(layer: Layer, ins: list[Shape], out_c) -> Cost:
    _same_spatial(ins, "concat")
    c = ins[0].c
    for other in ins[1:]:
        c = c + other.c
    return Cost(Shape(c, ins[0].h, ins[0].w))


@rule("split")
def split(layer: Layer, ins: list[Shape], out_c) -> Cost:
    x = ins[0]
    n = layer.attrs["sections"]
    _check_divisible(x.c, n, "channels", "sections")
    shape = Shape(x.c // n, x.h, x.w)
    return Cost(shape, reads=shape.elements)  # reads only its own section


@rule("shuffle")
def shuffle(layer: Layer, ins: list[Shape], out_c) -> Cost:
    x = ins[0]
    _check_divisible(x.c, layer.attrs["groups"], "channels")
    return Cost(Shape(x.c, x.h, x.w))


@rule("uncosted")
def uncosted(layer: Layer, ins: list[Shape], out_c) -> Cost:
    """An operator without a cost rule, kept by --allow-unknown: the shape the file gives, no counts."""
    x = ins[0]
    at = layer.attrs["at"]
    for have, want, axis in ((x.c, at[0], "channels"), (x.h, at[1], "height"), (x.w, at[2], "width")):
        if lowest(have) != want or highest(have) != want:
            raise ShapeError(f"an uncosted {layer.attrs['op']} has a known output only for input {at[0]}x{at[1]}x{at[2]} "
                             f"(the model's own size); its input here has {axis} {highest(have)}")
    c, h, w = layer.attrs["shape"]
    return Cost(Shape(c, h, w), moves_data=False)
