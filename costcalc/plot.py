"""Pictures of costs (matplotlib, the optional extra costcalc[plot], imported only here).

- layers: per-layer bars of MACs, parameters and memory access, coloured by layer kind
  (conv 1x1, dwconv 3x3, ...), with the top-level blocks marked along the axis;
- pareto: published top-1 against MACs for every configuration of the given specs that has a
  published accuracy, with the Pareto front (no other point is both cheaper and more accurate)
  drawn and its points labelled.
"""

from __future__ import annotations

from .errors import CostcalcError

KINDS = ("layers", "pareto")


class PlotError(CostcalcError):
    pass


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only, never a window
        import matplotlib.pyplot as plt
    except ImportError:
        raise PlotError("costcalc plot needs matplotlib: pip install 'costcalc[plot]'") from None
    return plt


def _save(fig, path: str, inputs=()) -> None:
    import io

    from .output import write_output

    fmt = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if fmt not in ("png", "svg", "pdf"):
        raise PlotError(f"--output {path}: expected a .png, .svg or .pdf file")
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=150, bbox_inches="tight")
    write_output([buf.getvalue()], path, inputs, binary=True)


def layers(result, path: str, title: str, inputs=()) -> None:
    """Per-layer bars of MACs, params and memory access, coloured by layer kind."""
    from .report import kind_label

    plt = _pyplot()
    spec = result.spec
    kinds = [kind_label(layer) for layer in spec.layers]
    order = sorted(set(kinds), key=lambda k: -sum(int(lr.values["macs"]) for lr, kk in zip(result.layers, kinds) if kk == k))
    palette = plt.get_cmap("tab10" if len(order) <= 10 else "tab20")
    colour = {k: palette(i % palette.N) for i, k in enumerate(order)}
    x = list(range(len(result.layers)))
    panels = (("MACs", "macs", 1e6, "M"), ("parameters", "params", 1e6, "M"), ("memory access", "mem_access", 1e6, "M elements"))
    fig, axes = plt.subplots(3, 1, figsize=(12, 8), sharex=True)
    for ax, (label, q, scale, unit) in zip(axes, panels):
        values = [int(lr.values[q]) / scale for lr in result.layers]
        ax.bar(x, values, width=0.9, color=[colour[k] for k in kinds], linewidth=0)
        ax.set_ylabel(f"{label} ({unit})")
        ax.grid(axis="y", alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
    starts = {}  # the first layer of each top-level block, for the axis
    for i, lr in enumerate(result.layers):
        starts.setdefault(lr.name.split("/")[0].split(".")[0], i)
    ticks = sorted(starts.items(), key=lambda kv: kv[1])
    gap = max(1, len(x) // 40)  # labels closer than this would overlap: keep the first of a crowd
    shown = []
    for name, i in ticks:
        if not shown or i - shown[-1][1] >= gap:
            shown.append((name, i))
    axes[-1].set_xticks([i for _, i in shown], [name for name, _ in shown], rotation=60, ha="right", fontsize=8)
    axes[-1].set_xlim(-1, len(x))
    handles = [plt.Rectangle((0, 0), 1, 1, color=colour[k]) for k in order]
    fig.legend(handles, order, fontsize=8, loc="center left", bbox_to_anchor=(0.995, 0.5), frameon=False,
               title="layer kind", title_fontsize=8)
    axes[0].set_title(title, loc="left", fontsize=11)
    _save(fig, path, inputs)
    plt.close(fig)


def pareto(points: list[dict], path: str, title: str, inputs=()) -> None:
    """Top-1 against MACs; `points`: {label, spec, macs, top1}. The front: each point that no other
    point beats on both (fewer or equal MACs and higher or equal accuracy, one strictly)."""
    plt = _pyplot()
    if not points:
        raise PlotError("no published top-1 for these specs: nothing to plot against MACs")
    front = [p for p in points
             if not any((q["macs"] <= p["macs"] and q["top1"] > p["top1"]) or (q["macs"] < p["macs"] and q["top1"] >= p["top1"])
                        for q in points)]
    front.sort(key=lambda p: p["macs"])
    specs = sorted({p["spec"] for p in points})
    palette = plt.get_cmap("tab10" if len(specs) <= 10 else "tab20")
    fig, ax = plt.subplots(figsize=(9, 6))
    for i, s in enumerate(specs):
        mine = [p for p in points if p["spec"] == s]
        ax.scatter([p["macs"] / 1e6 for p in mine], [p["top1"] for p in mine], s=28, color=palette(i % palette.N),
                   label=s, zorder=3)
    ax.plot([p["macs"] / 1e6 for p in front], [p["top1"] for p in front], color="black", lw=1, ls="--", zorder=2,
            label="Pareto front")
    for p in front:
        ax.annotate(p["label"], (p["macs"] / 1e6, p["top1"]), xytext=(5, -4), textcoords="offset points", fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("MACs (millions, log scale)")
    ax.set_ylabel("published top-1 (%)")
    ax.grid(alpha=0.3, which="both")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    ax.set_title(title, loc="left", fontsize=11)
    _save(fig, path, inputs)
    plt.close(fig)


def accuracy_points(spec, evaluate) -> list[dict]:
    """Every configuration of `spec` with a published top-1, with its MACs."""
    from .verify import published_accuracy

    out = []
    for (alpha, res), top1 in sorted(published_accuracy(spec).items()):
        macs = evaluate(spec, alpha=alpha, resolution=res, per_layer=False).total("macs")
        label = spec.label + ("" if alpha == 1 else f" {alpha:g}x") + ("" if res == spec.input_size[0] else f" {res}px")
        out.append({"label": label, "spec": spec.label, "macs": int(macs), "top1": float(top1)})
    return out
