"""The marks every pane draws with, in one place so they read the same everywhere."""

from __future__ import annotations

from typing import Final

#: the selected scrip (watchlist) or the cursor (tiles)
MARK: Final = "▸"
#: a scrip with no update for ``stale_after`` seconds
STALE_MARK: Final = "◌"
#: up and down: a sort direction, a change, the nearer circuit limit
UP_ARROW: Final = "▲"
DOWN_ARROW: Final = "▼"
#: the mark of each severity on a tile's title and in the alert list (readable without colour)
SEVERITY_MARKS: Final = {"alert": "!!", "warn": "!", "info": "·"}
