"""Budgets: upper bounds on a network's cost, each at its own configuration (`costcalc check`).

A spec may carry ``budget:``, one mapping or a list of them, each with upper bounds on any of
params, weights, MACs, FLOPs, memory access, activations, the largest activation and the fp32 size
(numbers or counts with a unit: ``macs: 600M``) and the ``config`` it applies to (alpha, resolution
or rho, variant, set; the spec's default otherwise). Bounds given on the command line apply at the
configuration given there. A figure equal to its bound is within it.
"""

from __future__ import annotations

from typing import NamedTuple

from .engine import Result
from .format import BUDGET_QUANTITIES
from .verify import evaluate_config, quantity


class BudgetCheck(NamedTuple):
    spec: str
    config: dict  # the configuration it was evaluated at, as a reference's config
    quantity: str
    limit: float
    computed: float
    source: str  # "spec" (its budget: section) or "command line"
    note: str = ""

    @property
    def over(self) -> bool:
        return self.computed > self.limit


def measure(result: Result, name: str, flops_per_mac: float) -> float:
    """One budget quantity of a one-configuration result."""
    if name == "peak_activation":
        from .memory import peak

        return float(peak(result).elements)
    return quantity(result, name, flops_per_mac=flops_per_mac)


def entries(spec) -> list[dict]:
    """The spec's budget: section as a list of mappings (bounds, config, note)."""
    raw = spec.budget
    if not raw:
        return []
    return [raw] if isinstance(raw, dict) else list(raw)


def check(doc, shown: str, spec, cli_bounds: dict, cli_config: dict, conv) -> list[BudgetCheck]:
    """Every bound of the spec's budget and of the command line, each at its configuration, with the
    conventions `conv` (FLOPs per MAC unless a budget's config says otherwise, and the batch)."""
    flops_per_mac = conv.flops_per_mac
    cache: dict = {}
    out = []
    for entry in entries(spec):
        config = dict(entry.get("config") or {})
        fpm = config.get("flops_per_mac", flops_per_mac)
        result = evaluate_config(doc, shown, config, cache, conv.batch)
        for q in BUDGET_QUANTITIES:
            if q in entry:
                out.append(BudgetCheck(spec.label, config, q, entry[q], measure(result, q, fpm), "spec",
                                       " ".join(entry.get("note", "").split())))
    if cli_bounds:
        result = evaluate_config(doc, shown, cli_config, cache, conv.batch)
        for q, bound in cli_bounds.items():
            out.append(BudgetCheck(spec.label, cli_config, q, bound, measure(result, q, flops_per_mac), "command line"))
    return out
