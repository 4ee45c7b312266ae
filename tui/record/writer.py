"""The recorder: the feed client's tap writes every frame into rotating recording files.

:meth:`Recorder.received` is on the client's hot path: it stamps the frame with
``time.time_ns()`` and appends it to a buffer, nothing more.  The buffer becomes one
compressed block (one zstd frame) at least once a second (a timer, and the next frame
past the deadline), so a crash or a full disk loses at most the last second and every
block written before stays readable.

Files rotate when they pass ``max_bytes`` and at the top of every UTC hour; each new file
starts with a header naming the subscriptions in force and, when a ``snapshot`` provider
is given, ``SNAPSHOT`` records of the state then, so a file replays on its own.

A write that fails (disk full, I/O error) never reaches the feed: the file is cut back to
its last whole block, the error is counted and reported once (``on_error``), what is
buffered is dropped (counted), and the recorder tries a new file ``retry_after`` seconds
later.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import zlib
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Final

import zstandard

from tui.record import format as fmt

log = logging.getLogger("marketdesk.record")

NS: Final = 1_000_000_000
HOUR_NS: Final = 3600 * NS
#: rotate a file past this many bytes (compressed)
MAX_BYTES: Final = 256 * 1024 * 1024
#: a block is written at least this often (seconds): the most a crash can lose
FLUSH_EVERY: Final = 1.0
#: or as soon as this many bytes are buffered (a burst)
FLUSH_BYTES: Final = 4 * 1024 * 1024
#: zstd level: level 1 compresses ~5x at >100 MB/s (docs/PERF_NOTES.md, bench/record.py)
LEVEL: Final = 1
RETRY_AFTER: Final = 10.0
REDACTED: Final = b"<redacted>"

Opener = Callable[[Path], BinaryIO]


def _open_new(path: Path) -> BinaryIO:
    return open(path, "xb")  # kept open for the file's life; "x": never overwrites


def file_name(ns: int, part: int) -> str:
    """``marketdesk-20261128T171500Z-001.mdrec``: sorts by time, then part."""
    stamp = datetime.fromtimestamp(ns / NS, UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"marketdesk-{stamp}-{part:03d}{fmt.SUFFIX}"


class Recorder:
    """Records one feed session into ``directory`` (created if missing).

    ``header`` gives the fields of every file's header (``program``, ``endpoint``, already
    redacted, ``dialect``, ``level``, ``auth``, ``subscriptions``); ``started_ns`` and
    ``part`` are filled in per file.  Call :meth:`start` inside the event loop (the
    once-a-second flush), :meth:`close` at the end.
    """

    def __init__(
        self,
        directory: Path | str,
        header: fmt.Header,
        *,
        max_bytes: int = MAX_BYTES,
        hourly: bool = True,
        flush_every: float = FLUSH_EVERY,
        level: int = LEVEL,
        clock_ns: Callable[[], int] = time.time_ns,
        opener: Opener = _open_new,
        snapshot: Callable[[], Iterable[bytes]] | None = None,
        on_error: Callable[[str], None] | None = None,
        retry_after: float = RETRY_AFTER,
        secrets: tuple[str, ...] = (),
    ) -> None:
        self.directory = Path(directory)
        self.template = header
        self.max_bytes, self.hourly = max_bytes, hourly
        self.flush_ns = int(flush_every * NS)
        self.clock_ns, self.opener, self.snapshot = clock_ns, opener, snapshot
        self.on_error, self.retry_ns = on_error, int(retry_after * NS)
        #: scrubbed from every received frame and request (a feed that echoes a token)
        self._secrets = tuple(s.encode() for s in dict.fromkeys(secrets) if s)
        self._compress = zstandard.ZstdCompressor(level=level).compress
        self._buf = bytearray()
        self._count = 0
        self._first = self._last = 0
        self._deadline = 0  # ns by which the buffer must be written (0: empty)
        self._file: BinaryIO | None = None
        self._path: Path | None = None
        self._size = 0  # bytes of whole blocks in the current file
        self._rotate_at = 0
        self._part = 0
        self._failed_until = 0  # after a write error: no file until then
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False
        self.subscriptions: dict[str, set[str]] = {
            kind: set(keys) for kind, keys in header.subscriptions.items()
        }
        self.files: list[Path] = []
        self.records = 0  # written in whole blocks
        self.blocks = 0
        self.bytes_written = 0
        self.errors = 0
        self.dropped = 0  # records lost to write errors
        self.last_error = ""

    # -- the tap (tui.feed.client calls these) ----------------------------------------------
    def received(self, frame: bytes) -> None:
        """A frame as received (the hot path)."""
        for secret in self._secrets:
            if secret in frame:
                frame = frame.replace(secret, REDACTED)
        self._add(fmt.RECEIVED, frame)

    def sent(self, payload: bytes | str) -> None:
        """A request as sent; the caller removed any secret (the connect message's token)."""
        data = payload.encode() if isinstance(payload, str) else payload
        for secret in self._secrets:
            data = data.replace(secret, REDACTED)
        self._track(data)
        self._add(fmt.SENT, data)

    def opened(self, endpoint: str, level: str = "") -> None:
        if self._timer is None and not self._closed:
            self._schedule()  # the first connection: inside the loop, so the timer can run
        self._add(fmt.OPENED, fmt.event(endpoint=endpoint, level=level))

    def acknowledged(self) -> None:
        self._add(fmt.ACKNOWLEDGED, b"{}")

    def closed(self, code: int | None, reason: str) -> None:
        self._add(fmt.CLOSED, fmt.event(code=code, reason=reason))

    def _add(self, kind: int, payload: bytes) -> None:
        ns = self.clock_ns()
        buf = self._buf
        # the block is written before this record joins the buffer: every record in it
        # has been applied by the client by now, so a rotation's snapshot matches the file
        if self._count and (ns >= self._deadline or len(buf) >= FLUSH_BYTES):
            self.flush()
        if ns >= self._rotate_at and self.hourly and self._file is not None:
            self.flush()  # the hour turned: what came before it stays in the old file
            self._rotate()
        buf += fmt.RECORD.pack(kind, ns, len(payload))
        buf += payload
        if not self._count:
            self._first, self._deadline = ns, ns + self.flush_ns
        self._count += 1
        self._last = ns

    def _track(self, data: bytes) -> None:
        """Keep the subscriptions in force (for the header of the next file)."""
        try:
            msg = json.loads(data)
            t, k = msg.get("t"), msg.get("k")
        except (ValueError, AttributeError):
            return
        if not isinstance(k, str):
            return
        keys = [key for key in k.split("#") if key]
        if t in ("t", "d", "l"):
            self.subscriptions.setdefault(t, set()).update(keys)
        elif t in ("u", "ud", "ul"):
            self.subscriptions.get(t[-1] if t != "u" else "t", set()).difference_update(keys)

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """Open the first file now (an unwritable directory fails loudly here, once) and
        flush once a second from the running loop."""
        self._ensure_file(self.clock_ns(), strict=True)
        self._schedule()

    def _schedule(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop: the hot path's deadline check and close() flush
        self._timer = loop.call_later(self.flush_ns / NS / 2, self._tick)

    def _tick(self) -> None:
        if self._closed:
            return
        if self._count and self.clock_ns() >= self._deadline - self.flush_ns // 2:
            self.flush()
        elif self._file is not None and self.hourly and self.clock_ns() >= self._rotate_at:
            self._rotate()
        self._schedule()

    def close(self) -> None:
        """Write what is buffered and close the file (fsync'd).  Idempotent."""
        if self._closed:
            return
        if self._count:
            self.flush()
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
        self._close_file()
        log.info("recording closed: %d records in %d file(s)", self.records, len(self.files))

    @property
    def path(self) -> Path | None:
        """The file being written now."""
        return self._path

    # -- blocks and files ---------------------------------------------------------------------
    def flush(self) -> None:
        """Write the buffer as one block (nothing to do if it is empty)."""
        if not self._count or self._closed:
            return
        data, count, first, last = bytes(self._buf), self._count, self._first, self._last
        self._buf.clear()
        self._count = self._deadline = 0
        f = self._ensure_file(first)
        if f is None:
            self.dropped += count
            return
        body = self._compress(data)
        block = (
            fmt.BLOCK.pack(fmt.BLOCK_TAG, len(body), count, first, last, zlib.crc32(body)) + body
        )
        try:
            f.write(block)
            f.flush()  # to the OS: a crash of this process loses nothing written
        except OSError as exc:
            self.dropped += count
            self._failed(exc)
            return
        self._size += len(block)
        self.records += count
        self.blocks += 1
        self.bytes_written += len(block)
        if self._size >= self.max_bytes or (self.hourly and last >= self._rotate_at):
            self._rotate()

    def _ensure_file(self, ns: int, *, strict: bool = False) -> BinaryIO | None:
        """The open file, or a new one (None while failing); ``strict``: raise instead."""
        if self._file is not None:
            return self._file
        if self._failed_until and ns < self._failed_until:
            return None
        self._part += 1
        header = fmt.Header(**{**self.template.__dict__, "started_ns": ns, "part": self._part,
                               "subscriptions": self._subscription_lists()})  # fmt: skip
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / file_name(ns, self._part)
            f = self.opener(path)
        except OSError as exc:
            if strict:
                self._part -= 1
                raise
            self._failed(exc)
            return None
        self._file, self._path, self._size = f, path, 0
        self._rotate_at = (ns // HOUR_NS + 1) * HOUR_NS
        self.files.append(path)
        try:
            data = header.encode()
            f.write(data)
            self._size = len(data)
            snapshots = (
                list(self.snapshot()) if self.snapshot is not None and self._part > 1 else []
            )
            if snapshots:
                self._write_snapshots(f, snapshots, ns)
            f.flush()
        except OSError as exc:
            if strict:
                self._close_file()
                raise
            self._failed(exc)
            return None
        log.info("recording to %s", path)
        return f

    def _write_snapshots(self, f: BinaryIO, frames: list[bytes], ns: int) -> None:
        raw = bytearray()
        for frame in frames:
            raw += fmt.RECORD.pack(fmt.SNAPSHOT, ns, len(frame))
            raw += frame
        body = self._compress(bytes(raw))
        f.write(
            fmt.BLOCK.pack(fmt.BLOCK_TAG, len(body), len(frames), ns, ns, zlib.crc32(body)) + body
        )
        self._size += fmt.BLOCK.size + len(body)

    def _subscription_lists(self) -> dict[str, list[str]]:
        return {kind: sorted(keys) for kind, keys in self.subscriptions.items() if keys}

    def _rotate(self) -> None:
        """The next file now, starting with a snapshot of the state (if a provider was
        given): taken between two records, after everything in the closed file."""
        self._close_file()
        self._ensure_file(self.clock_ns())

    def _close_file(self) -> None:
        f, self._file = self._file, None
        if f is None:
            return
        try:
            f.flush()
            os.fsync(f.fileno())
        except (OSError, ValueError, AttributeError):
            pass  # a file object without a descriptor (tests), or the disk is gone
        finally:
            try:
                f.close()
            except OSError:
                pass

    def _failed(self, exc: OSError) -> None:
        """Cut the file back to its last whole block, count, report, retry later."""
        self.errors += 1
        self.last_error = f"{type(exc).__name__}: {exc.strerror or exc}"
        f = self._file
        if f is not None:
            try:
                f.truncate(self._size)
            except (OSError, ValueError):
                pass
            self._close_file()
        self._failed_until = self.clock_ns() + self.retry_ns
        log.error("recording: %s (retrying in %g s)", self.last_error, self.retry_ns / NS)
        if self.on_error is not None:
            try:
                self.on_error(f"recording failed: {self.last_error}")
            except Exception:  # a toast must not take the feed down
                log.exception("recording: on_error failed")


def feed_recorder(
    directory: Path | str,
    *,
    endpoint: str,
    level: str,
    auth: str,
    secrets: tuple[str, ...],
    subscriptions: dict[str, list[str]] | None = None,
    dialect: str = "psx",
    **options: object,
) -> Recorder:
    """A recorder for one feed client: the header from its (redacted) settings."""
    from tui import __version__

    header = fmt.Header(
        program=f"marketdesk {__version__}",
        endpoint=endpoint,
        started_ns=0,
        dialect=dialect,
        level=level,
        auth=auth,
        subscriptions=dict(subscriptions or {}),
    )
    return Recorder(directory, header, secrets=secrets, **options)  # type: ignore[arg-type]
