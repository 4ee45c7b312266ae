"""One simulated scrip's published state: the wire fields, and the deltas that change them.

:class:`SimScrip` keeps ``fields``, the scrip's full picture exactly as the feed would
send it in a ``dk`` (strings, in wire order).  Every change goes through it and is also
written into the step's delta dict, so a ``df`` always carries *only* changed fields
and a subscriber that applies ``dk`` then every ``df`` holds ``fields`` exactly.  The
top-5 depth is compared as integer tuples read from the :class:`SimBook`, never parsed
back from text, so publishing costs a few tuple compares when nothing moved.
"""

from __future__ import annotations

from typing import Any, Final

from tui.sim.book import DEPTH, EMPTY, SimBook
from tui.sim.instruments import Instrument

_LEVEL_NAMES: Final = {
    side: tuple((f"{s}p{i}", f"{s}q{i}", f"{s}o{i}") for i in range(1, DEPTH + 1))
    for side, s in (("B", "b"), ("S", "s"))
}
#: Depth fields a touchline (``tk``/``tf``) does not carry: levels 2..5.
DEPTH_ONLY: Final = frozenset(
    name for side in _LEVEL_NAMES.values() for level in side[1:] for name in level
)
#: Fields of a depth snapshot, in wire order (a stock; an index has no depth fields).
STOCK_ORDER: Final = (
    ("ts", "pp", "ti", "ls", "lp", "pc", "v", "o", "h", "l", "c", "ap", "ltt", "ltq", "tbq", "tsq")
    + tuple(f"{s}{w}{i}" for s in "bs" for w in "pqo" for i in range(1, DEPTH + 1))
    + ("lc", "uc", "52h", "52l", "ft")
)
INDEX_ORDER: Final = (
    "ts",
    "pp",
    "ti",
    "ls",
    "lp",
    "pc",
    "o",
    "h",
    "l",
    "c",
    "52h",
    "52l",
    "toi",
    "ft",
)

#: price texts a scrip caches (per kind) before the cache starts again
_TEXTS_KEPT: Final = 256


class SimScrip:
    """Model and published state of one instrument (see the module docstring)."""

    __slots__ = (
        "_pctext",
        "_ptext",
        "_scale",
        "anchor",
        "anchor_step",
        "base_qty",
        "bias",
        "book",
        "e",
        "fair",
        "fair_step",
        "fields",
        "ft",
        "h",
        "h52",
        "inst",
        "key",
        "l",
        "l52",
        "lc",
        "lp",
        "ltq",
        "mix",
        "o",
        "offset",
        "qty_mult",
        "seq",
        "silent_until",
        "tbq",
        "tick",
        "tk",
        "toi",
        "top_b",
        "top_s",
        "traded",
        "tsq",
        "turnover",
        "uc",
        "v",
    )

    def __init__(self, inst: Instrument) -> None:
        self.inst = inst
        self.key = inst.key
        self.e = inst.exchange
        self.tk = inst.token
        self.tick = inst.tick
        self.lc = inst.lc
        self.uc = inst.uc
        self.book: SimBook | None = None if inst.index else SimBook()
        self.fields: dict[str, str] = {}
        self.top_b: list[tuple[int, int, int]] = [EMPTY] * DEPTH
        self.top_s: list[tuple[int, int, int]] = [EMPTY] * DEPTH
        self.seq = 0  # L2 sequence: the ``sq`` of the last L2 message
        self.tbq = self.tsq = 0  # as last published
        self.lp = self.o = self.h = self.l = inst.close
        self.h52, self.l52 = inst.h52, inst.l52
        self.v = 0
        self.ltq = 0
        self.traded = False
        self.turnover = 0  # sum of price units x quantity, for ``ap``
        self.toi = inst.toi
        # the price model (see tui.sim.market): all in price units
        self.fair = self.anchor = float(inst.close)
        self.fair_step = max(inst.tick * 1.2, inst.close * 0.00004)
        self.anchor_step = max(inst.tick * 0.6, inst.close * 0.00003)
        self.base_qty = 1
        self.ft = ""
        self.silent_until = 0.0
        # order-flow mix (cumulative: add, cancel, modify; the rest crosses), tunable by
        # scenarios; offset: mean distance of passive orders from fair, in ticks
        self.mix = (0.42, 0.68, 0.80)
        self.offset = 2.5
        self.qty_mult = 1.0
        self.bias = 0.0  # >0 favours buyers, <0 sellers (aggressor side and new orders)
        self._ptext: dict[int, str] = {}
        self._pctext: dict[int, str] = {}
        self._scale = 10**inst.pp

    # -- text ----------------------------------------------------------------------------
    def px(self, units: int) -> str:
        """A price as wire text (cached: prices repeat; the cache is cleared when full, so a
        price that wanders over a wide band does not grow it for ever)."""
        text = self._ptext.get(units)
        if text is None:
            if len(self._ptext) >= _TEXTS_KEPT:
                self._ptext.clear()
            if units == 0:
                text = "0"
            else:
                scale = self._scale
                text = f"{units // scale}.{units % scale:0{self.inst.pp}d}"
            self._ptext[units] = text
        return text

    def pc_text(self) -> str:
        """Change of ``lp`` against the previous close, percent with two decimals."""
        text = self._pctext.get(self.lp)
        if text is None:
            if len(self._pctext) >= _TEXTS_KEPT:
                self._pctext.clear()
            close = self.inst.close
            diff = (self.lp - close) * 10000
            hundredths = (abs(diff) * 2 + close) // (2 * close)  # half away from zero
            sign = "-" if diff < 0 and hundredths else ""
            text = self._pctext[self.lp] = f"{sign}{hundredths // 100}.{hundredths % 100:02d}"
        return text

    def ap_text(self) -> str:
        if not self.v:
            return "0"
        units = (2 * self.turnover + self.v) // (2 * self.v)
        scale = self._scale
        return f"{units // scale}.{units % scale:0{self.inst.pp}d}"

    # -- the full picture ----------------------------------------------------------------
    def open(self, ft: str, ltt: str) -> None:
        """Set the published fields from the model after the opening (no delta)."""
        inst = self.inst
        f: dict[str, str] = {
            "ts": inst.symbol,
            "pp": str(inst.pp),
            "ti": self.px(inst.tick),
            "ls": str(inst.lot),
        }
        self.ft = ft
        if self.book is None:
            f.update(
                lp=self.px(self.lp),
                pc=self.pc_text(),
                o=self.px(self.o),
                h=self.px(self.h),
                l=self.px(self.l),
                c=self.px(inst.close),
            )
            f["52h"], f["52l"] = self.px(self.h52), self.px(self.l52)
            if self.toi:
                f["toi"] = str(self.toi)
            f["ft"] = ft
            self.fields = {name: f[name] for name in INDEX_ORDER if name in f}
            return
        f.update(
            lp=self.px(self.lp),
            pc=self.pc_text(),
            v=str(self.v),
            o=self.px(self.o),
            h=self.px(self.h),
            l=self.px(self.l),
            c=self.px(inst.close),
            ap=self.ap_text(),
            ltt=ltt,
            ltq=str(self.ltq),
            tbq=str(self.book.tbq),
            tsq=str(self.book.tsq),
        )
        self.tbq, self.tsq = self.book.tbq, self.book.tsq
        self.book.touched_b = self.book.touched_s = False
        for side in "BS":
            top = self.book.top(side)
            for (pn, qn, on), (p, q, n) in zip(_LEVEL_NAMES[side], top):
                f[pn], f[qn], f[on] = self.px(p), str(q), str(n)
            if side == "B":
                self.top_b = top
            else:
                self.top_s = top
        f.update(lc=self.px(self.lc), uc=self.px(self.uc), ft=ft)
        f["52h"], f["52l"] = self.px(self.h52), self.px(self.l52)
        self.fields = {name: f[name] for name in STOCK_ORDER}

    def depth_snapshot(self) -> dict[str, str]:
        """The ``dk`` message: the full picture."""
        msg = {"t": "dk", "e": self.e, "tk": self.tk}
        msg.update(self.fields)
        return msg

    def touch_snapshot(self) -> dict[str, str]:
        """The ``tk`` message: the full picture without depth levels 2..5."""
        msg = {"t": "tk", "e": self.e, "tk": self.tk}
        for name, text in self.fields.items():
            if name not in DEPTH_ONLY:
                msg[name] = text
        return msg

    def book_snapshot(self) -> dict[str, Any]:
        """The ``lk`` message: every resting order, best first, time priority within."""
        assert self.book is not None
        bids, asks = self.book.sides()
        px = self.px
        return {
            "t": "lk",
            "e": self.e,
            "tk": self.tk,
            "ft": self.ft,
            "sq": str(self.seq),
            "b": [[o.oid, px(o.price), str(o.qty)] for o in bids],
            "s": [[o.oid, px(o.price), str(o.qty)] for o in asks],
        }

    # -- deltas --------------------------------------------------------------------------
    def put(self, delta: dict[str, str], name: str, text: str) -> None:
        """Set a field; record it in ``delta`` only if its text changed."""
        if self.fields.get(name) != text:
            self.fields[name] = text
            delta[name] = text

    def publish_depth(self, delta: dict[str, str]) -> None:
        """Bring the top-5 levels and the total quantities up to the book."""
        book = self.book
        assert book is not None
        if book.touched_b:
            book.touched_b = False
            self.top_b = self._publish_side(delta, "B", self.top_b)
        if book.touched_s:
            book.touched_s = False
            self.top_s = self._publish_side(delta, "S", self.top_s)
        fields = self.fields
        if book.tbq != self.tbq:
            self.tbq = book.tbq
            fields["tbq"] = delta["tbq"] = str(book.tbq)
        if book.tsq != self.tsq:
            self.tsq = book.tsq
            fields["tsq"] = delta["tsq"] = str(book.tsq)

    def _publish_side(
        self, delta: dict[str, str], side: str, old: list[tuple[int, int, int]]
    ) -> list[tuple[int, int, int]]:
        new = self.book.top(side)  # type: ignore[union-attr]
        if new == old:
            return old
        fields = self.fields
        for names, n, o in zip(_LEVEL_NAMES[side], new, old):
            if n == o:
                continue
            if n[0] != o[0]:
                fields[names[0]] = delta[names[0]] = self.px(n[0])
            if n[1] != o[1]:
                fields[names[1]] = delta[names[1]] = str(n[1])
            if n[2] != o[2]:
                fields[names[2]] = delta[names[2]] = str(n[2])
        return new

    def trade(self, price: int, qty: int) -> None:
        """A trade of ``qty`` at ``price`` in the model; published by :meth:`publish_trade`
        once per step, so a step with several fills sends each field at most once and only
        if its final value differs."""
        self.lp = price
        self.ltq = qty
        self.v += qty
        self.turnover += price * qty
        self.traded = True
        self.reach(price)

    def reach(self, price: int) -> None:
        """Widen the day's and the 52-week range to ``price``."""
        if price > self.h:
            self.h = price
            self.h52 = max(self.h52, price)
        elif price < self.l:
            self.l = price
            self.l52 = min(self.l52, price)

    def publish_price(self, delta: dict[str, str]) -> None:
        """Last price, change and ranges, as far as they moved."""
        put, px = self.put, self.px
        put(delta, "lp", px(self.lp))
        put(delta, "pc", self.pc_text())
        put(delta, "h", px(self.h))
        put(delta, "l", px(self.l))
        put(delta, "52h", px(self.h52))
        put(delta, "52l", px(self.l52))

    def publish_trade(self, delta: dict[str, str], ltt: str) -> None:
        """The step's trades: price fields, volume, last trade, average price."""
        self.traded = False
        self.publish_price(delta)
        put = self.put
        put(delta, "v", str(self.v))
        put(delta, "ltq", str(self.ltq))
        put(delta, "ltt", ltt)
        put(delta, "ap", self.ap_text())

    def stamp(self, delta: dict[str, str], ft: str) -> None:
        """The feed time, sent only when it moved (it is whole seconds)."""
        if ft != self.ft:
            self.ft = ft
            self.fields["ft"] = delta["ft"] = ft


def touchline_of(delta: dict[str, str]) -> dict[str, str] | None:
    """The ``tf`` for a ``df`` delta: the same changes without levels 2..5, or None."""
    tf = {name: text for name, text in delta.items() if name not in DEPTH_ONLY}
    if len(tf) <= 3:  # only t, e, tk
        return None
    tf["t"] = "tf"
    return tf
