"""Reading frames: one raw frame to a dict message, or a count of why it could not be.

``FrameReader.feed`` is the client's hot path; ``DecodeErrors`` keeps the counts by kind
and a few redacted samples for the health panel.  Nothing here raises on input.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable
from typing import Any, Final

import msgspec
from msgspec import Struct

from tui.wire.protocol import CONTROL_TYPES, MARKET_TAGS

NOT_JSON: Final = "not-json"
NOT_OBJECT: Final = "not-object"
UNKNOWN_TYPE: Final = "unknown-type"
MISSING_KEY: Final = "missing-key"
BAD_NUMBER: Final = "bad-number"
BAD_MESSAGE: Final = "bad-message"
ERROR_KINDS: Final = (NOT_JSON, NOT_OBJECT, UNKNOWN_TYPE, MISSING_KEY, BAD_NUMBER, BAD_MESSAGE)


class DecodeErrors:
    """Bad frames counted by kind, with the last few kept (truncated) for the health pane."""

    SAMPLE_CHARS: Final = 160

    def __init__(self, keep: int = 8, redact: tuple[str, ...] = ()) -> None:
        self.by_kind: Counter[str] = Counter()
        self.samples: deque[tuple[str, str]] = deque(maxlen=keep)
        self._redact = tuple(s for s in redact if s)

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())

    def add_secret(self, *secrets: str) -> None:
        """Redact these from every sample kept from now on (empty strings are ignored)."""
        self._redact = tuple(dict.fromkeys(self._redact + tuple(s for s in secrets if s)))

    def add(self, kind: str, sample: object = "") -> None:
        self.by_kind[kind] += 1
        if isinstance(sample, bytes | bytearray):
            text = bytes(sample).decode("utf-8", "replace")
        else:
            text = sample if isinstance(sample, str) else repr(sample)
        for secret in self._redact:
            text = text.replace(secret, "<redacted>")
        if len(text) > self.SAMPLE_CHARS:
            text = text[: self.SAMPLE_CHARS] + "…"
        self.samples.append((kind, text))

    def as_dict(self) -> dict[str, int]:
        return dict(self.by_kind)


def _refuse_market(msg: dict[str, Any]) -> None:
    raise TypeError("FrameReader.feed needs a sink for market messages")


class FrameReader:
    """Turns raw frames into dict messages, or counts why it could not.

    :meth:`feed` is the hot path: market messages go straight to ``sink`` (normally
    ``Market.apply``, which checks the ``e``/``tk`` key) and only control messages come
    back.  :meth:`read` returns every good message (tests, tools, the simulator).
    Numbers that arrive as JSON numbers keep their exact text (``float_hook=str``): a
    price is never a float, even from a feed that does not quote its values.
    """

    def __init__(
        self, errors: DecodeErrors, sink: Callable[[dict[str, Any]], None] | None = None
    ) -> None:
        self.errors = errors
        self._decode = msgspec.json.Decoder(float_hook=str).decode
        #: the hot path; a closure so that a frame costs no attribute look-ups
        self.feed: Callable[[str | bytes], dict[str, Any] | None] = self._feed(sink)
        self._held: list[dict[str, Any]] = []
        self._read = self._feed(self._held.append)  # read(): market messages held, not sunk

    def _feed(
        self, sink: Callable[[dict[str, Any]], None] | None
    ) -> Callable[[str | bytes], dict[str, Any] | None]:
        decode, add, market, control = self._decode, self.errors.add, MARKET_TAGS, CONTROL_TYPES
        deliver = sink if sink is not None else _refuse_market

        def feed(frame: str | bytes) -> dict[str, Any] | None:
            """Market messages to the sink; a control message is returned; None otherwise."""
            try:
                msg = decode(frame)
            except (msgspec.DecodeError, UnicodeDecodeError, TypeError):
                add(NOT_JSON, frame[:200])
                return None
            if type(msg) is dict:
                t = msg.get("t")
                if t in market:
                    deliver(msg)
                    return None
                if t in control:
                    return msg
                add(UNKNOWN_TYPE, frame[:200])
            else:
                add(NOT_OBJECT, frame[:200])
            return None

        return feed

    def read(self, frame: str | bytes) -> dict[str, Any] | None:
        """Every good message, market or control; the same checks as :meth:`feed`, plus the
        ``e``/``tk`` key that ``Market.apply`` would check on the hot path."""
        held = self._held
        held.clear()
        control = self._read(frame)
        if not held:
            return control
        msg = held[0]
        if type(msg.get("e")) is not str or type(msg.get("tk")) is not str:
            self.errors.add(MISSING_KEY, frame[:200])
            return None
        return msg

    def control(self, msg: dict[str, Any]) -> Struct | None:
        """Validate a control message against its Struct (rare, so cost does not matter)."""
        try:
            return msgspec.convert(msg, CONTROL_TYPES[msg["t"]])
        except (msgspec.ValidationError, KeyError):
            self.errors.add(BAD_MESSAGE, repr(msg)[:200])
            return None
