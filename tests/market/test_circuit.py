"""The circuit distance (tui/market/circuit.py): the one answer the rules and the panes share."""

from __future__ import annotations

from tui.market.circuit import CircuitDistance, circuit_distance

LC, UC = 19656, 24024


def test_the_nearer_limit_and_its_distance_in_units() -> None:
    assert circuit_distance(23850, LC, UC) == CircuitDistance("upper", UC, 174)
    assert circuit_distance(19900, LC, UC) == CircuitDistance("lower", LC, 244)
    mid = (LC + UC) // 2
    assert circuit_distance(mid, LC, UC) == CircuitDistance("upper", UC, UC - mid)  # a tie: upper


def test_at_or_through_a_limit() -> None:
    for lp, side, limit in (
        (UC, "upper", UC),
        (UC + 5, "upper", UC),
        (LC, "lower", LC),
        (LC - 1, "lower", LC),
    ):
        found = circuit_distance(lp, LC, UC)
        assert found is not None and found.at_limit and (found.side, found.limit) == (side, limit)


def test_no_distance_without_a_price_or_limits_or_with_limits_that_cannot_be() -> None:
    assert circuit_distance(None, LC, UC) is None
    assert circuit_distance(0, LC, UC) is None
    assert circuit_distance(23000, None, None) is None
    assert circuit_distance(23000, UC, LC) is None  # lower above upper
    assert circuit_distance(23000, UC, UC) is None


def test_basis_points_and_within_are_exact() -> None:
    found = circuit_distance(23850, LC, UC)
    assert found is not None
    assert found.basis_points(23850) == 174 * 10_000 // 23850  # 72
    assert found.within(73, 23850) and not found.within(72, 23850)  # 72.96 bp
