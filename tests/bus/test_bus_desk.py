"""The desk fed from the bus: the simulator -> FeedPublisher -> a real nats-server ->
NatsSource -> the desk, in the app's event loop; and the source keeps the seam's contract."""

from __future__ import annotations

import asyncio

from support.bus_consumer import until
from support.nats_server import NatsServer
from support.waiting import PATIENCE

from tui.app import make_app
from tui.bus.config import BusConfig
from tui.bus.source import NatsSource
from tui.bus.standalone import FeedPublisher
from tui.feed.config import FeedConfig
from tui.feed.source import FeedSource
from tui.market.store import Market
from tui.sim.config import SimConfig
from tui.sim.server import SimServer
from tui.wire.frames import DecodeErrors

TOKEN = "demo-token"


def test_the_nats_source_is_a_feed_source() -> None:
    source = NatsSource(BusConfig(url="nats://127.0.0.1:1"), Market())
    assert isinstance(source, FeedSource)
    assert source.health.state == "idle" and source.health.endpoint == "nats://127.0.0.1:1"


async def test_a_source_with_no_server_stops_at_once() -> None:
    """Started before NATS exists, it keeps trying without blocking; stop() ends it."""
    from support.nats_server import free_port

    source = NatsSource(BusConfig(url=f"nats://127.0.0.1:{free_port()}"), Market())
    task = asyncio.create_task(source.run())
    await until(lambda: source.health.state == "connecting", what="connecting")
    await asyncio.sleep(0.3)
    assert not task.done()
    await source.stop()
    await asyncio.wait_for(task, timeout=PATIENCE)
    assert source.health.state == "stopped"


async def test_the_desk_draws_live_prices_from_the_bus(nats_server: NatsServer) -> None:
    async with SimServer(SimConfig(seed=3, rate=400.0, tokens=(TOKEN,))) as sim:
        fp = FeedPublisher(
            FeedConfig(url=sim.endpoint("L2"), token=TOKEN), BusConfig(url=nats_server.url)
        )
        publishing = asyncio.create_task(fp.run())
        watch = [inst.key for inst in sim.instruments[:6]]
        stock = next(inst.key for inst in sim.instruments[:6] if not inst.index)
        market = Market(DecodeErrors())
        source = NatsSource(BusConfig(url=nats_server.url), market)
        app = make_app(market, source, watch=watch, selected=stock, refresh_hz=30)
        async with app.run_test(size=(160, 48)) as pilot:
            for _ in range(200):
                await pilot.pause(0.05)
                if app.tape.rows and all(app.watchlist.rows_built[k] > 1 for k in watch[:3]):
                    break
            assert source.health.state == "live"
            assert fp.interest.active >= set(watch)  # the desk's interest reached upstream
            app.flush()
            row = app.watchlist.render_line(1 + watch.index(stock)).text
            scrip = market.view(stock)
            assert scrip is not None and scrip.price_text("lp") in row
            assert app.tape.rows > 0, "L2 events of the selected scrip reach the tape"
            assert TOKEN not in app.export_screenshot()
            await pilot.press("q")
        assert source.health.state == "stopped"
        # the desk said goodbye: its scrips leave upstream after the grace period
        await until(lambda: not fp.interest.consumers, what="the desk's interest gone")
        await fp.stop()
        await asyncio.wait_for(publishing, timeout=10)
