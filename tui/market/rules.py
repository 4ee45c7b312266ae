"""The surveillance rules: patterns worth a look, raised as :class:`~tui.market.alerts.Alert`.

:class:`RuleEngine` is called once a frame with the scrips that received messages since
the last call (``Market.flush`` results) and the monotonic clock.  It reads each of those
scrips through ``Market.view`` (exact integers; floats only for ratios and percents),
the L2 tape events since its last call (``Market.tape.since``), and, at most once a
second, the time since each scrip it has seen last updated.  docs/SURVEILLANCE.md says
what every rule looks at and why its defaults are what they are.

Each rule keeps a little state per scrip, all bounded (deques with ``maxlen``, medians
of fixed windows).  A rule that lacks a field it needs (no ``ti``, no ``lc``, a price that
did not convert) simply says nothing for that scrip: the engine never raises on data.

Repeats: an alert for (rule, scrip) fires when its condition starts, then again only
after the condition cleared (it has not held for ``clear_after`` seconds: a flicker is not
a new episode), after ``repeat_after`` seconds, when it escalates (a higher severity) or
when it changes (the other limit, the other direction, another order).  An event rule
(``print``, ``l2-large``) clears when the scrip is next seen without such an event.  Wording is neutral: what happened, in figures; never a motive.
"""

from __future__ import annotations

import statistics
import time
from collections import deque
from collections.abc import Callable, Iterable
from difflib import get_close_matches
from typing import Annotated, Final, NamedTuple, cast

import msgspec

from tui.market.alerts import RANK, Alert, Figure
from tui.market.scrip import Scrip
from tui.market.store import Market
from tui.market.tape import TapeEvent
from tui.wire.prices import format_qty, format_units, to_int, to_units

#: Every rule id, in the order the engine runs them.
RULES: Final = (
    "circuit", "locked", "spread", "volume", "print", "jump", "imbalance", "stale",
    "l2-large", "l2-churn",
)
#: The severities each rule can raise (docs/SURVEILLANCE.md).
SEVERITY_OF: Final = {
    "circuit": ("warn", "alert"), "locked": ("alert",), "spread": ("warn",),
    "volume": ("warn",), "print": ("info",), "jump": ("warn", "alert"),
    "imbalance": ("info",), "stale": ("warn",), "l2-large": ("info",), "l2-churn": ("warn",),
}
#: Rules about single events (a trade, an order): each event is news, they clear at once.
EVENT_RULES: Final = frozenset({"print", "l2-large"})
#: Seconds between two observations of a scrip's spread for its baseline: a frame's
#: worth would make ``spread_samples`` a couple of seconds of history, not a minute.
SPREAD_EVERY: Final = 1.0
#: Staleness is checked at most this often (seconds): it walks the scrips gone quiet.
STALE_CHECK_EVERY: Final = 1.0
#: Order ids remembered per scrip for add-then-cancel (oldest forgotten first).
MAX_TRACKED_ORDERS: Final = 5000

_Positive = Annotated[float, msgspec.Meta(gt=0)]
_Count = Annotated[int, msgspec.Meta(ge=1)]
_Qty = Annotated[int, msgspec.Meta(ge=0)]
_Ratio = Annotated[float, msgspec.Meta(ge=1)]


def _every_rule() -> list[str]:
    return list(RULES)


class Thresholds(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Every threshold of every rule, with its default (the ``[surveillance]`` table).

    Durations are seconds, distances ticks (``ti``), quantities shares, ratios plain
    multiples.  docs/SURVEILLANCE.md gives the reason for each default.
    """

    #: the rules that run (default: all of them)
    enabled: list[str] = msgspec.field(default_factory=_every_rule)
    #: an alert whose condition lasts fires again after this many seconds
    repeat_after: _Positive = 300.0
    #: a condition has cleared once it has not held for this long (no alert on a flicker)
    clear_after: Annotated[float, msgspec.Meta(ge=0)] = 5.0
    #: observations a rolling median needs before a rule judges against it
    min_samples: _Count = 20
    # circuit, locked
    circuit_near_pct: Annotated[float, msgspec.Meta(ge=0, le=100)] = 1.0
    # spread
    spread_mult: _Ratio = 8.0
    spread_min_ticks: _Count = 10
    spread_samples: _Count = 60
    spread_hold: Annotated[float, msgspec.Meta(ge=0)] = 2.0
    # volume
    volume_window: _Positive = 10.0
    volume_mult: _Ratio = 5.0
    volume_min_qty: _Qty = 10_000
    volume_windows: _Count = 30
    volume_min_windows: _Count = 3
    # print
    print_mult: _Ratio = 20.0
    print_min_qty: _Qty = 1_000
    print_samples: _Count = 100
    # jump
    jump_ticks: _Count = 20
    jump_pct: Annotated[float, msgspec.Meta(ge=0, le=100)] = 1.0
    jump_window: _Positive = 5.0
    # imbalance
    imbalance_ratio: _Ratio = 8.0
    imbalance_min_qty: _Qty = 10_000
    imbalance_hold: Annotated[float, msgspec.Meta(ge=0)] = 5.0
    # stale
    stale_after: _Positive = 20.0
    ft_behind: _Positive = 30.0
    # l2-large
    large_order_mult: _Ratio = 25.0
    large_order_min_qty: _Qty = 1_000
    near_touch_ticks: Annotated[int, msgspec.Meta(ge=0)] = 5
    order_samples: _Count = 200
    # l2-churn
    churn_count: _Count = 10
    churn_window: _Positive = 2.0

    def __post_init__(self) -> None:
        repeated = sorted({name for name in self.enabled if self.enabled.count(name) > 1})
        if repeated:
            raise ValueError(f"enabled lists {', '.join(map(repr, repeated))} more than once")
        for name in self.enabled:
            if name not in RULES:
                near = get_close_matches(name, RULES, n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else f"; one of: {', '.join(RULES)}"
                raise ValueError(f"enabled lists an unknown rule {name!r}{hint}")


class Condition(NamedTuple):
    """A rule's finding for one scrip now: what is seen, before repeats are settled."""

    severity: str
    #: what makes two findings the same condition (the limit, the direction, the order id)
    sig: str
    text: str
    figures: dict[str, Figure]


#: What a rule returns when it cannot tell this frame: whatever holds, holds on.
KEEP: Final = Condition("info", "", "", {})
#: Seconds ``imbalance`` forgives a dip under the ratio: books flicker as orders come and go.
IMBALANCE_GRACE: Final = 1.0


class RollingMedian:
    """The median of the last ``size`` observations, recomputed every ``refresh`` adds
    (a sort of at most ``size`` items; between refreshes the median moves little)."""

    __slots__ = ("_median", "_since", "refresh", "values")

    def __init__(self, size: int, refresh: int = 8) -> None:
        self.values: deque[float] = deque(maxlen=size)
        self.refresh = refresh
        self._median: float | None = None
        self._since = 0

    def __len__(self) -> int:
        return len(self.values)

    def add(self, value: float) -> None:
        self.values.append(value)
        self._since += 1

    def median(self) -> float | None:
        if self._median is None or self._since >= self.refresh:
            if not self.values:
                return None
            self._median = statistics.median(self.values)
            self._since = 0
        return self._median


class _Active:
    """A condition that fired and has not cleared (``absent``: since when it has not held)."""

    __slots__ = ("absent", "fired", "severity", "sig")

    def __init__(self, sig: str, severity: str, fired: float) -> None:
        self.sig, self.severity, self.fired = sig, severity, fired
        self.absent: float | None = None


class _State:
    """Everything the rules remember about one scrip (all bounded)."""

    __slots__ = (
        "active",
        "adds",
        "base_t",
        "base_v",
        "churn",
        "hi",
        "last_ft",
        "last_lp",
        "last_v",
        "lean",
        "lean_last",
        "lean_since",
        "lo",
        "marks",
        "orders",
        "prints",
        "seen",
        "spread_at",
        "spreads",
        "wide_since",
        "windows",
    )

    def __init__(self, t: Thresholds) -> None:
        self.active: dict[str, _Active] = {}
        self.seen = 0  # evaluations of this scrip, capped at 2 ("seen updating")
        self.spreads = RollingMedian(t.spread_samples)
        self.spread_at = float("-inf")
        self.wide_since: float | None = None
        # imbalance: the side leaning now, since when, and when it last was past the ratio
        self.lean = ""
        self.lean_since = 0.0
        self.lean_last = 0.0
        # volume: the window in progress and the finished windows' increases
        self.base_t: float | None = None
        self.base_v = 0
        self.marks: deque[tuple[float, int]] = deque(maxlen=12)
        self.windows = RollingMedian(t.volume_windows, refresh=1)
        self.last_v: int | None = None
        self.last_ft: int | None = None  # stale: the feed time judged last
        self.prints = RollingMedian(t.print_samples)
        # jump: monotonic deques of (time, price) over the window: max first, min first
        self.hi: deque[tuple[float, int]] = deque(maxlen=512)
        self.lo: deque[tuple[float, int]] = deque(maxlen=512)
        self.last_lp: int | None = None
        # L2: order sizes; orders added recently (oid -> (time, price text, qty)); and by
        # price text, the times of add-then-cancels since the last trade there
        self.orders = RollingMedian(t.order_samples, refresh=16)
        self.adds: dict[str, tuple[float, str, int]] = {}
        self.churn: dict[str, deque[float]] = {}


_Rule = Callable[[Scrip, "dict[str, int]", _State, float], Condition | None]


class RuleEngine:
    """Runs the enabled rules over a :class:`Market` (see the module docstring).

    ``wall`` stamps the alerts (epoch seconds) and judges feed time (``ft``); ``now`` given
    to :meth:`evaluate` is the monotonic clock every window and repeat is measured on.
    ``errors``/``last_error`` count anything unexpected a rule met (a bug, never data):
    the desk keeps running and the health pane can show it.
    """

    def __init__(
        self,
        market: Market,
        thresholds: Thresholds | None = None,
        *,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.market = market
        self.t = t = thresholds if thresholds is not None else Thresholds()
        self.wall = wall
        enabled = set(t.enabled)
        self.rules: tuple[str, ...] = tuple(r for r in RULES if r in enabled)
        self.seq = 0
        self.errors = 0
        self.last_error = ""
        self._states: dict[str, _State] = {}
        #: key -> monotonic time of its last evaluation, least recent first
        self._last_seen: dict[str, float] = {}
        self._last_any: float | None = None
        self._prev_now: float | None = None  # the previous call's clock
        self._stale_checked = float("-inf")
        self._tape_seq = market.tape.total
        #: L2 events that fell off the tape before the engine read them
        self.tape_missed = 0
        self._near_bp = round(t.circuit_near_pct * 100)
        self._jump_bp = round(t.jump_pct * 100)
        self._scrip_rules: list[tuple[str, _Rule]] = [
            (rule, fn)
            for rule, fn in (
                ("circuit", self._circuit), ("locked", self._locked), ("spread", self._spread),
                ("volume", self._volume), ("print", self._print), ("jump", self._jump),
                ("imbalance", self._imbalance),
            )
            if rule in enabled
        ]

    # -- the one entry point ---------------------------------------------------------------
    def evaluate(self, keys: Iterable[str], now: float) -> list[Alert]:
        """Alerts raised by what arrived for ``keys`` and on the L2 tape since the last
        call, and by scrips gone quiet; oldest first."""
        out: list[Alert] = []
        wall = self.wall()
        any_key = False
        for key in keys:
            any_key = True
            try:
                self._scrip(key, now, wall, out)
            except Exception as exc:  # noqa: BLE001 - a rule's bug must not stop the desk
                self._failed(key, exc)
        if any_key:
            self._last_any = now
        self._prev_now = now
        if "l2-large" in self.rules or "l2-churn" in self.rules:
            self._tape(now, wall, out)
        if "stale" in self.rules and now - self._stale_checked >= STALE_CHECK_EVERY:
            self._stale_checked = now
            self._quiet(now, wall, out)
        return out

    def forget(self, key: str) -> None:
        """Drop what the rules remember of ``key`` (unsubscribed)."""
        self._states.pop(key, None)
        self._last_seen.pop(key, None)

    def _failed(self, key: str, exc: Exception) -> None:
        self.errors += 1
        self.last_error = f"{key}: {type(exc).__name__}: {exc}"

    def _state(self, key: str) -> _State:
        st = self._states.get(key)
        if st is None:
            st = self._states[key] = _State(self.t)
        return st

    # -- per scrip -------------------------------------------------------------------------
    def _scrip(self, key: str, now: float, wall: float, out: list[Alert]) -> None:
        scrip = self.market.view(key)
        if scrip is None:
            return  # L2 traffic only: the tape rules see it
        # the numeric fields the rules read are ints in ``values`` (tui/wire/fields.py);
        # one dict look-up each, not a method call
        nums = cast("dict[str, int]", scrip.values)
        st = self._state(key)
        self._last_seen.pop(key, None)
        self._last_seen[key] = now  # re-inserted: the dict stays least recent first
        if st.seen < 2:
            st.seen += 1
        active = st.active
        for rule, fn in self._scrip_rules:
            cond = fn(scrip, nums, st, now)
            if cond is not None or rule in active:
                self._settle(st, rule, scrip, cond, now, wall, out)
        if "stale" in self.rules:
            ft = nums.get("ft")
            if ft is not None and ft != st.last_ft:  # a feed time that moved: judge it
                st.last_ft = ft
                cond = self._feed_time(ft, wall)
                if cond is not None or "stale" in active:
                    self._settle(st, "stale", scrip, cond, now, wall, out)
            elif "stale" in active and active["stale"].sig == "silent":
                del active["stale"]  # it updated: no longer silent
        v = nums.get("v")
        if v is not None:
            st.last_v = v

    def _settle(
        self, st: _State, rule: str, scrip: Scrip, cond: Condition | None, now: float,
        wall: float, out: list[Alert],
    ) -> None:
        """Fire, repeat or hold back ``cond`` for (``rule``, scrip): the repeat policy."""
        if cond is KEEP:
            return
        active = st.active.get(rule)
        clear_after = 0.0 if rule in EVENT_RULES else self.t.clear_after
        if cond is None:
            if active is not None:
                if active.absent is None:
                    active.absent = now
                if now - active.absent >= clear_after:
                    del st.active[rule]
            return
        if active is not None and active.absent is not None:
            if now - active.absent >= clear_after:
                active = None  # it had cleared: this is a new episode
            else:
                active.absent = None  # a flicker: the same episode goes on
        if active is not None:
            higher = RANK[cond.severity] > RANK[active.severity]
            if cond.sig == active.sig and not higher and now - active.fired < self.t.repeat_after:
                return
        st.active[rule] = _Active(cond.sig, cond.severity, now)
        self.seq += 1
        out.append(Alert(self.seq, wall, scrip.key, scrip.symbol, rule, cond.severity,
                         cond.text, cond.figures))

    # -- the touchline rules ---------------------------------------------------------------
    def _circuit(self, scrip: Scrip, nums: dict[str, int], st: _State, now: float) -> Condition | None:
        """Within ``circuit_near_pct`` of a limit (warn); at or through it (alert)."""
        lp, lc, uc = nums.get("lp"), nums.get("lc"), nums.get("uc")
        if not lp or (lc and uc and lc >= uc):
            return None
        pp = scrip.pp
        if uc and lp >= uc:
            return _at_limit(lp, uc, "upper", pp)
        if lc and lp <= lc:
            return _at_limit(lp, lc, "lower", pp)
        up = uc - lp if uc else None
        down = lp - lc if lc else None
        if up is not None and (down is None or up <= down):
            dist, side, limit = up, "upper", uc
        elif down is not None:
            dist, side, limit = down, "lower", lc
        else:
            return None
        if dist * 10_000 > self._near_bp * lp:
            return None
        pct = round(dist * 100 / lp, 2)
        text = (f"last {format_units(lp, pp)} is {pct:.2f}% from the {side} circuit limit "
                f"{format_units(limit, pp)}")
        figures: dict[str, Figure] = {
            "last": format_units(lp, pp), "limit": format_units(limit, pp), "side": side,
            "distance_pct": pct,
        }
        return Condition("warn", side, text, figures)

    def _locked(self, scrip: Scrip, nums: dict[str, int], st: _State, now: float) -> Condition | None:
        """At a limit with nothing on the other side: no offers at the upper, no bids at
        the lower (only for a scrip whose depth is known)."""
        lp, lc, uc = nums.get("lp"), nums.get("lc"), nums.get("uc")
        if not lp:
            return None
        values, pp = scrip.values, scrip.pp
        if uc and lp >= uc and ("sp1" in values or "sq1" in values) and scrip.level("s", 1).empty:
            bid = scrip.level("b", 1)
            return _lock(uc, "upper", "no offers", "bid", bid.qty, pp)
        if lc and lp <= lc and ("bp1" in values or "bq1" in values) and scrip.level("b", 1).empty:
            ask = scrip.level("s", 1)
            return _lock(lc, "lower", "no bids", "offered", ask.qty, pp)
        return None

    def _spread(self, scrip: Scrip, nums: dict[str, int], st: _State, now: float) -> Condition | None:
        """The touch ``spread_mult`` times wider than the scrip's own median, in ticks."""
        ti, bp, sp = nums.get("ti"), nums.get("bp1"), nums.get("sp1")
        if not ti or not bp or not sp or sp <= bp:
            return None  # no tick, one side empty, or a crossed/locked touch
        ticks = (sp - bp) // ti
        usual = st.spreads.median()
        enough = len(st.spreads) >= self.t.min_samples
        if now - st.spread_at >= SPREAD_EVERY:  # the baseline: one observation a second
            st.spread_at = now
            st.spreads.add(ticks)
        t = self.t
        if usual is None or not enough or ticks < t.spread_min_ticks or ticks <= t.spread_mult * usual:
            st.wide_since = None
            return None
        if st.wide_since is None:
            st.wide_since = now
        held = now - st.wide_since
        if held < t.spread_hold:
            return None  # a sweep of the touch refills in a moment: only a lasting one counts
        pp = scrip.pp
        text = (f"spread {format_qty(ticks)} ticks ({format_units(bp, pp)} / {format_units(sp, pp)}) "
                f"for {_num(round(held, 1))} s, usually {_num(usual)}")
        figures: dict[str, Figure] = {
            "spread_ticks": ticks, "usual_ticks": round(usual, 1), "bid": format_units(bp, pp),
            "ask": format_units(sp, pp), "times": round(ticks / max(usual, 1e-9), 1),
            "seconds": round(held, 1),
        }
        return Condition("warn", "", text, figures)

    def _volume(self, scrip: Scrip, nums: dict[str, int], st: _State, now: float) -> Condition | None:
        """The volume of the last ``volume_window`` seconds against the median volume of
        the scrip's past windows (``volume_windows`` of them)."""
        v = nums.get("v")
        if v is None:
            return None
        t = self.t
        window = t.volume_window
        if st.base_t is None or (st.last_v is not None and v < st.last_v):
            st.base_t, st.base_v = now, v  # first sight, or a new session: start again
            st.marks.clear()
            st.marks.append((now, v))
            return None
        elapsed = now - st.base_t
        if elapsed >= window:  # a window ended: its increase, per window, joins the baseline
            st.windows.add((v - st.base_v) * window / elapsed)
            st.base_t, st.base_v = now, v
        marks = st.marks
        if now - marks[-1][0] >= window / 8:
            marks.append((now, v))
        while len(marks) > 1 and now - marks[1][0] >= window:
            marks.popleft()  # marks[0]: the newest mark at least a window old
        start_t, start_v = marks[0]
        span = now - start_t
        if span < window or len(st.windows) < t.volume_min_windows:
            return None
        traded = v - start_v
        usual = st.windows.median()
        per_window = traded * window / span  # a scrip silent for a while: its rate
        if usual is None or traded < t.volume_min_qty or per_window < t.volume_mult * usual:
            return None
        seconds = round(span)
        text = f"volume {format_qty(traded)} in the last {format_qty(seconds)} s, {_usually(traded, usual)}"
        figures: dict[str, Figure] = {
            "volume": traded, "seconds": seconds, "usual": round(usual),
            "times": round(traded / max(usual, 1.0), 1),
        }
        return Condition("warn", "", text, figures)

    def _print(self, scrip: Scrip, nums: dict[str, int], st: _State, now: float) -> Condition | None:
        """A last trade quantity ``print_mult`` times the scrip's median one (an event:
        judged only in frames where the volume rose, i.e. something traded)."""
        v, ltq = nums.get("v"), nums.get("ltq")
        if v is None or not ltq or st.last_v is None or v <= st.last_v:
            return None
        usual = st.prints.median()
        enough = len(st.prints) >= self.t.min_samples
        st.prints.add(ltq)
        t = self.t
        if usual is None or not enough or ltq < t.print_min_qty or ltq < t.print_mult * usual:
            return None
        pp = scrip.pp
        lp = nums.get("lp")
        at = f" at {format_units(lp, pp)}" if lp else ""
        text = f"single trade of {format_qty(ltq)}{at}, {_usually(ltq, usual)}"
        figures: dict[str, Figure] = {
            "qty": ltq, "usual": round(usual), "times": round(ltq / max(usual, 1.0), 1),
            "price": format_units(lp, pp),
        }
        return Condition("info", "", text, figures)

    def _jump(self, scrip: Scrip, nums: dict[str, int], st: _State, now: float) -> Condition | None:
        """The last price ``jump_ticks`` ticks or more from its high or low of the last
        ``jump_window`` seconds.

        The window holds each earlier price stamped with the last moment it was surely
        the price (the previous frame: no message had changed it), in two monotonic deques
        (sliding max and min, O(1) a frame); the price now is the other end of any move,
        and "within" is the time since its start was last the price.
        """
        lp, ti = nums.get("lp"), nums.get("ti")
        if not lp or not ti:
            return None
        hi, lo, prev = st.hi, st.lo, st.last_lp
        if lp == prev:
            if "jump" not in st.active:
                return None  # no new price: no new move (the window only narrows)
        else:
            st.last_lp = lp
            if prev is not None:
                # ``prev`` was the price at the last frame at least: no message changed it
                seen = self._prev_now if self._prev_now is not None else now
                while hi and hi[-1][1] <= prev:
                    hi.pop()
                hi.append((seen, prev))
                while lo and lo[-1][1] >= prev:
                    lo.pop()
                lo.append((seen, prev))
        horizon = now - self.t.jump_window
        while hi and hi[0][0] < horizon:
            hi.popleft()
        while lo and lo[0][0] < horizon:
            lo.popleft()
        if not hi and not lo:
            return None
        t_hi, high = hi[0] if hi and hi[0][1] > lp else (now, lp)
        t_lo, low = lo[0] if lo and lo[0][1] < lp else (now, lp)
        if lp - low >= high - lp:
            moved, sig, start, since = lp - low, "up", low, t_lo
        else:
            moved, sig, start, since = high - lp, "down", high, t_hi
        ticks, n, bp = moved // ti, self.t.jump_ticks, self._jump_bp
        if ticks < n or moved * 10_000 < bp * start:
            return None
        big = ticks >= 2 * n and moved * 10_000 >= 2 * bp * start
        pp = scrip.pp
        seconds = max(round(now - since, 1), 0.0)
        pct = round(moved * 100 / start, 2)
        text = (f"last price {sig} {format_qty(ticks)} ticks ({pct:,.2f}%) within {_num(max(seconds, 0.1))} s: "
                f"{format_units(start, pp)} → {format_units(lp, pp)}")
        figures: dict[str, Figure] = {
            "ticks": ticks, "pct": pct, "direction": sig, "seconds": seconds,
            "from": format_units(start, pp), "to": format_units(lp, pp),
        }
        return Condition("alert" if big else "warn", sig, text, figures)

    def _imbalance(self, scrip: Scrip, nums: dict[str, int], st: _State, now: float) -> Condition | None:
        """Total buy against total sell quantity (``tbq``/``tsq``) past a ratio either way,
        for ``imbalance_hold`` seconds (dips of up to :data:`IMBALANCE_GRACE` forgiven)."""
        tbq, tsq = nums.get("tbq"), nums.get("tsq")
        if tbq is None or tsq is None:
            return None
        t = self.t
        if tbq + tsq < t.imbalance_min_qty:
            return None
        big, small, side, other = (tbq, tsq, "buy", "sell") if tbq >= tsq else (tsq, tbq, "sell", "buy")
        if small * t.imbalance_ratio > big:
            if st.lean and now - st.lean_last <= IMBALANCE_GRACE:
                return KEEP  # a dip for a moment neither ends the lean nor the alert
            st.lean = ""
            return None
        if st.lean != side:
            st.lean, st.lean_since = side, now
        st.lean_last = now
        held = now - st.lean_since
        if held < t.imbalance_hold:
            return None  # books lean for a moment all the time: only a lasting lean counts
        if small:
            ratio = round(big / small, 1)
            text = (f"{side} quantity {_num(ratio)}× {other} quantity: "
                    f"{format_qty(tbq)} bid against {format_qty(tsq)} offered")
        else:
            ratio = 0.0  # no other side at all
            text = f"{side} quantity {format_qty(big)} and no {other} quantity"
        text += f" for {_num(round(held, 1))} s"
        figures: dict[str, Figure] = {
            "tbq": tbq, "tsq": tsq, "ratio": ratio, "side": side, "seconds": round(held, 1),
        }
        return Condition("info", side, text, figures)

    # -- stale -----------------------------------------------------------------------------
    def _feed_time(self, ft: int, wall: float) -> Condition | None:
        """A feed time that just moved, ``ft_behind`` seconds or more behind the clock.

        Judged only when it moves: a feed that leaves ``ft`` out of its deltas must not make
        every scrip look behind (silence is the other half of the rule)."""
        behind = wall - ft
        if behind < self.t.ft_behind:
            return None
        seconds = round(behind)
        text = f"feed time {format_qty(seconds)} s behind the clock"
        return Condition("warn", "ft", text, {"behind_s": seconds, "ft": ft})

    def _quiet(self, now: float, wall: float, out: list[Alert]) -> None:
        """Scrips seen updating that have had nothing for ``stale_after`` seconds.

        Only while the feed as a whole is live (some scrip updated in the last half of
        ``stale_after``): when the feed itself stops, the health pane says so once,
        instead of one alert per scrip.
        """
        after = self.t.stale_after
        if self._last_any is None or now - self._last_any > after / 2:
            return
        market = self.market
        gone = []
        for key, seen in self._last_seen.items():  # least recent first
            silent = now - seen
            if silent < after:
                break
            if key not in market.scrips:
                gone.append(key)  # unsubscribed and forgotten by the market
                continue
            st = self._states.get(key)
            if st is None or st.seen < 2:
                continue
            scrip = market.scrips[key]
            seconds = round(silent)
            cond = Condition("warn", "silent", f"no update for {format_qty(seconds)} s",
                             {"silent_s": seconds})
            try:
                self._settle(st, "stale", scrip, cond, now, wall, out)
            except Exception as exc:  # noqa: BLE001
                self._failed(key, exc)
        for key in gone:
            self.forget(key)

    # -- the L2 tape -------------------------------------------------------------------------
    def _tape(self, now: float, wall: float, out: list[Alert]) -> None:
        tape = self.market.tape
        events = tape.since(self._tape_seq)
        missing = tape.total - self._tape_seq
        self._tape_seq = tape.total
        if not events:
            return
        self.tape_missed += missing - len(events)
        large: dict[str, tuple[int, TapeEvent]] = {}
        keys: dict[str, None] = {}
        for event in events:
            try:
                self._tape_event(event, now, large)
            except Exception as exc:  # noqa: BLE001
                self._failed(event.key, exc)
            keys[event.key] = None
        for key in keys:
            try:
                self._tape_scrip(key, now, wall, large.get(key), out)
            except Exception as exc:  # noqa: BLE001
                self._failed(key, exc)

    def _tape_event(self, e: TapeEvent, now: float, large: dict[str, tuple[int, TapeEvent]]) -> None:
        """Book-keeping of one L2 event: order sizes, large candidates, add-then-cancel."""
        st = self._state(e.key)
        action = e.action
        if action == "A" or action == "M":
            qty = to_int(e.qty)
            if qty is None:
                return
            adds = st.adds
            before = adds.pop(e.oid, None)
            grew = before is None or qty > before[2]  # a modify that only shrinks is no news
            usual = st.orders.median()
            if grew and usual is not None and len(st.orders) >= self.t.min_samples:
                t = self.t
                if qty >= t.large_order_min_qty and qty >= t.large_order_mult * usual:
                    best = large.get(e.key)
                    if best is None or qty > best[0]:
                        large[e.key] = (qty, e)
            st.orders.add(qty)
            adds[e.oid] = (now, e.price, qty)  # a modify moves the order to its (new) price
            if len(adds) > MAX_TRACKED_ORDERS:
                del adds[next(iter(adds))]
        elif action == "X":
            added = st.adds.pop(e.oid, None)
            if added is not None and now - added[0] <= self.t.churn_window:
                times = st.churn.get(added[1])
                if times is None:
                    times = st.churn[added[1]] = deque(maxlen=4 * self.t.churn_count)
                times.append(now)
        elif action == "T":
            st.churn.pop(e.price, None)  # a trade there: not orders pulled without trading

    def _tape_scrip(
        self, key: str, now: float, wall: float, large: tuple[int, TapeEvent] | None,
        out: list[Alert],
    ) -> None:
        st = self._state(key)
        scrip = self.market.scrips.get(key)
        if scrip is not None and scrip.delta:
            scrip = self.market.view(key)
        if scrip is None:
            scrip = Scrip(key)  # L2 only: a symbol from the key, the default precision
        window = self.t.churn_window
        adds = st.adds
        while adds:  # forget orders added too long ago to count
            oid = next(iter(adds))
            if now - adds[oid][0] <= window:
                break
            del adds[oid]
        if "l2-large" in self.rules:
            cond = self._large(scrip, large) if large is not None else None
            self._settle(st, "l2-large", scrip, cond, now, wall, out)
        if "l2-churn" in self.rules:
            self._settle(st, "l2-churn", scrip, self._churn(scrip, st, now), now, wall, out)

    def _large(self, scrip: Scrip, found: tuple[int, TapeEvent]) -> Condition | None:
        """The largest large order of the frame, if it rests within ``near_touch_ticks``
        of the best price of its side."""
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
        behind = best - price if bid_side else price - best
        away = behind // ti if ti else (0 if behind <= 0 else self.t.near_touch_ticks + 1)
        if away > self.t.near_touch_ticks:
            return None
        away = max(away, 0)
        st = self._states[scrip.key]
        usual = st.orders.median() or 1.0
        side = "buy" if bid_side else "sell"
        touch = "best bid" if bid_side else "best offer"
        where = f"at the {touch}" if away == 0 else f"{away} tick{'s' if away > 1 else ''} from the {touch}"
        text = (f"{side} order of {format_qty(qty)} at {format_units(price, pp)}, {where}; "
                f"orders {_usually(qty, usual)}")
        figures: dict[str, Figure] = {
            "qty": qty, "price": format_units(price, pp), "side": side, "ticks_from_touch": away,
            "usual": round(usual), "times": round(qty / usual, 1), "oid": e.oid,
            "action": "add" if e.action == "A" else "modify",
        }
        return Condition("info", e.oid, text, figures)

    def _book_best(self, key: str, bid_side: bool, pp: int) -> int | None:
        """The best price of a side from the L2 book: a scrip with no touchline."""
        book = self.market.books.get(key)
        if book is None:
            return None
        bids, asks = book.levels(pp, 1)
        levels = bids if bid_side else asks
        return levels[0].price if levels else None

    def _churn(self, scrip: Scrip, st: _State, now: float) -> Condition | None:
        """``churn_count`` orders or more added then cancelled at one price within
        ``churn_window`` seconds, with no trade at that price since."""
        horizon = now - self.t.churn_window
        best_price, best_n = "", 0
        empty = []
        for price, times in st.churn.items():
            while times and times[0] < horizon:
                times.popleft()
            if not times:
                empty.append(price)
            elif len(times) > best_n:
                best_price, best_n = price, len(times)
        for price in empty:
            del st.churn[price]
        if best_n < self.t.churn_count:
            return None
        pp = scrip.pp
        units = to_units(best_price, pp)
        shown = format_units(units, pp) if units is not None else best_price
        seconds = max(round(now - st.churn[best_price][0]), 1)
        text = (f"orders added and cancelled repeatedly at {shown}: {format_qty(best_n)} in "
                f"{format_qty(seconds)} s, no trade")
        figures: dict[str, Figure] = {"price": shown, "count": best_n, "seconds": seconds}
        return Condition("warn", "", text, figures)


def _at_limit(lp: int, limit: int, side: str, pp: int) -> Condition:
    past = "through" if lp != limit else "at"
    text = f"last {format_units(lp, pp)} {past} the {side} circuit limit {format_units(limit, pp)}"
    figures: dict[str, Figure] = {
        "last": format_units(lp, pp), "limit": format_units(limit, pp), "side": side,
        "distance_pct": 0.0,
    }
    return Condition("alert", side, text, figures)


def _lock(limit: int, side: str, lacks: str, waiting: str, qty: int, pp: int) -> Condition:
    text = f"at the {side} circuit limit {format_units(limit, pp)} with {lacks}"
    if qty:
        text += f": {format_qty(qty)} {waiting} at the limit"
    figures: dict[str, Figure] = {"limit": format_units(limit, pp), "side": side, "waiting_qty": qty}
    return Condition("alert", side, text, figures)


def _num(value: float) -> str:
    """A ratio or duration for a sentence: ``4``, ``4.5``, ``24,600``."""
    return f"{value:,.1f}".removesuffix(".0")


def _usually(value: float, usual: float) -> str:
    """``usually 1,200 (3.5×)``, or ``usually none`` when the usual rounds to nothing."""
    if round(usual) <= 0:
        return "usually none"
    return f"usually {format_qty(round(usual))} ({_num(round(value / usual, 1))}×)"
