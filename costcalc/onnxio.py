"""Read an ONNX model without the onnx package: a small decoder of the protobuf wire format.

Only the fields costcalc uses are decoded (opsets, the graph's nodes, initializers, inputs,
outputs and value_info); a weight's bytes are never copied or decoded, only its dims, so a
100 MB model is read in the time it takes to walk its structure.  Field numbers are those of
onnx/onnx.proto (ModelProto.graph = 7, GraphProto.node = 1, ...).  Every malformed or
truncated byte string is an :class:`OnnxFormatError` naming the byte offset.
"""

from __future__ import annotations

import struct
from typing import Any, NamedTuple


class OnnxFormatError(ValueError):
    """Not a readable ONNX model (the front end adds the file name)."""


#: TensorProto.DataType -> (numpy dtype name, bytes per element)
DTYPES = {1: ("float32", 4), 2: ("uint8", 1), 3: ("int8", 1), 4: ("uint16", 2), 5: ("int16", 2), 6: ("int32", 4),
          7: ("int64", 8), 9: ("bool", 1), 10: ("float16", 2), 11: ("float64", 8), 12: ("uint32", 4), 13: ("uint64", 8)}
#: values of a constant tensor are decoded only up to this many elements (shapes, pads, clip bounds)
MAX_VALUES = 1 << 16


class Tensor(NamedTuple):
    name: str
    dims: tuple[int, ...]
    dtype: int
    raw: Any  # (start, end) of raw_data, or a list of typed values, or None (external data)
    buf: Any = None

    @property
    def size(self) -> int:
        n = 1
        for d in self.dims:
            n *= d
        return n

    def values(self):
        """The tensor's values as a numpy array (small tensors only)."""
        import numpy as np

        if self.size > MAX_VALUES:
            raise OnnxFormatError(f"tensor {self.name!r}: {self.size} values is too many to read as a constant")
        if self.dtype not in DTYPES:
            raise OnnxFormatError(f"tensor {self.name!r}: data type {self.dtype} is not supported")
        dtype, width = DTYPES[self.dtype]
        if self.raw is None:
            raise OnnxFormatError(f"tensor {self.name!r}: its values are stored outside the file (external data)")
        if isinstance(self.raw, tuple):
            s, e = self.raw
            if e - s != self.size * width:
                raise OnnxFormatError(f"tensor {self.name!r}: {e - s} bytes of data for {self.size} values")
            arr = np.frombuffer(bytes(self.buf[s:e]), dtype=np.dtype(dtype).newbyteorder("<"))
        else:
            arr = np.array(self.raw, dtype=np.float64 if dtype.startswith("float") else np.int64)
            if arr.size != self.size:
                raise OnnxFormatError(f"tensor {self.name!r}: {arr.size} values for dims {list(self.dims)}")
        return arr.reshape(self.dims)


class Node(NamedTuple):
    name: str
    op: str
    domain: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attrs: dict
    doc: str = ""
    meta: dict = {}


class ValueInfo(NamedTuple):
    name: str
    elem_type: int
    dims: tuple | None  # each an int, a str (symbolic) or None (unknown); None: no shape


class Model(NamedTuple):
    ir_version: int
    opsets: dict  # domain -> version
    producer: str
    nodes: list
    initializers: dict  # name -> Tensor
    inputs: list  # ValueInfo
    outputs: list
    value_info: dict  # name -> ValueInfo
    graph_name: str = ""
    doc: str = ""


# -- wire format ---------------------------------------------------------------


def _varint(buf, pos: int, end: int):
    result = shift = 0
    while True:
        if pos >= end:
            raise OnnxFormatError(f"truncated at byte {pos}")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise OnnxFormatError(f"malformed number at byte {pos}")


def _fields(buf, start: int, end: int) -> dict:
    """field number -> list of (wire type, value); length-delimited values are (start, end)."""
    out: dict = {}
    pos = start
    while pos < end:
        key, pos = _varint(buf, pos, end)
        field, wt = key >> 3, key & 7
        if field == 0:
            raise OnnxFormatError(f"malformed field at byte {pos}")
        if wt == 0:
            value, pos = _varint(buf, pos, end)
        elif wt == 2:
            n, pos = _varint(buf, pos, end)
            if pos + n > end:
                raise OnnxFormatError(f"truncated at byte {end} (a field of {n} bytes at byte {pos})")
            value = (pos, pos + n)
            pos += n
        elif wt == 5:
            if pos + 4 > end:
                raise OnnxFormatError(f"truncated at byte {end}")
            value = bytes(buf[pos:pos + 4])
            pos += 4
        elif wt == 1:
            if pos + 8 > end:
                raise OnnxFormatError(f"truncated at byte {end}")
            value = bytes(buf[pos:pos + 8])
            pos += 8
        else:
            raise OnnxFormatError(f"unknown wire type {wt} at byte {pos}")
        out.setdefault(field, []).append((wt, value))
    return out


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def _str(buf, fields, n, default="") -> str:
    for wt, v in reversed(fields.get(n, ())):
        if wt == 2:
            return bytes(buf[v[0]:v[1]]).decode("utf-8", "replace")
    return default


def _strs(buf, fields, n) -> tuple:
    return tuple(bytes(buf[s:e]).decode("utf-8", "replace") for wt, (s, e) in fields.get(n, ()) if wt == 2)


def _int(fields, n, default=0) -> int:
    vals = fields.get(n)
    if not vals or vals[-1][0] != 0:
        return default
    return _signed(vals[-1][1])


def _ints(buf, fields, n) -> list:
    out = []
    for wt, v in fields.get(n, ()):
        if wt == 0:
            out.append(_signed(v))
        elif wt == 2:  # packed
            pos, end = v
            while pos < end:
                x, pos = _varint(buf, pos, end)
                out.append(_signed(x))
    return out


def _reals(buf, fields, n, width: int) -> list:
    """Repeated float (width 4) or double (8) values, packed or not."""
    code, single = ("<f", 5) if width == 4 else ("<d", 1)
    out = []
    for wt, v in fields.get(n, ()):
        if wt == single:
            out.append(struct.unpack(code, v)[0])
        elif wt == 2:
            s, e = v
            if (e - s) % width:
                raise OnnxFormatError(f"malformed numbers at byte {s}")
            out.extend(struct.unpack(f"<{(e - s) // width}{code[1]}", bytes(buf[s:e])))
    return out


def _floats(buf, fields, n) -> list:
    return _reals(buf, fields, n, 4)


def _doubles(buf, fields, n) -> list:
    return _reals(buf, fields, n, 8)


def _messages(fields, n):
    return [v for wt, v in fields.get(n, ()) if wt == 2]


# -- messages ------------------------------------------------------------------


def _tensor(buf, s: int, e: int) -> Tensor:
    f = _fields(buf, s, e)
    dims = tuple(_ints(buf, f, 1))
    if any(d < 0 for d in dims):
        raise OnnxFormatError(f"tensor at byte {s}: negative dimension {list(dims)}")
    dtype = _int(f, 2)
    name = _str(buf, f, 8)
    if _int(f, 14) == 1:  # data_location EXTERNAL: only the dims are known
        raw = None
    elif 9 in f:
        raw = _messages(f, 9)[-1]
    elif dtype in (1, 10):  # float_data (float16 is stored in int32_data, not decoded here)
        raw = _floats(buf, f, 4) if dtype == 1 else _ints(buf, f, 5)
    elif dtype == 7:
        raw = _ints(buf, f, 7)
    elif dtype == 11:
        raw = _doubles(buf, f, 10)
    elif dtype == 13:
        raw = _ints(buf, f, 11)
    else:
        raw = _ints(buf, f, 5)
    return Tensor(name, dims, dtype, raw, buf)


#: AttributeProto.type -> how to read it
_ATTR_FIELDS = {1: "f", 2: "i", 3: "s", 4: "t", 5: "g", 6: "floats", 7: "ints", 8: "strings", 9: "tensors", 10: "graphs"}


def _attribute(buf, s: int, e: int):
    f = _fields(buf, s, e)
    name = _str(buf, f, 1)
    kind = _int(f, 20)
    if kind == 0:  # old files: the type is the field that is present
        for field, k in ((2, 1), (3, 2), (4, 3), (5, 4), (6, 5), (7, 6), (8, 7), (9, 8), (10, 9), (11, 10)):
            if field in f:
                kind = k
                break
    if kind == 1:
        vals = _floats(buf, f, 2)
        value = vals[-1] if vals else 0.0
    elif kind == 2:
        value = _int(f, 3)
    elif kind == 3:
        value = _str(buf, f, 4)
    elif kind == 4:
        ts = _messages(f, 5)
        value = _tensor(buf, *ts[-1]) if ts else None
    elif kind == 6:
        value = _floats(buf, f, 7)
    elif kind == 7:
        value = _ints(buf, f, 8)
    elif kind == 8:
        value = list(_strs(buf, f, 9))
    else:  # graphs, sparse tensors, type protos: not read (no CNN operator costcalc costs takes them)
        value = ("unsupported attribute", kind)
    return name, value


def _value_info(buf, s: int, e: int) -> ValueInfo:
    f = _fields(buf, s, e)
    name = _str(buf, f, 1)
    elem, dims = 0, None
    types = _messages(f, 2)
    if types:
        tf = _fields(buf, *types[-1])
        tensor = _messages(tf, 1)
        if tensor:
            tt = _fields(buf, *tensor[-1])
            elem = _int(tt, 1)
            shapes = _messages(tt, 2)
            if shapes:
                sf = _fields(buf, *shapes[-1])
                dl = []
                for ds, de in _messages(sf, 1):
                    df = _fields(buf, ds, de)
                    if 1 in df:
                        dl.append(_int(df, 1))
                    elif 2 in df:
                        dl.append(_str(buf, df, 2))
                    else:
                        dl.append(None)
                dims = tuple(dl)
    return ValueInfo(name, elem, dims)


def _node(buf, s: int, e: int) -> Node:
    f = _fields(buf, s, e)
    attrs = dict(_attribute(buf, *a) for a in _messages(f, 5))
    meta = {}
    for ms, me in _messages(f, 9):
        mf = _fields(buf, ms, me)
        meta[_str(buf, mf, 1)] = _str(buf, mf, 2)
    return Node(_str(buf, f, 3), _str(buf, f, 4), _str(buf, f, 7), _strs(buf, f, 1), _strs(buf, f, 2), attrs,
                _str(buf, f, 6), meta)


def read_model(buf, max_nodes: int = 1_000_000) -> Model:
    """Decode a serialized ModelProto (bytes, or an mmap)."""
    end = len(buf)
    if end == 0:
        raise OnnxFormatError("empty file")
    top = _fields(buf, 0, end)
    graphs = _messages(top, 7)
    if not graphs or 1 not in top:
        raise OnnxFormatError("not an ONNX model (no ir_version or no graph)")
    opsets = {}
    for os_, oe in _messages(top, 8):
        of = _fields(buf, os_, oe)
        opsets[_str(buf, of, 1)] = _int(of, 2)
    g = _fields(buf, *graphs[-1])
    node_msgs = _messages(g, 1)
    if len(node_msgs) > max_nodes:
        raise OnnxFormatError(f"{len(node_msgs):,} nodes is more than the limit of {max_nodes:,} (see --max-layers)")
    nodes = [_node(buf, *m) for m in node_msgs]
    inits = {}
    for m in _messages(g, 5):
        t = _tensor(buf, *m)
        inits[t.name] = t
    inputs = [_value_info(buf, *m) for m in _messages(g, 11)]
    outputs = [_value_info(buf, *m) for m in _messages(g, 12)]
    vinfo = {v.name: v for v in (_value_info(buf, *m) for m in _messages(g, 13))}
    return Model(_int(top, 1), opsets, _str(buf, top, 2), nodes, inits, inputs, outputs, vinfo,
                 _str(buf, g, 2), _str(buf, top, 6))
