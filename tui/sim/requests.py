"""What the simulator does with each client message (docs/PROTOCOL.md, "Client -> server").

Contract: :meth:`Requests.handle` never raises, whatever the frame; anything it cannot
use is answered with ``er`` and the connection stays open.  Auth follows the protocol:
a header/query token was checked at the upgrade (``ck OK`` at once); otherwise only ``c``
and ``h`` are accepted until ``ck OK``; a bad ``c`` gets ``ck NOT_OK`` and close 4001;
past the per-token session limit, ``ck NOT_OK`` "Maximum sessions limit" and close 4029.
Access levels: L0 serves touchline of the L0 list only, L1 adds depth of everything,
L2 adds order-level.  A (re)subscription always answers with fresh snapshots.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import TYPE_CHECKING, Any, Final

import msgspec

from tui.sim.frames import text_frame
from tui.sim.session import Session
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
    from tui.sim.server import SimServer

log = logging.getLogger("tui.sim")

INVALID_SESSION: Final = "Invalid session key"
SESSION_LIMIT: Final = "Maximum sessions limit"
_UNSUB_ACKS: Final = {"u": ("t", TouchlineUnsubscribed), "ud": ("d", DepthUnsubscribed),
                      "ul": ("l", OrdersUnsubscribed)}
_decode = msgspec.json.Decoder().decode


class Requests:
    def __init__(self, server: SimServer) -> None:
        self.server = server
        self._closing: set[asyncio.Task[None]] = set()

    # -- entry point ----------------------------------------------------------------------
    def handle(self, s: Session, raw: str | bytes) -> None:
        """One client frame.  Never raises."""
        try:
            self._handle(s, raw)
        except Exception:
            log.exception("sim: request failed on connection #%d", s.serial)
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
        t, request = parsed
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
        registry = server.subs[kind]
        scrips = server.market.scrips
        added = False
        for key in dict.fromkeys(keys):
            scrip = scrips.get(key)
            refusal = self._refusal(s.level, kind, scrip.inst if scrip is not None else None)
            if refusal:
                self._send(s, Error(emsg=refusal, k=key[:64]))
                continue
            s.subs[kind].add(key)
            registry.setdefault(key, set()).add(s)
            snapshot = self._snapshot(kind, key)
            if snapshot is not None:
                s.push(snapshot)
            added = True
        if added:
            server.wake()

    @staticmethod
    def _refusal(level: str, kind: str, inst: Any) -> str:
        """Why ``level`` may not subscribe ``kind`` of ``inst`` ("" if it may)."""
        if inst is None:
            return "unknown scrip"
        if level == "L0":
            if kind != "t":
                return "depth not available at L0" if kind == "d" else "order-level data needs L2"
            if not inst.l0:
                return "scrip not available at L0"
        if kind == "l":
            if level != "L2":
                return "order-level data needs L2"
            if inst.index:
                return "no order book for an index"
        return ""

    def unsubscribe(self, s: Session, t: str, keys: list[str]) -> None:
        kind, ack = _UNSUB_ACKS[t]
        registry = self.server.subs[kind]
        for key in keys:
            if key in s.subs[kind]:
                s.subs[kind].discard(key)
                subscribers = registry.get(key)
                if subscribers is not None:
                    subscribers.discard(s)
                    if not subscribers:
                        del registry[key]
        self._send(s, ack(k=join_keys(keys)[:4096]))

    def snapshots(self, s: Session) -> None:
        """Queue fresh snapshots of everything ``s`` subscribes (a resync)."""
        for kind in ("t", "d", "l"):
            for key in s.subs[kind]:
                snapshot = self._snapshot(kind, key)
                if snapshot is not None:
                    s.parts.append(snapshot)

    def _snapshot(self, kind: str, key: str) -> bytes | None:
        market, frame = self.server.market, self.server.frame_market
        if kind == "d":
            return frame(market.depth_snapshot(key))
        if kind == "t":
            return frame(market.touch_snapshot(key))
        return frame(market.book_snapshot(key))
