"""The feed client's read loop: the frames of each socket read, decoded and merged in one call.

websockets' own ``recv()`` hands over one message per call through a queue and a task
switch.  :class:`BatchConnection` is websockets' asyncio client connection that instead
gathers the data frames one ``data_received`` parsed (what one socket read brought: at
20,000 msgs/s on loopback typically a few to a few dozen frames, up to a few hundred when
the reader fell behind) and hands them to ``on_batch`` in one call, in the order they came.
:func:`read_batches` is the loop of one connection on it: count, then the dialect's
``feed_many`` (``FrameReader.feed_many`` -> ``Market.apply.frames``), then the
control messages among them.  Everything else -- the handshake, pings, close, flow
control of what is sent -- is websockets' own.  A message in fragments is joined here
(websockets' protocol already bounds its size by ``max_size``).

:func:`read_each` is the per-frame loop on ``recv()``, for any other connection class.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.frames import Frame, Opcode
from websockets.protocol import Event

from tui.feed.connection import Counters
from tui.feed.tap import FrameTap
from tui.wire import frames as fr

#: control messages of a batch to the client (``FeedClient._control``); may raise
#: ``SessionEnded`` (``ck NOT_OK``)
Control = Callable[[dict[str, Any]], None]
#: a batch of frames in; its control messages out (``FrameReader.feed_many``)
FeedMany = Callable[[Sequence[bytes]], list[dict[str, Any]]]
Feed = Callable[[bytes], dict[str, Any] | None]


class BatchConnection(ClientConnection):
    """See the module docstring.  Frames parsed before ``on_batch`` is set (right after
    the handshake) wait in ``early``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.on_batch: Callable[[list[bytes]], None] | None = None
        self.early: list[bytes] = []
        self._batch: list[bytes] = []
        self._parts: list[bytes] = []  # a fragmented message so far

    def process_event(self, event: Event) -> None:
        if type(event) is Frame:
            opcode = event.opcode
            if opcode is Opcode.TEXT or opcode is Opcode.BINARY or opcode is Opcode.CONT:
                if event.fin and not self._parts:
                    self._batch.append(bytes(event.data))
                else:
                    self._parts.append(bytes(event.data))
                    if event.fin:
                        self._batch.append(b"".join(self._parts))
                        self._parts = []
                return
        super().process_event(event)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        batch = self._batch
        if batch:
            self._batch = []
            on_batch = self.on_batch
            if on_batch is None:
                self.early.extend(batch)
            else:
                on_batch(batch)


def feed_many_of(codec: Any, tap: FrameTap | None, errors: fr.DecodeErrors) -> FeedMany:
    """The batch handler of one connection: the dialect's ``feed_many`` (the Noren family:
    the ``FrameReader``'s), or its ``feed`` frame by frame (a dialect without one); behind
    the tap while recording (every frame handed to it first, in order)."""
    many: FeedMany | None = getattr(codec, "feed_many", None)
    if many is None:
        many = fr.feed_each(codec.feed, errors)
    if tap is None:
        return many
    received, inner = tap.received, many

    def record_and_feed(frames: Sequence[bytes]) -> list[dict[str, Any]]:
        for frame in frames:
            received(frame)
        return inner(frames)

    return record_and_feed


async def read_batches(
    ws: BatchConnection,
    feed_many: FeedMany,
    control: Control,
    stats: Counters,
    errors: fr.DecodeErrors,
) -> None:
    """Read one connection until it ends; returns by raising, as the ``recv()`` loop does:
    ``ConnectionClosed`` when it closes, ``SessionEnded`` on ``ck NOT_OK``.  The control
    messages of a batch are handled after its market messages are merged."""
    ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_batch(frames: list[bytes]) -> None:
        stats.frames += len(frames)
        stats.bytes += sum(map(len, frames))
        try:
            controls = feed_many(frames)
        except Exception as exc:  # noqa: BLE001 - a bug of ours must not drop the feed
            errors.add(fr.BAD_MESSAGE, f"{type(exc).__name__} on a batch of {len(frames)}")
            return
        for msg in controls:
            try:
                control(msg)
            except Exception as exc:  # noqa: BLE001 - SessionEnded, or a bug of ours: the
                # session ends with it, as it did when raised in the recv() loop
                ws.on_batch = None  # nothing more is read on this connection
                if not ended.done():
                    ended.set_exception(exc)
                return

    ws.on_batch = on_batch
    early, ws.early = ws.early, []
    if early:
        on_batch(early)
    closed = asyncio.ensure_future(ws.wait_closed())
    try:
        await asyncio.wait({closed, ended}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        ws.on_batch = None
        closed.cancel()
    if ended.done():
        ended.result()  # raises SessionEnded (or what a control message raised)
    raise ws.protocol.close_exc


async def read_each(
    ws: ClientConnection,
    feed: Feed,
    control: Control,
    stats: Counters,
    errors: fr.DecodeErrors,
) -> None:
    """The per-frame loop on websockets' ``recv()`` (a connection class of another kind):
    count, then ``feed`` hands market messages to the sink and returns control messages."""
    recv = ws.recv
    while True:
        frame = await recv(False)  # bytes: no UTF-8 decode to str, exact byte count
        stats.frames += 1
        stats.bytes += len(frame)
        try:  # zero-cost in 3.11 unless it raises
            msg = feed(frame)
        except Exception as exc:  # noqa: BLE001 - one bad message must not drop the feed
            errors.add(fr.BAD_MESSAGE, f"{type(exc).__name__} on {frame[:120]!r}")
            continue
        if msg is not None:
            control(msg)
