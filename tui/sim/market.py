"""A deterministic simulated exchange: order flow, matching, and the feed it publishes.

``SimMarket(seed, instruments)`` owns one ``random.Random(seed)`` and no clock: the
caller passes the time to :meth:`SimMarket.step`, which only turns it into the ``ft`` and
``ltt`` texts.  The sequence of market events therefore depends on the seed and the
number of steps alone (and on the scenarios injected): the same seed gives the same
market at any pace.

Each step picks one instrument (weighted by its activity) and makes one thing happen:

- a stock gets one order-flow event: a passive order added (prices near a hidden *fair
  value* that random-walks around a slowly drifting anchor), a cancel, a modify (size in
  place, or a new price that loses time priority), or a marketable order that trades
  against the book in price-time priority (its remainder rests at its limit);
- an index recomputes its value from its members' last prices.

Every step returns a :class:`Step`: the L2 messages it caused (``lt`` executions, then
``lo`` events, each with the scrip's next ``sq``), the ``df`` delta with only the fields
that changed, and the ``tf`` touchline delta (None when nothing a touchline carries
moved).  Prices stay on the tick grid and inside the circuit limits by construction:
every order price is clamped to ``[lc, uc]`` and trades happen only at resting prices.

Scenarios (``tui.sim.scenarios``) plug in through :meth:`SimMarket.inject`: each is asked
at every step of its scrip, before the scrip's own order flow, and may retune the scrip's
model (fair value, flow mix, order size, silence) or act on its book, for as long as it
says it is active.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Sequence
from itertools import accumulate
from typing import Any, Final

from tui.sim.book import Order
from tui.sim.instruments import INSTRUMENTS, Instrument
from tui.sim.quote import SimScrip, touchline_of
from tui.sim.scenarios import Scenario

#: 2025-06-23 04:00 UTC: 09:00 in Karachi, 09:30 in Mumbai.
DEFAULT_START: Final = 1750651200.0
#: Exchange time zones for ``ltt`` (seconds east of UTC).
UTC_OFFSET: Final = {"PSX": 5 * 3600, "NSE": 5 * 3600 + 1800}
#: Notional of a typical order, in the exchange's currency.
_NOTIONAL: Final = {"PSX": 600_000, "NSE": 250_000}
MIN_LEVELS: Final = 8
MAX_LEVELS: Final = 30


class Step:
    """What one market step published.  ``df``/``tf`` are None when nothing changed."""

    __slots__ = ("df", "key", "l2", "tf")

    def __init__(
        self,
        key: str,
        l2: list[dict[str, str]],
        df: dict[str, str] | None,
        tf: dict[str, str] | None,
    ) -> None:
        self.key = key
        self.l2 = l2
        self.df = df
        self.tf = tf


def clock_text(epoch: int, offset: int) -> str:
    """``HH:MM:SS`` of ``epoch`` in a zone ``offset`` seconds east of UTC."""
    t = (epoch + offset) % 86400
    return f"{t // 3600:02d}:{t // 60 % 60:02d}:{t % 60:02d}"


class SimMarket:
    """The simulated exchange (see the module docstring).  Usable without a socket: feed
    :meth:`snapshot_messages` then each :class:`Step`'s messages to a ``tui.market.Market``.
    """

    def __init__(
        self,
        seed: int = 1,
        instruments: Sequence[Instrument] | None = None,
        *,
        start: float = DEFAULT_START,
    ) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.instruments: list[Instrument] = list(
            INSTRUMENTS if instruments is None else instruments
        )
        self.scrips: dict[str, SimScrip] = {i.key: SimScrip(i) for i in self.instruments}
        self.steps = 0
        self._order = list(self.scrips.values())
        self._weights = [i.weight for i in self.instruments]
        self._cum: list[float] = []
        self._total = 0.0
        self._reweigh()
        self._oid = 0
        self._sec = -1
        self._ft = ""
        self._ltt: dict[str, str] = {}
        self._scenarios: dict[str, list[Scenario]] = {}
        self._members: dict[str, list[SimScrip]] = {
            s.key: [self.scrips[k] for k in s.inst.members if k in self.scrips]
            for s in self._order
            if s.book is None
        }
        self._clock(start)
        for s in self._order:
            if s.book is not None:
                self._open_stock(s)
        for s in self._order:
            if s.book is None:
                s.lp = s.o = s.h = s.l = self._index_value(s)
                s.h52, s.l52 = max(s.h52, s.lp), min(s.l52, s.lp)
            s.open(self._ft, self._ltt.get(s.e, ""))

    # -- public --------------------------------------------------------------------------
    @property
    def keys(self) -> list[str]:
        """Every instrument key, in table order (indices first)."""
        return [s.key for s in self._order]

    def snapshot_messages(
        self, keys: Sequence[str] | None = None, *, depth: bool = True, orders: bool = False
    ) -> list[dict[str, Any]]:
        """What a subscriber gets first: a ``dk`` (or ``tk``) per scrip, plus an ``lk`` per
        stock if ``orders`` -- e.g. to fill a ``tui.market.Market`` for a snapshot test."""
        out: list[dict[str, Any]] = []
        for key in self.keys if keys is None else keys:
            s = self.scrips[key]
            out.append(s.depth_snapshot() if depth else s.touch_snapshot())
            if orders and s.book is not None:
                out.append(s.book_snapshot())
        return out

    def step(self, now: float) -> Step:
        """One market event at time ``now`` (epoch seconds; only used for ``ft``/``ltt``)."""
        self.steps += 1
        sec = int(now)
        if sec != self._sec:
            self._clock(now)
        s = self._order[bisect(self._cum, self.rng.random() * self._total)]
        if now < s.silent_until:
            return Step(s.key, [], None, None)
        delta: dict[str, str] = {"t": "df", "e": s.e, "tk": s.tk}
        l2: list[dict[str, str]] = []
        if self._scenarios and s.key in self._scenarios:
            self._run_scenarios(s, now, delta, l2)
        if s.book is None:
            if now >= s.silent_until:
                self._step_index(s, delta)
        else:
            if now >= s.silent_until:
                self._step_stock(s, delta, l2)
            if s.traded:
                s.publish_trade(delta, self._ltt.get(s.e, ""))
            s.publish_depth(delta)
        if len(delta) <= 3:
            return Step(s.key, l2, None, None)
        s.stamp(delta, self._ft)
        return Step(s.key, l2, delta, touchline_of(delta))

    def run(self, n: int, now: float, dt: float = 0.0) -> list[Step]:
        """``n`` steps from time ``now``, ``dt`` seconds apart (for tests and fills)."""
        return [self.step(now + i * dt) for i in range(n)]

    def depth_snapshot(self, key: str) -> dict[str, str]:
        """The ``dk`` of ``key``: its full picture."""
        return self.scrips[key].depth_snapshot()

    def touch_snapshot(self, key: str) -> dict[str, str]:
        """The ``tk`` of ``key``."""
        return self.scrips[key].touch_snapshot()

    def book_snapshot(self, key: str) -> dict[str, Any]:
        """The ``lk`` of ``key`` (a stock): every resting order and the current ``sq``."""
        return self.scrips[key].book_snapshot()

    def inject(self, scenario: Scenario) -> None:
        """Start a scenario on its scrip (it runs until its ``tick`` returns False)."""
        if scenario.key not in self.scrips:
            raise KeyError(scenario.key)
        self._scenarios.setdefault(scenario.key, []).append(scenario)

    def set_weight(self, key: str, weight: float) -> None:
        """How often ``key`` steps relative to the others (scenarios use it)."""
        self._weights[self._order.index(self.scrips[key])] = max(weight, 0.0)
        self._reweigh()

    def weight(self, key: str) -> float:
        return self._weights[self._order.index(self.scrips[key])]

    def next_oid(self) -> str:
        self._oid += 1
        return str(100_000_000 + self._oid)

    def ltt(self, scrip: SimScrip) -> str:
        return self._ltt.get(scrip.e, "")

    # -- order flow ----------------------------------------------------------------------
    def submit(
        self,
        s: SimScrip,
        side: str,
        price: int,
        qty: int,
        delta: dict[str, str],
        l2: list[dict[str, str]],
    ) -> Order | None:
        """An incoming limit order: executions while it crosses, the rest rests.

        Returns the resting order (None if it filled completely).
        """
        book = s.book
        assert book is not None
        price = s.lc if price < s.lc else min(price, s.uc)
        e, tk, ft = s.e, s.tk, self._ft
        if book.crosses(side, price):
            fills, qty = book.match(side, price, qty)
            for order, q in fills:
                s.seq += 1
                pr = s.px(order.price)
                l2.append(
                    {
                        "t": "lt",
                        "e": e,
                        "tk": tk,
                        "ft": ft,
                        "sq": str(s.seq),
                        "oid": order.oid,
                        "sd": order.side,
                        "pr": pr,
                        "q": str(q),
                        "ag": side,
                    }
                )
                s.trade(order.price, q)
        if qty <= 0:
            return None
        order = Order(self.next_oid(), side, price, qty)
        book.add(order)
        self._event(s, order, "A", l2)
        return order

    def cancel(self, s: SimScrip, order: Order, l2: list[dict[str, str]]) -> None:
        assert s.book is not None
        s.book.remove(order)
        self._event(s, order, "X", l2)

    def pick_order(self, s: SimScrip, side: str, near: float = 0.25) -> Order | None:
        """A resting order, mostly near the touch (level rank ~ exponential)."""
        book = s.book
        assert book is not None
        depth = book.depth_of(side)
        if not depth:
            return None
        rank = int(self.rng.expovariate(near))
        level = book.level_at(side, rank if rank < depth else depth - 1)
        assert level is not None
        orders = level.orders
        if len(orders) == 1:
            return next(iter(orders.values()))
        return list(orders.values())[self.rng.randrange(len(orders))]

    def passive_price(self, s: SimScrip, side: str) -> int:
        """A price for a new passive order: near fair, on the grid, inside the limits."""
        tick = s.tick
        d = int(self.rng.expovariate(1.0 / s.offset)) * tick
        base = int(s.fair // tick) * tick
        price = base - d if side == "B" else base + tick + d
        return s.lc if price < s.lc else min(price, s.uc)

    def order_qty(self, s: SimScrip, scale: float = 1.0) -> int:
        q = int(s.base_qty * s.qty_mult * scale * (0.2 + self.rng.expovariate(1.0)))
        if q > 1000:
            q -= q % 100
        elif q > 100:
            q -= q % 10
        lot = s.inst.lot
        return max(lot, q - q % lot)

    # -- internals -----------------------------------------------------------------------
    def _event(self, s: SimScrip, order: Order, action: str, l2: list[dict[str, str]]) -> None:
        s.seq += 1
        l2.append(
            {
                "t": "lo",
                "e": s.e,
                "tk": s.tk,
                "ft": self._ft,
                "sq": str(s.seq),
                "oid": order.oid,
                "sd": order.side,
                "ac": action,
                "pr": s.px(order.price),
                "q": str(order.qty),
            }
        )

    def _step_stock(self, s: SimScrip, delta: dict[str, str], l2: list[dict[str, str]]) -> None:
        rng = self.rng
        book = s.book
        assert book is not None
        tick, lo, hi = s.tick, float(s.lc), float(s.uc)
        anchor = s.anchor + (rng.random() - 0.5) * 2.0 * s.anchor_step
        margin = 3 * tick
        s.anchor = anchor = min(max(anchor, lo + margin), hi - margin)
        fair = s.fair + (anchor - s.fair) * 0.08 + (rng.random() - 0.5) * 2.0 * s.fair_step
        s.fair = min(max(fair, lo), hi)
        nb, ns = len(book.bid_px), len(book.ask_px)
        r = rng.random()
        if (nb < MIN_LEVELS or ns < MIN_LEVELS) and r < 0.6:
            side = "B" if nb < ns else "S"
            self.submit(s, side, self.passive_price(s, side), self.order_qty(s), delta, l2)
        elif nb > MAX_LEVELS or ns > MAX_LEVELS:
            side = "B" if nb > ns else "S"
            level = book.level_at(side, book.depth_of(side) - 1)
            assert level is not None
            self.cancel(s, next(iter(level.orders.values())), l2)
        elif r < s.mix[0]:
            side = "B" if rng.random() < 0.5 + s.bias else "S"
            self.submit(s, side, self.passive_price(s, side), self.order_qty(s), delta, l2)
        elif r < s.mix[1]:
            order = self.pick_order(s, "B" if rng.random() < 0.5 else "S")
            if order is not None:
                self.cancel(s, order, l2)
        elif r < s.mix[2]:
            self._modify(s, l2)
        else:
            self._cross(s, delta, l2)

    def _modify(self, s: SimScrip, l2: list[dict[str, str]]) -> None:
        rng, book = self.rng, s.book
        assert book is not None
        order = self.pick_order(s, "B" if rng.random() < 0.5 else "S")
        if order is None:
            return
        if rng.random() < 0.45:
            step = (1 + int(rng.random() * 2)) * s.tick * (1 if rng.random() < 0.5 else -1)
            price = order.price + step
            if s.lc <= price <= s.uc and not book.crosses(order.side, price):
                book.reprice(order, price, order.qty)
                self._event(s, order, "M", l2)
                return
        lot = s.inst.lot
        qty = int(order.qty * (0.3 + rng.random() * 1.4))
        qty = max(lot, qty - qty % lot)
        if qty == order.qty:
            qty += lot
        book.resize(order, qty)
        self._event(s, order, "M", l2)

    def _cross(self, s: SimScrip, delta: dict[str, str], l2: list[dict[str, str]]) -> None:
        """A marketable order: the side leans towards where fair value is."""
        rng, book, tick = self.rng, s.book, s.tick
        assert book is not None
        bid, ask = book.best_bid(), book.best_ask()
        if not bid or not ask:
            side = "B" if not ask else "S"
            self.submit(s, side, self.passive_price(s, side), self.order_qty(s), delta, l2)
            return
        lean = (s.fair - (bid + ask) / 2) / (4 * tick)
        lean = min(max(lean, -0.35), 0.35) + s.bias
        side = "B" if rng.random() < 0.5 + lean else "S"
        reach = int(rng.expovariate(1.5)) * tick
        price = ask + reach if side == "B" else bid - reach
        self.submit(s, side, price, self.order_qty(s, 1.5), delta, l2)

    def _step_index(self, s: SimScrip, delta: dict[str, str]) -> None:
        value = self._index_value(s)
        s.lp = value
        s.reach(value)
        s.publish_price(delta)
        if s.toi and self.rng.random() < 0.05:
            s.toi = max(0, s.toi + self.rng.randint(-40, 40) * 75)
            s.put(delta, "toi", str(s.toi))

    def _index_value(self, s: SimScrip) -> int:
        """Close times the members' mean price relative (equal weights), on the grid."""
        members = self._members.get(s.key) or []
        if not members:
            return s.lp
        ratio = sum(m.lp / m.inst.close for m in members) / len(members)
        tick = s.tick
        value = round(s.inst.close * ratio / tick) * tick
        return min(max(value, s.lc), s.uc)

    def _open_stock(self, s: SimScrip) -> None:
        """The opening: a price near the close, a book around it, an opening trade."""
        rng, book, inst, tick = self.rng, s.book, s.inst, s.tick
        assert book is not None
        gap = rng.gauss(0.0, 0.004)
        o = round(inst.close * (1 + gap) / tick) * tick
        o = min(max(o, s.lc + 12 * tick), s.uc - 12 * tick)
        s.lp = s.o = s.h = s.l = o
        s.fair = s.anchor = float(o)
        s.h52, s.l52 = max(s.h52, o), min(s.l52, o)
        base = _NOTIONAL.get(inst.exchange, 250_000) * 10**inst.pp // o
        s.base_qty = max(inst.lot, base - base % (500 if base > 5000 else 50 if base > 500 else 1))
        for side, sign in (("B", -1), ("S", 1)):
            price = o + sign * tick * (1 + int(rng.random() < 0.5))
            for _ in range(MIN_LEVELS + 6):
                if not s.lc <= price <= s.uc:
                    break
                for _ in range(1 + int(rng.expovariate(0.7))):
                    book.add(Order(self.next_oid(), side, price, self.order_qty(s)))
                price += sign * tick * (1 + int(rng.random() < 0.25))
        s.v = s.ltq = s.base_qty * (5 + rng.randrange(20))
        s.turnover = o * s.v

    def _run_scenarios(
        self, s: SimScrip, now: float, delta: dict[str, str], l2: list[dict[str, str]]
    ) -> None:
        active = [sc for sc in self._scenarios[s.key] if sc.tick(self, s, now, delta, l2)]
        if active:
            self._scenarios[s.key] = active
        else:
            del self._scenarios[s.key]

    def _reweigh(self) -> None:
        self._cum = list(accumulate(self._weights))
        self._total = self._cum[-1] if self._cum else 0.0
        if self._total <= 0:
            raise ValueError("at least one instrument must have a positive weight")

    def _clock(self, now: float) -> None:
        sec = int(now)
        self._sec = sec
        self._ft = str(sec)
        self._ltt = {e: clock_text(sec, off) for e, off in UTC_OFFSET.items()}
