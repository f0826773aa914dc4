"""Latency from counts: a roofline per layer, device profiles as data, and its calibration.

For each layer, with its MACs, other ops and memory access (costcalc's counts, at the batch asked):

    time = max(MACs / rate[kind] + ops / ops_rate, bytes moved / bandwidth) + overhead

The compute rate depends on the layer kind (a dense conv runs near the peak, a depthwise conv far
from it: ShuffleNet v2's point that FLOPs alone do not predict speed); element-wise layers and data
movement (concat, split, shuffle) are bound by memory; views (flatten, dropout, identity) cost
nothing. A profile is a YAML file with these rates and where they come from: bundled ones for
devices whose peak compute and bandwidth are published, or one that `costcalc calibrate` fits on
this machine from measured probe layers.
"""

from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np

from .errors import SpecError

#: the kinds of layer the roofline distinguishes, and the compute kinds a profile gives a rate for
KINDS = ("conv", "conv1x1", "group", "dwconv", "linear", "elementwise", "data", "view")
COMPUTE_KINDS = ("conv", "conv1x1", "group", "dwconv", "linear")
DATA_TYPES = ("concat", "split", "shuffle")
VIEW_TYPES = ("flatten", "dropout", "identity", "uncosted")
#: what a runtime may fuse into the conv before it (BatchNorm folded into its weights, the activation
#: applied as the conv writes its output)
FUSABLE = ("bn", "scale", "relu", "relu6", "hswish", "sigmoid", "swish")


def kind_of(layer) -> str:
    """The profile's kind of a layer. Over a grid, a conv whose groups or kernel name the
    configuration (a Deferred; one configuration's spec has them evaluated) counts as a plain conv."""
    t = layer.type
    if t == "conv":
        groups, kernel = layer.attrs["groups"], layer.attrs["kernel"]
        if type(groups) is int and groups > 1:
            return "group"
        return "conv1x1" if type(kernel) is tuple and kernel == (1, 1) else "conv"
    if t in ("dwconv", "linear"):
        return t
    if t in DATA_TYPES:
        return "data"
    if t in VIEW_TYPES:
        return "view"
    return "elementwise"


class Profile(NamedTuple):
    name: str
    title: str
    macs_per_s: dict  # compute kind -> multiply-accumulates per second
    ops_per_s: float  # other element-wise operations per second
    bandwidth: float  # bytes per second
    overhead: float  # seconds per layer (dispatch, kernel launch)
    data_bandwidth: float | None = None  # bytes per second of data movement (concat, split, shuffle); default: bandwidth
    run_overhead: float = 0.0  # seconds per inference besides its layers (the runtime's own work per call)
    bytes_per_element: int = 4
    threads: int | None = None
    source: str = ""  # the file
    sources: dict = {}  # figure -> where it comes from
    description: str = ""
    fuse: tuple = ()  # layer types the runtime fuses into the conv or linear layer before them (free)


def devices_dir() -> str:
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "devices")


def device_names() -> list[str]:
    return sorted(f[:-5] for f in os.listdir(devices_dir()) if f.endswith(".yaml"))


def _declaration():
    from .format import Dict, Enum, Int, List, Map, Name, Num, Str

    rate = Num(0, 1e18, lo_open=True)
    return Map({
        "name": Name(), "title": Str(), "description": Str(),
        "kind": Enum("cpu", "gpu", "npu"),
        "threads": Int(1, 4096),
        "macs_per_s": Map({k: rate for k in COMPUTE_KINDS}, required=COMPUTE_KINDS,
                          what=f"a mapping of MACs per second ({', '.join(COMPUTE_KINDS)})"),
        "ops_per_s": rate,
        "bandwidth": rate,
        "data_bandwidth": rate,
        "overhead": Num(0, 1),
        "run_overhead": Num(0, 10),
        "bytes_per_element": Int(1, 16),
        "sources": Dict(Str(nonempty=True), Name()),
        "measured": Dict(Str(), Name()),
        "fuse": List(Enum(*FUSABLE)),
    }, required=("macs_per_s", "ops_per_s", "bandwidth", "overhead"), what="a device profile (a mapping)")


def load_profile(ref: str) -> Profile:
    """A bundled device (`gtx1080ti`) or a profile file; problems are one-line SpecErrors."""
    from .spec import read_text
    from .yamlio import parse_yaml

    if not isinstance(ref, str) or not ref:
        raise SpecError(repr(ref), "", "expected a device name or a profile file")
    path = ref
    if os.sep not in ref and "/" not in ref and not os.path.exists(ref):
        path = os.path.join(devices_dir(), f"{ref[:-5] if ref.endswith('.yaml') else ref}.yaml")
        if not os.path.isfile(path):
            from .format import did_you_mean

            names = device_names()
            raise SpecError(ref, "", f"no such device profile or file{did_you_mean(ref, names)} (devices: {', '.join(names)})")
        shown = os.path.basename(path)
    else:
        shown = ref
    text = read_text(path, shown, 1 << 20, "device profile")
    doc = parse_yaml(text, shown, max_items=10_000)
    if not isinstance(doc, dict):
        raise SpecError(shown, "", "expected a device profile (a mapping)")
    doc = _declaration().check(doc, shown, "", getattr(doc, "line", None))
    return Profile(
        name=str(doc.get("name", os.path.splitext(os.path.basename(shown))[0])),
        title=str(doc.get("title", "")), macs_per_s={k: float(v) for k, v in doc["macs_per_s"].items()},
        ops_per_s=float(doc["ops_per_s"]), bandwidth=float(doc["bandwidth"]), overhead=float(doc["overhead"]),
        bytes_per_element=int(doc.get("bytes_per_element", 4)), threads=doc.get("threads"), source=shown,
        sources=dict(doc.get("sources") or {}), description=" ".join(str(doc.get("description", "")).split()),
        fuse=tuple(doc.get("fuse") or ()),
        data_bandwidth=float(doc["data_bandwidth"]) if "data_bandwidth" in doc else None,
        run_overhead=float(doc.get("run_overhead", 0.0)),
    )


class Prediction(NamedTuple):
    seconds: np.ndarray  # per layer, (layers, *grid)
    compute: np.ndarray
    memory: np.ndarray
    kinds: list
    run_overhead: float = 0.0

    @property
    def total(self):
        """Seconds of one inference (its layers and the per-run overhead): a float for one
        configuration, else an array of the grid's shape."""
        t = self.seconds.sum(axis=0) + self.run_overhead
        return float(t.reshape(-1)[0]) if t.size == 1 else t

    def bound(self, i: int) -> str:
        """compute, memory, fused or '' (a view), for layer i of a one-configuration prediction."""
        if self.kinds[i] in ("view", "fused"):
            return self.kinds[i] if self.kinds[i] == "fused" else ""
        return "compute" if float(self.compute[i].sum()) >= float(self.memory[i].sum()) else "memory"

    def counts(self) -> dict:
        out = {"compute": 0, "memory": 0, "fused": 0}
        for i in range(len(self.kinds)):
            b = self.bound(i)
            if b:
                out[b] += 1
        return out


def predict(result, profile: Profile) -> Prediction:
    """The roofline of every layer of a result evaluated per layer: arrays of shape (layers, *grid)."""
    spec = result.spec
    kinds = [kind_of(layer) for layer in spec.layers]
    shape = (len(kinds),) + tuple(result.shape)

    def per_layer(q):
        return np.stack([np.broadcast_to(np.asarray(lr.values[q], dtype=np.float64), result.shape)
                         for lr in result.layers]).reshape(shape) if kinds else np.zeros(shape)

    macs, ops, mem = per_layer("macs"), per_layer("ops"), per_layer("mem_access")
    extra = (1,) * len(result.shape)
    rate = np.array([profile.macs_per_s.get(k, np.inf) for k in kinds]).reshape((-1,) + extra)
    compute = macs / rate + ops / profile.ops_per_s
    bandwidth = np.array([profile.data_bandwidth or profile.bandwidth if k == "data" else profile.bandwidth
                          for k in kinds]).reshape((-1,) + extra)
    memory = mem * profile.bytes_per_element / bandwidth
    free = np.array([k == "view" for k in kinds], dtype=bool) | _fused(spec.layers, profile.fuse)
    seconds = np.where(free.reshape((-1,) + extra), 0.0, np.maximum(compute, memory) + profile.overhead)
    return Prediction(seconds, compute, memory, [("fused" if f and k != "view" else k) for k, f in zip(kinds, free)],
                      profile.run_overhead)


def _fused(layers, fuse: tuple) -> np.ndarray:
    """Layers of a `fuse` type that directly follow a conv or linear layer (or such a fused layer)
    whose output nothing else reads: the runtime computes them as part of that layer."""
    out = np.zeros(len(layers), dtype=bool)
    if not fuse:
        return out
    readers = [0] * len(layers)
    for layer in layers:
        for i in layer.inputs:
            if i >= 0:
                readers[i] += 1
    for k, layer in enumerate(layers):
        if layer.type in fuse and len(layer.inputs) == 1 and layer.inputs[0] >= 0:
            src = layer.inputs[0]
            if readers[src] == 1 and (layers[src].type in ("conv", "dwconv", "linear") or out[src]):
                out[k] = True
    return out


def macs_baseline(macs: np.ndarray, measured: np.ndarray) -> float:
    """Seconds per MAC of "latency proportional to MACs", fitted to measurements (the median ratio)."""
    return float(np.median(measured / macs))


def kendall_tau(a, b) -> float:
    """Kendall's tau-b between two sequences (ties counted as neither concordant nor discordant)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    da = np.sign(a[:, None] - a[None, :])
    db = np.sign(b[:, None] - b[None, :])
    iu = np.triu_indices(len(a), 1)
    da, db = da[iu], db[iu]
    concordant_minus_discordant = float(np.sum(da * db))
    na, nb = float(np.sum(da != 0)), float(np.sum(db != 0))
    if na == 0 or nb == 0:
        return float("nan")
    return concordant_minus_discordant / np.sqrt(na * nb)
