"""What every analysis needs: one configuration's per-layer figures and the graph around a layer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..engine import Result, evaluate
from ..errors import CostcalcError
from ..ir import ACTIVATIONS, Layer, Spec

#: layers that only transform values element-wise (they do not change what a conv "sees")
ELEMENTWISE = ("bn", "identity", "dropout") + ACTIVATIONS
#: operations ShuffleNet v2's guideline G4 calls element-wise (plus data movement)
G4_TYPES = ("bn", "add", "concat", "split", "shuffle") + ACTIVATIONS


class AnalysisError(CostcalcError):
    """Impossible input to an analysis (one line, exit status 2)."""


@dataclass
class Row:
    """One layer of a one-configuration result, as plain integers."""

    index: int
    layer: Layer
    c: int
    h: int
    w: int
    c_in: int
    h_in: int
    w_in: int
    params: int
    bn_params: int
    macs: int
    mem_access: int

    @property
    def weights(self) -> int:
        return self.params - self.bn_params

    @property
    def kernel(self) -> tuple[int, int]:
        return self.layer.attrs.get("kernel") or (1, 1)


def _one(arr) -> int:
    """The value of a one-configuration figure (already a Python int when evaluated exactly)."""
    return arr if type(arr) is int else int(np.reshape(arr, -1)[0])


def rows(spec: Spec, alpha=1.0, resolution=None, rho=None) -> tuple[Result, list[Row]]:
    res = evaluate(spec, alpha=alpha, resolution=resolution, rho=rho)
    return res, rows_of(res)


def rows_of(res: Result) -> list[Row]:
    spec = res.spec
    out: list[Row] = []
    for lr, layer in zip(res.layers, spec.layers):
        first = layer.inputs[0]
        if first < 0:
            c_in, h_in, w_in = spec.input_channels, _one(res.resolution), _one(res.width)
        else:
            c_in, h_in, w_in = out[first].c, out[first].h, out[first].w
        v = lr.values
        out.append(Row(lr.index, layer, _one(lr.c), _one(lr.h), _one(lr.w), c_in, h_in, w_in,
                       _one(v["params"]), _one(v["bn_params"]), _one(v["macs"]), _one(v["mem_access"])))
    return out


def consumers(spec: Spec) -> list[list[int]]:
    users: list[list[int]] = [[] for _ in spec.layers]
    for i, layer in enumerate(spec.layers):
        for j in layer.inputs:
            if j >= 0:
                users[j].append(i)
    return users


def next_compute(spec: Spec, users: list[list[int]], i: int) -> int | None:
    """The layer that consumes i's output, skipping element-wise layers, if the path does not branch."""
    while True:
        nxt = users[i]
        if len(nxt) != 1:
            return None
        i = nxt[0]
        if spec.layers[i].type not in ELEMENTWISE:
            return i


def prev_compute(spec: Spec, i: int) -> int | None:
    """The layer feeding i's (single) input, skipping element-wise layers; None at the network input."""
    j = spec.layers[i].inputs[0]
    while j >= 0 and spec.layers[j].type in ELEMENTWISE:
        j = spec.layers[j].inputs[0]
    return j if j >= 0 else None


def is_pointwise(row: Row) -> bool:
    return row.layer.type == "conv" and row.kernel == (1, 1) and row.layer.attrs["groups"] == 1


def is_depthwise(row: Row) -> bool:
    return row.layer.type == "dwconv" or (row.layer.type == "conv" and row.layer.attrs["groups"] == row.c_in > 1)


def common_prefix(*names: str) -> str:
    parts = [n.split("/") for n in names]
    out = []
    for group in zip(*parts):
        if len(set(group)) != 1:
            break
        out.append(group[0])
    return "/".join(out) or names[0]


def positive(value, what: str):
    if value is None or value <= 0:
        raise AnalysisError(f"{what}: expected a positive number, got {value}")
    return value


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def as_standard(res, items: list[dict], macs_key: str, std_macs_key: str, weights_key: str, std_weights_key: str) -> dict:
    """Network totals as specified, and with each item (a structure found by an analysis) replaced by
    the standard convolution it stands for."""
    macs = int(np.reshape(res.total("macs"), -1)[0])
    weights = int(np.reshape(res.total("weights"), -1)[0])
    std_macs = macs - sum(i[macs_key] for i in items) + sum(i[std_macs_key] for i in items)
    std_weights = weights - sum(i[weights_key] for i in items) + sum(i[std_weights_key] for i in items)
    return {"count": len(items), "macs": macs, "weights": weights, "standard_macs": std_macs,
            "standard_weights": std_weights, "macs_ratio": macs / std_macs if std_macs else 1.0,
            "weights_ratio": weights / std_weights if std_weights else 1.0}
