"""Depthwise-separable convolution against the standard convolution it replaces (MobileNet Sec. 3.1).

A standard K x K convolution from C to N channels on an H x W output costs K*K*C*N*H*W mult-adds; the
depthwise-separable pair costs K*K*C*H*W + C*N*H*W, a ratio of 1/N + 1/K^2 (MobileNet Eq. 5).
"""

from __future__ import annotations

from ..quantities import register
from .common import as_standard, ceil_div, common_prefix, consumers, is_pointwise, next_compute, positive, rows_of


def single(c: int, n: int, k: int, h: int, w: int | None = None, stride: int = 1, bias: bool = False) -> dict:
    """One layer: standard vs depthwise-separable, on an H x W input with 'same' padding."""
    for value, what in ((c, "--in"), (n, "--out"), (k, "--kernel"), (h, "--size"), (stride, "--stride")):
        positive(value, what)
    w = h if w is None else positive(w, "--size")
    ho, wo = ceil_div(h, stride), ceil_div(w, stride)
    std_params = k * k * c * n + (n if bias else 0)
    dws_params = k * k * c + c * n + ((c + n) if bias else 0)
    std_macs = ho * wo * k * k * c * n
    dws_macs = ho * wo * (k * k * c + c * n)
    return {
        "in": c, "out": n, "kernel": k, "output": [ho, wo],
        "standard_params": std_params, "dws_params": dws_params,
        "standard_macs": std_macs, "dws_macs": dws_macs,
        "macs_ratio": dws_macs / std_macs, "params_ratio": dws_params / std_params,
        "closed_form": 1 / n + 1 / (k * k),
    }


def pairs(res) -> list[dict]:
    """Every depthwise conv followed (through BN/activations) by a 1x1 conv, with its standard equivalent."""
    spec = res.spec
    rs = rows_of(res)
    users = consumers(spec)
    out = []
    for r in rs:
        if r.layer.type != "dwconv" or r.layer.attrs["multiplier"] != 1:
            continue
        j = next_compute(spec, users, r.index)
        if j is None or not is_pointwise(rs[j]):
            continue
        p = rs[j]
        kh, kw = r.kernel
        c, n = r.c_in, p.c
        std_macs = r.h * r.w * kh * kw * c * n
        std_weights = kh * kw * c * n
        out.append({
            "name": common_prefix(r.layer.name, p.layer.name), "in": c, "out": n, "kernel": [kh, kw],
            "output": [r.h, r.w], "dws_macs": r.macs + p.macs, "standard_macs": std_macs,
            "dws_weights": r.weights + p.weights, "standard_weights": std_weights,
            "macs_ratio": (r.macs + p.macs) / std_macs, "closed_form": 1 / n + 1 / (kh * kw),
        })
    return out


def network(res) -> dict:
    """Network totals as they are and with every depthwise-separable pair made a standard conv."""
    return as_standard(res, pairs(res), "dws_macs", "standard_macs", "dws_weights", "standard_weights")


def layer_type(row) -> str | None:
    """MobileNet Table 2's categories: Conv 1x1, Conv DW KxK, Conv KxK, Fully Connected."""
    t = row.layer.type
    if t == "linear":
        return "Fully Connected"
    if t == "dwconv" or (t == "conv" and row.layer.attrs["groups"] == row.c_in > 1):
        return "Conv DW {}x{}".format(*row.kernel)
    if t == "conv":
        return "Conv {}x{}".format(*row.kernel) + (" (grouped)" if row.layer.attrs["groups"] > 1 else "")
    return None


def type_shares(res) -> list[dict]:
    """Share of mult-adds and of weights per layer type (MobileNet Table 2)."""
    rs = rows_of(res)
    macs = sum(r.macs for r in rs) or 1
    weights = sum(r.weights for r in rs if layer_type(r)) or 1
    out: dict[str, dict] = {}
    for r in rs:
        kind = layer_type(r)
        if kind is None:
            continue
        entry = out.setdefault(kind, {"type": kind, "layers": 0, "macs": 0, "weights": 0})
        entry["layers"] += 1
        entry["macs"] += r.macs
        entry["weights"] += r.weights
    for entry in out.values():
        entry["macs_pct"] = 100 * entry["macs"] / macs
        entry["weights_pct"] = 100 * entry["weights"] / weights
    return sorted(out.values(), key=lambda e: -e["macs"])


@register("dws_standard_macs")
def _standard_macs(res, options) -> float:
    return network(res)["standard_macs"]


@register("dws_standard_weights")
def _standard_weights(res, options) -> float:
    return network(res)["standard_weights"]


@register("type_macs_pct")
def _type_macs_pct(res, options) -> float:
    return next((e["macs_pct"] for e in type_shares(res) if e["type"] == options.get("type")), 0.0)


@register("type_weights_pct")
def _type_weights_pct(res, options) -> float:
    return next((e["weights_pct"] for e in type_shares(res) if e["type"] == options.get("type")), 0.0)
