"""Reading frames: one raw frame to a dict message, or a count of why it could not be.

``FrameReader.feed`` is the client's hot path; ``DecodeErrors`` keeps the counts by kind
and a few redacted samples for the health panel.  Nothing here raises on input.
"""

from __future__ import annotations

import reprlib
from collections import Counter, deque
from collections.abc import Callable, Container, Sequence
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
#: a value of the wrong JSON type for its field (a list, an object, true, null, overlong text)
BAD_VALUE: Final = "bad-value"
#: data for a scrip that was not subscribed: counted, not kept
UNSOLICITED: Final = "unsolicited"
#: a field name the market does not know, past the few it keeps per scrip
UNKNOWN_FIELD: Final = "unknown-field"
ERROR_KINDS: Final = (
    NOT_JSON, NOT_OBJECT, UNKNOWN_TYPE, MISSING_KEY, BAD_NUMBER, BAD_VALUE, BAD_MESSAGE,
    UNSOLICITED, UNKNOWN_FIELD,
)  # fmt: skip


_repr = reprlib.Repr()
_repr.maxlevel, _repr.maxstring, _repr.maxother = 3, 60, 60


def sample_text(sample: object) -> str:
    """Any value as a short text for a sample: never the whole of a huge or deep value."""
    if isinstance(sample, bytes | bytearray):
        return bytes(sample[:400]).decode("utf-8", "replace")
    if isinstance(sample, str):  # lone surrogates replaced: a sample is printed and shown
        return sample[:400].encode("utf-8", "replace").decode("utf-8")
    try:
        return _repr.repr(sample)
    except Exception:  # noqa: BLE001 - a sample must never raise
        return f"<{type(sample).__name__}>"


class DecodeErrors:
    """Bad input counted by kind (and, for a bad value, by the field it came in), with the
    last few kept (truncated, redacted) for the health pane."""

    SAMPLE_CHARS: Final = 160
    #: distinct field names counted in :attr:`by_field` (a hostile feed can invent any number)
    FIELDS_KEPT: Final = 64

    def __init__(self, keep: int = 8, redact: tuple[str, ...] = ()) -> None:
        self.by_kind: Counter[str] = Counter()
        #: bad values by the field they came in (``lp``, ``oid``...); the rest under ``…``
        self.by_field: Counter[str] = Counter()
        self.samples: deque[tuple[str, str]] = deque(maxlen=keep)
        self._redact = tuple(s for s in redact if s)

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())

    def add_secret(self, *secrets: str) -> None:
        """Redact these from every sample kept from now on (empty strings are ignored)."""
        self._redact = tuple(dict.fromkeys(self._redact + tuple(s for s in secrets if s)))

    def add(self, kind: str, sample: object = "", field: str | None = None) -> None:
        """Count one bad input of ``kind`` (in ``field``, for a bad value); keep a sample."""
        self.by_kind[kind] += 1
        if field is not None:
            by_field = self.by_field
            if field not in by_field and len(by_field) >= self.FIELDS_KEPT:
                field = "…"
            by_field[field] += 1
        text = sample_text(sample)
        for secret in self._redact:
            text = text.replace(secret, "<redacted>")
        if len(text) > self.SAMPLE_CHARS:
            text = text[: self.SAMPLE_CHARS] + "…"
        self.samples.append((kind, text))

    def as_dict(self) -> dict[str, int]:
        return dict(self.by_kind)


def _refuse_market(msg: dict[str, Any]) -> None:
    raise TypeError("FrameReader.feed needs a sink for market messages")


def feed_each(
    feed: Callable[[str | bytes], dict[str, Any] | None], errors: DecodeErrors
) -> Callable[[Sequence[str | bytes]], list[dict[str, Any]]]:
    """``feed_many`` for a reader or sink without a batch loop of its own: ``feed`` frame
    by frame, the control messages it returns in order.  A ``feed`` that raises (a
    dialect's reader; ``FrameReader.feed`` never does) costs that frame alone, counted as
    ``bad-message``."""

    def each(frames: Sequence[str | bytes]) -> list[dict[str, Any]]:
        out = []
        for frame in frames:
            try:
                msg = feed(frame)
            except Exception as exc:  # noqa: BLE001 - one bad message must not drop the feed
                errors.add(BAD_MESSAGE, f"{type(exc).__name__} on {frame[:120]!r}")
                continue
            if msg is not None:
                out.append(msg)
        return out

    return each


class FrameReader:
    """Turns raw frames into dict messages, or counts why it could not.

    :meth:`feed` is the hot path: market messages go straight to ``sink`` (normally
    ``Market.apply``, which checks the ``e``/``tk`` key) and only control messages come
    back (a sink with ``takes_frame`` set, as ``Market.apply``, gets the frame as well).
    :meth:`read` returns every good message (tests, tools, the simulator).
    Numbers that arrive as JSON numbers keep their exact text (``float_hook=str``): a
    price is never a float, even from a feed that does not quote its values.
    """

    def __init__(
        self,
        errors: DecodeErrors,
        sink: Callable[[dict[str, Any]], None] | None = None,
        control: Container[str] = CONTROL_TYPES,
    ) -> None:
        """``control``: the tags returned as control messages (a dialect adds its own)."""
        self.errors = errors
        self._control_tags = control
        self._decode = msgspec.json.Decoder(float_hook=str).decode
        #: the hot path; a closure so that a frame costs no attribute look-ups
        self.feed: Callable[[str | bytes], dict[str, Any] | None] = self._feed(sink)
        #: the same for the frames one socket read brought (see :meth:`_feed_many`)
        self.feed_many: Callable[[Sequence[str | bytes]], list[dict[str, Any]]] = self._feed_many(
            sink
        )
        self._held: list[dict[str, Any]] = []
        self._read = self._feed(self._held.append)  # read(): market messages held, not sunk

    def _feed(
        self, sink: Callable[[dict[str, Any]], None] | None
    ) -> Callable[[str | bytes], dict[str, Any] | None]:
        decode, add, market, control = (
            self._decode,
            self.errors.add,
            MARKET_TAGS,
            self._control_tags,
        )
        one: Callable[[dict[str, Any]], None] = sink if sink is not None else _refuse_market
        if getattr(sink, "takes_frame", False):
            # ``Market.apply(msg, frame)``: it keeps the frame (already allocated, cheap)
            # rather than the decoded dict, to look back if a newer value proves bad
            deliver: Callable[[dict[str, Any], str | bytes], None] = sink  # type: ignore[assignment]
        else:
            deliver = lambda msg, frame: one(msg)  # any one-argument sink

        def feed(frame: str | bytes) -> dict[str, Any] | None:
            """Market messages to the sink; a control message is returned; None otherwise.
            Never raises, whatever the frame."""
            try:
                msg = decode(frame)
            except Exception:  # noqa: BLE001 - malformed, not UTF-8, too deep, huge ints...
                add(NOT_JSON, frame[:200])
                return None
            if type(msg) is dict:
                t = msg.get("t")
                try:
                    is_market = t in market
                except TypeError:  # an unhashable "t": a list or an object
                    is_market, t = False, None
                if is_market:
                    deliver(msg, frame)
                    return None
                if t in control:
                    return msg
                add(UNKNOWN_TYPE, frame[:200])
            else:
                add(NOT_OBJECT, frame[:200])
            return None

        return feed

    def _feed_many(
        self, sink: Callable[[dict[str, Any]], None] | None
    ) -> Callable[[Sequence[str | bytes]], list[dict[str, Any]]]:
        """``feed`` for the frames of one socket read: the control messages among them, in
        order.  Each frame is decoded on its own and counted exactly as :meth:`feed` counts
        it (a bad frame never costs the good ones beside it).  A sink that carries a loop
        of its own (``frames``, as ``Market.apply`` does) runs the batch: it decodes each
        frame with this reader's decoder, merges the deltas inline and hands every other
        frame back to ``rest``, :meth:`feed`'s own classification.  One Python call a batch
        instead of two a message, and one loop, not a decode loop and a merge loop: 5.6%
        less CPU a message on the desk's workload (``bench/ingest.py``).  Any other sink
        gets the frames through :meth:`feed`, one by one.  Control messages come back after
        the batch's market messages are merged.

        Decoding the batch as one JSON array (``b"[" + b",".join(frames) + b"]"``) was
        measured and not taken: no faster here than a decode a frame (docs/BENCHMARKS.md),
        and two frames that are not JSON on their own can join into valid JSON (a string
        opened in one and closed in the next), which would merge what :meth:`feed` counts
        as ``not-json``."""
        loop: Callable[..., None] | None = getattr(sink, "frames", None)
        if loop is None or not getattr(sink, "takes_frame", False):
            return feed_each(self._feed(sink), self.errors)
        decode, add, market, control = (
            self._decode,
            self.errors.add,
            MARKET_TAGS,
            self._control_tags,
        )
        deliver: Callable[[dict[str, Any], str | bytes], None] = sink  # type: ignore[assignment]
        single = self._feed(sink)
        controls: list[dict[str, Any]] = []

        def rest(frame: str | bytes, msg: Any) -> None:
            """A frame the sink's loop did not merge: what :meth:`feed` does with it."""
            if msg is None:
                add(NOT_JSON, frame[:200])
            elif type(msg) is dict:
                t = msg.get("t")
                try:
                    is_market = t in market
                except TypeError:  # an unhashable "t": a list or an object
                    is_market, t = False, None
                if is_market:
                    deliver(msg, frame)
                elif t in control:
                    controls.append(msg)
                else:
                    add(UNKNOWN_TYPE, frame[:200])
            else:
                add(NOT_OBJECT, frame[:200])

        def feed_many(frames: Sequence[str | bytes]) -> list[dict[str, Any]]:
            """Never raises, whatever the frames."""
            if len(frames) == 1:  # a quiet feed: a read brings one frame
                msg = single(frames[0])
                return [] if msg is None else [msg]
            loop(frames, decode, rest)
            if not controls:
                return []
            out = controls[:]
            controls.clear()
            return out

        return feed_many

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
        except (msgspec.ValidationError, KeyError, TypeError):
            self.errors.add(BAD_MESSAGE, msg)
            return None
