"""The health panel: what a trader reads first, what drops on a small desk, the uptime on
the wall clock, the rate's sparkline, the connection limit, and redraws only on change.

Everything is driven by hand: fixed figures (``FixedHealth``), an injected monotonic
``now`` and wall clock, a pane of a fixed size.  No timing.
"""

from __future__ import annotations

from support.market_fixtures import NOW, FixedHealth
from textual.app import App, ComposeResult

from tui.feed.client import FeedClient
from tui.feed.config import FeedConfig
from tui.market.store import Market
from tui.widgets.health import SAMPLES, HealthPanel, uptime_text

SINCE = FixedHealth().connected_since
assert SINCE is not None
WALL = SINCE + 3725  # 1 h 02 min 05 s after the session's ``ck OK``
LABELS = ["state", "rate", "lag", "bad frames", "reconnects", "connection", "endpoint",
          "received", "last error", "refused"]  # fmt: skip


def text(line) -> str:
    return "".join(cell for cell, _ in line).rstrip()


def lines(panel: HealthPanel, width: int = 60) -> list[str]:
    return [text(line) for line in panel.build(width)]


def shown(health, errors=None, *, now=NOW, wall=WALL, width=60) -> list[str]:
    panel = HealthPanel()
    panel.show(health, errors or {}, now, wall=wall)
    return lines(panel, width)


def label(line: str) -> str:
    return line[1:12].strip()


def style_of(panel: HealthPanel, fragment: str, width: int = 60) -> str:
    for line in panel.build(width):
        for cell, style in line:
            if fragment in cell:
                return style
    raise AssertionError(f"{fragment!r} is not shown")


# -- what is shown, most important first ----------------------------------------------


def test_a_live_feed_shows_its_state_uptime_and_level_on_the_first_line():
    out = shown(FixedHealth())
    assert out[0].split() == ["state", "live", "·", "up", "1h02m", "·", "L2"]
    assert [label(line) for line in out] == [
        "state",
        "rate",
        "lag",
        "bad frames",
        "reconnects",
        "connection",
        "endpoint",
        "received",
    ]


def test_the_uptime_is_only_shown_with_a_wall_clock_and_only_while_live():
    assert "up" not in shown(FixedHealth(), wall=None)[0].split()
    down = FixedHealth(state="connecting")
    assert shown(down)[0].split() == ["state", "connecting", "·", "L2"]


def test_uptime_reads_in_two_units():
    assert [uptime_text(s) for s in (0, 12, 252, 3725, 273_600, -5)] == [
        "0s",
        "12s",
        "4m12s",
        "1h02m",
        "3d04h",
        "0s",
    ]


def test_a_feed_in_backoff_counts_down_and_puts_its_last_error_under_the_state():
    health = FixedHealth(state="backoff", next_retry_at=NOW + 2.5, last_error="refused")
    out = shown(health)
    assert out[0].split() == ["state", "backoff", "·", "retry", "in", "2.5", "s", "·", "L2"]
    assert out[1].split() == ["last", "error", "refused"]
    assert shown(health, now=NOW + 1.5)[0].split()[3:6] == ["retry", "in", "1.0"]
    assert shown(health, now=NOW + 9)[0].split()[3:6] == ["retry", "in", "0.00"]


def test_once_live_the_last_error_is_history_and_ranks_low():
    out = shown(FixedHealth(last_error="stalled 15 s", refused=2, last_refusal="no such scrip"))
    assert [label(line) for line in out][-2:] == ["last error", "refused"]
    assert out[-1].split() == ["refused", "2", "·", "no", "such", "scrip"]


def test_rate_lag_and_bad_frames_by_kind_commonest_first():
    out = shown(FixedHealth(msg_rate=20_012.4), {"not-json": 2, "bad-number": 5, "unknown-t": 0})
    assert out[1].split()[:3] == ["rate", "20,012", "msg/s"]
    assert out[2].split() == ["lag", "0.04", "s"]
    assert out[3].split() == ["bad", "frames", "bad-number", "5", "·", "not-json", "2"]
    assert shown(FixedHealth())[3].split() == ["bad", "frames", "none"]


def test_a_lag_of_a_second_or_more_is_a_warning_and_no_lag_yet_a_dash():
    panel = HealthPanel()
    panel.show(FixedHealth(lag=0.9), {}, NOW)
    assert style_of(panel, "0.90 s") == ""
    panel.show(FixedHealth(lag=2.4), {}, NOW)
    assert style_of(panel, "2.4 s") == "health--warn"
    assert shown(FixedHealth(lag=None))[2].split() == ["lag", "—"]


def test_connections_are_counted_against_the_limit_of_two_and_warn_at_the_limit():
    panel = HealthPanel()
    panel.show(FixedHealth(connections_used=1), {}, NOW)
    assert lines(panel)[5].split() == ["connection", "1", "of", "2", "·", "8", "subscribed"]
    assert style_of(panel, "1 of 2") == ""
    panel.show(FixedHealth(connections_used=2), {}, NOW)
    assert style_of(panel, "2 of 2") == "health--warn"


def test_without_a_feed_the_panel_says_so_and_still_counts_bad_frames():
    out = shown(None, {"not-json": 1})
    assert out == [" state      no feed", " bad frames not-json 1"]


def test_the_endpoint_from_a_real_client_never_shows_its_token():
    config = FeedConfig(url="ws://feed.example:8765/2.0/market/feed/l2?token=s3cr3t-t0k3n")
    client = FeedClient(config, Market())
    out = shown(client.health, width=120)
    assert not [line for line in out if "s3cr3t" in line]
    assert any("feed.example:8765" in line for line in out)


# -- the sparkline ----------------------------------------------------------------------


def rate_line(panel: HealthPanel, width: int = 60) -> str:
    return lines(panel, width)[1]


def spark_of(panel: HealthPanel, width: int = 60) -> str:
    return rate_line(panel, width).split()[-1]


def test_each_show_adds_one_rate_sample_and_the_last_thirty_are_kept():
    panel = HealthPanel()
    health = FixedHealth()
    for i in range(SAMPLES + 5):
        health.msg_rate = float(i)
        panel.show(health, {}, NOW)
    assert panel.rates == [float(i) for i in range(5, SAMPLES + 5)]
    panel.show(None, {}, NOW)
    assert len(panel.rates) == SAMPLES, "no feed, no sample"


def test_the_sparkline_rises_with_the_rate_and_is_scaled_from_zero():
    panel = HealthPanel()
    health = FixedHealth()
    for rate in (0.0, 5_000.0, 10_000.0, 20_000.0):
        health.msg_rate = rate
        panel.show(health, {}, NOW)
    bars = spark_of(panel)
    assert len(bars) == 4
    assert list(bars) == sorted(bars) and len(set(bars)) == 4
    steady = HealthPanel()
    for _ in range(6):
        steady.show(FixedHealth(msg_rate=20_000.0), {}, NOW)
    top = spark_of(steady)
    assert len(set(top)) == 1 and top[0] == bars[-1], "a steady feed is a flat line at the top"
    silent = HealthPanel()
    for _ in range(6):
        silent.show(FixedHealth(msg_rate=0.0), {}, NOW)
    assert spark_of(silent) == bars[0] * 6, "no messages: the bottom bar, not mid-height"


def test_the_sparkline_takes_only_the_room_the_figure_leaves():
    panel = HealthPanel()
    health = FixedHealth(msg_rate=20_000.0)
    for _ in range(SAMPLES):
        panel.show(health, {}, NOW)
    assert len(spark_of(panel, width=60)) == SAMPLES
    narrow = rate_line(panel, width=36)  # one column is left free, one is the margin
    assert len(narrow) <= 35 and len(narrow.split()[-1]) == 34 - 11 - len("20,000 msg/s ")


# -- in a pane of a fixed size ----------------------------------------------------------


class Pane(App[None]):
    """One health panel in a pane of an 80x24 desk's size (border included)."""

    CSS = "HealthPanel { width: 36; height: 8; border: round $primary; }"

    def __init__(self) -> None:
        super().__init__()
        self.panel = HealthPanel()

    def compose(self) -> ComposeResult:
        yield self.panel


class TallPane(Pane):
    """The pane of a 160x48 desk."""

    CSS = "HealthPanel { width: 48; height: 16; border: round $primary; }"


def drawn(panel: HealthPanel) -> list[str]:
    return [panel.render_line(y).text.rstrip() for y in range(panel.size.height)]


async def test_an_80x24_desk_pane_keeps_the_six_most_important_lines():
    app = Pane()
    async with app.run_test(size=(80, 24)) as pilot:
        health = FixedHealth(last_error="stalled", refused=1, last_refusal="L2 not allowed")
        app.panel.show(health, {"not-json": 3}, NOW, wall=WALL)
        await pilot.pause()
        assert app.panel.size == (34, 6)
        out = drawn(app.panel)
        assert [label(line) for line in out] == LABELS[:6]
        assert out[0].split() == ["state", "live", "·", "up", "1h02m", "·", "L2"]
        assert max(len(line) for line in out) <= 34


async def test_a_tall_pane_shows_every_line():
    app = TallPane()
    async with app.run_test(size=(160, 48)) as pilot:
        health = FixedHealth(last_error="stalled", refused=1, last_refusal="L2 not allowed")
        app.panel.show(health, {"not-json": 3}, NOW, wall=WALL)
        await pilot.pause()
        assert [label(line) for line in drawn(app.panel) if line] == LABELS


async def test_the_pane_is_redrawn_only_when_a_line_it_shows_moves():
    app = Pane()
    async with app.run_test(size=(80, 24)) as pilot:
        panel, health = app.panel, FixedHealth()
        for _ in range(SAMPLES):  # a steady rate: the sparkline stops moving once full
            panel.show(health, {}, NOW, wall=WALL)
        await pilot.pause()
        builds = panel.builds
        health.messages += 5_000  # "received": below the pane's six lines
        panel.show(health, {}, NOW + 0.5, wall=WALL + 0.5)
        await pilot.pause()
        assert panel.builds == builds
        health.lag = 0.31
        panel.show(health, {}, NOW + 1.0, wall=WALL + 1.0)
        await pilot.pause()
        assert panel.builds == builds + 1
        assert drawn(panel)[2].split() == ["lag", "0.31", "s"]
        health.msg_rate = 2_000.0  # a new sample moves the sparkline
        panel.show(health, {}, NOW + 1.2, wall=WALL + 1.2)
        await pilot.pause()
        assert panel.builds == builds + 2
        for _ in range(SAMPLES):
            panel.show(health, {}, NOW + 1.5, wall=WALL + 1.5)
        await pilot.pause()
        builds = panel.builds
        panel.show(health, {}, NOW + 2, wall=WALL + 60)  # the uptime's minute turns
        await pilot.pause()
        assert panel.builds == builds + 1


def test_bad_values_are_shown_by_the_field_they_came_in():
    panel = HealthPanel()
    panel.show(
        FixedHealth(), {"bad-number": 3, "bad-value": 1}, NOW, wall=WALL, fields={"lp": 3, "oid": 1}
    )
    out = lines(panel)
    fields = next(line for line in out if label(line) == "bad fields")
    assert fields.split()[2:] == ["lp", "3", "·", "oid", "1"]
    assert out.index(fields) == [label(line) for line in out].index("bad frames") + 1
    assert "bad fields" not in [label(line) for line in shown(FixedHealth())]
