"""A recording served as a live feed: the protocol server (``tui.server``) in front of a
:class:`ReplayBackend` (``marketdesk replay FILE...``).

The same endpoints, auth modes, session limit and requests as the simulator, so the desk,
the CLI, the relay and any Noren client connect unchanged.  The replay clock starts when
the first scrip is subscribed (after ``grace`` seconds, so a client's first requests all
land first); from then on each recorded frame is sent when the clock reaches its receive
time, as recorded, byte for byte.  A client that subscribes later, or after ``--from``,
starts from snapshots of the state then (:class:`~tui.replay.cache.WireCache`), so it
holds the same picture as one that saw everything.  At ``--speed 0`` frames go as fast as
the slowest connection reads them (the server never queues more than a socket takes).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Final

import msgspec

from tui.record import format as fmt
from tui.record.reader import Recording
from tui.replay.cache import KIND_OF, WireCache, touchline_of
from tui.replay.cursor import RecordCursor
from tui.replay.source import follow_request
from tui.replay.timeline import ReplayClock, clock_text
from tui.server.config import PATHS, ServerConfig
from tui.server.frames import json_frame, text_frame
from tui.server.server import ProtocolServer
from tui.wire import dialects
from tui.wire.frames import DecodeErrors

Publish = Callable[[str, str, bytes], int]

__all__ = ["ReplayBackend", "ReplayServer"]

log = logging.getLogger("tui.replay")

#: records sent in one turn of the server's clock at most (then the writes go out)
CHUNK: Final = 4000
#: seconds between the first subscription and the replay clock starting
GRACE: Final = 0.3
_FOREVER: Final = 1 << 62
_FRAMES: Final = (fmt.RECEIVED, fmt.SNAPSHOT)


class ReplayBackend:
    """The recording as a :class:`~tui.server.backend.Backend`."""

    def __init__(
        self,
        recording: Recording,
        *,
        speed: float = 1.0,
        start_ns: int | None = None,
        end_ns: int | None = None,
        grace: float = GRACE,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.recording = recording
        header = recording.header
        self.level = header.level or "L1"
        self.cache = WireCache()
        self.known = {k for keys in recording.subscriptions().values() for k in keys}
        self.clock = ReplayClock(header.started_ns, speed=speed, monotonic=monotonic)
        self.clock.pause(True)  # until the first subscription
        self.start_ns, self.end_ns, self.grace = start_ns, end_ns, grace
        self.server: ProtocolServer | None = None
        self.on_end: Callable[[], None] | None = None
        self._cursor = RecordCursor(recording.records())
        self._decode = msgspec.json.Decoder(float_hook=str).decode
        #: a broker dialect's frames are read by its codec and served as the seed's (psx)
        #: messages; psx frames are served as recorded, byte for byte
        dialect = self._dialect = dialects.get(header.dialect or "psx")
        self._held: list[dict[str, Any]] = []
        self._codec = (
            None if dialect.name == "psx" else dialect.client(DecodeErrors(), self._held.append)
        )
        self._start_at: float | None = None
        self.position_ns = header.started_ns
        self.started = False
        self.ended = False
        self.sent = 0  # recorded frames published
        if start_ns is not None:
            self._advance(start_ns, _FOREVER, publish=False)
            self.position_ns = max(self.position_ns, start_ns)

    # -- the Backend protocol ---------------------------------------------------------------
    def refusal(self, level: str, kind: str, key: str) -> str:
        if key not in self.known and key not in self.cache:
            return "scrip not in the recording"
        if level == "L0" and kind != "t":
            return "depth not available at L0" if kind == "d" else "order-level data needs L2"
        if kind == "l":
            if level != "L2":
                return "order-level data needs L2"
            if self.level != "L2":
                return "no order-level data in the recording"
        return ""

    def snapshot(self, kind: str, key: str) -> bytes | None:
        msg = self.cache.snapshot(kind, key)
        return None if msg is None else json_frame(msg)

    def watch(self, kind: str, key: str) -> None:
        pass

    def unwatch(self, kind: str, key: str) -> None:
        pass

    def turn(self, now: float, active: bool) -> bool:
        if self.ended:
            return False
        if not self.started:
            if not active:
                return False
            if self._start_at is None:
                self._start_at = now + self.grace
            if now < self._start_at:
                return True
            self.started = True
            self.clock.set(self.position_ns)
            self.clock.pause(False)
            log.info("replay started at %s", clock_text(self.position_ns))
        server = self.server
        if server is not None and any(not s.writable() for s in server.sessions if s.open):
            return True  # a socket is full: send no more until it drains
        speed = self.clock.speed
        limit = self.clock.now_ns() if speed else _FOREVER
        if self.end_ns is not None:
            limit = min(limit, self.end_ns)
        self._advance(limit, CHUNK, publish=True)
        if speed == 0:
            self.clock.set(self.position_ns)
        nxt = self._cursor.peek()
        if nxt is None or (self.end_ns is not None and nxt[1] > self.end_ns):
            self.ended = True
            self.clock.pause(True)
            log.info("replay ended at %s after %d frames", clock_text(self.position_ns), self.sent)
            damage = self.recording.damage
            for line in damage:
                log.warning("replay: %s", line)
            if self.on_end is not None:
                self.on_end()
            return False
        return True

    # -- inside -------------------------------------------------------------------------------
    def _advance(self, limit_ns: int, most: int, *, publish: bool) -> int:
        """Fold (and publish) records up to ``limit_ns``; how many.  The server's hot path
        at ``--speed 0``: locals only."""
        decode, apply = self._decode, self.cache.apply
        server = self.server if publish else None
        subs_t = server.subs["t"] if server is not None else {}
        push = server.publish if server is not None else None
        touch, kind_of, frames = self.cache.touch, KIND_OF, _FRAMES
        pos, sent, n = self.position_ns, self.sent, 0
        for kind, ns, payload in self._cursor.due(limit_ns, most):
            pos = ns
            n += 1
            if kind not in frames:
                if self._codec is not None:  # the dialect's reader follows connections
                    if kind == fmt.OPENED:
                        self._codec.reset()
                    elif kind == fmt.SENT:
                        follow_request(self._dialect, self._codec, payload)
                continue
            if self._codec is not None:  # a broker dialect: its codec, then the seed's frames
                self._translated(payload, push, subs_t)
                continue
            try:
                msg = decode(payload)
            except (msgspec.DecodeError, UnicodeDecodeError):
                continue  # a bad frame as recorded: the live client counted it; not served
            if type(msg) is not dict:
                continue
            key = apply(msg)
            if not key or push is None:
                continue
            t = msg["t"]
            sent += 1
            push(kind_of[t], key, text_frame(payload))
            if (t == "df" or t == "dk") and key not in touch and subs_t.get(key):
                line = touchline_of(msg)
                line["t"] = "tk" if t == "dk" else "tf"
                push("t", key, json_frame(line))
        self.position_ns, self.sent = pos, max(sent, self.sent)
        return n

    def _translated(self, payload: bytes, push: Publish | None, subs_t: dict[str, Any]) -> None:
        """A frame of a broker dialect: its codec's messages, folded and served as psx."""
        held = self._held
        held.clear()
        assert self._codec is not None
        self._codec.feed(payload)
        for msg in held:
            key = self.cache.apply(msg)
            if not key or push is None:
                continue
            t = msg["t"]
            self.sent += 1
            push(KIND_OF[t], key, json_frame(msg))
            if (t == "df" or t == "dk") and key not in self.cache.touch and subs_t.get(key):
                line = touchline_of(msg)
                line["t"] = "tk" if t == "dk" else "tf"
                push("t", key, json_frame(line))


class ReplayServer(ProtocolServer):
    """``async with ReplayServer(recording, config) as server:`` serves until the block ends."""

    def __init__(self, recording: Recording, config: ServerConfig, **options: object) -> None:
        self.replay = ReplayBackend(recording, **options)  # type: ignore[arg-type]
        super().__init__(config, self.replay)
        self.replay.server = self

    def describe(self) -> str:
        """What is served, for the terminal: endpoints and the recording, never a token."""
        rec, backend = self.replay.recording, self.replay
        first, files = rec.files[0], len(rec.files)
        speed = (
            "as fast as possible" if backend.clock.speed == 0 else f"at {backend.clock.speed:g}x"
        )
        lines = [
            f"marketdesk replay: {first.path.name}"
            + (f" (+{files - 1} files)" if files > 1 else "")
            + f", recorded from {first.header.endpoint} ({rec.header.level or '?'})",
            f"  from {clock_text(backend.position_ns)} {speed}; starts when a scrip is subscribed",
        ]
        lines += [f"  {level}  {self.endpoint(level)}" for level in PATHS]
        return "\n".join(lines)
