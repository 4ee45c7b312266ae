"""``stale``: a scrip seen updating that went quiet, or whose feed time is far behind.

Two halves. Silence is found by a sweep (at most once a second) over the scrips seen,
least recently evaluated first; a feed time (``ft``) is judged as it moves.
"""

from __future__ import annotations

from collections.abc import Iterator

import msgspec

from tui.market.rules.rule import GONE, KEEP, Active, Condition, Context, Rule
from tui.market.rules.thresholds import General, Positive
from tui.market.scrip import Scrip
from tui.wire.prices import format_qty


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    #: a scrip seen updating that has had nothing for this many seconds
    stale_after: Positive = 20.0
    #: a feed time that just moved this many seconds behind the clock
    ft_behind: Positive = 30.0


class State:
    __slots__ = ("last_ft",)

    def __init__(self) -> None:
        #: the feed time judged last
        self.last_ft: int | None = None


class Stale(Rule[Limits, State]):
    """Silent for ``stale_after`` seconds, or ``ft`` ``ft_behind`` seconds behind."""

    name = "stale"
    severities = ("warn",)
    Limits = Limits
    sweep_every = 1.0

    def __init__(self, thresholds: General, context: Context) -> None:
        super().__init__(thresholds, context)
        #: key -> clock time of its last evaluation, least recent first
        self.last_seen: dict[str, float] = {}
        #: evaluations of each key, capped at 2 ("seen updating")
        self.seen: dict[str, int] = {}

    def new_state(self) -> State:
        return State()

    def check(
        self, scrip: Scrip, nums: dict[str, int], state: State, active: Active | None, now: float
    ) -> Condition | None:
        key = scrip.key
        self.last_seen.pop(key, None)
        self.last_seen[key] = now  # re-inserted: the dict stays least recent first
        if self.seen.get(key, 0) < 2:
            self.seen[key] = self.seen.get(key, 0) + 1
        ft = nums.get("ft")
        if ft is not None and ft != state.last_ft:  # a feed time that moved: judge it
            state.last_ft = ft
            return self._feed_time(ft)
        if active is not None and active.sig == "silent":
            return GONE  # it updated: no longer silent
        return KEEP

    def _feed_time(self, ft: int) -> Condition | None:
        """A feed time that just moved, ``ft_behind`` seconds or more behind the clock.

        Judged only when it moves: a feed that leaves ``ft`` out of its deltas must not make
        every scrip look behind (silence is the other half of the rule)."""
        behind = self.context.wall - ft
        if behind < self.limits.ft_behind:
            return None
        seconds = round(behind)
        text = f"feed time {format_qty(seconds)} s behind the clock"
        return Condition("warn", "ft", text, {"behind_s": seconds, "ft": ft})

    def sweep(self, now: float) -> Iterator[tuple[str, Condition | None]]:
        """Scrips seen updating that have had nothing for ``stale_after`` seconds.

        Only while the feed as a whole is live (some scrip updated in the last half of
        ``stale_after``): when the feed itself stops, the health pane says so once,
        instead of one alert per scrip.
        """
        after = self.limits.stale_after
        last_any = self.context.last_any
        if last_any is None or now - last_any > after / 2:
            return
        scrips = self.context.market.scrips
        for key, seen in self.last_seen.items():  # least recent first
            silent = now - seen
            if silent < after:
                break
            if key not in scrips:
                yield key, None  # unsubscribed and forgotten by the market
                continue
            if self.seen.get(key, 0) < 2:
                continue
            seconds = round(silent)
            yield (
                key,
                Condition(
                    "warn",
                    "silent",
                    f"no update for {format_qty(seconds)} s",
                    {"silent_s": seconds},
                ),
            )

    def forget(self, key: str) -> None:
        self.last_seen.pop(key, None)
        self.seen.pop(key, None)
