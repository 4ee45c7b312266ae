"""One scrip's touchline and depth: wire strings merged on the hot path, typed on demand.

The contract (docs/PROTOCOL.md):
- ``tk``/``dk`` replace the state; ``tf``/``df`` merge field by field; absent = unchanged.
- The hot path only conflates wire text (one ``dict.update``); :meth:`Scrip.materialize`
  converts the fields whose text changed, when the scrip is read (drawn, printed, swept):
  bounded by what is on screen and the frame rate, not by the message rate.  A field that does not convert is
  counted as ``bad-number`` (once per new wire text) and keeps its last good value, so no
  good state is lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from tui.wire.fields import INT, KIND, LEVELS, PERCENT, PRICE, SKIP, TEXT
from tui.wire.frames import BAD_NUMBER, DecodeErrors
from tui.wire.prices import DEFAULT_PRECISION, format_units, to_int, to_units

_MAX_PRECISION: Final = 8
_NOTHING: Final = object()
#: Converted prices by wire text, one table per precision: prices repeat (a tick grid, a
#: few levels), so most conversions are one look-up.  Cleared when full, never stale.
_PRICE_CACHE: Final[list[dict[str, int]]] = [{} for _ in range(_MAX_PRECISION + 1)]
_PRICE_CACHE_SIZE: Final = 50_000


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

    ``raw`` holds the wire text already converted; ``delta`` the conflated changes since
    (one ``dict.update`` per message on the hot path).  Read through :meth:`materialize`
    (or ``Market.view``), never through ``raw`` directly.
    """

    __slots__ = ("delta", "generation", "key", "pp", "raw", "values")

    def __init__(self, key: str) -> None:
        self.key = key
        #: wire text of every field as last converted (bad text included: it is not recounted)
        self.raw: dict[str, Any] = {}
        #: wire text received since the last materialize, conflated
        self.delta: dict[str, Any] = {}
        #: typed values of the fields that converted (prices in units of 10^-pp)
        self.values: dict[str, int | str] = {}
        self.pp = DEFAULT_PRECISION
        #: bumped on every snapshot (tk/dk)
        self.generation = 0

    # -- hot path ------------------------------------------------------------------------
    def replace(self, msg: dict[str, Any]) -> None:
        self.raw = {}
        self.delta = dict(msg)
        self.values = {}
        self.pp = DEFAULT_PRECISION
        self.generation += 1

    def merge(self, msg: dict[str, Any]) -> None:
        self.delta.update(msg)

    # -- at draw time --------------------------------------------------------------------
    def materialize(self, errors: DecodeErrors | None = None) -> bool:
        """Convert the fields whose text changed since the last call; True if a value moved."""
        delta = self.delta
        if not delta:
            return False
        self.delta = {}
        raw, values = self.raw, self.values
        changed = False
        pp_text = delta.get("pp")
        if pp_text is not None and raw.get("pp", _NOTHING) != pp_text:
            raw["pp"] = pp_text
            pp = to_int(pp_text)
            if pp is None or pp > _MAX_PRECISION:
                _bad(errors, self.key, "pp", pp_text)
            elif pp != self.pp or "pp" not in values:
                # a new scale: every value is read again, none kept from the old one
                self.pp = pp
                values = self.values = {"pp": pp}
                delta = {**raw, **delta}
                raw = self.raw = {"pp": pp_text}
                changed = True
        pp = self.pp
        units_of = _PRICE_CACHE[pp]
        for name, text in delta.items():
            if raw.get(name, _NOTHING) == text:
                continue
            raw[name] = text
            kind = KIND.get(name, TEXT)
            if kind == PRICE:
                value: int | str | None = units_of.get(text)
                if value is None:
                    value = to_units(text, pp)
                    if value is not None and type(text) is str:
                        if len(units_of) >= _PRICE_CACHE_SIZE:
                            units_of.clear()
                        units_of[text] = value
            elif kind == INT:
                value = to_int(text)
            elif kind == PERCENT:
                value = to_units(text, 2, signed=True)
            elif kind == SKIP:
                continue
            else:
                value = text if type(text) is str else None
            if value is None:
                _bad(errors, self.key, name, text)
                continue
            if values.get(name) != value:
                values[name] = value
                changed = True
        return changed

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


def _bad(errors: DecodeErrors | None, key: str, name: str, text: object) -> None:
    if errors is not None:
        errors.add(BAD_NUMBER, f"{key} {name}={text!r}")
