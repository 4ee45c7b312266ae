"""What the two desk benches share: the instruments they stream and a pane's paint probe.

``bench/desk.py`` (the desk live behind a socket) and ``bench/paint.py`` (one frame
offline) import it.  Nothing of ``tui`` is imported at module level: ``bench/paint.py
--code DIR`` puts another checkout's ``tui`` first on the path before it calls these.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any


def instruments(count: int) -> tuple[Any, ...]:
    """``count`` instruments: the built-in list, then copies of its stocks under new keys."""
    from tui.sim.instruments import INSTRUMENTS

    stocks = [inst for inst in INSTRUMENTS if not inst.index]
    if count <= len(stocks):
        return tuple(stocks[:count])
    out = list(INSTRUMENTS)
    n = 0
    while len(out) < count:
        base = stocks[n % len(stocks)]
        copy = n // len(stocks) + 2
        token = str(80_000 + n) if base.exchange == "NSE" else f"{base.token}{copy}"
        out.append(
            dataclasses.replace(
                base, token=token, symbol=f"{base.symbol}{copy}", name=f"{base.name} #{copy}"
            )
        )
        n += 1
    return tuple(out[:count])


def hook_pane(
    widget: Any, figures: list[float], clock: Callable[[], float] = time.perf_counter
) -> None:
    """Time ``widget.render_lines`` into ``figures[0]``, count ``render_line`` calls into
    ``figures[1]`` (instance attributes: Textual looks both up on the instance)."""
    render_lines, render_line = widget.render_lines, widget.render_line

    def timed_lines(crop: Any) -> Any:
        t0 = clock()
        strips = render_lines(crop)
        figures[0] += clock() - t0
        return strips

    def counted_line(y: int) -> Any:
        figures[1] += 1
        return render_line(y)

    widget.render_lines = timed_lines
    widget.render_line = counted_line
