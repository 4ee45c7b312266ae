"""The surveillance screen: many scrips as tiles over the alert list, pushed by the desk.

The app owns the data flow, as on the desk: its frame timer flushes the market and runs
the rule engine, adds the new alerts to the :class:`~tui.market.alerts.AlertBook` (and the
log), then hands both to this screen while it is shown::

    changed = market.flush(now)
    added = book.add(engine.evaluate(changed, now))
    screen.refresh_keys(changed)      # redraws the tiles of those scrips, marks stale ones
    screen.add_alerts(added)          # the list shows them; the tiles take their colours

Nothing is lost while the screen is not shown: the book holds the alerts, and the list
takes what it missed when the screen comes back (:meth:`SurveillanceScreen.on_screen_resume`).

Opening a scrip (``enter`` on a tile or an alert) dismisses the screen with the scrip's key
as its result, so the app selects it on the desk; ``escape``/``v`` dismiss it with None.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import tzinfo
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer

from tui.widgets.alerts import AlertList
from tui.widgets.strips import zone_name
from tui.widgets.tiles import Tiles

if TYPE_CHECKING:
    from tui.market.alerts import Alert, AlertBook
    from tui.market.store import Market


class SurveillanceScreen(Screen[str | None]):
    """Tiles for ``keys`` and the alerts of ``book``.

    ``clock``: the monotonic clock of ``Market.updated`` (stale tiles); ``tz``: the zone of
    the alerts' times (None: local).  ``stale_after``: seconds without an update before a
    tile is dimmed; ``circuit_near``: percent from a circuit limit coloured as near.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,v", "back", "Desk", id="surveillance.back"),
    ]

    def __init__(
        self,
        market: Market,
        book: AlertBook,
        keys: Sequence[str],
        *,
        clock: Callable[[], float] = time.monotonic,
        tz: tzinfo | None = None,
        stale_after: float = 10.0,
        circuit_near: float = 2.0,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.market = market
        self.book = book
        self.clock = clock
        self.stale_after = stale_after
        self.tiles = Tiles(market, keys, circuit_near=circuit_near)
        self.alert_list = AlertList(book, tz=tz)
        self._stale_shown: frozenset[str] = frozenset()

    def compose(self) -> ComposeResult:
        yield self.tiles
        yield self.alert_list
        yield Footer()

    def on_mount(self) -> None:
        self.alert_list.border_title = f"Alerts · times {zone_name(self.alert_list.tz)}"
        self._recolour()
        self.tiles.mark_stale(self.clock(), self.stale_after)
        self._titles()
        self.tiles.focus()

    def on_screen_resume(self) -> None:
        """Back on screen: take the alerts that arrived while the desk was shown."""
        self.alert_list.sync()
        self._recolour()
        self.tiles.mark_stale(self.clock(), self.stale_after)
        self._titles()

    # -- the app's frame -----------------------------------------------------------------
    def refresh_keys(self, changed: Iterable[str]) -> None:
        """Redraw the tiles of the scrips that changed this frame; dim the stale ones."""
        with self.app.batch_update():
            self.tiles.refresh_keys(changed)
            if self.tiles.mark_stale(self.clock(), self.stale_after) != self._stale_shown:
                self._titles()

    def add_alerts(self, alerts: Iterable[Alert]) -> None:
        """Show ``alerts`` the book just added (the return of ``AlertBook.add``)."""
        alerts = list(alerts)
        if not alerts:
            return
        with self.app.batch_update():
            self.alert_list.add(alerts)
            self._recolour()
            self._titles()

    def set_keys(self, keys: Sequence[str]) -> None:
        """Show tiles for ``keys`` (another watchlist, or every subscribed scrip)."""
        self.tiles.set_keys(keys)
        self._recolour()
        self.tiles.mark_stale(self.clock(), self.stale_after)
        self._titles()

    def _recolour(self) -> None:
        self.tiles.set_alerts(self.book.latest_by_key())

    def _titles(self) -> None:
        tiles = self.tiles
        count = len(tiles.keys)
        self._stale_shown = tiles.stale
        title = f"Surveillance · {count} scrip" + ("s" if count != 1 else "")
        parts = []
        if tiles.alerted:
            parts.append(f"{len(tiles.alerted)} with alerts")
        if tiles.stale:
            parts.append(f"{len(tiles.stale)} stale")
        subtitle = " · ".join(parts)
        if tiles.border_title != title:
            tiles.border_title = title
        if tiles.border_subtitle != subtitle:
            tiles.border_subtitle = subtitle

    # -- keys and messages -----------------------------------------------------------------
    def action_back(self) -> None:
        self.dismiss(None)

    @on(Tiles.Open)
    @on(AlertList.Open)
    def _open(self, event: Tiles.Open | AlertList.Open) -> None:
        event.stop()
        self.dismiss(event.key)

    @on(AlertList.Changed)
    def _acknowledged(self, event: AlertList.Changed) -> None:
        event.stop()
        self._recolour()
        self._titles()
