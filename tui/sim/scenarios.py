"""Patterns the market produces on demand, for the surveillance alerts and their tests.

Inject one with ``market.inject(PriceJump("PSX|OGDC", ticks=40))`` (or
``sim.market.inject(...)`` on a running server).  Each is a small object whose ``tick``
runs at every step of its scrip (see ``tui.sim.market.Scenario``): it retunes the
scrip's order-flow model or acts on its book, and everything it does is published like
any other market event, so streams stay consistent.  A scenario restores what it changed
when it ends.  All randomness comes from the market's generator: deterministic by seed.

A scenario that must hold a shape the scrip's own order flow would undo at once (a wide
touch, a limit with one side empty) takes the step over: it acts, then sets
``silent_until`` just past ``now`` so the scrip's own flow skips this one step
(:func:`_take_step`); its actions are still published.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from tui.sim.market import SimMarket
    from tui.sim.quote import SimScrip

Delta = dict[str, str]
Events = list[dict[str, str]]
_TUNABLE = ("mix", "offset", "qty_mult", "bias")


class Scenario(Protocol):
    """A pattern injected into one scrip: the hook ``SimMarket.inject`` takes."""

    key: str

    def tick(
        self,
        market: SimMarket,
        scrip: SimScrip,
        now: float,
        delta: dict[str, str],
        l2: list[dict[str, str]],
    ) -> bool:
        """Called at each step of ``scrip`` before its own order flow; False once finished.

        It may retune the scrip's model (``fair``, ``anchor``, ``mix``, ``offset``,
        ``qty_mult``, ``bias``, ``silent_until``, the market's ``set_weight``) and act on
        the book through ``market.submit``/``market.cancel`` with ``delta``/``l2``, which
        are published as part of this step.
        """
        ...


@dataclass
class _Timed:
    """A scenario that retunes its scrip for ``steps`` of its steps, then restores it."""

    key: str
    steps: int = 300
    _saved: dict[str, Any] | None = field(default=None, init=False, repr=False)
    _weight: float | None = field(default=None, init=False, repr=False)

    def tick(
        self, market: SimMarket, scrip: SimScrip, now: float, delta: Delta, l2: Events
    ) -> bool:
        if self._saved is None:
            self._saved = {name: getattr(scrip, name) for name in _TUNABLE}
            self.begin(market, scrip, delta, l2)
        self.steps -= 1
        if self.steps > 0:
            return True
        for name, value in self._saved.items():
            setattr(scrip, name, value)
        if self._weight is not None:
            market.set_weight(self.key, self._weight)
        return False

    def boost(self, market: SimMarket, factor: float) -> None:
        """Step this scrip ``factor`` times as often while the scenario runs."""
        self._weight = market.weight(self.key)
        market.set_weight(self.key, self._weight * factor)

    def begin(self, market: SimMarket, scrip: SimScrip, delta: Delta, l2: Events) -> None:
        raise NotImplementedError


def _clamp(scrip: SimScrip, price: float) -> float:
    return min(max(price, float(scrip.lc)), float(scrip.uc))


def _take_step(scrip: SimScrip, now: float) -> None:
    """The scrip's own order flow skips this step: the scenario's actions are the step."""
    scrip.silent_until = now + 1e-6


@dataclass
class PriceJump(_Timed):
    """Fair value jumps by ``ticks`` (negative: down); aggressive flow walks the book to it."""

    ticks: int = 50

    def begin(self, market: SimMarket, scrip: SimScrip, delta: Delta, l2: Events) -> None:
        move = self.ticks * scrip.tick
        scrip.anchor = _clamp(scrip, scrip.anchor + move)
        scrip.fair = _clamp(scrip, scrip.fair + move)
        scrip.mix = (0.30, 0.40, 0.45)
        self.boost(market, 4.0)


@dataclass
class CircuitApproach(PriceJump):
    """The price runs to within ``ticks_away`` ticks of its upper (or lower) circuit limit.

    With ``lock``, once the price is near the limit, buyers (sellers at the lower limit)
    take every order left on the other side and a trade prints at the limit; then, for
    the rest of the scenario, orders join only the limit side, so the scrip stays locked
    at its limit with nothing on the other side.
    """

    upper: bool = True
    ticks_away: int = 2
    lock: bool = False
    _locked: bool = field(default=False, init=False, repr=False)

    def begin(self, market: SimMarket, scrip: SimScrip, delta: Delta, l2: Events) -> None:
        target = (
            scrip.uc - self.ticks_away * scrip.tick
            if self.upper
            else (scrip.lc + self.ticks_away * scrip.tick)
        )
        self.ticks = round((target - scrip.fair) / scrip.tick)
        super().begin(market, scrip, delta, l2)
        scrip.bias = 0.3 if self.upper else -0.3

    def tick(
        self, market: SimMarket, scrip: SimScrip, now: float, delta: Delta, l2: Events
    ) -> bool:
        running = super().tick(market, scrip, now, delta, l2)
        if running and self.lock and scrip.book is not None:
            self._hold(market, scrip, now, delta, l2)
        return running

    def _hold(
        self, market: SimMarket, scrip: SimScrip, now: float, delta: Delta, l2: Events
    ) -> None:
        book = scrip.book
        assert book is not None
        side, other = ("B", "S") if self.upper else ("S", "B")
        limit = scrip.uc if self.upper else scrip.lc
        if not self._locked:
            touch = book.best_ask() if self.upper else book.best_bid()
            if touch and abs(limit - touch) > 5 * scrip.tick:
                return  # still on its way
            self._locked = True
            left = book.tsq if self.upper else book.tbq
            market.submit(scrip, side, limit, left + market.order_qty(scrip), delta, l2)
            market.submit(scrip, other, limit, scrip.inst.lot, delta, l2)  # prints at the limit
        elif market.rng.random() < 0.5:
            away = int(market.rng.expovariate(0.5)) * scrip.tick
            price = limit - away if self.upper else limit + away
            market.submit(scrip, side, price, market.order_qty(scrip), delta, l2)
        _take_step(scrip, now)


@dataclass
class SpreadBlowout(_Timed):
    """The best ``levels`` levels of both sides are pulled, and for as long as it lasts
    new orders rest only outside the gap (``offset``: their mean distance beyond it, in
    ticks) while orders near it keep being pulled: the touch stays wide."""

    levels: int = 3
    offset: float = 25.0
    _edges: tuple[int, int] | None = field(default=None, init=False, repr=False)

    def begin(self, market: SimMarket, scrip: SimScrip, delta: Delta, l2: Events) -> None:
        book = scrip.book
        if book is None:
            return
        for side in "BS":
            for _ in range(min(self.levels, book.depth_of(side) - 1)):
                level = book.level_at(side, 0)
                if level is None:
                    break
                for order in list(level.orders.values()):
                    market.cancel(scrip, order, l2)
        bid, ask = book.best_bid(), book.best_ask()
        if bid and ask:
            self._edges = (bid, ask)
        scrip.offset = self.offset
        scrip.mix = (0.55, 0.85, 1.0)  # no marketable orders while it lasts

    def tick(
        self, market: SimMarket, scrip: SimScrip, now: float, delta: Delta, l2: Events
    ) -> bool:
        running = super().tick(market, scrip, now, delta, l2)
        if running and self._edges is not None and scrip.book is not None:
            self._wide(market, scrip, delta, l2)
            _take_step(scrip, now)
        return running

    def _wide(self, market: SimMarket, scrip: SimScrip, delta: Delta, l2: Events) -> None:
        assert self._edges is not None
        rng, tick = market.rng, scrip.tick
        bid, ask = self._edges
        side = "B" if rng.random() < 0.5 else "S"
        if rng.random() < 0.6:
            away = int(rng.expovariate(1.0 / self.offset)) * tick
            price = bid - away if side == "B" else ask + away
            market.submit(scrip, side, price, market.order_qty(scrip), delta, l2)
            return
        order = market.pick_order(scrip, side)
        if order is not None and scrip.book is not None and scrip.book.depth_of(side) > 2:
            market.cancel(scrip, order, l2)


@dataclass
class VolumeSpike(_Timed):
    """Trading ``factor`` times as busy, in bigger and more aggressive orders.

    With ``block`` (a multiple of the usual order size), it opens with one block trade:
    a seller joins the best offer with a block and a buyer takes the whole offer, so the
    block is the last trade printed (``ltq``).
    """

    factor: float = 10.0
    block: float = 0.0

    def begin(self, market: SimMarket, scrip: SimScrip, delta: Delta, l2: Events) -> None:
        scrip.qty_mult = scrip.qty_mult * 3
        scrip.mix = (0.35, 0.45, 0.50)
        self.boost(market, self.factor)

    def tick(
        self, market: SimMarket, scrip: SimScrip, now: float, delta: Delta, l2: Events
    ) -> bool:
        first = self._saved is None
        running = super().tick(market, scrip, now, delta, l2)
        if first and self.block > 0 and scrip.book is not None:
            self._block(market, scrip, now, delta, l2)
        return running

    def _block(
        self, market: SimMarket, scrip: SimScrip, now: float, delta: Delta, l2: Events
    ) -> None:
        """The block, then a pause of 0.6 s: the feed's next trade does not hide it at once
        (a desk that folds what arrives between two looks, a frame or a rules pass of
        250 ms, still sees the block's ``ltq``)."""
        book = scrip.book
        assert book is not None
        ask, level = book.best_ask(), book.level_at("S", 0)
        if not ask or level is None:
            return
        qty, ahead = market.order_qty(scrip, self.block), level.qty
        market.submit(scrip, "S", ask, qty, delta, l2)
        market.submit(scrip, "B", ask, ahead + qty, delta, l2)
        scrip.silent_until = now + 0.6


@dataclass
class Imbalance(_Timed):
    """One side (``"B"`` or ``"S"``) piles up: new passive orders mostly join it.

    With ``pile`` (a probability per step), the scrip also gets an extra resting order on
    that side, a few ticks behind its best price (out of reach of the usual trades) and
    ``size`` times the usual size: the pile grows however busy the other side is.
    """

    side: str = "B"
    pile: float = 0.0
    size: float = 3.0

    def begin(self, market: SimMarket, scrip: SimScrip, delta: Delta, l2: Events) -> None:
        scrip.bias = 0.4 if self.side == "B" else -0.4
        scrip.mix = (0.75, 0.85, 0.92)
        scrip.qty_mult = scrip.qty_mult * 2

    def tick(
        self, market: SimMarket, scrip: SimScrip, now: float, delta: Delta, l2: Events
    ) -> bool:
        running = super().tick(market, scrip, now, delta, l2)
        book = scrip.book
        if running and book is not None and self.pile > 0 and market.rng.random() < self.pile:
            best = book.best_bid() if self.side == "B" else book.best_ask()
            if best:
                behind = (1 + int(market.rng.expovariate(0.5))) * scrip.tick
                price = best - behind if self.side == "B" else best + behind
                qty = market.order_qty(scrip, self.size)
                market.submit(scrip, self.side, price, qty, delta, l2)
        return running


@dataclass
class Stale:
    """The scrip publishes nothing for ``seconds`` (feed time), then resumes."""

    key: str
    seconds: float = 30.0

    def tick(
        self, market: SimMarket, scrip: SimScrip, now: float, delta: Delta, l2: Events
    ) -> bool:
        scrip.silent_until = now + self.seconds
        return False


@dataclass
class LargeOrder:
    """One passive order of ``multiple`` times the usual size at the touch of ``side``."""

    key: str
    side: str = "B"
    multiple: float = 50.0

    def tick(
        self, market: SimMarket, scrip: SimScrip, now: float, delta: Delta, l2: Events
    ) -> bool:
        book = scrip.book
        if book is None:
            return False
        price = book.best_bid() if self.side == "B" else book.best_ask()
        if not price:
            price = market.passive_price(scrip, self.side)
        market.submit(scrip, self.side, price, market.order_qty(scrip, self.multiple), delta, l2)
        return False


@dataclass
class RapidAddCancel:
    """``count`` orders added and cancelled within the same step, either side at random,
    each at the price its side's touch had when the scenario began (the touch now if that
    price would trade): orders placed and pulled at one price, again and again, while the
    scrip's own order flow pauses (a trade there would end the pattern at once)."""

    key: str
    count: int = 40
    _weight: float | None = field(default=None, init=False, repr=False)
    _prices: dict[str, int] = field(default_factory=dict, init=False, repr=False)

    def tick(
        self, market: SimMarket, scrip: SimScrip, now: float, delta: Delta, l2: Events
    ) -> bool:
        book = scrip.book
        if book is None:
            return False
        if self._weight is None:
            self._weight = market.weight(self.key)
            market.set_weight(self.key, self._weight * 5)
            self._prices = {"B": book.best_bid(), "S": book.best_ask()}
        side = "B" if market.rng.random() < 0.5 else "S"
        price = self._prices.get(side, 0)
        if not price or book.crosses(side, price):
            price = (book.best_bid() if side == "B" else book.best_ask()) or (
                market.passive_price(scrip, side)
            )
        order = market.submit(scrip, side, price, market.order_qty(scrip), delta, l2)
        if order is not None:
            market.cancel(scrip, order, l2)
        _take_step(scrip, now)  # nothing else happens to the scrip while it lasts
        self.count -= 1
        if self.count > 0:
            return True
        market.set_weight(self.key, self._weight)
        return False
