"""Subject names on the bus and the reversible escaping of scrip keys into them.

A NATS subject is dot-separated tokens; a token must not hold ``.``, ``*``, ``>`` or
whitespace, and tools treat other punctuation unevenly.  A scrip key ``EXCH|TOKEN`` becomes
two subject tokens in which ``A-Z a-z 0-9 -`` stand for themselves and every other byte
of the UTF-8 text (``_`` included) is written ``_XX`` (two upper-case hex digits), so
``NSE|M&M.EQ`` is ``NSE.M_26M_2EEQ`` and back again.  See docs/BUS.md.
"""

from __future__ import annotations

import re
from typing import Final

#: deltas of touchline/depth (``tk tf dk df``) and their full states (the last-value store)
L1_DELTAS: Final = "md"
L1_STATES: Final = "mds"
#: order level (``lk lo lt``)
L2_DELTAS: Final = "md2"
L2_STATES: Final = "md2s"
#: control: consumers' interest, snapshot requests, a publisher's hello and heartbeat
WANT: Final = "mdctl.want"
BYE: Final = "mdctl.bye"
SNAP: Final = "mdctl.snap"
HELLO: Final = "mdctl.hello"
STATUS: Final = "mdctl.status"
#: the JetStream stream that keeps the last full state of every scrip
STREAM: Final = "MD_STATE"
STREAM_SUBJECTS: Final = (L1_STATES + ".>", L2_STATES + ".>")

_PLAIN = re.compile(rb"[A-Za-z0-9-]")
_ESCAPED = re.compile(r"_([0-9A-F]{2})")


def escape(text: str) -> str:
    """One subject token for ``text`` (non-empty); reversible with :func:`unescape`."""
    if not text:
        raise ValueError("an empty exchange or token cannot be a subject token")
    out = []
    for byte in text.encode("utf-8"):
        b = bytes((byte,))
        out.append(chr(byte) if _PLAIN.fullmatch(b) else f"_{byte:02X}")
    return "".join(out)


def unescape(token: str) -> str:
    """The text a subject token stands for; ValueError if it is not one :func:`escape` made."""
    raw = bytearray()
    i = 0
    while i < len(token):
        ch = token[i]
        if ch == "_":
            m = _ESCAPED.match(token, i)
            if m is None:
                raise ValueError(f"not an escaped subject token: {token!r}")
            raw.append(int(m.group(1), 16))
            i += 3
        elif ch.isascii() and (ch.isalnum() or ch == "-"):
            raw.append(ord(ch))
            i += 1
        else:
            raise ValueError(f"not an escaped subject token: {token!r}")
    return raw.decode("utf-8")


def key_subject(prefix: str, key: str) -> str:
    """``md.NSE.22`` for prefix ``md`` and key ``NSE|22``."""
    exch, sep, token = key.partition("|")
    if not sep:
        raise ValueError(f"not an EXCH|TOKEN key: {key!r}")
    return f"{prefix}.{escape(exch)}.{escape(token)}"


def subject_key(subject: str) -> str:
    """The key of a per-scrip subject (``md.NSE.22`` -> ``NSE|22``)."""
    parts = subject.split(".")
    if len(parts) != 3:
        raise ValueError(f"not a per-scrip subject: {subject!r}")
    return unescape(parts[1]) + "|" + unescape(parts[2])
