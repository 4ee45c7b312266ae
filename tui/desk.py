"""Start the desk: the feed (a real one, or the built-in simulator), the market, the app."""

from __future__ import annotations

import argparse
import sys

from tui.feed.client import FeedClient
from tui.feed.config import FeedConfig
from tui.feed.frames import DecodeErrors
from tui.market.store import Market

#: What a desk on a real feed watches when the user names nothing.
DEFAULT_WATCH = ("NSE|26000", "NSE|26009", "NSE|2885", "NSE|11536", "NSE|1594")


def run_desk(args: argparse.Namespace, token: str, keys: list[str]) -> int:
    from tui.app import make_app

    sim = None
    url, auth = args.url, args.auth
    if url is None:
        from tui.embedded import EmbeddedSim

        sim = EmbeddedSim(seed=args.seed, rate=args.rate)
        try:
            url = sim.start()
        except RuntimeError as exc:
            print(f"marketdesk: {exc}", file=sys.stderr)
            return 1
        token, auth = sim.token, "header"
        keys = keys or [inst.key for inst in sim.instruments]
    config = FeedConfig(url=url, token=token, auth=auth, uid=args.uid)
    market = Market(DecodeErrors(redact=(token,)))
    client = FeedClient(config, market)
    app = make_app(market, client, watch=keys or list(DEFAULT_WATCH), refresh_hz=args.refresh_hz)
    try:
        app.run()
    finally:
        if sim is not None:
            sim.stop()
    return int(app.return_code or 0)
