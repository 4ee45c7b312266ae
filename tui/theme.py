"""The desk's colour themes, as Textual ``Theme`` objects.

``themes/*.tcss`` use theme variables only: Textual's own (``$primary``, ``$success``,
``$error``, ``$text-muted``, ...) and the desk's (``$bid``, ``$ask``, ``$up``, ``$down``,
``$trade``).
Each theme here sets every base colour and the desk variables, so nothing on the desk
depends on Textual's defaults; :func:`variable_defaults` supplies the desk variables for a
theme that does not set them (any of Textual's built-in themes), so every theme loads.

The three themes:

- ``marketdesk-dark`` (the default): green bids and up-ticks, red asks and down-ticks.
- ``marketdesk-light``: the same meanings, darker hues so text keeps a 4.5:1 contrast on
  white (and 3:1 on the highlighted cursor row).  Textual derives ``$panel-lighten-*`` by lightening, which on a white surface
  gives white (invisible borders and cursor row), so this theme sets them to greys.
- ``marketdesk-cb``: safe for red-green colour blindness (deuteranopia, protanopia).
  Bid/up against ask/down is sky blue against orange (Okabe & Ito's palette), a difference
  on the blue-yellow axis that dichromats still see; nothing relies on red against green.
  The tape's trades are bluish green, far from both under deuteranopia and protanopia.

tests/app/test_themes.py checks every variable the ``.tcss`` files use resolves in every
theme, the contrast of text on the panes, and the blue-orange split under simulated
deuteranopia and protanopia.

To add a theme: define a ``Theme`` below and add it to :data:`THEMES`; the app registers
all of them (``App.register_theme``: Textual's global theme table is left alone).
"""

from __future__ import annotations

from typing import Final

from textual.theme import Theme

#: The desk's own variables, each with the Textual variable it falls back to.
DESK_VARIABLES: Final = {
    "bid": "success",
    "ask": "error",
    "up": "success",
    "down": "error",
    "trade": "accent",
}

DARK: Final = Theme(
    name="marketdesk-dark",
    dark=True,
    primary="#4C9AFF",
    secondary="#7AA2F7",
    accent="#E0AF68",
    warning="#E0AF68",
    error="#F7768E",
    success="#3FB950",
    foreground="#D5DAE1",
    background="#0D1117",
    surface="#141A22",
    panel="#1B2330",
    variables={
        "bid": "#3FB950",
        "ask": "#F7768E",
        "up": "#3FB950",
        "down": "#F7768E",
        "trade": "#E0AF68",
        "footer-key-foreground": "#4C9AFF",
    },
)

LIGHT: Final = Theme(
    name="marketdesk-light",
    dark=False,
    primary="#0969DA",
    secondary="#6E40C9",
    accent="#8250DF",
    warning="#9A6700",
    error="#A40E26",
    success="#116329",
    foreground="#1F2328",
    background="#F6F8FA",
    surface="#FFFFFF",
    panel="#EEF1F5",
    variables={
        "bid": "#116329",
        "ask": "#A40E26",
        "up": "#116329",
        "down": "#A40E26",
        "trade": "#8250DF",
        # Textual's default (white at 60% "auto") is too faint on white
        "text-muted": "#59636E",
        # lightening a light panel gives white on a white surface: set visible greys
        "panel-lighten-1": "#DDE6F0",
        "panel-lighten-2": "#AFB8C1",
        "footer-key-foreground": "#0969DA",
    },
)

#: Okabe & Ito (2008), "Color Universal Design": sky blue, orange, vermillion, yellow,
#: reddish purple.  Blue against orange stays apart for every common colour blindness.
#: The vermillion (#D55E00) is lightened a little to reach 4.5:1 on the dialogs' $panel.
#: Trades are bluish green: the yellow accent was hard to tell from the orange of a sell.
_SKY_BLUE, _ORANGE, _VERMILLION, _YELLOW, _PURPLE, _BLUISH_GREEN = (
    "#56B4E9", "#E69F00", "#E06C1B", "#F0E442", "#CC79A7", "#009E73",
)  # fmt: skip

CB: Final = Theme(
    name="marketdesk-cb",
    dark=True,
    primary=_SKY_BLUE,
    secondary=_PURPLE,
    accent=_YELLOW,
    warning=_YELLOW,
    error=_VERMILLION,
    success=_SKY_BLUE,
    foreground="#E6E8EB",
    background="#0B0F14",
    surface="#12171E",
    panel="#1C2430",
    variables={
        "bid": _SKY_BLUE,
        "ask": _ORANGE,
        "up": _SKY_BLUE,
        "down": _ORANGE,
        "trade": _BLUISH_GREEN,
        "footer-key-foreground": _SKY_BLUE,
    },
)

#: Every theme the desk registers; the first is the default.
THEMES: Final[tuple[Theme, ...]] = (DARK, LIGHT, CB)
DEFAULT_THEME: Final = DARK.name


def variable_defaults(theme: Theme) -> dict[str, str]:
    """Values of the desk variables for a theme that does not define them."""
    fallback = {"success": theme.success, "error": theme.error, "accent": theme.accent}
    last_resort = {"success": "green", "error": "red", "accent": "yellow"}
    return {
        name: fallback[source] or last_resort[source] for name, source in DESK_VARIABLES.items()
    }
