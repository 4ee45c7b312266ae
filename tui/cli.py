"""``marketdesk``: the desk (default), ``sim``, ``relay``, ``snapshot``, ``tail``, ``record``,
``replay``, ``publish``, ``serve`` and ``config``; :func:`main` runs the one asked for.

The commands and their flags: :mod:`tui.cli_parser`.  Settings come from the config file
(:mod:`tui.config_file`); a flag given on the command line overrides the file, so every
flag's argparse default is None ("not given").
Exit codes (docs/CONFIG.md): 0 ok, 2 usage, 3 token refused or unusable / TLS certificate
not trusted, 4 feed unreachable or not a feed endpoint, 5 session limit reached.

Argument errors never echo a value (:mod:`tui.arguments`): a token typed on the command
line by mistake must not end up on the screen, in a terminal recording or a CI log.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tui.arguments import Parser, UsageError
from tui.cli_parser import build_parser
from tui.config_file import (
    ConfigError,
    DeskConfig,
    check_uid,
    config_path,
    load_config,
    render,
    with_overrides,
)
from tui.feed_commands import EXIT_USAGE
from tui.secrets import TokenError, ca_context, resolve_token
from tui.watchlist_store import check_key, default_path

if TYPE_CHECKING:
    import ssl


def _keys(values: Sequence[str] | None) -> list[str]:
    from tui.wire.protocol import split_keys

    keys: list[str] = []
    for value in values or ():
        for key in split_keys(value):
            key = check_key(key)
            if key not in keys:
                keys.append(key)
    return keys


def settings(args: argparse.Namespace) -> DeskConfig:
    """The config file's settings with the flags given on the command line on top.

    A token source given as a flag replaces the file's whole token source: ``--token-env``
    must win over a ``token_file`` in the file, though a file is otherwise read first.
    """
    cfg = load_config(getattr(args, "config", None))
    feed = {
        name: value
        for name in ("url", "auth", "uid", "dialect")
        if (value := getattr(args, name, None)) is not None
    }
    token_env, token_file = getattr(args, "token_env", None), getattr(args, "token_file", None)
    if token_env or token_file:
        feed.update(token_env=token_env, token_file=token_file)
    ca_file = getattr(args, "ca_file", None)
    if ca_file is not None:
        feed["ca_file"] = str(Path(ca_file).expanduser())
    desk = {
        name: value
        for name in ("refresh_hz", "theme")
        if (value := getattr(args, name, None)) is not None
    }
    simulator = dict(getattr(args, "sim_fault", None) or [])
    return (
        with_overrides(cfg, feed=feed, desk=desk, simulator=simulator)
        if feed or desk or simulator
        else cfg
    )


def describe(args: argparse.Namespace, cfg: DeskConfig) -> str:
    """What ``marketdesk config`` prints: valid TOML, the paths as comments, never a token."""
    config_file, watchlists_file = config_path(getattr(args, "config", None)), default_path()
    missing = {True: "", False: " (not found: defaults)"}
    return (
        f"# config file: {config_file}{missing[config_file.is_file()]}\n"
        f"# watchlists:  {watchlists_file}{missing[watchlists_file.is_file()]}\n"
        "# settings in effect (the config file, then the command line):\n\n" + render(cfg)
    )


def tls_context(cfg: DeskConfig) -> ssl.SSLContext | None:
    """The context trusting ``ca_file`` (None: the default, verifying, context)."""
    ca_file = cfg.feed.ca_file
    if not ca_file or cfg.feed.url is None:
        return None
    if not cfg.feed.url.startswith("wss://"):
        raise ValueError("ca_file (--ca-file) is for a wss:// feed; the url is ws://")
    return ca_context(ca_file)


def log_file() -> Path:
    """Where the desk logs: the terminal belongs to the screen while it runs."""
    from platformdirs import user_log_dir

    return Path(user_log_dir("marketdesk", appauthor=False)) / "marketdesk.log"


def _log_to_file(level: int, fmt: str) -> str | None:
    """The desk logs to :func:`log_file`; if that cannot be used (``XDG_STATE_HOME`` names a
    file, a read-only disk), to a file in the temp directory, else nowhere.  Never raises:
    the desk starts whatever happens to its log.  A notice saying where, or None."""
    path = log_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and not path.is_file():  # a FIFO would block the desk's start
            raise IsADirectoryError(f"{path} is not a file")
        logging.basicConfig(level=level, format=fmt, filename=path, force=True)
        return None
    except OSError as exc:
        why = exc.strerror or str(exc)
    fallback = Path(tempfile.gettempdir()) / f"marketdesk-{os.getuid()}.log"
    try:
        if fallback.exists() and not fallback.is_file():
            raise IsADirectoryError(f"{fallback} is not a file")
        logging.basicConfig(level=level, format=fmt, filename=fallback, force=True)
    except OSError:
        logging.basicConfig(handlers=[logging.NullHandler()], force=True)
        return f"the log file {path} cannot be used ({why}), nor {fallback}: logging is off"
    return f"the log file {path} cannot be used ({why}); logging to {fallback}"


def _logging(args: argparse.Namespace) -> str | None:
    """Set up logging; a notice for the desk if its log went elsewhere."""
    level = logging.INFO if args.verbose else logging.WARNING
    fmt = "%(asctime)s %(name)s %(levelname)s %(message)s"
    notice = None
    if args.command is None:  # the desk: never write over the screen
        notice = _log_to_file(level, fmt)
    else:
        logging.basicConfig(level=level, format=fmt, stream=sys.stderr, force=True)
    if not args.verbose:
        logging.getLogger("tui.sim.ws").setLevel(logging.WARNING)
    return notice


def _needs_token(parser: Parser, args: argparse.Namespace, cfg: DeskConfig) -> None:
    """A real feed needs a token source: said at once, with the usage line (exit 2)."""
    if cfg.feed.url is None or cfg.feed.token_env or cfg.feed.token_file:
        return
    command = parser.commands.get(args.command or "", parser)
    raise UsageError(
        command,
        "the feed needs a token: --token-env VAR or --token-file PATH "
        "(or token_env / token_file in [feed] of the config file)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        return exc.report(argv)
    notice = _logging(args)
    if args.command == "relay":
        from tui.relay import cli as relay_cli

        return relay_cli.run(args)
    if args.command == "sim":
        from tui.sim import cli as sim_cli

        return int(sim_cli.main(args) or 0)
    if args.command == "replay":
        from tui.replay import cli as replay_cli

        try:
            return asyncio.run(replay_cli.run(args))
        except KeyboardInterrupt:
            return 0
    try:
        cfg = settings(args)
        if args.command == "config":
            print(describe(args, cfg), end="")
            return 0
        check_uid(cfg.feed)
        if args.command == "serve":  # its own tokens, errors and exit codes
            from tui.serve import cli as serve_cli

            return serve_cli.run(args, cfg)
        source: str = getattr(args, "source", None) or ""
        from_bus = bool(source) and args.command != "publish"  # --source nats://...
        if args.command and cfg.feed.url is None and not from_bus:
            raise ValueError(
                f"{args.command} needs a feed: --url, or url in [feed] of the config file"
            )
        if not from_bus and not args.replay:  # a replay reads files: no feed, no token
            _needs_token(parser, args, cfg)
        # the built-in simulator makes its own token: a configured source is not read for it;
        # nor is it for the bus (--source): the feed's token never goes to NATS
        need_token = cfg.feed.url and not from_bus and not args.replay
        token = resolve_token(cfg.feed.token_env, cfg.feed.token_file) if need_token else ""
        try:
            keys = _keys(getattr(args, "scrip", None) if args.command else args.watch)
        except ValueError as exc:  # reported like argparse's own: the value not echoed
            raise UsageError(parser.commands.get(args.command or "", parser), str(exc)) from None
        tls = tls_context(cfg)
        if from_bus:
            from tui.bus import options as bus_options

            args.bus = bus_options.bus_config(
                args, source, name=f"marketdesk-{args.command or 'desk'}"
            )
    except UsageError as exc:
        return exc.report(argv)
    except (ConfigError, TokenError, ValueError) as exc:
        print(f"marketdesk: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "publish":
        from tui.bus import options as bus_options
        from tui.bus import standalone
        from tui.feed.config import FeedConfig

        try:
            bus = bus_options.bus_config(args, args.publish, name="marketdesk-publish")
        except ValueError as exc:
            print(f"marketdesk: {exc}", file=sys.stderr)
            return EXIT_USAGE
        try:
            assert cfg.feed.url is not None
            feed = FeedConfig(
                url=cfg.feed.url,
                token=token,
                auth=cfg.feed.auth,
                uid=cfg.feed.uid,
                ssl=tls,
                dialect=cfg.feed.dialect,
            )
            return asyncio.run(
                standalone.main(
                    feed,
                    bus,
                    keys,
                    orders=args.orders,
                    grace=args.grace,
                    exchanges=args.exchange or (),
                    seconds=args.seconds,
                )
            )
        except KeyboardInterrupt:
            return 0
    if args.command in ("snapshot", "tail", "record"):
        from tui import feed_commands
        from tui.bus.config import BusConfig
        from tui.feed.config import FeedConfig

        if from_bus:
            config: FeedConfig | BusConfig = args.bus
        else:
            assert cfg.feed.url is not None
            config = FeedConfig(
                url=cfg.feed.url, token=token, auth=cfg.feed.auth, uid=cfg.feed.uid, ssl=tls
            )
        try:
            if args.command == "record":
                return asyncio.run(
                    feed_commands.record(
                        config, keys, args.record, args.seconds, orders=args.orders
                    )
                )
            if args.command == "snapshot":
                return asyncio.run(
                    feed_commands.snapshot(
                        config, keys, args.seconds, orders=args.orders, record=args.record
                    )
                )
            return asyncio.run(
                feed_commands.tail(
                    config,
                    keys,
                    args.seconds,
                    hz=args.hz,
                    count=args.count,
                    orders=args.orders,
                    record=args.record,
                )
            )
        except KeyboardInterrupt:
            return 0
        except OSError as exc:  # --record DIR that cannot be written
            print(f"marketdesk: --record {args.record}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_USAGE
    if args.replay:
        from tui.launch import run_replay

        return run_replay(args, cfg, keys)
    from tui.launch import run_desk

    return run_desk(args, cfg, token, keys, tls=tls, notices=[notice] if notice else [])


if __name__ == "__main__":
    raise SystemExit(main())
