"""ONNX -> a costcalc spec document: a front end onto the same IR and cost rules as YAML.

An ONNX graph becomes a spec document (the dict a YAML spec parses to): one layer item per costed
node, with `from` naming the layers it reads where that is not the previous one.  The document is
then checked and expanded by :func:`costcalc.spec.build_spec` like any YAML file, so
``costcalc report model.onnx`` and ``costcalc report converted.yaml`` (``costcalc convert``) give
the same numbers by construction, and no cost formula lives here.

Nodes that only compute shapes (Shape, Gather, Unsqueeze, Concat of constants, ...) are folded to
constants; patterns are recognised where ONNX spells one layer as several nodes (Reshape +
Transpose + Reshape = channel shuffle; x * Sigmoid(x) = swish; Pad before a conv = its padding;
MatMul + Add = a linear layer with bias).  Any other operator on the data path is an error naming
the node: never a silent zero.
"""

from __future__ import annotations

import math
import os
import re
from typing import Any, NamedTuple

from .errors import SpecError
from .ir import LAYER_TYPES, REQUIRED, Layer
from .onnxio import Model, OnnxFormatError, Tensor
from .rules import RULES, Shape, ShapeError

#: the operator sets this front end reads (the default domain)
MIN_OPSET, MAX_OPSET = 7, 23

#: ONNX operator -> the costcalc layer type it becomes (the README's list of supported operators)
SUPPORTED = {
    "Conv": "conv / dwconv", "Gemm": "linear", "MatMul": "linear (with a following Add of a constant: its bias)",
    "BatchNormalization": "bn", "Relu": "relu", "Clip": "relu6", "Sigmoid": "sigmoid (x * Sigmoid(x): swish)",
    "HardSigmoid": "hsigmoid (x * HardSigmoid(x): hswish)", "HardSwish": "hswish", "Tanh": "tanh",
    "Softmax": "softmax", "Mul": "mul (gating)", "Add": "add", "Sum": "add", "Concat": "concat",
    "Split": "split", "Slice": "split (an equal channel section)",
    "Reshape": "flatten, or with Transpose + Reshape: shuffle", "Transpose": "shuffle (see Reshape)",
    "MaxPool": "maxpool", "AveragePool": "avgpool", "GlobalAveragePool": "avgpool (global)",
    "GlobalMaxPool": "maxpool (global)", "ReduceMean": "avgpool (global, over height and width)",
    "Flatten": "flatten", "Dropout": "dropout", "Identity": "(the same tensor)", "LRN": "lrn",
    "Pad": "the padding of the conv or pooling it feeds", "Squeeze": "(the same tensor)",
    "Unsqueeze": "(the same tensor)",
}
#: how many inputs each operator takes (least, most): checked before anything reads them
ARITY = {
    "Conv": (2, 3), "Gemm": (2, 3), "MatMul": (2, 2), "BatchNormalization": (5, 5), "Relu": (1, 1), "Clip": (1, 3),
    "Sigmoid": (1, 1), "HardSigmoid": (1, 1), "HardSwish": (1, 1), "Tanh": (1, 1), "Softmax": (1, 1), "Mul": (2, 2),
    "Add": (2, 2), "Sub": (2, 2), "Div": (2, 2), "Sum": (1, 1 << 16), "Concat": (1, 1 << 16), "Split": (1, 2),
    "Slice": (3, 5), "Reshape": (2, 2), "Transpose": (1, 1), "MaxPool": (1, 1), "AveragePool": (1, 1),
    "GlobalAveragePool": (1, 1), "GlobalMaxPool": (1, 1), "ReduceMean": (1, 2), "ReduceMax": (1, 2), "Flatten": (1, 1),
    "Dropout": (1, 3), "Identity": (1, 1), "LRN": (1, 1), "Pad": (1, 4), "Squeeze": (1, 2), "Unsqueeze": (1, 2),
    "Cast": (1, 1), "CastLike": (2, 2), "Shape": (1, 1), "Size": (1, 1), "Gather": (2, 2), "Constant": (0, 0),
    "Floor": (1, 1), "Ceil": (1, 1), "Neg": (1, 1), "Sqrt": (1, 1), "Range": (3, 3), "Expand": (2, 2),
    "ConstantOfShape": (1, 1), "Equal": (2, 2), "Where": (3, 3), "ReduceProd": (1, 2), "Min": (2, 2), "Max": (2, 2),
}
#: the attribute kinds costcalc reads: a list of integers (of a length), an integer, a number, a string
_ATTR_KINDS = {
    "kernel_shape": ("ints", 1), "strides": ("ints", 1), "dilations": ("ints", 1), "pads": ("ints", 0),
    "perm": ("ints", 0), "split": ("ints", 0), "axes": ("ints", None), "group": ("int", 1), "num_outputs": ("int", 1),
    "axis": ("int", None), "keepdims": ("int", 0), "transA": ("int", 0), "transB": ("int", 0), "ceil_mode": ("int", 0),
    "size": ("int", 1), "to": ("int", 0), "start": ("int", None), "end": ("int", None), "allowzero": ("int", 0),
    "auto_pad": ("str", None), "mode": ("str", None), "ratio": ("num", None), "min": ("num", None), "max": ("num", None),
    "alpha": ("num", None), "beta": ("num", None), "value_ints": ("ints", None), "value_int": ("int", None),
    "value_floats": ("nums", None), "value_float": ("num", None),
}


def _attr_problem(name: str, value) -> str | None:
    kind, lo = _ATTR_KINDS[name]
    if kind in ("ints", "nums"):
        ok = isinstance(value, list) and all(isinstance(v, (int, float)) for v in value) and len(value) <= 64
        if ok and kind == "ints":
            ok = all(isinstance(v, int) and abs(v) < 2**62 and (lo is None or v >= lo) for v in value)
        return None if ok else f"expected a list of {'integers' if kind == 'ints' else 'numbers'}" + \
            (f" of at least {lo}" if lo else "")
    if kind == "int":
        return None if isinstance(value, int) and abs(value) < 2**62 and (lo is None or value >= lo) else \
            "expected an integer" + (f" of at least {lo}" if lo is not None else "")
    if kind == "num":
        return None if isinstance(value, (int, float)) and math.isfinite(value) else "expected a finite number"
    return None if isinstance(value, str) else "expected a string"


#: operators evaluated on constants (shape arithmetic), never costed
FOLDED = ("Constant", "Shape", "Size", "Gather", "Unsqueeze", "Squeeze", "Concat", "Slice", "Cast", "CastLike",
          "Reshape", "Identity", "Mul", "Div", "Add", "Sub", "Floor", "Ceil", "Neg", "Range", "Expand",
          "ConstantOfShape", "Equal", "Where", "ReduceProd", "Min", "Max", "Sqrt", "Transpose")

_INT_MAX = 2**62
#: operators costed the same in N, H, W, C layout (Keras exports transpose around each conv);
#: those with an axis translate it
_ANY_LAYOUT = ("Transpose", "Cast", "Identity", "Dropout", "Relu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh",
               "Add", "Sub", "Mul", "Div", "Sum", "Concat", "Pad", "ReduceMean", "ReduceMax", "Reshape", "Flatten", "Softmax")
#: names exporters make up (node_Conv_12, n4_2, Identity_70): no better than the layer type
_AUTO = re.compile(r"^(node_[A-Za-z_]+_?\d*|n\d+(_\d+)?|[A-Z][A-Za-z]*_\d+)$")


class Data(NamedTuple):
    """A tensor on the data path: the layer that produces it and its shape (C, H, W ints)."""

    layer: str | None  # None: the network input
    shape: Shape
    rank: int  # 4 (N, C, H, W) or 2 (N, C x H x W)
    pads: tuple = (0, 0, 0, 0)  # a Pad waiting for its conv or pooling (top, left, bottom, right)
    shuffle: tuple | None = None  # a channel shuffle in progress: ("reshaped" | "transposed", groups)
    nhwc: bool = False  # in N, H, W, C layout (Keras), until a Transpose to N, C, H, W
    pre: bool = False  # the input itself, or it after arithmetic with constants only (preprocessing)


class Importer:
    def __init__(self, model: Model, shown: str, allow_unknown: bool = False):
        self.m = model
        self.shown = shown
        self.allow_unknown = allow_unknown
        self.vals: dict[str, Any] = {}  # tensor name -> Data | Tensor (weight) | numpy array (constant)
        self.items: list[dict] = []
        self.by_name: dict[str, dict] = {}
        self.last: str | None = None  # the layer the previous item produced
        self.uses: dict[str, int] = {}
        self.taken: dict[str, int] = {}
        self.params: set[str] = set()  # initializers and Constant outputs: learned parameters
        self.absorbed: set[str] = set()  # outputs of nodes a pattern has costed already

    # -- errors ------------------------------------------------------------------
    def fail(self, node, message: str):
        where = f"node {node.name!r} (op {node.op})" if node is not None else ""
        raise SpecError(self.shown, where, message)

    # -- the document ----------------------------------------------------------
    def convert(self) -> dict:
        m = self.m
        opset = m.opsets.get("", m.opsets.get("ai.onnx"))
        if opset is None:
            raise SpecError(self.shown, "", "the model imports no default ONNX operator set")
        if not MIN_OPSET <= opset <= MAX_OPSET:
            raise SpecError(self.shown, "", f"operator set {opset} is not supported (costcalc reads opsets {MIN_OPSET} to {MAX_OPSET})")
        for t in m.initializers.values():
            self.vals[t.name] = t
            self.params.add(t.name)
        for n in m.nodes:
            for x in n.inputs:
                if x:
                    self.uses[x] = self.uses.get(x, 0) + 1
            if n.op == "Constant":
                self.params.update(n.outputs)
        for o in m.outputs:
            self.uses[o.name] = self.uses.get(o.name, 0) + 1
        data_inputs = [v for v in m.inputs if v.name not in m.initializers]
        if len(data_inputs) > 1:  # besides the image, inputs of a static shape the graph uses as constants
            def size(v):
                return math.prod(d for d in v.dims[1:] if isinstance(d, int)) if v.dims is not None and len(v.dims) == 4 else 0

            biggest = max(size(v) for v in data_inputs)
            images = [v for v in data_inputs if size(v) == biggest]
            if len(images) == 1 and biggest > 64:
                for v in data_inputs:
                    if v is not images[0] and v.dims is not None and all(isinstance(d, int) and d >= 0 for d in v.dims):
                        self.vals[v.name] = Tensor(v.name, tuple(v.dims), v.elem_type, None)
                data_inputs = [v for v in data_inputs if v.name not in self.vals]
        if len(data_inputs) != 1:
            names = ", ".join(v.name for v in data_inputs) or "none"
            raise SpecError(self.shown, "", f"expected one input image tensor, the graph has {len(data_inputs)} ({names})")
        x = data_inputs[0]
        if x.dims is None or len(x.dims) != 4 or not all(isinstance(d, int) and d > 0 for d in x.dims[1:]):
            dims = "no shape" if x.dims is None else "[" + ", ".join(str(d) for d in x.dims) + "]"
            raise SpecError(self.shown, f"input {x.name!r}", f"expected a static shape [N, C, H, W], got {dims} "
                            "(export the model with a fixed input size)")
        self.batch = x.dims[0]
        c, h, w = x.dims[1:]
        nhwc = self._transposed_first(x.name)
        if nhwc:
            h, w, c = c, h, w  # Keras and tf2onnx: an N, H, W, C input, transposed to N, C, H, W
        self.input = (c, h, w)
        self.vals[x.name] = Data(None, Shape(c, h, w), 4, nhwc=nhwc, pre=True)
        for n in m.nodes:
            self.node(n)
        outs = [self.vals.get(o.name) for o in m.outputs]
        if not any(isinstance(o, Data) and o.layer is not None for o in outs):
            raise SpecError(self.shown, "", "no graph output is computed from the input image")
        return self.items

    def _transposed_first(self, name: str) -> bool:
        """Whether the input `name` is N, H, W, C: the first operator that cares about the layout, on
        the single path from it, is a Transpose to N, C, H, W (Keras, tf2onnx)."""
        for _ in range(32):
            consumers = [n for n in self.m.nodes if name in n.inputs and n.op not in ("Shape", "Size")]
            if len(consumers) != 1:
                return False
            n = consumers[0]
            if n.op == "Transpose":
                return list(n.attrs.get("perm", [])) == [0, 3, 1, 2]
            if n.op not in _ANY_LAYOUT and n.op != "Div":
                return False
            name = n.outputs[0]
        return False

    # -- helpers -----------------------------------------------------------------
    def name_for(self, node, default: str) -> str:
        """A readable, unique layer name: the module path the exporter recorded (torch.onnx's name
        scopes, or a TorchScript node name such as /features/features.0/features.0.0/Conv ->
        features/0/0), else the layer type (conv, conv_2, ...)."""
        base = ""
        scopes = node.meta.get("pkg.torch.onnx.name_scopes")
        if scopes:
            parts = [p.strip(" '\"") for p in scopes.strip("[]").split(",")]
            modules = [p for p in parts[:-1] if p]
            if modules:
                base = "/".join(modules[-1].split("."))
        elif node.name and not _AUTO.match(node.name):
            parts = [p for p in node.name.split("/") if p]
            if parts and re.match(rf"^{re.escape(node.op)}(_\d+)?$", parts[-1]):
                parts = parts[:-1]  # TorchScript: /features/features.0/features.0.0/Conv -> features/0/0
            path: list[str] = []
            for p in parts:
                for k in range(len(path), 0, -1):  # features/features.0 -> features/0
                    head = ".".join(path[-k:]) + "."
                    if p.startswith(head):
                        p = p[len(head):]
                        break
                path.append(p)
            base = "/".join(path)
        for name in ([base] if base else []) + [f"{base}/{default}" if base else default]:
            if name not in self.by_name:
                return name
        stem = f"{base}/{default}" if base else default
        k = self.taken.get(stem, 1)
        while True:
            k += 1
            name = f"{stem}_{k}"
            if name not in self.by_name:
                self.taken[stem] = k
                return name

    def emit(self, node, ltype: str, ins: list[Data], attrs: dict, out_c=None, default: str | None = None, **extra) -> Data:
        name = self.name_for(node, default or ltype)
        item: dict = {"name": name, "type": ltype}
        srcs = [d.layer if d.layer is not None else "input" for d in ins]
        if len(srcs) > 1 or srcs[0] != (self.last if self.last is not None else "input"):
            item["from"] = srcs if len(srcs) > 1 else srcs[0]
        if out_c is not None:
            item["out"] = out_c
        item.update({k: (list(v) if isinstance(v, tuple) else v) for k, v in attrs.items()})
        item.update(extra)
        if "costcalc: fused" in (node.doc or ""):  # costcalc's own export keeps the flag (no ONNX field has it)
            item["fused"] = True
        try:
            cost = RULES[ltype](Layer(name, ltype, (), _rule_attrs(ltype, attrs)), [d.shape for d in ins], out_c)
        except ShapeError as exc:
            self.fail(node, str(exc))
        self.items.append(item)
        self.by_name[name] = item
        self.last = name
        flat = ltype in ("linear", "flatten")
        return Data(name, cost.shape, 2 if flat else ins[0].rank, nhwc=ins[0].nhwc and not flat and cost.shape.h * cost.shape.w > 1,
                    pre=ins[0].pre and ltype == "eltwise")

    def data(self, node, i: int) -> Data:
        if i >= len(node.inputs) or not node.inputs[i]:
            self.fail(node, f"input {i} is missing")
        v = self.vals.get(node.inputs[i])
        if not isinstance(v, Data):
            self.fail(node, f"input {i} ({node.inputs[i]!r}) is not computed from the image")
        if v.shuffle is not None and node.op not in ("Transpose", "Reshape", "Identity"):
            self.fail(node, "reads a 5-D tensor: only Reshape + Transpose + Reshape (a channel shuffle) is supported")
        if v.nhwc and node.op not in _ANY_LAYOUT:
            self.fail(node, f"reads a tensor in N, H, W, C layout: {node.op} is costed on N, C, H, W only")
        if any(v.pads) and node.op not in ("Conv", "MaxPool", "AveragePool", "Cast", "Identity", "Transpose"):
            self.fail(node, "reads a padded tensor: a Pad is supported only before a Conv or a pooling")
        return v

    def weight(self, node, i: int, optional: bool = False):
        """A constant input's dims (as a Tensor); for an optional input (a bias), None unless it is
        a learned parameter: an initializer or a Constant (not zeros computed from shapes)."""
        if i >= len(node.inputs) or not node.inputs[i]:
            if optional:
                return None
            self.fail(node, f"input {i} is missing")
        v = self.vals.get(node.inputs[i])
        if optional and node.inputs[i] not in self.params:
            return None
        if isinstance(v, Tensor):
            return v
        if v is not None and not isinstance(v, Data):  # a folded constant (a numpy array)
            return Tensor(node.inputs[i], tuple(int(d) for d in v.shape), 1, None)
        self.fail(node, f"input {i} ({node.inputs[i]!r}) must be a constant (an initializer), not computed from the image")

    def value(self, node, name: str):
        """What tensor `name` holds: a weight's values read from the file, else as known (a Data, a
        folded constant or None)."""
        v = self.vals.get(name)
        if isinstance(v, Tensor):
            try:
                return v.values()
            except OnnxFormatError as exc:
                self.fail(node, str(exc))
        return v

    def const(self, node, i: int, optional: bool = False):
        import numpy as np

        if i >= len(node.inputs) or not node.inputs[i]:
            if optional:
                return None
            self.fail(node, f"input {i} is missing")
        v = self.value(node, node.inputs[i])
        if isinstance(v, Data) or v is None:
            self.fail(node, f"input {i} ({node.inputs[i]!r}) must be a constant")
        return np.asarray(v)

    def alias(self, node, value):
        for y in node.outputs[:1]:
            self.vals[y] = value

    # -- one node ----------------------------------------------------------------
    def check_node(self, n):
        """The one check of a node's shape before any rule reads it: its number of inputs and outputs
        and the kind of every attribute costcalc reads."""
        if n.op in ARITY:
            lo, hi = ARITY[n.op]
            given = len(n.inputs)
            if not lo <= given <= hi or (lo and not n.inputs[0]):
                want = f"{lo}" if lo == hi else f"{lo} to {hi}" if hi < 1 << 16 else f"at least {lo}"
                self.fail(n, f"{given} inputs, expected {want}")
        if not n.outputs or not n.outputs[0]:
            self.fail(n, "no output")
        for name, value in n.attrs.items():
            if name in _ATTR_KINDS:
                problem = _attr_problem(name, value)
                if problem:
                    self.fail(n, f"attribute {name}: {problem}, got {str(value)[:40]}")

    def node(self, n):
        self.check_node(n)
        try:
            if not self.allow_unknown:
                return self._node(n)
            try:
                return self._node(n)
            except SpecError as exc:
                if not exc.detail.startswith("no cost rule") or not self.uncosted(n):
                    raise
        except SpecError:
            raise
        except (ArithmeticError, ValueError, IndexError, KeyError, TypeError, AttributeError) as exc:
            # a combination the checks above let through: still one line, naming the node
            self.fail(n, f"cannot be read ({type(exc).__name__}: {str(exc)[:80]})")

    def uncosted(self, n) -> bool:
        """--allow-unknown: keep an operator without a cost rule as an uncosted layer, with the output
        shape the file records (value_info); False if the file records none."""
        ins = [self.vals[x] for x in n.inputs if x and isinstance(self.vals.get(x), Data)]
        outs = [y for y in n.outputs if y]
        if not ins or len(outs) != 1:
            return False
        info = self.m.value_info.get(outs[0]) or next((o for o in self.m.outputs if o.name == outs[0]), None)
        dims = info.dims if info is not None else None
        if not dims or len(dims) not in (2, 4) or not all(isinstance(d, int) and d > 0 for d in dims[1:]):
            return False
        shape = list(dims[1:]) + [1] * (4 - len(dims))
        x = ins[0]
        self.alias(n, self.emit(n, "uncosted", [x], {"op": n.op, "shape": shape, "at": [x.shape.c, x.shape.h, x.shape.w]},
                                default=n.op.lower()))
        self.vals[outs[0]] = self.vals[outs[0]]._replace(rank=len(dims))
        return True

    def _node(self, n):
        if n.outputs and all(y in self.absorbed for y in n.outputs):
            return None  # part of a pattern costed at its first node (a BatchNorm spelled Sub, Mul, Add)
        if n.domain not in ("", "ai.onnx"):
            self.fail(n, f"no cost rule (operator domain {n.domain!r})")
        for i, x in enumerate(n.inputs):
            if x and x not in self.vals:
                self.fail(n, f"input {i} ({x!r}) is not defined before this node")
        on_data = [x for x in n.inputs if x and isinstance(self.vals.get(x), Data)]
        if n.op in ("Identity", "Cast") and isinstance(self.vals.get(n.inputs[0]), Tensor):
            self.alias(n, self.vals[n.inputs[0]])  # a weight passed on (TorchScript): its dims, never its bytes
            if n.inputs[0] in self.params:
                self.params.update(n.outputs[:1])
            return None
        if n.op in ("Constant", "Shape", "Size") or (n.op == "CastLike" and not isinstance(self.vals.get(n.inputs[0]), Data)):
            return self.fold(n)
        if not on_data:
            if n.op in FOLDED:
                return self.fold(n)
            self.fail(n, "no cost rule" if n.op not in SUPPORTED else "none of its inputs is computed from the image")
        handler = getattr(self, f"op_{n.op}", None)
        if handler is None:
            self.fail(n, "no cost rule")
        handler(n)

    # -- constants (shape arithmetic) ------------------------------------------------
    def fold(self, n):
        import numpy as np

        def val(i):
            return self.value(n, n.inputs[i]) if i < len(n.inputs) and n.inputs[i] else None

        a = n.attrs
        op = n.op
        try:
            with np.errstate(all="raise"):
                out = self._fold(n, op, a, val, np)
        except SpecError:
            raise
        except Exception as exc:  # noqa: BLE001 - any numpy failure on a hostile constant is one line
            self.fail(n, f"cannot evaluate its constant inputs ({type(exc).__name__})")
        if out is None or np.size(out) > _FOLD_MAX:
            self.fail(n, "a constant too large to evaluate")
        self.alias(n, np.asarray(out))

    def _fold(self, n, op, a, val, np):
        """The value of one shape-arithmetic node on its constant inputs (numpy errors raise)."""
        if op == "Constant":
            if "value" in a:
                t = a["value"]
                out = t.values() if isinstance(t, Tensor) else None
            elif "value_ints" in a:
                out = np.array(a["value_ints"], dtype=np.int64)
            elif "value_int" in a:
                out = np.array(a["value_int"], dtype=np.int64)
            elif "value_floats" in a:
                out = np.array(a["value_floats"], dtype=np.float64)
            elif "value_float" in a:
                out = np.array(a["value_float"], dtype=np.float64)
            else:
                self.fail(n, "a Constant of a kind costcalc does not read")
        elif op in ("Shape", "Size"):
            src = self.vals.get(n.inputs[0])
            if isinstance(src, Data):
                dims = [1 if not isinstance(self.batch, int) else self.batch]
                dims += [src.shape.c, src.shape.h, src.shape.w] if src.rank == 4 else [src.shape.c * src.shape.h * src.shape.w]
            elif isinstance(src, Tensor):
                dims = list(src.dims)
            else:
                dims = list(np.shape(src))
            out = np.array(dims, dtype=np.int64)
            if op == "Shape":
                start, end = a.get("start", 0), a.get("end", len(dims))
                out = out[start:end]
            else:
                out = np.array(int(np.prod(out)), dtype=np.int64)
        elif op == "Gather":
            out = np.take(val(0), val(1).astype(np.int64), axis=a.get("axis", 0))
        elif op == "Unsqueeze":
            axes = a.get("axes") if "axes" in a else val(1).tolist()
            out = val(0)
            for ax in sorted(int(x) % (np.ndim(out) + len(axes)) for x in axes):
                out = np.expand_dims(out, ax)
        elif op == "Squeeze":
            axes = a.get("axes") if "axes" in a else (val(1).tolist() if val(1) is not None else None)
            out = np.squeeze(val(0), axis=None if axes is None else tuple(int(x) for x in axes))
        elif op == "Concat":
            out = np.concatenate([np.atleast_1d(val(i)) for i in range(len(n.inputs))], axis=a.get("axis", 0))
        elif op == "Slice":
            x = val(0)
            starts, ends = val(1).tolist(), val(2).tolist()
            axes = val(3).tolist() if val(3) is not None else list(range(len(starts)))
            steps = val(4).tolist() if val(4) is not None else [1] * len(starts)
            idx = [slice(None)] * np.ndim(x)
            for s, e, ax, st in zip(starts, ends, axes, steps):
                idx[ax] = slice(int(s), int(max(min(e, _INT_MAX), -_INT_MAX)), int(st))
            out = x[tuple(idx)]
        elif op in ("Cast", "CastLike", "Identity"):
            out = val(0)
        elif op == "Reshape":
            shape = [int(d) for d in val(1).tolist()]
            x = val(0)
            shape = [x.shape[i] if d == 0 else d for i, d in enumerate(shape)]
            out = np.reshape(x, shape)
        elif op in ("Mul", "Div", "Add", "Sub", "Min", "Max", "Equal"):
            x, y = val(0), val(1)
            if op == "Div":
                out = x // y if np.issubdtype(np.asarray(x).dtype, np.integer) else x / y
            else:
                out = {"Mul": np.multiply, "Add": np.add, "Sub": np.subtract, "Min": np.minimum,
                       "Max": np.maximum, "Equal": np.equal}[op](x, y)
        elif op in ("Floor", "Ceil", "Neg", "Sqrt"):
            out = {"Floor": np.floor, "Ceil": np.ceil, "Neg": np.negative, "Sqrt": np.sqrt}[op](val(0))
        elif op == "Range":
            start, limit, delta = (float(np.asarray(val(i)).reshape(-1)[0]) for i in range(3))
            _bounded(n, self, math.ceil((limit - start) / delta) if delta else _FOLD_MAX + 1)
            out = np.arange(val(0), val(1), val(2))
        elif op == "Expand":
            shape = np.broadcast_shapes(np.shape(val(0)), tuple(int(d) for d in val(1)))
            _bounded(n, self, math.prod(shape))
            out = np.broadcast_to(val(0), shape)
        elif op == "ConstantOfShape":
            t = a.get("value")
            fill = t.values().reshape(-1)[0] if isinstance(t, Tensor) else 0.0
            shape = tuple(int(d) for d in val(0))
            _bounded(n, self, math.prod(shape) if all(d >= 0 for d in shape) else _FOLD_MAX + 1)
            out = np.full(shape, fill)
        elif op == "Where":
            out = np.where(val(0), val(1), val(2))
        elif op == "ReduceProd":
            out = np.prod(val(0), keepdims=bool(a.get("keepdims", 1)))
        elif op == "Transpose":
            out = np.transpose(val(0), a.get("perm"))
        else:
            self.fail(n, "no cost rule")
        return out

    # -- padding -------------------------------------------------------------------
    def padding(self, n, x: Data, k: tuple, s: tuple, d: tuple, pool: bool = False):
        """costcalc's padding for ONNX pads/auto_pad: symmetric [h, w], 'same', or the symmetric
        padding with the same output size (costs depend on the output size alone)."""
        auto = n.attrs.get("auto_pad", "NOTSET")
        if isinstance(auto, bytes):
            auto = auto.decode()
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            if any(x.pads):
                self.fail(n, "a Pad before a conv with auto_pad SAME is not supported")
            return "same"
        if auto == "VALID":
            pads = [0, 0, 0, 0]
        else:
            pads = list(n.attrs.get("pads", [0, 0, 0, 0]))
        if len(pads) != 4:
            self.fail(n, f"expected 4 pads (2-D), got {pads}")
        pads = [p + q for p, q in zip(pads, x.pads)]
        if any(p < 0 for p in pads):
            self.fail(n, f"negative padding {pads}")
        (t, l, b, r) = pads
        if t == b and l == r:
            return [t, l]
        ceil = bool(n.attrs.get("ceil_mode", 0)) if pool else False
        out = []
        for n_in, lo, hi, kk, ss, dd in ((x.shape.h, t, b, k[0], s[0], d[0]), (x.shape.w, l, r, k[1], s[1], d[1])):
            want = _length(n_in, lo + hi, kk, ss, dd, ceil)
            for p in sorted({(lo + hi) // 2, (lo + hi + 1) // 2}):
                if _length(n_in, 2 * p, kk, ss, dd, ceil) == want:
                    out.append(p)
                    break
            else:
                if not pool and want == -(-n_in // ss):
                    return "same"
                self.fail(n, f"padding {pads} has no symmetric equivalent")
        return out

    # -- operators on the data path --------------------------------------------------
    def op_Conv(self, n):
        x = self.data(n, 0)
        w = self.weight(n, 1)
        if len(w.dims) != 4:
            self.fail(n, f"only 2-D convolutions are costed (weight dims {list(w.dims)})")
        g = int(n.attrs.get("group", 1))
        out_c, per, kh, kw = w.dims
        if x.rank != 4:
            self.fail(n, "reads a 2-D tensor")
        if per * g != x.shape.c:
            self.fail(n, f"weight {list(w.dims)} with group {g} does not fit {x.shape.c} input channels")
        k = tuple(n.attrs.get("kernel_shape", (kh, kw)))
        s = tuple(n.attrs.get("strides", (1, 1)))
        d = tuple(n.attrs.get("dilations", (1, 1)))
        pad = self.padding(n, x, k, s, d)
        bias = self.weight(n, 2, optional=True) is not None
        geo = {"kernel": list(k), "stride": list(s), "padding": pad, "dilation": list(d), "bias": bias}
        if g == x.shape.c and g > 1 and out_c % g == 0:
            attrs = {"multiplier": out_c // g, **geo} if out_c != g else geo
            self.alias(n, self.emit(n, "dwconv", [x], attrs, default="dwconv"))
        else:
            attrs = {"groups": g, **geo} if g > 1 else geo
            self.alias(n, self.emit(n, "conv", [x], attrs, out_c=out_c, default="conv"))

    def op_Gemm(self, n):
        x = self.data(n, 0)
        if n.attrs.get("transA", 0):
            self.fail(n, "transA is not supported")
        w = self.weight(n, 1)
        if len(w.dims) != 2:
            self.fail(n, f"expected a 2-D weight, got {list(w.dims)}")
        out_c, fan_in = w.dims if n.attrs.get("transB", 0) else w.dims[::-1]
        self._linear(n, x, fan_in, out_c, self.weight(n, 2, optional=True) is not None)

    def _linear(self, n, x: Data, fan_in: int, out_c: int, bias: bool):
        elements = x.shape.c * x.shape.h * x.shape.w
        if fan_in != elements:
            self.fail(n, f"weight takes {fan_in} inputs, its input has {elements}")
        self.alias(n, self.emit(n, "linear", [x], {"bias": bias}, out_c=out_c, default="linear", scale=False))

    def op_MatMul(self, n):
        x = self.data(n, 0)
        w = self.weight(n, 1)
        if len(w.dims) != 2 or x.rank != 2:
            self.fail(n, "only a 2-D input times a 2-D constant weight is costed")
        self._linear(n, x, w.dims[0], w.dims[1], False)

    def op_BatchNormalization(self, n):
        x = self.data(n, 0)
        if len([y for y in n.outputs if y]) > 1:
            self.fail(n, "training-mode BatchNormalization (running statistics as outputs) is not supported")
        # a scale that is no learned parameter (ones made from a shape: a BatchNorm without one) costs none
        learned = len(n.inputs) > 1 and n.inputs[1] in self.params
        self.alias(n, self.emit(n, "bn", [x], {} if learned else {"gamma": False}, default="bn"))

    def _unary(self, n, ltype):
        x = self.data(n, 0)
        self.alias(n, self.emit(n, ltype, [x], {}, default=ltype))

    def op_Relu(self, n):
        self._unary(n, "relu")

    def op_Clip(self, n):
        lo = n.attrs.get("min") if "min" in n.attrs else _scalar(self.const(n, 1, optional=True))
        hi = n.attrs.get("max") if "max" in n.attrs else _scalar(self.const(n, 2, optional=True))
        self._unary(n, "relu6")
        if (lo, hi) != (0.0, 6.0):
            self.items[-1]["comment"] = f"ONNX Clip(min={lo}, max={hi}): one op per element, as relu6"

    def op_Sigmoid(self, n):
        self._unary(n, "sigmoid")

    def op_HardSigmoid(self, n):
        self._unary(n, "hsigmoid")

    def op_HardSwish(self, n):
        self._unary(n, "hswish")

    def op_Tanh(self, n):
        self._unary(n, "tanh")

    def op_Softmax(self, n):
        self._unary(n, "softmax")

    def op_LRN(self, n):
        x = self.data(n, 0)
        self.alias(n, self.emit(n, "lrn", [x], {"size": int(n.attrs.get("size", 5))}, default="lrn"))

    def op_Dropout(self, n):
        x = self.data(n, 0)
        ratio = n.attrs.get("ratio")
        if ratio is None and len(n.inputs) > 1 and n.inputs[1]:
            ratio = _scalar(self.const(n, 1))
        ratio = 0.5 if ratio is None else float(ratio)
        self.alias(n, self.emit(n, "dropout", [x], {"rate": ratio} if 0 <= ratio < 1 else {}, default="dropout"))

    def op_Identity(self, n):
        x = self.data(n, 0)
        if x.shuffle is not None:
            return self.alias(n, x)  # inside a channel shuffle (Transpose, Identity, Reshape)
        self.alias(n, self.emit(n, "identity", [x], {}, default="identity"))

    def _view(self, n, x: Data, rank: int):
        self.alias(n, x._replace(rank=rank))

    def op_Flatten(self, n):
        x = self.data(n, 0)
        if int(n.attrs.get("axis", 1)) != 1:
            self.fail(n, "only Flatten(axis=1) is supported")
        self._flatten(n, x)

    def _flatten(self, n, x: Data):
        out = n.outputs[0]
        consumers = [m for m in self.m.nodes if out in m.inputs]
        if x.rank == 2 or (x.shape.h == 1 and x.shape.w == 1) or (
                consumers and all(m.op in ("Gemm", "MatMul") for m in consumers)):
            self._view(n, x, 2)  # a linear layer reads its whole input: nothing to cost
        else:
            self.alias(n, self.emit(n, "flatten", [x], {}, default="flatten"))

    def op_Squeeze(self, n):
        x = self.data(n, 0)
        if x.rank == 4 and x.shape.h == 1 and x.shape.w == 1:
            return self._view(n, x, 2)
        self.fail(n, "only squeezing 1x1 height and width is supported")

    def op_Unsqueeze(self, n):
        x = self.data(n, 0)
        if x.rank == 2 and x.shape.h == 1 and x.shape.w == 1:
            return self._view(n, x, 4)
        self.fail(n, "only N, C -> N, C, 1, 1 is supported")

    def op_Reshape(self, n):
        x = self.data(n, 0)
        shape = [int(v) for v in self.const(n, 1).reshape(-1).tolist()]
        dims = [1, x.shape.c, x.shape.h, x.shape.w] if x.rank == 4 else [1, x.shape.c * x.shape.h * x.shape.w]
        if x.shuffle is not None:
            kind, g = x.shuffle
            if kind == "transposed" and len(shape) == 4:
                c = x.shape.c
                if shape[1:] in ([c, x.shape.h, x.shape.w], [-1, x.shape.h, x.shape.w]):
                    return self.alias(n, self.emit(n, "shuffle", [x._replace(shuffle=None)], {"groups": g}, default="shuffle"))
            self.fail(n, "a 5-D Reshape that is not part of a channel shuffle")
        shape = [dims[i] if v == 0 and i < len(dims) else v for i, v in enumerate(shape)]
        total = math.prod(dims[1:])
        if len(shape) == 5 and x.rank == 4:
            g = shape[1]
            if g > 0 and shape[3:] == [x.shape.h, x.shape.w] and shape[2] in (x.shape.c // g, -1) and x.shape.c % g == 0:
                return self.alias(n, x._replace(shuffle=("reshaped", g)))
        if len(shape) == 2 and shape[1] in (total, -1):
            return self._flatten(n, x)
        if len(shape) == 4 and x.rank == 2 and shape[1:] in ([total, 1, 1], [-1, 1, 1], [1, 1, total], [1, 1, -1]):
            return self._view(n, x, 4)  # N x C -> N x C x 1 x 1 (or N x 1 x 1 x C): the same values
        if len(shape) == 4 and x.rank == 4 and shape[1:] in ([x.shape.c, x.shape.h, x.shape.w], [-1, x.shape.h, x.shape.w]):
            return self.alias(n, x)
        self.fail(n, f"Reshape to {shape} is not supported (a flatten, N,C<->N,C,1,1, or a channel shuffle is)")

    def op_Transpose(self, n):
        x = self.data(n, 0)
        perm = list(n.attrs.get("perm", []))
        if x.nhwc and perm == [0, 3, 1, 2]:
            return self.alias(n, x._replace(nhwc=False))  # a layout change: costed as the same tensor
        if not x.nhwc and x.rank == 4 and x.shuffle is None and perm == [0, 2, 3, 1]:
            return self.alias(n, x._replace(nhwc=True))
        if x.shape.h == 1 and x.shape.w == 1 and x.shuffle is None and perm in ([0, 3, 1, 2], [0, 2, 3, 1]):
            return self.alias(n, x._replace(nhwc=perm == [0, 2, 3, 1]))  # 1 x 1: the layouts are the same
        if x.shuffle is not None and x.shuffle[0] == "reshaped" and perm == [0, 2, 1, 3, 4]:
            return self.alias(n, x._replace(shuffle=("transposed", x.shuffle[1])))
        self.fail(n, f"Transpose {perm} is not supported (only as part of a channel shuffle)")

    def _same_layout(self, n, ins: list[Data]):
        spatial = {x.nhwc for x in ins if x.shape.h * x.shape.w > 1}  # a 1 x 1 tensor has no layout
        if len(spatial) > 1:
            self.fail(n, "joins tensors of different layouts (N, C, H, W and N, H, W, C)")

    def _merge(self, n, ltype):
        ins = [self.data(n, i) for i in range(len(n.inputs))]
        self._same_layout(n, ins)
        out = self.emit(n, ltype, ins, {}, default=ltype)
        self.alias(n, out._replace(nhwc=any(x.nhwc for x in ins)) if out.shape.h * out.shape.w > 1 else out)

    def op_Add(self, n):
        a, b = (self.vals.get(x) for x in n.inputs[:2])
        if isinstance(a, Data) and isinstance(b, Data):
            return self._merge(n, "add")
        k = 0 if isinstance(a, Data) else 1
        x, w = (a, b) if k == 0 else (b, a)
        item = self.by_name.get(x.layer) if x.layer else None
        size = w.size if isinstance(w, Tensor) else int(getattr(w, "size", 0))
        if (item is not None and item is self.items[-1] and item["type"] in ("linear", "conv", "dwconv")
                and not item.get("bias") and self.uses.get(n.inputs[k], 0) == 1 and n.inputs[1 - k] in self.params
                and size == x.shape.c):
            item["bias"] = True  # MatMul + Add (or Conv + Add) of a constant: the layer's bias
            return self.alias(n, x)
        if (x.pre or self._scalar_const(n.inputs[1 - k])) and self._constant_op(n):
            return None
        self.fail(n, "adds a constant: no cost rule (only as the bias of the layer before it)")

    def op_Cast(self, n):
        self.alias(n, self.data(n, 0))  # a float type to a float type: the same tensor

    def _per_channel(self, n, x: Data, name: str) -> bool:
        """Whether constant `name` holds one value per channel of `x`, on its channel axis."""
        v = self.vals.get(name)
        dims = tuple(v.dims) if isinstance(v, Tensor) else tuple(np_shape(v))
        if math.prod(dims) != x.shape.c:
            return False
        if x.shape.c == 1:
            return True
        axes = [i - len(dims) for i, d in enumerate(dims) if d != 1]
        return axes == ([-1] if x.nhwc or x.rank == 2 else [-3])

    def _consumer(self, tensor: str, op: str):
        users = [m for m in self.m.nodes if tensor in m.inputs]
        return users[0] if len(users) == 1 and users[0].op == op and self.uses.get(tensor, 0) == 1 else None

    def _affine(self, n, x: Data, chain: list, ltype: str = "bn", optional: int = 0) -> bool:
        """A BatchNorm as exporters spell it out, (x - mean) * scale + shift, each a constant per
        channel: one bn layer; x * scale (+ shift), a folded BatchNorm's remains: one scale layer.
        The last `optional` operators of `chain` may be missing."""
        cur, nodes = n, [n]
        for j, op in enumerate(chain):
            nxt = self._consumer(cur.outputs[0], op)
            if nxt is None and j >= len(chain) - optional:
                break
            if nxt is None:
                return False
            k = 0 if nxt.inputs[1] == cur.outputs[0] else 1
            if nxt.inputs[k] not in self.params and not isinstance(self.vals.get(nxt.inputs[k]), Tensor):
                return False
            if not self._per_channel(nxt, x, nxt.inputs[k]):
                return False
            nodes.append(nxt)
            cur = nxt
        attrs = {"bias": len(nodes) > 1} if ltype == "scale" else {}
        out = self.emit(n, ltype, [x], attrs, default=ltype)
        for m_ in nodes:
            self.alias(m_, out)
        self.absorbed.update(y for m_ in nodes[1:] for y in m_.outputs)
        return True

    def _constant_op(self, n) -> bool:
        """Arithmetic of a tensor with a constant that is not learned: a single number anywhere, or
        one per channel on the input itself (Keras' Rescaling and Normalization): an eltwise layer."""
        a, b = (self.vals.get(x) for x in n.inputs[:2])
        if isinstance(a, Data) == isinstance(b, Data):
            return False
        k = 1 if isinstance(a, Data) else 0
        if k == 0 and n.op in ("Sub", "Div"):
            return False  # a constant minus (or over) the tensor: not an eltwise layer
        x = self.data(n, 1 - k)
        v = self.vals.get(n.inputs[k])
        dims = tuple(v.dims) if isinstance(v, Tensor) else tuple(np_shape(v))
        if math.prod(dims) != 1 and not (x.pre and self._per_channel(n, x, n.inputs[k])):
            return False
        if len(dims) > x.rank:
            return False
        self.alias(n, self.emit(n, "eltwise", [x], {"op": n.op.lower()}, default=n.op.lower()))
        return True

    def _scalar_const(self, name: str) -> bool:
        v = self.vals.get(name)
        dims = tuple(v.dims) if isinstance(v, Tensor) else tuple(np_shape(v))
        return math.prod(dims) == 1

    def op_Div(self, n):
        if not self._constant_op(n):
            self.fail(n, "divides: no cost rule (only by a constant on the input: an eltwise layer)")

    def op_Sub(self, n):
        x = self.vals.get(n.inputs[0])
        if isinstance(x, Data) and x.pre and self._constant_op(n):
            return None
        if isinstance(x, Data) and not isinstance(self.vals.get(n.inputs[1]), Data) and self._per_channel(n, self.data(n, 0), n.inputs[1]):
            if self._affine(n, x, ["Mul", "Add"]):
                return None
        self.fail(n, "subtracts: no cost rule (only as part of a BatchNorm spelled (x - mean) * scale + shift)")

    def op_Sum(self, n):
        self._merge(n, "add")

    def op_Mul(self, n):
        a, b = (self.vals.get(x) for x in n.inputs[:2])
        if not (isinstance(a, Data) and isinstance(b, Data)):
            x, k = (a, 1) if isinstance(a, Data) else (b, 0)
            if (x.pre or self._scalar_const(n.inputs[k])) and self._constant_op(n):
                return None
            if self._per_channel(n, self.data(n, 1 - k), n.inputs[k]) and self._affine(n, x, ["Add"], "scale", optional=1):
                return None
            self.fail(n, "multiplies by a constant: no cost rule (only by one factor per channel: a scale layer)")
        for gate, other in ((b, a), (a, b)):
            item = self.by_name.get(gate.layer) if gate.layer else None
            if (item is not None and item["type"] in ("sigmoid", "hsigmoid") and item is self.items[-1]
                    and _source(item, self) == other.layer and gate.shape.c == other.shape.c
                    and gate.shape.h == other.shape.h and self.uses.get(n.inputs[0 if gate is a else 1], 0) == 1):
                item["type"] = "swish" if item["type"] == "sigmoid" else "hswish"  # x * sigmoid(x)
                return self.alias(n, gate)
        self._merge(n, "mul")

    def op_Concat(self, n):
        ins = [self.data(n, i) for i in range(len(n.inputs))]
        axis = int(n.attrs.get("axis", 1))
        if any(x.nhwc for x in ins):
            axis = {3: 1, -1: 1}.get(axis, 0)
        self._same_layout(n, ins)
        if axis not in (1, 1 - ins[0].rank):
            self.fail(n, f"Concat on axis {axis}: only channels (axis 1) are supported")
        self.alias(n, self.emit(n, "concat", ins, {}, default="concat"))

    def _section(self, n, x: Data, size: int, index: int, output: str, sections: int):
        self.vals[output] = self.emit(n, "split", [x], {"sections": sections, "index": index}, default=f"split{index}")

    def op_Split(self, n):
        x = self.data(n, 0)
        if int(n.attrs.get("axis", 0)) not in (1, -3 if x.rank == 4 else -1):
            self.fail(n, "Split on an axis other than channels is not supported")
        k = len(n.outputs)
        sizes = n.attrs.get("split")
        if sizes is None and len(n.inputs) > 1 and n.inputs[1]:
            sizes = self.const(n, 1).tolist()
        if sizes is None:
            if x.shape.c % k:
                sizes = [-(-x.shape.c // k)] * (k - 1) + [x.shape.c - (k - 1) * -(-x.shape.c // k)]
            else:
                sizes = [x.shape.c // k] * k
        if len(set(sizes)) != 1 or sum(sizes) != x.shape.c:
            self.fail(n, f"Split into {list(sizes)} channels: only equal sections are supported")
        for i, y in enumerate(n.outputs):
            if y and self.uses.get(y, 0):
                self._section(n, x, sizes[0], i, y, k)

    def op_Slice(self, n):
        x = self.data(n, 0)
        starts, ends = self.const(n, 1).tolist(), self.const(n, 2).tolist()
        axes = self.const(n, 3, optional=True)
        axes = axes.tolist() if axes is not None else list(range(len(starts)))
        steps = self.const(n, 4, optional=True)
        steps = steps.tolist() if steps is not None else [1] * len(starts)
        c = x.shape.c
        if len(starts) != 1 or axes[0] not in (1, -3) or steps[0] != 1:
            self.fail(n, "only a slice of channels (axis 1, step 1) is supported")
        s, e = (min(max(v + c if v < 0 else v, 0), c) for v in (starts[0], ends[0]))
        size = e - s
        if size <= 0 or c % size or s % size:
            self.fail(n, f"channels {s}:{e} of {c} are not an equal section")
        self._section(n, x, size, s // size, n.outputs[0], c // size)

    def op_Pad(self, n):
        x = self.data(n, 0)
        mode = n.attrs.get("mode", "constant")
        pads = n.attrs.get("pads")
        if pads is None:
            pads = self.const(n, 1).tolist()
        value = n.attrs.get("value", 0.0)
        if len(n.inputs) > 2 and n.inputs[2]:
            value = _scalar(self.const(n, 2))
        hw = (1, 2, 5, 6) if x.nhwc else (2, 3, 6, 7)
        if mode != "constant" or value not in (0, 0.0, None) or len(pads) != 8 or any(pads[i] for i in range(8) if i not in hw):
            self.fail(n, f"only zero padding of height and width is supported (mode {mode}, pads {list(pads)})")
        t, l, b, r = (pads[i] for i in hw)
        self.alias(n, x._replace(pads=tuple(p + q for p, q in zip(x.pads, (t, l, b, r)))))

    def _pool(self, n, ltype):
        x = self.data(n, 0)
        k = tuple(n.attrs.get("kernel_shape", ()))
        if len(k) != 2:
            self.fail(n, f"only 2-D pooling is costed (kernel {list(k)})")
        if tuple(n.attrs.get("dilations", (1, 1))) != (1, 1):
            self.fail(n, "pooling with dilations is not supported")
        s = tuple(n.attrs.get("strides", (1, 1)))
        pad = self.padding(n, x, k, s, (1, 1), pool=True)
        attrs = {"kernel": list(k), "stride": list(s), "padding": pad, "ceil": bool(n.attrs.get("ceil_mode", 0))}
        self.alias(n, self.emit(n, ltype, [x], attrs, default=ltype))

    def op_MaxPool(self, n):
        if len([y for y in n.outputs if y]) > 1:
            self.fail(n, "MaxPool with indices is not supported")
        self._pool(n, "maxpool")

    def op_AveragePool(self, n):
        self._pool(n, "avgpool")

    def op_GlobalAveragePool(self, n):
        self.alias(n, self.emit(n, "avgpool", [self.data(n, 0)], {"global": True}, default="avgpool"))

    def op_GlobalMaxPool(self, n):
        self.alias(n, self.emit(n, "maxpool", [self.data(n, 0)], {"global": True}, default="maxpool"))

    def _reduce(self, n, ltype):
        x = self.data(n, 0)
        axes = n.attrs.get("axes")
        if axes is None and len(n.inputs) > 1 and n.inputs[1]:
            axes = self.const(n, 1).tolist()
        if x.rank != 4 or sorted(int(a) % 4 for a in (axes or ())) != ([1, 2] if x.nhwc else [2, 3]):
            self.fail(n, f"only a reduction over height and width is supported (axes {axes})")
        out = self.emit(n, ltype, [x], {"global": True}, default=ltype)
        self.alias(n, out if n.attrs.get("keepdims", 1) else out._replace(rank=2))

    def op_ReduceMean(self, n):
        self._reduce(n, "avgpool")

    def op_ReduceMax(self, n):
        self._reduce(n, "maxpool")


#: the most values a folded constant may have (shape arithmetic needs a handful)
_FOLD_MAX = 1 << 20


def _bounded(node, imp: "Importer", size: float) -> None:
    if not 0 <= size <= _FOLD_MAX:
        imp.fail(node, "a constant too large to evaluate")


def np_shape(v) -> tuple:
    import numpy as np

    return np.shape(v)


def _source(item: dict, imp: Importer) -> str | None:
    """The layer an item reads (its `from`, else the item before it)."""
    if "from" in item:
        f = item["from"]
        return None if isinstance(f, list) else (None if f == "input" else f)
    k = imp.items.index(item)
    return imp.items[k - 1]["name"] if k > 0 else None


def _scalar(v):
    if v is None:
        return None
    return float(v.reshape(-1)[0]) if getattr(v, "size", 0) else None


def _length(n: int, total_pad: int, k: int, s: int, d: int, ceil: bool) -> int:
    span = n + total_pad - d * (k - 1) - 1
    return (-(-span // s) if ceil else span // s) + 1


def _rule_attrs(ltype: str, attrs: dict) -> dict:
    """The attrs as the cost rules read them (the loader's defaults filled in)."""
    out = dict(attrs)
    for key, (_, default) in LAYER_TYPES[ltype].items():  # the IR's own defaults (not REQUIRED ones)
        if default is not REQUIRED:
            out.setdefault(key, default)
    return out


def read_onnx(path: str, shown: str, max_nodes: int, allow_unknown: bool = False) -> dict:
    """The spec document of an ONNX file (a dict, checked later by build_spec)."""
    import mmap

    from .onnxio import read_model

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise SpecError(shown, "", f"cannot read: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as fh:
        import stat

        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise SpecError(shown, "", "not a regular file (a FIFO, device or socket cannot be a spec)")
        if st.st_size == 0:
            raise SpecError(shown, "", "empty file, not an ONNX model")
        if st.st_size >= 2**31:
            raise SpecError(shown, "", "larger than 2 GiB, the limit of an ONNX file (weights outside it are not needed)")
        try:
            buf = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as exc:
            raise SpecError(shown, "", f"cannot read: {exc}") from None
        try:
            try:
                model = read_model(buf, max_nodes)
            except OnnxFormatError as exc:
                raise SpecError(shown, "", f"not a readable ONNX model: {exc}") from None
            return document(model, shown, allow_unknown)
        finally:
            buf.close()


def document(model: Model, shown: str, allow_unknown: bool = False) -> dict:
    imp = Importer(model, shown, allow_unknown)
    items = imp.convert()
    stem = os.path.splitext(os.path.basename(shown))[0] or "model"
    c, h, w = imp.input
    producer = " ".join(f"{model.producer}".split()) or "an unnamed producer"
    opset = model.opsets.get("", model.opsets.get("ai.onnx"))
    return {
        "name": stem,
        "title": f"{stem} (ONNX)",
        "description": f"Imported from {os.path.basename(shown)}: made by {producer}, ONNX operator set {opset}. "
                       "Widths are as in the file (fixed); the resolution may be changed.",
        "input": {"channels": c, "size": [h, w]},
        "width": {"rounding": "fixed"},
        "layers": items,
    }
