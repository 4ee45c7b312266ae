"""``marketdesk``'s commands and their flags: :func:`build_parser` (what ``tui.cli.main`` parses).

Every flag that a config file also sets defaults to None ("not given"), so the file's value
holds unless the flag is given (:func:`tui.cli.settings`).  A subcommand repeats the common
flags with ``default=SUPPRESS``, so that the same flag given before the subcommand is not
reset by the subparser.  The parser is :class:`tui.arguments.Parser`: its errors never echo
a value.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tui import __version__
from tui.argtypes import checked
from tui.arguments import Parser
from tui.config_file import REFRESH_HZ_MAX, REFRESH_HZ_MIN, check_theme, check_url
from tui.wire.dialects import DIALECTS

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
        "--config",
        type=Path,
        metavar="PATH",
        default=default,
        help="the config file (default: config.toml in the config directory; "
        "see `marketdesk config`)",
    )


def _feed_options(p: argparse.ArgumentParser, default: object = None) -> None:
    """Feed flags.  A subcommand passes ``default=SUPPRESS`` so that the same flag given
    before the subcommand is not reset to None by the subparser."""
    g = p.add_argument_group("feed (overrides [feed] of the config file)")
    g.add_argument(
        "--url",
        type=checked(check_url),
        default=default,
        help="feed endpoint, e.g. wss://host/2.0/market/feed/full "
        "(default: the built-in simulator)",
    )
    g.add_argument(
        "--token-env",
        metavar="VAR",
        default=default,
        help="read the token from environment variable VAR",
    )
    g.add_argument(
        "--token-file",
        metavar="PATH",
        default=default,
        help="read the token from a file only you can read",
    )
    g.add_argument(
        "--ca-file",
        metavar="PATH",
        default=default,
        help="also trust the CA certificates (PEM) in PATH for a wss:// feed "
        "(a private CA; default: the system's)",
    )
    g.add_argument(
        "--auth",
        choices=("header", "query", "connect"),
        default=default,
        help="how to present the token (default: Authorization: Bearer header)",
    )
    g.add_argument(
        "--uid",
        default=default,
        help="your user id: for --auth connect, and needed by the noren, noren-token and "
        "firstock-v2 dialects on a real feed (default: marketdesk)",
    )
    g.add_argument(
        "--dialect",
        choices=DIALECTS,
        default=default,
        help="how the feed speaks: psx (the default: the PSX seed, bearer header or token "
        "query), noren (connect with a session token), noren-token (connect with an access "
        "token), firstock-v2 (Firstock's V2 socket); see the README's table of brokers",
    )


def _source_options(p: argparse.ArgumentParser, default: object = None) -> None:
    """``--source nats://...``: the feed from the bus instead of a WebSocket (docs/BUS.md)."""
    from tui.bus import options as bus_options

    p.add_argument(
        "--source",
        type=bus_options.bus_url,
        metavar="NATS_URL",
        default=default,
        help="read the market from NATS (a relay or `marketdesk publish` feeds it) instead "
        "of --url; no feed token is needed or sent",
    )
    bus_options.add_bus_options(p, default)


def _scrip_options(p: argparse.ArgumentParser, *, required: bool) -> None:
    p.add_argument(
        "--scrip",
        action="append",
        required=required,
        metavar="EXCH|TOKEN",
        default=None,
        help="a scrip to subscribe, e.g. NSE|26000 (repeat, or #-separate)",
    )
    p.add_argument("--orders", action="store_true", help="also subscribe order-level (L2) data")


def _record_option(
    p: argparse.ArgumentParser, *, required: bool = False, default: object = None
) -> None:
    p.add_argument(
        "--record",
        type=Path,
        metavar="DIR",
        required=required,
        default=default,
        help="record every frame received (and every request sent, secrets removed) into "
        "DIR, rotated hourly and by size (docs/RECORDING.md)",
    )


def _replay_options(p: argparse.ArgumentParser, default: object) -> None:
    g = p.add_argument_group("replay")
    g.add_argument(
        "--speed",
        default=default,
        metavar="X",
        help="0 = as fast as possible, 0.5, 1 = as recorded (default), 10, ...",
    )
    g.add_argument(
        "--from",
        dest="from_time",
        default=default,
        metavar="TIME",
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
    parser.add_argument(
        "--rate", type=float, default=2000.0, help="simulator messages/s (built-in feed)"
    )
    parser.add_argument(
        "--watch",
        action="append",
        metavar="EXCH|TOKEN",
        help="watch only these scrips, in one list that is not saved "
        "(the saved watchlists are left alone)",
    )
    parser.add_argument(
        "--refresh-hz",
        type=_refresh_hz,
        default=None,
        help="screen refresh rate, 1..60 (default: [desk] refresh_hz, 20)",
    )
    parser.add_argument(
        "--theme",
        type=checked(check_theme),
        default=None,
        help="colour theme (default: [desk] theme, marketdesk-dark)",
    )
    _record_option(parser)
    parser.add_argument(
        "--replay",
        nargs="+",
        type=Path,
        metavar="FILE",
        default=None,
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
        "relay",
        help="share one upstream connection with any number of desks and scripts",
        description="Hold the one upstream connection of a token and serve the same protocol "
        "to any number of clients, with tokens of their own (docs/RELAY.md).",
    )
    relay_cli.add_arguments(relay)

    snap = sub.add_parser(
        "snapshot",
        help="connect, subscribe depth, wait, print one JSON object",
        description="Connect, subscribe depth, wait, print one JSON object.",
    )
    _config_option(snap, argparse.SUPPRESS)
    _feed_options(snap, argparse.SUPPRESS)
    _source_options(snap, argparse.SUPPRESS)
    _scrip_options(snap, required=True)
    snap.add_argument("--seconds", type=float, default=3.0, help="how long to listen (default 3)")
    _record_option(snap, default=argparse.SUPPRESS)

    tail = sub.add_parser(
        "tail",
        help="print merged updates as JSON lines",
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
        "record",
        help="record a feed headless (all day: until Ctrl-C or SIGTERM)",
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
        "replay",
        help="serve a recording as a feed (the simulator's endpoints and auth)",
        description="Serve recording FILEs as a live feed on the simulator's endpoints, auth "
        "modes and session limit; the replay starts when a scrip is subscribed.",
    )
    replay_cli.add_arguments(rep)
    _replay_options(rep, argparse.SUPPRESS)

    from tui.bus import options as bus_options

    pub = sub.add_parser(
        "publish",
        help="publish a feed onto NATS for desks on other machines (docs/BUS.md)",
        description="Hold one upstream connection and publish what the bus's consumers want "
        "(and --scrip) onto NATS: sequenced deltas, the last value of each scrip in JetStream.",
    )
    _config_option(pub, argparse.SUPPRESS)
    _feed_options(pub, argparse.SUPPRESS)
    _scrip_options(pub, required=False)
    pub.add_argument(
        "--publish",
        required=True,
        type=bus_options.bus_url,
        metavar="NATS_URL",
        help="the NATS server, e.g. nats://127.0.0.1:4222",
    )
    pub.add_argument(
        "--exchange",
        action="append",
        metavar="EXCH",
        help="serve only these exchanges' scrips to the bus (repeat; default all)",
    )
    pub.add_argument(
        "--grace",
        type=float,
        default=5.0,
        help="seconds a scrip nobody wants stays subscribed upstream (default 5)",
    )
    pub.add_argument("--seconds", type=float, default=None, help="stop after this long")
    bus_options.add_bus_options(pub, argparse.SUPPRESS)

    from tui.serve import cli as serve_cli

    serve = sub.add_parser(
        "serve",
        help="serve the desk to web browsers (a desk per tab, one relay for all)",
        description="Serve the desk to web browsers: each tab runs its own desk, all of them "
        "reading one relay.  Loopback only unless a password is given.  The desk's options "
        "(--config, --theme, --watch; a feed's --url and --token-env; --seed, --scenario) go "
        "before `serve`.  docs/SERVE.md.",
    )
    serve_cli.add_arguments(serve)

    cfg = sub.add_parser(
        "config",
        help="show where the config and watchlists live, and the settings in effect",
        description="Print the config file's path, the watchlists file's path and the settings "
        "in effect (the config file, then the flags given before `config`).  Never a token.",
    )
    _config_option(cfg, argparse.SUPPRESS)
    return parser
