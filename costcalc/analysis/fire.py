"""Fire modules (SqueezeNet Sec. 3 and 5): squeeze, expand, and the metaparameters that generate them.

A Fire module is found structurally: a concat of a 1x1 and a 3x3 convolution that both read the same
1x1 (squeeze) convolution.  Each is compared with a plain 3x3 convolution with the same input and
output channels.
"""

from __future__ import annotations

import math

from .common import AnalysisError, as_standard, common_prefix, positive, prev_compute, rows_of


def modules(res) -> list[dict]:
    spec = res.spec
    rs = rows_of(res)
    out = []
    for r in rs:
        if r.layer.type != "concat" or len(r.layer.inputs) != 2:
            continue
        ends = []
        for j in r.layer.inputs:
            while j >= 0 and spec.layers[j].type in ("relu", "bn", "relu6", "identity"):
                j = spec.layers[j].inputs[0]
            ends.append(j)
        if min(ends) < 0 or any(rs[j].layer.type != "conv" or rs[j].layer.attrs["groups"] != 1 for j in ends):
            continue
        by_k = {rs[j].kernel: rs[j] for j in ends}
        e1, e3 = by_k.get((1, 1)), by_k.get((3, 3))
        if e1 is None or e3 is None:
            continue
        s1, s3 = prev_compute(spec, e1.index), prev_compute(spec, e3.index)
        if s1 is None or s1 != s3 or rs[s1].layer.type != "conv" or rs[s1].kernel != (1, 1):
            continue
        s = rs[s1]
        c_in, c_out = s.c_in, e1.c + e3.c
        bias = e3.layer.attrs["bias"]
        plain_params = 9 * c_in * c_out + (c_out if bias else 0)
        plain_macs = r.h * r.w * 9 * c_in * c_out
        params = s.weights + e1.weights + e3.weights
        macs = s.macs + e1.macs + e3.macs
        out.append({
            "name": common_prefix(s.layer.name, e1.layer.name, e3.layer.name), "in": c_in,
            "s1x1": s.c, "e1x1": e1.c, "e3x3": e3.c, "output": [r.h, r.w],
            "sr": s.c / c_out, "pct3x3": e3.c / c_out,
            "params": params, "plain_params": plain_params, "macs": macs, "plain_macs": plain_macs,
            "params_ratio": params / plain_params, "macs_ratio": macs / plain_macs,
        })
    return out


def network(res) -> dict:
    """Network totals as they are and with every Fire module made a plain 3x3 conv."""
    return as_standard(res, modules(res), "macs", "plain_macs", "params", "plain_params")


def design(base_e: int, incr_e: int, freq: int, sr: float, pct3x3: float, n: int = 8, c_in: int = 96,
           first: int = 2) -> list[dict]:
    """The Fire stack of SqueezeNet Sec. 5.1: e_i = base_e + incr_e * floor(i / freq), s_i = SR * e_i,
    e_i,3x3 = pct3x3 * e_i; parameters with biases (they do not depend on the image size)."""
    for value, what in ((base_e, "--base-e"), (freq, "--freq"), (sr, "--sr"), (n, "--modules"), (c_in, "--in")):
        positive(value, what)
    if incr_e < 0:
        raise AnalysisError(f"--incr-e: expected a non-negative number, got {incr_e}")
    if not 0 <= pct3x3 <= 1:
        raise AnalysisError(f"--pct3x3: expected a fraction from 0 to 1, got {pct3x3}")
    if n > 10_000:
        raise AnalysisError(f"--modules: {n} is more than 10,000")
    out = []
    for i in range(n):
        e = base_e + incr_e * math.floor(i / freq)
        e3 = round(pct3x3 * e)
        e1 = e - e3
        s = round(sr * e)
        if s < 1:
            raise AnalysisError(f"--sr: fire{first + i} would have {s} squeeze filters (SR x e = {sr * e:g})")
        params = s * (c_in + 1) + e1 * (s + 1) * (e1 > 0) + e3 * (9 * s + 1) * (e3 > 0)
        out.append({"name": f"fire{first + i}", "in": c_in, "s1x1": s, "e1x1": e1, "e3x3": e3, "params": params})
        c_in = e
    return out
