"""Walk a spec's layers over a grid of (alpha, resolution) configurations.

Channels depend only on alpha and spatial sizes only on the resolution. One
configuration is evaluated in exact Python ints. A grid (every alpha x every
resolution) or a list of pairs is evaluated on factored counts
(:mod:`costcalc.counts`): each layer's figures stay sums of (alpha part) x
(resolution part), and the totals are summed by the feature-map size they
share, so no grid-sized array is built per layer. Per-layer figures over a
grid are built only when asked for (``per_layer``). The engine never prints.
"""

from __future__ import annotations

import gc
from typing import NamedTuple

import numpy as np

from .errors import SpecError
from .format import MAX_ALPHA, MAX_INT, MAX_PIXELS, MAX_RHO, check_field, kind_of
from . import counts, expr
from .ir import Deferred, Spec
from .counts import INT64_MAX, Count, CountOverflow, Part, Totals
from .rules import RULES, Shape, ShapeError
from .scaling import resolution_from_rho, scale_channels
from .spec import cross_check

#: the per-layer and total quantities the engine counts
QUANTITIES = ("params", "bn_params", "macs", "ops", "mem_access", "activations")


class LayerResult(NamedTuple):
    name: str
    type: str
    index: int
    c: np.ndarray  # output shape, broadcasting over the grid (Python ints for one configuration)
    h: np.ndarray
    w: np.ndarray
    values: dict  # quantity -> array broadcasting over the grid


class Result(NamedTuple):
    """Per-layer and total figures over a grid (or a list) of configurations."""

    spec: Spec
    alpha: np.ndarray  # as broadcast: (A, 1) for a grid, (N,) for pairs
    resolution: np.ndarray  # input height: (1, R) for a grid, (N,) for pairs
    width: np.ndarray  # input width
    shape: tuple  # the grid shape: (A, R) or (N,)
    totals: dict  # quantity -> array of `shape`
    layers: list = []  # LayerResult, when per_layer (never changed in place)
    batch: int = 1  # images per inference: MACs, other ops and activations scale with it, weights do not
    single: bool = False  # asked for one configuration (numbers, not lists): totals are Python ints

    def total(self, quantity: str):
        """A total: a Python int when one configuration was asked for (alpha and resolution given as
        numbers), else an int64 array of the grid's shape ((A, R), or (N,) for pairs)."""
        t = self.totals["params"] - self.totals["bn_params"] if quantity == "weights" else self.totals[quantity]
        return int(t.reshape(-1)[0]) if self.single else t

    def records(self) -> list[dict]:
        """Plain records (e.g. for pandas.DataFrame): one per layer for one configuration evaluated per
        layer, else one per configuration of the grid (alpha, resolution, width and the totals)."""
        names = QUANTITIES[:1] + ("weights",) + QUANTITIES[1:]
        if self.shape == (1, 1) and self.layers:
            return [{"name": lr.name, "type": lr.type, "channels": int(lr.c), "height": int(lr.h), "width": int(lr.w),
                     **{q: int(lr.values[q]) for q in QUANTITIES},
                     "weights": int(lr.values["params"]) - int(lr.values["bn_params"])} for lr in self.layers]
        cols = {"alpha": np.broadcast_to(self.alpha, self.shape).reshape(-1).tolist(),
                "resolution": np.broadcast_to(self.resolution, self.shape).reshape(-1).tolist(),
                "width": np.broadcast_to(self.width, self.shape).reshape(-1).tolist()}
        for q in names:
            cols[q] = np.broadcast_to(self.total(q), self.shape).reshape(-1).tolist()
        return [dict(zip(cols, row)) for row in zip(*cols.values())]

    def per_layer(self, quantity: str) -> np.ndarray:
        """(layers, *grid) array of one quantity."""
        if quantity == "weights":
            return self.per_layer("params") - self.per_layer("bn_params")
        return np.stack([np.broadcast_to(lr.values[quantity], self.shape) for lr in self.layers])


def _as_1d(values, what, hi) -> np.ndarray:
    """A non-empty list of finite numbers in (0, hi], for `what` (alpha, rho, resolution)."""
    try:
        arr = np.atleast_1d(np.asarray(values, dtype=np.float64))
    except (TypeError, ValueError):
        raise ValueError(f"{what}: expected a number or a list of numbers, got {kind_of(values)}") from None
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{what}: expected a non-empty list of numbers")
    bad = ~(np.isfinite(arr) & (arr > 0) & (arr <= hi))
    if np.any(bad):
        raise ValueError(f"{what}: expected numbers above 0 and at most {hi:g}, got {arr[bad][0]!r}")
    return arr


def input_sizes(spec: Spec, resolution=None, rho=None) -> np.ndarray:
    """Input heights: explicit pixels, or round(rho * base); default the base size."""
    base_h = spec.input_size[0]
    if resolution is not None and rho is not None:
        raise ValueError("give a resolution or a resolution multiplier, not both")
    if resolution is not None:
        res = _as_1d(resolution, "resolution", MAX_PIXELS)
        if np.any(res != np.floor(res)):
            raise ValueError("resolution: expected whole pixels")
        return res.astype(np.int64)
    if rho is not None:
        rhos = _as_1d(rho, "rho", MAX_RHO)
        res = resolution_from_rho(base_h, rhos)
        if np.any(res < 1) or np.any(res > MAX_PIXELS):
            k = int(np.argmax((res < 1) | (res > MAX_PIXELS)))
            raise ValueError(f"rho {rhos[k]:g}: an input of {base_h} x {rhos[k]:g} = {int(res[k])} pixels "
                             f"(expected 1 to {MAX_PIXELS:,})")
        return res
    return np.array([base_h], dtype=np.int64)


def evaluate(spec: Spec, alpha=1.0, resolution=None, rho=None, *, grid: bool = True, per_layer: bool = True,
             batch: int = 1) -> Result:
    """Evaluate `spec` for every alpha x every resolution (grid) or pairwise.

    `resolution` is the input height in pixels; `rho` a resolution multiplier
    on the spec's base size (give one or neither).  With ``grid=False`` the
    i-th alpha goes with the i-th resolution.  With ``per_layer=False`` only
    totals are kept, which bounds memory for very large grids.
    """
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_BATCH:
        raise ValueError(f"batch: expected a whole number from 1 to {MAX_BATCH:,}, got {batch!r}")
    if spec.width.rounding == "fixed":
        alphas = _as_1d(alpha, "alpha", MAX_ALPHA)
        if np.any(alphas != 1):
            bad = float(alphas[alphas != 1][0])
            hint = (f"use {spec.width.use}" if spec.width.use else
                    "to scale it, give the spec a width rule (an ONNX model: costcalc convert writes it as YAML first)")
            raise SpecError(spec.source, "", f"the widths of this network are fixed (width: {{rounding: fixed}}), so alpha must "
                            f"be 1, got {bad:g}; {hint}")
    enabled = gc.isenabled()
    gc.disable()  # the walk allocates many small objects and frees none: no cycles to collect
    try:
        if not grid and not per_layer:
            return _pairwise_in_blocks(spec, alpha, resolution, rho, batch)
        result = _evaluate(spec, alpha, resolution, rho, grid, per_layer, batch=batch)
        if np.ndim(alpha) == 0 and np.ndim(resolution if resolution is not None else rho if rho is not None else 0) == 0:
            result = result._replace(single=True)
        return result
    except SpecError as exc:
        raise _at_first_failure(spec, alpha, resolution, rho, grid, exc) from None
    finally:
        if enabled:
            gc.enable()


#: single configurations tried to find the one a failing evaluation of many fails at
MAX_LOCATE = 10_000


def _at_first_failure(spec: Spec, alpha, resolution, rho, grid: bool, exc: SpecError) -> SpecError:
    """The error of the first configuration that fails, with that configuration named (a grid's
    error would quote the largest values in the grid, not those of the configuration that fails).

    A shape error depends on alpha alone or on the resolution alone, so in a grid the first row
    finds it, or else the first column; pairs are tried in order. Counts grow with both, so an
    overflow is the largest configuration's. Past MAX_LOCATE configurations the error stays as it is."""
    try:
        alphas = _as_1d(alpha, "alpha", MAX_ALPHA)
        res = input_sizes(spec, resolution, rho)
    except ValueError:
        return exc
    if alphas.size == 1 and res.size == 1:
        return exc  # a single configuration's error names its own values already
    if grid:
        order = [(alphas[0], r) for r in res] + [(a, res[0]) for a in alphas[1:]]
    elif alphas.size == res.size:
        order = list(zip(alphas, res))
    else:
        order = [(a, r) for a in alphas for r in res]  # one of the two has a single value
    for a, r in order[:MAX_LOCATE]:
        try:
            _evaluate(spec, float(a), int(r), None, True, False)
        except SpecError as one:
            if " (at alpha " in one.detail:  # a key that names the configuration says where already
                return one
            return SpecError(one.source, one.where, f"at alpha {float(a):g}, input {int(r)} px: {one.detail}", one.line)
    return exc


def _pairwise_in_blocks(spec: Spec, alpha, resolution, rho, batch: int = 1) -> Result:
    """Pairs evaluated BLOCK at a time (every part of a pair is a vector as long as the block):
    the memory of a million pairs is the memory of their totals."""
    first = _evaluate(spec, alpha, resolution, rho, False, False, probe=True)
    n = first.shape[0]
    if n <= BLOCK:
        return _evaluate(spec, alpha, resolution, rho, False, False, batch=batch)
    a, h = first.alpha, first.resolution
    totals = {q: np.empty(n, dtype=np.int64) for q in QUANTITIES}
    for i in range(0, n, BLOCK):
        part = _evaluate(spec, a[i:i + BLOCK], h[i:i + BLOCK], None, False, False, batch=batch)
        for q in QUANTITIES:
            totals[q][i:i + BLOCK] = part.totals[q]
    return Result(spec, a, h, first.width, (n,), totals, [], batch)


def _split_groups(spec: Spec, alphas, res, grid: bool):
    """Where a key other than `out` varies with alpha, or a key varies with the resolution
    (Spec.split), the groups of configurations evaluated together: (alpha indices, resolution
    indices) per group of a grid, index arrays for pairs; None if one evaluation serves."""
    by_a = "a" in spec.split and np.unique(alphas).size > 1
    by_r = "r" in spec.split and np.unique(res).size > 1
    if not (by_a or by_r):
        return None
    if grid:
        ag = [[i] for i in range(alphas.size)] if by_a else [list(range(alphas.size))]
        rg = [[j] for j in range(res.size)] if by_r else [list(range(res.size))]
        return [(i, j) for i in ag for j in rg]
    keys = np.stack([alphas if by_a else np.zeros(alphas.size), res if by_r else np.zeros(res.size)], axis=1)
    _, inverse = np.unique(keys, axis=0, return_inverse=True)
    return [np.flatnonzero(inverse.reshape(-1) == g) for g in range(int(inverse.max()) + 1)]


def _evaluate_split(spec: Spec, a, h, w, shape, groups, grid: bool, per_layer: bool, batch: int) -> Result:
    """Each group evaluated on its own (vectorised within it), the figures put back in place."""
    alphas, res = np.reshape(a, -1), np.reshape(h, -1)
    totals = {q: np.empty(shape, dtype=np.int64) for q in QUANTITIES}
    layers: list = []
    for g in groups:
        if grid:
            place = np.ix_(g[0], g[1])
            part = _evaluate(spec, alphas[g[0]], res[g[1]], None, True, per_layer, batch=batch)
        else:
            place = g
            part = _evaluate(spec, alphas[g], res[g], None, False, per_layer, batch=batch)
        for q in QUANTITIES:
            totals[q][place] = np.broadcast_to(part.totals[q], part.shape)
        for k, lr in enumerate(part.layers):
            if len(layers) <= k:
                layers.append(LayerResult(lr.name, lr.type, lr.index, *(np.zeros(shape, np.int64) for _ in range(3)),
                                          {q: np.zeros(shape, np.int64) for q in QUANTITIES}))
            full = layers[k]
            for mine, theirs in ((full.c, lr.c), (full.h, lr.h), (full.w, lr.w)):
                mine[place] = np.broadcast_to(theirs, part.shape)
            for q in QUANTITIES:
                full.values[q][place] = np.broadcast_to(lr.values[q], part.shape)
    return Result(spec, a, h, w, shape, totals, layers, batch)


#: the largest batch (images per inference)
MAX_BATCH = 1 << 20

#: configurations evaluated at once by evaluate_blocks (bounds the memory of any grid)
BLOCK = 1 << 16


def check_grid(spec: Spec, alphas: np.ndarray, res: np.ndarray, batch: int = 1) -> None:
    """Raise the error the grid alphas x res would raise, at the cost of A + R + 1 configurations.

    A shape error depends on the channels (alpha alone: divisibility, mismatched adds) or on the
    spatial sizes (the resolution alone), so the failing configurations are (bad alphas x every
    resolution) and (every alpha x bad resolutions): one row and one column of the grid find them.
    Counts grow with alpha and with the resolution, so the largest configuration is where a count
    would overflow. A streamed sweep checks this before it writes anything."""
    evaluate(spec, alpha=alphas, resolution=res[:1], per_layer=False, batch=batch)
    evaluate(spec, alpha=alphas[:1], resolution=res, per_layer=False, batch=batch)
    evaluate(spec, alpha=float(alphas.max()), resolution=int(res.max()), per_layer=False, batch=batch)


def evaluate_blocks(spec: Spec, alpha=1.0, resolution=None, rho=None, block: int = BLOCK, batch: int = 1):
    """The grid alpha x resolution as successive totals-only Results of at most `block`
    configurations, alpha-major (the order of one `evaluate`): memory stays bounded for any grid."""
    alphas = _as_1d(alpha, "alpha", MAX_ALPHA)
    res = input_sizes(spec, resolution, rho)
    check_grid(spec, alphas, res, batch)  # now, before the caller writes anything
    return _blocks(spec, alphas, res, block, batch)


def _blocks(spec: Spec, alphas: np.ndarray, res: np.ndarray, block: int, batch: int):
    if res.size >= block:
        for a in alphas:
            for j in range(0, res.size, block):
                yield evaluate(spec, alpha=a, resolution=res[j:j + block], per_layer=False, batch=batch)
        return
    step = max(1, block // res.size)
    for i in range(0, alphas.size, step):
        yield evaluate(spec, alpha=alphas[i:i + step], resolution=res, per_layer=False, batch=batch)


def _cost(layer, ins, out_c, batch: int = 1):
    """(output shape, params, bn_params, macs, ops, mem_access, activations) of one layer: its
    rule, and memory access from its definition (inputs + output + weights). With a batch of N
    images, MACs, other ops and activations are N times one image's; the weights are read once."""
    cost = RULES[layer.type](layer, ins, out_c)
    out = cost.shape
    macs, ops = cost.macs, cost.ops
    if cost.moves_data and not layer.fused:
        activations = out.elements
        reads = cost.reads
        if reads is None:
            reads = ins[0].elements
            for x in ins[1:]:
                reads = reads + x.elements
        if batch != 1:
            reads, activations = reads * batch, activations * batch
        mem = reads + activations + cost.params
    else:
        activations = mem = 0
    if batch != 1:
        macs, ops = macs * batch, ops * batch
    return out, cost.params, cost.bn_params, macs, ops, mem, activations


def _out_channels(layer, spec: Spec, a, cache: dict, count):
    """The scaled `out` channels of a layer (None if it has none), as `count` makes them from the
    channels at each alpha; each (base, scale policy) is scaled once per walk."""
    base = layer.attrs.get("out")
    if base is None:
        return None
    key = (base, layer.scale)
    hit = cache.get(key)
    if hit is None:
        hit = cache[key] = count(scale_channels(base, a, spec.width, layer.scale))
    return hit


def _layer_channels(spec: Spec, layer, ins, config, a, width: dict, one: bool, nodes, inp):
    """(the layer with any keys that name the configuration evaluated, its output channels): as
    Python ints for one configuration (`one`), else as counts over the grid."""
    if layer.deferred:
        layer, out_c = _configured(spec, layer, ins, config, _one_channel if one else _grid_channels, nodes, inp)
        if out_c is not None:
            return layer, out_c
    return layer, _out_channels(layer, spec, a, width, _one_channel_count if one else _channel_count)


def _one_channel_count(chans) -> int:
    return int(chans.reshape(-1)[0])


def _channel_count(chans) -> Count:
    return Count.of_alpha(chans, int(chans.max()))


def _located(spec: Spec, layer, exc) -> SpecError:
    message = str(exc) if isinstance(exc, ShapeError) else "a count overflows 64-bit integers"
    return SpecError(spec.source, f"{layer.where} ({layer.name})", message, layer.line)


def _walk_one(spec: Spec, inp: Shape, a, per_layer: bool, batch: int = 1, concrete: list | None = None):
    """One configuration in exact Python ints; every running total checked against int64. Layers
    whose keys name the configuration are evaluated here; `concrete` collects every layer as evaluated."""
    nodes: list = []
    results: list = []
    width: dict = {}
    p = bn = m = o = mem_t = act_t = 0
    layer = None
    config = (float(a.reshape(-1)[0]), inp.h)
    # a layer's cost is a function of its type, keys and input shapes alone: layers that share their
    # keys (a spec's identical items share one checked dict) and their input shapes are costed once
    memo: dict = {}
    try:
        for index, layer in enumerate(spec.layers):
            ins = [inp if i < 0 else nodes[i] for i in layer.inputs]
            if layer.deferred:
                key = None
                layer, out_c = _layer_channels(spec, layer, ins, config, a, width, True, nodes, inp)
            else:
                out_c = _out_channels(layer, spec, a, width, _one_channel_count)
                key = (id(layer.attrs), layer.type, layer.fused, out_c, *[(x.c, x.h, x.w) for x in ins])
            if concrete is not None:
                concrete.append(layer)
            cost = memo.get(key) if key is not None else None
            if cost is None:
                cost = _cost(layer, ins, out_c, batch)
                if key is not None:
                    memo[key] = cost
            out, lp, lbn, lm, lo, lmem, lact = cost
            p += lp
            bn += lbn
            m += lm
            o += lo
            mem_t += lmem
            act_t += lact
            if mem_t > INT64_MAX or m > INT64_MAX or o > INT64_MAX or p > INT64_MAX:
                raise CountOverflow()
            nodes.append(out)
            if per_layer:
                results.append(LayerResult(layer.name, layer.type, index, out.c, out.h, out.w,
                                           {"params": lp, "bn_params": lbn, "macs": lm, "ops": lo,
                                            "mem_access": lmem, "activations": lact}))
    except (ShapeError, CountOverflow, OverflowError) as exc:
        raise _located(spec, layer, exc) from None
    return (p, bn, m, o, mem_t, act_t), results


def _walk_grid(spec: Spec, inp: Shape, a, h, per_layer: bool, batch: int = 1):
    """A grid or pairs, on factored counts summed by shared resolution parts (costcalc.counts)."""
    nodes: list = []
    results: list = []
    width: dict = {}
    sums = [Totals() for _ in QUANTITIES]
    layer = None
    config = (a, h)
    try:
        for index, layer in enumerate(spec.layers):
            ins = [inp if i < 0 else nodes[i] for i in layer.inputs]
            layer, out_c = _layer_channels(spec, layer, ins, config, a, width, False, nodes, inp)
            out, *values = _cost(layer, ins, out_c, batch)
            for total, v in zip(sums, values):
                total.add(v)
            nodes.append(out)
            if per_layer:
                results.append(LayerResult(layer.name, layer.type, index, _grid(out.c), _grid(out.h), _grid(out.w),
                                           {q: _grid(v) for q, v in zip(QUANTITIES, values)}))
    except (ShapeError, CountOverflow, OverflowError) as exc:
        raise _located(spec, layer, exc) from None
    return sums, results


def _grid(v):
    """A per-layer figure as values over the grid (an int where it is one number)."""
    return v if type(v) is int else v.value()


def _one_channel(v, a) -> int:
    return int(v)


def _grid_channels(v, a) -> Count:
    """Channels evaluated over the grid's alphas as a count (each alpha's own value)."""
    v = np.broadcast_to(np.asarray(v, dtype=np.int64), np.shape(a))
    return Count.of_alpha(v, int(v.max()))


def _configured(spec: Spec, layer, ins, config, channels, nodes, inp):
    """`layer` with the keys that name the configuration evaluated (expr.CONFIG_NAMES: the input's
    scaled channels, height and width, the channels entering the block instance around it, alpha,
    the resolution), checked as at load time, and its
    output channels if `out` was one of them (else None). Over a grid every value is a vector; a key
    other than `out` is the same across the configurations evaluated at once (Spec.split)."""
    x = ins[0] if ins else None
    alpha, resolution = config
    names = {"alpha": expr.uniform(alpha), "resolution": expr.uniform(resolution)}
    if x is not None:
        names.update(in_channels=expr.uniform(_grid(x.c)), in_height=expr.uniform(_grid(x.h)), in_width=expr.uniform(_grid(x.w)))
    attrs = dict(layer.attrs)
    out_c = None
    for key in layer.deferred:
        d: Deferred = attrs[key]
        where = f"{layer.where}.{key}"
        if d.block_input != names.get("_block_input"):
            names["_block_input"] = d.block_input
            names["block_in_channels"] = expr.uniform(_grid((inp if d.block_input < 0 else nodes[d.block_input]).c))
        try:
            value = expr.evaluate(d.text, expr.Scope(names, d.scope))
        except expr.ExprError as exc:
            raise SpecError(spec.source, where, f"{exc}{_at(names)}", layer.line) from None
        if key == "out" and isinstance(value, np.ndarray):
            if value.dtype.kind == "f" and np.any(value != np.floor(value)) or np.any(value < 1) or np.any(value >= MAX_INT):
                bad = value.reshape(-1)[np.argmax((value != np.floor(value)) | (value < 1) | (value >= MAX_INT))]
                raise SpecError(spec.source, where, f"expected a positive integer, got {bad.item()!r}{_at(names)}", layer.line)
            out_c = channels(value, alpha)
            attrs[key] = out_c
            continue
        if isinstance(value, np.ndarray):  # cannot happen: such a key is evaluated one configuration at a time
            raise SpecError(spec.source, where, f"{d.text!r} differs between the configurations evaluated together", layer.line)
        try:
            attrs[key] = check_field(value, d.kind, spec.source, where, layer.line)
        except SpecError as exc:
            raise SpecError(spec.source, where, f"{exc.detail}{_at(names)}", layer.line) from None
        if key == "out":
            out_c = channels(attrs[key], alpha)
    bad = cross_check(layer.type, attrs)
    if bad:
        raise SpecError(spec.source, f"{layer.where}.{bad[0]}", f"{bad[1]}{_at(names)}", layer.line)
    return layer._replace(attrs=attrs, deferred=()), out_c


def _at(names: dict) -> str:
    """' (in_channels 72, alpha 0.75)': the values an error was evaluated at, where they are single."""
    shown = [f"{k} {v:g}" for k, v in names.items() if not isinstance(v, np.ndarray) and not k.startswith("_")]
    return f" (at {', '.join(shown)})" if shown else ""


def _evaluate(spec: Spec, alpha, resolution, rho, grid: bool, per_layer: bool, probe: bool = False,
              batch: int = 1) -> Result:
    """The walk. With `probe`, only the configurations are worked out (nothing is evaluated)."""
    alphas = _as_1d(alpha, "alpha", MAX_ALPHA)
    res = input_sizes(spec, resolution, rho)
    base_h, base_w = spec.input_size
    if grid:
        a = alphas[:, None]
        h = res[None, :]
        shape = (alphas.size, res.size)
    else:
        if alphas.size != res.size:
            if alphas.size == 1:
                alphas = np.repeat(alphas, res.size)
            elif res.size == 1:
                res = np.repeat(res, alphas.size)
            else:
                raise ValueError("pairwise evaluation needs as many alphas as resolutions")
        a, h = alphas, res
        shape = (alphas.size,)
    w = h if base_h == base_w else np.maximum(np.rint(h * (base_w / base_h)), 1).astype(np.int64)
    if probe:
        return Result(spec, a, h, w, shape, {}, [])

    if spec.split and (alphas.size > 1 or res.size > 1):
        split = _split_groups(spec, alphas, res, grid)
        if split is not None:
            return _evaluate_split(spec, a, h, w, shape, split, grid, per_layer, batch)

    # One configuration: Python ints all the way (exact and fast); a grid: factored counts (costcalc.counts)
    if alphas.size == 1 and res.size == 1:
        inp = Shape(spec.input_channels, int(h.reshape(-1)[0]), int(w.reshape(-1)[0]))
        concrete = [] if spec.deferred else None
        sums, results = _walk_one(spec, inp, a, per_layer, batch, concrete)
        totals = {q: np.full(shape, v, dtype=np.int64) for q, v in zip(QUANTITIES, sums)}
        if concrete is not None:  # the network as this configuration builds it: every key a value
            spec = spec._replace(layers=tuple(concrete), deferred=False, split=frozenset())
    else:
        counts.reset_caches()
        try:
            hp = Part(h, int(h.max()), "r")
            inp = Shape(spec.input_channels, Count.of_resolution(hp),
                        Count.of_resolution(hp if w is h else Part(w, int(w.max()), "r")))
            sums, results = _walk_grid(spec, inp, a, h, per_layer, batch)
            totals = {q: t.value(shape) for q, t in zip(QUANTITIES, sums)}
        finally:
            counts.reset_caches()
    return Result(spec, a, h, w, shape, totals, results, batch)
