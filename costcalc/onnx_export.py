"""A spec at one configuration -> an ONNX model that ONNX Runtime can run (needs the onnx extra).

Each costcalc layer becomes the ONNX operator(s) of the same computation, with weights of the
right shapes: random (seeded, scaled by 1/sqrt(fan-in), so activations stay finite) or zeros.
BatchNorm gets scale 1, shift 0, mean 0, variance 1.  The graph reads ``input`` of shape
[N, C, H, W] (N symbolic) and its layers' tensors carry the layer names, so the model reads back
into costcalc (`costcalc report model.onnx`) with the same params, MACs and memory access.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from .engine import evaluate
from .errors import CostcalcError
from .ir import Spec

OPSET = 17
IR_VERSION = 8  # what ONNX Runtime 1.14 and later read
WEIGHTS = ("random", "zeros")


class ExportError(CostcalcError):
    pass


def _onnx():
    try:
        import onnx
        from onnx import helper, numpy_helper
    except ImportError:
        raise ExportError('writing ONNX needs the onnx package: pip install "costcalc[onnx]"') from None
    return onnx, helper, numpy_helper


def export_model(spec: Spec, alpha: float = 1.0, resolution: int | None = None, rho: float | None = None,
                 weights: str = "random", seed: int = 0):
    """The ONNX ModelProto of `spec` at one configuration."""
    onnx, helper, numpy_helper = _onnx()
    if weights not in WEIGHTS:
        raise ValueError(f"weights: expected one of {', '.join(WEIGHTS)}, got {weights!r}")
    result = evaluate(spec, alpha, resolution, rho, per_layer=True)
    spec = result.spec  # as this configuration builds it: keys that name the configuration evaluated
    rng = np.random.default_rng(seed)
    nodes: list = []
    inits: list = []
    shapes = {-1: (spec.input_channels, int(result.resolution.reshape(-1)[0]), int(result.width.reshape(-1)[0]))}
    tensor = {-1: "input"}
    rank = {-1: 4}

    def init(name: str, array: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(array, name))
        return name

    def weight(name: str, shape: tuple, fan_in: int) -> str:
        if weights == "zeros":
            arr = np.zeros(shape, dtype=np.float32)
        else:
            arr = (rng.standard_normal(shape, dtype=np.float32) * np.float32(1 / np.sqrt(max(fan_in, 1))))
        return init(name, arr)

    def ints(name: str, values: Iterable[int]) -> str:
        return init(name, np.array(list(values), dtype=np.int64))

    def node(op: str, ins: list, out: str, name: str, fused: bool = False, **attrs):
        n = helper.make_node(op, ins, [out], name=name, **attrs)
        if fused:
            n.doc_string = "costcalc: fused"
        nodes.append(n)
        return out

    def as4(i: int, at: str) -> str:
        """Layer i's output as N, C, H, W (after a linear layer it is N, C)."""
        if rank[i] == 4:
            return tensor[i]
        c = shapes[i][0]
        return node("Reshape", [tensor[i], ints(f"{at}/shape4", [0, c, 1, 1])], f"{at}/as4", f"{at}/as4")

    for k, (layer, lr) in enumerate(zip(spec.layers, result.layers)):
        name = layer.name
        out_shape = (int(lr.c), int(lr.h), int(lr.w))
        ins = list(layer.inputs)
        x = ins[0]
        cin = shapes[x][0]
        a = layer.attrs
        t = layer.type
        out_rank = 4
        f = layer.fused
        if t in ("conv", "dwconv"):
            (kh, kw), (sh, sw), (dh, dw) = a["kernel"], a["stride"], a["dilation"]
            g = a["groups"] if t == "conv" else cin
            cout = out_shape[0]
            geo = {"kernel_shape": [kh, kw], "strides": [sh, sw], "dilations": [dh, dw], "group": g, **_pads(a["padding"])}
            w = weight(f"{name}.weight", (cout, cin // g, kh, kw), cin // g * kh * kw)
            args = [as4(x, name), w] + ([init(f"{name}.bias", np.zeros(cout, np.float32))] if a["bias"] else [])
            node("Conv", args, name, name, f, **geo)
        elif t == "linear":
            src = tensor[x]
            if rank[x] == 4:
                src = node("Flatten", [src], f"{name}/flatten", f"{name}/flatten", axis=1)
            fan_in = shapes[x][0] * shapes[x][1] * shapes[x][2]
            cout = out_shape[0]
            args = [src, weight(f"{name}.weight", (cout, fan_in), fan_in)]
            if a["bias"]:
                args.append(init(f"{name}.bias", np.zeros(cout, np.float32)))
            node("Gemm", args, name, name, f, transB=1)
            out_rank = 2
        elif t in ("maxpool", "avgpool"):
            op = "MaxPool" if t == "maxpool" else "AveragePool"
            if a["global"]:
                node("Global" + op, [as4(x, name)], name, name, f)
            elif a["output"] is not None:  # adaptive: ONNX has it only where the output divides the input
                (hi, wi), (oh, ow) = shapes[x][1:], a["output"]
                if hi % oh or wi % ow:
                    raise ExportError(f"{spec.source}: layer {name!r}: adaptive pooling from {hi}x{wi} to {oh}x{ow} has no "
                                      "ONNX operator (only sizes the output divides); export at another resolution")
                k = [hi // oh, wi // ow]
                node(op, [as4(x, name)], name, name, f, kernel_shape=k, strides=k)
            else:
                kh, kw = a["kernel"]
                sh, sw = a["stride"] or (kh, kw)
                geo = {"kernel_shape": [kh, kw], "strides": [sh, sw], "ceil_mode": int(a["ceil"]), **_pads(a["padding"])}
                node(op, [as4(x, name)], name, name, f, **geo)
        elif t == "bn":
            c = cin
            # without a learned scale (gamma: false) the scale is ones made from a shape, not a weight
            scale = (init(f"{name}.weight", np.ones(c, np.float32)) if a["gamma"] else
                     node("ConstantOfShape", [ints(f"{name}/channels", [c])], f"{name}/scale", f"{name}/scale",
                          value=numpy_helper.from_array(np.ones(1, np.float32))))
            args = [tensor[x], scale, init(f"{name}.bias", np.zeros(c, np.float32)),
                    init(f"{name}.running_mean", np.zeros(c, np.float32)), init(f"{name}.running_var", np.ones(c, np.float32))]
            node("BatchNormalization", args, name, name, f)
            out_rank = rank[x]
        elif t == "scale":
            shape = [1, cin, 1, 1] if rank[x] == 4 else [1, cin]
            y = node("Mul", [tensor[x], init(f"{name}.weight", np.ones(shape, np.float32))],
                     f"{name}/mul" if a["bias"] else name, f"{name}/mul" if a["bias"] else name, f)
            if a["bias"]:
                node("Add", [y, init(f"{name}.bias", np.zeros(shape, np.float32))], name, name, f)
            out_rank = rank[x]
        elif t == "eltwise":
            op = {"mul": "Mul", "add": "Add", "sub": "Sub", "div": "Div"}[a["op"]]
            unit = np.array(1 if op in ("Mul", "Div") else 0, np.float32)
            node(op, [tensor[x], init(f"{name}.constant", unit)], name, name, f)
            out_rank = rank[x]
        elif t in ("relu", "sigmoid", "tanh", "hswish"):
            op = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "hswish": "HardSwish"}[t]
            node(op, [tensor[x]], name, name, f)
            out_rank = rank[x]
        elif t == "relu6":
            node("Clip", [tensor[x], init(f"{name}.min", np.array(0, np.float32)), init(f"{name}.max", np.array(6, np.float32))],
                 name, name, f)
            out_rank = rank[x]
        elif t == "hsigmoid":
            node("HardSigmoid", [tensor[x]], name, name, f, alpha=1 / 6, beta=0.5)
            out_rank = rank[x]
        elif t == "swish":
            # the Sigmoid node carries the layer's name: reading x * Sigmoid(x) back names the swish after it
            gate = node("Sigmoid", [tensor[x]], f"{name}/sigmoid", name, f)
            node("Mul", [tensor[x], gate], name, f"{name}/mul", f)
            out_rank = rank[x]
        elif t == "softmax":
            node("Softmax", [tensor[x]], name, name, f, axis=1)
            out_rank = rank[x]
        elif t == "lrn":
            node("LRN", [as4(x, name)], name, name, f, size=a["size"])
        elif t == "dropout":
            node("Dropout", [tensor[x], init(f"{name}.ratio", np.array(a["rate"], np.float32))], name, name, f)
            out_rank = rank[x]
        elif t == "identity":
            node("Identity", [tensor[x]], name, name, f)
            out_rank = rank[x]
        elif t == "flatten":
            node("Flatten", [tensor[x]], name, name, f, axis=1)
            out_rank = 2
        elif t in ("add", "mul", "concat"):
            four = any(rank[i] == 4 for i in ins)
            srcs = [as4(i, f"{name}/in{j}") if four else tensor[i] for j, i in enumerate(ins)]
            if t == "concat":
                node("Concat", srcs, name, name, f, axis=1)
            elif t == "add":
                node("Add" if len(srcs) == 2 else "Sum", srcs, name, name, f)
            else:
                cur = srcs[0]
                for j, other in enumerate(srcs[1:], start=1):
                    last = j == len(srcs) - 1
                    cur = node("Mul", [cur, other], name if last else f"{name}/mul{j}", name if last else f"{name}/mul{j}", f)
            out_rank = 4 if four else 2
        elif t == "split":
            n, i = a["sections"], a["index"]
            size = cin // n
            node("Slice", [tensor[x], ints(f"{name}.starts", [i * size]), ints(f"{name}.ends", [(i + 1) * size]),
                           ints(f"{name}.axes", [1])], name, name, f)
            out_rank = rank[x]
        elif t == "shuffle":
            g = a["groups"]
            c, h, w = shapes[x]
            src = as4(x, name)
            five = node("Reshape", [src, ints(f"{name}.shape5", [0, g, c // g, h, w])], f"{name}/reshape", f"{name}/reshape", f)
            tr = node("Transpose", [five], f"{name}/transpose", f"{name}/transpose", f, perm=[0, 2, 1, 3, 4])
            node("Reshape", [tr, ints(f"{name}.shape4", [0, c, h, w])], name, name, f)
        else:  # a new layer type must get an ONNX spelling here
            raise ExportError(f"{spec.source}: layer {name!r}: no ONNX operator for type {t!r}")
        shapes[k] = out_shape
        tensor[k] = name
        rank[k] = out_rank

    last = len(spec.layers) - 1
    c, h, w = shapes[last]
    out_dims = ["N", c, h, w] if rank[last] == 4 else ["N", c * h * w]
    ic, ih, iw = shapes[-1]
    graph = helper.make_graph(
        nodes, spec.label.replace(":", "_"),
        [helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT, ["N", ic, ih, iw])],
        [helper.make_tensor_value_info(tensor[last], onnx.TensorProto.FLOAT, out_dims)],
        initializer=inits)
    from . import __version__

    model = helper.make_model(graph, producer_name="costcalc", producer_version=__version__,
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    a_ = float(result.alpha.reshape(-1)[0])
    model.doc_string = (f"{spec.title}: costcalc export at alpha {a_:g}, input {ic}x{ih}x{iw}; weights {weights}"
                        + (f" (seed {seed})" if weights == "random" else ""))
    helper.set_model_props(model, {"costcalc.spec": spec.label, "costcalc.alpha": f"{a_:g}",
                                   "costcalc.input": f"{ic}x{ih}x{iw}", "costcalc.weights": weights})
    return model


def _pads(p) -> dict:
    """costcalc's padding as ONNX attributes: TF 'same' is auto_pad SAME_UPPER (output ceil(n / s))."""
    if p == "same":
        return {"auto_pad": "SAME_UPPER"}
    ph, pw = (0, 0) if p == "valid" else p
    return {"pads": [ph, pw, ph, pw]}


def check(model) -> None:
    """onnx.checker with shape inference: the model is valid ONNX."""
    onnx, _, _ = _onnx()
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as exc:  # noqa: BLE001 - a checker failure is costcalc's bug; say so in one line
        raise ExportError(f"the exported model fails onnx.checker: {str(exc).splitlines()[0]}") from None
