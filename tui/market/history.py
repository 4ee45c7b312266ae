"""Recent last prices per scrip: the watchlist's sparklines, later the surveillance rules.

Sampled by :meth:`Market.sample_history` on a slow timer (the desk: twice a second) for
the keys flushed since the previous sample, never per message or per frame: the hot path
(``Market.apply``) stays a ``dict.update`` and a frame stays a set copy.  A sample is taken
only when the scrip's last price moved since the previous one, so a series is the last
``size`` moves seen at that pace, oldest first.

A sample is the scrip's last good price text (the scrip is folded first if messages are
pending: the desk has just swept it anyway, so that costs nothing there); it is converted
to integer units at the scrip's precision when the series is read, and only the samples
not read before.  A series whose precision changes starts again (units of different
scales do not compare).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Final

from tui.wire.prices import to_units

if TYPE_CHECKING:
    from tui.market.scrip import Scrip
    from tui.wire.frames import DecodeErrors

#: samples kept per scrip unless told otherwise
DEFAULT_SIZE: Final = 32


class Series:
    """One scrip's recent last prices, in integer units of ``10^-pp``."""

    __slots__ = ("_prices", "pending", "pp", "text")

    def __init__(self, pp: int, size: int) -> None:
        self.pp = pp
        self._prices: deque[int] = deque(maxlen=size)
        #: wire texts sampled since the last read, oldest first (as bounded as the series)
        self.pending: deque[object] = deque(maxlen=size)
        #: the wire text sampled last: the same text again is not a move
        self.text: object = None

    def prices(self) -> deque[int]:
        """The series, converting what was sampled since the last read (do not modify it)."""
        pending = self.pending
        if pending:
            prices, pp = self._prices, self.pp
            for text in pending:
                units = to_units(text, pp)
                if units is not None and (not prices or prices[-1] != units):
                    prices.append(units)
            pending.clear()
        return self._prices


class PriceHistory:
    """Bounded series of last prices, by ``EXCH|TOKEN`` key."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        if size < 1:
            raise ValueError("a price history keeps at least one sample")
        self.size = size
        self._series: dict[str, Series] = {}

    def __contains__(self, key: object) -> bool:
        return key in self._series

    def __len__(self) -> int:
        return len(self._series)

    def prices(self, key: str) -> tuple[int, ...]:
        """The recent last prices of ``key``, oldest first, in units of ``10^-pp(key)``."""
        series = self._series.get(key)
        return tuple(series.prices()) if series is not None else ()

    def pp(self, key: str) -> int | None:
        """The precision of ``key``'s series (None if never sampled)."""
        series = self._series.get(key)
        return series.pp if series is not None else None

    def sample(
        self,
        scrips: Mapping[str, Scrip],
        keys: Iterable[str],
        errors: DecodeErrors | None = None,
    ) -> int:
        """Take this frame's last price of each of ``keys`` (the dirty ones) if it moved.

        Returns how many samples were taken.
        """
        taken = 0
        scrip_of, series_of, size = scrips.get, self._series.get, self.size
        for key in keys:
            scrip = scrip_of(key)
            if scrip is None:
                continue  # L2-only traffic: no touchline yet
            if scrip.delta:
                scrip.materialize(errors)
            text = scrip.raw.get("lp")  # the last good one: a bad text never gets this far
            if text is None:
                continue
            series = series_of(key)
            if series is None or series.pp != scrip.pp:
                series = self._series[key] = Series(scrip.pp, size)
            elif series.text == text:
                continue
            series.text = text
            series.pending.append(text)
            taken += 1
        return taken

    def forget(self, key: str) -> None:
        self._series.pop(key, None)
