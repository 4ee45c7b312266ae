"""Exact price conversion: wire text <-> integer units of 10^-pp, never a float."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.wire.prices import MAX_UNITS, format_qty, format_units, to_int, to_units


@pytest.mark.parametrize(
    ("text", "pp", "units"),
    [
        ("24865.45", 2, 2486545),
        ("24865.4", 2, 2486540),
        ("24865", 2, 2486500),
        ("24865.450", 2, 2486545),  # a trailing zero past the precision is still exact
        ("0", 2, 0),
        ("0.05", 2, 5),
        (".5", 2, 50),
        ("12.3456", 4, 123456),
        ("101", 0, 101),
        (24865, 2, 2486500),  # a JSON integer
    ],
)
def test_wire_prices_become_exact_units(text, pp, units):
    assert to_units(text, pp) == units


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "1.2.3",
        "-5",
        "12.345",
        "1e5",
        "nan",
        "inf",
        " 12",
        "12.",
        ".",
        "+3",
        "१२",
        None,
        1.5,
        [],
        "9" * 30,
    ],
)
def test_anything_that_is_not_an_exact_price_is_refused(text):
    assert to_units(text, 2) is None


def test_signed_values_are_allowed_only_where_asked():
    assert to_units("-0.98", 2, signed=True) == -98
    assert to_units("-0.98", 2) is None


def test_absurd_magnitudes_are_refused():
    assert to_units(str(MAX_UNITS), 0) is None
    assert to_int(str(MAX_UNITS)) is None
    assert to_int("-1") is None
    assert to_int("12a") is None
    assert to_int("５") is None  # a fullwidth digit is not ASCII


@given(st.integers(0, MAX_UNITS - 1), st.integers(0, 6))
def test_format_and_parse_round_trip(units, pp):
    text = format_units(units, pp)
    assert to_units(text, pp) == units
    assert Decimal(text) == Decimal(units).scaleb(-pp)


def test_formatting():
    assert format_units(2486545, 2) == "24865.45"
    assert format_units(5, 2) == "0.05"
    assert format_units(-98, 2) == "-0.98"
    assert format_units(98, 2, sign=True) == "+0.98"
    assert format_units(None, 2) == ""
    assert format_qty(1234567) == "1,234,567"
