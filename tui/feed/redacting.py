"""Logging and error text with the token taken out.

websockets logs the upgrade request (its path, which carries the token in ``query``
mode, and its headers, which carry it in ``header`` mode) at DEBUG level, so the client
hands websockets a :class:`RedactingAdapter` instead of a plain logger.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any
from urllib.parse import quote

from tui.feed.config import redact
from tui.wire.frames import DecodeErrors


class RedactingAdapter(logging.LoggerAdapter[logging.Logger]):
    """A logger that formats each message itself and removes the secrets before logging."""

    def __init__(self, logger: logging.Logger, secrets: tuple[str, ...]) -> None:
        super().__init__(logger, {})
        self.secrets = secrets

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        if not self.isEnabledFor(level):
            return
        try:
            text = str(msg) % args if args else str(msg)
        except (TypeError, ValueError):
            text = f"{msg} {args}"
        exc_info = kwargs.pop("exc_info", None)
        if exc_info:
            text += "\n" + describe_traceback(exc_info)
        kwargs.setdefault("stacklevel", 2)
        self.logger.log(level, "%s", redact(text, self.secrets), **kwargs)


def describe(exc: BaseException, secrets: tuple[str, ...]) -> str:
    """``Type: message`` of an exception, secrets removed (for health, events and logs)."""
    text = str(exc)
    name = type(exc).__name__
    return redact(f"{name}: {text}" if text else name, secrets)


def describe_traceback(exc_info: object) -> str:
    """A formatted traceback for ``exc_info`` (True, an exception or a sys.exc_info tuple);
    the caller redacts it."""
    if isinstance(exc_info, BaseException):
        return "".join(traceback.format_exception(exc_info)).rstrip()
    if isinstance(exc_info, tuple) and len(exc_info) == 3 and exc_info[1] is not None:
        return "".join(traceback.format_exception(exc_info[1])).rstrip()
    return traceback.format_exc().rstrip()


def protect(errors: DecodeErrors, secrets: tuple[str, ...]) -> None:
    """Add the secrets (and their percent-encoded forms) to the error samples' redaction,
    so the caller may hand the client a ``Market`` whose errors were built without them."""
    errors.add_secret(*secrets, *(quote(s, safe="") for s in secrets))
