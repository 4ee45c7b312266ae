"""``volume``: the volume of the last window many times the scrip's usual window."""

from __future__ import annotations

from collections import deque

import msgspec

from tui.market.alerts import Figure
from tui.market.rules.rule import Active, Condition, RollingMedian, Rule, usually
from tui.market.rules.thresholds import Count, Positive, Qty, Ratio
from tui.market.scrip import Scrip
from tui.wire.prices import format_qty


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    #: seconds a window lasts
    volume_window: Positive = 10.0
    #: this many times the median window
    volume_mult: Ratio = 5.0
    #: and at least this many shares
    volume_min_qty: Qty = 10_000
    #: past windows the median is taken over
    volume_windows: Count = 30
    #: past windows needed before judging
    volume_min_windows: Count = 3


class State:
    """The window in progress, marks of the volume through the last window, and the
    finished windows' increases."""

    __slots__ = ("base_t", "base_v", "last_v", "marks", "windows")

    def __init__(self, windows: int) -> None:
        self.base_t: float | None = None
        self.base_v = 0
        self.marks: deque[tuple[float, int]] = deque(maxlen=12)
        self.windows = RollingMedian(windows, refresh=1)
        #: the volume at the scrip's previous evaluation
        self.last_v: int | None = None


class Volume(Rule[Limits, State]):
    """The volume of the last ``volume_window`` seconds against the median volume of
    the scrip's past windows (``volume_windows`` of them)."""

    name = "volume"
    severities = ("warn",)
    Limits = Limits

    def new_state(self) -> State:
        return State(self.limits.volume_windows)

    def check(
        self, scrip: Scrip, nums: dict[str, int], state: State, active: Active | None, now: float
    ) -> Condition | None:
        v = nums.get("v")
        if v is None:
            return None
        st = state
        last_v, st.last_v = st.last_v, v
        t = self.limits
        window = t.volume_window
        if st.base_t is None or (last_v is not None and v < last_v):
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
        text = f"volume {format_qty(traded)} in the last {format_qty(seconds)} s, {usually(traded, usual)}"
        figures: dict[str, Figure] = {
            "volume": traded,
            "seconds": seconds,
            "usual": round(usual),
            "times": round(traded / max(usual, 1.0), 1),
        }
        return Condition("warn", "", text, figures)
