"""A widget's own styles: its ``themes/NAME.tcss`` file, read once as its ``DEFAULT_CSS``.

So a widget mounted anywhere (a test, another screen) is styled without the app's
``CSS_PATH``; the app's own files lay the screens out. The files use theme variables only
(tui/theme.py), and every selector starts with the widget's type, so Textual's scoping of
``DEFAULT_CSS`` leaves them as written.
"""

from __future__ import annotations

from importlib.resources import files


def theme_css(name: str) -> str:
    """The text of ``themes/NAME.tcss`` (shipped as the package ``tui.themes``)."""
    return (files("tui.themes") / f"{name}.tcss").read_text(encoding="utf-8")
