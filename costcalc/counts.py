"""Counts over a grid of (alpha, resolution) configurations, kept factored.

Channels depend only on the width multiplier alpha and spatial sizes only on
the input resolution, so every count a cost rule computes is a sum of
products *(a part that varies with alpha) x (a part that varies with the
resolution)*: a conv's MACs are ``(c_out * c_in/g * k*k) x (h_out * w_out)``.
:class:`Count` keeps that sum of products; its parts are :class:`Part`
vectors with an exact upper bound (counts are never negative), so no full-grid
array is built per layer. Totals are summed by the resolution part they share
(:class:`Totals`): a network with five feature-map sizes costs five outer
products per quantity, however many layers it has.

One configuration is evaluated with plain Python ints (exact, and the fastest):
the rules are written once, against the operators and helpers here, which take
an int or a Count alike.

int64 overflow is detected, never wrapped: a part's bound is exact (the max of a
product of non-negative parts on different axes is the product of their
maxima); where a bound passes 2**63 the value itself is checked.
"""

from __future__ import annotations

import numpy as np

INT64_MAX = 2**63 - 1


class CountOverflow(ArithmeticError):
    pass


class Part:
    """A non-negative int64 vector over one axis of the grid (or a Python int), with its exact maximum.

    `axis` is "a" (varies with alpha), "r" (varies with the resolution) or "" (a constant)."""

    __slots__ = ("v", "mx", "axis")

    def __init__(self, v, mx: int, axis: str):
        self.v, self.mx, self.axis = v, mx, axis

    @staticmethod
    def const(n: int) -> "Part":
        return Part(n, n, "")

    def times(self, other: "Part") -> "Part":
        if other.axis == "":
            return self.scaled(other.v)
        if self.axis == "":
            return other.scaled(self.v)
        axis = self.axis if self.axis == other.axis else "ar"
        bound = self.mx * other.mx
        if bound > INT64_MAX:
            bound = _exact_max(lambda dt: np.multiply(self.v, other.v, dtype=dt))
        return Part(np.multiply(self.v, other.v), bound, axis)

    def scaled(self, k: int) -> "Part":
        if k == 1:
            return self
        bound = self.mx * k
        if not self.axis:
            if bound > INT64_MAX:
                raise CountOverflow()
            return Part(bound, bound, "")
        if bound > INT64_MAX:
            bound = _exact_max(lambda dt: np.multiply(self.v, k, dtype=dt))
        return Part(self.v * k, bound, self.axis)

    def plus(self, other: "Part") -> "Part":
        axis = self.axis or other.axis
        if self.axis and other.axis and self.axis != other.axis:
            axis = "ar"
        bound = self.mx + other.mx
        if not axis:
            if bound > INT64_MAX:
                raise CountOverflow()
            return Part(bound, bound, "")
        if bound > INT64_MAX:
            bound = _exact_max(lambda dt: np.add(self.v, other.v, dtype=dt))
        return Part(np.add(self.v, other.v), bound, axis)

    def floordiv(self, k: int) -> "Part":
        return Part(self.v // k, self.mx // k, self.axis)


ONE = Part.const(1)


def _exact_max(compute) -> int:
    """The max of a result whose bound passed int64: in float64 first; where that is near 2**63,
    in exact Python ints. Raises CountOverflow only when a value really does not fit."""
    approx = float(np.max(compute(np.float64)))
    if approx < 2.0**63 * (1 - 1e-9):
        return int(approx * (1 + 1e-12)) + 1  # an upper bound; the value fits int64
    exact = int(np.max(compute(object)))
    if exact > INT64_MAX:
        raise CountOverflow()
    return exact


class Count:
    """A count over the grid: a sum of terms, each an alpha part times a resolution part."""

    __slots__ = ("terms",)

    def __init__(self, terms: list):
        self.terms = terms  # [(Part over alpha or constant, Part over resolution or constant)]

    # -- building ------------------------------------------------------------------------------
    @staticmethod
    def of_alpha(v, mx: int) -> "Count":
        return Count([(Part(v, mx, "a"), ONE)])

    @staticmethod
    def of_resolution(part: Part) -> "Count":
        return Count([(ONE, part)])

    # -- arithmetic ---------------------------------------------------------------------------
    def __add__(self, other):
        if type(other) is int:
            if other == 0:
                return self
            other = Count([(Part.const(other), ONE)])
        terms = list(self.terms)
        for a2, r2 in other.terms:
            for i, (a1, r1) in enumerate(terms):
                if r1 is r2:  # the same resolution part: add the alpha parts
                    terms[i] = (a1.plus(a2), r1)
                    break
            else:
                terms.append((a2, r2))
        return Count(terms)

    __radd__ = __add__

    def __mul__(self, other):
        if type(other) is int:
            return Count([(a.scaled(other), r) for a, r in self.terms])
        out = Count([])
        for a1, r1 in self.terms:
            for a2, r2 in other.terms:
                out = out + Count([(a1.times(a2), _product(r1, r2))])
        return out

    __rmul__ = __mul__

    def __floordiv__(self, k: int):
        if len(self.terms) == 1:
            a, r = self.terms[0]
            if r is ONE or r.axis == "":
                return Count([(a.floordiv(k), r)])
            if a is ONE or a.axis == "":
                return Count([(a, r.floordiv(k))])
        dense = self.value()
        return Count([(Part(dense // k, int(np.max(dense)) // k, "ar"), ONE)])

    # -- reading ------------------------------------------------------------------------------
    def value(self):
        """The values over the grid (broadcasting: (A, 1), (1, R), (A, R) or (N,))."""
        total = 0
        for a, r in self.terms:
            total = total + (np.multiply(a.v, r.v) if a.axis and r.axis else a.v * r.v)
        return total

    def resolution_part(self) -> Part:
        """The resolution part of a spatial size (one term with a constant alpha part)."""
        (a, r), = self.terms
        assert a.axis == "" and a.v == 1, "a spatial size varies only with the resolution"
        return r


# -- resolution parts shared between layers ------------------------------------------------------
# Spatial sizes are computed once per (input part, geometry); a size that a layer keeps is the very
# same object, and products of parts are cached by the identity of their factors. So layers on the
# same feature map share resolution parts, and Totals groups them by identity.

_products: dict = {}
_sizes: dict = {}


def reset_caches() -> None:
    _products.clear()
    _sizes.clear()


def _product(r1: Part, r2: Part) -> Part:
    if r1 is ONE:
        return r2
    if r2 is ONE:
        return r1
    key = (id(r1), id(r2)) if id(r1) <= id(r2) else (id(r2), id(r1))
    hit = _products.get(key)
    if hit is None:
        hit = _products[key] = (r1.times(r2), r1, r2)  # the factors are kept: their ids stay theirs
    return hit[0]


def spatial(n, key: tuple, fn):
    """The output length of a window over input length `n` (an int or a resolution Count):
    `fn(values)` computes it elementwise; `key` names the geometry. The
    bound is the max of the values themselves: exact, whatever the depth of the network."""
    if type(n) is int:
        return fn(n)
    part = n.resolution_part()
    ck = (id(part),) + key
    hit = _sizes.get(ck)
    if hit is None:
        v = fn(part.v)
        if isinstance(v, np.ndarray) and np.array_equal(v, part.v):
            out = part  # the size is kept: share the part
        else:
            out = Part(v, int(np.max(v)), part.axis) if part.axis else Part.const(int(v))
        hit = _sizes[ck] = (out, part)
    return Count.of_resolution(hit[0])


# -- helpers the rules use, for an int or a Count ------------------------------------------------


def lowest(x) -> int:
    if type(x) is int:
        return x
    return int(np.min(x.value()))


def highest(x) -> int:
    if type(x) is int:
        return x
    return int(np.max(x.value()))


def first_not_divisible(x, g: int):
    """A value of `x` that `g` does not divide, or None."""
    if type(x) is int:
        return x if x % g else None
    v = np.asarray(x.value())
    rem = v % g
    if np.any(rem):
        return int(v.flat[int(np.argmax(rem != 0))])
    return None


def differ(x, y) -> bool:
    if type(x) is int and type(y) is int:
        return x != y
    if type(x) is not int and type(y) is not int and len(x.terms) == len(y.terms) == 1:
        (a1, r1), (a2, r2) = x.terms[0], y.terms[0]
        if a1 is a2 and r1 is r2:
            return False
    vx = x if type(x) is int else x.value()
    vy = y if type(y) is int else y.value()
    return bool(np.any(np.not_equal(vx, vy)))


class Totals:
    """The running sum of one quantity over the layers, grouped by resolution part (by identity):
    layers on the same feature map add their alpha parts; the grid is built once, at the end."""

    __slots__ = ("groups", "bound")

    def __init__(self):
        self.groups: dict = {}  # id(resolution part) -> (resolution part, summed alpha part)
        self.bound = 0  # an upper bound on every entry of the sum (exact per group)

    def add(self, v) -> None:
        if type(v) is int:
            if not v:
                return
            terms = ((Part.const(v), ONE),)
        else:
            terms = v.terms
        groups = self.groups
        for a, r in terms:
            g = groups.get(id(r))
            groups[id(r)] = (r, a) if g is None else (r, g[1].plus(a))
            self.bound += a.mx * r.mx
        if self.bound > INT64_MAX:
            self.bound = _exact_max(self._compute)

    def _compute(self, dtype):
        total = 0
        for r, a in self.groups.values():
            av = a.v if not a.axis else np.asarray(a.v, dtype=dtype)
            rv = r.v if not r.axis else np.asarray(r.v, dtype=dtype)
            total = total + av * rv
        return np.asarray(total, dtype=dtype)

    def value(self, shape: tuple) -> np.ndarray:
        """The sum over the grid, int64 of `shape` (no entry can overflow: the bound says so).

        On a grid, the sum of outer products is one matrix product (alpha x groups) @ (groups x
        resolution); below 2**53 every product and partial sum is an integer that float64 holds
        exactly, so BLAS computes it exactly."""
        if len(shape) == 2 and self.bound < 2**53:
            outer = [(a, r) for r, a in self.groups.values() if a.axis != "ar" and r.axis != "ar"]
            if len(outer) == len(self.groups):
                am = np.empty((shape[0], len(outer)))
                rm = np.empty((len(outer), shape[1]))
                for k, (a, r) in enumerate(outer):
                    am[:, k] = a.v.reshape(-1) if a.axis else a.v
                    rm[k, :] = r.v.reshape(-1) if r.axis else r.v
                return np.rint(am @ rm).astype(np.int64)
        total = np.zeros(shape, dtype=np.int64)
        const = 0
        for r, a in self.groups.values():
            if not a.axis and not r.axis:
                const += a.v * r.v
            elif not a.axis or not r.axis:
                np.add(total, a.v * r.v, out=total, casting="unsafe")
            else:
                np.add(total, np.multiply(a.v, r.v), out=total, casting="unsafe")
        if const:
            total += const
        return total
