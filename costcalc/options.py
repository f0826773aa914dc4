"""Option types and option bundles shared by every command.

A number, a comma list of numbers, a count, ``KEY=VALUE``: each is a click
``ParamType`` here, so help, errors and bounds are the same in every command.
Values are finite and bounded (the bounds of :mod:`costcalc.format`); a bad
value is click's one-line usage error, exit status 2.
"""

from __future__ import annotations

import math

import click

from .format import MAX_ALPHA, MAX_FLOPS_PER_MAC, MAX_PIXELS, MAX_RHO

FORMATS = ("table", "json", "csv", "markdown")
MAX_COUNT = 2**40  # channels, sizes, weights given on the command line
MAX_LIST = 100_000  # numbers in one comma list


class Number(click.ParamType):
    """A finite number in [lo, hi] (or (lo, hi] with lo_open); `integer` for whole numbers only."""

    name = "number"

    def __init__(self, lo: float, hi: float, lo_open: bool = False, integer: bool = False):
        self.lo, self.hi, self.lo_open, self.integer = lo, hi, lo_open, integer
        if integer:
            self.name = "integer"

    def describe(self) -> str:
        show = (lambda v: f"{int(v):,}") if self.integer else (lambda v: f"{v:g}")
        if self.lo_open:
            return f"a number above {show(self.lo)} and at most {show(self.hi)}"
        return f"{'a whole number' if self.integer else 'a number'} from {show(self.lo)} to {show(self.hi)}"

    def parse(self, text, param, ctx):
        if isinstance(text, bool):
            self.fail(f"expected {self.describe()}, got {text!r}", param, ctx)
        try:
            value = float(str(text).strip().replace("_", "")) if not isinstance(text, (int, float)) else float(text)
        except (ValueError, OverflowError):
            self.fail(f"expected {self.describe()}, got {str(text)[:40]!r}", param, ctx)
        ok = math.isfinite(value) and self.lo <= value <= self.hi and not (self.lo_open and value == self.lo)
        if not ok or (self.integer and not value.is_integer()):
            self.fail(f"expected {self.describe()}, got {str(text)[:40]!r}", param, ctx)
        return int(value) if self.integer else value

    def convert(self, value, param, ctx):
        return self.parse(value, param, ctx)


class Numbers(Number):
    """A comma-separated list of numbers (``1,0.75,0.5``), each as for Number."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.name = "list"

    def convert(self, value, param, ctx):
        if isinstance(value, list):
            return value
        pieces = str(value).split(",")
        if len(pieces) > MAX_LIST:
            self.fail(f"more than {MAX_LIST:,} values", param, ctx)
        return [self.parse(p, param, ctx) for p in pieces]


def count(lo: int = 1, hi: int = MAX_COUNT) -> Number:
    return Number(lo, hi, integer=True)


ALPHAS = Numbers(0, MAX_ALPHA, lo_open=True)
RHOS = Numbers(0, MAX_RHO, lo_open=True)
PIXELS = Numbers(1, MAX_PIXELS, integer=True)
FRACTION = Number(0, 1, lo_open=True)
BITS = Number(1, 32, integer=True)


class SpecRef(click.ParamType):
    """A spec: a bundled name (`mobilenet`, `squeezenet:1.1`) or a YAML file. Completes bundled
    names and, like any path, file names."""

    name = "SPEC"

    def convert(self, value, param, ctx):
        return value

    def shell_complete(self, ctx, param, incomplete):
        from click.shell_completion import CompletionItem

        from .spec import bundled_names

        names = [CompletionItem(n) for n in bundled_names() if n.startswith(incomplete)]
        return names + [CompletionItem(incomplete, type="file")]


SPEC = SpecRef()


class AmountType(click.ParamType):
    """A count: a number or with a unit (300M, 5M, 1.2G, 750K)."""

    name = "COUNT"

    def convert(self, value, param, ctx):
        from .format import parse_amount

        number = parse_amount(value)
        if number is None:
            self.fail(f"expected a count such as 300M, 5M, 1.2G or a plain number, got {str(value)[:40]!r}", param, ctx)
        return number


AMOUNT = AmountType()


def budget_options(fn):
    """--max-params, --max-macs, ...: one upper bound per budget quantity (costcalc.format)."""
    from .format import BUDGET_QUANTITIES

    what = {"params": "parameters, BatchNorm included (e.g. 5M)", "weights": "weights without BatchNorm (e.g. 5M)",
            "macs": "MACs (e.g. 300M)", "flops": "FLOPs (e.g. 600M)", "mem_access": "memory access, in elements (e.g. 40M)",
            "activations": "activation elements, all layers (e.g. 20M)",
            "peak_activation": "peak activation memory, in elements (e.g. 2M)", "size_mb": "fp32 size in MB (e.g. 20)"}
    for q in reversed(BUDGET_QUANTITIES):
        fn = click.option(f"--max-{q.replace('_', '-')}", f"max_{q}", type=AMOUNT, default=None, metavar="N",
                          help=f"Upper bound on {what[q]}.")(fn)
    return fn


class Setting(click.ParamType):
    """``KEY=VALUE``; the value is read as YAML (a number, a list, ...) by costcalc's own reader."""

    name = "KEY=VALUE"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        key, eq, text = str(value).partition("=")
        key = key.strip()
        if not eq or not key:
            self.fail(f"{str(value)[:60]!r}: expected KEY=VALUE", param, ctx)
        if not text.strip():
            return key, text
        from .errors import SpecError
        from .yamlio import parse_yaml

        try:
            return key, parse_yaml(text, f"--set {key}", max_nesting=16, max_items=MAX_LIST)
        except SpecError as exc:
            if exc.detail.startswith("invalid YAML") and text.lstrip()[:1] not in ("[", "{"):
                return key, text  # not YAML: the text itself
            self.fail(f"{key}: {exc.detail}", param, ctx)  # YAML past a limit: too deep, too long, a tag


def settings_of(pairs) -> dict:
    return dict(pairs or ())


# -- option bundles ------------------------------------------------------------------------------


def conventions_options(fn):
    """--flops-per-mac, --bytes, --batch: kept in the click context, read by conventions()."""

    def keep(ctx, param, value):
        ctx.meta.setdefault("costcalc.conventions", {})[param.name] = value

    fn = click.option("--batch", "batch", type=click.IntRange(1, 1 << 20), default=1, show_default=True, expose_value=False,
                      callback=keep, help="Images per inference: MACs, other ops and activations scale with it, weights "
                                          "are read once.")(fn)
    fn = click.option("--bytes", "bytes", type=click.IntRange(1, 64), default=4, show_default=True, expose_value=False,
                      callback=keep, help="Bytes per element for memory access in bytes (4 = fp32).")(fn)
    fn = click.option("--flops-per-mac", "flops_per_mac", type=Number(0, MAX_FLOPS_PER_MAC, lo_open=True), default=2,
                      show_default=True, expose_value=False, callback=keep,
                      help="FLOPs per MAC; 1 for papers that count mult-adds as FLOPs (the ShuffleNet papers).")(fn)
    return fn


class DeviceRef(click.ParamType):
    """A device profile: a bundled name (`gtx1080ti`, `snapdragon810`) or a profile file."""

    name = "DEVICE"

    def convert(self, value, param, ctx):
        from .latency import load_profile

        return load_profile(value) if isinstance(value, str) else value

    def shell_complete(self, ctx, param, incomplete):
        from click.shell_completion import CompletionItem

        from .latency import device_names

        return [CompletionItem(n) for n in device_names() if n.startswith(incomplete)] + [CompletionItem(incomplete, type="file")]


def device_option(fn):
    """--device: predicted latency on a device profile (kept with the conventions, read by conventions())."""

    def keep(ctx, param, value):
        if value is not None:
            ctx.meta.setdefault("costcalc.conventions", {})["device"] = value

    return click.option("--device", type=DeviceRef(), default=None, expose_value=False, callback=keep,
                        help="Add predicted latency on a device: a bundled profile (see `costcalc devices`) or a "
                             "profile file (`costcalc calibrate` writes one).")(fn)


def count_like_option(fn):
    """--count-like: what a peer tool would print (kept with the conventions, read by conventions())."""
    from .peers import TOOLS

    def keep(ctx, param, value):
        if value is not None:
            ctx.meta.setdefault("costcalc.conventions", {})["count_like"] = value

    return click.option("--count-like", "count_like", type=click.Choice(list(TOOLS)), default=None, expose_value=False,
                        callback=keep, help="Add what fvcore, ptflops, thop or torchinfo would print for the network (built "
                                            "as torchvision builds it where the spec has impl=torchvision); "
                                            "`costcalc explain` says where it differs from the MACs.")(fn)


def conventions():
    """The counting conventions of the running command (report.Conventions)."""
    from .report import Conventions

    given = click.get_current_context().meta.get("costcalc.conventions", {})
    if given.get("count_like") is not None and given.get("batch", 1) != 1:
        from .errors import CostcalcError

        raise CostcalcError("--count-like reproduces the tools at batch 1 (ptflops reports per image, the others per "
                            "batch): leave out --batch")
    return Conventions(**given)


def output_options(fn):
    fn = click.option("--output", "-o", metavar="FILE", default=None,
                      help="Write to FILE (atomically; through a link to its target) instead of standard output.")(fn)
    fn = click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
                      help="Output format.")(fn)
    return fn


def limits_options(fn):
    """--max-layers, --max-repeat, --max-depth: kept in the click context, read by limits()."""

    def keep(ctx, param, value):
        if value is not None:
            ctx.meta.setdefault("costcalc.limits", {})[param.name] = value

    from .spec import LIMIT_RANGES

    for name, what in (("max_depth", "nesting of blocks and branches (32)"), ("max_repeat", "one item's repeat count (100,000)"),
                       ("max_layers", "layers after expansion (100,000)")):
        fn = click.option(f"--{name.replace('_', '-')}", name, type=click.IntRange(*LIMIT_RANGES[name]), default=None,
                          expose_value=False, callback=keep, help=f"Limit on {what}.")(fn)
    fn = click.option("--allow-unknown", "allow_unknown", is_flag=True, default=None, expose_value=False, callback=keep,
                      help="ONNX: keep an operator without a cost rule as an uncosted row (said in the header) "
                           "instead of an error.")(fn)
    return fn


def limits():
    from .spec import DEFAULT_LIMITS, Limits

    given = click.get_current_context().meta.get("costcalc.limits", {})
    return Limits(**{**DEFAULT_LIMITS._asdict(), **given}) if given else DEFAULT_LIMITS


def spec_options(fn):
    fn = click.option("--set", "settings", metavar="KEY=VALUE", type=Setting(), multiple=True,
                      help="Set a spec parameter (see `costcalc list`); repeatable. impl=torchvision (or keras, pytorchcv, caffe, as a spec lists) builds that implementation instead of the paper's network.")(fn)
    fn = click.option("--variant", default=None, help="Variant of the spec (also SPEC:VARIANT).")(fn)
    return fn


def config_options(many: bool = False, alpha_default=None):
    """--alpha, --rho, --resolution: one configuration, or comma lists (`many`)."""
    suffix = ",..." if many else ""

    def deco(fn):
        fn = click.option("--rho", type=RHOS, default=None, metavar=f"R{suffix}",
                          help="Resolution multiplier on the spec's base size (instead of --resolution).")(fn)
        fn = click.option("--resolution", type=PIXELS, default=None, metavar=f"PX{suffix}",
                          help="Input size in pixels (instead of --rho).")(fn)
        fn = click.option("--alpha", type=ALPHAS, default=alpha_default, metavar=f"A{suffix}",
                          help="Width multiplier" + ("s." if many else " (default 1)."))(fn)
        return fn

    return deco
