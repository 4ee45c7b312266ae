"""Patterns the market produces on demand, for the surveillance alerts and their tests.

Inject one with ``market.inject(PriceJump("PSX|OGDC", ticks=40))`` (or
``sim.market.inject(...)`` on a running server).  Each is a small object whose ``tick``
runs at every step of its scrip (see ``tui.sim.market.Scenario``): it retunes the
scrip's order-flow model or acts on its book, and everything it does is published like
any other market event, so streams stay consistent.  A scenario restores what it changed
when it ends.  All randomness comes from the market's generator: deterministic by seed.
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
        self, market: SimMarket, scrip: SimScrip, now: float, delta: dict[str, str],
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

    def tick(self, market: SimMarket, scrip: SimScrip, now: float, delta: Delta, l2: Events) -> bool:
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
    """The price runs to within ``ticks_away`` ticks of its upper (or lower) circuit limit."""

    upper: bool = True
    ticks_away: int = 2

    def begin(self, market: SimMarket, scrip: SimScrip, delta: Delta, l2: Events) -> None:
        target = scrip.uc - self.ticks_away * scrip.tick if self.upper else (
            scrip.lc + self.ticks_away * scrip.tick)
        self.ticks = round((target - scrip.fair) / scrip.tick)
        super().begin(market, scrip, delta, l2)
        scrip.bias = 0.3 if self.upper else -0.3


@dataclass
class SpreadBlowout(_Timed):
    """The best ``levels`` levels of both sides are pulled; new orders stay far away."""

    levels: int = 3
    offset: float = 25.0

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
        scrip.offset = self.offset
        scrip.mix = (0.55, 0.85, 1.0)  # no marketable orders while it lasts


@dataclass
class VolumeSpike(_Timed):
    """Trading ``factor`` times as busy, in bigger and more aggressive orders."""

    factor: float = 10.0

    def begin(self, market: SimMarket, scrip: SimScrip, delta: Delta, l2: Events) -> None:
        scrip.qty_mult = scrip.qty_mult * 3
        scrip.mix = (0.35, 0.45, 0.50)
        self.boost(market, self.factor)


@dataclass
class Imbalance(_Timed):
    """One side (``"B"`` or ``"S"``) piles up: new passive orders mostly join it."""

    side: str = "B"

    def begin(self, market: SimMarket, scrip: SimScrip, delta: Delta, l2: Events) -> None:
        scrip.bias = 0.4 if self.side == "B" else -0.4
        scrip.mix = (0.75, 0.85, 0.92)
        scrip.qty_mult = scrip.qty_mult * 2


@dataclass
class Stale:
    """The scrip publishes nothing for ``seconds`` (feed time), then resumes."""

    key: str
    seconds: float = 30.0

    def tick(self, market: SimMarket, scrip: SimScrip, now: float, delta: Delta, l2: Events) -> bool:
        scrip.silent_until = now + self.seconds
        return False


@dataclass
class LargeOrder:
    """One passive order of ``multiple`` times the usual size at the touch of ``side``."""

    key: str
    side: str = "B"
    multiple: float = 50.0

    def tick(self, market: SimMarket, scrip: SimScrip, now: float, delta: Delta, l2: Events) -> bool:
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
    """``count`` orders added at the touch and cancelled within the same step."""

    key: str
    count: int = 40
    _weight: float | None = field(default=None, init=False, repr=False)

    def tick(self, market: SimMarket, scrip: SimScrip, now: float, delta: Delta, l2: Events) -> bool:
        if scrip.book is None:
            return False
        if self._weight is None:
            self._weight = market.weight(self.key)
            market.set_weight(self.key, self._weight * 5)
        side = "B" if market.rng.random() < 0.5 else "S"
        order = market.submit(scrip, side, market.passive_price(scrip, side),
                              market.order_qty(scrip), delta, l2)
        if order is not None:
            market.cancel(scrip, order, l2)
        self.count -= 1
        if self.count > 0:
            return True
        market.set_weight(self.key, self._weight)
        return False
