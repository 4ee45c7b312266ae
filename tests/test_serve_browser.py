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
from serve_browser import (
    PASSWORD,
    Served,
    Tab,
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
        await asyncio.gather(*(tab.wait_text(*DESK_SHOWS) for tab in tabs))
        health = served.health()
        assert health["tabs"] == 3
        upstream = health["upstream"]
        assert upstream["simulator"] == {"connections": 1, "max_connections": 1}, upstream
        assert upstream["clients"] == 3 and upstream["state"] == "live", upstream

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
    assert after["refused"].get("wrong password", 0) >= before["refused"].get(
        "wrong password", 0) + 2
    assert after["refused"].get("no password", 0) >= before["refused"].get("no password", 0) + 2
    assert PASSWORD not in "".join(served.output)
