"""Where the feed's credentials come from: the token, and the CA that vouches for the server.

The token never comes from the command line itself (it would show in ``ps`` and shell
history): an environment variable named by the user, or a file only its owner can read.
It is returned to the caller and never printed or logged; no message here repeats it.

``ca_context`` builds the TLS context that trusts a private CA (``--ca-file``,
``ca_file`` in ``[feed]``) besides the system's certificates.

Files are read through :mod:`tui.userfiles`: a FIFO, a directory or a device is refused
with one line instead of hanging the desk or ending in a traceback.
"""

from __future__ import annotations

import os
import ssl
import stat
from pathlib import Path
from typing import Final

from tui.userfiles import BadFile, decode, read_bytes

#: a token file larger than this is not a token file
TOKEN_LIMIT: Final = 64 * 1024
#: a CA bundle larger than this is not a CA bundle (the system's whole bundle is ~200 KB)
CA_LIMIT: Final = 8 * 1024 * 1024


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
        data, info = read_bytes(p, TOKEN_LIMIT)
    except FileNotFoundError:
        raise TokenError(f"token file {p}: no such file") from None
    except BadFile as exc:
        raise TokenError(f"token file {exc}") from None
    mode = info.st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise TokenError(
            f"token file {p} is readable by others (mode {stat.S_IMODE(mode):o}); "
            f"run: chmod 600 {p}"
        )
    try:
        value = decode(p, data).strip()
    except BadFile:
        raise TokenError(
            f"token file {p} is not text (UTF-8 expected): is it the right file?"
        ) from None
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


def ca_context(path: str | Path) -> ssl.SSLContext:
    """A verifying TLS context that trusts the PEM certificates in ``path`` as well as the
    system's.  Raises ValueError with one line if the file is unusable."""
    p = Path(path).expanduser()
    try:
        data, _ = read_bytes(p, CA_LIMIT)
    except FileNotFoundError:
        raise ValueError(f"CA file {p}: no such file") from None
    except BadFile as exc:
        raise ValueError(f"CA file {exc}") from None
    text = data.decode("ascii", errors="replace")
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise ValueError(f"CA file {p} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
    context = ssl.create_default_context()
    try:
        context.load_verify_locations(cadata=text)
    except ssl.SSLError as exc:
        raise ValueError(f"CA file {p}: not a usable certificate ({exc.reason or exc})") from None
    return context
