"""ShuffleNet v2's four guidelines (Ma et al. 2018, Sec. 2), measured on a spec.

- G1: for a 1x1 conv with c1 inputs, c2 outputs on h x w, FLOPs B = hw c1 c2 and memory access
  MAC = hw(c1 + c2) + c1 c2 >= 2 sqrt(hw B) + B / hw (Eq. 1), with equality when c1 = c2.
- G2: a g-group 1x1 conv has MAC = hw(c1 + c2) + c1 c2 / g (Eq. 2): at equal FLOPs, more groups cost
  more memory access.
- G3: fragmentation: branches and small sequential operators per block.
- G4: the share of memory access spent in element-wise operations (activations, BN, add, concat,
  split, shuffle).
"""

from __future__ import annotations

import math

from .common import G4_TYPES, is_depthwise, rows_of

#: ShuffleNet v2 Table 1: (c1, c2) for the ratios 1:1, 1:2, 1:6, 1:12 (GPU and ARM settings), 56x56 input
TABLE1 = {"GPU": [(128, 128), (90, 180), (52, 312), (36, 432)], "ARM": [(32, 32), (22, 44), (13, 78), (9, 108)]}
#: ShuffleNet v2 Table 2: c (= c1 = c2) for g = 1, 2, 4, 8 (GPU and CPU settings), 56x56 input
TABLE2 = {"GPU": [128, 180, 256, 360], "CPU": [64, 90, 128, 180]}
GROUPS = [1, 2, 4, 8]


def mac_1x1(h: int, w: int, c1: int, c2: int, g: int = 1) -> int:
    """Memory access of a (group) 1x1 conv: hw(c1 + c2) + c1 c2 / g (ShuffleNet v2 Eq. 1-2)."""
    return h * w * (c1 + c2) + c1 * c2 // g


def lower_bound(h: int, w: int, flops: int) -> float:
    """2 sqrt(hw B) + B / hw (ShuffleNet v2 Eq. 1)."""
    return 2 * math.sqrt(h * w * flops) + flops / (h * w)


def paper_tables(size: int = 56) -> dict:
    """The settings of ShuffleNet v2 Tables 1 and 2 with their FLOPs and memory access."""
    hw = size * size
    g1 = []
    for device, pairs in TABLE1.items():
        for c1, c2 in pairs:
            b = hw * c1 * c2
            g1.append({"device": device, "ratio": f"1:{c2 // c1}", "c1": c1, "c2": c2, "flops": b,
                       "mem_access": mac_1x1(size, size, c1, c2), "lower_bound": lower_bound(size, size, b)})
    g2 = []
    for device, cs in TABLE2.items():
        for g, c in zip(GROUPS, cs):
            b = hw * c * c // g
            g2.append({"device": device, "groups": g, "c": c, "flops": b, "mem_access": mac_1x1(size, size, c, c, g)})
    return {"g1": g1, "g2": g2}


def analyse(res) -> dict:
    rs = rows_of(res)
    g1, g2 = [], []
    for r in rs:
        if r.layer.type != "conv" or r.kernel != (1, 1) or is_depthwise(r):
            continue
        g = r.layer.attrs["groups"]
        b = r.h * r.w * r.c_in * r.c // g
        mac = mac_1x1(r.h, r.w, r.c_in, r.c, g)
        entry = {"name": r.layer.name, "c1": r.c_in, "c2": r.c, "groups": g, "size": [r.h, r.w], "flops": b,
                 "mem_access": mac}
        if g == 1:
            bound = lower_bound(r.h, r.w, b)
            g1.append({**entry, "ratio": r.c / r.c_in, "lower_bound": bound, "excess": mac / bound})
        else:
            # Eq. 2: at equal FLOPs B, memory access grows with g; measured against the dense bound (Eq. 1)
            bound = lower_bound(r.h, r.w, b)
            g2.append({**entry, "lower_bound": bound, "excess": mac / bound})
    # G3 / G4 per top-level block
    blocks: dict[str, dict] = {}
    total_mem = sum(r.mem_access for r in rs) or 1
    for r in rs:
        top = r.layer.name.split("/")[0]
        b = blocks.setdefault(top, {"block": top, "layers": 0, "compute": 0, "elementwise": 0, "branches": 1,
                                    "mem_access": 0, "elementwise_mem_access": 0})
        b["layers"] += 1
        b["mem_access"] += r.mem_access
        if r.layer.type in ("conv", "dwconv", "linear", "maxpool", "avgpool"):
            b["compute"] += 1
        if r.layer.type in G4_TYPES:
            b["elementwise"] += 1
            b["elementwise_mem_access"] += r.mem_access
        if r.layer.type in ("add", "concat"):
            b["branches"] = max(b["branches"], len(r.layer.inputs))
    for b in blocks.values():
        b["elementwise_share"] = b["elementwise_mem_access"] / b["mem_access"] if b["mem_access"] else 0.0
    g4_total = sum(b["elementwise_mem_access"] for b in blocks.values()) / total_mem
    return {"g1": g1, "g2": g2, "blocks": list(blocks.values()), "g4_share": g4_total}


def summary(found: dict, top: int = 3) -> list[dict]:
    """The layers or blocks that depart most from each guideline."""
    out = []
    for r in sorted(found["g1"], key=lambda e: -e["excess"])[:top]:
        out.append({"guideline": "G1 equal widths", "where": r["name"],
                    "measure": f"c1:c2 = {r['c1']}:{r['c2']}, memory access {r['excess']:.2f}x the bound"})
    for r in sorted(found["g2"], key=lambda e: -e["excess"])[:top]:
        out.append({"guideline": "G2 group convs", "where": r["name"],
                    "measure": f"g = {r['groups']}: memory access {r['excess']:.2f}x the bound of a dense conv of equal FLOPs"})
    for b in sorted(found["blocks"], key=lambda e: (-e["branches"], -e["compute"]))[:top]:
        if b["compute"] > 1 or b["branches"] > 1:
            out.append({"guideline": "G3 fragmentation", "where": b["block"],
                        "measure": f"{b['branches']} branches, {b['compute']} compute ops, {b['elementwise']} element-wise"})
    for b in sorted((b for b in found["blocks"] if b["compute"]), key=lambda e: -e["elementwise_share"])[:top]:
        out.append({"guideline": "G4 element-wise", "where": b["block"],
                    "measure": f"{100 * b['elementwise_share']:.1f}% of its memory access"})
    return out
