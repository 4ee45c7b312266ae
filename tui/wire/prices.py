"""Exact prices: wire strings <-> integer ticks of ``10^-pp``.  No floats anywhere.

``to_units("24865.45", 2) == 2486545``; ``format_units(2486545, 2) == "24865.45"``.
Inputs are checked: a sign where none is allowed, more non-zero decimals than the
precision, stray characters, or an absurd magnitude give ``None`` (the caller counts it).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Final

#: Anything past this many units is absurd for an exchange price or quantity.
MAX_UNITS: Final = 10**15
#: Longest text that can hold a price: checked before anything else, so a numeric string of
#: thousands of digits costs a length check, never Python's int() (which refuses past 4300).
MAX_TEXT: Final = 24
#: Most decimals a price may have (the finest precision ``pp`` a scrip may declare).
MAX_DECIMALS: Final = 8
DEFAULT_PRECISION: Final = 2
_DIGITS: Final = frozenset("0123456789")
_POW10: Final[tuple[int, ...]] = tuple(10**i for i in range(19))


def to_units(text: object, pp: int, *, signed: bool = False) -> int | None:
    """A decimal string (or int) as an integer count of ``10^-pp``; ``None`` if not one."""
    if type(text) is str:
        if len(text) > MAX_TEXT:
            return None
        # the usual shape first: ASCII digits with exactly ``pp`` decimals ("2486.45")
        negative = signed and text[:1] == "-"
        whole, dot, frac = (text[1:] if negative else text).partition(".")
        if len(frac) == pp and dot and whole.isdigit() and frac.isdigit() and text.isascii():
            value = int(whole + frac)
            if value >= MAX_UNITS:
                return None
            return -value if negative else value
        return _to_units_slow(text, pp, signed)
    if type(text) is int:
        if not -MAX_UNITS < text < MAX_UNITS:
            return None
        value = text * _POW10[pp]
        return value if abs(value) < MAX_UNITS and (signed or value >= 0) else None
    return None


#: decimal texts already seen to be well formed (prices repeat: a tick grid); cleared when full
_DECIMALS: Final[set[str]] = set()
_DECIMALS_SIZE: Final = 8192


def is_decimal(text: object) -> bool:
    """True for a non-negative decimal that could be a price at some precision: ASCII
    digits, at most one dot, at most :data:`MAX_DECIMALS` decimals, :data:`MAX_TEXT`
    characters (or a non-negative int).  A cheap shape check for L2 prices, which are kept
    as text and converted at the scrip's precision when the book is read."""
    if type(text) is not str:
        return type(text) is int and 0 <= text < MAX_UNITS
    if text in _DECIMALS:
        return True
    if not text or len(text) > MAX_TEXT or not text.isascii():
        return False
    whole, dot, frac = text.partition(".")
    if not whole.isdigit() or (dot and not (frac.isdigit() and len(frac) <= MAX_DECIMALS)):
        return False
    if len(_DECIMALS) >= _DECIMALS_SIZE:
        _DECIMALS.clear()
    _DECIMALS.add(text)
    return True


def _to_units_slow(text: str, pp: int, signed: bool) -> int | None:
    """Every other shape: a sign, fewer or more decimals, no dot; and every refusal."""
    if not text:
        return None
    negative = text[0] == "-"
    if negative:
        if not signed:
            return None
        text = text[1:]
    whole, dot, frac = text.partition(".")
    if not whole and not frac:
        return None
    if not (set(whole) <= _DIGITS and set(frac) <= _DIGITS):
        return None
    if dot and not frac:
        return None
    if len(frac) > pp:
        if frac[pp:].strip("0"):
            return None  # finer than the scrip's precision
        frac = frac[:pp]
    value = int(whole or "0") * _POW10[pp] + int(frac.ljust(pp, "0") or "0")
    if value >= MAX_UNITS:
        return None
    return -value if negative else value


def to_int(text: object) -> int | None:
    """A non-negative whole number (quantity, count, epoch seconds); ``None`` if not one."""
    if type(text) is int:
        return text if 0 <= text < MAX_UNITS else None
    if (
        type(text) is not str
        or not text
        or len(text) > 18
        or not text.isdigit()
        or not text.isascii()
    ):
        return None
    value = int(text)
    return value if value < MAX_UNITS else None


def format_units(units: int | None, pp: int, *, sign: bool = False) -> str:
    """Units back to text with exactly ``pp`` decimals (``""`` for an unknown value)."""
    if units is None:
        return ""
    negative = units < 0
    units = -units if negative else units
    if pp > 0:
        scale = _POW10[pp]
        text = f"{units // scale}.{units % scale:0{pp}d}"
    else:
        text = str(units)
    if negative:
        return "-" + text
    return ("+" + text) if sign and units else text


def format_qty(qty: int | None) -> str:
    """Quantities with thousands separators."""
    return "" if qty is None else f"{qty:,}"


def sort_book_rows(bids: list[list[Any]], asks: list[list[Any]]) -> None:
    """Order an ``lk``'s rows (``[oid, price, qty]``) best first, in place: bids high to low,
    asks low to high.  Stable, so orders at one price keep their time priority (``reverse``
    keeps equal items in order too).  Prices compare exactly (never a float); a price that
    is not a number sorts as 0."""
    bids.sort(key=_row_price, reverse=True)
    asks.sort(key=_row_price)


def _row_price(row: Sequence[Any]) -> Decimal:
    try:
        return Decimal(str(row[1]))
    except InvalidOperation:
        return Decimal(0)
