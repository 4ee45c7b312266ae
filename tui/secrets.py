"""Where the feed token comes from: never the command line itself (it would show in ``ps``
and shell history).  An environment variable named by the user, or a file only its owner
can read.  The token is returned to the caller and never printed or logged.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class TokenError(Exception):
    """The token source is missing or unsafe; the message never contains the token."""


def token_from_env(var: str) -> str:
    value = os.environ.get(var, "").strip()
    if not value:
        raise TokenError(f"environment variable {var} is not set or empty")
    return value


def token_from_file(path: str | Path) -> str:
    p = Path(path).expanduser()
    try:
        mode = p.stat().st_mode
    except OSError as exc:
        raise TokenError(f"token file {p}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise TokenError(
            f"token file {p} is readable by others (mode {stat.S_IMODE(mode):o}); "
            f"run: chmod 600 {p}"
        )
    value = p.read_text(encoding="utf-8").strip()
    if not value:
        raise TokenError(f"token file {p} is empty")
    return value


def resolve_token(env: str | None = None, file: str | None = None) -> str:
    """The token from ``file`` or ``env`` (file first); empty string if neither is given."""
    if file:
        return token_from_file(file)
    if env:
        return token_from_env(env)
    return ""
