"""costcalc: an analytical cost-model calculator for CNNs.

>>> import costcalc
>>> spec = costcalc.load_spec("mobilenet")
>>> result = costcalc.evaluate(spec, alpha=[1.0, 0.5], resolution=[224, 160])
>>> result.total("macs").shape
(2, 2)
>>> costcalc.evaluate(spec).total("macs")  # one configuration: a Python int
568740352
"""

from .engine import Result, evaluate
from .errors import CostcalcError, SpecError
from .spec import Limits, bundled_names, load_spec
from .verify import Check, verify

__all__ = [
    "Check",
    "CostcalcError",
    "Limits",
    "Result",
    "SpecError",
    "bundled_names",
    "evaluate",
    "load_spec",
    "verify",
]
__version__ = "0.1.0"
