"""Scenario injection: each pattern shows on the wire and the streams stay consistent."""

from __future__ import annotations

from typing import Any

from support.sim_client import FT0, Replica

from tui.sim import scenarios as sc
from tui.sim.market import SimMarket
from tui.sim.quote import SimScrip
from tui.wire.prices import to_units

KEY = "PSX|OGDC"


def _run(m: SimMarket, n: int, replica: Replica | None = None, t0: float = FT0) -> list[Any]:
    steps = m.run(n, t0, 0.01)
    if replica is not None:
        for st in steps:
            for msg in st.l2:
                replica.apply(msg)
            if st.df is not None:
                replica.apply(st.df)
            if st.key == KEY:
                replica.check_depth(KEY)
    return steps


def _replica(m: SimMarket) -> Replica:
    r = Replica()
    r.apply(m.depth_snapshot(KEY))
    r.apply(m.book_snapshot(KEY))
    return r


def _price(m: SimMarket, name: str = "lp") -> int:
    units = to_units(m.depth_snapshot(KEY)[name], 2)
    assert units is not None
    return units


def test_the_hook_calls_a_custom_scenario_until_it_is_done() -> None:
    calls: list[float] = []

    class Count:
        key = KEY

        def tick(
            self,
            market: SimMarket,
            scrip: SimScrip,
            now: float,
            delta: dict[str, str],
            l2: list[dict[str, str]],
        ) -> bool:
            calls.append(now)
            return len(calls) < 3

    m = SimMarket(1)
    m.inject(Count())
    _run(m, 2000)
    assert len(calls) == 3


def test_circuit_approach_takes_the_price_to_the_limit() -> None:
    m = SimMarket(1)
    replica = _replica(m)
    m.inject(sc.CircuitApproach(KEY, steps=1500, upper=True))
    _run(m, 6000, replica)
    inst = m.scrips[KEY].inst
    assert _price(m, "h") >= inst.uc - 10 * inst.tick
    assert _price(m, "h") <= inst.uc


def test_price_jump_moves_the_last_price() -> None:
    m = SimMarket(1)
    before = _price(m)
    replica = _replica(m)
    m.inject(sc.PriceJump(KEY, ticks=-800, steps=800))
    _run(m, 3000, replica)
    assert _price(m) < before - 500


def test_spread_blowout_widens_the_touch() -> None:
    m = SimMarket(1)
    replica = _replica(m)
    m.inject(sc.SpreadBlowout(KEY, levels=4, steps=300))
    _run(m, 150, replica)
    assert _price(m, "sp1") - _price(m, "bp1") >= 5


def test_volume_spike_large_order_stale_and_rapid_add_cancel() -> None:
    m = SimMarket(1)
    replica = _replica(m)
    v0 = int(m.depth_snapshot(KEY)["v"])
    steps = _run(m, 3000, replica)
    normal = int(m.depth_snapshot(KEY)["v"]) - v0
    mine = sum(st.key == KEY for st in steps)
    m.inject(sc.VolumeSpike(KEY, factor=10, steps=3000))
    v1 = int(m.depth_snapshot(KEY)["v"])
    steps = _run(m, 3000, replica, FT0 + 100)
    assert int(m.depth_snapshot(KEY)["v"]) - v1 > 5 * normal
    assert sum(st.key == KEY for st in steps) > 4 * mine

    m.inject(sc.LargeOrder(KEY, side="S", multiple=200))
    steps = _run(m, 200, replica, FT0 + 200)
    adds = [msg for st in steps for msg in st.l2 if msg["t"] == "lo" and msg["ac"] == "A"]
    assert max(int(a["q"]) for a in adds) >= 50 * m.scrips[KEY].base_qty

    m.inject(sc.RapidAddCancel(KEY, count=10))
    steps = _run(m, 500, replica, FT0 + 300)
    pairs = [
        (a["oid"], b["oid"])
        for st in steps
        for a, b in zip(st.l2, st.l2[1:])
        if a.get("ac") == "A" and b.get("ac") == "X" and a["oid"] == b["oid"]
    ]
    assert len(pairs) >= 10

    m.inject(sc.Stale(KEY, seconds=50))
    steps = _run(m, 4000, replica, FT0 + 400)  # 40 s of feed time
    assert all(st.df is None and not st.l2 for st in steps if st.key == KEY)
    steps = _run(m, 1000, replica, FT0 + 500)
    assert any(st.df is not None for st in steps if st.key == KEY)


def test_imbalance_piles_up_one_side() -> None:
    m = SimMarket(1)
    replica = _replica(m)
    m.inject(sc.Imbalance(KEY, side="B", steps=2000))
    _run(m, 5000, replica)
    dk = m.depth_snapshot(KEY)
    assert int(dk["tbq"]) > 2 * int(dk["tsq"])
