"""The quantities a reference can check: engine totals, and derived analyses.

Engine quantities are read off a result.  Analyses (costcalc.analysis.*)
register derived quantities here with :func:`register`; a spec reference
names one as ``quantity: <name>`` and passes it ``options``.  A derived
quantity is a function ``(result, options) -> float`` of a one-configuration
result; it reads what else it needs from ``result.spec`` (e.g. the spec's
``analyses`` section).
"""

from __future__ import annotations

from typing import Callable

BASE = ("params", "weights", "bn_params", "macs", "flops", "mem_access", "activations", "size_mb", "size_mib")

#: the quantities costcalc.analysis registers; named here so that a spec can be validated without
#: importing the analyses (start-up time). A test checks this list against the registry.
DERIVED = (
    "compressed_size_mb", "compression_ratio", "dws_standard_macs", "dws_standard_weights", "pruned_params",
    "type_macs_pct", "type_weights_pct",
)

_DERIVED: dict[str, Callable] = {}
_loaded = False


def register(name: str):
    def deco(fn):
        if name in _DERIVED or name in BASE or name not in DERIVED:
            raise ValueError(f"quantity {name!r} is already registered or not listed in DERIVED")
        _DERIVED[name] = fn
        return fn

    return deco


def _load() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        import costcalc.analysis  # noqa: F401  (registers the analyses' quantities)


def known() -> tuple[str, ...]:
    return BASE + DERIVED


def derived(name: str) -> Callable | None:
    _load()
    return _DERIVED.get(name)
