"""``marketdesk``: the desk (default), ``sim``, ``snapshot`` and ``tail``.

Exit codes: 0 ok, 2 usage, 3 auth refused, 4 feed unreachable, 5 session limit reached.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from tui import __version__
from tui.headless import EXIT_USAGE
from tui.secrets import TokenError, resolve_token

DESCRIPTION = "A keyboard-driven terminal desk for live exchange market data."


def _feed_options(p: argparse.ArgumentParser, *, url_required: bool) -> None:
    g = p.add_argument_group("feed")
    g.add_argument(
        "--url", required=url_required,
        help="feed endpoint, e.g. wss://host/2.0/market/feed/full (default: the built-in simulator)",
    )
    g.add_argument("--token-env", metavar="VAR", help="read the token from environment variable VAR")
    g.add_argument("--token-file", metavar="PATH", help="read the token from a file only you can read")
    g.add_argument(
        "--auth", choices=("header", "query", "connect"), default="header",
        help="how to present the token (default: Authorization: Bearer header)",
    )
    g.add_argument("--uid", default="marketdesk", help="user id for --auth connect")


def _scrip_options(p: argparse.ArgumentParser, *, required: bool) -> None:
    p.add_argument(
        "--scrip", action="append", required=required, metavar="EXCH|TOKEN", default=None,
        help="a scrip to subscribe, e.g. NSE|26000 (repeat, or #-separate)",
    )
    p.add_argument("--orders", action="store_true", help="also subscribe order-level (L2) data")


def build_parser() -> argparse.ArgumentParser:
    # allow_abbrev=False: `sim --token X` must not be taken for --token-env/--token-file
    parser = argparse.ArgumentParser(prog="marketdesk", description=DESCRIPTION, allow_abbrev=False)
    parser.add_argument("--version", action="version", version=f"marketdesk {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log to stderr")
    _feed_options(parser, url_required=False)
    parser.add_argument("--seed", type=int, default=1, help="simulator seed (built-in feed)")
    parser.add_argument("--rate", type=float, default=2000.0, help="simulator messages/s (built-in feed)")
    parser.add_argument("--watch", action="append", metavar="EXCH|TOKEN", help="scrips to watch")
    parser.add_argument("--refresh-hz", type=float, default=20.0, help="screen refresh rate")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    from tui.sim import cli as sim_cli

    sim = sub.add_parser("sim", help="run the exchange simulator", description="Run the exchange simulator.")
    sim_cli.add_arguments(sim)

    snap = sub.add_parser(
        "snapshot", help="connect, subscribe depth, wait, print one JSON object",
        description="Connect, subscribe depth, wait, print one JSON object.",
    )
    _feed_options(snap, url_required=True)
    _scrip_options(snap, required=True)
    snap.add_argument("--seconds", type=float, default=3.0, help="how long to listen (default 3)")

    tail = sub.add_parser(
        "tail", help="print merged updates as JSON lines",
        description="Print merged updates as JSON lines (one per changed scrip per frame).",
    )
    _feed_options(tail, url_required=True)
    _scrip_options(tail, required=True)
    tail.add_argument("--seconds", type=float, default=None, help="stop after this long")
    tail.add_argument("--count", type=int, default=None, help="stop after this many lines")
    tail.add_argument("--hz", type=float, default=10.0, help="frames per second (default 10)")
    return parser


def _keys(values: Sequence[str] | None) -> list[str]:
    from tui.feed.protocol import split_keys

    keys: list[str] = []
    for value in values or ():
        for key in split_keys(value):
            if "|" not in key or key.startswith("|") or key.endswith("|"):
                raise ValueError(f"not a scrip key (EXCH|TOKEN): {key!r}")
            if key not in keys:
                keys.append(key)
    return keys


def _config(args: argparse.Namespace, token: str):  # -> FeedConfig
    from tui.feed.config import FeedConfig

    return FeedConfig(url=args.url, token=token, auth=args.auth, uid=args.uid)


def log_file() -> Path:
    """Where the desk logs: the terminal belongs to the screen while it runs."""
    from platformdirs import user_log_dir

    return Path(user_log_dir("marketdesk", appauthor=False)) / "marketdesk.log"


def _logging(args: argparse.Namespace) -> None:
    level = logging.INFO if args.verbose else logging.WARNING
    fmt = "%(asctime)s %(name)s %(levelname)s %(message)s"
    if args.command is None:  # the desk: never write over the screen
        path = log_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        logging.basicConfig(level=level, format=fmt, filename=path, force=True)
    else:
        logging.basicConfig(level=level, format=fmt, stream=sys.stderr, force=True)
    if not args.verbose:
        logging.getLogger("tui.sim.ws").setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _logging(args)
    if args.command == "sim":
        from tui.sim import cli as sim_cli

        return int(sim_cli.main(args) or 0)
    try:
        token = resolve_token(getattr(args, "token_env", None), getattr(args, "token_file", None))
        keys = _keys(getattr(args, "scrip", None) if args.command else args.watch)
    except (TokenError, ValueError) as exc:
        print(f"marketdesk: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.command in ("snapshot", "tail"):
        from tui import headless

        config = _config(args, token)
        try:
            if args.command == "snapshot":
                return asyncio.run(headless.snapshot(config, keys, args.seconds, orders=args.orders))
            return asyncio.run(
                headless.tail(config, keys, args.seconds, hz=args.hz, count=args.count, orders=args.orders)
            )
        except KeyboardInterrupt:
            return 0
    from tui.desk import run_desk

    return run_desk(args, token, keys)


if __name__ == "__main__":
    raise SystemExit(main())
