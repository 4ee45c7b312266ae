"""The web side of ``marketdesk serve``: textual-serve's :class:`~textual_serve.server.Server`
with what it lacks for us.

- :class:`~tui.serve.auth.Guard` in front of every path (textual-serve has no auth).
- Our page (``templates/desk_index.html``): every URL on this server, Roboto Mono from
  textual-serve's own ``static/fonts`` instead of fonts.googleapis.com, and URLs made
  from the request's own host (textual-serve builds them from the listen address, which
  is wrong for ``0.0.0.0`` and for port 0).
- Each tab's process gets its own environment (:class:`DeskAppService`): the relay token
  added, the serve password and the upstream token removed.
- At most ``max_tabs`` desks at once (each is a process); ``/health`` (JSON) counts them
  and reports the upstream; every tab's desk is stopped when the server stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

import aiohttp_jinja2
import jinja2
import textual_serve
from aiohttp import WSMsgType, web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from tui.serve.auth import Guard

log = logging.getLogger("tui.serve")

#: textual-serve's terminal (xterm.css, textual.js) and its Roboto Mono files
STATIC: Final = Path(textual_serve.__file__).parent / "static"
TEMPLATES: Final = Path(__file__).parent / "templates"
#: seconds a tab's desk gets to quit when the server stops, before it is killed
QUIT_WITHIN: Final = 5.0


class DeskAppService(AppService):
    """One tab's desk process, with ``environment`` applied to what textual-serve gives it
    (a copy of ours): a name mapped to None is removed."""

    def __init__(self, command: str, *, environment: Mapping[str, str | None], **kw: Any) -> None:
        super().__init__(command, **kw)
        self.environment = environment

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        env = super()._build_environment(width=width, height=height)
        for name, value in self.environment.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env

    async def shut(self) -> None:
        """Ask the desk to quit; kill it if it has not within :data:`QUIT_WITHIN`."""
        process = self._process
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.stop(), QUIT_WITHIN)
            if process is not None:
                await asyncio.wait_for(process.wait(), QUIT_WITHIN)
        if process is not None and process.returncode is None:
            log.warning("serve: a tab's desk did not quit; killed")
            process.kill()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(process.wait(), QUIT_WITHIN)


class DeskServer(Server):
    def __init__(
        self,
        command: str,
        *,
        guard: Guard,
        environment: Mapping[str, str | None],
        health: Callable[[], dict[str, Any]],
        max_tabs: int = 8,
        title: str = "marketdesk",
    ) -> None:
        super().__init__(command, title=title, statics_path=STATIC, templates_path=TEMPLATES)
        self.guard = guard
        self.environment = dict(environment)
        self.upstream_health = health
        self.max_tabs = max_tabs
        self.tabs: set[DeskAppService] = set()
        #: tabs turned away because ``max_tabs`` were open
        self.turned_away = 0
        #: browser messages that were not textual-serve's JSON envelopes
        self.bad_messages = 0

    def __repr__(self) -> str:
        return f"DeskServer(tabs={len(self.tabs)}, max_tabs={self.max_tabs}, {self.guard!r})"

    async def make_app(self) -> web.Application:
        """The aiohttp application: the guard, then textual-serve's routes and ours."""
        app = web.Application(middlewares=[self.guard.middleware])
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        app.add_routes(
            [
                web.get("/", self.handle_index, name="index"),
                web.get("/ws", self.handle_websocket, name="websocket"),
                web.get("/health", self.handle_health, name="health"),
                web.get("/download/{key}", self.handle_download, name="download"),
                web.static("/static", self.statics_path, name="static"),
            ]
        )
        app.on_shutdown.append(self.on_shutdown)
        return app

    async def _make_app(self) -> web.Application:  # textual-serve's own serve() path
        return await self.make_app()

    @aiohttp_jinja2.template("desk_index.html")
    async def handle_index(self, request: web.Request) -> dict[str, Any]:
        scheme = "wss" if request.secure else "ws"
        return {
            "font_size": max(6, min(48, to_int(request.query.get("fontsize", "16"), 16))),
            "app_websocket_url": f"{scheme}://{request.host}/ws",
            "config": {"static": {"url": "/static/"}},
            "application": {"name": self.title},
        }

    async def handle_health(self, request: web.Request) -> web.Response:
        return web.json_response(self.health())

    def health(self) -> dict[str, Any]:
        return {
            "tabs": len(self.tabs),
            "max_tabs": self.max_tabs,
            "turned_away": self.turned_away,
            "refused": dict(self.guard.refused),
            "bad_messages": self.bad_messages,
            "upstream": self.upstream_health(),
        }

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's handler, with our app service, the tab limit and the tab count."""
        if len(self.tabs) >= self.max_tabs:
            self.turned_away += 1
            log.warning(
                "serve: %d tabs open already; one more from %s turned away",
                len(self.tabs),
                request.remote,
            )
            raise web.HTTPServiceUnavailable(text=f"503: {self.max_tabs} desks are open already\n")
        websocket = web.WebSocketResponse(heartbeat=15)
        width = max(20, min(500, to_int(request.query.get("width", "80"), 80)))
        height = max(10, min(300, to_int(request.query.get("height", "24"), 24)))
        service = DeskAppService(
            self.command,
            environment=self.environment,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=websocket.close,
            download_manager=self.download_manager,
            debug=self.debug,
        )
        self.tabs.add(service)
        log.info("serve: a tab from %s (%d open)", request.remote, len(self.tabs))
        try:
            await websocket.prepare(request)
            await service.start(width, height)
            await self._process_messages(websocket, service)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception:
            log.exception("serve: a tab failed")
        finally:
            await service.shut()
            self.tabs.discard(service)
            log.info("serve: a tab closed (%d open)", len(self.tabs))
        return websocket

    async def _process_messages(
        self, websocket: web.WebSocketResponse, app_service: AppService
    ) -> None:
        """The browser's messages to its desk (textual-serve's, which ends the tab on the
        first malformed one; here it is counted, logged and skipped)."""
        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                envelope = json.loads(message.data)
                kind = envelope[0]
                data: Any = envelope[1] if len(envelope) > 1 else None
                if kind == "stdin":
                    await app_service.send_bytes(str(data).encode("utf-8"))
                elif kind == "resize":
                    await app_service.set_terminal_size(int(data["width"]), int(data["height"]))
                elif kind == "ping":
                    await websocket.send_json(["pong", data])
                elif kind == "blur":
                    await app_service.blur()
                elif kind == "focus":
                    await app_service.focus()
            except (ValueError, TypeError, KeyError, IndexError):
                self.bad_messages += 1
                log.warning(
                    "serve: a malformed message from a browser skipped (%d so far)",
                    self.bad_messages,
                )

    async def on_shutdown(self, app: web.Application) -> None:
        await asyncio.gather(*(tab.shut() for tab in list(self.tabs)))
