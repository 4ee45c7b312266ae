"""The recording file format, version 1 (docs/RECORDING.md).

A recording is the raw stream of one feed session: every frame as received, what the
client sent (secrets removed) and the connection's events, each stamped with its receive
time in nanoseconds since the epoch.  On disk::

    file    := MAGIC version:u16 header_len:u32 header:JSON header_crc:u32 block*
    block   := BLOCK_TAG size:u32 count:u32 first_ns:i64 last_ns:i64 crc:u32 data
    data    := one zstd frame (``size`` bytes, CRC-32 ``crc``) of ``count`` records
    record  := kind:u8 ns:i64 length:u32 payload

Integers are little-endian.  The header is plain JSON (read it with ``head -c``): format,
program, dialect, endpoint (redacted), level, auth mode, subscriptions, start time.  A block
is written at least once a second, so a crash loses at most the last second; the CRC of
each block and the sizes let a reader stop exactly at a torn or damaged block and say
where.  A reader refuses a format version newer than :data:`VERSION`.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import asdict, dataclass, field
from typing import Any, Final

#: 8 bytes, as PNG does: a text-mode transfer or a truncated start is seen at once
MAGIC: Final = b"MDREC\r\n\x1a"
VERSION: Final = 1
SUFFIX: Final = ".mdrec"
BLOCK_TAG: Final = b"MDBK"

#: record kinds
RECEIVED: Final = 1  # a frame as received (payload: the frame's bytes)
SENT: Final = 2  # a request the client sent (payload: its JSON, secrets removed)
OPENED: Final = 3  # the socket opened (payload: JSON {"endpoint", "level"})
ACKNOWLEDGED: Final = 4  # the session went live (payload: JSON {})
CLOSED: Final = 5  # the session ended (payload: JSON {"code", "reason"})
SNAPSHOT: Final = 6  # a frame synthesised from state at a file's start (as if received)
KINDS: Final = {RECEIVED: "received", SENT: "sent", OPENED: "opened",
                ACKNOWLEDGED: "acknowledged", CLOSED: "closed", SNAPSHOT: "snapshot"}  # fmt: skip

PREFIX: Final = struct.Struct("<8sHI")  # magic, version, header length
CRC: Final = struct.Struct("<I")
BLOCK: Final = struct.Struct("<4sIIqqI")  # tag, size, count, first ns, last ns, crc
RECORD: Final = struct.Struct("<BqI")  # kind, ns, payload length
#: a header or a block larger than this is damage, not data
MAX_HEADER: Final = 1 << 20
MAX_BLOCK: Final = 1 << 28


class FormatError(Exception):
    """A file that is not a recording this program can read (one line: say it as is)."""


@dataclass
class Header:
    """What a file says about itself.  ``endpoint`` is always redacted."""

    program: str
    endpoint: str
    started_ns: int
    dialect: str = "psx"
    level: str = ""
    auth: str = ""
    #: kind ("t" touchline, "d" depth, "l" order level) -> keys, as subscribed at the start
    subscriptions: dict[str, list[str]] = field(default_factory=dict)
    #: 1 for the first file of a recorder, then 2, 3... after each rotation
    part: int = 1
    format: int = VERSION

    def encode(self) -> bytes:
        body = json.dumps(asdict(self), ensure_ascii=False, sort_keys=True).encode()
        return PREFIX.pack(MAGIC, self.format, len(body)) + body + CRC.pack(zlib.crc32(body))

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Header:
        subs = doc.get("subscriptions") or {}
        return cls(
            program=str(doc.get("program", "")),
            endpoint=str(doc.get("endpoint", "")),
            started_ns=int(doc.get("started_ns", 0)),
            dialect=str(doc.get("dialect", "psx")),
            level=str(doc.get("level", "")),
            auth=str(doc.get("auth", "")),
            subscriptions={str(k): [str(x) for x in v] for k, v in dict(subs).items()},
            part=int(doc.get("part", 1)),
            format=int(doc.get("format", VERSION)),
        )


def decode_header(data: bytes) -> tuple[Header, int]:
    """The header at the start of ``data`` and where the first block starts.

    Raises :class:`FormatError` with a one-line reason: not a recording, a newer format,
    a torn or damaged header."""
    if len(data) < PREFIX.size:
        if MAGIC.startswith(data[: len(MAGIC)]):
            raise FormatError("truncated before its header ended (no frame recorded)")
        raise FormatError("not a marketdesk recording (no MDREC signature)")
    magic, version, size = PREFIX.unpack_from(data)
    if magic != MAGIC:
        raise FormatError("not a marketdesk recording (no MDREC signature)")
    if version > VERSION:
        raise FormatError(
            f"recording format {version} is newer than this marketdesk reads "
            f"(format {VERSION}): upgrade marketdesk to replay it"
        )
    if version < 1 or size > MAX_HEADER:
        raise FormatError(f"damaged header (format {version}, {size} bytes)")
    end = PREFIX.size + size
    if len(data) < end + CRC.size:
        raise FormatError("truncated before its header ended (no frame recorded)")
    body = data[PREFIX.size : end]
    (crc,) = CRC.unpack_from(data, end)
    if zlib.crc32(body) != crc:
        raise FormatError("damaged header (checksum mismatch)")
    try:
        doc = json.loads(body)
        if not isinstance(doc, dict):
            raise TypeError("not an object")
        return Header.from_json(doc), end + CRC.size
    except (ValueError, TypeError, AttributeError) as exc:
        raise FormatError(f"damaged header ({exc})") from None


def event(**fields: object) -> bytes:
    """The payload of an ``OPENED``/``ACKNOWLEDGED``/``CLOSED`` record."""
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()
