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

_DERIVED: dict[str, Callable] = {}
_loaded = False


def register(name: str):
    def deco(fn):
        if name in _DERIVED or name in BASE:
            raise ValueError(f"quantity {name!r} is already registered")
        _DERIVED[name] = fn
        return fn

    return deco


def _load() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        import costcalc.analysis  # noqa: F401  (registers the analyses' quantities)


def known() -> tuple[str, ...]:
    _load()
    return BASE + tuple(sorted(_DERIVED))


def derived(name: str) -> Callable | None:
    _load()
    return _DERIVED.get(name)
