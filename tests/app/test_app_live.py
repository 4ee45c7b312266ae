"""The desk end to end: the real FeedClient against the simulator, in the app's event loop."""

from __future__ import annotations

import pytest
from support.waiting import PATIENCE, until

from tui.app import make_app
from tui.feed.client import FeedClient
from tui.feed.config import FeedConfig
from tui.market.store import Market
from tui.sim.config import SimConfig
from tui.sim.server import SimServer
from tui.wire.frames import DecodeErrors

TOKEN = "demo-token"


@pytest.mark.slow
async def test_the_desk_on_the_simulator_draws_live_prices_and_closes_its_connection():
    async with SimServer(SimConfig(seed=3, rate=400.0, tokens=(TOKEN,))) as sim:
        watch = [inst.key for inst in sim.instruments[:6]]
        market = Market(DecodeErrors(redact=(TOKEN,)))
        client = FeedClient(FeedConfig(url=sim.endpoint("L2"), token=TOKEN), market)
        stock = next(inst.key for inst in sim.instruments[:6] if not inst.index)
        app = make_app(market, client, watch=watch, selected=stock, refresh_hz=30)
        async with app.run_test(size=(160, 48)) as pilot:
            for _ in range(int(PATIENCE / 0.05)):  # a bound, not a timing
                await pilot.pause(0.05)
                if app.tape.rows and all(app.watchlist.rows_built[k] > 1 for k in watch[:3]):
                    break
            assert client.health.state == "live" and client.health.level == "L2"
            assert sim.connections(TOKEN) == 1
            app.flush()  # then read the screen and the market with no await between
            row = app.watchlist.render_line(1 + watch.index(stock)).text
            scrip = market.view(stock)
            assert scrip is not None and scrip.price_text("lp")
            assert scrip.price_text("lp") in row
            assert app.tape.rows > 0, "L2 events of the selected scrip reach the tape"
            assert TOKEN not in app.export_screenshot()
            await pilot.press("q")
        await until(lambda: sim.connections(TOKEN) == 0, what="the server to see the close")
        assert client.health.state == "stopped"
