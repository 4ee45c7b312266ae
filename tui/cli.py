"""``marketdesk``: the desk (default), ``sim``, ``snapshot``, ``tail`` and ``config``.

Settings come from the config file (:mod:`tui.config_file`); a flag given on the command line
overrides the file, so every flag's argparse default is None ("not given").
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

from tui import __version__
from tui.argtypes import checked
from tui.arguments import Parser, UsageError
from tui.config_file import (
    REFRESH_HZ_MAX,
    REFRESH_HZ_MIN,
    ConfigError,
    DeskConfig,
    check_theme,
    check_uid,
    check_url,
    config_path,
    load_config,
    render,
    with_overrides,
)
from tui.feed_commands import EXIT_USAGE
from tui.secrets import TokenError, ca_context, resolve_token
from tui.watchlist_store import check_key, default_path
from tui.wire.dialects import DIALECTS

if TYPE_CHECKING:
    import ssl

DESCRIPTION = "A keyboard-driven terminal desk for live exchange market data."


def _refresh_hz(value: str) -> float:
    try:
        hz = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError("not a number") from None
    if not REFRESH_HZ_MIN <= hz <= REFRESH_HZ_MAX:  # also refuses nan
        raise argparse.ArgumentTypeError(
            f"must be between {REFRESH_HZ_MIN:g} and {REFRESH_HZ_MAX:g} frames a second"
        )
    return hz


def _config_option(p: argparse.ArgumentParser, default: object) -> None:
    p.add_argument(
        "--config", type=Path, metavar="PATH", default=default,
        help="the config file (default: config.toml in the config directory; "
        "see `marketdesk config`)",
    )


def _feed_options(p: argparse.ArgumentParser, default: object = None) -> None:
    """Feed flags.  A subcommand passes ``default=SUPPRESS`` so that the same flag given
    before the subcommand is not reset to None by the subparser."""
    g = p.add_argument_group("feed (overrides [feed] of the config file)")
    g.add_argument(
        "--url", type=checked(check_url), default=default,
        help="feed endpoint, e.g. wss://host/2.0/market/feed/full "
        "(default: the built-in simulator)",
    )
    g.add_argument(
        "--token-env", metavar="VAR", default=default,
        help="read the token from environment variable VAR",
    )
    g.add_argument(
        "--token-file", metavar="PATH", default=default,
        help="read the token from a file only you can read",
    )
    g.add_argument(
        "--ca-file", metavar="PATH", default=default,
        help="also trust the CA certificates (PEM) in PATH for a wss:// feed "
        "(a private CA; default: the system's)",
    )
    g.add_argument(
        "--auth", choices=("header", "query", "connect"), default=default,
        help="how to present the token (default: Authorization: Bearer header)",
    )
    g.add_argument(
        "--uid", default=default,
        help="your user id: for --auth connect, and needed by the noren, noren-token and "
        "firstock-v2 dialects on a real feed (default: marketdesk)",
    )
    g.add_argument(
        "--dialect", choices=DIALECTS, default=default,
        help="how the feed speaks: psx (the default: the PSX seed, bearer header or token "
        "query), noren (connect with a session token), noren-token (connect with an access "
        "token), firstock-v2 (Firstock's V2 socket); see the README's table of brokers",
    )


def _source_options(p: argparse.ArgumentParser, default: object = None) -> None:
    """``--source nats://...``: the feed from the bus instead of a WebSocket (docs/BUS.md)."""
    from tui.bus import options as bus_options

    p.add_argument(
        "--source", type=bus_options.bus_url, metavar="NATS_URL", default=default,
        help="read the market from NATS (a relay or `marketdesk publish` feeds it) instead "
        "of --url; no feed token is needed or sent",
    )
    bus_options.add_bus_options(p, default)


def _scrip_options(p: argparse.ArgumentParser, *, required: bool) -> None:
    p.add_argument(
        "--scrip", action="append", required=required, metavar="EXCH|TOKEN", default=None,
        help="a scrip to subscribe, e.g. NSE|26000 (repeat, or #-separate)",
    )
    p.add_argument("--orders", action="store_true", help="also subscribe order-level (L2) data")


def _record_option(p: argparse.ArgumentParser, *, required: bool = False, default: object = None) -> None:
    p.add_argument(
        "--record", type=Path, metavar="DIR", required=required, default=default,
        help="record every frame received (and every request sent, secrets removed) into "
        "DIR, rotated hourly and by size (docs/RECORDING.md)",
    )


def _replay_options(p: argparse.ArgumentParser, default: object) -> None:
    g = p.add_argument_group("replay")
    g.add_argument(
        "--speed", default=default, metavar="X",
        help="0 = as fast as possible, 0.5, 1 = as recorded (default), 10, ...",
    )
    g.add_argument(
        "--from", dest="from_time", default=default, metavar="TIME",
        help="start at TIME: HH:MM[:SS] on the recording's day, +SECONDS or +1m30s from its "
        "start, or an ISO date-time (the state at TIME is rebuilt first)",
    )
    g.add_argument("--to", dest="to_time", default=default, metavar="TIME", help="stop at TIME")


def build_parser() -> Parser:
    # allow_abbrev=False (the subcommands' parsers inherit it): `--token X` must not be
    # taken for --token-env/--token-file
    parser = Parser(prog="marketdesk", description=DESCRIPTION, allow_abbrev=False)
    parser.add_argument("--version", action="version", version=f"marketdesk {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log to stderr")
    _config_option(parser, None)
    _feed_options(parser)
    _source_options(parser)
    parser.add_argument("--seed", type=int, default=1, help="simulator seed (built-in feed)")
    parser.add_argument("--rate", type=float, default=2000.0, help="simulator messages/s (built-in feed)")
    parser.add_argument(
        "--watch", action="append", metavar="EXCH|TOKEN",
        help="watch only these scrips, in one list that is not saved "
        "(the saved watchlists are left alone)",
    )
    parser.add_argument(
        "--refresh-hz", type=_refresh_hz, default=None,
        help="screen refresh rate, 1..60 (default: [desk] refresh_hz, 20)",
    )
    parser.add_argument(
        "--theme", type=checked(check_theme), default=None,
        help="colour theme (default: [desk] theme, marketdesk-dark)",
    )
    _record_option(parser)
    parser.add_argument(
        "--replay", nargs="+", type=Path, metavar="FILE", default=None,
        help="open the desk on a recording instead of a feed (p pause, < > speed, . step, "
        "@ jump to a time)",
    )
    _replay_options(parser, None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    from tui.sim import cli as sim_cli

    sim_cli.add_scenario_option(parser)  # --scenario NAME[:KEY], for the built-in simulator
    sim_cli.add_fault_option(parser)  # --sim-fault NAME=VALUE, for the built-in simulator
    sim = sub.add_parser(
        "sim", help="run the exchange simulator", description="Run the exchange simulator."
    )
    sim_cli.add_arguments(sim)

    from tui.relay import cli as relay_cli

    relay = sub.add_parser(
        "relay", help="share one upstream connection with any number of desks and scripts",
        description="Hold the one upstream connection of a token and serve the same protocol "
        "to any number of clients, with tokens of their own (docs/RELAY.md).",
    )
    relay_cli.add_arguments(relay)

    snap = sub.add_parser(
        "snapshot", help="connect, subscribe depth, wait, print one JSON object",
        description="Connect, subscribe depth, wait, print one JSON object.",
    )
    _config_option(snap, argparse.SUPPRESS)
    _feed_options(snap, argparse.SUPPRESS)
    _source_options(snap, argparse.SUPPRESS)
    _scrip_options(snap, required=True)
    snap.add_argument("--seconds", type=float, default=3.0, help="how long to listen (default 3)")
    _record_option(snap, default=argparse.SUPPRESS)

    tail = sub.add_parser(
        "tail", help="print merged updates as JSON lines",
        description="Print merged updates as JSON lines (one per changed scrip per frame).",
    )
    _config_option(tail, argparse.SUPPRESS)
    _feed_options(tail, argparse.SUPPRESS)
    _source_options(tail, argparse.SUPPRESS)
    _scrip_options(tail, required=True)
    tail.add_argument("--seconds", type=float, default=None, help="stop after this long")
    tail.add_argument("--count", type=int, default=None, help="stop after this many lines")
    tail.add_argument("--hz", type=float, default=10.0, help="frames per second (default 10)")
    _record_option(tail, default=argparse.SUPPRESS)

    rec = sub.add_parser(
        "record", help="record a feed headless (all day: until Ctrl-C or SIGTERM)",
        description="Connect, subscribe depth (and --orders), and record every frame into DIR "
        "until --seconds pass or SIGINT/SIGTERM; files rotate hourly and by size.",
    )
    _config_option(rec, argparse.SUPPRESS)
    _feed_options(rec, argparse.SUPPRESS)
    _scrip_options(rec, required=True)
    _record_option(rec, required=True, default=argparse.SUPPRESS)
    rec.add_argument("--seconds", type=float, default=None, help="stop after this long")

    from tui.replay import cli as replay_cli

    rep = sub.add_parser(
        "replay", help="serve a recording as a feed (the simulator's endpoints and auth)",
        description="Serve recording FILEs as a live feed on the simulator's endpoints, auth "
        "modes and session limit; the replay starts when a scrip is subscribed.",
    )
    replay_cli.add_arguments(rep)
    _replay_options(rep, argparse.SUPPRESS)

    from tui.bus import options as bus_options

    pub = sub.add_parser(
        "publish", help="publish a feed onto NATS for desks on other machines (docs/BUS.md)",
        description="Hold one upstream connection and publish what the bus's consumers want "
        "(and --scrip) onto NATS: sequenced deltas, the last value of each scrip in JetStream.",
    )
    _config_option(pub, argparse.SUPPRESS)
    _feed_options(pub, argparse.SUPPRESS)
    _scrip_options(pub, required=False)
    pub.add_argument("--publish", required=True, type=bus_options.bus_url, metavar="NATS_URL",
                     help="the NATS server, e.g. nats://127.0.0.1:4222")
    pub.add_argument("--exchange", action="append", metavar="EXCH",
                     help="serve only these exchanges' scrips to the bus (repeat; default all)")
    pub.add_argument("--grace", type=float, default=5.0,
                     help="seconds a scrip nobody wants stays subscribed upstream (default 5)")
    pub.add_argument("--seconds", type=float, default=None, help="stop after this long")
    bus_options.add_bus_options(pub, argparse.SUPPRESS)

    from tui.serve import cli as serve_cli

    serve = sub.add_parser(
        "serve", help="serve the desk to web browsers (a desk per tab, one relay for all)",
        description="Serve the desk to web browsers: each tab runs its own desk, all of them "
        "reading one relay.  Loopback only unless a password is given.  The desk's options "
        "(--config, --theme, --watch; a feed's --url and --token-env; --seed, --scenario) go "
        "before `serve`.  docs/SERVE.md.",
    )
    serve_cli.add_arguments(serve)

    cfg = sub.add_parser(
        "config", help="show where the config and watchlists live, and the settings in effect",
        description="Print the config file's path, the watchlists file's path and the settings "
        "in effect (the config file, then the flags given before `config`).  Never a token.",
    )
    _config_option(cfg, argparse.SUPPRESS)
    return parser


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
    return with_overrides(cfg, feed=feed, desk=desk, simulator=simulator) if feed or desk or simulator else cfg


def describe(args: argparse.Namespace, cfg: DeskConfig) -> str:
    """What ``marketdesk config`` prints: valid TOML, the paths as comments, never a token."""
    config_file, watchlists_file = config_path(getattr(args, "config", None)), default_path()
    missing = {True: "", False: " (not found: defaults)"}
    return (
        f"# config file: {config_file}{missing[config_file.is_file()]}\n"
        f"# watchlists:  {watchlists_file}{missing[watchlists_file.is_file()]}\n"
        "# settings in effect (the config file, then the command line):\n\n"
        + render(cfg)
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

            args.bus = bus_options.bus_config(args, source, name=f"marketdesk-{args.command or 'desk'}")
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
                url=cfg.feed.url, token=token, auth=cfg.feed.auth, uid=cfg.feed.uid, ssl=tls,
                dialect=cfg.feed.dialect,
            )
            return asyncio.run(standalone.main(
                feed, bus, keys, orders=args.orders, grace=args.grace,
                exchanges=args.exchange or (), seconds=args.seconds,
            ))
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
                    feed_commands.record(config, keys, args.record, args.seconds, orders=args.orders)
                )
            if args.command == "snapshot":
                return asyncio.run(feed_commands.snapshot(config, keys, args.seconds, orders=args.orders,
                                                     record=args.record))
            return asyncio.run(
                feed_commands.tail(config, keys, args.seconds, hz=args.hz, count=args.count,
                              orders=args.orders, record=args.record)
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
