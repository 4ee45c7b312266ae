"""``marketdesk serve`` in a real browser: headless Chromium (Debian's) driven by
Playwright, against the real command (a desk process per tab, the relay, the built-in
simulator).  Skipped, with the reason, where Chromium is not installed.

The page connects and draws the desk, a key changes what is shown, no request leaves
this machine, three tabs keep one upstream connection, and a wrong or missing password
gets neither the page nor the desk's socket.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from support.serve_browser import (
    PASSWORD,
    Served,
    Tab,
    background,
    changed,
    colours,
    launch,
    local,
    serve,
    why_no_browser,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(why_no_browser() is not None, reason=str(why_no_browser())),
]

#: what the desk on the built-in simulator shows once data flows
DESK_SHOWS = ("OGDC", "Feed")
#: drawn only by the desk itself (the ladder's title), never by a screen over it
DESK_BACK = "Ladder · "


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve(tmp_path_factory.mktemp("serve"), "--seed", "3", "--rate", "400") as s:
        yield s


@pytest.fixture
async def playwright() -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        yield p


async def open_tab(context: object, served: Served) -> Tab:
    page = await context.new_page()  # type: ignore[attr-defined]
    tab = Tab(page)
    response = await page.goto(served.url)
    assert response is not None and response.status == 200
    return tab


async def test_the_desk_in_a_tab_draws_answers_keys_and_stays_on_this_machine(
    served: Served, playwright: object, tmp_path: Path
) -> None:
    assert "password required" in "".join(served.banner)
    context = await launch(playwright, tmp_path / "profile")
    try:
        tab = await open_tab(context, served)
        await tab.wait_text(*DESK_SHOWS)
        await tab.page.wait_for_selector("body.-first-byte")
        await tab.page.evaluate("document.fonts.ready")
        desk = await tab.screenshot()
        assert colours(desk) > 8, "the page is blank"
        # the desk is live: two pictures without a key differ only where prices tick
        again = await tab.screenshot()
        ticking = changed(desk, again)

        since = len(tab.raw)
        await tab.page.focus(".xterm-helper-textarea")
        await tab.page.keyboard.press("v")  # the surveillance screen
        await tab.wait_text("Surveillance", "Alerts", since=since)
        surveillance = await tab.screenshot()
        assert changed(desk, surveillance) > max(0.05, 3 * ticking)

        # back to the desk: its ladder's title is drawn again.  Wait for it before the next
        # key: a key right after esc would be read as alt+key.
        since = len(tab.raw)
        await tab.page.keyboard.press("Escape")
        await tab.wait_text(DESK_BACK, since=since)
        since = len(tab.raw)
        await tab.page.keyboard.press("?")  # every key, in the help
        await tab.wait_text("esc to close", since=since)
        since = len(tab.raw)
        await tab.page.keyboard.press("Escape")
        await tab.wait_text(DESK_BACK, since=since)
        await tab.page.keyboard.press("t")  # the next theme
        await tab.wait_text("marketdesk-light", since=since)
        since = len(tab.raw)
        await tab.page.keyboard.press("Control+p")  # the palette (not the browser's print)
        await tab.wait_text("Search for commands", since=since)

        strays = [url for url in tab.requests + tab.sockets if not local(url, served)]
        assert not strays, f"the page reached beyond this machine: {strays}"
        assert any(url.endswith("fonts/RobotoMono-VariableFont_wght.ttf") for url in tab.requests)
        assert tab.sockets and all(url.startswith("ws://127.0.0.1:") for url in tab.sockets)
    finally:
        await context.close()


async def test_three_tabs_keep_one_upstream_connection(
    served: Served, playwright: object, tmp_path: Path
) -> None:
    context = await launch(playwright, tmp_path / "profile")
    try:
        tabs = [await open_tab(context, served) for _ in range(3)]
        # each desk's health pane says live: its session with the relay is acknowledged
        await asyncio.gather(*(tab.wait_text(*DESK_SHOWS, "live") for tab in tabs))
        health = await served.wait_health(lambda h: h["upstream"]["clients"] == 3)
        assert health["tabs"] == 3
        upstream = health["upstream"]
        assert upstream["state"] == "live" and upstream["connections"] == 1, upstream
        # the simulator behind the relay: one connection now, and never more than one
        assert upstream["simulator"] == {"connections": 1, "max_connections": 1}, upstream

        await tabs[0].page.close()  # a closed tab stops its desk
        await served.wait_health(lambda h: h["tabs"] == 2 and h["upstream"]["clients"] == 2)
    finally:
        await context.close()


async def test_a_wrong_or_missing_password_gets_nothing(
    served: Served, playwright: object, tmp_path: Path
) -> None:
    import aiohttp
    from playwright.async_api import Error as PlaywrightError

    before = served.health()
    for n, password in enumerate(("wrong password", None)):
        context = await launch(playwright, tmp_path / f"profile-{n}", password)
        try:
            page = await context.new_page()
            tab = Tab(page)
            try:
                response = await page.goto(served.url)
            except PlaywrightError as exc:  # Chromium gives up on credentials that fail
                assert "ERR_INVALID_AUTH_CREDENTIALS" in str(exc)
            else:
                assert response is not None and response.status == 401
            assert tab.responses and all(status == 401 for _, status in tab.responses)
            assert not [url for url in tab.requests if "/static/" in url or "/ws" in url]
            assert not tab.sockets
        finally:
            await context.close()
    ws_url = served.url.replace("http", "ws", 1) + "ws"
    async with aiohttp.ClientSession() as session:
        for headers in ({"Authorization": aiohttp.encode_basic_auth("desk", "wrong password")}, {}):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(ws_url, headers=headers)
            assert refused.value.status == 401
        right = {"Authorization": aiohttp.encode_basic_auth("desk", PASSWORD)}
        async with session.ws_connect(ws_url, headers=right) as ws:
            assert not ws.closed  # the right password opens it
    after = served.health()
    assert (
        after["refused"].get("wrong password", 0) >= before["refused"].get("wrong password", 0) + 2
    )
    assert after["refused"].get("no password", 0) >= before["refused"].get("no password", 0) + 2
    assert PASSWORD not in "".join(served.output)


async def test_tabs_on_a_relay_that_already_runs(playwright: object, tmp_path: Path) -> None:
    """``marketdesk sim``, ``marketdesk relay`` in front of it, ``marketdesk serve --url
    RELAY --token-env VAR``: the tab's desk is the relay's client, under that name."""
    import os

    import aiohttp

    env = dict(
        os.environ,
        MARKETDESK_CONFIG_DIR=str(tmp_path / "config"),
        PYTHONUNBUFFERED="1",
        SIM_TOKEN="sim-token-for-the-relay",
        DESK_TOKEN="desk-token-of-the-relay",
    )
    with background(
        ["sim", "--port", "0", "--token-env", "SIM_TOKEN", "--rate", "400"], env, "L2 "
    ) as sim_out:
        sim_l2 = next(line.split()[1] for line in sim_out if line.strip().startswith("L2"))
        with background(
            [
                "relay",
                "--url",
                sim_l2,
                "--token-env",
                "SIM_TOKEN",
                "--listen",
                "127.0.0.1:0",
                "--client-token-env",
                "DESK_TOKEN",
            ],
            env,
            "clients:",
        ) as relay_out:
            relay_l2 = next(line.split()[1] for line in relay_out if line.strip().startswith("L2"))
            with serve(
                tmp_path,
                "--watch",
                "PSX|OGDC",
                env=env,
                after=("--url", relay_l2, "--token-env", "DESK_TOKEN"),
            ) as served:
                assert "tabs read: relay ws://127.0.0.1:" in "".join(served.banner)
                context = await launch(playwright, tmp_path / "profile")
                try:
                    tab = await open_tab(context, served)
                    await tab.wait_text("OGDC", "live")
                    http = relay_l2.split("/2.0/")[0].replace("ws://", "http://")
                    async with (
                        aiohttp.ClientSession() as session,
                        session.get(http + "/health") as answer,
                    ):
                        relay_health = await answer.json()
                finally:
                    await context.close()
                # the tab's desk is the relay's client, under the token variable's name
                assert [c["name"] for c in relay_health["clients"]] == ["DESK_TOKEN"]
                assert relay_health["upstream"]["connections_used"] == 1
    for secret in ("sim-token-for-the-relay", "desk-token-of-the-relay"):
        assert secret not in "".join(sim_out + relay_out + served.output)
