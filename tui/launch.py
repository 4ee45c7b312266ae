"""Start the desk: the feed (a real one, or the built-in simulator), the market, the app.

The watchlists come from their file (:class:`~tui.watchlist_store.WatchlistStore`), with a
default that fits the feed.  ``--watch`` keys replace them for one run: a single list
"Watch" that is never saved, so trying a few scrips never rewrites the user's lists.
"""

from __future__ import annotations

import argparse
import ssl
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from tui.config_file import DeskConfig
from tui.feed.config import FeedConfig
from tui.feed.source import FeedSource, open_source
from tui.feed_commands import EXIT_USAGE
from tui.market.store import Market
from tui.watchlist_store import Watchlists, WatchlistStore, default_path
from tui.wire.frames import DecodeErrors

if TYPE_CHECKING:
    from tui.record.writer import Recorder
    from tui.sim.embedded import EmbeddedSim
    from tui.sim.instruments import Instrument

#: seconds after start when the desk's long-lived objects are frozen out of the gc's sight
SETTLE_GC_AFTER = 3.0
#: What a desk on a real feed watches when the user names nothing.
DEFAULT_WATCH = ("NSE|26000", "NSE|26009", "NSE|2885", "NSE|11536", "NSE|1594")
#: stocks in the simulator's "Main" list, after its indices
MAIN_STOCKS = 12
#: (key, symbol, name, index) of each instrument the add-scrip search offers
Catalogue = Sequence[tuple[str, str, str, bool]]


def simulator_watchlists(instruments: Sequence[Instrument]) -> Watchlists:
    """The simulator's defaults: "Main", its indices and first stocks; "All", everything."""
    indices = [i.key for i in instruments if i.index]
    stocks = [i.key for i in instruments if not i.index]
    everything = [i.key for i in instruments]
    return Watchlists([("Main", indices + stocks[:MAIN_STOCKS]), ("All", everything)])


def feed_watchlists() -> Watchlists:
    """The default on a real feed, whose instruments the desk does not know."""
    return Watchlists([("Main", DEFAULT_WATCH)])


def feed_catalogue() -> Catalogue:
    """What the desk knows of a real feed's instruments: NSE's indices (real tokens; the
    default list holds two), so it asks them only for their touchline."""
    from tui.sim.instruments import INSTRUMENTS
    from tui.wire.catalogue import Entry

    return tuple(Entry(i.key, i.symbol, i.name, True) for i in INSTRUMENTS
                 if i.index and i.exchange == "NSE")  # fmt: skip


def open_watchlists(
    default: Watchlists, watch: Sequence[str], path: Path | None = None
) -> tuple[Watchlists, WatchlistStore | None, list[str]]:
    """The watchlists to show, the store edits are saved to (None: not saved), the notices.

    ``watch`` (``--watch``) gives one unsaved list; otherwise the file at ``path`` (default:
    beside the config) is loaded, or ``default`` with a notice if the file is bad.
    """
    if watch:
        return Watchlists([("Watch", watch)]), None, []
    store = WatchlistStore(path or default_path())
    watchlists, notice = store.load(default)
    return watchlists, store, [notice] if notice else []


def embedded_sim(args: argparse.Namespace, cfg: DeskConfig) -> EmbeddedSim:
    """The built-in simulator of the command line (``--seed``, ``--rate``, ``--scenario``)
    with the faults of ``[simulator]`` and ``--sim-fault`` (not started), speaking the
    ``[feed] dialect`` (``--dialect``)."""
    from tui.sim.embedded import EmbeddedSim

    faults = msgspec.structs.asdict(cfg.simulator)
    return EmbeddedSim(
        seed=args.seed,
        rate=args.rate,
        scenarios=args.scenario or (),
        dialect=cfg.feed.dialect,
        **faults,
    )


def run_desk(
    args: argparse.Namespace,
    cfg: DeskConfig,
    token: str,
    watch: list[str],
    *,
    tls: ssl.SSLContext | None = None,
    notices: Sequence[str] = (),
) -> int:
    """Run the desk until it quits; its exit code.  ``cfg``: the settings in effect (the
    file with the flags on top); ``token``: for ``cfg.feed.url`` (unused by the simulator);
    ``tls``: the context trusting ``ca_file``; ``notices``: shown at start (e.g. where the
    log went)."""
    from tui.app import make_app

    sim = None
    url, auth = cfg.feed.url, cfg.feed.auth
    bus = getattr(args, "bus", None)  # --source nats://...: the feed from the bus
    catalogue: Catalogue = ()
    if url is None and bus is None:
        sim = embedded_sim(args, cfg)
        try:
            url = sim.start()
        except RuntimeError as exc:
            print(f"marketdesk: {exc}", file=sys.stderr)
            return 1
        token, auth = sim.token, "header"
        default = simulator_watchlists(sim.instruments)
        from tui.wire.catalogue import Entry  # (key, symbol, name, is_index)

        catalogue = tuple(Entry(i.key, i.symbol, i.name, i.index) for i in sim.instruments)
    else:
        default = feed_watchlists()
        catalogue = feed_catalogue()
    recorder: Recorder | None = None
    try:
        watchlists, store, opened = open_watchlists(default, watch)
        notices = [*notices, *opened]
        market = Market(DecodeErrors(redact=(token,)))
        client: FeedSource
        if bus is not None:  # --source nats://...: the feed from the bus
            from tui.bus.source import NatsSource

            client = NatsSource(bus, market)
        else:
            assert url is not None
            feed = FeedConfig(
                url=url,
                token=token,
                auth=auth,
                uid=cfg.feed.uid,
                ssl=tls if sim is None else None,
                dialect=cfg.feed.dialect,
            )
            client = open_source(feed, market)
        if getattr(args, "record", None) is not None:
            from tui.recording import attach_recorder

            try:
                recorder = attach_recorder(client, args.record)
            except OSError as exc:
                print(f"marketdesk: --record {args.record}: {exc.strerror or exc}", file=sys.stderr)
                return EXIT_USAGE
            notices.append(f"Recording every frame to {args.record}")
        app = make_app(
            market,
            client,
            watchlists=watchlists,
            store=store,
            config=cfg,
            notices=notices,
            catalogue=catalogue,
            refresh_hz=cfg.desk.refresh_hz,
            theme=cfg.desk.theme,
        )
        # once the desk is up and the first snapshots are in: no more 50-90 ms full
        # collections over everything it holds (DeskApp.settle_gc, bench/desk.py)
        app.settle_gc_after = SETTLE_GC_AFTER
        if recorder is not None:
            recorder.on_error = partial(app.notify, title="recording", severity="error", timeout=30)
        app.run()
    finally:
        if recorder is not None:
            recorder.close()
        if sim is not None:
            sim.stop()
    return int(app.return_code or 0)


def replay_watchlists(subscriptions: dict[str, list[str]]) -> Watchlists:
    """One unsaved list of every scrip the recording subscribed (depth first)."""
    keys = list(dict.fromkeys(k for kind in ("d", "t", "l") for k in subscriptions.get(kind, ())))
    return Watchlists([("Replay", keys or ["NSE|26000"])])


def run_replay(args: argparse.Namespace, cfg: DeskConfig, watch: list[str]) -> int:
    """The desk on a recording (``--replay FILE...``): its exit code."""
    from tui.app import make_app
    from tui.record.format import FormatError
    from tui.record.reader import Recording
    from tui.replay.source import ReplaySource
    from tui.replay.timeline import parse_speed, parse_time
    from tui.transport import ReplayDesk

    try:
        recording = Recording(args.replay)
        start = recording.header.started_ns
        speed = parse_speed(args.speed) if args.speed is not None else 1.0
        begin = parse_time(args.from_time, start) if args.from_time else None
        end = parse_time(args.to_time, start) if args.to_time else None
        market = Market(DecodeErrors())
        source = ReplaySource(recording, market, speed=speed, start_ns=begin, end_ns=end)
    except (FormatError, ValueError) as exc:  # a dialect this version does not know, too
        print(f"marketdesk: {exc}", file=sys.stderr)
        return EXIT_USAGE
    watchlists = (
        Watchlists([("Watch", watch)]) if watch else replay_watchlists(recording.subscriptions())
    )
    app = make_app(
        market,
        source,
        watchlists=watchlists,
        store=None,
        config=cfg,
        clock=source.clock,
        wall=source.clock,
        refresh_hz=cfg.desk.refresh_hz,
        theme=cfg.desk.theme,
        app_class=ReplayDesk,
    )
    app.settle_gc_after = SETTLE_GC_AFTER
    app.run()
    return int(app.return_code or 0)
