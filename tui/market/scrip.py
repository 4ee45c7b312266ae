"""One scrip's touchline and depth: messages queued on the hot path, typed on demand.

The contract (docs/PROTOCOL.md, docs/BAD_INPUT.md):
- ``tk``/``dk`` replace the state; ``tf``/``df`` merge field by field; absent = unchanged.
- A bad value (wrong type, not a number, absurd, overlong) never replaces a good one: the
  state holds the last good value received for every field, whenever reads happen, and the
  good fields of a message with a bad one are merged.  A snapshot that brings a field
  bad keeps that field's last good value too.
- The hot path only conflates wire text (one ``dict.update`` into ``delta``) and keeps the
  frame the message came in (one ``list.append`` to ``pending``: the frame is already
  allocated, while keeping the decoded dicts alive cost the merge twice its time); :meth:`Scrip.materialize` converts the
  fields whose text changed when the scrip is read (drawn, printed, swept), and only for a
  field whose newest text is bad looks back through ``pending`` for the last good text
  received before it.  A scrip nobody reads is folded when :data:`FOLD_AT` messages are
  pending, so memory is bounded by scrips, not by time, and the conversion work by what is
  read plus one conversion per changed field every ``FOLD_AT`` messages.
- Each bad value the fold meets is counted (``bad-number`` for text that is not a number,
  ``bad-value`` for a wrong type or overlong text) with its field named.  A bad value that
  a newer value of its field replaced before any read is never looked at, so not counted.
- Field names the scrip does not know are kept as text, at most :data:`EXTRA_FIELDS` of
  them; more are counted as ``unknown-field`` and dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import msgspec

from tui.wire.fields import INT, KIND, LEVELS, PERCENT, PRICE, SKIP, TEXT
from tui.wire.frames import BAD_NUMBER, BAD_VALUE, UNKNOWN_FIELD, DecodeErrors
from tui.wire.prices import DEFAULT_PRECISION, MAX_DECIMALS, format_units, to_int, to_units

_NOTHING: Final = object()
#: no texts to fall back on (never written to)
_NO_TEXTS: Final[dict[str, Any]] = {}
#: Converted prices by wire text, one table per precision: prices repeat (a tick grid, a
#: few levels), so most conversions are one look-up.  Cleared when full, never stale.
_PRICE_CACHE: Final[list[dict[str, int]]] = [{} for _ in range(MAX_DECIMALS + 1)]
_PRICE_CACHE_SIZE: Final = 8192
#: converted percent changes by wire text (two decimals, signed): the same, for ``pc``
_PERCENT_CACHE: Final[dict[str, int]] = {}
#: pending messages that make the hot path fold a scrip nobody reads
FOLD_AT: Final = 256
#: field names a scrip keeps that it does not know (a feed's own extras, a bench's stamp)
EXTRA_FIELDS: Final = 16
#: longest text kept for a text field (a symbol, a time, an unknown field)
MAX_TEXT: Final = 256
_UNKNOWN: Final = -1


@dataclass(frozen=True, slots=True)
class Level:
    """One depth level; ``price == 0`` is an empty level."""

    price: int
    qty: int
    orders: int

    @property
    def empty(self) -> bool:
        return self.price == 0 and self.qty == 0


EMPTY_LEVEL: Final = Level(0, 0, 0)


class Scrip:
    """State of one ``EXCH|TOKEN``.

    ``delta`` holds the newest wire text of each field received since the last read and
    ``pending`` the messages themselves (both filled on the hot path); ``raw`` the last good
    wire text of every field, ``values`` its typed value.  Read through :meth:`materialize`
    (or ``Market.view``), never through ``raw`` directly.
    """

    __slots__ = (
        "delta", "extras", "generation", "key", "pending", "pp", "raw", "replacing", "values",
    )  # fmt: skip

    def __init__(self, key: str) -> None:
        self.key = key
        #: the last good wire text of every field, as converted into ``values``
        self.raw: dict[str, Any] = {}
        #: the newest wire text of each field received since the last materialize (bad too)
        self.delta: dict[str, Any] = {}
        #: what was received since the last materialize, oldest first: each message's frame
        #: (bytes or text, decoded again only to look back) or the message itself
        self.pending: list[Any] = []
        #: typed values of the fields that converted (prices in units of 10^-pp)
        self.values: dict[str, int | str] = {}
        self.pp = DEFAULT_PRECISION
        #: bumped on every snapshot (tk/dk)
        self.generation = 0
        #: the first pending message is a snapshot: the next fold starts the state afresh
        self.replacing = False
        #: field names kept that the scrip does not know
        self.extras = 0

    # -- hot path ------------------------------------------------------------------------
    def replace(
        self, msg: dict[str, Any], errors: DecodeErrors | None = None, frame: object = None
    ) -> None:
        """A snapshot: what was pending is folded first, so that a field the snapshot brings
        bad keeps the last good value received before it."""
        if self.delta:
            self.materialize(errors)
        self.delta = dict(msg)
        self.pending = [msg if frame is None else frame]
        self.replacing = True
        self.generation += 1

    def merge(self, msg: dict[str, Any], frame: object = None) -> None:
        """A delta (what ``Market.apply`` does inline); ``frame``: the frame it came in."""
        self.delta.update(msg)
        self.pending.append(msg if frame is None else frame)

    # -- at draw time --------------------------------------------------------------------
    def materialize(self, errors: DecodeErrors | None = None) -> bool:
        """Fold the pending messages into the state; True if a field's text moved (a
        redraw is due).  Four steps: take them; start
        afresh if a snapshot came (:meth:`_start_afresh`); take a new precision first, since
        every price reads at it (:meth:`_take_precision`); convert each field whose text
        changed, looking back for the last good text of a field whose newest is bad
        (:meth:`_convert_fields`)."""
        merged = self.delta
        if not merged:
            return False
        pending = self.pending
        self.delta, self.pending = {}, []
        afresh = self.replacing
        before = self._start_afresh(pending) if afresh else _NO_TEXTS
        rescaled = False
        if "pp" in merged:
            merged, before, rescaled = self._take_precision(merged, pending, before, errors)
        return self._convert_fields(merged, pending, before, errors) or afresh or rescaled

    def _start_afresh(self, pending: list[Any]) -> dict[str, Any]:
        """The first pending message is a snapshot: the state starts from nothing.  Returns
        the good texts a field the snapshot brings bad falls back on; a field it does not
        bring is gone, whatever comes bad after it."""
        self.replacing = False
        snapshot = _message(pending[0])
        before = {name: text for name, text in self.raw.items() if name in snapshot}
        self.raw, self.values, self.pp, self.extras = {}, {}, DEFAULT_PRECISION, 0
        return before

    def _take_precision(
        self,
        merged: dict[str, Any],
        pending: list[Any],
        before: dict[str, Any],
        errors: DecodeErrors | None,
    ) -> tuple[dict[str, Any], dict[str, Any], bool]:
        """A ``pp`` among the pending texts: the last good one.  A new scale reads every
        value again (none is kept from the old one): returns the texts to convert, the
        ones to fall back on, and whether the scale is new."""
        raw, values = self.raw, self.values
        pp_text = merged["pp"]
        if raw.get("pp", _NOTHING) == pp_text and "pp" in values:
            return merged, before, False
        pp = _precision(pp_text)
        if pp is None:
            pp, pp_text = self._last_good(pending, "pp", INT, pp_text, before, errors, _precision)
            if pp is None:
                return merged, before, False
        if pp == self.pp and "pp" in values:
            raw["pp"] = pp_text
            return merged, before, False
        if raw:  # (a snapshot started from nothing: nothing to read again)
            merged, before = {**raw, **merged}, raw
        self.raw, self.values, self.pp, self.extras = {"pp": pp_text}, {"pp": pp}, pp, 0
        return merged, before, True

    def _convert_fields(
        self,
        merged: dict[str, Any],
        pending: list[Any],
        before: dict[str, Any],
        errors: DecodeErrors | None,
    ) -> bool:
        """Each field whose text changed, converted into ``values`` (its text into ``raw``);
        a bad newest text falls back on the last good one (:meth:`_last_good`).  True if a
        field's text moved.  The hot
        loop of every read: the usual shapes (a price in the cache, a plain whole number)
        are inlined, everything else goes through :func:`_convert`."""
        raw, values, pp = self.raw, self.values, self.pp
        units_of = _PRICE_CACHE[pp]
        changed = False
        value: int | str | None
        for name, text in merged.items():
            if raw.get(name, _NOTHING) == text:
                continue
            kind = KIND.get(name, _UNKNOWN)
            if kind == PRICE and type(text) is str:
                value = units_of.get(text)
                if value is None:
                    value = _price(text, pp, units_of)
            elif (
                kind == INT
                and type(text) is str
                and text.isdigit()
                and len(text) < 16
                and text.isascii()
            ):
                value = int(text)
            elif kind == SKIP:
                continue
            elif kind == TEXT and type(text) is str and len(text) <= MAX_TEXT:
                value = text
            elif kind == PERCENT and type(text) is str:
                value = _PERCENT_CACHE.get(text)
                if value is None:
                    value = _percent(text)
            else:  # a field of no known kind, any value that is not text
                value = _convert(kind, text, pp)
            if value is None:
                value, text = self._last_good(pending, name, kind, text, before, errors)
                if value is None:
                    continue
            if kind == _UNKNOWN and name not in raw and not self._admit(name, errors):
                continue
            raw[name] = text
            values[name] = value
            changed = True  # its text moved (the same value in another text: rare)
        return changed

    def _admit(self, name: str, errors: DecodeErrors | None) -> bool:
        """A field name of no known kind is kept, up to :data:`EXTRA_FIELDS` of them."""
        if self.extras >= EXTRA_FIELDS:
            if errors is not None:
                errors.add(UNKNOWN_FIELD, f"{self.key} {name[:40]}")
            return False
        self.extras += 1
        return True

    def _last_good(
        self,
        pending: list[Any],
        name: str,
        kind: int,
        newest: object,
        before: dict[str, Any],
        errors: DecodeErrors | None,
        convert: Any = None,
    ) -> tuple[Any, object]:
        """``name``'s newest text is bad: count it, and find the last good text received
        before it (in the pending messages, then in ``before``).  (value, text) or (None, _)."""
        pp = self.pp
        judge = convert if convert is not None else (lambda text: _convert(kind, text, pp))
        self._bad(errors, name, newest)
        for i, item in enumerate(pending):  # frames decoded once a fold, in place
            if type(item) is not dict:
                pending[i] = _message(item)
        skipped = False  # the newest occurrence is the one just judged
        for msg in reversed(pending):
            text = msg.get(name, _NOTHING)
            if text is _NOTHING:
                continue
            if not skipped:
                skipped = True
                continue
            if text == self.raw.get(name, _NOTHING):
                return None, text  # the good text already in the state: nothing to change
            value = judge(text)
            if value is not None:
                return value, text
            self._bad(errors, name, text)
        text = before.get(name, _NOTHING)
        if text is not _NOTHING:
            value = judge(text)
            if value is not None:
                return value, text
        return None, newest

    def _bad(self, errors: DecodeErrors | None, name: str, text: object) -> None:
        if errors is not None:
            numeric = KIND.get(name, _UNKNOWN) in (PRICE, INT, PERCENT) or name == "pp"
            kind = BAD_NUMBER if numeric and type(text) is str else BAD_VALUE
            errors.add(kind, f"{self.key} {name[:40]}={_short(text)}", name[:40])

    # -- typed reads (after materialize) -------------------------------------------------
    def get(self, name: str) -> int | None:
        value = self.values.get(name)
        return value if type(value) is int else None

    def text(self, name: str) -> str:
        value = self.values.get(name)
        return value if type(value) is str else ""

    def price_text(self, name: str) -> str:
        return format_units(self.get(name), self.pp)

    def level(self, side: str, i: int) -> Level:
        """Level ``i`` (1..5) of side ``"b"`` or ``"s"``; empty if unknown or emptied."""
        price = self.get(f"{side}p{i}")
        qty = self.get(f"{side}q{i}")
        if not price or not qty:
            return EMPTY_LEVEL
        return Level(price, qty, self.get(f"{side}o{i}") or 0)

    def bids(self) -> list[Level]:
        return [lv for lv in (self.level("b", i) for i in range(1, LEVELS + 1)) if not lv.empty]

    def asks(self) -> list[Level]:
        return [lv for lv in (self.level("s", i) for i in range(1, LEVELS + 1)) if not lv.empty]

    @property
    def symbol(self) -> str:
        return self.text("ts") or self.key.partition("|")[2]


_decode = msgspec.json.Decoder(float_hook=str).decode


def _message(item: object) -> dict[str, Any]:
    """A pending message: kept as is, or as the frame it came in (decoded again)."""
    if type(item) is dict:
        return item
    try:
        msg = _decode(item)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - it decoded once; never raise on the read path
        return {}
    return msg if type(msg) is dict else {}


def _price(text: str, pp: int, units_of: dict[str, int]) -> int | None:
    """A price text the cache does not hold: converted, and kept if good."""
    value = to_units(text, pp)
    if value is not None:
        if len(units_of) >= _PRICE_CACHE_SIZE:
            units_of.clear()
        units_of[text] = value
    return value


def _percent(text: str) -> int | None:
    """A percent text the cache does not hold: converted, and kept if good."""
    value = to_units(text, 2, signed=True)
    if value is not None:
        if len(_PERCENT_CACHE) >= _PRICE_CACHE_SIZE:
            _PERCENT_CACHE.clear()
        _PERCENT_CACHE[text] = value
    return value


def _convert(kind: int, text: object, pp: int) -> int | str | None:
    """One wire value as its typed value; None if it is not a good one for its kind."""
    if kind == PRICE:
        return to_units(text, pp)
    if kind == INT:
        return to_int(text)
    if kind == PERCENT:
        return to_units(text, 2, signed=True)
    # text (known or not): a string of sensible length
    return text if type(text) is str and len(text) <= MAX_TEXT else None


def _precision(text: object) -> int | None:
    pp = to_int(text)
    return pp if pp is not None and pp <= MAX_DECIMALS else None


def _short(text: object) -> str:
    if type(text) is str:
        return repr(text[:40] + "…") if len(text) > 40 else repr(text)
    return f"<{type(text).__name__}>" if isinstance(text, list | dict) else repr(text)[:40]
