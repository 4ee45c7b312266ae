"""Reading recordings: records in order, across files, up to any damage.

A recording that ends in a torn block (the writer was killed, the disk filled) or holds a
damaged one replays everything before it; :attr:`RecordingFile.damage` then says where it
stopped, in one line.  A file that is not a recording, of a newer format, or a path that
is not a file raises :class:`~tui.record.format.FormatError` with one line.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Final

import zstandard

from tui.record import format as fmt

#: (kind, receive time in ns since the epoch, payload)
Record = tuple[int, int, bytes]

_NS: Final = 1_000_000_000


def check_path(path: Path) -> None:
    """One line if ``path`` cannot be a recording to open (missing, a directory, ...)."""
    if not path.exists():
        raise fmt.FormatError(f"{path}: no such file")
    if path.is_dir():
        raise fmt.FormatError(f"{path}: is a directory (give its files, e.g. {path}/*{fmt.SUFFIX})")
    if not path.is_file():
        raise fmt.FormatError(f"{path}: not a regular file")


def clock_text(ns: int) -> str:
    """``17:10:03.512 UTC`` for a receive time."""
    return datetime.fromtimestamp(ns / _NS, UTC).strftime("%H:%M:%S.%f")[:-3] + " UTC"


class RecordingFile:
    """One file: its header (read on open) and its records (read on iteration)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        check_path(self.path)
        try:
            with self.path.open("rb") as f:
                head = f.read(fmt.PREFIX.size + fmt.MAX_HEADER + fmt.CRC.size)
        except OSError as exc:
            raise fmt.FormatError(f"{self.path}: {exc.strerror or exc}") from None
        try:
            self.header, self.data_start = fmt.decode_header(head)
        except fmt.FormatError as exc:
            raise fmt.FormatError(f"{self.path}: {exc}") from None
        #: where reading stopped early, in one line (None: the file was read to its end)
        self.damage: str | None = None
        self.records_read = 0
        self.last_ns = self.header.started_ns

    def __repr__(self) -> str:
        return f"RecordingFile({str(self.path)!r}, part={self.header.part})"

    def blocks(self) -> Iterator[tuple[int, int, int, bytes]]:
        """(offset, index, count, decompressed records) of each whole block, in order;
        stops at the first torn or damaged block and sets :attr:`damage`."""
        self.damage = None
        decompress = zstandard.ZstdDecompressor().decompress
        with self.path.open("rb") as f:
            f.seek(self.data_start)
            offset, index = self.data_start, 0
            while True:
                head = f.read(fmt.BLOCK.size)
                if not head:
                    return
                problem = ""
                if len(head) < fmt.BLOCK.size:
                    problem = "truncated (an incomplete block)"
                else:
                    tag, size, count, first, last, crc = fmt.BLOCK.unpack(head)
                    if tag != fmt.BLOCK_TAG or size > fmt.MAX_BLOCK or last < first:
                        problem = "damaged (not a block header)"
                    else:
                        body = _read(f, size)
                        if len(body) < size:
                            problem = "truncated (an incomplete block)"
                        elif zlib.crc32(body) != crc:
                            problem = "damaged (checksum mismatch)"
                        else:
                            try:
                                data = decompress(body)
                            except zstandard.ZstdError as exc:
                                problem = f"damaged ({exc})"
                if problem:
                    self._stopped(problem, offset, index)
                    return
                yield offset, index, count, data
                offset += fmt.BLOCK.size + size
                index += 1
                self.last_ns = last

    def _stopped(self, problem: str, offset: int, index: int) -> None:
        when = f"after {clock_text(self.last_ns)}" if index else "before the first block"
        self.damage = (
            f"{self.path}: {problem} at byte {offset} (block {index + 1}, {when}); "
            f"{self.records_read} records read before it"
        )

    def records(self) -> Iterator[Record]:
        """Every record in order, up to any damage (then :attr:`damage` says where)."""
        self.records_read = 0
        unpack = fmt.RECORD.unpack_from
        head = fmt.RECORD.size
        for offset, index, count, data in self.blocks():
            off, end = 0, len(data)
            out: list[Record] = []
            append = out.append
            while off < end:
                kind, ns, n = unpack(data, off)
                off += head
                append((kind, ns, data[off : off + n]))
                off += n
            if len(out) != count or off != end:
                self._stopped("damaged (its records do not add up)", offset, index)
                return
            self.records_read += count
            yield from out


def _read(f: BinaryIO, size: int) -> bytes:
    return f.read(size)


class Recording:
    """Several files replayed as one session, ordered by start time and part."""

    def __init__(self, paths: Iterable[Path | str]) -> None:
        files = [RecordingFile(p) for p in paths]
        if not files:
            raise fmt.FormatError("no recording given")
        self.files: Sequence[RecordingFile] = sorted(
            files, key=lambda f: (f.header.started_ns, f.header.part)
        )

    @property
    def header(self) -> fmt.Header:
        """The first file's header."""
        return self.files[0].header

    @property
    def damage(self) -> list[str]:
        return [f.damage for f in self.files if f.damage]

    def records(self) -> Iterator[Record]:
        for f in self.files:
            yield from f.records()

    def subscriptions(self, scan: int = 20_000) -> dict[str, list[str]]:
        """Kind -> keys subscribed, in first-seen order: every file's header, and the
        requests sent among the first ``scan`` records of each file (a client subscribes
        once its session is acknowledged, after the header was written)."""
        out: dict[str, dict[str, None]] = {}
        for f in self.files:
            for kind, keys in f.header.subscriptions.items():
                out.setdefault(kind, {}).update(dict.fromkeys(keys))
            for i, (record_kind, _ns, payload) in enumerate(f.records()):
                if i >= scan:
                    break
                if record_kind != fmt.SENT:
                    continue
                try:
                    msg = json.loads(payload)
                    t, k = msg.get("t"), msg.get("k")
                except (ValueError, AttributeError):
                    continue
                if t in ("t", "d", "l") and isinstance(k, str):
                    out.setdefault(t, {}).update(dict.fromkeys(x for x in k.split("#") if x))
        return {kind: list(keys) for kind, keys in out.items()}
