"""The feed source seam (tui/feed/source.py) and the sink the client writes into
(tui/feed/sink.py).

``ScriptedSource`` below is the smallest source there is: it plays a list of market messages
into its sink, with no socket.  It is a test double for the seam itself, not a stand-in for
a real part: the desk and the headless CLI driven by it prove they need nothing of a feed
but the ``FeedSource`` protocol, which is what lets a recording, a relay or a broker plug in
without touching them.  The real WebSocket client behind the same seam is proven against
the simulator in test_app_live.py, test_client_sim.py and test_cli.py.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterable
from datetime import UTC
from typing import Any

import pytest
from support.market_fixtures import NOW, OGDC, RELIANCE
from support.waiting import PATIENCE

from tui import feed_commands
from tui.app import make_app
from tui.feed import source as source_module
from tui.feed.client import FeedClient
from tui.feed.config import FeedConfig
from tui.feed.health import LIVE, STOPPED, Health
from tui.feed.sink import MarketSink
from tui.feed.source import OPENERS, FeedSource, open_source
from tui.market.store import Market
from tui.wire.frames import DecodeErrors

URL = "ws://127.0.0.1:9/2.0/market/feed/l2"  # never dialled: nothing listens on port 9

SCRIPT: list[dict[str, Any]] = [
    {"t": "dk", "e": "PSX", "tk": "OGDC", "ts": "OGDC", "pp": "2", "lp": "215.37",
     "ft": "1747038600", "bp1": "215.30", "bq1": "500", "sp1": "215.40", "sq1": "700"},
    {"t": "df", "e": "PSX", "tk": "OGDC", "lp": "216.00", "ft": "1747038601"},
    {"t": "dk", "e": "NSE", "tk": "2885", "ts": "RELIANCE-EQ", "pp": "2", "lp": "1415.60"},
]  # fmt: skip


class ScriptedSource:
    """A FeedSource with no socket: on ``run`` it plays ``script`` (only the subscribed
    keys) into its sink, says so through ``on_event``, then waits for ``stop``."""

    def __init__(self, sink: MarketSink, script: Iterable[dict[str, Any]], level: str = "L2"):
        self.market = sink
        self.script = list(script)
        self.on_event: Any = None
        self.health = Health(endpoint="scripted", level=level)
        self.wanted: dict[str, bool] = {}  # key -> orders
        self.forgotten: list[str] = []
        self.returned = False
        self._stop = asyncio.Event()

    def subscribe(self, keys: Iterable[str], *, depth: bool = True, orders: bool = False) -> None:
        self.wanted.update(dict.fromkeys(keys, orders))
        self.health.subscriptions = len(self.wanted)

    def unsubscribe(self, keys: Iterable[str]) -> None:
        for key in keys:
            if self.wanted.pop(key, None) is not None:
                self.market.forget(key)
                self.forgotten.append(key)
        self.health.subscriptions = len(self.wanted)

    async def run(self) -> None:
        self.health.state, self.health.sessions = LIVE, 1
        if self.on_event is not None:
            self.on_event("connected", "scripted source live")
        for msg in self.script:
            if f"{msg['e']}|{msg['tk']}" in self.wanted:
                self.market.apply(msg)
                self.health.messages += 1
        await self._stop.wait()
        self.health.state = STOPPED
        self.returned = True

    async def stop(self) -> None:
        self._stop.set()


# -- the protocols ----------------------------------------------------------------------


def test_the_websocket_client_is_a_source_and_the_market_a_sink():
    market = Market()
    assert isinstance(market, MarketSink)
    client = open_source(FeedConfig(url=URL, token="t0ken"), market)
    assert isinstance(client, FeedClient) and isinstance(client, FeedSource)
    assert client.market is market
    assert isinstance(ScriptedSource(market, ()), FeedSource)


def test_wss_urls_get_the_websocket_client_too():
    client = open_source(FeedConfig(url="wss://feed.example/2.0/market/feed"), Market())
    assert isinstance(client, FeedClient) and client.health.level == "L0"


def test_a_new_kind_of_source_joins_in_one_table(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(OPENERS, "ws", lambda config, sink: ScriptedSource(sink, SCRIPT))
    market = Market()
    source = open_source(FeedConfig(url=URL), market)
    assert isinstance(source, ScriptedSource) and source.market is market


def test_a_url_no_source_serves_is_refused_by_name(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delitem(OPENERS, "wss")
    with pytest.raises(ValueError, match=r"no feed source for wss URL \(known: ws://\)"):
        source_module.open_source(FeedConfig(url="wss://feed.example/x"), Market())


def test_the_market_tells_the_client_its_newest_feed_time():
    market = Market()
    assert market.newest_feed_time(None) is None
    for msg in SCRIPT[:2]:
        market.apply(msg)
    assert market.newest_feed_time(None) == 1747038601.0
    # newest, not latest: an older ft (a snapshot after a resubscribe) does not go back
    market.apply({"t": "dk", "e": "PSX", "tk": "OGDC", "pp": "2", "ft": "1747038500"})
    assert market.newest_feed_time(1747038601.0) == 1747038601.0
    market.flush(NOW)  # nothing changed since: the known value stands
    assert market.newest_feed_time(1747038601.0) == 1747038601.0
    market.apply({"t": "df", "e": "PSX", "tk": "OGDC", "lp": "216.05"})  # ft did not move
    assert market.newest_feed_time(7.0) == 1747038500.0  # the scrip's state, not the message
    market.apply({"t": "df", "e": "PSX", "tk": "OGDC", "ft": "not a time"})
    assert market.newest_feed_time(7.0) == 7.0  # a bad ft is no time at all


# -- the desk and the CLI need only the protocol ----------------------------------------


async def test_the_desk_runs_any_source():
    market = Market(DecodeErrors())
    source = ScriptedSource(market, SCRIPT)
    app = make_app(market, source, watch=[OGDC], clock=lambda: NOW, refresh_hz=50, tz=UTC)
    toasts: list[tuple[str, str]] = []
    app.notify = lambda message, **kw: toasts.append((kw.get("title", ""), message))  # type: ignore[method-assign]
    async with app.run_test(size=(160, 48)) as pilot:
        for _ in range(int(PATIENCE / 0.05)):  # a bound, not a timing
            if app.watchlist.keys == [OGDC] and "216.00" in app.watchlist.render_line(1).text:
                break
            await pilot.pause(0.05)
        assert "216.00" in app.watchlist.render_line(1).text, "the source's data reached the screen"
        assert source.wanted == {OGDC: True}, "subscribed through the source, with L2"
        assert RELIANCE not in market.scrips, "only what the desk asked for"
        assert ("connected", "scripted source live") in toasts
        await pilot.press("q")
        await pilot.pause()
    assert source.returned, "quitting stopped the source and its run() returned"


async def test_snapshot_runs_any_source(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(OPENERS, "ws", lambda config, sink: ScriptedSource(sink, SCRIPT))
    out = io.StringIO()
    code = await feed_commands.snapshot(FeedConfig(url=URL, token="t0ken"), [OGDC], 0.2, out=out)
    doc = json.loads(out.getvalue())
    assert code == feed_commands.EXIT_OK
    assert doc["scrips"][OGDC]["lp"] == "216.00"
    assert doc["scrips"][OGDC]["bids"] == [["215.30", 500, 0]]
    assert list(doc["scrips"]) == [OGDC]
    # the state when the snapshot was taken, the source still running (not after stopping it)
    assert doc["health"]["state"] == LIVE and doc["health"]["messages"] == 2
