"""Helpers of the browser tests (tests/serve/test_serve_browser.py): ``marketdesk serve`` as a
real process, headless Chromium through Playwright, and what a tab shows.

Chromium is Debian's (``/usr/bin/chromium``; ``.ci/run`` installs it in CI): Playwright
cannot download a browser of its own here and is never asked to.  What the page shows is
read two ways: the terminal's output as it arrives on the page's WebSocket (text, with
the escape sequences taken out) and screenshots (pixels, through Pillow).
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("MARKETDESK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: generous: a desk process per tab on a busy two-core machine
WAIT = 90.0
PASSWORD = "correct horse battery staple"
PASSWORD_ENV = "MD_TEST_SERVE_PASSWORD"
VIEWPORT = {"width": 1280, "height": 800}

_ESCAPES = re.compile(
    rb"\x1b(\[[0-9;?<=>]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-B]|[=>78])"
)


def why_no_browser() -> str | None:
    """Why the browser tests cannot run here, or None if they can."""
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        return (
            f"no Chromium at {CHROMIUM}: install Debian's `chromium` package "
            "(.ci/run does in CI) to run the browser tests"
        )
    try:
        import PIL  # noqa: F401
        import playwright  # noqa: F401
    except ImportError as exc:
        return f"{exc.name} is not installed: pip install -e '.[test]'"
    return None


def screen_text(raw: bytes) -> str:
    """The text in a terminal's output, escape sequences removed."""
    return _ESCAPES.sub(b"", raw).decode("utf-8", "replace")


@dataclass
class Served:
    """A running ``marketdesk serve``: its URL, its process, what it printed."""

    url: str
    process: subprocess.Popen[str]
    banner: list[str] = field(default_factory=list)
    output: list[str] = field(default_factory=list)

    def health(self, password: str | None = PASSWORD) -> dict[str, Any]:
        import base64
        import json
        import urllib.request

        request = urllib.request.Request(self.url + "health")
        if password is not None:
            creds = base64.b64encode(f"desk:{password}".encode()).decode()
            request.add_header("Authorization", f"Basic {creds}")
        with urllib.request.urlopen(request, timeout=10) as answer:
            result: dict[str, Any] = json.loads(answer.read())
        return result

    async def wait_health(
        self, condition: Callable[[dict[str, Any]], bool], timeout: float = WAIT
    ) -> dict[str, Any]:
        """Ask ``/health`` until ``condition`` holds (polled: the server has no push)."""
        deadline = time.monotonic() + timeout
        while not condition(health := await asyncio.to_thread(self.health)):
            assert time.monotonic() < deadline, f"never: {health}"
            await asyncio.sleep(0.1)
        return health


@contextmanager
def background(argv: list[str], env: dict[str, str], until: str) -> Iterator[list[str]]:
    """A ``marketdesk`` process (sim, relay) until the block ends; its output lines, once
    one containing ``until`` was printed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if until in line:
                ready.set()
        ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        ready.wait(WAIT)
        assert any(until in line for line in lines), f"{argv[0]} did not start: {lines}"
        yield lines
    finally:
        _stop(process)
        reader.join(10)


def _stop(process: subprocess.Popen[str]) -> None:
    with _suppress():
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        with _suppress():
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


@contextmanager
def serve(
    tmp: Path,
    *args: str,
    after: tuple[str, ...] = (),
    password: str | None = PASSWORD,
    env: dict[str, str] | None = None,
) -> Iterator[Served]:
    """``marketdesk [args] serve --listen 127.0.0.1:0 [after]`` until the block ends."""
    env = dict(env or os.environ, MARKETDESK_CONFIG_DIR=str(tmp / "config"), PYTHONUNBUFFERED="1")
    argv = [sys.executable, "-m", "tui", *args, "serve", "--listen", "127.0.0.1:0", *after]
    if password is not None:
        env[PASSWORD_ENV] = password
        argv += ["--password-env", PASSWORD_ENV]
    process = subprocess.Popen(
        argv,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    served = Served("", process)
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            served.output.append(line)
            if line.startswith("marketdesk serve: http"):
                served.url = line.split()[-1]
                served.banner.append(line)
            elif served.url and not ready.is_set():
                served.banner.append(line)
                if "Ctrl-C" in line:
                    ready.set()
        ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        ready.wait(WAIT)
        assert served.url, "serve did not start:\n" + "".join(served.output)
        yield served
    finally:
        _stop(process)
        reader.join(10)


@contextmanager
def _suppress() -> Iterator[None]:
    try:
        yield
    except ProcessLookupError:
        pass


class Tab:
    """One browser tab on the desk: what arrived on its terminal socket, and every URL the
    page asked for."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.raw = bytearray()
        self.requests: list[str] = []
        self.sockets: list[str] = []
        self.responses: list[tuple[str, int]] = []
        self._changed = asyncio.Event()
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("websocket", self._socket)
        page.on("response", lambda r: self.responses.append((r.url, r.status)))

    def _socket(self, ws: Any) -> None:
        self.sockets.append(ws.url)
        ws.on("framereceived", self._frame)

    def _frame(self, payload: bytes | str) -> None:
        self.raw += payload if isinstance(payload, bytes) else payload.encode()
        self._changed.set()

    @property
    def text(self) -> str:
        return screen_text(bytes(self.raw))

    async def wait_text(self, *needles: str, since: int = 0, timeout: float = WAIT) -> None:
        """Until every needle has appeared in the output after byte ``since``."""
        deadline = time.monotonic() + timeout
        while True:
            text = screen_text(bytes(self.raw[since:]))
            if all(n in text for n in needles):
                return
            left = deadline - time.monotonic()
            assert left > 0, f"{needles} never shown; the screen's text ends: {text[-600:]!r}"
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except TimeoutError:
                pass

    async def screenshot(self, path: Path | None = None) -> Any:
        from PIL import Image

        png = await self.page.screenshot(path=str(path) if path else None)
        return Image.open(io.BytesIO(png)).convert("RGB")


def colours(image: Any) -> int:
    """How many distinct colours a picture has (a blank page has one or two)."""
    return len(image.getcolors(maxcolors=1 << 20) or ())


def changed(a: Any, b: Any) -> float:
    """The share of pixels that differ between two pictures of one size."""
    from PIL import ImageChops

    diff = ImageChops.difference(a, b).convert("L").point(lambda v: 255 if v else 0)
    histogram = diff.histogram()
    return histogram[255] / (a.width * a.height)


async def launch(playwright: Any, profile: Path, password: str | None = PASSWORD) -> Any:
    """Chromium with a fresh profile, answering the desk's password prompt with
    ``password`` (None: no credentials at all)."""
    profile.mkdir(parents=True, exist_ok=True)
    return await playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS,
        headless=True,
        viewport=VIEWPORT,
        http_credentials=(
            {"username": "desk", "password": password} if password is not None else None
        ),
    )


def local(url: str, served: Served) -> bool:
    """Whether the page's request stays on this machine's server (or is inline data)."""
    origin = served.url.rstrip("/").split("://", 1)[1]
    return url.startswith(("data:", "blob:", f"http://{origin}/", f"ws://{origin}/"))
