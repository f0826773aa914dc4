"""`costcalc analyze ...`: the closed-form analyses (costcalc.analysis), on a spec or on explicit numbers.

Each subcommand builds report.Table objects (and the same data as records) and hands them to one
writer: tables (rich), JSON (all the data), CSV (the main table's records) or Markdown.
"""

from __future__ import annotations

import click

from .cli import CONTEXT, UsageProblem, one_config
from .options import BITS, FRACTION, SPEC, Number, Setting, config_options, count, device_option, limits, limits_options, output_options, settings_of

# -- shared pieces --------------------------------------------------------------------------


def spec_config_options(fn):
    fn = limits_options(fn)
    fn = click.option("--set", "settings", metavar="KEY=VALUE", type=Setting(), multiple=True, help="Set a spec parameter (impl=NAME: an implementation the spec lists).")(fn)
    fn = click.option("--variant", default=None, help="Variant of the spec (also SPEC:VARIANT).")(fn)
    return config_options()(fn)


def _result(spec, alpha, rho, resolution, variant, settings):
    from .engine import evaluate
    from .spec import load_spec

    a, r, px = one_config(alpha, rho, resolution)
    s = load_spec(spec, variant=variant, settings=settings_of(settings), limits=limits())
    try:
        return evaluate(s, alpha=a, resolution=px, rho=r)
    except ValueError as exc:
        raise UsageProblem(str(exc)) from None


def fmt_value(value, kind: str) -> str:
    from .report import grouped, human

    if value is None:
        return ""
    if kind == "int":
        return grouped(value)
    if kind == "human":
        return human(value)
    if kind == "ratio":
        return f"{value:.4f}"
    if kind == "x":
        return f"{value:.2f}x"
    if kind == "pct":
        return f"{value:.2f}%"
    if kind == "shape":
        return "x".join(str(v) for v in value)
    if kind == "float":
        return f"{value:,.1f}"
    return str(value)


def table(title, records, columns, header=(), notes=()):
    """columns: (heading, key, kind); numbers right-aligned."""
    from .report import Table

    t = Table(title=title, columns=[(h, k, "left" if kind in ("str", "shape") else "right") for h, k, kind in columns],
              header=list(header), notes=list(notes))
    for rec in records:
        t.rows.append({k: fmt_value(rec.get(k), kind) for _, k, kind in columns})
    return t


def emit(tables, data, records, fmt, output):
    """The analyses' tables, data and records (already built: they are cheap) in the chosen format."""
    from .cli import emit as write

    write(fmt, output, lambda: tables, lambda: data, lambda: records)


def _need(values: dict, mode: str):
    missing = [k for k, v in values.items() if v is None]
    if missing:
        raise UsageProblem(f"{mode} needs {', '.join(missing)}")


@click.group(context_settings=CONTEXT)
def analyze():
    """Closed-form analyses the papers argue with, on any spec or on single-layer numbers.

    \b
    Example:
      costcalc analyze dws mobilenet
      costcalc analyze dws --in 512 --out 512 --kernel 3 --size 14
    """


# -- depthwise-separable --------------------------------------------------------------------


@analyze.command(context_settings=CONTEXT)
@click.argument("spec", type=SPEC, required=False)
@click.option("--in", "c_in", type=count(), help="Single layer: input channels C (M in the paper).")
@click.option("--out", "c_out", type=count(), help="Single layer: output channels N.")
@click.option("--kernel", type=count(), default=3, show_default=True, help="Single layer: kernel size K.")
@click.option("--size", type=count(), help="Single layer: input height = width (D_F), 'same' padding.")
@click.option("--stride", type=count(), default=1, show_default=True, help="Single layer: stride.")
@click.option("--bias/--no-bias", default=False, help="Single layer: count biases.")
@spec_config_options
@output_options
def dws(spec, c_in, c_out, kernel, size, stride, bias, alpha, rho, resolution, variant, settings, fmt, output):
    """Depthwise-separable vs standard convolution, against the closed form 1/N + 1/K^2.

    With SPEC: every depthwise + pointwise pair against the standard convolution it replaces, the
    network with and without them (MobileNet Table 4), and the share of mult-adds and weights per
    layer type (MobileNet Table 2). Without SPEC: one layer given by --in, --out, --kernel, --size.

    \b
    Example:
      costcalc analyze dws mobilenet
      costcalc analyze dws --in 512 --out 512 --kernel 3 --size 14
    """
    from .analysis import dws as d

    if spec is None:
        _need({"--in": c_in, "--out": c_out, "--size": size}, "a single layer")
        rec = d.single(c_in, c_out, kernel, size, stride=stride, bias=bias)
        rows = [
            {"what": "standard", "params": rec["standard_params"], "macs": rec["standard_macs"]},
            {"what": "depthwise separable", "params": rec["dws_params"], "macs": rec["dws_macs"]},
            {"what": "ratio", "params": None, "macs": None, "ratio": rec["macs_ratio"]},
            {"what": "closed form 1/N + 1/K^2", "ratio": rec["closed_form"]},
        ]
        t = table(f"{kernel}x{kernel} conv, {c_in} -> {c_out} channels, output {rec['output'][0]}x{rec['output'][1]}",
                  rows, [("", "what", "str"), ("Params", "params", "int"), ("Mult-adds", "macs", "int"), ("Ratio", "ratio", "ratio")])
        emit([t], rec, [rec], fmt, output)
        return
    res = _result(spec, alpha, rho, resolution, variant, settings)
    pairs, net, shares = d.pairs(res), d.network(res), d.type_shares(res)
    t1 = table(f"{res.spec.title} [{res.spec.label}]: depthwise-separable pairs vs standard convolutions", pairs,
               [("Pair", "name", "str"), ("In", "in", "int"), ("Out", "out", "int"), ("Output", "output", "shape"),
                ("DWS MACs", "dws_macs", "int"), ("Standard MACs", "standard_macs", "int"),
                ("Ratio", "macs_ratio", "ratio"), ("1/N + 1/K^2", "closed_form", "ratio")])
    t2 = table("Network: as specified vs every pair a standard convolution (cf. MobileNet Table 4)", [
        {"what": "as specified", "macs": net["macs"], "weights": net["weights"]},
        {"what": "standard convolutions", "macs": net["standard_macs"], "weights": net["standard_weights"]},
        {"what": "ratio", "ratio": net["macs_ratio"]}],
        [("", "what", "str"), ("MACs", "macs", "int"), ("Weights", "weights", "int"), ("Ratio", "ratio", "ratio")],
        notes=["weights exclude BatchNorm; MACs as in the header convention (mult-adds)"])
    t3 = table("Share per layer type (cf. MobileNet Table 2)", shares,
               [("Type", "type", "str"), ("Layers", "layers", "int"), ("Mult-adds", "macs_pct", "pct"),
                ("Weights", "weights_pct", "pct")])
    emit([t1, t2, t3], {"pairs": pairs, "network": net, "layer_types": shares}, pairs, fmt, output)


# -- Fire modules ----------------------------------------------------------------------------


@analyze.command(context_settings=CONTEXT)
@click.argument("spec", type=SPEC)
@spec_config_options
@output_options
def fire(spec, alpha, rho, resolution, variant, settings, fmt, output):
    """Every Fire module against a plain 3x3 conv with the same channels (SqueezeNet).

    Fire modules are found structurally: a concat of a 1x1 and a 3x3 conv that read the same 1x1
    squeeze conv. Shows the squeeze ratio SR and the 3x3 fraction pct3x3 of SqueezeNet Sec. 5.

    \b
    Example:
      costcalc analyze fire squeezenet
    """
    from .analysis import fire as f

    res = _result(spec, alpha, rho, resolution, variant, settings)
    mods, net = f.modules(res), f.network(res)
    if not mods:
        raise UsageProblem(f"{res.spec.source}: no Fire modules (a 1x1 squeeze feeding a concat of 1x1 and 3x3 convs)")
    t1 = table(f"{res.spec.title} [{res.spec.label}]: Fire modules vs plain 3x3 convolutions", mods,
               [("Module", "name", "str"), ("In", "in", "int"), ("s1x1", "s1x1", "int"), ("e1x1", "e1x1", "int"),
                ("e3x3", "e3x3", "int"), ("SR", "sr", "ratio"), ("pct3x3", "pct3x3", "ratio"), ("Params", "params", "int"),
                ("Plain 3x3", "plain_params", "int"), ("MACs", "macs", "human"), ("Plain MACs", "plain_macs", "human")])
    t2 = table("Network", [{"what": "as specified", "params": net["weights"], "macs": net["macs"]},
                           {"what": "Fire modules as plain 3x3 convs", "params": net["standard_weights"], "macs": net["standard_macs"]}],
               [("", "what", "str"), ("Weights", "params", "int"), ("MACs", "macs", "int")])
    emit([t1, t2], {"modules": mods, "network": net}, mods, fmt, output)


@analyze.command(name="fire-design", context_settings=CONTEXT)
@click.option("--base-e", type=count(), default=128, show_default=True, help="Expand filters in the first module.")
@click.option("--incr-e", type=count(), default=128, show_default=True, help="Added every --freq modules.")
@click.option("--freq", type=count(), default=2, show_default=True, help="Modules between increments.")
@click.option("--sr", type=FRACTION, default=0.125, show_default=True, help="Squeeze ratio s / e.")
@click.option("--pct3x3", type=Number(0, 1), default=0.5, show_default=True, help="Fraction of 3x3 expand filters.")
@click.option("--modules", type=count(), default=8, show_default=True, help="Number of Fire modules.")
@click.option("--in", "c_in", type=count(), default=96, show_default=True, help="Channels into the first module.")
@output_options
def fire_design(base_e, incr_e, freq, sr, pct3x3, modules, c_in, fmt, output):
    """The Fire stack generated by SqueezeNet's metaparameters (Sec. 5.1).

    e_i = base_e + incr_e * floor(i / freq); s_i = SR * e_i; e_i,3x3 = pct3x3 * e_i. The defaults
    give SqueezeNet 1.0's fire2..fire9 (Table 1).

    \b
    Example:
      costcalc analyze fire-design --sr 0.25 --pct3x3 0.75
    """
    from .analysis import fire as f

    mods = f.design(base_e, incr_e, freq, sr, pct3x3, modules, c_in)
    t = table(f"Fire modules for base_e={base_e}, incr_e={incr_e}, freq={freq}, SR={sr:g}, pct3x3={pct3x3:g}", mods,
              [("Module", "name", "str"), ("In", "in", "int"), ("s1x1", "s1x1", "int"), ("e1x1", "e1x1", "int"),
               ("e3x3", "e3x3", "int"), ("Params", "params", "int")],
              notes=[f"total {sum(m['params'] for m in mods):,} parameters (with biases)"])
    emit([t], mods, mods, fmt, output)


# -- group convolution, low rank, factorised kernels ----------------------------------------------


@analyze.command(context_settings=CONTEXT)
@click.argument("spec", type=SPEC, required=False)
@click.option("--in", "c_in", type=count(), help="Single layer: input channels.")
@click.option("--out", "c_out", type=count(), help="Single layer: output channels.")
@click.option("--groups", type=count(), help="Single layer: groups g.")
@click.option("--size", type=count(), help="Single layer: output height = width.")
@click.option("--kernel", type=count(), default=1, show_default=True, help="Single layer: kernel size.")
@spec_config_options
@output_options
def group(spec, c_in, c_out, groups, size, kernel, alpha, rho, resolution, variant, settings, fmt, output):
    """Group convolution against its ungrouped version (ShuffleNet).

    With SPEC: every grouped (not depthwise) conv. Without: one layer, including its memory access
    hw(c1 + c2) + c1*c2/g (ShuffleNet v2 Eq. 2).

    \b
    Example:
      costcalc analyze group shufflenet --set groups=8
      costcalc analyze group --in 240 --out 240 --groups 3 --size 28
    """
    from .analysis import convs

    if spec is None:
        _need({"--in": c_in, "--out": c_out, "--groups": groups, "--size": size}, "a single layer")
        rec = convs.group_single(c_in, c_out, groups, size, kernel=kernel)
        rows = [{"what": f"{groups} groups", "params": rec["params"], "macs": rec["macs"], "mem": rec["mem_access"]},
                {"what": "ungrouped", "params": rec["ungrouped_params"], "macs": rec["ungrouped_macs"], "mem": rec["ungrouped_mem_access"]}]
        t = table(f"{kernel}x{kernel} conv {c_in} -> {c_out} on {size}x{size}", rows,
                  [("", "what", "str"), ("Params", "params", "int"), ("MACs", "macs", "int"), ("Memory access", "mem", "int")],
                  notes=[f"saving: {groups}x in params and MACs"])
        emit([t], rec, [rec], fmt, output)
        return
    res = _result(spec, alpha, rho, resolution, variant, settings)
    layers = convs.grouped_layers(res)
    t = table(f"{res.spec.title} [{res.spec.label}]: grouped convolutions", layers,
              [("Layer", "name", "str"), ("In", "in", "int"), ("Out", "out", "int"), ("g", "groups", "int"),
               ("MACs", "macs", "int"), ("Ungrouped", "ungrouped_macs", "int"), ("Weights", "weights", "int"),
               ("Ungrouped", "ungrouped_weights", "int")],
              notes=[f"{len(layers)} grouped convolutions; {sum(x['macs'] for x in layers):,} MACs instead of "
                     f"{sum(x['ungrouped_macs'] for x in layers):,}"])
    emit([t], layers, layers, fmt, output)


@analyze.command(context_settings=CONTEXT)
@click.option("--c", "c", type=count(), required=True, help="Input (and output) channels c of the unit.")
@click.option("--m", "m", type=count(), required=True, help="Bottleneck channels m.")
@click.option("--groups", type=count(), required=True, help="Groups g.")
@click.option("--size", type=count(), required=True, help="Feature map height = width.")
@output_options
def units(c, m, groups, size, fmt, output):
    """Mult-adds of a ResNet, ResNeXt and ShuffleNet unit (ShuffleNet Sec. 3.2).

    \b
    Example:
      costcalc analyze units --c 240 --m 60 --groups 3 --size 28
    """
    from .analysis import convs

    rows = convs.unit_costs(c, m, groups, size)
    t = table(f"Units for c = {c}, m = {m}, g = {groups}, {size}x{size}", rows,
              [("Unit", "unit", "str"), ("Formula", "formula", "str"), ("Mult-adds", "macs", "int")])
    emit([t], rows, rows, fmt, output)


@analyze.command(context_settings=CONTEXT)
@click.argument("spec", type=SPEC, required=False)
@click.option("--rank", type=count(), default=None, help="Bottleneck width K.")
@click.option("--in", "n", type=count(), help="Single layer: inputs N.")
@click.option("--out", "m", type=count(), help="Single layer: outputs M.")
@spec_config_options
@output_options
def lowrank(spec, rank, n, m, alpha, rho, resolution, variant, settings, fmt, output):
    """Fully-connected layers through a K-wide linear bottleneck: K(N + M) instead of NM.

    Shows the K at which each layer breaks even, and the saving at --rank.

    \b
    Example:
      costcalc analyze lowrank alexnet --rank 256
      costcalc analyze lowrank --in 9216 --out 4096 --rank 512
    """
    from .analysis import convs

    if spec is None:
        _need({"--in": n, "--out": m}, "a single layer")
        recs = [{"name": "layer", **convs.lowrank_single(n, m, rank)}]
    else:
        recs = convs.fc_layers(_result(spec, alpha, rho, resolution, variant, settings), rank)
        if not recs:
            raise UsageProblem(f"{spec}: no fully-connected layers")
    cols = [("Layer", "name", "str"), ("N (in)", "in", "int"), ("M (out)", "out", "int"), ("NM", "weights", "int"),
            ("Break-even K", "break_even_rank", "int")]
    if rank:
        cols += [("K(N + M)", "lowrank_weights", "int"), ("Saving", "saving", "x")]
    emit([table(f"Low-rank fully-connected layers{f' at K = {rank}' if rank else ''}", recs, cols)], recs, recs, fmt, output)


@analyze.command(context_settings=CONTEXT)
@click.argument("spec", type=SPEC, required=False)
@click.option("--kernel", type=count(), default=None, help="Without SPEC: the kernel size K.")
@spec_config_options
@output_options
def factorise(spec, kernel, alpha, rho, resolution, variant, settings, fmt, output):
    """K x K kernels as K x 1 followed by 1 x K (SqueezeNext): 2K instead of K^2 per channel pair.

    \b
    Example:
      costcalc analyze factorise vgg16
      costcalc analyze factorise --kernel 3
    """
    from .analysis import convs

    if spec is None:
        _need({"--kernel": kernel}, "without a spec, --kernel")
        if kernel < 1:
            raise UsageProblem(f"--kernel: expected a positive integer, got {kernel}")
        rec = {"kernel": kernel, "full": kernel * kernel, "factorised": 2 * kernel, "ratio": 2 / kernel}
        t = table(f"{kernel}x{kernel} vs {kernel}x1 + 1x{kernel}, per channel pair", [rec],
                  [("K", "kernel", "int"), ("K^2", "full", "int"), ("2K", "factorised", "int"), ("Ratio", "ratio", "ratio")])
        emit([t], rec, [rec], fmt, output)
        return
    recs = convs.factorised(_result(spec, alpha, rho, resolution, variant, settings))
    t = table("Dense K x K convolutions as K x 1 (in -> out) + 1 x K (out -> out)", recs,
              [("Layer", "name", "str"), ("In", "in", "int"), ("Out", "out", "int"), ("K", "kernel", "int"),
               ("MACs", "macs", "int"), ("Factorised", "factorised_macs", "int"), ("Ratio", "ratio", "ratio")])
    emit([t], recs, recs, fmt, output)


# -- ShuffleNet v2 guidelines -------------------------------------------------------------------


@analyze.command(context_settings=CONTEXT)
@click.argument("spec", type=SPEC, required=False)
@click.option("--paper-tables", is_flag=True, help="The settings of ShuffleNet v2 Tables 1 and 2 instead of a spec.")
@click.option("--top", type=click.IntRange(1, 100), default=3, show_default=True, help="Flag this many per guideline.")
@click.option("--summary", is_flag=True, help="Only the table of flagged layers and blocks.")
@click.option("--measure", is_flag=True, help="Time the paper's Table 1-4 probe networks in ONNX Runtime here, beside "
                                              "the paper's speeds (the bench extra).")
@click.option("--runs", type=click.IntRange(1, 1000), default=10, show_default=True, help="With --measure: timed runs per network.")
@click.option("--threads", type=click.IntRange(1, 1024), default=None, help="With --measure: ONNX Runtime's threads.")
@device_option
@spec_config_options
@output_options
def guidelines(spec, paper_tables, top, summary, measure, runs, threads, alpha, rho, resolution, variant, settings, fmt,
               output):
    """ShuffleNet v2's guidelines G1-G4 on a spec, or the settings of its Tables 1 and 2.

    G1: memory access of 1x1 convs against the bound 2 sqrt(hwB) + B/hw; G2: group convs; G3:
    fragmentation per block; G4: the share of memory access in element-wise operations.

    \b
    Example:
      costcalc analyze guidelines shufflenet_v2 --summary
      costcalc analyze guidelines --paper-tables
    """
    from .analysis import guidelines as g

    if measure:
        return _measure_guidelines(runs, threads, fmt, output)
    if paper_tables or spec is None:
        data = g.paper_tables()
        t1 = table("G1 (ShuffleNet v2 Table 1 settings, 56x56): equal FLOPs, memory access grows with c1:c2", data["g1"],
                   [("Device", "device", "str"), ("c1:c2", "ratio", "str"), ("c1", "c1", "int"), ("c2", "c2", "int"),
                    ("FLOPs (B)", "flops", "int"), ("Memory access", "mem_access", "int"), ("Lower bound", "lower_bound", "float")])
        t2 = table("G2 (Table 2 settings, 56x56, 1x1 convs c -> c): equal FLOPs, memory access grows with g", data["g2"],
                   [("Device", "device", "str"), ("g", "groups", "int"), ("c", "c", "int"), ("FLOPs (B)", "flops", "int"),
                    ("Memory access", "mem_access", "int")],
                   notes=["FLOPs here are multiply-adds (B = hw c1 c2 / g), as the paper counts them"])
        emit([t1, t2], data, data["g1"] + data["g2"], fmt, output)
        return
    res = _result(spec, alpha, rho, resolution, variant, settings)
    found = g.analyse(res)
    flags = g.summary(found, top)
    t0 = table(f"{res.spec.title} [{res.spec.label}]: where the guidelines are violated most", flags,
               [("Guideline", "guideline", "str"), ("Where", "where", "str"), ("Measure", "measure", "str")],
               notes=[f"element-wise operations: {100 * found['g4_share']:.1f}% of all memory access (G4)"])
    t1 = table("G1: 1x1 convolutions", found["g1"],
               [("Layer", "name", "str"), ("c1", "c1", "int"), ("c2", "c2", "int"), ("Size", "size", "shape"),
                ("Memory access", "mem_access", "int"), ("Lower bound", "lower_bound", "float"), ("Excess", "excess", "x")])
    t3 = table("G3 / G4: per block", found["blocks"],
               [("Block", "block", "str"), ("Layers", "layers", "int"), ("Compute", "compute", "int"),
                ("Element-wise", "elementwise", "int"), ("Branches", "branches", "int"),
                ("Element-wise mem.", "elementwise_share", "ratio")])
    tables = [t0, t1]
    if found["g2"]:
        tables.append(table("G2: group convolutions", found["g2"],
                            [("Layer", "name", "str"), ("g", "groups", "int"), ("c1", "c1", "int"), ("c2", "c2", "int"),
                             ("Memory access", "mem_access", "int"), ("Dense bound", "lower_bound", "float"),
                             ("Excess", "excess", "x")]))
    emit([t0] if summary else tables + [t3], found, flags, fmt, output)


def _measure_guidelines(runs, threads, fmt, output):
    from .analysis import speed
    from .cli import _progress
    from .measure import runtime_version
    from .options import conventions

    profile = conventions().device
    total = sum(len(speed.settings(gl)) for gl in ("G1", "G2", "G3", "G4"))
    bar, tick = _progress(total, "guideline probes")
    try:
        recs = speed.measure(runs, threads=threads, profile=profile, progress=tick)
    finally:
        if bar is not None:
            bar.stop()
    cols = [("Setting", "setting", "str"), ("Scale", "scale", "str"), ("MACs", "macs", "int"),
            ("Mem access", "mem_access", "int"), ("Paper img/s", "paper_images_per_s", "float"),
            ("Measured img/s", "measured_images_per_s", "float")]
    if profile is not None:
        cols.append((f"Predicted img/s ({profile.name})", "predicted_images_per_s", "float"))
    titles = {"G1": "G1, equal channel widths (Table 1: 10 blocks of two 1x1 convs, c1 -> c2 -> c1; paper: ARM)",
              "G2": "G2, group convolutions (Table 2: 10 pointwise group convs, equal FLOPs; paper: CPU)",
              "G3": "G3, fragmentation (Table 3: 10 blocks, equal FLOPs; paper: CPU)",
              "G4": "G4, element-wise operations (Table 4: 10 ResNet bottlenecks; paper: CPU)"}
    verdicts = speed.verdicts(recs)
    tables = [table(titles[gl], [r for r in recs if r["guideline"] == gl], cols,
                    header=[f"measured here: ONNX Runtime {runtime_version()} on the CPU, batch 1, 56x56 input, median of {runs} runs"]
                    if gl == "G1" else [], notes=[v for v in verdicts if v.startswith(gl)])
              for gl in ("G1", "G2", "G3", "G4")]
    emit(tables, {"settings": recs, "verdicts": verdicts}, recs, fmt, output)


# -- Deep Compression -------------------------------------------------------------------------


@analyze.command(context_settings=CONTEXT)
@click.argument("spec", type=SPEC, required=False)
@click.option("--keep", type=FRACTION, default=None, help="Fraction of weights kept after pruning (all layers).")
@click.option("--conv-bits", type=BITS, default=None, help="Weight bits after sharing, conv layers (default 8).")
@click.option("--fc-bits", type=BITS, default=None, help="Weight bits after sharing, fc layers (default 5).")
@click.option("--index-bits", type=BITS, default=None, help="Relative-index bits (default: the spec's, else 5).")
@click.option("--huffman", type=click.Choice(["off", "measured", "entropy"]), default="off", show_default=True,
              help="Huffman coding: off, the paper's measured bits (from the spec), or the index entropy.")
@click.option("--fillers", type=click.Choice(["random", "none"]), default="random", show_default=True,
              help="Filler zeros for long gaps: expected under random placement, or none (a lower bound).")
@click.option("--weights", type=count(), default=None, help="Without SPEC: one layer with this many weights.")
@spec_config_options
@output_options
def compression(spec, keep, conv_bits, fc_bits, index_bits, huffman, fillers, weights, alpha, rho, resolution,
                variant, settings, fmt, output):
    """Deep Compression storage: pruning + sparse relative indices, weight sharing, Huffman coding.

    Per layer: weights kept, bits, stored entries with filler zeros, size; totals and the ratio to
    fp32. Per-layer keep fractions and bits come from the spec's `analyses.compression` (AlexNet,
    VGG-16, SqueezeNet, LeNet carry the papers' tables) unless overridden. Index bits follow the
    paper's tables (4 for AlexNet, 5 elsewhere), not its Sec. 2 text (8 conv / 5 fc).

    \b
    Example:
      costcalc analyze compression alexnet --huffman measured
      costcalc analyze compression --weights 1000000 --keep 0.1 --fc-bits 5
    """
    from .analysis import compression as c

    if spec is None:
        _need({"--weights": weights, "--keep": keep}, "a single layer")
        if weights <= 0:
            raise UsageProblem(f"--weights: expected a positive integer, got {weights}")
        c._check(keep, conv_bits, fc_bits, index_bits, "off", fillers)
        bits = fc_bits or conv_bits or 5
        rec = c.layer_size(weights, 0, keep, bits, index_bits or 5, fillers=fillers)
        rec = {"weights": weights, "keep": keep, "bits": bits, **rec, "ratio": rec["original_bytes"] / rec["bytes"]}
        t = table(f"{weights:,} weights, {keep:g} kept, {bits}-bit sharing, {index_bits or 5}-bit indices", [rec],
                  [("Kept", "kept", "human"), ("Entries", "entries", "human"), ("Bytes", "bytes", "human"),
                   ("fp32 bytes", "original_bytes", "human"), ("Ratio", "ratio", "x")])
        emit([t], rec, [rec], fmt, output)
        return
    res = _result(spec, alpha, rho, resolution, variant, settings)
    data = c.analyse(res, keep, conv_bits, fc_bits, index_bits, huffman, fillers)
    for row in data["layers"]:
        row["pct"] = 100 * row["bytes"] / row["original_bytes"]
    t = table(f"{res.spec.title} [{res.spec.label}]: Deep Compression storage (Huffman: {huffman}, fillers: {fillers})",
              data["layers"],
              [("Layer", "name", "str"), ("Weights", "weights", "int"), ("Kept", "keep", "ratio"), ("Shared bits", "bits", "int"),
               ("Weight bits", "weight_bits", "float"), ("Index bits", "index_bits", "float"), ("Entries", "entries", "human"),
               ("Size", "bytes", "human"),
               ("of fp32", "pct", "pct")],
              header=[f"source: {data['source']}"] if data["source"] else [],
              notes=[f"{data['original_mb']:.2f} MB -> {data['compressed_mb']:.3f} MB: {data['pct']:.2f}%, "
                     f"{data['ratio']:.1f}x (MB = 10^6 bytes; biases and BatchNorm kept as 32-bit floats)"])
    emit([t], data, data["layers"], fmt, output)


@analyze.command(name="weight-sharing", context_settings=CONTEXT)
@click.option("--n", type=count(), required=True, help="Connections (weights) sharing the codebook.")
@click.option("--bits", type=BITS, default=32, show_default=True, help="Bits per original weight b.")
@click.option("--clusters", type=count(), required=True, help="Shared weights (clusters) k.")
@output_options
def weight_sharing(n, bits, clusters, fmt, output):
    """The compression rate of weight sharing, r = nb / (n log2 k + kb) (Deep Compression Eq. 1).

    \b
    Example:
      costcalc analyze weight-sharing --n 16 --clusters 4     # the paper's 4x4 example: 3.2
    """
    from .analysis import compression as c

    rec = {"n": n, "bits": bits, "clusters": clusters, "ratio": c.sharing_ratio(n, bits, clusters)}
    emit([table("Weight sharing (Eq. 1)", [rec], [("n", "n", "int"), ("b", "bits", "int"), ("k", "clusters", "int"),
                                                 ("r", "ratio", "ratio")])], rec, [rec], fmt, output)


# -- side by side ---------------------------------------------------------------------------------


@analyze.command(context_settings=CONTEXT)
@click.argument("specs", type=SPEC, nargs=-1, required=True)
@output_options
def savings(specs, fmt, output):
    """The saving each network's efficient structures buy, side by side.

    For every spec: its depthwise-separable pairs, Fire modules and grouped convolutions against the
    standard convolutions they replace, in MACs and weights for the whole network.

    \b
    Example:
      costcalc analyze savings mobilenet squeezenet shufflenet
    """
    from .analysis import convs, dws, fire
    from .analysis.common import as_standard
    from .engine import evaluate
    from .spec import load_spec

    recs = []
    for ref in specs:
        res = evaluate(load_spec(ref, limits=limits()))
        found = [("depthwise separable", dws.pairs(res), "dws_macs", "standard_macs", "dws_weights", "standard_weights"),
                 ("Fire modules", fire.modules(res), "macs", "plain_macs", "params", "plain_params"),
                 ("grouped convs", convs.grouped_layers(res), "macs", "ungrouped_macs", "weights", "ungrouped_weights")]
        for kind, items, *keys in found:
            if items:
                net = as_standard(res, items, *keys)
                recs.append({"spec": res.spec.label, "structure": kind, **net,
                             "macs_saving": net["standard_macs"] / net["macs"],
                             "weights_saving": net["standard_weights"] / net["weights"]})
    if not recs:
        raise UsageProblem("none of these specs has depthwise-separable pairs, Fire modules or grouped convolutions")
    t = table("Savings of efficient structures (whole network, vs standard convolutions)", recs,
              [("Spec", "spec", "str"), ("Structure", "structure", "str"), ("Count", "count", "int"),
               ("MACs", "macs", "human"), ("As standard", "standard_macs", "human"), ("Saving", "macs_saving", "x"),
               ("Weights", "weights", "human"), ("As standard", "standard_weights", "human"),
               ("Saving", "weights_saving", "x")])
    emit([t], recs, recs, fmt, output)
