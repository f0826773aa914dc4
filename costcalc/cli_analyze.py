"""`costcalc analyze ...`: the closed-form analyses (see costcalc.analysis)."""

from __future__ import annotations

import click

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT)
def analyze():
    """Closed-form analyses the papers argue with, on any spec or on single-layer numbers.

    \b
    Example:
      costcalc analyze --help
    """
