"""Results -> tables (rich), JSON, CSV and Markdown.  Never computes costs.

Each view is first built as a :class:`Table` of plain cells (title, header
lines, columns, rows, footer), then rendered by one of the writers, so the
four formats always show the same numbers.  rich is imported only when a
rich table is drawn.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .engine import Result
from .format import as_set, as_value
from .verify import FP32, Check, published_accuracy, published_top1


class Conventions(NamedTuple):
    flops_per_mac: float = 2
    bytes: int = 4
    batch: int = 1
    device: object = None  # a costcalc.latency.Profile: latencies are predicted on it
    count_like: str | None = None  # a peer tool (costcalc.peers.TOOLS): what it would print is added

    def lines(self) -> list[str]:
        fpm = f"{self.flops_per_mac:g}"
        d = self.device
        device = [] if d is None else [
            f"latency: predicted on {d.title or d.name} [{d.name}] by a roofline per layer, max(MACs / rate, "
            f"bytes / bandwidth) + {d.overhead * 1e6:.3g} us" + (f"; {', '.join(d.fuse)} fused into the layer before" if d.fuse else "")]
        if self.count_like is not None:
            from .peers import TOOLS

            device.append(f"{self.count_like}: what {TOOLS[self.count_like]} would print, the MACs plus what it adds "
                          "(costcalc explain breaks it down)")
        return [
            f"1 MAC = 1 multiply-accumulate = {fpm} FLOPs (--flops-per-mac {fpm}); MACs count conv and linear layers only",
            "params = weights + biases (as the spec sets them) + BatchNorm scale/shift (shown as BN params)",
            "other ops (not MACs): biases, BatchNorm, activations, pooling, element-wise add and mul, LRN",
            f"memory access = input + output activations + weights, in elements; bytes at {self.bytes} B/element; batch {self.batch}",
        ] + device


# -- number formatting --------------------------------------------------------


def human(n: float) -> str:
    """568740352 -> '568.74M'; 4209088 -> '4.21M'; 1000 -> '1.00K'."""
    n = float(n)
    for scale, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= scale:
            return f"{n / scale:.2f}{suffix}"
    return f"{n:.0f}" if n == int(n) else f"{n:.2f}"


def grouped(n) -> str:
    return f"{int(n):,}"


def shape_text(c, h, w) -> str:
    c, h, w = int(c), int(h), int(w)
    return f"{c}" if h == w == 1 else f"{c}x{h}x{w}"


def bar(share: float, width: int = 10) -> str:
    eighths = int(round(share * width * 8))
    full, part = divmod(eighths, 8)
    return ("█" * full + ("▏▎▍▌▋▊▉"[part - 1] if part else "")).ljust(width)


# -- the neutral table --------------------------------------------------------


class Table:
    """A neutral table: the renderers (rich, plain text, Markdown) draw it."""

    def __init__(self, title: str, columns: list, rows=None, header=None, footer=None, notes=None):
        self.title = title
        self.columns = columns  # (header, key, justify)
        self.rows = list(rows or [])  # dicts key -> cell text, or tuples of cell texts in column order
        self.header = list(header or [])  # lines above the table
        self.footer = list(footer or [])  # rows drawn after a rule (totals)
        self.notes = list(notes or [])  # lines below the table


def _scalar(arr) -> int:
    """The one value of a one-configuration figure (a Python int already, or a 1-element array)."""
    return arr if type(arr) is int else int(np.reshape(arr, -1)[0])


def config_dict(result: Result, conv: Conventions) -> dict:
    spec = result.spec
    h, w = _scalar(result.resolution), _scalar(result.width)
    return {
        "alpha": float(np.reshape(result.alpha, -1)[0]),
        "resolution": [h, w],
        "rho": round(h / spec.input_size[0], 4),
        "variant": spec.variant,
        "settings": dict(spec.settings),
        "flops_per_mac": conv.flops_per_mac,
        "bytes": conv.bytes,
        "batch": result.batch,
    }


def timed(result: Result, conv: Conventions, pred=None) -> Result:
    """With a device: each layer's predicted latency in its values (latency_ns), rolled up as any count
    (`pred`: the prediction, if the caller has it already)."""
    if conv.device is None or not result.layers or "latency_ns" in result.layers[0].values:
        return result
    from .latency import predict

    pred = pred if pred is not None else predict(result, conv.device)
    ns = np.rint(pred.seconds * 1e9).astype(np.int64)  # (layers, *grid)
    one = int(np.prod(result.shape)) == 1
    layers = [lr._replace(values={**lr.values, "latency_ns": int(t.reshape(-1)[0]) if one else t})
              for lr, t in zip(result.layers, ns)]
    run = int(round(conv.device.run_overhead * 1e9))  # the runtime's own time per inference, beside the layers'
    return result._replace(layers=layers, totals={**result.totals, "latency_ns": ns.sum(axis=0) + run})


def counted(result: Result, conv: Conventions) -> Result:
    """With --count-like: each layer's count by that tool in its values (peer), rolled up as any count."""
    if conv.count_like is None or not result.layers or "peer" in result.layers[0].values:
        return result
    from .peers import count_like, totals as peer_totals

    counts = count_like(result, conv.count_like)
    layers = [lr._replace(values={**lr.values, "peer": lc.total}) for lr, lc in zip(result.layers, counts)]
    parts = peer_totals(counts)  # the parts too, for the note
    return result._replace(layers=layers, totals={**result.totals, "peer": parts["total"], "peer_parts": parts})


def totals_dict(result: Result, conv: Conventions, peak=None) -> dict:
    """The totals of a one-configuration result (`peak`: its peak_of, where the caller has it)."""
    t = {q: _scalar(result.total(q)) for q in ("params", "bn_params", "weights", "macs", "ops", "mem_access", "activations")}
    out = {
        "params": t["params"],
        "bn_params": t["bn_params"],
        "weights": t["weights"],
        "macs": t["macs"],
        "flops": _num(t["macs"] * conv.flops_per_mac),
        "ops": t["ops"],
        "mem_access": t["mem_access"],
        "mem_access_bytes": t["mem_access"] * conv.bytes,
        "activations": t["activations"],
        "largest_activation": max((_scalar(lr.values["activations"]) for lr in result.layers), default=0),
        "peak_activation": (peak if peak is not None else peak_of(result)).elements,
        "size_mb": round(t["params"] * FP32 / 1e6, 4),
    }
    if "latency_ns" in result.totals:
        out["latency_ms"] = round(_scalar(result.totals["latency_ns"]) / 1e6, 6)
    if "peer" in result.totals:
        out[conv.count_like] = _scalar(result.totals["peer"])
    return out


def peak_of(result: Result):
    """Peak activation memory (costcalc.memory: the tensors alive at once) and where it is reached."""
    from .memory import peak

    return peak(result)


def _num(x: float):
    return int(x) if float(x).is_integer() else float(x)


GROUPS = ("type", "stage")


def kind_label(layer) -> str:
    """A layer's kind with its kernel, so that pointwise and spatial convolutions are told apart:
    'conv 1x1', 'conv 3x3 grouped', 'dwconv 3x3', 'linear', 'relu', ..."""
    if layer.type in ("conv", "dwconv"):
        kh, kw = layer.attrs["kernel"]
        grouped = " grouped" if layer.type == "conv" and layer.attrs["groups"] > 1 else ""
        return f"{layer.type} {kh}x{kw}{grouped}"
    return layer.type


def rows(result: Result, depth: int | None = None, group: str | None = None) -> list[dict]:
    """Per-layer rows (one configuration); with `depth`, rolled up to that many name levels; with
    `group`, one row per layer kind ("type", kind_label) or per top-level block ("stage")."""
    if group is not None:
        return _grouped(result, group)
    out: list[dict] = []
    if depth is None and result.layers and type(result.layers[0].c) is int:
        # one configuration, no roll-up (names are unique after expansion): one row per layer
        return [{"name": lr.name, "type": lr.type, "output": [lr.c, lr.h, lr.w], "layers": 1, **lr.values}
                for lr in result.layers]
    index: dict = {}
    for lr in result.layers:
        key = lr.name if depth is None else _prefix(lr.name, depth)
        if type(lr.c) is int:  # one configuration evaluated exactly: Python ints already
            vals = dict(lr.values)
            shape = [lr.c, lr.h, lr.w]
        else:
            vals = {q: _scalar(v) for q, v in lr.values.items()}
            shape = [_scalar(lr.c), _scalar(lr.h), _scalar(lr.w)]
        if key not in index:
            index[key] = len(out)
            out.append({"name": key, "type": lr.type, "output": shape, "layers": 1, **vals})
        else:
            row = out[index[key]]
            row["layers"] += 1
            row["output"] = shape  # the block's output is its last layer's
            row["type"] = "block"
            for q, v in vals.items():
                row[q] += v
    return out


def _grouped(result: Result, group: str) -> list[dict]:
    if group == "stage":
        return rows(result, depth=1)
    out: dict = {}
    for layer, r in zip(result.spec.layers, rows(result)):
        key = kind_label(layer)
        row = out.get(key)
        if row is None:
            out[key] = {**r, "name": key, "type": key, "output": None, "layers": 1}
        else:
            row["layers"] += 1
            for q in ("params", "bn_params", "macs", "ops", "mem_access", "activations", "latency_ns", "peer"):
                if q in r:
                    row[q] += r[q]
    return sorted(out.values(), key=lambda row: (-row["macs"], -row["params"], row["name"]))


def _prefix(name: str, depth: int) -> str:
    parts: list[str] = []
    for piece in name.split("/"):
        stem, dot, rep = piece.rpartition(".")
        if dot and rep.isdigit() and stem:
            parts.extend([stem, f"{stem}.{rep}"])
        else:
            parts.append(piece)
        if len(parts) >= depth:
            break
    # rebuild the original spelling of the kept prefix
    kept = parts[:depth]
    text = []
    for p in kept:
        if text and p.startswith(text[-1] + "."):
            text[-1] = p
        else:
            text.append(p)
    return "/".join(text)


def uncosted_note(spec) -> str | None:
    """The line that says which layers no cost rule counted (ONNX operators kept by --allow-unknown)."""
    ops: dict = {}
    for layer in spec.layers:
        if layer.type == "uncosted":
            ops[layer.attrs["op"]] = ops.get(layer.attrs["op"], 0) + 1
    if not ops:
        return None
    n = sum(ops.values())
    kinds = ", ".join(f"{op} x{k}" if k > 1 else op for op, k in ops.items())
    return (f"NOT COSTED: {n} layer{'s' if n > 1 else ''} without a cost rule ({kinds}); "
            "the totals leave out their params, MACs and memory access")


def report_table(result: Result, conv: Conventions, depth: int | None = None, group: str | None = None) -> Table:
    pred = None
    if conv.device is not None and result.layers:
        from .latency import predict

        pred = predict(result, conv.device)  # once: for the column and for the note
    result = counted(timed(result, conv, pred), conv)
    spec = result.spec
    cfg = config_dict(result, conv)
    p = peak_of(result)  # once: for the totals and for the note
    tot = totals_dict(result, conv, p)
    h, w = cfg["resolution"]
    where = f"{spec.title} [{spec.label}]"
    settings = ", ".join(as_set(k, v) for k, v in spec.settings.items() if not isinstance(v, (dict, list)))
    header = [
        f"config: alpha {cfg['alpha']:g}, input {spec.input_channels}x{h}x{w} (rho {cfg['rho']:g} of {spec.input_size[0]})"
        + (f", {settings}" if settings else ""),
        *conv.lines(),
    ]
    missing = uncosted_note(spec)
    if missing:
        header.append(missing)
    total_macs = tot["macs"] or 1
    table = Table(
        title=where + (f", by {'layer type' if group == 'type' else 'stage'}" if group else ""),
        columns=[
            ("Layer" if group != "type" else "Type", "name", "left"),
            ("Type" if group != "type" else "Layers", "type", "left"), ("Output", "output", "right"),
            ("Params", "params", "right"), ("MACs", "macs", "right"), ("Mem access", "mem_access", "right"),
            ("MACs share", "share", "left"),
        ],
        header=header,
    )
    if group == "type":  # a kind has no one output shape
        table.columns = [c for c in table.columns if c[1] != "output"]
    if conv.device is not None:
        table.columns.insert(-1, ("Latency ms", "latency", "right"))
    if conv.count_like is not None:
        table.columns.insert(-1, (conv.count_like, "peer", "right"))
    bars = {}  # repeated layers have equal shares: format each share once
    append = table.rows.append
    if (depth is None and group is None and result.layers and type(result.layers[0].c) is int and conv.device is None
            and conv.count_like is None):
        cells: dict = {}  # a long spec repeats its layers: each distinct row's cells are formatted once
        for lr in result.layers:
            v = lr.values
            key = (lr.type, lr.c, lr.h, lr.w, v["params"], v["macs"], v["mem_access"])
            tail = cells.get(key)
            if tail is None:
                share = v["macs"] / total_macs
                c, h, w = lr.c, lr.h, lr.w
                tail = cells[key] = (lr.type, f"{c}" if h == w == 1 else f"{c}x{h}x{w}",  # in column order
                                     f"{v['params']:,}", f"{v['macs']:,}", f"{v['mem_access']:,}",
                                     f"{bar(share)} {share * 100:5.1f}%")
            append((lr.name, *tail))
    for r in (rows(result, depth, group) if not table.rows else ()):
        share = r["macs"] / total_macs
        cell = bars.get(share)
        if cell is None:
            cell = bars[share] = f"{bar(share)} {share * 100:5.1f}%"
        kind = f"{r['layers']}" if group == "type" else r["type"] if r["layers"] == 1 else f"block ({r['layers']})"
        table.rows.append({
            "name": r["name"], "type": kind,
            "output": "" if r["output"] is None else shape_text(*r["output"]), "params": f"{r['params']:,}",
            "macs": f"{r['macs']:,}", "mem_access": f"{r['mem_access']:,}", "share": cell,
            "latency": f"{r['latency_ns'] / 1e6:.3f}" if "latency_ns" in r else "",
            "peer": f"{r['peer']:,}" if "peer" in r else "",
        })
    table.footer.append({
        "name": "Total", "type": f"{len(result.layers)} layers", "output": "",
        "params": grouped(tot["params"]), "macs": grouped(tot["macs"]), "mem_access": grouped(tot["mem_access"]),
        "share": "", "latency": f"{tot['latency_ms']:.3f}" if "latency_ms" in tot else "",
        "peer": grouped(tot[conv.count_like]) if conv.count_like in tot else "",
    })
    fl = tot["flops"]
    table.notes = [
        f"params {grouped(tot['params'])} ({human(tot['params'])}; BN {grouped(tot['bn_params'])}; weights {human(tot['weights'])})"
        f" | fp32 size {tot['size_mb']:.2f} MB",
        f"MACs {grouped(tot['macs'])} ({human(tot['macs'])}) | FLOPs {human(fl)} | other ops {human(tot['ops'])}",
        f"memory access {human(tot['mem_access'])} elements = {human(tot['mem_access_bytes'])}B"
        f" | activations {human(tot['activations'])} elements, largest {human(tot['largest_activation'])}",
        f"peak activation memory {human(p.elements)} elements = {human(p.elements * conv.bytes)}B"
        f" at {p.layer} ({p.alive} tensors alive)",
    ] + ([missing] if missing else []) + ([latency_note(pred, conv, result.batch)] if pred is not None else [])
    if conv.count_like is not None:
        table.notes.append(peer_note(result, conv.count_like))
    return table


def peer_note(result: Result, tool: str) -> str:
    """'ptflops would print 320,300,008 = MACs 300,774,272 + biases 1,000 + BatchNorm ...' (of a
    result `counted` has counted)."""
    from .peers import PARTS

    t = result.totals["peer_parts"]
    added = " + ".join(f"{PART_NAMES[p][2:]} {grouped(_scalar(t[p]))}" for p in PARTS[1:] if _scalar(t[p]))
    return f"{tool} would print {grouped(_scalar(t['total']))} = MACs {grouped(_scalar(t['macs']))}" + (f" + {added}" if added else "")


def latency_note(pred, conv: Conventions, batch: int) -> str:
    n = pred.counts()
    run = f" + {pred.run_overhead * 1e3:.3f} ms per inference" if pred.run_overhead else ""
    return (f"predicted latency {pred.total * 1e3:.3f} ms on {conv.device.name} (batch {batch}): layers "
            f"{float(pred.seconds.sum()) * 1e3:.3f} ms{run}; {n['compute']} layers compute-bound, {n['memory']} memory-bound, "
            f"{n['fused']} fused")


def report_json(result: Result, conv: Conventions, depth: int | None = None, group: str | None = None) -> dict:
    result = counted(timed(result, conv), conv)
    spec = result.spec
    p = peak_of(result)
    layers = []
    for r in rows(result, depth, group):
        layers.append({
            "name": r["name"], "type": r["type"], "output": r["output"], "layers": r["layers"],
            "params": r["params"], "bn_params": r["bn_params"], "macs": r["macs"],
            "flops": _num(r["macs"] * conv.flops_per_mac), "ops": r["ops"],
            "mem_access": r["mem_access"], "activations": r["activations"],
            **({"latency_ms": round(r["latency_ns"] / 1e6, 6)} if "latency_ns" in r else {}),
            **({conv.count_like: r["peer"]} if "peer" in r else {}),
        })
    return {
        "spec": spec.name,
        "title": spec.title,
        "source": spec.source,
        "config": config_dict(result, conv),
        "conventions": conv.lines(),
        "totals": totals_dict(result, conv, p),
        "peak": {"elements": p.elements, "bytes": p.elements * conv.bytes, "layer": p.layer, "tensors": p.alive},
        "uncosted": [layer.name for layer in spec.layers if layer.type == "uncosted"],
        **({"device": conv.device.name} if conv.device is not None else {}),
        "layers": layers,
    }


def report_csv_records(result: Result, conv: Conventions, depth=None, group=None) -> list[dict]:
    """The report's rows for CSV: shapes as the table writes them (1280, 32x112x112), and a Total row."""
    doc = report_json(result, conv, depth, group)
    rows = [{**r, "output": "" if r["output"] is None else shape_text(*r["output"])} for r in doc["layers"]]
    t = doc["totals"]
    rows.append({"name": "Total", "type": "", "output": "", "layers": len(result.layers),
                 **{q: t[q] for q in ("params", "bn_params", "macs", "flops", "ops", "mem_access", "activations", "latency_ms",
                                      conv.count_like) if q in t}})
    return rows


def changed_settings(spec) -> list[str]:
    """What --set changed (``impl=torchvision``), as --set takes it: what tells two rows of one spec apart."""
    return [as_set(k, v) for k, v in spec.changed.items() if not isinstance(v, (dict, list))]


def compare_table(results: list[Result], conv: Conventions) -> Table:
    """One row per architecture; under each one after the first, its ratios to the first."""
    table = Table(
        title="Comparison (second line: ratio to the first)",
        columns=[
            ("Spec", "spec", "left"), ("Config", "config", "left"), ("Params", "params", "right"),
            ("fp32 MB", "size_mb", "right"), ("MACs", "macs", "right"), ("FLOPs", "flops", "right"),
            ("Mem access", "mem_access", "right"), ("Peak act.", "peak_activation", "right"),
            ("Top-1 %", "top1", "right"),
        ] + ([("Latency ms", "latency_ms", "right")] if conv.device is not None else [])
          + ([(conv.count_like, "peer", "right")] if conv.count_like is not None else []),
        header=conv.lines()[:1] + conv.lines()[3:] + [f"{r.spec.label}: {note}" for r in results
                                                       for note in [uncosted_note(r.spec)] if note]
        + [f"{r.spec.label}: built with {', '.join(changed)}" for r in results for changed in [changed_settings(r.spec)] if changed],
    )
    first = None
    for res, obj in zip(results, compare_json(results, conv)):
        t, cfg = obj["totals"], obj["config"]
        table.rows.append({
            "spec": res.spec.label,
            "config": f"{cfg['alpha']:g}x, {cfg['resolution'][0]}px",
            "size_mb": f"{t['size_mb']:.2f}",
            **{k: human(t[k]) for k in ("params", "macs", "flops", "mem_access", "peak_activation")},
            "top1": "" if obj["top1"] is None else f"{obj['top1']:.1f}",
            **({"latency_ms": f"{t['latency_ms']:.3f}"} if "latency_ms" in t else {}),
            **({"peer": human(t[conv.count_like])} if conv.count_like in t else {}),
        })
        if first is None:
            first = t
            continue
        table.rows.append({
            "spec": "  vs first",
            **{k: f"{t[k] / first[k]:.2f}x" if first[k] else "" for k in
               ("params", "size_mb", "macs", "flops", "mem_access", "peak_activation", "latency_ms") if k in t},
            **({"peer": f"{t[conv.count_like] / first[conv.count_like]:.2f}x"} if first.get(conv.count_like) else {}),
        })
    return table


def compare_json(results: list[Result], conv: Conventions) -> list[dict]:
    out = []
    for res in results:
        res = counted(timed(res, conv), conv)
        cfg = config_dict(res, conv)
        out.append({
            "spec": res.spec.name,
            "label": res.spec.label,
            "title": res.spec.title,
            "config": cfg,
            "totals": totals_dict(res, conv),
            "top1": published_top1(res.spec, cfg["alpha"], cfg["resolution"][0]),
            "conventions": conv.lines(),
        })
    return out


def sweep_table(result: Result, conv: Conventions) -> Table:
    spec = result.spec
    table = Table(
        title=f"{spec.title} [{spec.label}] sweep",
        columns=[
            ("alpha", "alpha", "right"), ("Input", "input", "right"), ("Params", "params", "right"),
            ("MACs", "macs", "right"), ("FLOPs", "flops", "right"), ("Mem access", "mem", "right"),
            ("Top-1 %", "top1", "right"),
        ] + ([("Latency ms", "latency", "right")] if conv.device is not None else [])
          + ([(conv.count_like, "peer", "right")] if conv.count_like is not None else []),
        header=conv.lines()[:1] + conv.lines()[3:],
    )
    for rec in sweep_records(result, conv):
        table.rows.append({
            "alpha": f"{rec['alpha']:g}", "input": f"{rec['resolution']}", "params": human(rec["params"]),
            "macs": human(rec["macs"]), "flops": human(rec["flops"]), "mem": human(rec["mem_access"]),
            "top1": "" if rec["top1"] is None else f"{rec['top1']:.1f}",
            "latency": f"{rec['latency_ms']:.3f}" if "latency_ms" in rec else "",
            "peer": human(rec[conv.count_like]) if conv.count_like in rec else "",
        })
    return table


def sweep_records(result: Result, conv: Conventions) -> list[dict]:
    """One record per configuration (plain Python numbers; top-1 where the spec publishes one; with a
    device, the predicted latency; with --count-like, the tool's count)."""
    cols = _sweep_columns(result, conv)
    return [dict(zip(sweep_fields(conv), row)) for row in zip(*cols)]


SWEEP_FIELDS = ("alpha", "resolution", "params", "weights", "macs", "flops", "mem_access", "top1")


def sweep_fields(conv: Conventions) -> tuple:
    """The sweep's fields: SWEEP_FIELDS, then latency_ms with a device, then the tool with --count-like."""
    return SWEEP_FIELDS + (("latency_ms",) if conv.device is not None else ()) + (
        (conv.count_like,) if conv.count_like is not None else ())


def _sweep_columns(result: Result, conv: Conventions):
    """Per configuration: alpha, resolution, params, weights, macs, flops, mem_access, top1 as lists
    (and the extra fields of sweep_fields)."""
    a = np.broadcast_to(result.alpha, result.shape).reshape(-1).tolist()
    r = np.broadcast_to(result.resolution, result.shape).reshape(-1).tolist()
    p, w, m, mem = (np.broadcast_to(result.total(q), result.shape).reshape(-1)
                    for q in ("params", "weights", "macs", "mem_access"))
    fpm = conv.flops_per_mac
    if float(fpm).is_integer():
        flops = (m * int(fpm)).tolist()
    else:
        flops = [_num(x) for x in (m * fpm).tolist()]
    top1 = published_accuracy(result.spec)
    top = [top1.get((round(ai, 9), ri)) for ai, ri in zip(a, r)] if top1 else [None] * len(a)
    cols = [a, r, p.tolist(), w.tolist(), m.tolist(), flops, mem.tolist(), top]
    if conv.device is not None:
        ns = timed(result, conv).totals["latency_ns"]
        cols.append([round(x / 1e6, 6) for x in np.broadcast_to(ns, result.shape).reshape(-1).tolist()])
    if conv.count_like is not None:
        cols.append(np.broadcast_to(counted(result, conv).totals["peer"], result.shape).reshape(-1).tolist())
    return cols


def _cell(v) -> str:
    return "" if v is None else repr(v)


def sweep_csv(blocks, conv: Conventions):
    """The sweep as CSV text chunks, one per block of results (streamed: bounded memory), after the
    conventions as '#' comment lines."""
    fields = sweep_fields(conv)
    yield "".join(f"# {line}\n" for line in conv.lines()) + ",".join(fields) + "\n"
    for result in blocks:
        cols = _sweep_columns(result, conv)
        if len(fields) > len(SWEEP_FIELDS):
            yield "".join(",".join(_cell(v) for v in row) + "\n" for row in zip(*cols))
            continue
        yield "".join(f"{a!r},{r},{p},{w},{m},{f!r},{mem},{'' if t is None else repr(t)}\n"
                      for a, r, p, w, m, f, mem, t in zip(*cols))


def sweep_json(blocks, conv: Conventions, spec):
    """The sweep as one JSON document {spec, variant, flops_per_mac, configs: [...]}, streamed."""
    import json

    head = {"spec": spec.name, "variant": spec.variant, "flops_per_mac": conv.flops_per_mac, "conventions": conv.lines()}
    extra = sweep_fields(conv)[len(SWEEP_FIELDS):]
    yield json.dumps(head)[:-1] + ', "configs": ['
    first = True
    for result in blocks:
        cols = _sweep_columns(result, conv)
        more = list(zip(*cols[8:])) if extra else [()] * len(cols[0])
        body = ",\n  ".join(
            f'{{"alpha": {a!r}, "resolution": {r}, "params": {p}, "weights": {w}, "macs": {m}, '
            f'"flops": {f!r}, "mem_access": {mem}, "top1": {"null" if t is None else repr(t)}'
            + "".join(f', {json.dumps(k)}: {v!r}' for k, v in zip(extra, x)) + "}"
            for (a, r, p, w, m, f, mem, t), x in zip(zip(*cols[:8]), more))
        if body:
            yield ("\n  " if first else ",\n  ") + body
            first = False
    yield "\n]}\n"


def budget_records(checks) -> list[dict]:
    return [{"spec": c.spec, "quantity": c.quantity, "config": dict(c.config), "config_text": config_text(c.config),
             "budget": _num(c.limit), "computed": _num(c.computed), "use_pct": round(100 * c.computed / c.limit, 2)
             if c.limit else None, "status": "OVER" if c.over else "ok", "source": c.source, "note": c.note}
            for c in checks]


def budget_table(checks, conv: Conventions) -> Table:
    table = Table(
        title="Budget",
        columns=[("Spec", "spec", "left"), ("Quantity", "quantity", "left"), ("Config", "config", "left"),
                 ("Budget", "budget", "right"), ("Computed", "computed", "right"), ("Use", "use", "right"),
                 ("Status", "status", "left"), ("From", "source", "left")],
        header=conv.lines()[:1],
    )
    for c in budget_records(checks):
        table.rows.append({
            "spec": c["spec"], "quantity": c["quantity"], "config": c["config_text"],
            "budget": human(c["budget"]), "computed": human(c["computed"]),
            "use": "" if c["use_pct"] is None else f"{c['use_pct']:.1f}%", "status": c["status"], "source": c["source"],
        })
    over = sum(1 for c in checks if c.over)
    table.notes.append(f"{len(checks) - over} within budget, {over} over" + (" (exit status 1)" if over else ""))
    return table


def coverage(checks: list[Check], unchecked: list[dict]) -> dict:
    """How many of the cited papers' (and their authors' releases') cost figures verify checks."""
    from .verify import kind_of_source

    kinds = [kind_of_source(c.reference.source) for c in checks]
    published = sum(1 for k in kinds if k != "implementation")
    missing = sum(u["figures"] for u in unchecked)
    return {"published_checked": published, "unchecked": missing, "published": published + missing,
            "implementation_counts": len(kinds) - published}


def verify_table(checks: list[Check], unchecked: list[dict] | None = None) -> Table:
    table = Table(
        title="Published figures vs computed",
        columns=[
            ("Spec", "spec", "left"), ("Quantity", "quantity", "left"), ("Config", "config", "left"),
            ("Published", "published", "right"), ("Computed", "computed", "right"), ("Delta", "delta", "right"),
            ("Tol. ±", "tol", "right"), ("Status", "status", "left"), ("Src", "source", "right"),
        ],
    )
    sources: dict[str, int] = {}
    for check, c in zip(checks, verify_records(checks)):
        unit = check.reference.unit
        n = sources.setdefault(c["source"], len(sources) + 1)
        table.rows.append({
            "spec": c["spec"], "quantity": c["quantity"] + (f" [{c['layer']}]" if c["layer"] else ""),
            "config": c["config_text"], "published": in_unit(c["published"], unit),
            "computed": in_unit(c["computed"], unit), "delta": in_unit(c["delta"], unit, signed=True),
            "tol": (f"[0, {in_unit(c['tolerance'], unit)})" if c["printed"] == "truncated" else in_unit(c["tolerance"], unit)),
            "status": c["status"], "source": f"[{n}]",
        })
    failed = sum(1 for c in checks if c.status == "FAIL")
    dev = [c for c in checks if c.status == "deviates"]
    odd = [c for c in checks if c.status == "unexplained"]
    table.notes.append(f"{len(checks) - failed - len(dev) - len(odd)} passed, {failed} failed, {len(dev)} known deviations"
                       + (f" (inconsistencies of the sources, each proved in its note), {len(odd)} unexplained "
                          "(no proof yet: the note says what was tried)" if odd else ""))
    if any(c.reference.printed == "truncated" for c in checks):
        table.notes.append("a tolerance [0, t): the source cuts its figures off (truncates), so the count must lie "
                           "from the published figure up to, not including, the figure + t")
    cov = coverage(checks, unchecked or [])
    if unchecked is not None and cov["published"]:
        table.notes.append(
            f"coverage: {cov['published_checked']} of the {cov['published']} published cost figures (papers and their "
            f"authors' releases) checked; {cov['unchecked']} unchecked, each with its reason (costcalc verify --unchecked); "
            f"and {cov['implementation_counts']} implementation counts")
    if not checks:
        table.notes.append("no published figures to check: a spec lists them under `references` (an ONNX model has "
                           "none; `costcalc convert` writes it as YAML, where references can be added)")
    for c in dev + odd:
        r = c.reference
        label = "deviation" if c.status == "deviates" else "unexplained"
        table.notes.append(f"{label} [{sources[r.source]}] {c.spec} {r.quantity} {in_unit(r.value, r.unit)}: {r.note}")
    for c in checks:
        if c.status == "pass" and c.reference.expect != "match":
            r = c.reference
            table.notes.append(f"[{sources[r.source]}] {c.spec} {r.quantity} {in_unit(r.value, r.unit)} is marked "
                               f"expect: {r.expect} but is within its tolerance: the mark (and its note) can go")
    table.notes += [f"[{n}] {source}" for source, n in sources.items()]
    return table


def verify_records(checks: list[Check]) -> list[dict]:
    from .verify import kind_of_source

    out = []
    for c in checks:
        r = c.reference
        cfg = dict(r.config)
        text = config_text(cfg)
        out.append({
            "spec": c.spec, "quantity": r.quantity, "layer": r.layer, "config": cfg, "config_text": text,
            "published": r.value, "computed": c.computed, "delta": c.delta, "tolerance": r.tolerance,
            "printed": r.printed, "status": c.status, "source": r.source, "kind": kind_of_source(r.source), "convention": r.convention, "note": r.note,
            "flops_per_mac": cfg.get("flops_per_mac", 2),  # FLOPs are this many per MAC for this figure
        })
    return out


def unchecked_table(items: list[dict]) -> Table:
    table = Table(title="Published cost figures not checked, and why",
                  columns=[("Spec", "spec", "left"), ("Figure", "figure", "left"), ("N", "figures", "right"),
                           ("Source", "source", "left"), ("Reason", "reason", "left")])
    table.rows = [{**u, "figures": str(u["figures"])} for u in items]
    table.notes.append(f"{sum(u['figures'] for u in items)} figures in {len(items)} entries")
    return table


def config_text(cfg: dict) -> str:
    """{'variant': '1.1', 'alpha': 0.75, 'resolution': 192} -> '1.1, 0.75x, 192px'."""
    parts = []
    for key, value in cfg.items():
        if key == "alpha":
            parts.append(f"{value:g}x")
        elif key == "resolution":
            parts.append(f"{value}px")
        elif key == "rho":
            parts.append(f"rho {value:g}")
        elif key == "flops_per_mac":
            parts.append(f"{value:g} FLOP/MAC")
        elif key == "set":
            parts.extend(as_set(k, v) for k, v in value.items())
        else:
            parts.append(str(value))
    return ", ".join(parts) or "default"


def in_unit(x: float, unit: str, signed: bool = False) -> str:
    """A value in the unit its reference was published in: 568740352, 'M' -> '568.74 M'."""
    from .spec import UNITS

    v = float(x) / UNITS[unit]
    sign = "+" if signed and v > 0 else ""
    if not unit:
        return sign + (f"{v:,.0f}" if v == int(v) or abs(v) >= 1000 else f"{v:,.4g}")
    return f"{sign}{v:,.2f} {unit}"


def _choosing(key: str, default, choices) -> str:
    """A parameter as `list` shows it: ``stride_on=auto|3x3|1x1`` (its default first) where it has
    choices, else ``classes=1000``."""
    if not choices:
        return as_set(key, default)
    return f"{key}={'|'.join(dict.fromkeys(map(as_value, [default, *choices])))}"


def list_table(entries: list[dict]) -> Table:
    table = Table(
        title="Bundled specs",
        columns=[("Name", "name", "left"), ("Title", "title", "left"), ("Variants", "variants", "left"),
                 ("Parameters", "parameters", "left"), ("Description", "description", "left")],
    )
    for e in entries:
        default = e.get("default_variant") or next(iter(e["variants"]), None)
        table.rows.append({
            "name": e["name"], "title": e["title"],
            "variants": ", ".join(f"{v}*" if v == default else v for v in e["variants"]),
            "parameters": ", ".join(_choosing(k, v, e.get("choices", {}).get(k))
                                    for k, v in e["parameters"].items() if not isinstance(v, (dict, list))),
            "description": e["description"],
        })
    table.notes.append("* default variant; choose one as NAME:VARIANT (or NAME_VARIANT, as torchvision names them: resnet18) or with --variant; set parameters with --set KEY=VALUE; impl=NAME builds the implementation people run instead of the paper's network")
    return table


# -- writers ------------------------------------------------------------------


def to_rich(table: Table):
    from rich import box
    from rich.console import Group
    from rich.table import Table as RichTable
    from rich.text import Text

    from .output import printable

    rt = RichTable(box=box.SIMPLE_HEAD, show_footer=False, pad_edge=False)
    for i, (head, key, justify) in enumerate(table.columns):
        keep_whole = justify == "right" or i == 0 or key == "status"
        rt.add_column(Text(printable(head, False)), justify=justify, no_wrap=keep_whole, overflow="fold")
    for row in _cells(table.rows, table.columns):  # cells are Text: never parsed as rich markup ("[conv1]")
        rt.add_row(*[Text(printable(cell, False)) for cell in row])
    if table.footer:
        rt.add_section()
        for row in _cells(table.footer, table.columns):
            rt.add_row(*[Text(printable(cell, False)) for cell in row], style="bold")
    parts = [Text(printable(table.title, False), style="bold")] + [Text(printable(line, False), style="dim") for line in table.header]
    parts += [rt] + [Text(printable(line, False)) for line in table.notes]
    return Group(*parts)


def _cells(rows: list, cols: list) -> list:
    """Rows as lists of cell strings, in column order."""
    from itertools import chain
    from operator import itemgetter

    keys = [k for _, k, _ in cols]
    if rows and type(rows[0]) is tuple:
        return rows  # already cells in column order
    try:
        getter = itemgetter(*keys)
        out = [getter(r) for r in rows] if len(keys) > 1 else [(getter(r),) for r in rows]
        if set(map(type, chain.from_iterable(out))) <= {str}:
            return out
    except KeyError:
        pass
    return [[str(r.get(k, "")) for k in keys] for r in rows]


#: the rows from which to_text looks at each distinct rest of a row once (where the first ones repeat)
LONG_TABLE = 1000


_WRAPPER = None


def _wrapper(width: int):
    """A text wrapper that breaks lines at spaces and hyphens, and a parameter's choices that do not
    fit on a line (impl=paper|torchvision|keras) after a |; inside a word only where nothing else fits."""
    global _WRAPPER
    if _WRAPPER is None:
        import re
        import textwrap

        class Wrapper(textwrap.TextWrapper):
            def _split(self, text):
                return [piece for chunk in super()._split(text)
                        for piece in (re.split(r"(?<=\|)", chunk) if len(chunk) > self.width else [chunk]) if piece]

        _WRAPPER = Wrapper
    return _WRAPPER(width, break_long_words=True)


def to_text(table: Table, width: int = 120) -> str:
    """The same table as plain text, laid out like rich's SIMPLE_HEAD box, without importing rich.

    Numeric (right-aligned) columns never wrap; when the table is wider than `width`, the text
    columns wrap, widest first. Used for output that does not go to a terminal: it is fast and
    does not depend on the terminal.
    """
    from itertools import chain

    from .output import needs_escape, printable

    cols = table.columns
    rows, foot = _cells(table.rows, cols), _cells(table.footer, cols)
    # a long report repeats everything but the first column (a layer's name) from row to row: the
    # checks and widths look at each distinct rest of a row once
    firsts = rests = None
    if len(cols) >= 2 and len(rows) >= LONG_TABLE and len({tuple(r[1:]) for r in rows[:LONG_TABLE]}) <= LONG_TABLE // 2:
        firsts = [r[0] for r in rows]
        rests = [tuple(r[1:]) for r in rows]
        longest = max(firsts, key=len)
        sample = [(longest, *rest) for rest in dict.fromkeys(rests)] + list(foot)
        scan = "".join(firsts) + "".join(chain.from_iterable(sample))
    else:
        sample = rows + foot
        scan = "".join(chain.from_iterable(sample))
    if needs_escape(scan):  # one scan; escape cell by cell only if needed
        rows, foot = ([[printable(c, False) for c in r] for r in part] for part in (rows, foot))
        sample, firsts = rows + foot, None
    widths = [max(len(h), max(map(len, column), default=0)) for (h, _, _), column in zip(cols, zip(*sample))] \
        if sample else [len(h) for h, _, _ in cols]
    fixed = [j == "right" for _, _, j in cols]
    budget = width - 2 - 3 * (len(cols) - 1)  # one space at each edge, three between columns
    fits = sum(widths) <= budget
    while sum(widths) > budget:
        flexible = [i for i in range(len(cols)) if not fixed[i] and widths[i] > max(len(cols[i][0]), 8)]
        if not flexible:
            break
        i = max(flexible, key=lambda k: widths[k])
        widths[i] -= 1

    def lines(cells: list[str]) -> list[str]:
        if all(len(c) <= w for c, w in zip(cells, widths)):  # the common case: one line, no wrapping
            parts = [c.rjust(w) if j == "right" else c.ljust(w) for c, w, (_, _, j) in zip(cells, widths, cols)]
            return [(" " + "   ".join(parts)).rstrip()]
        wrapped = [_wrapper(w).wrap(c) or [""] if not f else [c] for c, w, f in zip(cells, widths, fixed)]
        out = []
        for n in range(max(len(w) for w in wrapped)):
            parts = []
            for w, (_, _, j), piece in zip(widths, cols, wrapped):
                text = piece[n] if n < len(piece) else ""
                parts.append(text.rjust(w) if j == "right" else text.ljust(w))
            out.append((" " + "   ".join(parts)).rstrip())
        return out

    total = sum(widths) + 3 * (len(cols) - 1) + 2
    head = [line.rstrip() for line in (table.title, *table.header, "")]
    head += lines([h for h, _, _ in cols])
    head.append(" " + "─" * (total - 2))
    if fits:  # every cell fits its column: one format for all rows, no wrapping
        body = _fitted(rows, widths, cols) if firsts is None else _fitted_long(firsts, rests, widths, cols)
    else:
        body = [line for r in rows for line in lines(r)]
    tail = []
    if foot:
        tail.append("")
        for r in foot:
            tail += lines(r)
    tail.append("")
    tail += [line.rstrip() for line in table.notes]
    out = head + body + tail
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n"


def _row_format(widths: list, cols: list) -> str:
    """A str.format pattern laying cells out in their columns, three spaces apart."""
    return "   ".join(f"{{:{'>' if j == 'right' else '<'}{w}}}" for w, (_, _, j) in zip(widths, cols))


def _fitted(rows: list, widths: list, cols: list) -> list:
    """Rows whose cells all fit their columns, one line each."""
    pattern = " " + _row_format(widths, cols)
    return [pattern.format(*r).rstrip() for r in rows]


def _fitted_long(firsts: list, rests: list, widths: list, cols: list) -> list:
    """The same for a long table given as its first column and the rest of each row: each distinct
    rest of a line is formatted once."""
    rest = _row_format(widths[1:], cols[1:])
    done = {r: rest.format(*r).rstrip() for r in dict.fromkeys(rests)}
    pad = str.rjust if cols[0][2] == "right" else str.ljust
    w0 = widths[0]
    if all(done.values()):
        return [f" {pad(f, w0)}   {done[r]}" for f, r in zip(firsts, rests)]
    return [f" {pad(f, w0)}   {done[r]}" if done[r] else f" {pad(f, w0)}".rstrip() for f, r in zip(firsts, rests)]


def to_markdown(table: Table) -> str:
    from .output import printable

    out = [f"**{table.title}**", ""]
    out += [f"- _{line}_" for line in table.header]
    if table.header:
        out.append("")
    heads = [h for h, _, _ in table.columns]
    out.append("| " + " | ".join(heads) + " |")
    out.append("|" + "|".join("---:" if j == "right" else "---" for _, _, j in table.columns) + "|")
    bold = [[f"**{c}**" if c else "" for c in r] for r in _cells(table.footer, table.columns)]
    for row in _cells(table.rows, table.columns) + bold:
        out.append("| " + " | ".join(printable(cell, False).replace("|", "\\|") for cell in row) + " |")
    if table.notes:
        out.append("")
        out += [f"- {line}" for line in table.notes]
    return "\n".join(out) + "\n"


def to_csv(records: list[dict], fields: list[str]) -> str:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for rec in records:
        writer.writerow({k: ("x".join(map(str, v)) if isinstance(v, list) else v) for k, v in rec.items()})
    return buf.getvalue()


def to_json(obj) -> str:
    import json

    return json.dumps(obj, indent=2) + "\n"


# -- measured latency and device profiles ----------------------------------------------------------


def bench_record(result: Result, timing, conv: Conventions, runtime: str) -> dict:
    """One measured configuration: the timing's median and spread, and the prediction with --device."""
    cfg = config_dict(result, conv)
    rec = {
        "spec": result.spec.label, "alpha": cfg["alpha"], "resolution": cfg["resolution"][0], "batch": timing.batch,
        "runtime": f"ONNX Runtime {runtime}, CPU, {timing.threads} thread{'s' if timing.threads > 1 else ''}",
        "runs": len(timing.runs), "warmup": timing.warmup,
        "median_ms": round(timing.median * 1e3, 4), "p10_ms": round(timing.quantile(0.1) * 1e3, 4),
        "p90_ms": round(timing.quantile(0.9) * 1e3, 4), "min_ms": round(min(timing.runs) * 1e3, 4),
        "macs": _scalar(result.total("macs")),
    }
    if conv.device is not None:
        from .latency import predict

        predicted = predict(result, conv.device).total
        rec.update({"device": conv.device.name, "predicted_ms": round(predicted * 1e3, 4),
                    "predicted_over_measured": round(predicted / timing.median, 3)})
    return rec


def bench_table(rec: dict, conv: Conventions) -> Table:
    table = Table(
        title=f"Measured latency: {rec['spec']}, alpha {rec['alpha']:g}, {rec['resolution']} px, batch {rec['batch']}",
        columns=[("", "what", "left"), ("ms", "ms", "right"), ("", "note", "left")],
        header=[f"{rec['runtime']}; {rec['runs']} timed runs after {rec['warmup']} untimed; MACs {human(rec['macs'])}"]
        + (conv.lines()[4:] if conv.device is not None else []),
    )
    table.rows.append({"what": "measured, median", "ms": f"{rec['median_ms']:.3f}", "note": ""})
    table.rows.append({"what": "measured, 10% to 90%", "ms": f"{rec['p10_ms']:.3f} to {rec['p90_ms']:.3f}",
                       "note": f"fastest {rec['min_ms']:.3f}"})
    if "predicted_ms" in rec:
        table.rows.append({"what": f"predicted on {rec['device']}", "ms": f"{rec['predicted_ms']:.3f}",
                           "note": f"{rec['predicted_over_measured']:.2f}x the measured median"})
    return table


def device_record(profile) -> dict:
    return {"name": profile.name, "title": profile.title,
            "peak_gmacs": round(max(profile.macs_per_s.values()) / 1e9, 3),
            **{f"{k}_gmacs": round(v / 1e9, 3) for k, v in profile.macs_per_s.items()},
            "bandwidth_gbs": round(profile.bandwidth / 1e9, 3), "overhead_us": round(profile.overhead * 1e6, 3),
            "fuse": ",".join(profile.fuse), "sources": "; ".join(f"{k}: {v}" for k, v in profile.sources.items())}


def devices_table(entries: list[dict]) -> Table:
    table = Table(
        title="Device profiles (--device NAME, or a profile file)",
        columns=[("Name", "name", "left"), ("conv", "conv", "right"), ("1x1", "conv1x1", "right"),
                 ("group", "group", "right"), ("dw", "dwconv", "right"), ("linear", "linear", "right"),
                 ("GB/s", "bw", "right"), ("us/layer", "overhead", "right"), ("Device", "title", "left")],
        header=["compute in G MACs per second by layer kind; memory bandwidth; per-layer overhead"],
    )
    for e in entries:
        table.rows.append({"name": e["name"], "title": e["title"], "bw": f"{e['bandwidth_gbs']:g}",
                           "overhead": f"{e['overhead_us']:g}",
                           **{k: f"{e[f'{k}_gmacs']:g}" for k in ("conv", "conv1x1", "group", "dwconv", "linear")}})
    return table


# -- why the peer tools disagree ---------------------------------------------------------------------

PART_NAMES = {"macs": "MACs", "biases": "+ biases", "batchnorm": "+ BatchNorm", "activations": "+ activations",
              "pooling": "+ pooling"}


def explain_json(result: Result, conv: Conventions, tool: str, depth: int | None = None) -> dict:
    """What `tool` would print, and its difference to costcalc's MACs split by cause and by the rule
    that adds it, in total and per layer (the layers where the tool adds anything; rolled up with
    `depth`)."""
    from .peers import PARTS, TOOLS, count_like, rule_of, totals

    counts = count_like(result, tool)
    t = totals(counts)
    parts = [{"part": "macs", "rule": "conv + linear multiply-accumulates, as costcalc counts them", "count": t["macs"],
              "layers": sum(1 for lc in counts if lc.parts["macs"])}]
    index: dict = {}
    for layer, lc in zip(result.spec.layers, counts):
        for p in PARTS[1:]:
            if lc.parts[p]:
                key = (p, rule_of(tool, layer))
                if key not in index:
                    index[key] = len(parts)
                    parts.append({"part": p, "rule": key[1], "count": 0, "layers": 0})
                row = parts[index[key]]
                row["count"] += lc.parts[p]
                row["layers"] += 1
    parts[1:] = sorted(parts[1:], key=lambda r: (PARTS.index(r["part"]), -r["count"]))
    by_name: dict = {}
    order: list = []
    for layer, lc in zip(result.spec.layers, counts):
        key = lc.name if depth is None else _prefix(lc.name, depth)
        row = by_name.get(key)
        if row is None:
            row = by_name[key] = {"name": key, "type": lc.type, "pytorch": layer.pytorch, "layers": 0,
                                  **dict.fromkeys(PARTS, 0)}
            order.append(key)
        elif row["type"] != lc.type or depth is not None:
            row["type"], row["pytorch"] = "block", ""
        row["layers"] += 1
        for p in PARTS:
            row[p] += lc.parts[p]
    layers = []
    for key in order:
        row = by_name[key]
        row[tool] = sum(row[p] for p in PARTS)
        row["difference"] = row[tool] - row["macs"]
        if row["difference"]:
            layers.append(row)
    return {
        "spec": result.spec.name, "label": result.spec.label, "config": config_dict(result, conv),
        "tool": tool, "version": TOOLS[tool], "macs": t["macs"], "count": t["total"], "difference": t["total"] - t["macs"],
        "parts": parts, "layers": layers,
    }


def explain_tables(result: Result, conv: Conventions, tool: str, depth: int | None = None) -> list[Table]:
    doc = explain_json(result, conv, tool, depth)
    cfg = doc["config"]
    head = Table(
        title=f"Why {tool} prints {grouped(doc['count'])} for {result.spec.label} ({cfg['alpha']:g}x, {cfg['resolution'][0]} px), "
              f"not {grouped(doc['macs'])} MACs",
        columns=[("Part", "part", "left"), ("Count", "count", "right"), ("Layers", "layers", "right"), ("What and how", "rule", "left")],
        header=[f"reproduced: {doc['version']}, on the network "
                + ("as torchvision builds it (impl=torchvision)" if result.spec.settings.get("impl") == "torchvision"
                   else "as the spec builds it")],
    )
    for p in doc["parts"]:
        head.rows.append({"part": PART_NAMES[p["part"]], "count": grouped(p["count"]), "layers": f"{p['layers']}", "rule": p["rule"]})
    head.footer.append({"part": f"= {tool}", "count": grouped(doc["count"]), "layers": "", "rule": ""})
    head.notes.append(f"difference {grouped(doc['difference'])} = "
                      + (" + ".join(grouped(p["count"]) for p in doc["parts"] if p["part"] != "macs") or "0"))
    per = Table(
        title=f"Layer by layer: where {tool} adds to the MACs" + (f" (rolled up to depth {depth})" if depth else ""),
        columns=[("Layer", "name", "left"), ("Type", "type", "left"), ("PyTorch", "pytorch", "left"), ("MACs", "macs", "right"),
                 (tool, "count", "right"), ("Difference", "difference", "right"), ("Why", "why", "left")],
    )
    for row in doc["layers"]:
        why = ", ".join(f"{PART_NAMES[p][2:]} {grouped(row[p])}" for p in ("biases", "batchnorm", "activations", "pooling") if row[p])
        per.rows.append({"name": row["name"], "type": row["type"] if row["layers"] == 1 else f"block ({row['layers']})",
                         "pytorch": row["pytorch"] if row["layers"] == 1 else "", "macs": grouped(row["macs"]),
                         "count": grouped(row[tool]), "difference": f"+{grouped(row['difference'])}", "why": why})
    return [head, per]
