"""A scrip as plain JSON-ready data: prices as strings with the scrip's precision.

Used by the headless CLI (``snapshot``, ``tail``); the shape is documented in the README.
"""

from __future__ import annotations

from typing import Any

from tui.market.scrip import Scrip
from tui.wire.fields import INT_FIELDS, PRICE_FIELDS
from tui.wire.prices import format_units

_TEXT = ("ts", "ltt")
_ORDER = (
    "ts", "pp", "ti", "ls", "lp", "pc", "v", "o", "h", "l", "c", "ap", "ltt", "ltq", "tbq",
    "tsq", "lc", "uc", "52h", "52l", "ue", "le", "oi", "poi", "toi", "ft",
)  # fmt: skip


def scrip_json(scrip: Scrip) -> dict[str, Any]:
    """Every known field of a (materialized) scrip; levels as ``[price, qty, orders]``."""
    values, pp = scrip.values, scrip.pp
    out: dict[str, Any] = {}
    for name in _ORDER:
        value = values.get(name)
        if value is None:
            continue
        if name in PRICE_FIELDS:
            out[name] = format_units(int(value), pp)
        elif name == "pc":
            out[name] = format_units(int(value), 2)
        elif name in INT_FIELDS or name == "pp" or name in _TEXT:
            out[name] = value
    out["bids"] = [[format_units(lv.price, pp), lv.qty, lv.orders] for lv in scrip.bids()]
    out["asks"] = [[format_units(lv.price, pp), lv.qty, lv.orders] for lv in scrip.asks()]
    return out
