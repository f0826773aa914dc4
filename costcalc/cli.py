"""The costcalc command line: load, evaluate, render.  Nothing is computed here."""

from __future__ import annotations

import os
import sys

import click

from .errors import CostcalcError
from .output import _Terminated, printable, write_output
from .options import (
    SPEC, Setting, budget_options, config_options, conventions, conventions_options, count_like_option, device_option, limits, limits_options, output_options, settings_of, spec_options,
)

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
EXIT_FAILED_VERIFY = 1
#: configurations in one sweep (CSV and JSON are streamed), and in one table or Markdown sweep
MAX_SWEEP = 10_000_000
MAX_SWEEP_TABLE = 100_000
MAX_SWEEP_DEVICE = 10_000  # with --device (per-layer latency over the grid)


class UsageProblem(CostcalcError):
    pass


def emit(fmt: str, output: str | None, tables, data, records, fields=None, comments=None, counts: bool = True) -> None:
    """Write one result in the chosen format. `tables`, `data` and `records` are zero-argument
    callables (only the one the format needs is built): report.Tables for table and markdown, any
    JSON-able object for json, a list of flat dicts for csv (columns `fields`, default: the first
    record's keys). -o never overwrites a spec the command reads (command_inputs). Text formats are escaped (costcalc.output.printable): a name never reaches the
    terminal as a control sequence; JSON escapes control characters itself."""
    from . import report as rp

    files = command_inputs()
    lines = convention_lines() if counts else []  # `counts`: the output has counts, so it states how they count
    if fmt == "json":
        doc = data()
        if isinstance(doc, dict) and lines:
            doc.setdefault("conventions", lines)
        write_output([rp.to_json(doc)], output, files)
    elif fmt == "csv":  # the conventions (and a report's configuration) as leading '#' comments
        recs = records()
        head = "".join(f"# {line}\n" for line in (comments() if comments else []) + lines)
        write_output([printable(head + rp.to_csv(recs, fields or (list(recs[0]) if recs else ["empty"])))], output, files)
    else:
        ts = tables()
        if lines and ts and not any(line.startswith("1 MAC") for line in ts[0].header):
            ts[0].header.insert(0, lines[0])  # every output states how MACs and FLOPs are counted
        if fmt == "markdown":
            write_output([printable("\n".join(rp.to_markdown(t) for t in ts))], output, files)
        else:
            render_tables(ts, output, files)


def convention_lines() -> list[str]:
    """How the running command counts (its --flops-per-mac, --bytes, --batch, or the defaults)."""
    from .report import Conventions

    ctx = click.get_current_context(silent=True)
    given = ctx.meta.get("costcalc.conventions", {}) if ctx is not None else {}
    return Conventions(**given).lines()


def command_inputs() -> list[str]:
    """The files behind the running command's SPEC arguments (paths, bundled names, SPEC:VARIANT);
    `verify` with no SPEC reads every bundled spec."""
    from .spec import bundled_names, resolve, split_ref

    ctx = click.get_current_context(silent=True)
    params = ctx.params if ctx is not None else {}
    refs = [params["spec"]] if params.get("spec") else list(params.get("specs") or ())
    if not refs and ctx is not None and ctx.command.name == "verify":
        refs = bundled_names()
    out = []
    for ref in refs:
        try:
            out.append(resolve(split_ref(ref)[0])[0])
        except CostcalcError:
            pass
    return out


def terminal_width(default: int = 120) -> int:
    """COLUMNS when it is a sensible whole number (40 to 1000), else `default`."""
    text = os.environ.get("COLUMNS", "").strip()
    return min(max(int(text), 40), 1000) if text.isdigit() and len(text) < 6 else default


def render_tables(tables: list, output: str | None, inputs=()) -> None:
    from .report import to_text

    if (output is None or output == "-") and sys.stdout.isatty():
        from rich.console import Console, Group

        from .report import to_rich

        Console(soft_wrap=False).print(Group(*[part for t in tables for part in (to_rich(t), "")]))
        return
    width = terminal_width() if output in (None, "-") else 120
    write_output([printable("\n".join(to_text(t, width) for t in tables))], output, inputs)




def _load(ref, variant, settings, strict: bool = True):
    """The spec; with --count-like, as torchvision builds it where the spec has that implementation
    and impl is not set (the tools measure the PyTorch network)."""
    from .spec import load_spec

    prefer = "torchvision" if conventions().count_like is not None else None
    spec = load_spec(ref, variant=variant, settings=settings_of(settings), limits=limits(), strict_settings=strict,
                     prefer_impl=prefer)
    _settled()
    return spec


def _settled() -> None:
    """What a command has built so far lives until it exits: the cyclic garbage collector need not
    scan it again (for a spec of 100,000 layers, each full collection walks millions of objects)."""
    import gc

    gc.freeze()


def one_config(alpha, rho, resolution):
    """The parsed --alpha, --rho and --resolution of a one-configuration command."""
    if rho is not None and resolution is not None:
        raise UsageProblem("give --rho or --resolution, not both")
    a = alpha if alpha is not None else [1.0]
    if len(a) > 1 or (rho and len(rho) > 1) or (resolution and len(resolution) > 1):
        raise UsageProblem("one configuration here; use `costcalc sweep` for several")
    return a, rho, resolution


# -- commands -----------------------------------------------------------------


class _Commands(click.Group):
    """Loads the `analyze` commands only when they are asked for (start-up time)."""

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | {"analyze"})

    def get_command(self, ctx, name):
        if name == "analyze" and name not in self.commands:
            from .cli_analyze import analyze

            self.add_command(analyze)
        return super().get_command(ctx, name)


@click.group(cls=_Commands, context_settings=CONTEXT)
@click.version_option(package_name="costcalc", message="costcalc %(version)s")
def cli():
    """Analytical cost model for CNNs: params, MACs, FLOPs, activations and memory access cost,
    layer by layer, from a YAML layer spec or an ONNX model; latency predicted and measured. No
    deep-learning framework needed.

    \b
    Example:
      costcalc report mobilenet --alpha 0.75 --rho 0.857
    """


@cli.command(context_settings=CONTEXT)
@click.argument("spec", type=SPEC)
@config_options()
@click.option("--depth", type=click.IntRange(1, 64), default=None,
              help="Roll rows up to this many name levels (1 = top-level blocks).")
@click.option("--group-by", "group", type=click.Choice(["type", "stage"]), default=None,
              help="One row per layer kind with its kernel (conv 1x1, dwconv 3x3, ...) or per top-level block.")
@spec_options
@limits_options
@conventions_options
@device_option
@count_like_option
@output_options
def report(spec, alpha, rho, resolution, depth, group, variant, settings, fmt, output):
    """Per-layer table of one architecture in one configuration.

    \b
    Example:
      costcalc report mobilenet --alpha 0.75 --rho 0.857     # 0.75 MobileNet-192
      costcalc report squeezenet:1.1 --depth 1 --format json
      costcalc report mobilenet --group-by type       # depthwise vs pointwise
    """
    from . import report as rp
    from .engine import evaluate

    a, r, px = one_config(alpha, rho, resolution)
    s = _load(spec, variant, settings)
    conv = conventions()
    res = _evaluate(evaluate, s, a, px, r, batch=conv.batch)
    if depth is not None and group is not None:
        raise UsageProblem("give --depth or --group-by, not both")
    emit(fmt, output, lambda: [rp.report_table(res, conv, depth, group)], lambda: rp.report_json(res, conv, depth, group),
         lambda: rp.report_csv_records(res, conv, depth, group),
         ["name", "type", "output", "layers", "params", "bn_params", "macs", "flops", "ops", "mem_access", "activations"]
         + (["latency_ms"] if conv.device is not None else []) + ([conv.count_like] if conv.count_like is not None else []),
         comments=lambda: rp.report_table(res, conv, depth, group).header[:1])


def _evaluate(evaluate, spec, alpha, resolution, rho, **kw):
    try:
        result = evaluate(spec, alpha=alpha, resolution=resolution, rho=rho, **kw)
    except ValueError as exc:
        raise UsageProblem(str(exc)) from None
    _settled()
    return result


@cli.command(context_settings=CONTEXT)
@click.argument("spec", type=SPEC)
@config_options()
@click.option("--layers", "by_layer", is_flag=True, help="Also the layers the difference comes from, one row each.")
@click.option("--depth", type=click.IntRange(1, 64), default=None, help="With --layers: roll them up to this many name levels.")
@spec_options
@limits_options
@count_like_option
@output_options
def explain(spec, alpha, rho, resolution, by_layer, depth, variant, settings, fmt, output):
    """Why fvcore, ptflops, thop or torchinfo print another number than the MACs: what the tool would
    print for the network, its difference to the MACs split by cause (biases, BatchNorm, activations,
    pooling), and the layers it comes from.

    \b
    Example:
      costcalc explain mobilenet_v2 --count-like ptflops
      costcalc explain resnet18 --count-like thop --layers --depth 1
    """
    from . import report as rp
    from .engine import evaluate

    conv = conventions()
    if conv.count_like is None:
        raise UsageProblem("explain needs --count-like TOOL (fvcore, ptflops, thop or torchinfo)")
    a, r, px = one_config(alpha, rho, resolution)
    s = _load(spec, variant, settings)
    res = _evaluate(evaluate, s, a, px, r)
    if depth is not None and not by_layer:
        raise UsageProblem("--depth rolls up the layers of --layers: give both")
    emit(fmt, output, lambda: rp.explain_tables(res, conv, conv.count_like, depth)[:2 if by_layer else 1],
         lambda: rp.explain_json(res, conv, conv.count_like, depth),
         lambda: [{k: v for k, v in row.items()} for row in rp.explain_json(res, conv, conv.count_like, depth)["layers"]])


@cli.command(context_settings=CONTEXT)
@click.argument("specs", type=SPEC, nargs=-1, required=True)
@config_options()
@click.option("--set", "settings", metavar="KEY=VALUE", type=Setting(), multiple=True,
              help="Set a parameter in every spec that has it (impl=torchvision: the implementation, where a spec lists it).")
@limits_options
@conventions_options
@device_option
@count_like_option
@output_options
def compare(specs, alpha, rho, resolution, settings, fmt, output):
    """Architectures side by side, with each figure's ratio to the first.

    \b
    Example:
      costcalc compare squeezenet alexnet
      costcalc compare mobilenet mobilenet:conv --format json
    """
    from . import report as rp
    from .engine import evaluate
    from .spec import load_spec

    a, r, px = one_config(alpha, rho, resolution)
    given = settings_of(settings)
    results = []
    for ref in specs:
        s = _load(ref, None, settings, strict=False)
        results.append(_evaluate(evaluate, s, a, px, r, batch=conventions().batch))
    unused = [k for k in given if not any(k in res.spec.settings for res in results)]
    if unused:
        raise UsageProblem(f"--set {unused[0]}: no compared spec has this parameter")
    conv = conventions()
    emit(fmt, output, lambda: [rp.compare_table(results, conv)], lambda: rp.compare_json(results, conv),
         lambda: [{"spec": o["label"], "alpha": o["config"]["alpha"], "resolution": o["config"]["resolution"][0],
                   **o["totals"], "top1": o["top1"]} for o in rp.compare_json(results, conv)])


@cli.command(context_settings=CONTEXT)
@click.argument("spec", type=SPEC)
@config_options(many=True, alpha_default="1")
@spec_options
@limits_options
@conventions_options
@device_option
@count_like_option
@output_options
def sweep(spec, alpha, resolution, rho, variant, settings, fmt, output):
    """Every alpha x every resolution in one vectorised evaluation.

    \b
    Example:
      costcalc sweep mobilenet --alpha 1,0.75,0.5,0.25 --resolution 224,192,160,128
    """
    from . import report as rp
    from .engine import evaluate

    if rho is not None and resolution is not None:
        raise UsageProblem("give --rho or --resolution, not both")
    a, px, r = alpha, resolution, rho
    n = len(a) * len(px or r or [1])
    if n > MAX_SWEEP:
        raise UsageProblem(f"{n:,} configurations: more than the limit of {MAX_SWEEP:,} for one sweep")
    if n > MAX_SWEEP_TABLE and fmt in ("table", "markdown"):
        raise UsageProblem(f"{n:,} configurations: more than {MAX_SWEEP_TABLE:,} in a {fmt}; use --format csv or json")
    s = _load(spec, variant, settings)
    conv = conventions()
    if conv.device is not None or conv.count_like is not None:  # per layer: the whole grid evaluated per layer, so a bounded one
        if n > MAX_SWEEP_DEVICE:
            raise UsageProblem(f"{n:,} configurations: more than {MAX_SWEEP_DEVICE:,} with --device or --count-like")
        res = _evaluate(evaluate, s, a, px, r, batch=conv.batch)
        if fmt in ("csv", "json"):
            chunks = rp.sweep_csv([res], conv) if fmt == "csv" else rp.sweep_json([res], conv, s)
            write_output(chunks, output, command_inputs())
            return
        emit(fmt, output, lambda: [rp.sweep_table(res, conv)], None, None)
        return
    if fmt in ("csv", "json"):  # streamed: a block of configurations at a time, bounded memory
        from .engine import evaluate_blocks

        try:
            blocks = evaluate_blocks(s, a, px, r, batch=conv.batch)
            chunks = rp.sweep_csv(blocks, conv) if fmt == "csv" else rp.sweep_json(blocks, conv, s)
            write_output(chunks, output, command_inputs())  # numbers only, and JSON escapes the name
        except ValueError as exc:
            raise UsageProblem(str(exc)) from None
        return
    res = _evaluate(evaluate, s, a, px, r, per_layer=False, batch=conv.batch)
    emit(fmt, output, lambda: [rp.sweep_table(res, conv)], None, None)


@cli.command(context_settings=CONTEXT)
@click.argument("specs", type=SPEC, nargs=-1)
@click.option("--unchecked", "list_unchecked", is_flag=True,
              help="List the published cost figures that are not checked, with the reason, instead.")
@output_options
@click.pass_context
def verify(ctx, specs, list_unchecked, fmt, output):
    """Check bundled specs (or the named ones) against their papers' published numbers.

    Exit status 1 if any figure is outside its tolerance. Inconsistencies of a
    paper, proved in their notes, are listed as deviations and do not fail;
    figures marked unexplained (no proof yet) are listed apart, nor do they.

    \b
    Example:
      costcalc verify
      costcalc verify mobilenet squeezenet --format markdown
      costcalc verify --unchecked          # the published figures not checked, and why
    """
    from . import report as rp
    from .spec import bundled_names
    from .verify import unchecked, verify_all

    refs = specs or bundled_names()
    if list_unchecked:
        missing = [u for ref in refs for u in unchecked(ref)]
        emit(fmt, output, lambda: [rp.unchecked_table(missing)], lambda: missing, lambda: missing,
             ["spec", "figure", "figures", "source", "reason"], counts=False)
        return
    checks, missing = verify_all(refs)
    emit(fmt, output, lambda: [rp.verify_table(checks, missing)], lambda: rp.verify_records(checks),
         lambda: rp.verify_records(checks),
         ["spec", "quantity", "layer", "config_text", "published", "computed", "delta", "tolerance", "printed", "status",
          "source"])
    if any(not c.ok for c in checks):
        ctx.exit(EXIT_FAILED_VERIFY)


@cli.command(context_settings=CONTEXT)
@click.argument("spec", type=SPEC)
@config_options()
@budget_options
@spec_options
@limits_options
@conventions_options
@output_options
@click.pass_context
def check(ctx, spec, alpha, rho, resolution, variant, settings, fmt, output, **bounds):
    """Fail (exit status 1) when a network is over its budget: the step a CI job runs.

    The bounds are the spec's `budget:` section, each at its own configuration, and the --max-*
    options, at the configuration given here. Exit status 0 when every figure is within its bound.

    \b
    Example:
      costcalc check mobilenet --max-macs 600M --max-params 5M
      costcalc check my_net.yaml --format json     # the spec's own budget: section
    """
    from . import report as rp
    from .budget import check as run
    from .format import check_spec
    from .spec import build_spec, read_document, split_ref

    a, r, px = one_config(alpha, rho, resolution)
    ref, inline = split_ref(spec)
    doc, shown = read_document(ref, limits())
    doc = check_spec(doc, shown)
    s = build_spec(doc, shown, variant or inline, settings_of(settings), limits())
    given = {name[4:]: value for name, value in bounds.items() if value is not None}
    if not given and not s.budget:
        raise UsageProblem(f"{shown}: no budget: give bounds such as --max-macs 300M, or add a budget: section to the spec")
    config = {"alpha": a[0], **({"resolution": px[0]} if px else {}), **({"rho": r[0]} if r else {}),
              **({"variant": s.variant} if s.variant else {}), **({"set": settings_of(settings)} if settings else {})}
    conv = conventions()
    try:
        checks = run(doc, shown, s, given, config, conv)
    except ValueError as exc:
        raise UsageProblem(str(exc)) from None
    emit(fmt, output, lambda: [rp.budget_table(checks, conv)],
         lambda: {"spec": s.label, "flops_per_mac": conv.flops_per_mac, "checks": rp.budget_records(checks),
                  "over": sum(1 for c in checks if c.over)},
         lambda: [{**c, "config": c["config_text"]} for c in rp.budget_records(checks)],
         ["spec", "quantity", "config", "budget", "computed", "use_pct", "status", "source", "note"])
    if any(c.over for c in checks):
        ctx.exit(EXIT_FAILED_VERIFY)


@cli.command(context_settings=CONTEXT)
@click.argument("specs", type=SPEC, nargs=-1, required=True)
@click.option("--kind", type=click.Choice(["layers", "pareto"]), default=None,
              help="layers: per-layer MACs, params and memory access by layer kind (one spec); pareto: published "
                   "top-1 against MACs with the Pareto front (default for several specs).")
@config_options()
@spec_options
@limits_options
@click.option("--output", "-o", metavar="FILE", required=True, help="The picture: a .png, .svg or .pdf file.")
def plot(specs, kind, alpha, rho, resolution, variant, settings, output):
    """Pictures: where the MACs and memory traffic go, or how networks trade MACs for accuracy.

    Needs matplotlib (pip install 'costcalc[plot]').

    \b
    Example:
      costcalc plot mobilenet -o mobilenet_layers.png
      costcalc plot mobilenet shufflenet_v2 squeezenet googlenet resnet50 --kind pareto -o pareto.svg
    """
    from . import plot as pl
    from .engine import evaluate
    from .spec import load_spec

    kind = kind or ("layers" if len(specs) == 1 else "pareto")
    if kind == "layers":
        if len(specs) != 1:
            raise UsageProblem("--kind layers draws one spec")
        a, r, px = one_config(alpha, rho, resolution)
        s = _load(specs[0], variant, settings)
        res = _evaluate(evaluate, s, a, px, r)
        h = int(res.resolution.reshape(-1)[0])
        pl.layers(res, output, f"{s.title} [{s.label}], alpha {a[0]:g}, {h} px: where the costs go, layer by layer",
                  command_inputs())
    else:
        points = []
        for ref in specs:
            points += pl.accuracy_points(load_spec(ref, variant=variant, settings=settings_of(settings),
                                                   strict_settings=False, limits=limits()), evaluate)
        pl.pareto(points, output, "Published top-1 against MACs (every configuration with a published accuracy)",
                  command_inputs())


@cli.command(context_settings=CONTEXT)
@click.option("--output", "-o", metavar="FILE", default=None, help="Write to FILE (atomically) instead of standard output.")
def schema(output):
    """The JSON Schema of the spec format, for editors (completion and checks while you write a spec).

    \b
    Example:
      costcalc schema -o costcalc.schema.json
      # then, first line of a spec (YAML language server, e.g. VS Code's YAML extension):
      # yaml-language-server: $schema=costcalc.schema.json
    """
    import json

    from .schema import spec_schema

    write_output([json.dumps(spec_schema(), indent=2) + "\n"], output)


@cli.command(context_settings=CONTEXT)
@click.argument("spec", type=SPEC)
@config_options()
@spec_options
@limits_options
@click.option("--weights", type=click.Choice(["random", "zeros"]), default="random", show_default=True,
              help="Weight values: random (seeded, scaled by 1/sqrt(fan-in)) or zeros (compresses well).")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True, help="Seed of the random weights.")
@click.option("--output", "-o", metavar="FILE", required=True, help="The model: an .onnx file (written atomically).")
def export(spec, alpha, rho, resolution, variant, settings, weights, seed, output):
    """Any spec, at one width and resolution, as an ONNX model that ONNX Runtime can run.

    Needs the onnx package (pip install 'costcalc[onnx]'). The input is [N, C, H, W] with N
    symbolic; the model reads back with the same params, MACs and memory access.

    \b
    Example:
      costcalc export mobilenet --alpha 0.5 --resolution 160 -o mobilenet_0.5_160.onnx
    """
    from .onnx_export import check, export_model

    a, r, px = one_config(alpha, rho, resolution)
    s = _load(spec, variant, settings)
    try:
        model = export_model(s, a[0], px[0] if px else None, r[0] if r else None, weights=weights, seed=seed)
    except ValueError as exc:
        raise UsageProblem(str(exc)) from None
    check(model)
    write_output([model.SerializeToString()], output, command_inputs(), binary=True)


@cli.command(context_settings=CONTEXT)
@click.argument("model", type=SPEC)
@limits_options
@click.option("--output", "-o", metavar="FILE", default=None, help="Write to FILE (atomically) instead of standard output.")
def convert(model, output):
    """An ONNX model as a readable YAML spec that reports the same numbers.

    Layer names come from the exporter's module names (features/0/0, layer1/0/conv1, ...);
    `from` names an input where it is not the layer before. Widths are fixed
    (width: {rounding: fixed}); give it a width rule to sweep alpha.

    \b
    Example:
      costcalc convert resnet18.onnx -o resnet18.yaml
      costcalc report resnet18.yaml --depth 1
    """
    from .spec import is_onnx, read_document
    from .yamlio import dump_spec

    if not is_onnx(model):
        raise UsageProblem(f"{model}: convert reads an ONNX model (a .onnx file)")
    doc, _ = read_document(model, limits())
    write_output([dump_spec(doc, f"costcalc convert {os.path.basename(model)}")], output, command_inputs())


def _progress(total: int, what: str):
    """A progress bar on a terminal's standard error (nothing when it is not a terminal)."""
    if not sys.stderr.isatty():
        return None, None
    from rich.console import Console
    from rich.progress import Progress

    bar = Progress(console=Console(stderr=True), transient=True)
    task = bar.add_task(what, total=total)
    bar.start()
    return bar, (lambda k: bar.update(task, completed=k))


@cli.command(context_settings=CONTEXT)
@click.argument("spec", type=SPEC)
@config_options()
@spec_options
@limits_options
@conventions_options
@device_option
@click.option("--runs", type=click.IntRange(1, 10_000), default=20, show_default=True, help="Timed runs.")
@click.option("--warmup", type=click.IntRange(0, 1000), default=5, show_default=True, help="Untimed runs first.")
@click.option("--threads", type=click.IntRange(1, 1024), default=None, help="ONNX Runtime's threads (default: the CPUs this process may use).")
@output_options
def bench(spec, alpha, rho, resolution, variant, settings, runs, warmup, threads, fmt, output):
    """Measured latency: the spec exported to ONNX and run in ONNX Runtime on this machine's CPU.

    Needs the bench extra (pip install 'costcalc[bench]'). With --device, the prediction beside it.

    \b
    Example:
      costcalc bench mobilenet --alpha 0.5 --runs 50
      costcalc bench shufflenet_v2 --device local.yaml     # a profile from costcalc calibrate
    """
    from . import report as rp
    from .engine import evaluate
    from .measure import bench as run, runtime_version

    a, r, px = one_config(alpha, rho, resolution)
    s = _load(spec, variant, settings)
    conv = conventions()
    res = _evaluate(evaluate, s, a, px, r, batch=conv.batch)
    bar, tick = _progress(runs, f"{s.label}: {runs} runs")
    try:
        timing = run(s, a[0], px[0] if px else None, r[0] if r else None, conv.batch, runs, warmup, threads, tick)
    finally:
        if bar is not None:
            bar.stop()
    rec = rp.bench_record(res, timing, conv, runtime_version())
    emit(fmt, output, lambda: [rp.bench_table(rec, conv)], lambda: rec, lambda: [rec], list(rec), counts=False)


@cli.command(context_settings=CONTEXT)
@click.option("--threads", type=click.IntRange(1, 1024), default=None, help="ONNX Runtime's threads (default: the CPUs this process may use).")
@click.option("--runs", type=click.IntRange(1, 1000), default=15, show_default=True, help="Timed runs per probe.")
@click.option("--output", "-o", metavar="FILE", default=None, help="Write the profile to FILE (atomically) instead of standard output.")
def calibrate(threads, runs, output):
    """Fit a device profile for this machine from probe layers timed in ONNX Runtime.

    Each kind of layer (3x3, 1x1, grouped and depthwise convs, a linear layer, element-wise layers, a
    channel shuffle) is timed as a chain of 9 and a chain of 1; the difference is one layer's time.
    The profile is a YAML file that --device accepts. Needs the bench extra.

    \b
    Example:
      costcalc calibrate -o local.yaml
      costcalc report mobilenet --device local.yaml
    """
    from .measure import PROBES, ROUNDS, calibrate as fit
    from .yamlio import dump_spec

    bar, tick = _progress(len(PROBES) * ROUNDS * 2, "probes")
    try:
        doc = fit(threads, runs, progress=tick)
    finally:
        if bar is not None:
            bar.stop()
    import yaml

    text = "# costcalc calibrate: a device profile for --device\n" + yaml.safe_dump(doc, sort_keys=False, width=100)
    write_output([text], output)


@cli.command(context_settings=CONTEXT)
@output_options
def devices(fmt, output):
    """The bundled device profiles that --device names, with their figures and sources.

    \b
    Example:
      costcalc devices
    """
    from . import report as rp
    from .latency import device_names, load_profile

    entries = [rp.device_record(load_profile(n)) for n in device_names()]
    emit(fmt, output, lambda: [rp.devices_table(entries)], lambda: entries, lambda: entries, list(entries[0]), counts=False)


@cli.command(name="list", context_settings=CONTEXT)
@output_options
def list_(fmt, output):
    """The bundled specs, their variants, parameters and descriptions.

    \b
    Example:
      costcalc list
    """
    from . import report as rp
    from .format import as_set
    from .spec import bundled_names, describe

    entries = [describe(name) for name in bundled_names()]
    emit(fmt, output, lambda: [rp.list_table(entries)], lambda: entries,
         lambda: [{**e, "variants": ";".join(e["variants"]),
                   "parameters": ";".join(as_set(k, v) for k, v in e["parameters"].items())} for e in entries],
         ["name", "title", "variants", "default_variant", "parameters", "description"], counts=False)


def main(argv=None) -> int:
    """Run the CLI; bad input is one line on stderr and exit status 2, never a traceback.

    The cyclic garbage collector is off for the run: a command is a short process that builds
    its spec and results once and keeps them to the end, so collections would only rescan them
    (a 100,000-layer report spends a tenth of its time there); reference counting frees the rest."""
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        return _main(argv)
    finally:
        if enabled:
            gc.enable()


def _main(argv) -> int:
    try:
        rv = cli.main(args=argv, prog_name="costcalc", standalone_mode=False)
        return rv if isinstance(rv, int) else 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        sys.stderr.write("error: aborted\n")
        return 130
    except click.ClickException as exc:
        msg = " ".join(exc.format_message().split())
        sys.stderr.write(f"error: {printable(msg, False)} (see costcalc --help)\n")
        return 2
    except CostcalcError as exc:
        sys.stderr.write(f"error: {printable(' '.join(str(exc).split()), False)}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return 130
    except _Terminated:
        sys.stderr.write("error: terminated (nothing was written)\n")
        return 143
    except BrokenPipeError:
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
