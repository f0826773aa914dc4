"""The one error type users see: a single located line, exit status 2."""

from __future__ import annotations


class CostcalcError(Exception):
    """Bad input or an impossible configuration.

    ``str(err)`` is the whole one-line message, e.g.
    ``specs/x.yaml: layers[4].stride: expected a positive integer, got -1``.
    """

    exit_code = 2


class SpecError(CostcalcError):
    """A spec file that cannot be read, parsed, validated or evaluated."""

    def __init__(self, source: str, where: str, message: str, line: int | None = None):
        self.source = source
        self.where = where
        self.detail = message
        self.line = line
        place = f"{source}"
        if line is not None:
            place += f":{line}"
        if where:
            place += f": {where}"
        super().__init__(f"{place}: {message}")
