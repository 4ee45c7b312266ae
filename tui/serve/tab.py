"""One browser tab's desk: ``python -m tui.serve.tab --url URL [...]``, started by
textual-serve (through :class:`tui.serve.web.DeskServer`) for each tab that connects.

It is the same desk as ``marketdesk`` (:func:`tui.app.make_app`, the user's config file,
watchlists and themes), reading the relay at ``--url`` with the token in the environment
variable :data:`TAB_TOKEN_ENV` (never on the command line, where ``ps`` shows it).  The
variable is removed as soon as it is read.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from tui.config_file import ConfigError, load_config, with_overrides
from tui.feed.config import FeedConfig
from tui.feed.source import open_source
from tui.launch import (
    SETTLE_GC_AFTER,
    Catalogue,
    feed_catalogue,
    feed_watchlists,
    open_watchlists,
    simulator_watchlists,
)
from tui.market.store import Market
from tui.wire.frames import DecodeErrors

#: the environment variable that hands a tab its token
TAB_TOKEN_ENV: Final = "MARKETDESK_TAB_TOKEN"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="marketdesk-tab", description="One browser tab's desk.")
    p.add_argument("--url", required=True, help="the relay endpoint")
    p.add_argument(
        "--simulated",
        action="store_true",
        help="the feed behind is the built-in simulator (its lists and search)",
    )
    p.add_argument("--config", type=Path, default=None)
    p.add_argument("--theme", default=None)
    p.add_argument("--refresh-hz", type=float, default=None)
    p.add_argument("--watch", action="append", default=None)
    return p


@dataclass(frozen=True)
class TabOptions:
    """The desk's own options of the command line, handed on to every tab."""

    config: Path | None = None
    theme: str | None = None
    refresh_hz: float | None = None
    watch: tuple[str, ...] = ()


def command(url: str, *, simulated: bool, options: TabOptions = TabOptions()) -> list[str]:
    """The argv that starts a tab (no secret in it)."""
    argv = [sys.executable, "-m", "tui.serve.tab", "--url", url]
    if simulated:
        argv.append("--simulated")
    if options.config is not None:
        argv += ["--config", str(options.config)]
    if options.theme is not None:
        argv += ["--theme", options.theme]
    if options.refresh_hz is not None:
        argv += ["--refresh-hz", repr(options.refresh_hz)]
    for key in options.watch:
        argv += ["--watch", key]
    return argv


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    token = os.environ.pop(TAB_TOKEN_ENV, "")
    from tui.cli import log_file

    try:  # the desk's log file; a tab starts whatever happens to its log
        path = log_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        logging.basicConfig(
            level=logging.WARNING,
            filename=path,
            format="%(asctime)s %(name)s %(levelname)s %(message)s",
        )
    except OSError:
        logging.basicConfig(level=logging.CRITICAL, handlers=[logging.NullHandler()])
    try:
        cfg = load_config(args.config)
        desk = {
            name: value
            for name in ("theme", "refresh_hz")
            if (value := getattr(args, name)) is not None
        }
        if desk:
            cfg = with_overrides(cfg, desk=desk)
    except ConfigError as exc:
        print(f"marketdesk: {exc}", file=sys.stderr)
        return 2
    catalogue: Catalogue = ()
    if args.simulated:
        from tui.sim.instruments import INSTRUMENTS
        from tui.wire.catalogue import Entry

        default = simulator_watchlists(INSTRUMENTS)
        catalogue = tuple(Entry(i.key, i.symbol, i.name, i.index) for i in INSTRUMENTS)
    else:
        default = feed_watchlists()
        catalogue = feed_catalogue()
    from tui.app import make_app

    watchlists, store, notices = open_watchlists(default, args.watch or ())
    market = Market(DecodeErrors(redact=(token,)))
    client = open_source(FeedConfig(url=args.url, token=token, uid=cfg.feed.uid), market)
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
    app.settle_gc_after = SETTLE_GC_AFTER
    app.run()
    return int(app.return_code or 0)


if __name__ == "__main__":
    raise SystemExit(main())
