"""Check a spec's computed figures against the published numbers it carries."""

from __future__ import annotations

import re

from typing import NamedTuple

import numpy as np

from . import quantities
from .engine import Result, evaluate
from .errors import SpecError
from .ir import Reference, Spec
from .format import check_spec
from .spec import build_spec, read_document, split_ref

#: bytes per parameter for the fp32 model sizes
FP32 = 4


#: a figure of a paper: its source cites authors and year ("Howard et al. 2017", "Tan & Le 2019")
_PAPER = re.compile(r"^[A-Z][A-Za-z\-]+( et al\.| & [A-Z][A-Za-z\-]+)? (19|20)\d\d\b")
#: the authors' own releases (their repositories, model zoos, READMEs), which publish figures too
RELEASES = ("TF-slim", "megvii-model/", "forresti/", "DeepScale/", "songhan/", "tensorflow/tpu")


def kind_of_source(source: str) -> str:
    """paper | release (the authors' repository or model zoo) | implementation (a library's or a
    re-implementation's own count, or one counted here from reference code)."""
    if _PAPER.match(source):
        return "paper"
    if source.startswith(RELEASES):
        return "release"
    return "implementation"


def _read(ref: str) -> tuple:
    """(the checked document, its shown name, the variant asked for) of a spec reference."""
    name, variant = split_ref(ref)
    doc, shown = read_document(name)
    return check_spec(doc, shown), shown, variant  # checked once, for all the settings references ask for


def unchecked(ref: str) -> list[dict]:
    """The spec's published cost figures that verify does not check, each with its reason."""
    return _unchecked(*_read(ref)[:2])


def _unchecked(doc, shown: str) -> list[dict]:
    return [{"spec": str(doc.get("name") or shown), "figures": 1, **dict(u)} for u in doc.get("unchecked") or []]


def verify_all(refs) -> tuple[list, list]:
    """(the checks, the unchecked figures) of several specs, each read once."""
    checks: list = []
    missing: list = []
    for ref in refs:
        doc, shown, variant = _read(ref)
        checks += _verify(doc, shown, variant)
        missing += _unchecked(doc, shown)
    return checks, missing


class Check(NamedTuple):
    spec: str
    reference: Reference
    computed: float
    status: str  # pass | FAIL | deviates | unexplained

    @property
    def delta(self) -> float:
        return self.computed - self.reference.value

    @property
    def ok(self) -> bool:
        return self.status != "FAIL"


def quantity(result: Result, name: str, layer: str | None = None, flops_per_mac: float = 2, options=None) -> float:
    """One quantity of a 1-configuration result: a total, or summed over a layer or block."""
    if name not in quantities.BASE:
        fn = quantities.derived(name)
        if fn is None:
            raise SpecError(result.spec.source, "references", f"unknown quantity {name!r}")
        return float(fn(result, {**(options or {}), **({"_layer": layer} if layer else {})}))
    base = {"size_mb": "params", "size_mib": "params", "flops": "macs"}.get(name, name)
    if layer is None:
        value = int(np.reshape(result.total(base), -1)[0])
    else:
        rows = []
        for prefix in layer.split(", "):
            found = [lr for lr in result.layers if in_scope(lr.name, prefix)]
            if not found:
                raise SpecError(result.spec.source, "references", f"no layer or block named {prefix!r}")
            rows += found
        value = 0
        for lr in rows:
            if base == "weights":
                value += int(np.reshape(lr.values["params"], -1)[0]) - int(np.reshape(lr.values["bn_params"], -1)[0])
            else:
                value += int(np.reshape(lr.values[base], -1)[0])
    if name == "size_mb":
        return value * FP32 / 1e6
    if name == "size_mib":
        return value * FP32 / 2**20
    if name == "flops":
        return value * flops_per_mac
    return value


def in_scope(name: str, prefix: str) -> bool:
    """Whether layer `name` is `prefix` or inside it (``conv8`` holds ``conv8.3/pw``)."""
    return name == prefix or name.startswith(prefix + "/") or name.startswith(prefix + ".")


def evaluate_config(doc, shown: str, config: dict, cache: dict, batch: int = 1) -> Result:
    """The result for one reference's configuration; each distinct spec setting is built once and
    each distinct configuration evaluated once (`cache` is shared by all the spec's references)."""
    variant = config.get("variant")
    settings = config.get("set") or {}
    key = (variant, tuple(sorted((k, repr(v)) for k, v in settings.items())))
    spec = cache.get(key)
    if spec is None:
        spec = cache[key] = build_spec(doc, shown, variant, settings)
    point = key + (repr(config.get("alpha", 1.0)), config.get("resolution"), repr(config.get("rho")))
    result = cache.get(point)
    if result is None:
        result = cache[point] = evaluate(spec, alpha=config.get("alpha", 1.0), resolution=config.get("resolution"),
                                         rho=config.get("rho"), batch=batch)
    return result


def verify(ref: str) -> list[Check]:
    """Every reference of one spec, each evaluated in its own configuration."""
    return _verify(*_read(ref))


def _verify(doc, shown: str, variant) -> list[Check]:
    default = build_spec(doc, shown, variant)
    cache: dict = {(variant, ()): default}
    checks = []
    for r in default.references:
        if variant is not None and r.config.get("variant", default.variant) != variant:
            continue
        result = evaluate_config(doc, shown, r.config, cache)
        if r.options.get("fillers") == "bracket":
            # an estimate bracketed by two assumptions (Deep Compression's filler zeros: placed at random,
            # or none at all): the published figure must lie between them; the closest bound is shown
            bounds = sorted(quantity(result, r.quantity, r.layer, 2, {**r.options, "fillers": f}) for f in ("random", "none"))
            computed = min(max(r.value, bounds[0]), bounds[1])
        else:
            computed = quantity(result, r.quantity, r.layer, r.config.get("flops_per_mac", 2), r.options)
        within = r.within(computed)
        # a figure marked as deviating that is within its tolerance passes (the report says the mark is stale)
        status = "pass" if within else (r.expect if r.expect in ("deviates", "unexplained") else "FAIL")
        checks.append(Check(default.label if variant else default.name, r, computed, status))
    return checks


def published_accuracy(spec: Spec) -> dict:
    """{(alpha, resolution): top-1} of the published figures that apply to this variant and settings.
    A figure applies to the settings its `set` names and to no other change: with --set impl=torchvision
    (or minimalistic=true, classes=1001) a figure published for the spec's own network is not that
    network's."""
    out = {}
    changed = spec.changed
    for acc in spec.accuracy:
        c = acc.config
        if c.get("variant", spec.variant) != spec.variant:
            continue
        given = c.get("set") or {}
        if any(spec.settings.get(k) != v for k, v in given.items()) or any(k not in given for k in changed):
            continue
        res = c.get("resolution") or round(c.get("rho", 1.0) * spec.input_size[0])
        out.setdefault((round(float(c.get("alpha", 1.0)), 9), int(res)), acc.top1)
    return out


def published_top1(spec: Spec, alpha: float, resolution: int) -> float | None:
    """The published top-1 for this spec, variant and configuration, if it carries one."""
    return published_accuracy(spec).get((round(float(alpha), 9), int(resolution)))
