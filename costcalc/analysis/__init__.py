"""Closed-form analyses the papers argue with.  Importing this package registers their derived
quantities with costcalc.quantities (for spec references and verify)."""

from . import compression, convs, dws, fire, guidelines  # noqa: F401
