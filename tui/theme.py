"""The desk's colour themes, as Textual ``Theme`` objects.

``themes/desk.tcss`` uses theme variables only: Textual's own (``$primary``, ``$success``,
``$error``, ...) and the desk's (``$bid``, ``$ask``, ``$up``, ``$down``).  Each theme here
sets the desk variables in ``variables``; :func:`variable_defaults` supplies them for a
theme that does not (any of Textual's built-in themes), so every theme loads.

To add a theme: define a ``Theme`` below and add it to :data:`THEMES`; the app registers
all of them (``App.register_theme``: Textual's global theme table is left alone).
"""

from __future__ import annotations

from typing import Final

from textual.theme import Theme

#: The desk's own variables, each with the Textual variable it falls back to.
DESK_VARIABLES: Final = {"bid": "success", "ask": "error", "up": "success", "down": "error"}

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
        "footer-key-foreground": "#4C9AFF",
    },
)

#: Every theme the desk registers; the first is the default.
THEMES: Final[tuple[Theme, ...]] = (DARK,)
DEFAULT_THEME: Final = DARK.name


def variable_defaults(theme: Theme) -> dict[str, str]:
    """Values of the desk variables for a theme that does not define them."""
    fallback = {"success": theme.success, "error": theme.error}
    return {
        name: fallback[source] or ("green" if source == "success" else "red")
        for name, source in DESK_VARIABLES.items()
    }
