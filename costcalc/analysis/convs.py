"""Group convolution (ShuffleNet Sec. 3.2), low-rank fully-connected layers, and factorised kernels.

- A g-group convolution costs 1/g of the ungrouped one. For a c-channel input and m bottleneck
  channels on h x w, a ResNet bottleneck costs hw(2cm + 9m^2) mult-adds, a ResNeXt one
  hw(2cm + 9m^2/g), a ShuffleNet unit hw(2cm/g + 9m) (ShuffleNet Sec. 3.2).
- An N -> M fully-connected layer costs NM; through a K-wide linear bottleneck, K(N + M): it breaks
  even at K = NM / (N + M).
- A K x K kernel factorised into K x 1 and 1 x K (SqueezeNext) costs 2K instead of K^2 per channel pair.
"""

from __future__ import annotations

from .common import AnalysisError, is_depthwise, positive, rows_of


# -- group convolution --------------------------------------------------------------------


def group_single(c: int, n: int, g: int, h: int, w: int | None = None, kernel: int = 1) -> dict:
    for value, what in ((c, "--in"), (n, "--out"), (g, "--groups"), (h, "--size"), (kernel, "--kernel")):
        positive(value, what)
    w = h if w is None else positive(w, "--size")
    if c % g or n % g:
        raise AnalysisError(f"--groups {g}: channels {c} -> {n} are not divisible by {g}")
    k2 = kernel * kernel
    return {
        "in": c, "out": n, "groups": g, "kernel": kernel, "size": [h, w],
        "params": k2 * c * n // g, "ungrouped_params": k2 * c * n,
        "macs": h * w * k2 * c * n // g, "ungrouped_macs": h * w * k2 * c * n,
        # ShuffleNet v2 Eq. 2 (1x1): memory access hw(c1 + c2) + c1*c2/g
        "mem_access": h * w * (c + n) + k2 * c * n // g, "ungrouped_mem_access": h * w * (c + n) + k2 * c * n,
        "saving": g,
    }


def unit_costs(c: int, m: int, g: int, h: int, w: int | None = None) -> list[dict]:
    for value, what in ((c, "--c"), (m, "--m"), (g, "--groups"), (h, "--size")):
        positive(value, what)
    w = h if w is None else positive(w, "--size")
    if c % g or m % g:
        raise AnalysisError(f"--groups {g}: c = {c} and m = {m} must both divide by {g}")
    hw = h * w
    return [
        {"unit": "ResNet bottleneck", "formula": "hw(2cm + 9m^2)", "macs": hw * (2 * c * m + 9 * m * m)},
        {"unit": "ResNeXt", "formula": "hw(2cm + 9m^2/g)", "macs": hw * (2 * c * m + 9 * m * m // g)},
        {"unit": "ShuffleNet unit", "formula": "hw(2cm/g + 9m)", "macs": hw * (2 * c * m // g + 9 * m)},
    ]


def grouped_layers(res) -> list[dict]:
    out = []
    for r in rows_of(res):
        if r.layer.type != "conv" or r.layer.attrs["groups"] == 1 or is_depthwise(r):
            continue
        g = r.layer.attrs["groups"]
        kh, kw = r.kernel
        out.append({"name": r.layer.name, "in": r.c_in, "out": r.c, "groups": g, "kernel": [kh, kw],
                    "output": [r.h, r.w], "macs": r.macs, "ungrouped_macs": r.macs * g,
                    "weights": r.weights, "ungrouped_weights": kh * kw * r.c_in * r.c + (r.weights - kh * kw * r.c_in * r.c // g)})
    return out


# -- low rank -------------------------------------------------------------------------------


def lowrank_single(n: int, m: int, k: int | None = None) -> dict:
    positive(n, "--in")
    positive(m, "--out")
    if k is not None:
        positive(k, "--rank")
    full = n * m
    out = {"in": n, "out": m, "weights": full, "break_even_rank": full // (n + m)}
    if k is not None:
        out.update({"rank": k, "lowrank_weights": k * (n + m), "saving": full / (k * (n + m))})
    return out


def fc_layers(res, k: int | None = None) -> list[dict]:
    out = []
    for r in rows_of(res):
        if r.layer.type == "linear":
            n = r.c_in * r.h_in * r.w_in
            out.append({"name": r.layer.name, **lowrank_single(n, r.c, k)})
    return out


# -- factorised kernels ------------------------------------------------------------------------


def factorised(res) -> list[dict]:
    """Every K x K (K > 1) dense conv against K x 1 (in -> out) followed by 1 x K (out -> out)."""
    out = []
    for r in rows_of(res):
        kh, kw = r.kernel
        if r.layer.type != "conv" or kh != kw or kh == 1 or r.layer.attrs["groups"] != 1:
            continue
        k = kh
        hw = r.h * r.w
        std = hw * k * k * r.c_in * r.c
        fac = hw * k * (r.c_in * r.c + r.c * r.c)
        out.append({"name": r.layer.name, "in": r.c_in, "out": r.c, "kernel": k, "output": [r.h, r.w],
                    "macs": std, "factorised_macs": fac, "ratio": fac / std, "per_pair": f"{2 * k} vs {k * k}"})
    return out
