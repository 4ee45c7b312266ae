"""The Noren family: ``psx`` (the seed), ``noren`` (classic ``c`` connect) and
``noren-token`` (``a`` with an access token).  Same messages, different handshakes.

Sources (docs/PROTOCOL.md marks each claim): the seed documents; NorenRestApiPy 0.0.22
and norenrestapi 0.0.37 (``__on_open_callback`` writes the first frame, ``__on_data_callback``
checks ``ck``'s ``s``, ``start_websocket`` formats ``{access_token}`` into the URL);
Firstock's getting-started page (``{"t":"ck","k":"OK"}``); Definedge and Flattrade
(``"Ok"``); deployments that answer ``h`` with ``hk`` and close 1008 on bad credentials.

Tolerant where real feeds vary: the acknowledgement's status in ``s`` or ``k``, any case
of "ok", ``ak`` for ``ck``, ``hk`` for ``h``.  Strict where it matters: any other status
is a refusal.  Order updates (``om``, and ``ok`` acknowledging their subscription) are
counted and kept, never handed to the market.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar, Final
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import msgspec
from msgspec import Struct

from tui.wire import protocol as p
from tui.wire.dialects.base import ClientCodec, Credentials, Dialect, OrderUpdates, Sink
from tui.wire.frames import DecodeErrors, FrameReader

HEARTBEAT: Final = p.encode(p.Heartbeat())
#: control tags a Noren-family feed may send beyond the seed's
EXTRA_CONTROL: Final = frozenset({"hk", "ak", "om", "ok"})
ORDER_TAGS: Final = frozenset({"om", "ok"})
#: what the user writes in a URL for the token to be put there (NorenRestApiPy's format)
URL_PLACEHOLDER: Final = "{access_token}"
_encode = msgspec.json.Encoder().encode


class TokenConnect(p._Msg, tag="a"):
    """norenrestapi 0.0.37's connect: an OAuth access token instead of a session token."""

    uid: str = ""
    actid: str = ""
    accesstoken: str = ""
    source: p.Opt = msgspec.UNSET

    def __repr__(self) -> str:
        return f"TokenConnect(uid={self.uid!r}, actid={self.actid!r}, accesstoken=<redacted>)"


def normal_ack(msg: dict[str, Any]) -> dict[str, Any]:
    """A ``ck``/``ak`` as the seed's ``ck``: ``s`` is ``OK`` for any case of "ok" in ``s``
    or ``k``, else ``NOT_OK``.  Without a status string it is returned as ``ck`` as it is,
    and the client's validation counts it as a bad message."""
    status = msg.get("s", msg.get("k"))
    if not isinstance(status, str):
        return {**msg, "t": "ck"}
    ok = status.strip().upper() == "OK"
    out: dict[str, Any] = {"t": "ck", "s": "OK" if ok else "NOT_OK"}
    for name in ("uid", "emsg"):
        if isinstance(msg.get(name), str):
            out[name] = msg[name]
    if not ok and "emsg" not in out and status.strip():
        out["emsg"] = status.strip()[:80]
    return out


class NorenCodec:
    """The client side of the Noren family (one per feed client)."""

    def __init__(self, errors: DecodeErrors, sink: Sink, *, order_level: bool) -> None:
        self.errors = errors
        self.order_updates = OrderUpdates()
        self.notes: Counter[str] = Counter()
        self._order_level = order_level
        reader = FrameReader(errors, sink, control=p.CONTROL_TYPES.keys() | EXTRA_CONTROL)
        self.feed = reader.feed
        self.feed_many = reader.feed_many  # the client's read loop: a socket read at once

    def control(self, msg: dict[str, Any]) -> dict[str, Any] | None:
        t = msg.get("t")
        if t == "ck" or t == "ak":
            return normal_ack(msg)
        if t == "hk":
            return {"t": "h"}
        if t in ORDER_TAGS:
            self.order_updates.add(str(t), msg)
            return None
        return msg

    def encode(self, requests: list[Struct]) -> list[bytes]:
        if self._order_level:
            return [p.encode(r) for r in requests]
        return [
            p.encode(r)
            for r in requests
            if not isinstance(r, p.OrdersSubscribe | p.OrdersUnsubscribe)
        ]

    def reset(self) -> None:
        """Nothing to forget between connections."""


class NorenServer:
    """The server side of the Noren family (one per simulator)."""

    refuse_in_band = False
    ping_interval: float | None = None

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self._types: dict[str, type[Struct]] = dict(p.CLIENT_TYPES)
        if dialect == "noren-token":
            self._types["a"] = TokenConnect
        #: the heartbeat answer: ``hk`` as several Noren deployments send it
        self._heartbeat = b'{"t":"hk"}' if dialect != "psx" else HEARTBEAT

    def route(
        self,
        path: str,
        query: dict[str, list[str]],
        authorization: str | None,
        levels: dict[str, str],
    ) -> tuple[str | None, str | None]:
        level = levels.get(path.rstrip("/") or "/")
        if authorization is not None:
            scheme, _, value = authorization.strip().partition(" ")
            return level, value.strip() if scheme.lower() == "bearer" else ""
        for name in ("token", "access_token"):
            if name in query:
                return level, query[name][0]
        return level, None

    def parse(self, msg: dict[str, Any]) -> tuple[str, Struct] | str:
        t = msg.get("t")
        struct = self._types.get(t) if isinstance(t, str) else None
        if struct is None:
            return f"unknown request type {str(t)[:16]!r}"
        try:
            request: Any = msgspec.convert(msg, struct)
        except msgspec.ValidationError as exc:
            detail = str(exc)
            for secret in (msg.get("susertoken"), msg.get("accesstoken")):
                if isinstance(secret, str) and secret:
                    detail = detail.replace(secret, "<redacted>")
            return f"malformed request: {detail[:80]}"
        if isinstance(request, TokenConnect):
            return "c", p.Connect(
                uid=request.uid,
                actid=request.actid,
                susertoken=request.accesstoken,
                source=request.source,
            )
        return str(t), request

    def market(self, msg: dict[str, Any]) -> bytes | None:
        return _encode(msg)

    def control(self, message: Struct) -> bytes | None:
        if isinstance(message, p.Heartbeat):
            return self._heartbeat
        return p.encode(message)


class Psx(Dialect):
    name = "psx"
    summary = "the seed: bearer header or token query (live at the upgrade), or connect"
    order_level = True
    heartbeat = HEARTBEAT

    def url(self, url: str, creds: Credentials) -> str:
        """With ``token=`` added in ``query`` mode (unless the URL has a token already)."""
        if creds.auth != "query" or not creds.token or _has_token(url):
            return url
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True) + [("token", creds.token)]
        return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))

    def headers(self, creds: Credentials) -> dict[str, str] | None:
        if creds.auth == "header" and creds.token:
            return {"Authorization": f"Bearer {creds.token}"}
        return None

    def hello(self, creds: Credentials) -> bytes | None:
        if creds.auth != "connect":
            return None
        return p.encode(p.Connect(uid=creds.uid, actid=creds.uid, susertoken=creds.token))

    def live_on_upgrade(self, creds: Credentials) -> bool:
        return creds.auth != "connect"

    def client(self, errors: DecodeErrors, sink: Sink) -> ClientCodec:
        return NorenCodec(errors, sink, order_level=True)

    def server(self) -> NorenServer:
        return NorenServer(self.name)


class Noren(Dialect):
    name = "noren"
    summary = 'classic Noren: first frame {"t":"c",uid,actid,susertoken,"source":"API"}'
    needs_uid = True
    heartbeat = HEARTBEAT
    auth_close_codes: ClassVar[frozenset[int]] = frozenset({4001, 1008})

    def url(self, url: str, creds: Credentials) -> str:
        return _placeholder(url, creds.token)

    def hello(self, creds: Credentials) -> bytes | None:
        return p.encode(
            p.Connect(uid=creds.uid, actid=creds.uid, susertoken=creds.token, source="API")
        )

    def auth_label(self, creds: Credentials) -> str:
        return "connect"

    def client(self, errors: DecodeErrors, sink: Sink) -> ClientCodec:
        return NorenCodec(errors, sink, order_level=False)

    def server(self) -> NorenServer:
        return NorenServer(self.name)


class NorenToken(Noren):
    name = "noren-token"
    summary = 'Noren with an access token: {"t":"a",uid,actid,accesstoken,"source":"API"}'

    def hello(self, creds: Credentials) -> bytes | None:
        return p.encode(
            TokenConnect(uid=creds.uid, actid=creds.uid, accesstoken=creds.token, source="API")
        )

    def auth_label(self, creds: Credentials) -> str:
        return "token"


def _has_token(url: str) -> bool:
    return any(
        name in ("token", "access_token") and value
        for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True)
    )


def _placeholder(url: str, token: str) -> str:
    """``{access_token}`` in the URL replaced by the (percent-encoded) token, as the Noren
    SDKs' ``start_websocket`` does; other URLs unchanged."""
    return url.replace(URL_PLACEHOLDER, quote(token, safe="")) if URL_PLACEHOLDER in url else url
