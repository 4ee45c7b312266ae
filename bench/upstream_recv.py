"""The relay's upstream side: receive + decode + merge per message, three WebSocket stacks.

The relay's upstream is one connection at up to 50,000 msgs/s; websockets' asyncio
client costs ~11.6 µs a message just to receive (``bench/socket_recv.py``).  Measured here,
side by side in one run, each in a child process of its own, against the same fast
upstream (``bench/fastfeed.py``, a core of its own), each doing the relay's whole
upstream work (``FrameReader.feed`` -> ``RelayCache.apply``, fan-out with no client):

- ``websockets``: the asyncio client as ``FeedClient`` uses it (``recv()`` per message);
- ``direct``: the same asyncio client, each text frame handed to the reader as it is
  parsed (``tui.relay.upstream.DirectConnection``: no queue, no ``recv()`` per message);
- ``sans-io``: websockets' own Sans-I/O ``ClientProtocol`` on a raw ``asyncio.Protocol``
  (frames parsed in ``data_received``, no task switch, no queue per message);
- ``picows``: picows (Cython) on its own transport, one ``on_ws_frame`` call per frame;
- ``bare-*``: the same stacks counting frames only (the stack's own cost).

CPU per message is the child's own user + system time over the measured window,
divided by the messages it handled; rounds alternate so load drifts hit all alike.

Run: ``.venv/bin/python bench/upstream_recv.py [--rate 50000] [--seconds 5] [--rounds 3]``
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(_HERE))

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import time
from collections.abc import Callable

UP_TOKEN = "bench-upstream-token"
STACKS = ("websockets", "direct", "sans-io", "picows")


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def subscription() -> list[bytes]:
    from tui.sim.instruments import INSTRUMENTS

    keys = "#".join(i.key for i in INSTRUMENTS)
    return [json.dumps({"t": "d", "k": keys}).encode(), json.dumps({"t": "l", "k": keys}).encode()]


def sink(bare: bool) -> Callable[[bytes], None]:
    """What each message costs beyond the stack: the relay's decode, merge and fan-out."""
    if bare:
        return lambda frame: None
    from tui.relay.cache import RelayCache
    from tui.wire.frames import FrameReader

    cache = RelayCache()
    cache.listeners.append(lambda key, seq, msg: None)  # the fan-out's call, no client
    feed = FrameReader(cache.errors, sink=cache.apply).feed
    return feed  # type: ignore[return-value]


async def run_websockets(url: str, on_frame: Callable[[bytes], None], count: list[int]) -> None:
    from websockets.asyncio.client import connect

    ws = await connect(
        url,
        additional_headers={"Authorization": f"Bearer {UP_TOKEN}"},
        compression=None,
        max_size=2**24,
    )
    for request in subscription():
        await ws.send(request.decode())
    while True:
        frame = await ws.recv(False)
        count[0] += 1
        on_frame(frame)


async def run_direct(url: str, on_frame: Callable[[bytes], None], count: list[int]) -> None:
    from websockets.asyncio.client import connect

    from tui.relay.upstream import DirectConnection

    def on_text(frame: bytes) -> None:
        count[0] += 1
        on_frame(frame)

    ws = await connect(
        url,
        additional_headers={"Authorization": f"Bearer {UP_TOKEN}"},
        compression=None,
        max_size=2**24,
        create_connection=DirectConnection,
    )
    ws.on_text = on_text  # type: ignore[attr-defined]
    for request in subscription():
        await ws.send(request.decode())
    await ws.wait_closed()


async def run_sans_io(url: str, on_frame: Callable[[bytes], None], count: list[int]) -> None:
    from websockets.client import ClientProtocol
    from websockets.frames import Frame, Opcode
    from websockets.uri import parse_uri

    uri = parse_uri(url)
    proto = ClientProtocol(uri, max_size=2**24)

    class Stream(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = transport
            request = proto.connect()
            request.headers["Authorization"] = f"Bearer {UP_TOKEN}"
            proto.send_request(request)
            self.flush()

        def flush(self) -> None:
            for data in proto.data_to_send():
                if data:
                    self.transport.write(data)  # type: ignore[attr-defined]

        def data_received(self, data: bytes) -> None:
            proto.receive_data(data)
            n = 0
            for event in proto.events_received():
                if type(event) is Frame:
                    if event.opcode is Opcode.TEXT:
                        n += 1
                        on_frame(event.data)
                else:  # the handshake's response: subscribe
                    for request in subscription():
                        proto.send_text(request)
            count[0] += n
            self.flush()  # pongs, subscriptions

    loop = asyncio.get_running_loop()
    await loop.create_connection(Stream, uri.host, uri.port)
    await asyncio.Future()


async def run_picows(url: str, on_frame: Callable[[bytes], None], count: list[int]) -> None:
    from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

    class Listener(WSListener):
        def on_ws_connected(self, transport: WSTransport) -> None:
            for request in subscription():
                transport.send(WSMsgType.TEXT, request)

        def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
            if frame.msg_type == WSMsgType.TEXT:
                count[0] += 1
                on_frame(frame.get_payload_as_bytes())

    await ws_connect(Listener, url, extra_headers={"Authorization": f"Bearer {UP_TOKEN}"})
    await asyncio.Future()


def child(stack: str, url: str, warmup: float, seconds: float) -> None:
    bare = stack.startswith("bare-")
    runner = {
        "websockets": run_websockets,
        "direct": run_direct,
        "sans-io": run_sans_io,
        "picows": run_picows,
    }[stack.removeprefix("bare-")]
    count = [0]

    async def main() -> dict[str, float]:
        task = asyncio.create_task(runner(url, sink(bare), count))
        await asyncio.sleep(warmup)
        n0, c0, t0 = count[0], cpu(), time.perf_counter()
        await asyncio.sleep(seconds)
        n1, c1, t1 = count[0], cpu(), time.perf_counter()
        task.cancel()
        n = max(n1 - n0, 1)
        return {"rate": n / (t1 - t0), "us": (c1 - c0) / n * 1e6}

    print(json.dumps(asyncio.run(main())), flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rate", type=float, default=50_000.0)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--child", nargs=2, metavar=("STACK", "URL"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        child(args.child[0], args.child[1], 1.5, args.seconds)
        return 0
    t = time.perf_counter()
    for _ in range(10_000_000):
        pass
    print(
        f"machine reference: a plain 10-million-iteration loop takes {time.perf_counter() - t:.2f} s; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    source = subprocess.Popen(
        [
            sys.executable,
            os.path.join(_HERE, "fastfeed.py"),
            "--rate",
            str(args.rate),
            "--messages",
            "200000",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert source.stdout is not None
    url = source.stdout.readline().split()[1]
    stacks = [*STACKS, *(f"bare-{s}" for s in STACKS)]
    results: dict[str, list[dict[str, float]]] = {s: [] for s in stacks}
    try:
        for _ in range(args.rounds):
            for stack in stacks:
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--child",
                        stack,
                        url,
                        "--seconds",
                        str(args.seconds),
                    ],
                    check=True,
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
                results[stack].append(json.loads(out.stdout.strip().splitlines()[-1]))
    finally:
        source.communicate("", timeout=30)
    print(f"upstream asked: {args.rate:,.0f} msgs/s; median of {args.rounds} rounds")
    print(f"{'stack':<16}{'msgs/s':>10}{'µs/msg CPU':>12}")
    for stack in stacks:
        rate = statistics.median(r["rate"] for r in results[stack])
        us = statistics.median(r["us"] for r in results[stack])
        print(f"{stack:<16}{rate:>10,.0f}{us:>12.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
