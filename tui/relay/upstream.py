"""The relay's one upstream connection and its reference-counted subscriptions.

:class:`UpstreamClient` is the ordinary ``FeedClient`` (backoff, watchdog, resubscribe
after every reconnect) writing into the relay's cache; it also reports the feed's ``er``
answers so the relay can pass a refusal on to the clients who asked.

:class:`Interest` turns the clients' subscriptions into the upstream's: the upstream
gets the union.  A scrip's upstream price stream is depth if any client wants depth,
else touchline, plus order level if any client wants it; streams are added at once (in
one batch per clock turn), and the whole scrip is unsubscribed only when no client has
wanted any stream of it for ``grace`` seconds (so a client that resubscribes at once, a
desk switching lists, costs the upstream nothing).  One client's unsubscribe never
removes another's data: it only ends that client's own subscription.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.frames import Frame, Opcode
from websockets.protocol import Event

from tui.feed.client import FeedClient
from tui.feed.connection import SessionEnded
from tui.wire import frames as fr


class DirectConnection(ClientConnection):
    """websockets' asyncio client connection that hands each complete text frame to
    ``on_text`` as soon as it is parsed, instead of queueing it for ``recv()``: no queue,
    no task switch per message (``bench/upstream_recv.py``: 7.1 against 9.1 µs a message
    with decode and merge).  Frames parsed before ``on_text`` is set wait in ``early``.
    Everything else (the handshake, pings, close, fragmented messages) is websockets' own."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.on_text: Callable[[bytes], None] | None = None
        self.early: list[bytes] = []

    def process_event(self, event: Event) -> None:
        if type(event) is Frame and event.opcode is Opcode.TEXT and event.fin:
            on_text = self.on_text
            if on_text is None:
                self.early.append(bytes(event.data))
            else:
                on_text(bytes(event.data))
            return
        super().process_event(event)


class UpstreamClient(FeedClient):
    """``FeedClient`` on a :class:`DirectConnection`, plus ``on_refused(key, emsg)`` for the
    feed's ``er`` answers.  Backoff, watchdog, resubscription: the client's own."""

    connection_class = DirectConnection
    on_refused: Callable[[str, str], None] | None = None

    def _control(self, msg: dict[str, Any]) -> None:
        super()._control(msg)
        callback = self.on_refused
        if msg.get("t") == "er" and callback is not None:
            k, emsg = msg.get("k"), msg.get("emsg")
            if isinstance(k, str) and k:
                callback(k, emsg if isinstance(emsg, str) else "refused by the feed")

    async def _pump(self, ws: ClientConnection) -> None:
        """Frames are read as websockets parses them (the same work as the client's own
        loop, without a ``recv()`` per message); returns by raising, as that loop does:
        ``ConnectionClosed`` when the connection ends, ``SessionEnded`` on ``ck NOT_OK``."""
        if not isinstance(ws, DirectConnection):
            await super()._pump(ws)
            return
        ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # the dialect's reader (psx: the FrameReader as before), behind the tap if recording
        feed, control, stats = self._frame_feed(), self._control, self._stats
        errors = self.market.errors

        def on_text(frame: bytes) -> None:
            stats.frames += 1
            stats.bytes += len(frame)
            try:
                msg = feed(frame)
                if msg is not None:
                    control(msg)
            except SessionEnded as end:
                ws.on_text = None
                if not ended.done():
                    ended.set_exception(end)
            except Exception as exc:  # noqa: BLE001 - one bad message must not drop the feed
                errors.add(fr.BAD_MESSAGE, f"{type(exc).__name__} on {frame[:120]!r}")

        ws.on_text = on_text
        early, ws.early = ws.early, []
        for frame in early:
            on_text(frame)
        closed = asyncio.ensure_future(ws.wait_closed())
        try:
            await asyncio.wait({closed, ended}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ws.on_text = None
            closed.cancel()
        if ended.done():
            ended.result()  # raises SessionEnded
        raise ws.protocol.close_exc


class Interest:
    """What the upstream is asked for, from what the relay's clients want."""

    def __init__(
        self, client: FeedClient, wanted: Callable[[str], bool], grace: float = 5.0
    ) -> None:
        self.client = client
        self.grace = grace
        #: True while any client subscribes any stream of the key
        self._wanted = wanted
        self._new: dict[str, dict[str, None]] = {"d": {}, "t": {}, "l": {}}
        self._leaving: dict[str, asyncio.TimerHandle] = {}
        self.unsubscribed = 0  # scrips dropped upstream after their grace

    def want(self, kind: str, key: str) -> None:
        """A first client subscribed ``kind`` of ``key`` (sent on the next :meth:`flush`)."""
        timer = self._leaving.pop(key, None)
        if timer is not None:
            timer.cancel()
        self._new[kind][key] = None

    def unwant(self, key: str) -> None:
        """The last client of some stream of ``key`` left: check again after the grace."""
        if key in self._leaving or self._wanted(key):
            return
        loop = asyncio.get_running_loop()
        self._leaving[key] = loop.call_later(self.grace, self._expire, key)

    def pending(self) -> bool:
        return any(self._new.values())

    def flush(self) -> None:
        """Send the new streams upstream, depth first (one request per 100 scrips)."""
        new, client = self._new, self.client
        if new["d"]:
            client.subscribe(list(new["d"]), depth=True)
        if new["t"]:
            client.subscribe(list(new["t"]), depth=False)
        if new["l"]:
            depth = client.subscriptions.depth
            keys = list(new["l"])
            rest = [k for k in keys if k not in depth]
            if rest:  # order level alone: a touchline comes with it (cheap; it names the scrip)
                client.subscribe(rest, depth=False, orders=True)
            if len(rest) < len(keys):
                client.subscribe([k for k in keys if k in depth], depth=True, orders=True)
        for pending in new.values():
            pending.clear()

    def _expire(self, key: str) -> None:
        self._leaving.pop(key, None)
        if not self._wanted(key):
            self.client.unsubscribe([key])
            self.unsubscribed += 1

    def close(self) -> None:
        for timer in self._leaving.values():
            timer.cancel()
        self._leaving.clear()
