"""Width and resolution multipliers, vectorised over arrays of alpha and rho."""

from __future__ import annotations

import numpy as np

from .ir import WidthPolicy


def scale_channels(base: int, alpha: np.ndarray, policy: WidthPolicy, mode: str = "yes") -> np.ndarray:
    """Channels for `base` at each alpha, by the spec's rounding policy.

    - truncate: ``max(int(base * alpha), min_channels)`` (MobileNet v1, TF-slim)
    - round: ``max(round(base * alpha), min_channels)``
    - make_divisible: nearest multiple of `divisor`, at least ``max(divisor,
      min_channels)``, and never more than 10% below ``base * alpha``
      (MobileNet v2, EfficientNet)

    A width `multiplier` (the network's own width at alpha 1, EfficientNet's width coefficient)
    multiplies alpha first: ``base * (alpha * multiplier)``, as ``channels * width_mult`` is computed
    where alpha is 1.

    `mode` is the layer's exemption: ``no`` keeps `base`; ``up`` scales only
    upwards (``max(base, scaled)``, MobileNet v2's last 1x1 conv).
    """
    alpha = np.asarray(alpha, dtype=np.float64)
    if mode == "no" or policy.rounding == "fixed":
        return np.full(alpha.shape, base, dtype=np.int64)
    value = base * (alpha * policy.multiplier if policy.multiplier != 1 else alpha)
    if policy.rounding == "truncate":
        out = np.maximum(np.floor(value), policy.min_channels)
    elif policy.rounding == "round":
        out = np.maximum(np.rint(value), policy.min_channels)
    else:
        d = policy.divisor
        out = np.maximum(max(d, policy.min_channels), np.floor(value + d / 2) // d * d)
        out = np.where(out < 0.9 * value, out + d, out)
    if not np.all(out < 2.0**62):  # checked before the cast: a float past int64 would wrap
        raise OverflowError(f"{base} channels x alpha {float(np.max(alpha)):g} is too many channels")
    out = out.astype(np.int64)
    if mode == "up":
        out = np.maximum(out, base)
    return out


def resolution_from_rho(base: int, rho: np.ndarray) -> np.ndarray:
    """Input size for resolution multipliers: ``round(rho * base)`` (0.857 x 224 -> 192)."""
    return np.rint(np.asarray(rho, dtype=np.float64) * base).astype(np.int64)
