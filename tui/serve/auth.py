"""Who may open the desk in a browser: textual-serve has no authentication of its own, so
:class:`Guard` is an aiohttp middleware in front of every path it serves (the page, its
static files, the ``/ws`` socket that starts a desk process, ``/health``).

- With a password, every request needs HTTP Basic credentials whose password matches
  (any user name), compared with :func:`hmac.compare_digest`; anything else is answered
  ``401`` with no page and no socket.  Browsers ask once per session and send the same
  credentials on the WebSocket upgrade.
- Without one (loopback only, :func:`needs_password`), the ``Host`` must name this
  machine, so a page elsewhere cannot reach the desk through DNS rebinding.
- Always: a browser's WebSocket whose ``Origin`` is another site is refused ``403``, so no
  web page the user has open can drive their desk (cross-site WebSocket hijacking).

Refusals are logged with the path, the client's address and the reason, never the
credentials, and counted (``refused``).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Final
from urllib.parse import urlsplit

from aiohttp import web

from tui import listen

log = logging.getLogger("tui.serve")

REALM: Final = "marketdesk"
#: a shorter password is refused at start
MIN_PASSWORD: Final = 8

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


is_loopback = listen.is_loopback


def needs_password(host: str) -> bool:
    """Listening anywhere but loopback (``0.0.0.0``, a LAN address, a name) needs one."""
    return not is_loopback(host)


def check_password(password: str) -> str:
    """The password, or ValueError saying what is wrong with it (never the password)."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"the password must have at least {MIN_PASSWORD} characters")
    return password


def basic_password(header: str) -> bytes | None:
    """The password of an ``Authorization: Basic`` header, or None if there is none."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    _user, sep, password = decoded.partition(b":")
    return password if sep else None


def _host_name(netloc: str) -> str:
    """The host of ``host[:port]`` / ``[v6]:port`` (no port)."""
    return urlsplit("//" + netloc).hostname or ""


class Guard:
    """The middleware; ``password`` None serves without one (loopback only)."""

    def __init__(self, password: str | None) -> None:
        self._password = password.encode() if password is not None else None
        #: refusals by reason ("no password", "wrong password", "origin", "host")
        self.refused: Counter[str] = Counter()

    @property
    def open(self) -> bool:
        return self._password is None

    def __repr__(self) -> str:  # never the password
        return f"Guard(password={'no' if self.open else 'set'}, refused={dict(self.refused)})"

    def _refuse(self, request: web.Request, reason: str, response: web.Response) -> web.Response:
        self.refused[reason] += 1
        # a browser's first request comes without the password (the prompt follows): info
        level = logging.INFO if reason == "no password" else logging.WARNING
        log.log(
            level,
            "serve: refused %s %s from %s: %s",
            request.method,
            request.path,
            request.remote,
            reason,
        )
        return response

    def _unauthorized(self, request: web.Request, reason: str) -> web.Response:
        return self._refuse(
            request,
            reason,
            web.Response(
                status=401,
                text="401: the desk needs its password\n",
                headers={"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'},
            ),
        )

    def allowed(self, request: web.Request) -> web.Response | None:
        """None if ``request`` may pass, else the response that refuses it."""
        if self._password is None:
            if not is_loopback(_host_name(request.host)):
                return self._refuse(
                    request,
                    "host",
                    web.Response(status=403, text="403: this desk serves only this machine\n"),
                )
        else:
            given = basic_password(request.headers.get("Authorization", ""))
            if given is None:
                return self._unauthorized(request, "no password")
            if not hmac.compare_digest(given, self._password):
                return self._unauthorized(request, "wrong password")
        origin = request.headers.get("Origin")
        if origin is not None and request.path == "/ws":
            parts = urlsplit(origin)
            if parts.netloc.lower() != request.host.lower():
                return self._refuse(
                    request,
                    "origin",
                    web.Response(
                        status=403, text="403: a page of another site may not open the desk\n"
                    ),
                )
        return None

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        refusal = self.allowed(request)
        if refusal is not None:
            return refusal
        return await handler(request)
