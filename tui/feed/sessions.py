"""One connection per token per process, whatever the UI asks.

The feed allows 2 connections per token; a third kicks someone (docs/PROTOCOL.md).  A
desk that opened a second client by mistake (two screens, a reload) would fight itself,
so the process keeps a registry: a running :class:`~tui.feed.client.FeedClient` *claims*
its token, and a second client for the same token raises :class:`SessionInUse` when it
starts running (construction is free, so a UI can build a client before it knows whether
it will run it).

The registry never holds a token: it is keyed by an HMAC-SHA256 of the token under a
random per-process key, so even a dump of the process's state gives nothing to guess
against.  A client without a token is keyed by its endpoint's scheme, host and port.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from typing import Final
from urllib.parse import urlsplit

_KEY: Final = os.urandom(32)
#: clients may run on event loops in different threads (e.g. an embedded simulator's)
_lock = threading.Lock()

#: fingerprint -> id() of the client that claimed it
_claims: dict[str, int] = {}
#: fingerprint -> connections open now
_open: dict[str, int] = {}
#: fingerprint -> most connections ever open at once (a self-check, read by tests)
_peak: dict[str, int] = {}


class SessionInUse(RuntimeError):
    """Another feed client of this process is already running for the same token."""


def fingerprint(token: str, url: str = "") -> str:
    """The registry key for a token (or, without one, for the endpoint)."""
    if token:
        material = "token:" + token
    else:
        parts = urlsplit(url)
        material = f"endpoint:{parts.scheme}://{parts.hostname}:{parts.port}"
    return hmac.new(_KEY, material.encode(), hashlib.sha256).hexdigest()[:32]


def claim(key: str, owner: object) -> None:
    """Mark the token as in use by ``owner``; :class:`SessionInUse` if anyone holds it."""
    with _lock:
        holder = _claims.get(key)
        if holder is None:
            _claims[key] = id(owner)
            return
    if holder == id(owner):
        raise SessionInUse("this feed client is already running")
    raise SessionInUse(
        "another feed client of this process is already running for the same token "
        "(the feed allows one connection per token per process)"
    )


def release(key: str, owner: object) -> None:
    with _lock:
        if _claims.get(key) == id(owner):
            del _claims[key]


def claimed(key: str) -> bool:
    return key in _claims


def opened(key: str) -> int:
    """Count a connection as open; returns how many are open for the key now."""
    with _lock:
        n = _open[key] = _open.get(key, 0) + 1
        _peak[key] = max(_peak.get(key, 0), n)
    return n


def closed(key: str) -> None:
    with _lock:
        n = _open.get(key, 0) - 1
        if n > 0:
            _open[key] = n
        else:
            _open.pop(key, None)


def open_connections(key: str) -> int:
    return _open.get(key, 0)


def peak_connections(key: str) -> int:
    return _peak.get(key, 0)
