"""One client connection of the protocol server: its auth state, subscriptions and send queue.

Everything the server sends a connection goes through :meth:`Session.push` (market data)
or :meth:`Session.push_control` (acks, errors, heartbeats) into one ordered queue of
ready-made frames, written to the transport in one call per clock turn.  One queue keeps
the order the protocol needs (``dk`` before its ``df``; ``udk`` after the last ``df``).

When data cannot be delivered (the socket's buffer stays full, or a fault stalls the
connection) the session drops the market data it holds, keeps the control frames, and
marks itself for *resync*: it queues no data until its next write, which starts with
fresh snapshots of everything it subscribes, so the client's picture is never silently
wrong (a real feed does the same for a slow consumer).
"""

from __future__ import annotations

import asyncio
import os
import select
import socket
from typing import Any, Final

from websockets.asyncio.server import ServerConnection
from websockets.protocol import State

from tui.server.backend import KINDS
from tui.server.frames import Garbage

#: Above this many bytes waiting in the socket's buffer the session stops writing.
HIGH_WATER: Final = 4 * 1024 * 1024
#: Above this many queued frames while it cannot write, the session drops and resyncs.
MAX_QUEUED: Final = 200_000


def peer_gone(fd: int) -> bool:
    """The other end of the TCP socket ``fd`` closed or reset it (never blocks, reads
    nothing: what is buffered stays for the session)."""
    if hasattr(select, "POLLRDHUP"):  # Linux: the peer's FIN even with data still unread
        poller = select.poll()
        poller.register(fd, select.POLLRDHUP | select.POLLHUP | select.POLLERR)
        return bool(poller.poll(0))
    probe = socket.socket(fileno=os.dup(fd))  # elsewhere: a FIN shows once the data is read
    try:
        return probe.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        probe.close()


class Session:
    __slots__ = (
        "authed",
        "closing",
        "control",
        "garbage",
        "high_water",
        "level",
        "parts",
        "reading_paused",
        "resync",
        "sent",
        "serial",
        "stalled",
        "stream",
        "subs",
        "token",
        "transport",
        "uid",
        "write_budget",
        "ws",
    )

    def __init__(
        self, ws: ServerConnection, level: str, serial: int, garbage: Garbage | None
    ) -> None:
        self.ws = ws
        self.transport: asyncio.Transport = ws.transport
        self.level = level
        self.serial = serial
        self.token: str | None = None  # secret: never logged
        self.uid = ""
        self.authed = False
        self.closing = False
        self.subs: dict[str, set[str]] = {kind: set() for kind in KINDS}
        self.parts: list[bytes] = []
        self.control: list[bytes] = []
        self.resync = False
        self.stalled = False
        self.reading_paused = False
        self.garbage = garbage
        self.sent = 0  # frames written
        #: the socket's buffer above which the session stops writing (:meth:`writable`)
        self.high_water = HIGH_WATER
        #: the most bytes one :meth:`write` hands the socket (None: all that is queued);
        #: the rest stays queued, where it can still be merged, and the keepalive's
        #: pongs (written by websockets straight to the socket) wait behind less
        self.write_budget: int | None = None
        #: the backend's per-connection state (the relay's stream mode and backlog)
        self.stream: Any = None

    def __repr__(self) -> str:  # never shows the token
        return f"Session(#{self.serial} {self.level} uid={self.uid!r} authed={self.authed})"

    # -- queueing -------------------------------------------------------------------------
    def push(self, frame: bytes, key: str = "") -> None:
        """Queue a market-data frame (and, by the fault ratio, a garbage frame after it).

        Nothing is queued while a resync is pending: the snapshots it will send are
        taken when it is written, and a delta queued before them would not apply.
        """
        if self.resync:
            return
        self.parts.append(frame)
        garbage = self.garbage
        if garbage is not None and garbage.maybe():
            self.parts.append(garbage.frame(key or "NSE|26000"))

    def push_control(self, frame: bytes) -> None:
        """Queue a control frame: kept even when the data around it is dropped."""
        self.parts.append(frame)
        self.control.append(frame)

    def drop_data(self) -> None:
        """Forget the queued market data (keep control frames) and queue none until the
        next write, which starts with fresh snapshots (a resync)."""
        self.parts = list(self.control)
        self.resync = True

    @property
    def open(self) -> bool:
        return self.ws.protocol.state is State.OPEN and not self.transport.is_closing()

    def alive(self) -> bool:
        """Open, and the client has not gone away.  A stalled session reads nothing, so
        the event loop never sees the client's close: the socket itself is asked."""
        if not self.open:
            return False
        sock = self.transport.get_extra_info("socket")
        return sock is None or not peer_gone(sock.fileno())

    def writable(self) -> bool:
        """True if the socket can take more now (its buffer is below the high water)."""
        return self.transport.get_write_buffer_size() < self.high_water

    def write(self) -> None:
        """Write what is queued in one call, up to the write budget (the caller checked
        :meth:`writable`)."""
        parts = self.parts
        if not parts:
            return
        budget = self.write_budget
        if budget is not None and len(parts) > 1:
            size = n = 0
            for n, part in enumerate(parts, 1):
                size += len(part)
                if size >= budget:
                    break
            if n < len(parts):
                self.sent += n
                self.transport.write(b"".join(parts[:n]))
                del parts[:n]
                if self.control:  # control frames still queued stay listed
                    left = {id(part) for part in parts}
                    self.control = [c for c in self.control if id(c) in left]
                return
        self.sent += len(parts)
        self.transport.write(b"".join(parts))
        parts.clear()
        self.control.clear()

    # -- stalls ---------------------------------------------------------------------------
    def pause_reading(self) -> None:
        if not self.reading_paused and not self.transport.is_closing():
            self.transport.pause_reading()
            self.reading_paused = True

    def resume_reading(self) -> None:
        if self.reading_paused:
            self.reading_paused = False
            if not self.transport.is_closing():
                self.transport.resume_reading()
