"""What the peer tools (fvcore, ptflops, thop, torchinfo) would print for a network, layer by layer,
and where it differs from costcalc's MACs.

All four count a convolution's and a linear layer's multiply-accumulates exactly as costcalc does;
they differ in what they add to them. Each tool's rules are read from its own source (the versions
in TOOLS) and checked against the tool's own totals on torchvision's networks (tests/test_peers.py):

- fvcore (JIT trace of aten ops): BatchNorm 2 per input element (eval, affine); adaptive average
  pooling (the op behind nn.AdaptiveAvgPool2d and F.adaptive_avg_pool2d) 1 per input element; every
  other op (activations, other pooling, x.mean, element-wise adds and products) 0; no bias adds.
- ptflops (module hooks, and patched functionals): conv and linear biases 1 per output element;
  BatchNorm 2 per input element; nn.ReLU 2 per output element (its hook, and the patched F.relu it
  calls), F.relu, nn.ReLU6, nn.SiLU, softmax 1; pooling modules 2 per input element (hook and the
  patched functional), pooling functionals 1; x.mean, nn.Hardswish, nn.Hardsigmoid, nn.Sigmoid 0.
- thop (module hooks): BatchNorm 4 per input element; nn.AvgPool2d 1 per output element;
  nn.AdaptiveAvgPool2d (in/out window + 1) per output element; everything else 0; no bias adds.
- torchinfo (parameters of each layer): conv biases 1 per output element; linear biases and
  BatchNorm's scale and shift 1 per parameter; everything else 0.

How the implementation spells a layer (a module, a function, a tensor method) is the layer's
`pytorch:` key: only ptflops, thop and fvcore's choice of op see the difference.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

#: the tools and the versions whose rules are reproduced
TOOLS = {
    "fvcore": "fvcore 0.1.5.post20221221 (FlopCountAnalysis(model, x).total())",
    "ptflops": "ptflops 0.7.5 (get_model_complexity_info, pytorch backend)",
    "thop": "thop 0.1.1-2209072238 (profile(model, inputs=(x,)))",
    "torchinfo": "torchinfo 1.8.0 (summary(model, input_size).total_mult_adds)",
}
#: what each tool's count is made of: costcalc's MACs and what the tool adds to them
PARTS = ("macs", "biases", "batchnorm", "activations", "pooling")
ACTIVATIONS = ("relu", "relu6", "swish", "softmax")  # the ones any tool counts (ptflops); hswish, sigmoid, ... none


class LayerCount(NamedTuple):
    name: str
    type: str
    parts: dict  # PARTS -> int

    @property
    def total(self) -> int:
        return sum(self.parts.values())


def count_like(result, tool: str) -> list[LayerCount]:
    """Per layer, what `tool` counts, for a result evaluated per layer (one configuration: ints; a
    grid: int64 arrays of its shape). The tools are reproduced at batch 1."""
    if tool not in TOOLS:
        raise ValueError(f"count-like: expected one of {', '.join(TOOLS)}, got {tool!r}")
    if result.batch != 1:
        raise ValueError("count-like: the tools are reproduced at batch 1 (ptflops reports per image, the others per batch)")
    spec = result.spec
    one = int(np.prod(result.shape)) == 1

    def grid(v):
        return np.broadcast_to(np.asarray(v, dtype=np.int64), result.shape)

    size = {-1: (grid(spec.input_channels), grid(result.resolution), grid(result.width))}
    for i, lr in enumerate(result.layers):
        size[i] = (grid(lr.c), grid(lr.h), grid(lr.w))
    out = []
    for i, (layer, lr) in enumerate(zip(spec.layers, result.layers)):
        cin, hin, win = size[layer.inputs[0]] if layer.inputs else size[-1]
        c, h, w = size[i]
        parts = dict.fromkeys(PARTS, 0)
        parts["macs"] = grid(lr.values["macs"])
        _RULES[tool](parts, layer, cin * hin * win, c * h * w, (hin, win), (h, w), c)
        if one:
            parts = {k: int(np.reshape(v, -1)[0]) for k, v in parts.items()}
        out.append(LayerCount(layer.name, layer.type, parts))
    return out


def _fvcore(parts, layer, ein, eout, hw_in, hw_out, c):
    t = layer.type
    if t == "bn":
        parts["batchnorm"] = 2 * ein
    elif t == "avgpool" and _adaptive(layer) and layer.pytorch != "method":
        parts["pooling"] = ein  # aten::adaptive_avg_pool2d; x.mean is aten::mean, not counted


def _ptflops(parts, layer, ein, eout, hw_in, hw_out, c):
    t, s = layer.type, layer.pytorch
    if t in ("conv", "dwconv", "linear") and layer.attrs["bias"]:
        parts["biases"] = eout
    elif t == "bn":
        parts["batchnorm"] = 2 * ein
    elif t in ACTIVATIONS and s != "method":
        # nn.ReLU's hook and the patched F.relu it calls both count; nn.ReLU6 (F.hardtanh), nn.SiLU
        # and softmax (no module hook) count once
        parts["activations"] = 2 * eout if (t == "relu" and s == "module") else eout
    elif t in ("maxpool", "avgpool") and s != "method":
        parts["pooling"] = 2 * ein if s == "module" else ein


def _thop(parts, layer, ein, eout, hw_in, hw_out, c):
    t = layer.type
    if t == "bn":
        parts["batchnorm"] = 4 * ein
    elif t == "avgpool" and layer.pytorch == "module":
        if _adaptive(layer):  # count_adap_avgpool: (prod(in / out) + 1) x outputs, in float64, truncated
            kernel = (hw_in[0] / hw_out[0]) * (hw_in[1] / hw_out[1])
            parts["pooling"] = np.floor((kernel + 1) * eout).astype(np.int64)
        else:
            parts["pooling"] = eout  # count_avgpool: one per output element


def _torchinfo(parts, layer, ein, eout, hw_in, hw_out, c):
    t = layer.type
    if t in ("conv", "dwconv") and layer.attrs["bias"]:
        parts["biases"] = eout  # the bias's numel x the output's spatial size
    elif t == "linear" and layer.attrs["bias"]:
        parts["biases"] = eout  # the bias's numel
    elif t == "bn":
        parts["batchnorm"] = (2 if layer.attrs["gamma"] else 1) * c  # weight and bias numel


def _adaptive(layer) -> bool:
    return bool(layer.attrs["global"]) or layer.attrs["output"] is not None


_RULES = {"fvcore": _fvcore, "ptflops": _ptflops, "thop": _thop, "torchinfo": _torchinfo}


def totals(counts: list[LayerCount]) -> dict:
    """The parts summed over the layers, and the total (ints, or arrays over a grid)."""
    out = {p: sum((lc.parts[p] for lc in counts), 0) for p in PARTS}
    out["total"] = sum(out[p] for p in PARTS)
    return out


def rule_of(tool: str, layer) -> str:
    """The rule by which `tool` counts what it adds for this layer (for the explanation)."""
    t, sp = layer.type, layer.pytorch
    if t in ("conv", "dwconv", "linear"):
        if tool == "torchinfo" and t != "linear":
            return "conv bias: its size x the output's height x width"
        return f"{'linear' if t == 'linear' else 'conv'} bias: 1 per output element"
    if t == "bn":
        return {"fvcore": "aten::batch_norm (eval, affine): 2 per input element",
                "ptflops": "nn.BatchNorm2d: 2 per input element",
                "thop": "nn.BatchNorm2d: 4 per input element (2 to normalize, x2 for the affine)",
                "torchinfo": "BatchNorm: its scale and shift, 2 per channel"}[tool]
    if t in ("maxpool", "avgpool"):
        adaptive = _adaptive(layer)
        module = {"maxpool": "MaxPool2d", "avgpool": "AdaptiveAvgPool2d" if adaptive else "AvgPool2d"}[t]
        function = {"maxpool": "max_pool2d", "avgpool": "adaptive_avg_pool2d" if adaptive else "avg_pool2d"}[t]
        if tool == "fvcore":
            return f"aten::{function}: 1 per input element"
        if tool == "thop":
            return ("nn.AdaptiveAvgPool2d: (the in/out window + 1) per output element" if adaptive
                    else "nn.AvgPool2d: 1 per output element")
        if sp == "module":
            return f"nn.{module}: 2 per input element (its hook, and the patched F.{function} it calls)"
        return f"F.{function}: 1 per input element"
    if tool == "ptflops":
        if t == "relu":
            return ("nn.ReLU: 2 per output element (its hook, and the patched F.relu it calls)" if sp == "module"
                    else "F.relu: 1 per output element")
        return {"relu6": "nn.ReLU6: 1 per output element (its hook; the F.hardtanh it calls is not patched)"
                if sp == "module" else "F.relu6: 1 per output element",
                "swish": "nn.SiLU: 1 per output element (the patched F.silu; no hook for the module)",
                "softmax": "softmax: 1 per output element (the patched F.softmax)"}.get(t, "")
    return ""
