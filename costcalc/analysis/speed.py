"""ShuffleNet v2's guideline experiments (Ma et al. 2018, Sec. 2, Tables 1-4), built as specs and timed.

Each setting is a small network on a 56 x 56 input (repeated 10 times, as in the paper), written as a
spec document, so costcalc counts it, exports it to ONNX and times it in ONNX Runtime like any spec.
The paper's speeds are kept beside the measurement: the CPU columns (ARM Snapdragon 810 for G1, the
paper's "CPU" for G2 to G4), at channel scale x1, x2 and x4.
"""

from __future__ import annotations

import math

SOURCE = "Ma et al. 2018, ShuffleNet V2, arXiv 1807.11164"
SIZE, REPEAT = 56, 10
SCALES = (1, 2, 4)

#: Table 1 (G1), ARM: (c1, c2) at scale x1 and images/s at x1, x2, x4
G1 = {"1:1": ((32, 32), (76.2, 21.7, 5.3)), "1:2": ((22, 44), (72.9, 20.5, 5.1)),
      "1:6": ((13, 78), (69.1, 17.9, 4.6)), "1:12": ((9, 108), (57.6, 15.1, 4.4))}
#: Table 2 (G2), CPU: c at scale x1 for g groups and images/s at x1, x2, x4
G2 = {1: (64, (40.0, 10.2, 2.3)), 2: (90, (35.0, 9.5, 2.2)), 4: (128, (32.9, 8.7, 2.1)), 8: (180, (27.8, 7.5, 1.8))}
#: Table 3 (G3), CPU at c = 64, 128, 256: images/s
G3 = {"1-fragment": (40.2, 10.1, 2.3), "2-fragment-series": (38.6, 10.1, 2.2), "4-fragment-series": (38.4, 10.1, 2.3),
      "2-fragment-parallel": (33.4, 9.1, 2.2), "4-fragment-parallel": (35.0, 8.4, 2.1)}
G3_C = (64, 128, 256)
#: Table 4 (G4), CPU at c = 32, 64, 128: images/s; (ReLU, shortcut)
G4 = {"relu+shortcut": ((True, True), (56.7, 16.9, 5.0)), "relu only": ((True, False), (61.9, 18.8, 5.2)),
      "shortcut only": ((False, True), (57.3, 18.2, 5.1)), "neither": ((False, False), (66.3, 20.2, 5.4))}
G4_C = (32, 64, 128)
TABLE = {"G1": "Table 1", "G2": "Table 2", "G3": "Table 3", "G4": "Table 4"}


def _conv(out, k=1, groups=1, name=None, **kw):
    item = {"type": "conv", "out": out, "kernel": k, "bias": False, **kw}
    if groups > 1:
        item["groups"] = groups
    if name:
        item["name"] = name
    return item


def _doc(name: str, c: int, block: list, note: str) -> dict:
    return {"name": name, "title": f"{name} ({note})", "input": {"channels": c, "size": SIZE},
            "blocks": {"unit": {"layers": block}}, "layers": [{"name": "block", "block": "unit", "repeat": REPEAT}]}


def g1(setting: str, scale: int) -> dict:
    """10 blocks of two 1x1 convs, c1 -> c2 -> c1 (Table 1)."""
    (c1, c2), _ = G1[setting]
    c1, c2 = c1 * scale, c2 * scale
    return _doc(f"g1_{setting.replace(':', '_')}_x{scale}", c1, [_conv(c2, name="a"), _conv(c1, name="b")], f"c1:c2 {setting}")


def g2(groups: int, scale: int) -> dict:
    """10 pointwise group convs c -> c (Table 2); c rounded up to a multiple of g (the paper's 180 for
    g = 8 does not divide: 184)."""
    c = -(-G2[groups][0] * scale // groups) * groups
    return _doc(f"g2_g{groups}_x{scale}", c, [_conv(c, groups=groups, name="gconv")], f"{groups} groups")


def g3(setting: str, c: int) -> dict:
    """Fragmentation at equal FLOPs (Table 3): k 1x1 convs in series (c -> i -> ... -> i -> c, i chosen
    so the FLOPs are those of one c -> c conv), or k in parallel from c to c / k channels each, joined
    by concatenation: our reading of the paper's Appendix Fig. 1, whose exact widths the text omits."""
    k = int(setting[0])
    if setting == "1-fragment":
        block = [_conv(c, name="conv")]
    elif "series" in setting:
        # c -> i, (k - 2) x i -> i, i -> c with 2ci + (k - 2)i^2 = c^2: the FLOPs of one c -> c conv
        inner = c / 2 if k == 2 else c * (-2 + math.sqrt(4 + 4 * (k - 2))) / (2 * (k - 2))
        inner = max(1, round(inner))
        block = [_conv(inner, name="in")] + [_conv(inner, name=f"s{i}") for i in range(k - 2)] + [_conv(c, name="out")]
    else:
        block = [{"type": "concat", "name": "cat", "branches": [[_conv(c // k, name=f"p{i}")] for i in range(k)]}]
    return _doc(f"g3_{setting}_c{c}", c, block, setting)


def g4(setting: str, c: int) -> dict:
    """A ResNet bottleneck (1x1 -> 3x3 -> 1x1, c/4 in the middle) with or without ReLU and shortcut (Table 4)."""
    (relu, shortcut), _ = G4[setting]
    mid = max(1, c // 4)
    body = [_conv(mid, name="a")] + ([{"type": "relu", "name": "relu_a"}] if relu else [])
    body += [_conv(mid, 3, padding=1, name="b")] + ([{"type": "relu", "name": "relu_b"}] if relu else [])
    body += [_conv(c, name="c")]
    block = [{"type": "add", "name": "add", "branches": [[], body]}] if shortcut else body
    if relu:
        block.append({"type": "relu", "name": "relu"})
    return _doc(f"g4_{setting.replace(' ', '_').replace('+', '_')}_c{c}", c, block, setting)


def settings(guideline: str):
    """(setting label, scale label, spec document, the paper's images/s) of one guideline."""
    if guideline == "G1":
        return [(s, f"x{m}", g1(s, m), G1[s][1][i]) for s in G1 for i, m in enumerate(SCALES)]
    if guideline == "G2":
        return [(f"g={g}", f"x{m}", g2(g, m), G2[g][1][i]) for g in G2 for i, m in enumerate(SCALES)]
    if guideline == "G3":
        return [(s, f"c={c}", g3(s, c), G3[s][i]) for s in G3 for i, c in enumerate(G3_C)]
    return [(s, f"c={c}", g4(s, c), G4[s][1][i]) for s in G4 for i, c in enumerate(G4_C)]


def measure(runs: int = 10, warmup: int = 3, threads: int | None = None, profile=None, progress=None) -> list[dict]:
    """Every setting of Tables 1-4: MACs, memory access, the paper's speed, the measured speed here and,
    with a profile, the predicted one (images per second)."""
    from ..engine import evaluate
    from ..latency import predict
    from ..measure import bench
    from ..spec import load_spec

    out = []
    done = 0
    for guideline in ("G1", "G2", "G3", "G4"):
        for setting, scale, doc, paper in settings(guideline):
            spec = load_spec(doc)
            res = evaluate(spec)
            t = bench(spec, runs=runs, warmup=warmup, threads=threads).median
            rec = {"guideline": guideline, "setting": setting, "scale": scale, "macs": res.total("macs"),
                   "mem_access": res.total("mem_access"), "paper_images_per_s": paper,
                   "measured_images_per_s": round(1 / t, 2),
                   "source": f"{SOURCE}, {TABLE[guideline]} ({'ARM' if guideline == 'G1' else 'CPU'})"}
            if profile is not None:
                rec["predicted_images_per_s"] = round(1 / predict(res, profile).total, 2)
            out.append(rec)
            done += 1
            if progress:
                progress(done)
    return out


def verdicts(records: list[dict]) -> list[str]:
    """Per guideline and scale: does the fastest setting here agree with the paper's fastest?"""
    lines = []
    for guideline in ("G1", "G2", "G3", "G4"):
        recs = [r for r in records if r["guideline"] == guideline]
        agree = 0
        scales = sorted({r["scale"] for r in recs}, key=lambda s: int(s.split("=")[-1].lstrip("x")))
        words = []
        for sc in scales:
            rs = [r for r in recs if r["scale"] == sc]
            paper = max(rs, key=lambda r: r["paper_images_per_s"])["setting"]
            here = max(rs, key=lambda r: r["measured_images_per_s"])["setting"]
            agree += paper == here
            words.append(f"{sc}: paper {paper}, here {here}")
        verdict = "agrees" if agree == len(scales) else "disagrees" if agree == 0 else "partly agrees"
        lines.append(f"{guideline} {verdict} with the paper on the fastest setting ({'; '.join(words)})")
    return lines
