"""Deep Compression storage (Han et al. 2016): pruning + relative-index sparse storage, k-means weight
sharing, and Huffman coding, estimated per layer.

The storage model, stated once:
- A layer's weights (biases excluded) keep a fraction d after pruning; a layer kept whole (d = 1) is
  stored dense, without indices.
- A pruned layer stores each kept weight as a cluster index of `bits` bits plus a relative index of
  `index_bits` bits. A gap longer than 2^index_bits positions needs a filler zero (Sec. 2, Fig. 2).
  With the kept weights placed at random, gaps are geometric and the expected number of stored
  entries per kept weight is 1 / (1 - (1 - d)^(2^index_bits)).
- Each layer has a codebook of 2^bits 32-bit centroids; biases stay 32-bit floats.
- Huffman coding (optional): `measured` uses the average bits the paper measured per layer (carried
  by the spec); `entropy` uses the entropy of the relative indices under the same random placement
  (cluster indices are taken as uniform, so they do not shrink). Neither is a real encoder.
- Sizes are in MB of 10^6 bytes; the original is every parameter as a 32-bit float.
"""

from __future__ import annotations

import math

from ..errors import SpecError
from ..quantities import register
from ..verify import in_scope
from .common import AnalysisError, rows_of

HUFFMAN = ("off", "measured", "entropy")
FILLERS = ("random", "none")
LAYER_KEYS = ("keep", "bits", "index_bits", "huffman_bits", "huffman_index_bits")


def sharing_ratio(n: int, bits: int, clusters: int) -> float:
    """Eq. 1: r = n b / (n log2 k + k b)."""
    for value, what in ((n, "--n"), (bits, "--bits"), (clusters, "--clusters")):
        if value is None or value <= 0:
            raise AnalysisError(f"{what}: expected a positive number, got {value}")
    return n * bits / (n * math.log2(clusters) + clusters * bits)


def _filler_odds(d: float, index_bits: int) -> tuple[float, float]:
    """(r, 1 - r) with r = (1 - d)^(2^index_bits), the chance that a gap needs a filler; computed
    through log1p/expm1 so that a tiny d or a large index width neither underflows nor cancels."""
    log_r = 2.0**index_bits * math.log1p(-d)
    return math.exp(log_r), -math.expm1(log_r)


def entries_per_weight(d: float, index_bits: int, fillers: str = "random") -> float:
    """Expected stored entries (kept weights + filler zeros) per kept weight under random placement;
    ``fillers="none"`` ignores filler zeros (a lower bound on the storage)."""
    if d >= 1 or fillers == "none":
        return 1.0
    return 1 / _filler_odds(d, index_bits)[1]


def index_entropy(d: float, index_bits: int) -> float:
    """Entropy (bits per stored entry) of the relative indices: gaps 1..2^b, geometric with
    P(k) = d (1-d)^(k-1), and the filler symbol with P = (1-d)^(2^b).

    In closed form (constant time for any index width): with r the filler's probability, the
    entropy is h(r) + (1 - r) H_gap, where the gap given no filler is a geometric law truncated
    to 1..S (S = 2^b) with mean excess E[k - 1] = q/d - S r/(1 - r), q = 1 - d."""
    if d >= 1:
        return 0.0
    span = 2.0**index_bits
    r, not_r = _filler_odds(d, index_bits)
    if d * span < 1e-6:  # the truncated law is all but uniform; the closed form would cancel
        excess = (span - 1) / 2
    else:
        excess = (1 - d) / d - span * r / not_r
    h_r = -(r * math.log(r) if r > 0 else 0.0) - (not_r * math.log(not_r) if not_r > 0 else 0.0)
    h_gap = math.log(not_r) - math.log(d) - math.log1p(-d) * excess
    return (h_r + not_r * h_gap) / math.log(2)


def _config(spec) -> dict:
    """The spec's `analyses.compression` section, already checked by costcalc.format."""
    return (spec.analyses or {}).get("compression") or {}


def _check(keep, conv_bits, fc_bits, index_bits, huffman, fillers="random"):
    if fillers not in FILLERS:
        raise AnalysisError(f"--fillers: expected one of {', '.join(FILLERS)}, got {fillers!r}")
    if keep is not None and not 0 < keep <= 1:
        raise AnalysisError(f"--keep: expected a fraction in (0, 1], got {keep}")
    for value, what in ((conv_bits, "--conv-bits"), (fc_bits, "--fc-bits"), (index_bits, "--index-bits")):
        if value is not None and not 1 <= value <= 32:
            raise AnalysisError(f"{what}: expected 1 to 32 bits, got {value}")
    if huffman not in HUFFMAN:
        raise AnalysisError(f"--huffman: expected one of {', '.join(HUFFMAN)}, got {huffman!r}")


def layer_size(weights: int, biases: int, keep: float, bits: int, index_bits: int,
               huffman_bits: float | None = None, huffman_index_bits: float | None = None,
               fillers: str = "random") -> dict:
    """Storage of one layer in bytes (see the module docstring)."""
    kept = weights * keep
    entries = kept * entries_per_weight(keep, index_bits, fillers)
    wbits = bits if huffman_bits is None else huffman_bits
    ibits = 0 if keep >= 1 else (index_bits if huffman_index_bits is None else huffman_index_bits)
    total_bits = entries * (wbits + ibits) + 2**bits * 32 + biases * 32
    return {"kept": kept, "entries": entries, "weight_bits": wbits, "index_bits": ibits, "bytes": total_bits / 8,
            "original_bytes": (weights + biases) * 4}


def analyse(res, keep: float | None = None, conv_bits: int | None = None, fc_bits: int | None = None,
            index_bits: int | None = None, huffman: str = "off", fillers: str = "random") -> dict:
    """Per-layer and total storage. Options given here override the spec's `analyses.compression`."""
    _check(keep, conv_bits, fc_bits, index_bits, huffman, fillers)
    spec = res.spec
    cfg = _config(spec)
    per_layer = cfg.get("layers") or {}
    default_index = index_bits or cfg.get("index_bits") or 5
    rows = []
    other = 0  # bytes of parameters outside conv/linear layers (BatchNorm), kept as 32-bit floats
    for r in rows_of(res):
        if r.layer.type not in ("conv", "dwconv", "linear"):
            other += r.params * 4
            continue
        entry = next((e for name, e in per_layer.items() if in_scope(r.layer.name, str(name))), {})
        fc = r.layer.type == "linear"
        bits = (fc_bits if fc else conv_bits) or entry.get("bits") or cfg.get("fc_bits" if fc else "conv_bits") or (5 if fc else 8)
        d = keep if keep is not None else entry.get("keep", 1.0)
        ib = index_bits or entry.get("index_bits") or default_index
        hb = hib = None
        if huffman == "measured":
            if "huffman_bits" not in entry:
                raise SpecError(spec.source, "analyses.compression.layers", f"no measured Huffman bits for layer {r.layer.name!r} (use --huffman entropy)")
            hb, hib = entry["huffman_bits"], entry.get("huffman_index_bits", ib)
        elif huffman == "entropy":
            hb, hib = bits, index_entropy(d, ib)
        biases = r.c if r.layer.attrs.get("bias") else 0
        size = layer_size(r.weights - biases, biases, d, int(bits), int(ib), hb, hib, fillers)
        rows.append({"name": r.layer.name, "type": r.layer.type, "weights": r.weights - biases, "keep": d,
                     "bits": int(bits), **size})
    original = sum(x["original_bytes"] for x in rows) + other
    compressed = sum(x["bytes"] for x in rows) + other
    pruned = sum(x["weights"] * x["keep"] for x in rows) + sum(x["original_bytes"] / 4 - x["weights"] for x in rows) + other / 4
    return {"layers": rows, "original_mb": original / 1e6, "compressed_mb": compressed / 1e6, "pruned_params": pruned,
            "ratio": original / compressed, "pct": 100 * compressed / original, "huffman": huffman, "fillers": fillers,
            "source": cfg.get("source", "")}


def _options(options: dict) -> dict:
    return {k: options[k] for k in ("keep", "conv_bits", "fc_bits", "index_bits", "huffman", "fillers") if k in options}


@register("compressed_size_mb")
def _size(res, options) -> float:
    return analyse(res, **_options(options))["compressed_mb"]


@register("pruned_params")
def _pruned(res, options) -> float:
    """The parameters left after pruning: each layer's weights x its kept fraction, and every bias (of
    the layers under `_layer`, a reference's layer or block names, if given)."""
    a = analyse(res, **_options(options))
    scope = options.get("_layer")
    if not scope:
        return a["pruned_params"]
    from ..verify import in_scope

    prefixes = scope.split(", ")
    return sum(x["weights"] * x["keep"] + x["original_bytes"] / 4 - x["weights"] for x in a["layers"]
               if any(in_scope(x["name"], p) for p in prefixes))


@register("compression_ratio")
def _ratio(res, options) -> float:
    return analyse(res, **_options(options))["ratio"]
