"""What the protocol server does with each client message (docs/PROTOCOL.md, "Client -> server").

Contract: :meth:`Requests.handle` never raises, whatever the frame; anything it cannot
use is answered with ``er`` and the connection stays open.  Auth follows the protocol:
a header/query token was checked at the upgrade (``ck OK`` at once); otherwise only ``c``
and ``h`` are accepted until ``ck OK``; a bad ``c`` gets ``ck NOT_OK`` and close 4001;
past the per-token session limit, ``ck NOT_OK`` "Maximum sessions limit" and close 4029.
Access levels (L0 serves touchline of the L0 list only, L1 adds depth of everything,
L2 adds order-level) are the backend's to judge (``Backend.refusal``).  A (re)subscription
always answers with a fresh snapshot, or with the backend's first one when it has none yet.
"""

from __future__ import annotations

import asyncio
import hmac
from typing import TYPE_CHECKING, Any, Final, cast

import msgspec

from tui.server.backend import KINDS
from tui.server.frames import text_frame
from tui.server.session import Session
from tui.wire.protocol import (
    Connect,
    ConnectAck,
    DepthUnsubscribed,
    Error,
    Heartbeat,
    OrdersUnsubscribed,
    TouchlineUnsubscribed,
    join_keys,
    split_keys,
)

if TYPE_CHECKING:
    from tui.server.server import ProtocolServer

INVALID_SESSION: Final = "Invalid session key"
SESSION_LIMIT: Final = "Maximum sessions limit"
_UNSUB_ACKS: Final = {
    "u": ("t", TouchlineUnsubscribed),
    "ud": ("d", DepthUnsubscribed),
    "ul": ("l", OrdersUnsubscribed),
}
_decode = msgspec.json.Decoder().decode


class Requests:
    def __init__(self, server: ProtocolServer) -> None:
        self.server = server
        self._closing: set[asyncio.Task[None]] = set()

    # -- entry point ----------------------------------------------------------------------
    def handle(self, s: Session, raw: str | bytes) -> None:
        """One client frame.  Never raises."""
        try:
            self._handle(s, raw)
        except Exception:
            self.server.log.exception("server: request failed on connection #%d", s.serial)
            self._send(s, Error(emsg="internal error"))
        self.server.flush(s)

    def _handle(self, s: Session, raw: str | bytes) -> None:
        try:
            msg = _decode(raw)
        except (msgspec.DecodeError, UnicodeDecodeError):
            self._send(s, Error(emsg="malformed request: not JSON"))
            return
        if type(msg) is not dict:
            self._send(s, Error(emsg="malformed request: not an object"))
            return
        parsed = self.server.dialect.parse(msg)  # the dialect's request as the seed's
        if isinstance(parsed, str):
            self._send(s, Error(emsg=parsed))
            return
        t, request = parsed[0], cast(Any, parsed[1])
        if t == "h":
            self._send(s, Heartbeat())
        elif t == "c":
            self._connect(s, request)
        elif not s.authed:
            self._send(s, Error(emsg="not authenticated"))
        elif t in ("t", "d", "l"):
            self.subscribe(s, t, split_keys(request.k))
        elif t in _UNSUB_ACKS:
            self.unsubscribe(s, t, split_keys(request.k))
        else:  # "o": order updates
            self._send(s, Error(emsg="not supported"))

    # -- auth -----------------------------------------------------------------------------
    def _connect(self, s: Session, request: Connect) -> None:
        token = request.susertoken
        server = self.server
        if s.authed:
            same = s.token is not None and hmac.compare_digest(token.encode(), s.token.encode())
            if same:
                self._send(s, ConnectAck(s="OK", uid=s.uid))
                return
        elif server.token_ok(token):
            self.login(s, token, request.uid or server.uid_of(token))
            return
        self._send(s, ConnectAck(s="NOT_OK", emsg=INVALID_SESSION))
        server.release(s)
        self.close(s, 4001, INVALID_SESSION)

    def _send(self, s: Session, message: msgspec.Struct) -> None:
        """Queue a control message, written in the dialect (some it never sends)."""
        payload = self.server.dialect.control(message)
        if payload is not None:
            s.push_control(text_frame(payload))

    def refuse_token(self, s: Session) -> None:
        """A bad token in the upgrade of a dialect that refuses it in a frame: ``ck
        NOT_OK`` (firstock-v2: ``{"status":"failed"}``), then close 4001."""
        self._send(s, ConnectAck(s="NOT_OK", emsg=INVALID_SESSION))
        self.close(s, 4001, INVALID_SESSION)

    def login(self, s: Session, token: str, uid: str) -> None:
        """Authenticate ``s`` with a good token: ``ck OK``, or refused past the limit."""
        s.uid = uid
        if self.server.hold(s, token):
            self._send(s, ConnectAck(s="OK", uid=uid))
            self.server.flush(s)
        else:
            self.refuse_session(s)

    def refuse_session(self, s: Session) -> None:
        """``ck NOT_OK`` "Maximum sessions limit", then close 4029 (also the kick fault)."""
        self._send(s, ConnectAck(s="NOT_OK", emsg=SESSION_LIMIT))
        self.server.release(s)
        self.close(s, 4029, SESSION_LIMIT)

    def close(self, s: Session, code: int, reason: str) -> None:
        """Send what is queued (even while stalled), then the close frame."""
        if s.closing:
            return
        s.closing = True
        s.stalled = False
        s.resume_reading()
        s.resync = False
        if s.open:
            s.write()
        task = asyncio.get_running_loop().create_task(s.ws.close(code, reason))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    # -- subscriptions --------------------------------------------------------------------
    def subscribe(self, s: Session, kind: str, keys: list[str]) -> None:
        server = self.server
        if not keys:
            self._send(s, Error(emsg="no scrips in request"))
            return
        backend = server.backend
        added = False
        for key in dict.fromkeys(keys):
            refusal = backend.refusal(s.level, kind, key)
            if refusal:
                self._send(s, Error(emsg=refusal, k=key[:64]))
                continue
            server.add_subscriber(s, kind, key)
            snapshot = backend.snapshot(kind, key)
            if snapshot is not None:
                s.push(snapshot, key)
            added = True
        if added:
            server.wake()

    def unsubscribe(self, s: Session, t: str, keys: list[str]) -> None:
        kind, ack = _UNSUB_ACKS[t]
        for key in keys:
            if key in s.subs[kind]:
                self.server.drop_subscriber(s, kind, key)
        self._send(s, ack(k=join_keys(keys)[:4096]))

    def snapshots(self, s: Session) -> None:
        """Queue fresh snapshots of everything ``s`` subscribes (a resync)."""
        snapshot = self.server.backend.snapshot
        for kind in KINDS:
            for key in s.subs[kind]:
                frame = snapshot(kind, key)
                if frame is not None:
                    s.parts.append(frame)
