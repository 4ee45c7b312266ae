"""The one argparse type every command line shares: a flag's value run through a check.

It imports nothing of ours, so it sits at the bottom of the layers beside the wire
(docs/ARCHITECTURE.md): the desk's CLI (:mod:`tui.cli_parser`, :mod:`tui.serve.cli`) and the
bus's options (:mod:`tui.bus.options`, a layer below the desk) both use it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable


def checked(check: Callable[[str], object]) -> Callable[[str], str]:
    """An argparse type that runs ``check`` (one of the config file's checks, or the bus's
    URL check) on a flag's value: a ``ValueError`` becomes argparse's usage error, its text
    the message (the checks never put a secret in it)."""

    def parse(value: str) -> str:
        try:
            check(value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return value

    return parse
