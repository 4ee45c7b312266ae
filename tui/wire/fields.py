"""What each touchline/depth field is, so it is converted the right way once."""

from __future__ import annotations

from typing import Final

LEVELS: Final = 5

#: Prices: integer units of 10^-pp.
PRICE_FIELDS: Final = frozenset(
    ["ti", "lp", "o", "h", "l", "c", "ap", "lc", "uc", "52h", "52l", "ue", "le"]
    + [f"bp{i}" for i in range(1, LEVELS + 1)]
    + [f"sp{i}" for i in range(1, LEVELS + 1)]
)
#: Whole numbers: quantities, order counts, open interest, feed time, lot size.
INT_FIELDS: Final = frozenset(
    ["v", "ltq", "tbq", "tsq", "oi", "poi", "toi", "ft", "ls"]
    + [f"{side}{what}{i}" for side in "bs" for what in "qo" for i in range(1, LEVELS + 1)]
)
#: Signed decimals with two places (percent change).
PERCENT_FIELDS: Final = frozenset(["pc"])
#: Kept as text.
TEXT_FIELDS: Final = frozenset(["e", "tk", "ts", "ltt"])
#: Fields that are not part of the scrip's state.
WIRE_ONLY: Final = frozenset(["t"])

#: One look-up per field at conversion time: what kind of value it holds.
PRICE, INT, PERCENT, TEXT, SKIP = range(5)
KIND: Final[dict[str, int]] = {
    **dict.fromkeys(PRICE_FIELDS, PRICE),
    **dict.fromkeys(INT_FIELDS, INT),
    **dict.fromkeys(PERCENT_FIELDS, PERCENT),
    **dict.fromkeys(TEXT_FIELDS, TEXT),
    **dict.fromkeys(WIRE_ONLY | {"pp"}, SKIP),
}
