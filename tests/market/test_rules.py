"""The surveillance rules on crafted message sequences, through ``Market.apply``/``flush``.

Per rule: it fires when it should, stays quiet when it should not, repeats only as the
policy says, and skips a scrip whose fields are missing or bad, never raising.  Clocks
are injected: ``Desk.now`` (monotonic) and ``Desk.wall`` (epoch) move only when told.
"""

from __future__ import annotations

import re
from itertools import count
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.config_file import ConfigError, parse_config
from tui.market.alerts import SEVERITIES, Alert
from tui.market.rules import RULES, SEVERITY_OF, RuleEngine, Thresholds
from tui.market.store import Market
from tui.wire.frames import DecodeErrors

FT0 = 1_750_652_000
KEY = "NSE|2885"
OTHER = "NSE|1594"
#: words an alert must never use: it shows a pattern, it does not accuse anyone
ACCUSING = re.compile(
    r"spoof|manipulat|suspicious|fraud|illegal|abuse|layering|wash|fake", re.IGNORECASE
)


def dk(key: str = KEY, **fields: Any) -> dict[str, Any]:
    """A depth snapshot: 1000.00, tick 0.05, limits 800/1200, a one-tick touch."""
    e, tk = key.split("|")
    msg: dict[str, Any] = {
        "t": "dk",
        "e": e,
        "tk": tk,
        "ts": "RELIANCE" if key == KEY else "INFY",
        "pp": "2",
        "ti": "0.05",
        "ls": "1",
        "lp": "1000.00",
        "lc": "800.00",
        "uc": "1200.00",
        "v": "0",
        "ltq": "0",
        "tbq": "50000",
        "tsq": "50000",
        "bp1": "999.95",
        "bq1": "100",
        "bo1": "1",
        "sp1": "1000.00",
        "sq1": "100",
        "so1": "1",
        "ft": str(FT0),
    }
    msg.update({name: str(value) for name, value in fields.items()})
    return msg


def df(key: str = KEY, **fields: Any) -> dict[str, Any]:
    e, tk = key.split("|")
    return {"t": "df", "e": e, "tk": tk, **{name: str(v) for name, v in fields.items()}}


class Desk:
    """A market, a rule engine and the two clocks, advanced frame by frame."""

    def __init__(
        self,
        *snapshots: dict[str, Any],
        rules: tuple[str, ...] | None = None,
        t: Thresholds | None = None,
    ) -> None:
        thresholds = t
        if rules is not None:  # the rules under test only: a big move is also a jump...
            thresholds = msgspec.structs.replace(t or Thresholds(), enabled=list(rules))
        self.errors = DecodeErrors()
        self.market = Market(self.errors)
        self.now = 1000.0
        self.wall = float(FT0)
        self.engine = RuleEngine(self.market, thresholds, wall=lambda: self.wall)
        self.alerts: list[Alert] = []
        self._sq = count(1)
        self._oid = count(1)
        if snapshots:
            self.frame(*snapshots)

    def frame(self, *msgs: dict[str, Any], dt: float = 0.05) -> list[Alert]:
        """Apply ``msgs``, move both clocks ``dt`` on, flush and evaluate: the new alerts."""
        for msg in msgs:
            self.market.apply(msg)
        self.now += dt
        self.wall += dt
        out = self.engine.evaluate(self.market.flush(self.now), self.now)
        self.alerts += out
        return out

    def frames(self, n: int, *msgs: dict[str, Any], dt: float = 1.0) -> list[Alert]:
        out: list[Alert] = []
        for _ in range(n):
            out += self.frame(*msgs, dt=dt)
        return out

    def rules(self, alerts: list[Alert] | None = None) -> list[str]:
        return [a.rule for a in (self.alerts if alerts is None else alerts)]

    # -- L2 ------------------------------------------------------------------------------
    def lo(
        self, ac: str, oid: str, side: str, price: str, qty: int, key: str = KEY
    ) -> dict[str, Any]:
        e, tk = key.split("|")
        return {
            "t": "lo",
            "e": e,
            "tk": tk,
            "ft": str(FT0),
            "sq": str(next(self._sq)),
            "oid": oid,
            "sd": side,
            "ac": ac,
            "pr": price,
            "q": str(qty),
        }

    def add(self, side: str, price: str, qty: int, key: str = KEY) -> tuple[str, dict[str, Any]]:
        oid = f"O{next(self._oid)}"
        return oid, self.lo("A", oid, side, price, qty, key)

    def lt(self, oid: str, side: str, price: str, qty: int, key: str = KEY) -> dict[str, Any]:
        """An execution of ``oid``: the fields of an ``lo`` but the action, and the
        aggressor (the other side)."""
        msg = self.lo("", oid, side, price, qty, key)
        del msg["ac"]
        return {**msg, "t": "lt", "ag": "S" if side == "B" else "B"}


def only(alerts: list[Alert], rule: str) -> list[Alert]:
    return [a for a in alerts if a.rule == rule]


def assert_neutral(alerts: list[Alert]) -> None:
    for a in alerts:
        assert not ACCUSING.search(a.text), a.text
        assert a.severity in SEVERITY_OF[a.rule], a
        assert "\n" not in a.text


# -- circuit and locked ------------------------------------------------------------------
def test_circuit_warns_near_a_limit_and_alerts_at_it_once_each() -> None:
    desk = Desk(dk(), rules=("circuit", "locked"))
    assert desk.alerts == []
    near = desk.frame(df(lp="1190.00"))  # 0.84% below 1200.00: within 1%
    assert [(a.rule, a.severity) for a in near] == [("circuit", "warn")]
    assert near[0].text == "last 1190.00 is 0.84% from the upper circuit limit 1200.00"
    assert near[0].figures == {
        "last": "1190.00",
        "limit": "1200.00",
        "side": "upper",
        "distance_pct": 0.84,
    }
    assert only(desk.frame(df(lp="1191.00")), "circuit") == []  # still near: not again
    at = only(desk.frame(df(lp="1200.00")), "circuit")
    assert [(a.severity, a.text) for a in at] == [
        ("alert", "last 1200.00 at the upper circuit limit 1200.00")
    ]
    assert only(desk.frame(df(lp="1195.00")), "circuit") == []  # back to near: no news
    assert only(desk.frame(df(lp="1200.00")), "circuit") == []  # the same episode
    assert_neutral(desk.alerts)


def test_circuit_repeats_only_after_clearing_or_repeat_after() -> None:
    desk = Desk(dk(lp="1195.00"), rules=("circuit",), t=Thresholds(repeat_after=60.0))
    assert desk.rules() == ["circuit"]
    assert only(desk.frames(50, df(v=1)), "circuit") == []  # 50 s on: held back
    assert desk.rules(desk.frames(11, df(v=2))) == ["circuit"]  # past 60 s: repeated
    desk.frame(df(lp="1000.00"))  # away for a moment: a flicker, the same episode
    assert desk.frame(df(lp="1196.00")) == []
    desk.frames(6, df(lp="1000.00"))  # away for longer than clear_after: cleared
    assert desk.rules(desk.frame(df(lp="1196.00"))) == ["circuit"]
    eager = Desk(dk(lp="1195.00"), rules=("circuit",), t=Thresholds(clear_after=0))
    eager.frame(df(lp="1000.00"))
    assert eager.rules(eager.frame(df(lp="1196.00"))) == ["circuit"]  # cleared at once


def test_circuit_at_the_lower_limit_and_through_it() -> None:
    desk = Desk(dk(lp="805.00"), rules=("circuit", "locked"))
    assert [a.figures["side"] for a in desk.alerts] == ["lower"]
    through = desk.frame(df(lp="799.00"))
    assert [a.text for a in only(through, "circuit")] == [
        "last 799.00 through the lower circuit limit 800.00"
    ]


def test_circuit_is_quiet_away_from_the_limits_and_without_them() -> None:
    desk = Desk(dk(lp="1100.00"), rules=("circuit", "locked"))
    assert desk.alerts == []
    desk = Desk(
        {k: v for k, v in dk(lp="1199.00").items() if k not in ("lc", "uc")},
        rules=("circuit", "locked"),
    )
    assert desk.alerts == []
    desk = Desk(
        dk(lp="1000.00", lc="1300.00", uc="1200.00"), rules=("circuit", "locked")
    )  # limits that make no sense
    assert desk.alerts == []


def test_locked_at_the_upper_limit_with_no_offers() -> None:
    desk = Desk(dk(lp="1190.00"), rules=("circuit", "locked"))
    out = desk.frame(df(lp="1200.00", bp1="1200.00", bq1="25000", sp1="0", sq1="0", so1="0"))
    locked = only(out, "locked")
    assert [(a.severity, a.text) for a in locked] == [
        ("alert", "at the upper circuit limit 1200.00 with no offers: 25,000 bid at the limit")
    ]
    assert locked[0].figures == {"limit": "1200.00", "side": "upper", "waiting_qty": 25000}
    assert only(desk.frame(df(v=10)), "locked") == []
    assert only(desk.frame(df(sp1="1200.00", sq1="10")), "locked") == []  # an offer came
    assert desk.frame(df(sq1="0", sp1="0")) == []  # and went: a flicker, not news
    desk.frames(6, df(sp1="1200.00", sq1="10"))  # offers for a while: unlocked
    assert desk.rules(desk.frame(df(sq1="0", sp1="0"))) == ["locked"]  # locked again


def test_locked_at_the_lower_limit_with_no_bids_and_not_with_them() -> None:
    desk = Desk(
        dk(lp="800.00", bp1="0", bq1="0", sp1="800.00", sq1="4000"), rules=("circuit", "locked")
    )
    assert sorted(desk.rules()) == ["circuit", "locked"]
    assert only(desk.alerts, "locked")[0].text == (
        "at the lower circuit limit 800.00 with no bids: 4,000 offered at the limit"
    )
    desk = Desk(
        dk(lp="800.00", bp1="799.95", bq1="10", sp1="800.00", sq1="4000"),
        rules=("circuit", "locked"),
    )
    assert desk.rules() == ["circuit"]


def test_no_locked_without_depth() -> None:
    touch = {
        k: v
        for k, v in dk(lp="1200.00").items()
        if k[:2] not in ("bp", "bq", "bo", "sp", "sq", "so")
    }
    desk = Desk(touch, rules=("circuit", "locked"))
    assert desk.rules() == ["circuit"]


# -- spread ------------------------------------------------------------------------------
def spread_desk(**thresholds: Any) -> Desk:
    """25 s of a one-tick touch: a baseline of 25 one-a-second observations."""
    desk = Desk(dk(), rules=("spread",), t=Thresholds(**thresholds))
    desk.frames(25, df(v=1))
    return desk


def test_spread_fires_when_the_touch_stays_wide() -> None:
    desk = spread_desk()
    wide = df(bp1="999.50", sp1="1000.10")  # 12 ticks against a median of 1
    assert desk.frame(wide, dt=1.0) == []  # not for long yet
    out = desk.frames(2, df(v=2), dt=1.0)
    assert [(a.rule, a.severity) for a in out] == [("spread", "warn")]
    assert out[0].text == "spread 12 ticks (999.50 / 1000.10) for 2 s, usually 1"
    assert out[0].figures["spread_ticks"] == 12 and out[0].figures["usual_ticks"] == 1
    assert desk.frames(3, df(v=3), dt=1.0) == []  # still wide: once
    desk.frame(df(bp1="999.95", sp1="1000.00"), dt=1.0)
    desk.frame(wide, dt=1.0)
    assert desk.frames(2, df(v=4)) == []  # narrow for a second: the same episode
    desk.frames(6, df(bp1="999.95", sp1="1000.00"), dt=1.0)
    desk.frame(wide, dt=1.0)
    assert desk.rules(desk.frames(2, df(v=5))) == ["spread"]  # a new episode


def test_spread_is_quiet_for_a_moment_narrow_widening_or_a_missing_tick() -> None:
    desk = spread_desk()
    desk.frame(df(bp1="999.50", sp1="1000.10"), dt=1.0)
    desk.frame(df(bp1="999.95", sp1="1000.00"), dt=1.0)  # refilled within the hold
    desk.frames(3, df(v=2), dt=1.0)
    desk.frames(4, df(bp1="999.70", sp1="1000.10"), dt=1.0)  # 8 ticks: under the minimum
    assert desk.alerts == []
    desk = Desk({k: v for k, v in dk().items() if k != "ti"}, rules=("spread",))
    desk.frames(25, df(v=1))
    desk.frames(5, df(bp1="999.50", sp1="1000.10"))
    assert desk.alerts == []


def test_spread_needs_a_baseline_and_both_sides() -> None:
    desk = Desk(dk(), rules=("spread",))
    desk.frames(5, df(bp1="999.00", sp1="1001.00"))  # wide from the start: no baseline
    desk.frames(5, df(sp1="0", sq1="0"))  # one side empty
    assert desk.alerts == []


# -- volume and print --------------------------------------------------------------------
def test_volume_fires_on_a_burst_against_the_scrips_own_windows() -> None:
    desk = Desk(dk(), rules=("volume",))
    v = 0
    for _ in range(45):  # 100 a second: 1,000 a window
        v += 100
        desk.frame(df(v=v, ltq=100), dt=1.0)
    assert desk.alerts == []
    out: list[Alert] = []
    for _ in range(5):
        v += 5000
        out += desk.frame(df(v=v, ltq=100), dt=1.0)
    assert [(a.rule, a.severity) for a in out] == [("volume", "warn")]
    assert re.fullmatch(
        r"volume [\d,]+ in the last 1\d s, usually 1,000 \(\d+(\.\d)?×\)", out[0].text
    ), out[0].text
    assert out[0].figures["usual"] == 1000


def test_volume_is_quiet_when_steady_small_or_restarted() -> None:
    desk = Desk(dk(), rules=("volume",))
    v = 0
    for i in range(60):
        v += 100 + 50 * (i % 3)
        desk.frame(df(v=v), dt=1.0)
    desk.frame(df(v=10), dt=1.0)  # a new session: volume starts again
    for _ in range(5):
        desk.frame(df(v=4000), dt=1.0)  # 4x in a window, under the 10,000 floor too
    assert desk.alerts == []


def test_a_print_far_above_the_usual_trade_size() -> None:
    desk = Desk(dk(), rules=("print",))
    v = 0
    for _ in range(25):
        v += 100
        desk.frame(df(v=v, ltq=100))
    v += 5000
    out = desk.frame(df(v=v, ltq=5000, lp="1000.05"))
    assert [(a.rule, a.severity) for a in out] == [("print", "info")]
    assert out[0].text == "single trade of 5,000 at 1000.05, usually 100 (50×)"
    assert out[0].figures == {"qty": 5000, "usual": 100, "times": 50.0, "price": "1000.05"}
    v += 100
    desk.frame(df(v=v, ltq=100))
    v += 6000
    assert desk.rules(desk.frame(df(v=v, ltq=6000))) == ["print"]  # another block


def test_no_print_without_a_trade_or_under_the_floor() -> None:
    desk = Desk(dk(), rules=("print",))
    v = 0
    for _ in range(25):
        v += 10
        desk.frame(df(v=v, ltq=10))
    desk.frame(df(ltq=5000))  # the volume did not move: no trade
    v += 900
    desk.frame(df(v=v, ltq=900))  # 90x, but under 1,000
    assert desk.alerts == []


# -- jump --------------------------------------------------------------------------------
def test_jump_warns_then_escalates_and_a_reversal_is_new() -> None:
    desk = Desk(dk(), rules=("jump",))
    desk.frames(10, df(v=1))  # the price has sat at 1000.00 for 10 s
    out = desk.frame(df(lp="1015.00"), dt=1.0)
    assert [(a.rule, a.severity) for a in out] == [("jump", "warn")]
    assert out[0].text == "last price up 300 ticks (1.50%) within 1 s: 1000.00 → 1015.00"
    assert out[0].figures["from"] == "1000.00" and out[0].figures["ticks"] == 300
    out = desk.frame(df(lp="1025.00"), dt=1.0)
    assert [(a.rule, a.severity) for a in out] == [("jump", "alert")]  # 2.5%: twice the rule
    assert desk.frame(df(lp="1024.00"), dt=1.0) == []
    desk.frames(6, df(v=2))  # the window passes: cleared
    out = desk.frame(df(lp="1005.00"), dt=1.0)
    assert [(a.rule, a.figures["direction"]) for a in out] == [("jump", "down")]


def test_jump_is_quiet_for_a_slow_drift_and_for_few_ticks() -> None:
    desk = Desk(dk(), rules=("jump",))
    price = 100_000
    for _ in range(30):  # +0.1% a second: never 1% within 5 s
        price += 100
        desk.frame(df(lp=f"{price // 100}.{price % 100:02d}"), dt=1.0)
    assert desk.rules() == []
    cheap = Desk(dk(lp="5.00", lc="4.00", uc="6.00"), rules=("jump",))  # 10% is 10 ticks here
    cheap.frame(df(lp="5.50"))
    assert cheap.rules() == []


# -- imbalance ---------------------------------------------------------------------------
def test_imbalance_fires_when_one_side_outweighs_the_other_for_a_while() -> None:
    desk = Desk(dk(), rules=("imbalance",))
    lean = df(tbq=90000, tsq=10000)
    assert desk.frames(5, lean) == []
    out = desk.frame(df(v=1), dt=1.0)
    assert [(a.rule, a.severity) for a in out] == [("imbalance", "info")]
    assert out[0].text == "buy quantity 9× sell quantity: 90,000 bid against 10,000 offered for 5 s"
    assert out[0].figures == {
        "tbq": 90000,
        "tsq": 10000,
        "ratio": 9.0,
        "side": "buy",
        "seconds": 5.0,
    }
    desk.frames(6, df(tbq=1000, tsq=90000))  # the other way: a new condition
    assert [a.figures["side"] for a in only(desk.alerts, "imbalance")] == ["buy", "sell"]


def test_imbalance_is_quiet_briefly_below_the_ratio_or_the_floor() -> None:
    desk = Desk(dk(), rules=("imbalance",))
    desk.frames(3, df(tbq=90000, tsq=10000))
    desk.frames(10, df(tbq=70000, tsq=10000))  # 7x
    desk.frames(10, df(tbq=9000, tsq=100))  # under 10,000 together
    assert desk.alerts == []
    desk.frames(6, df(tbq=20000, tsq=0))
    assert [a.text for a in desk.alerts] == ["buy quantity 20,000 and no sell quantity for 5 s"]


# -- stale -------------------------------------------------------------------------------
def test_stale_fires_for_a_scrip_gone_quiet_while_others_trade() -> None:
    desk = Desk(dk(), dk(OTHER), rules=("stale",))
    desk.frame(df(v=1), df(OTHER, v=1))  # both seen updating
    out = desk.frames(21, df(OTHER, v=2))
    assert [(a.key, a.rule, a.severity) for a in out] == [(KEY, "stale", "warn")]
    assert out[0].text == "no update for 20 s" and out[0].figures == {"silent_s": 20}
    assert desk.frames(30, df(OTHER, v=3)) == []  # still quiet: held back
    desk.frame(df(v=2), df(OTHER, v=4))  # it updated: cleared
    assert desk.rules(desk.frames(21, df(OTHER, v=5))) == ["stale"]


def test_stale_is_quiet_when_the_whole_feed_stops_or_a_scrip_never_updated() -> None:
    desk = Desk(dk(), dk(OTHER), rules=("stale",))
    desk.frame(df(v=1), df(OTHER, v=1))
    desk.frames(60)  # nothing at all arrives: the feed is down, not one scrip
    assert desk.alerts == []
    desk = Desk(dk(), rules=("stale",))  # a snapshot only, never an update
    desk.frames(60, df(OTHER, v=1))
    assert desk.alerts == []


def test_stale_when_feed_time_falls_behind_the_clock() -> None:
    desk = Desk(dk(), rules=("stale",))
    desk.wall += 60
    out = desk.frame(df(ft=FT0 + 1, v=1))
    assert [(a.rule, a.text) for a in out] == [("stale", "feed time 59 s behind the clock")]
    assert desk.frames(5, df(v=2)) == []  # no feed time in these: nothing to judge, no repeat
    for _ in range(6):  # caught up, for longer than clear_after: cleared
        desk.frame(df(ft=int(desk.wall), v=3), dt=1.0)
    desk.wall += 100
    assert desk.rules(desk.frame(df(ft=int(desk.wall) - 50))) == ["stale"]


# -- L2: large orders --------------------------------------------------------------------
def orders_desk(n: int = 25, **thresholds: Any) -> Desk:
    """Orders of 100, far from the touch, to make the scrip's usual order size."""
    desk = Desk(dk(), rules=("l2-large",), t=Thresholds(**thresholds))
    for _ in range(n):
        desk.frame(desk.add("B", "990.00", 100)[1])
    return desk


def test_a_large_order_at_the_touch() -> None:
    desk = orders_desk()
    assert desk.alerts == []
    oid, msg = desk.add("B", "999.95", 5000)
    out = desk.frame(msg)
    assert [(a.rule, a.severity) for a in out] == [("l2-large", "info")]
    assert out[0].text == (
        "buy order of 5,000 at 999.95, at the best bid; orders usually 100 (50×)"
    )
    assert out[0].figures["ticks_from_touch"] == 0 and out[0].figures["oid"] == oid
    assert desk.frame(desk.lo("M", oid, "B", "999.95", 4500)) == []  # it shrank: no news
    _, msg = desk.add("S", "1000.05", 3000)
    out = desk.frame(msg)
    assert [a.text for a in out] == [
        "sell order of 3,000 at 1000.05, 1 tick from the best offer; orders usually 100 (30×)"
    ]


def test_no_large_order_far_from_the_touch_small_or_without_history() -> None:
    desk = orders_desk()
    desk.frame(desk.add("B", "990.00", 5000)[1])  # 199 ticks from the best bid
    desk.frame(desk.add("S", "1000.00", 900)[1])  # 9x
    assert desk.alerts == []
    desk = orders_desk(n=5)  # too few orders seen to know what is usual
    desk.frame(desk.add("B", "999.95", 5000)[1])
    assert desk.alerts == []


def test_a_large_order_on_a_scrip_with_only_l2() -> None:
    desk = Desk(rules=("l2-large",))
    for _ in range(25):
        desk.frame(desk.add("B", "990.00", 100)[1], desk.add("S", "991.00", 100)[1])
    out = desk.frame(desk.add("B", "990.05", 8000)[1])
    assert [(a.rule, a.symbol) for a in out] == [("l2-large", "2885")]
    assert desk.engine.errors == 0


# -- L2: add and cancel ------------------------------------------------------------------
def test_orders_added_and_cancelled_repeatedly_at_one_price() -> None:
    desk = Desk(dk(), rules=("l2-churn",))
    out: list[Alert] = []
    for _ in range(10):
        oid, add = desk.add("S", "1000.00", 100)
        out += desk.frame(add, desk.lo("X", oid, "S", "1000.00", 100), dt=0.1)
    assert [(a.rule, a.severity) for a in out] == [("l2-churn", "warn")]
    assert out[0].text == "orders added and cancelled repeatedly at 1000.00: 10 in 1 s, no trade"
    assert out[0].figures == {"price": "1000.00", "count": 10, "seconds": 1}
    oid, add = desk.add("S", "1000.00", 100)
    assert desk.frame(add, desk.lo("X", oid, "S", "1000.00", 100), dt=0.1) == []  # once
    assert_neutral(out)


def test_no_churn_with_a_trade_there_too_few_too_slow_or_old_orders() -> None:
    desk = Desk(dk(), rules=("l2-churn",))
    for i in range(12):
        oid, add = desk.add("B", "999.95", 100)
        msgs = [add, desk.lo("X", oid, "B", "999.95", 100)]
        if i == 6:
            rest, add2 = desk.add("B", "999.95", 100)
            msgs += [add2, desk.lt(rest, "B", "999.95", 100)]  # a trade at that price
        desk.frame(*msgs, dt=0.1)
    for _ in range(10):  # ten, but spread over 5 s: never ten within 2 s
        oid, add = desk.add("S", "1000.05", 100)
        desk.frame(add, desk.lo("X", oid, "S", "1000.05", 100), dt=0.5)
    old = [desk.add("S", "1000.10", 100) for _ in range(12)]
    desk.frame(*(msg for _, msg in old))
    desk.frames(3, df(v=1))
    desk.frame(*(desk.lo("X", oid, "S", "1000.10", 100) for oid, _ in old))  # added 3 s ago
    assert only(desk.alerts, "l2-churn") == []


# -- the engine --------------------------------------------------------------------------
def test_only_enabled_rules_run_and_seq_and_time_come_from_the_engine() -> None:
    desk = Desk(dk(lp="1199.00"), t=Thresholds(enabled=["jump", "locked"]))
    assert desk.engine.rules == ("locked", "jump")
    assert desk.alerts == []  # no circuit
    desk.frames(3, df(v=1))
    desk.frame(df(lp="1200.00", sp1="0", sq1="0"), dt=1.0)
    desk.frame(df(lp="1000.00"), dt=1.0)
    assert desk.rules() == ["locked", "jump"]
    assert [a.seq for a in desk.alerts] == [1, 2]
    assert [a.time for a in desk.alerts] == [FT0 + 4.05, FT0 + 5.05]
    assert {a.symbol for a in desk.alerts} == {"RELIANCE"}


def test_every_rule_and_severity_is_declared() -> None:
    assert set(SEVERITY_OF) == set(RULES) == set(Thresholds().enabled)
    assert all(s in SEVERITIES for severities in SEVERITY_OF.values() for s in severities)


def test_missing_fields_skip_rules_and_bad_numbers_never_raise() -> None:
    desk = Desk({"t": "dk", "e": "NSE", "tk": "2885", "lp": "1000.00"})
    desk.frames(30, df(lp="1000.05"))
    bad = df(
        lp="abc",
        ti="0",
        lc="-5",
        uc="x",
        tbq="1e9",
        tsq="",
        v="-1",
        ltq="[]",
        ft="soon",
        bp1="999.95",
        sp1="999.90",
        pp="9",
    )
    desk.frames(5, bad)
    desk.frame(df(lp=[1, 2], v=None, tbq={"a": 1}))
    desk.frame({"t": "lo", "e": "NSE", "tk": "2885", "sq": "x", "ac": "A", "q": "many"})
    desk.frame({"t": "lo", "e": "NSE", "tk": "2885", "sq": "2", "ac": "X", "oid": "nope"})
    desk.frame({"t": "lt", "e": "NSE", "tk": "2885", "sq": "3", "oid": None, "q": "1"})
    assert desk.engine.errors == 0, desk.engine.last_error
    assert desk.errors.total > 0  # the market counted the bad numbers; the rules skipped them
    assert_neutral(desk.alerts)


_TEXT = st.one_of(
    st.none(),
    st.integers(-10, 10**7).map(str),
    st.sampled_from(
        ["", "0", "0.00", "-1", "1000.00", "1200.00", "800.00", "abc", "1e5", "999.95", "0.05"]
    ),
)
_FIELDS = st.dictionaries(
    st.sampled_from(
        ["lp", "ti", "lc", "uc", "bp1", "sp1", "bq1", "sq1", "tbq", "tsq", "v", "ltq", "ft", "pp"]
    ),
    _TEXT,
    max_size=8,
)


@settings(
    max_examples=150, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.lists(st.tuples(_FIELDS, st.floats(0.0, 30.0)), max_size=25))
def test_any_sequence_of_fields_never_raises(frames: list[tuple[dict[str, Any], float]]) -> None:
    desk = Desk(dk(), t=Thresholds(min_samples=1, volume_min_windows=1))
    for fields, dt in frames:
        desk.frame({"t": "df", "e": "NSE", "tk": "2885", **fields}, dt=dt)
    assert desk.engine.errors == 0, desk.engine.last_error
    assert [a.seq for a in desk.alerts] == list(range(1, len(desk.alerts) + 1))


def test_state_stays_bounded_and_forget_drops_it() -> None:
    desk = Desk(dk())
    for i in range(3000):
        _oid, add = desk.add("B", f"{900 + i % 50}.00", 100)
        desk.frame(add, df(lp=f"{1000 + i % 7}.00", v=i), dt=0.01)
    engine = desk.engine
    large, churn = engine.state(KEY, "l2-large"), engine.state(KEY, "l2-churn")
    assert len(large.orders) <= 200 and len(engine.state(KEY, "print").prints) <= 100
    assert len(engine.state(KEY, "jump").hi) <= 512
    # only orders of the last churn window
    assert len(large.recent.orders) <= 250 and len(churn.recent.orders) <= 250
    engine.forget(KEY)
    assert all(engine.state(KEY, rule) is None for rule in engine.rules)


def test_events_that_fell_off_the_tape_are_counted() -> None:
    desk = Desk()
    desk.market.tape.events = type(desk.market.tape.events)(maxlen=10)
    desk.frame(*(desk.add("B", "990.00", 100)[1] for _ in range(25)))
    assert desk.engine.tape_missed == 15


# -- thresholds and the [surveillance] table ---------------------------------------------
def test_thresholds_refuse_unknown_or_repeated_rules_and_bad_values() -> None:
    with pytest.raises(ValueError, match=r"unknown rule 'spred' \(did you mean 'spread'\?\)"):
        Thresholds(enabled=["spred"])
    with pytest.raises(ValueError, match="'jump' more than once"):
        Thresholds(enabled=["jump", "jump"])
    with pytest.raises(msgspec.ValidationError, match=">= 1"):
        msgspec.convert({"jump_ticks": 0}, Thresholds)
    with pytest.raises(msgspec.ValidationError, match="unknown field"):
        msgspec.convert({"jump_tick": 3}, Thresholds)


def test_the_surveillance_table_of_the_config_file(tmp_path: Path) -> None:
    cfg = parse_config(
        "[surveillance]\njump_ticks = 30\nenabled = ['jump']\nbell = false\n"
        "alert_log = 'logs/alerts.jsonl'\n",
        tmp_path / "config.toml",
    )
    s = cfg.surveillance
    assert (s.bell, s.alert_log_path()) == (False, tmp_path / "logs" / "alerts.jsonl")
    t = s.thresholds()
    assert type(t) is Thresholds and (t.jump_ticks, t.enabled) == (30, ["jump"])
    assert RuleEngine(Market(), t).rules == ("jump",)
    assert parse_config("").surveillance.thresholds() == Thresholds()
    assert parse_config("").surveillance.alert_log_path() is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "spread_mul = 3",
            "unknown key 'spread_mul' in [surveillance] (did you mean 'spread_mult'?)",
        ),
        (
            "enabled = ['jumps']",
            "[surveillance] enabled lists an unknown rule 'jumps' (did you mean 'jump'?)",
        ),
        ("churn_count = 0", "[surveillance] churn_count = 0 is out of range: must be at least 1"),
        (
            "spread_mult = 0.5",
            "[surveillance] spread_mult = 0.5 is out of range: must be at least 1",
        ),
        ("stale_after = 0", "[surveillance] stale_after = 0 is out of range: must be more than 0"),
        ("bell = 'yes'", "[surveillance] bell: expected true or false, got a string"),
        ("alert_log = ''", "[surveillance] alert_log: must not be empty"),
    ],
)
def test_a_bad_surveillance_table_is_one_precise_line(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(f"[surveillance]\n{text}\n", "config.toml")
    assert str(err.value) == f"config.toml: {expected}"
