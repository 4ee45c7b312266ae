"""``marketdesk replay FILE...``: serve a recording as a feed (tui.replay.server)."""

from __future__ import annotations

import argparse
import sys

from tui.record.format import FormatError
from tui.record.reader import Recording
from tui.replay.server import ReplayServer
from tui.replay.timeline import parse_speed, parse_time
from tui.server.config import ServerConfig
from tui.sim.cli import add_token_arguments, tokens_of

DEFAULT_PORT = 8766


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="recording files (in any order)")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port (default {DEFAULT_PORT}; 0 = any free port)",
    )
    add_token_arguments(parser)


async def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C; the exit status (2: a recording or an option it cannot use)."""
    try:
        recording = Recording(args.files)
        start = recording.header.started_ns
        speed = parse_speed(args.speed) if getattr(args, "speed", None) is not None else 1.0
        begin = parse_time(args.from_time, start) if getattr(args, "from_time", None) else None
        end = parse_time(args.to_time, start) if getattr(args, "to_time", None) else None
        tokens = tokens_of(args)
    except (FormatError, ValueError) as exc:
        print(f"marketdesk replay: {exc}", file=sys.stderr)
        return 2
    config = ServerConfig(
        host=args.host,
        port=args.port,
        log_name="tui.replay",
        users=tuple((f"REPLAY{i + 1}", t) for i, t in enumerate(tokens)),
    )
    try:
        async with ReplayServer(
            recording, config, speed=speed, start_ns=begin, end_ns=end
        ) as server:
            print(server.describe(), flush=True)
            await server.serve_forever()
    except OSError as exc:
        print(
            f"marketdesk replay: cannot listen on {args.host}:{args.port}: {exc.strerror}",
            file=sys.stderr,
        )
        return 1
    return 0
