"""Measured latency: a spec exported to ONNX and run in ONNX Runtime on this machine (the bench extra).

`bench` times one spec; `calibrate` times small probe networks, one kind of layer each, and fits a
device profile for costcalc.latency's roofline: per-layer time is the difference between a chain of
`LONG` layers and a chain of one, so the session's own overhead cancels.
"""

from __future__ import annotations

import platform
import statistics
import time
from typing import Callable, NamedTuple

import numpy as np

from .errors import CostcalcError

LONG = 9  # layers in a calibration chain


class MeasureError(CostcalcError):
    pass


class Timing(NamedTuple):
    runs: list  # seconds per run
    warmup: int
    threads: int
    batch: int

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    def quantile(self, q: float) -> float:
        return float(np.quantile(self.runs, q))


def _ort():
    try:
        import onnxruntime as ort
    except ImportError:
        raise MeasureError('measuring needs ONNX Runtime: pip install "costcalc[bench]"') from None
    return ort


def runtime_version() -> str:
    return _ort().__version__


def default_threads() -> int:
    import os

    return max(1, len(os.sched_getaffinity(0))) if hasattr(os, "sched_getaffinity") else max(1, os.cpu_count() or 1)


def time_model(model_bytes: bytes, shape: tuple, runs: int = 20, warmup: int = 5, threads: int | None = None,
               progress: Callable[[int], None] | None = None) -> Timing:
    """Run the model `warmup` + `runs` times on random input of `shape`; seconds per timed run."""
    ort = _ort()
    opts = ort.SessionOptions()
    threads = threads or default_threads()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    try:
        sess = ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - the runtime's refusal of a model is one line
        raise MeasureError(f"ONNX Runtime cannot load the model: {str(exc).splitlines()[0][:200]}") from None
    name = sess.get_inputs()[0].name
    x = np.random.default_rng(0).standard_normal(shape, dtype=np.float32)
    for _ in range(warmup):
        sess.run(None, {name: x})
    out = []
    for k in range(runs):
        t0 = time.perf_counter()
        sess.run(None, {name: x})
        out.append(time.perf_counter() - t0)
        if progress:
            progress(k + 1)
    return Timing(out, warmup, threads, shape[0])


def bench(spec, alpha=1.0, resolution=None, rho=None, batch: int = 1, runs: int = 20, warmup: int = 5,
          threads: int | None = None, progress=None) -> Timing:
    from .engine import evaluate
    from .onnx_export import export_model

    model = export_model(spec, alpha, resolution, rho, weights="random")
    res = evaluate(spec, alpha, resolution, rho)
    h, w = int(res.resolution.reshape(-1)[0]), int(res.width.reshape(-1)[0])
    return time_model(model.SerializeToString(), (batch, spec.input_channels, h, w), runs, warmup, threads, progress)


# -- calibration -------------------------------------------------------------------------------

#: one probe per figure of a profile: (what it fits, input C, H, layer item); 56 x 56 as ShuffleNet v2's probes
PROBES = {
    "conv": (64, 56, {"type": "conv", "out": 64, "kernel": 3, "padding": 1, "bias": False}),
    "conv1x1": (128, 56, {"type": "conv", "out": 128, "kernel": 1, "bias": False}),
    "group": (256, 28, {"type": "conv", "out": 256, "kernel": 1, "groups": 4, "bias": False}),
    "dwconv": (128, 56, {"type": "dwconv", "kernel": 3, "padding": 1, "bias": False}),
    "linear": (2048, 1, {"type": "linear", "out": 2048, "bias": False}),
    "bandwidth": (256, 56, {"type": "relu"}),
    "data_bandwidth": (256, 28, {"type": "shuffle", "groups": 2}),
    "ops": (256, 56, {"type": "sigmoid"}),
    "overhead": (8, 4, {"type": "conv", "out": 8, "kernel": 1, "bias": False}),
}


def probe_spec(c: int, h: int, item: dict, n: int):
    from .spec import load_spec

    flat = dict(item)
    layers = [dict(flat, name=f"l{i + 1}") for i in range(n)]
    return load_spec({"name": "probe", "input": {"channels": c, "size": h}, "layers": layers})


ROUNDS = 3  # each probe is timed this many times, alternating its two chains; the median is kept


def probe_layer(name: str, measure) -> tuple[float, dict]:
    """Seconds of one probe layer (chain of LONG minus chain of one, the median of ROUNDS) and its
    counts, with `run`: the chain of one's time less that layer (what one inference costs besides its layers)."""
    from .engine import evaluate

    c, h, item = PROBES[name]
    one, many = probe_spec(c, h, item, 1), probe_spec(c, h, item, LONG)
    per_layer, runs = [], []
    for _ in range(ROUNDS):
        t1, tn = measure(one), measure(many)
        per_layer.append((tn - t1) / (LONG - 1))
        runs.append(t1 - per_layer[-1])
    lr = evaluate(one).layers[0]
    counts = {q: int(lr.values[q]) for q in ("macs", "ops", "mem_access")}
    return max(statistics.median(per_layer), 1e-9), {**counts, "run": max(statistics.median(runs), 0.0)}


def fit(measure, bytes_per_element: int = 4) -> dict:
    """The profile figures from `measure(spec) -> seconds` of the probes."""
    t = {name: probe_layer(name, measure) for name in PROBES}
    overhead = t["overhead"][0]
    bw_t, bw_c = t["bandwidth"]
    bandwidth = bw_c["mem_access"] * bytes_per_element / max(bw_t - overhead, 1e-9)
    data_t, data_c = t["data_bandwidth"]
    data_bandwidth = data_c["mem_access"] * bytes_per_element / max(data_t - overhead, 1e-9)
    ops_t, ops_c = t["ops"]
    ops_per_s = ops_c["ops"] / max(ops_t - overhead, 1e-9)
    macs = {}
    for kind in ("conv", "conv1x1", "group", "dwconv", "linear"):
        secs, counts = t[kind]
        macs[kind] = counts["macs"] / max(secs - overhead, 1e-9)
    return {"macs_per_s": macs, "ops_per_s": ops_per_s, "bandwidth": bandwidth, "data_bandwidth": data_bandwidth,
            "overhead": overhead, "run_overhead": t["overhead"][1]["run"],
            "seconds": {k: v[0] for k, v in t.items()}}


def calibrate(threads: int | None = None, runs: int = 15, warmup: int = 3, progress=None) -> dict:
    """A device profile document for this machine, from ONNX Runtime measurements of the probes."""
    from .onnx_export import export_model

    threads = threads or default_threads()
    done = [0]

    models: dict = {}

    def measure(spec) -> float:
        key = (spec.layers[0].type, len(spec.layers), spec.input_channels)
        if key not in models:
            models[key] = export_model(spec, weights="random").SerializeToString()
        timing = time_model(models[key], (1, spec.input_channels, *spec.input_size), runs, warmup, threads)
        done[0] += 1
        if progress:
            progress(done[0])
        return timing.median

    figures = fit(measure)
    machine = f"{platform.machine()}, {threads} thread{'s' if threads > 1 else ''}, {platform.processor() or platform.system()}"
    return {
        "name": "local",
        "title": f"this machine ({machine}), ONNX Runtime {runtime_version()}",
        "description": "Fitted by costcalc calibrate from probe layers timed in ONNX Runtime on the CPU: each rate is a "
                       "probe's count over its measured time less the per-layer overhead.",
        "kind": "cpu",
        "threads": threads,
        "macs_per_s": {k: float(f"{v:.4g}") for k, v in figures["macs_per_s"].items()},
        "ops_per_s": float(f"{figures['ops_per_s']:.4g}"),
        "bandwidth": float(f"{figures['bandwidth']:.4g}"),
        "data_bandwidth": float(f"{figures['data_bandwidth']:.4g}"),
        "overhead": float(f"{figures['overhead']:.4g}"),
        "run_overhead": float(f"{figures['run_overhead']:.4g}"),
        "bytes_per_element": 4,
        # ONNX Runtime's graph optimizations fold BatchNorm into the conv before it and fuse ReLU, Clip
        # (ReLU6), HardSwish and Sigmoid into it (Conv + activation: FusedConv)
        "fuse": ["bn", "relu", "relu6", "hswish", "sigmoid"],
        "sources": {k: f"probe {k}: {_probe_text(k)}, median of {runs} runs after {warmup}" for k in PROBES},
        "measured": {k: f"{v * 1e6:.1f} us per layer" for k, v in figures["seconds"].items()},
    }


def _probe_text(name: str) -> str:
    c, h, item = PROBES[name]
    what = item["type"] + (f" {item['kernel']}x{item['kernel']}" if "kernel" in item else "")
    if item.get("groups"):
        what += f", {item['groups']} groups"
    return f"{what} on {c}x{h}x{h}, chain of {LONG} minus chain of 1"
