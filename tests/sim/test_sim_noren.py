"""The reference Noren client (NorenRestApiPy, websocket-client in a thread) talks to the sim.

It authenticates with its own ``c`` message (``uid actid susertoken source``), pings with
the payload ``{"t":"h"}`` every 3 s, and subscribes depth with ``feed_type=2`` (``"d"``).
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import pytest
from support.sim_client import TOKEN
from support.waiting import until

from tui.sim.server import SimConfig, SimServer

#: end to end: real processes, servers and clients (deselect with -m "not slow")
pytestmark = pytest.mark.slow

NorenApi = pytest.importorskip("NorenRestApiPy.NorenApi").NorenApi


async def test_noren_rest_api_py_connects_and_receives_dk_and_df() -> None:
    async with SimServer(SimConfig(rate=3000.0)) as sim:
        received: list[dict[str, Any]] = []
        errors: list[Any] = []
        opened = threading.Event()
        done = threading.Event()
        api = NorenApi(host="http://127.0.0.1:1/NorenWClientTP/", websocket=sim.endpoint("L1"))

        def on_open() -> None:
            opened.set()
            api.subscribe("NSE|26000", feed_type=2)
            api.subscribe(["NSE|2885", "PSX|OGDC"], feed_type=2)

        def on_data(msg: dict[str, Any]) -> None:
            received.append(msg)
            kinds = {(m["t"], m["tk"]) for m in received}
            if {("dk", "26000"), ("df", "26000"), ("df", "2885"), ("df", "OGDC")} <= kinds:
                done.set()

        api.set_session(userid="FA12345", password="", usertoken=TOKEN)
        api.start_websocket(
            subscribe_callback=on_data,
            socket_open_callback=on_open,
            socket_error_callback=errors.append,
        )
        try:
            with contextlib.suppress(AssertionError):
                await until(done.is_set)
            assert opened.is_set(), errors
            assert done.is_set(), sorted({(m["t"], m["tk"]) for m in received})
            assert sim.connections(TOKEN) == 1
        finally:
            # close_websocket() joins websocket-client's thread, which sometimes sits in a
            # select() without timeout for 10 s after the close (a client-side race): run
            # it in the background and check the server saw the session end.
            threading.Thread(target=api.close_websocket, daemon=True).start()
        await until(lambda: sim.connections(TOKEN) == 0, what="the server to see the close")
        assert not errors
        first = next(m for m in received if m["tk"] == "26000")
        assert first["t"] == "dk" and first["ts"] == "Nifty 50" and first["e"] == "NSE"
        reliance = next(m for m in received if m["tk"] == "2885")
        assert reliance["t"] == "dk" and "bp1" in reliance and "so5" in reliance
