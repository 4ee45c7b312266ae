"""Draw screenshots/desk-browser.png: ``marketdesk serve`` on the built-in simulator, in
headless Chromium (Debian's, through Playwright), as a user sees it (``make screenshots``).

Unlike tools/screenshots.py this is the live desk over a real socket, so the prices differ
from run to run.  Skipped with a message where Chromium is not installed.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support.serve_browser import Tab, launch, serve, why_no_browser

OUT = ROOT / "screenshots" / "desk-browser.png"
#: seconds the desk's start-up toasts take to go (a picture, not a test: a plain wait)
TOASTS_GONE = 7.0


async def draw(out: Path) -> None:
    from playwright.async_api import async_playwright

    with tempfile.TemporaryDirectory() as tmp, serve(Path(tmp), "--seed", "7") as served:
        async with async_playwright() as p:
            context = await launch(p, Path(tmp) / "profile")
            page = await context.new_page()
            tab = Tab(page)
            await page.goto(served.url)
            await tab.wait_text("OGDC", "live")
            # the desk selects the first stock (OGDC): its depth and its L2 orders
            await tab.wait_text("Ladder · OGDC", "L2 tape · OGDC")
            await page.wait_for_timeout(TOASTS_GONE * 1000)
            await page.screenshot(path=str(out))
            await context.close()


def main() -> int:
    reason = why_no_browser()
    if reason is not None:
        print(f"browser_screenshot: skipped: {reason}")
        return 0
    asyncio.run(draw(OUT))
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
