"""``l2-large``: an order added (or grown) many times the usual size near the touch."""

from __future__ import annotations

import msgspec

from tui.market.alerts import Figure
from tui.market.rules.orders import RecentOrders
from tui.market.rules.rule import Condition, Context, RollingMedian, Rule, usually
from tui.market.rules.thresholds import Count, General, Qty, Ratio
from tui.market.scrip import Scrip
from tui.market.tape import TapeEvent
from tui.wire.prices import format_qty, format_units, to_int, to_units


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    #: this many times the scrip's median order
    large_order_mult: Ratio = 25.0
    #: and at least this many shares
    large_order_min_qty: Qty = 1_000
    #: within this many ticks of the best price of its side
    near_touch_ticks: Qty = 5
    #: orders the median is taken over
    order_samples: Count = 200


class State:
    """Order sizes, orders added lately, and the largest candidate of this frame."""

    __slots__ = ("best", "orders", "recent")

    def __init__(self, samples: int, window: float) -> None:
        self.orders = RollingMedian(samples, refresh=16)
        self.recent = RecentOrders(window)
        self.best: tuple[int, TapeEvent] | None = None


class LargeOrder(Rule[Limits, State]):
    """The largest large order of the frame, if it rests within ``near_touch_ticks``
    of the best price of its side."""

    name = "l2-large"
    severities = ("info",)
    event = True
    Limits = Limits

    def __init__(self, thresholds: General, context: Context) -> None:
        super().__init__(thresholds, context)
        #: an order is recent (a modify is compared with it) for l2-churn's window: the
        #: two L2 rules have always shared one memory of orders
        self.recent_for: float = getattr(thresholds, "churn_window")  # noqa: B009

    def new_state(self) -> State:
        return State(self.limits.order_samples, self.recent_for)

    def observe(self, event: TapeEvent, state: State, now: float) -> None:
        if event.action == "X":
            state.recent.pop(event.oid)
            return
        if event.action != "A" and event.action != "M":
            return
        qty = to_int(event.qty)
        if qty is None:
            return
        before = state.recent.put(event.oid, now, event.price, qty)
        grew = before is None or qty > before[2]  # a modify that only shrinks is no news
        orders = state.orders
        usual = orders.median()
        if grew and usual is not None and len(orders) >= self.t.min_samples:
            self._candidate(state, qty, usual, event)
        orders.add(qty)

    def _candidate(self, state: State, qty: int, usual: float, event: TapeEvent) -> None:
        """A large order: the frame's largest so far is the one judged."""
        t = self.limits
        large = qty >= t.large_order_min_qty and qty >= t.large_order_mult * usual
        if large and (state.best is None or qty > state.best[0]):
            state.best = (qty, event)

    def check_tape(self, scrip: Scrip, state: State, now: float) -> Condition | None:
        state.recent.prune(now)
        found, state.best = state.best, None
        return self._near_touch(scrip, state, found) if found is not None else None

    def _near_touch(
        self, scrip: Scrip, state: State, found: tuple[int, TapeEvent]
    ) -> Condition | None:
        qty, e = found
        pp = scrip.pp
        price = to_units(e.price, pp)
        if price is None:
            return None
        bid_side = e.side == "B"
        best = scrip.get("bp1" if bid_side else "sp1") or self._book_best(scrip.key, bid_side, pp)
        if not best:
            return None
        # without a tick size (no touchline) only an order at or inside the touch is near
        ti = scrip.get("ti")
        near = self.limits.near_touch_ticks
        behind = best - price if bid_side else price - best
        away = behind // ti if ti else (0 if behind <= 0 else near + 1)
        if away > near:
            return None
        away = max(away, 0)
        usual = state.orders.median() or 1.0
        side = "buy" if bid_side else "sell"
        touch = "best bid" if bid_side else "best offer"
        where = (
            f"at the {touch}"
            if away == 0
            else f"{away} tick{'s' if away > 1 else ''} from the {touch}"
        )
        text = (
            f"{side} order of {format_qty(qty)} at {format_units(price, pp)}, {where}; "
            f"orders {usually(qty, usual)}"
        )
        figures: dict[str, Figure] = {
            "qty": qty,
            "price": format_units(price, pp),
            "side": side,
            "ticks_from_touch": away,
            "usual": round(usual),
            "times": round(qty / usual, 1),
            "oid": e.oid,
            "action": "add" if e.action == "A" else "modify",
        }
        return Condition("info", e.oid, text, figures)

    def _book_best(self, key: str, bid_side: bool, pp: int) -> int | None:
        """The best price of a side from the L2 book: a scrip with no touchline."""
        book = self.context.market.books.get(key)
        if book is None:
            return None
        bids, asks = book.levels(pp, 1)
        levels = bids if bid_side else asks
        return levels[0].price if levels else None
