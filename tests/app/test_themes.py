"""The desk's themes: registered, complete for every .tcss variable, readable, and the
colour-blind theme's bid/ask split still visible under simulated red-green blindness.

Colours are read from a running desk (``App.get_css_variables``: Textual's generated
variables, the theme's own and the app's defaults), so what is checked is what is drawn.
Contrast is WCAG 2.x: relative luminance of linear sRGB, ratio ``(L1 + .05) / (L2 + .05)``.
Colour blindness is simulated with Machado, Oliveira & Fernandes (2009) at full severity,
and the simulated colours are compared in CIELAB.
"""

from __future__ import annotations

import re
from importlib.resources import files

import pytest
from textual.color import Color

from tui.app import make_app
from tui.market.store import Market
from tui.theme import CB, DARK, DEFAULT_THEME, DESK_VARIABLES, LIGHT, THEMES
from tui.widgets.health import HealthPanel

NAMES = [theme.name for theme in THEMES]
TEXT_ON_PANES = ("foreground", "text-muted", "bid", "ask", "up", "down", "trade", "primary", "accent",
                 "success", "warning", "error")  # fmt: skip

# -- colour arithmetic -----------------------------------------------------------------


def _linear(channel: int) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(color: Color) -> float:
    r, g, b = (_linear(c) for c in color.rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: Color, b: Color) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def same_colour(a: str | None, b: str | None) -> bool:
    """Equal to within rounding (Textual regenerates a theme's colours)."""
    assert a is not None and b is not None
    return all(abs(p - q) <= 2 for p, q in zip(Color.parse(a).rgb, Color.parse(b).rgb))


def resolve(value: str, under: Color) -> Color:
    """A CSS colour value as drawn over ``under`` (``auto 60%`` and alpha included)."""
    if value.startswith("auto"):
        percent = value.split()[1] if " " in value else "100%"
        return under + under.get_contrast_text(float(percent.rstrip("%")) / 100)
    return under + Color.parse(value)


#: linear-RGB simulation matrices, severity 1.0 (Machado et al. 2009)
DEUTERANOPIA = ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413),
                (-0.011820, 0.042940, 0.968881))  # fmt: skip
PROTANOPIA = ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216),
              (-0.003882, -0.048116, 1.051998))  # fmt: skip


def seen_as(color: Color, matrix: tuple[tuple[float, ...], ...]) -> tuple[float, float, float]:
    """CIELAB (L*, a*, b*; D65) of ``color`` as a dichromat with ``matrix`` sees it."""
    rgb = [_linear(c) for c in color.rgb]
    r, g, b = (min(max(sum(m * v for m, v in zip(row, rgb)), 0.0), 1.0) for row in matrix)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def apart_for_dichromats(one: str, other: str) -> bool:
    """True if the two colours stay clearly apart under deuteranopia and protanopia: far
    apart in CIELAB (ΔE76 >= 50) and on opposite sides of the blue-yellow axis, the axis
    red-green blindness leaves intact."""
    for matrix in (DEUTERANOPIA, PROTANOPIA):
        a, b = seen_as(Color.parse(one), matrix), seen_as(Color.parse(other), matrix)
        distance = sum((p - q) ** 2 for p, q in zip(a, b)) ** 0.5
        if distance < 50 or a[2] * b[2] >= 0:
            return False
    return True


# -- the themes in a running desk ------------------------------------------------------


def tcss_variables() -> set[str]:
    """Every ``$variable`` any of the desk's .tcss files uses (comments excluded)."""
    names: set[str] = set()
    for path in files("tui.themes").iterdir():
        if path.name.endswith(".tcss"):
            css = re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.DOTALL)
            names |= set(re.findall(r"\$([A-Za-z][\w-]*)", css))
    return names


@pytest.fixture(scope="module")
def variables() -> dict[str, dict[str, str]]:
    """The CSS variables of each desk theme, read from one running desk."""
    import asyncio

    async def read() -> dict[str, dict[str, str]]:
        app = make_app(Market(), refresh_hz=0)
        out: dict[str, dict[str, str]] = {}
        async with app.run_test(size=(80, 24)) as pilot:
            for name in NAMES:
                app.theme = name
                await pilot.pause()
                out[name] = dict(app.get_css_variables())
        return out

    return asyncio.run(read())


def test_the_three_themes_are_dark_light_and_colour_blind_safe_with_dark_first():
    assert NAMES == ["marketdesk-dark", "marketdesk-light", "marketdesk-cb"]
    assert DEFAULT_THEME == DARK.name
    assert [theme.dark for theme in THEMES] == [True, False, True]


@pytest.mark.parametrize("theme", THEMES, ids=NAMES)
def test_each_theme_sets_every_base_colour_and_desk_variable_itself(theme):
    base = ("primary", "secondary", "accent", "warning", "error", "success", "foreground",
            "background", "surface", "panel")  # fmt: skip
    assert [name for name in base if getattr(theme, name) is None] == []
    assert set(DESK_VARIABLES) <= set(theme.variables)


async def test_every_theme_is_registered_and_styles_the_running_desk():
    app = make_app(Market(), refresh_hz=0)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.theme == DARK.name
        assert set(NAMES) <= set(app.available_themes)
        panel = app.query_one(HealthPanel)
        for theme in THEMES:
            app.theme = theme.name
            await pilot.pause()
            drawn = panel.get_component_rich_style("health--ok", partial=True).color
            assert drawn is not None and drawn.triplet is not None
            assert Color(*drawn.triplet) == Color.parse(theme.success), theme.name


@pytest.mark.parametrize("name", NAMES)
def test_every_variable_the_tcss_files_use_resolves(name, variables):
    used = tcss_variables()
    assert {"bid", "ask", "up", "down", "text-muted"} <= used  # the scan found the files
    missing = sorted(used - set(variables[name]))
    assert missing == [], f"{name} leaves {missing} undefined"


async def test_textuals_own_themes_still_get_the_desk_variables():
    app = make_app(Market(), refresh_hz=0)
    async with app.run_test(size=(80, 24)) as pilot:
        for builtin in ("textual-light", "nord"):
            app.theme = builtin
            await pilot.pause()
            values = app.get_css_variables()
            theme = app.current_theme
            assert same_colour(values["bid"], theme.success), builtin
            assert same_colour(values["up"], theme.success), builtin
            assert same_colour(values["ask"], theme.error), builtin
            assert same_colour(values["down"], theme.error), builtin


@pytest.mark.parametrize("name", NAMES)
def test_text_on_every_pane_has_a_contrast_of_at_least_4_5(name, variables):
    v = variables[name]
    surface, background = Color.parse(v["surface"]), Color.parse(v["background"])
    poor = {}
    for var in TEXT_ON_PANES:
        ratio = contrast(resolve(v[var], surface), surface)
        if ratio < 4.5:
            poor[var] = round(ratio, 2)
    assert poor == {}, f"{name}: text below 4.5:1 on $surface"
    assert contrast(Color.parse(v["foreground"]), background) >= 4.5
    panel = Color.parse(v["panel"])  # the dialogs' background (screens.tcss)
    poor = {}
    for var in ("foreground", "text-muted", "primary", "error"):
        ratio = contrast(resolve(v[var], panel), panel)
        if ratio < 4.5:
            poor[var] = round(ratio, 2)
    assert poor == {}, f"{name}: text below 4.5:1 on $panel"


@pytest.mark.parametrize("name", NAMES)
def test_the_cursor_row_is_visible_and_its_text_readable(name, variables):
    v = variables[name]
    surface = Color.parse(v["surface"])
    foreground = Color.parse(v["foreground"])
    focused = surface + Color.parse(v["primary"]).with_alpha(0.35)  # watchlist.tcss
    blurred = resolve(v["panel-lighten-1"], surface)
    for row in (focused, blurred):
        assert contrast(foreground, row) >= 4.5
        assert contrast(row, surface) >= 1.2, "the cursor row must stand out"
    # coloured figures on the highlighted row: WCAG's 3:1 (one row, bold)
    for var in ("bid", "ask", "up", "down"):
        assert contrast(Color.parse(v[var]), focused) >= 3.0, var


@pytest.mark.parametrize("name", NAMES)
def test_pane_borders_are_visible_on_the_surface(name, variables):
    v = variables[name]
    surface = Color.parse(v["surface"])
    assert contrast(resolve(v["panel-lighten-2"], surface), surface) >= 1.5  # desk.tcss border


def test_the_colour_blind_theme_keeps_bid_ask_and_up_down_apart_without_red_and_green():
    cb = CB.variables
    assert apart_for_dichromats(cb["bid"], cb["ask"])
    assert apart_for_dichromats(cb["up"], cb["down"])
    assert cb["bid"] == cb["up"] and cb["ask"] == cb["down"], "one meaning, one colour"


def distinct_for_dichromats(one: str, other: str, at_least: float = 40) -> bool:
    """True if the two colours stay ``at_least`` apart in CIELAB (ΔE76) under deuteranopia
    and protanopia (a third colour beside a blue-orange pair cannot take a side of the
    blue-yellow axis of its own: distance is what it can have)."""
    for matrix in (DEUTERANOPIA, PROTANOPIA):
        a, b = seen_as(Color.parse(one), matrix), seen_as(Color.parse(other), matrix)
        if sum((p - q) ** 2 for p, q in zip(a, b)) ** 0.5 < at_least:
            return False
    return True


def test_the_colour_blind_theme_keeps_the_tapes_trades_apart_from_sells_and_buys():
    cb = CB.variables
    assert distinct_for_dichromats(cb["trade"], cb["ask"]), "TRADE against SELL"
    assert distinct_for_dichromats(cb["trade"], cb["bid"]), "TRADE against BUY"
    # the check has teeth: the yellow accent trades used to take is an orange's neighbour
    assert not distinct_for_dichromats(CB.accent or "", cb["ask"])


async def test_the_tape_draws_trades_in_the_trade_colour_and_sells_in_the_ask_colour():
    from support.market_fixtures import RELIANCE, build_market

    app = make_app(build_market(), selected=RELIANCE, refresh_hz=0, theme="marketdesk-cb")
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        colours: dict[str, str] = {}
        for y in range(app.tape.size.height):
            for segment in app.tape.render_line(y):
                word, style = segment.text.strip(), segment.style
                if word in ("TRADE", "SELL") and style is not None and style.color is not None:
                    colours[word] = style.color.triplet.hex
        assert same_colour(colours["TRADE"], CB.variables["trade"])
        assert same_colour(colours["SELL"], CB.variables["ask"])


def test_the_dichromat_check_rejects_the_red_green_pairs_of_the_other_themes():
    """The check has teeth: green against red collapses under deuteranopia."""
    assert not apart_for_dichromats("#00AA00", "#DD0000")
    for theme in (DARK, LIGHT):
        assert not apart_for_dichromats(theme.variables["bid"], theme.variables["ask"])
