"""The minimal NumPy programs costcalc is measured against (and checked by: their numbers must agree).

MobileNet v1 (Howard et al. 2017, Table 1), written out by hand with costcalc's stated conventions
(TF-slim width rounding max(int(c * alpha), 8), 'same' padding, BatchNorm + ReLU after every conv,
no conv biases, an unscaled 1000-way classifier with its bias as in TF-slim, memory access = inputs + outputs + weights)
and no costcalc code at all. Its totals over an alpha x resolution grid are grouped by feature-map
size: each count is (a function of alpha) x (the square of one of six feature-map sizes), so the
grid costs six outer products per quantity.

    python benchmarks/minimal.py csv OUT ALPHAS RESOLUTIONS   # the sweep CSV, as costcalc writes it
"""

from __future__ import annotations

import sys

import numpy as np

#: (output channels, stride) of the 13 depthwise-separable pairs
DWS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
QUANTITIES = ("params", "bn_params", "macs", "ops", "mem_access", "activations")


def width(base: int, alphas: np.ndarray) -> np.ndarray:
    return np.maximum(np.floor(base * alphas), 8).astype(np.int64)


def totals(alphas: np.ndarray, res: np.ndarray) -> dict:
    """The six totals over the grid alphas x res, int64 of shape (A, R)."""
    alphas = np.asarray(alphas, dtype=np.float64)
    res = np.asarray(res, dtype=np.int64)
    sizes = [res]  # feature-map side after each stride-2 layer: ceil(h / 2)
    for _ in range(5):
        sizes.append((sizes[-1] + 1) // 2)
    area = [s * s for s in sizes]  # (R,) per feature-map size
    a = alphas.size
    coef = {q: [np.zeros(a, dtype=np.int64) for _ in sizes] for q in QUANTITIES}  # q -> per size: (A,)
    const = {q: np.zeros(a, dtype=np.int64) for q in QUANTITIES}  # terms with no spatial extent

    def add(q, j, v):
        coef[q][j] += v

    def bn_relu(c, j):  # BatchNorm (2 params, 2 ops per element) and ReLU on c x size_j^2
        const["params"] += 2 * c
        const["bn_params"] += 2 * c
        const["mem_access"] += 2 * c
        add("ops", j, 3 * c)
        add("mem_access", j, 4 * c)
        add("activations", j, 2 * c)

    c = width(32, alphas)  # conv1: 3x3, stride 2, from 3 channels
    const["params"] += 27 * c
    const["mem_access"] += 27 * c
    add("macs", 1, 27 * c)
    add("mem_access", 0, np.full(a, 3))
    add("mem_access", 1, c)
    add("activations", 1, c)
    bn_relu(c, 1)
    j = 1
    for out, stride in DWS:
        jo = j + (stride == 2)
        const["params"] += 9 * c  # depthwise 3x3
        const["mem_access"] += 9 * c
        add("macs", jo, 9 * c)
        add("mem_access", j, c)
        add("mem_access", jo, c)
        add("activations", jo, c)
        bn_relu(c, jo)
        co = width(out, alphas)  # pointwise 1x1
        const["params"] += c * co
        const["mem_access"] += c * co
        add("macs", jo, c * co)
        add("mem_access", jo, c + co)
        add("activations", jo, co)
        bn_relu(co, jo)
        c, j = co, jo
    add("ops", j, c)  # global average pool, then the 1000-way classifier (1,000 biases) and softmax
    add("mem_access", j, c)
    const["mem_access"] += c + c + 1000 + c * 1000 + 1000 + 2000
    const["activations"] += c + 1000 + 1000
    const["params"] += c * 1000 + 1000
    const["macs"] += c * 1000
    const["ops"] += 1000 + 1000
    out = {}
    for q in QUANTITIES:
        total = np.repeat(const[q][:, None], res.size, axis=1)
        for k, ar in enumerate(area):
            total += np.outer(coef[q][k], ar)
        out[q] = total
    return out


def write_csv(path: str, alphas: np.ndarray, res: np.ndarray) -> None:
    """The sweep CSV (without published top-1: that column is left empty)."""
    t = totals(alphas, res)
    a = np.repeat(alphas, res.size).tolist()
    r = np.tile(res, alphas.size).tolist()
    p, bn, m, mem = (t[q].reshape(-1) for q in ("params", "bn_params", "macs", "mem_access"))
    w = (p - bn).tolist()
    flops = (m * 2).tolist()
    with open(path, "w") as fh:
        fh.write("alpha,resolution,params,weights,macs,flops,mem_access,top1\n")
        fh.write("".join(f"{ai!r},{ri},{pi},{wi},{mi},{fi},{me},\n"
                         for ai, ri, pi, wi, mi, fi, me in zip(a, r, p.tolist(), w, m.tolist(), flops, mem.tolist())))


if __name__ == "__main__":
    if sys.argv[1] == "csv":
        alphas = np.array([float(x) for x in sys.argv[3].split(",")])
        res = np.array([int(x) for x in sys.argv[4].split(",")])
        write_csv(sys.argv[2], alphas, res)
