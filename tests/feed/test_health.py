"""Health figures: JSON-ready, smoothed rates, feed-time parsing."""

import json

import pytest

from tui.feed.health import STATES, Health, RateMeter
from tui.wire.times import feed_seconds


def test_defaults_and_as_dict_is_json_ready():
    h = Health(endpoint="ws://h/2.0/market/feed/full", level="L1")
    h.errors = {"not-json": 2}
    d = h.as_dict()
    assert d["state"] == "idle" and d["state"] in STATES
    assert d["errors"] == {"not-json": 2}
    documented = {"state", "endpoint", "level", "connected_since", "reconnects", "next_retry_at",
                  "messages", "bytes", "msg_rate", "byte_rate", "lag", "last_error",
                  "subscriptions", "connections_used"}  # fmt: skip
    assert documented <= d.keys()
    json.dumps(d)


def test_as_dict_is_a_copy():
    h = Health()
    d = h.as_dict()
    d["errors"]["x"] = 1
    assert h.errors == {}


def test_rate_meter_converges_on_a_steady_rate():
    meter = RateMeter(tau=1.0)
    count = 0
    for step in range(1, 101):
        count += 100  # 1000/s at 0.1 s steps
        rate = meter.sample(step * 0.1, count)
    assert rate == pytest.approx(1000.0, rel=0.01)


def test_rate_meter_first_sample_and_time_not_moving():
    meter = RateMeter()
    assert meter.sample(10.0, 500) == 0.0  # a baseline, not a rate
    assert meter.sample(10.0, 900) == 0.0  # no time passed: unchanged
    assert meter.sample(11.0, 900) > 0.0


def test_rate_meter_decays_to_zero_when_counts_stop():
    meter = RateMeter(tau=0.5)
    meter.sample(0.0, 0)
    meter.sample(1.0, 1000)
    for t in range(2, 12):
        rate = meter.sample(float(t), 1000)
    assert rate < 1.0
    meter.reset()
    assert meter.rate == 0.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1750652516", 1750652516.0),
        (1750652516, 1750652516.0),
        ("1.5", 1.5),
        ("abc", None),
        (None, None),
        (True, None),
        ("nan", None),
        ("inf", None),
        ([1], None),
    ],
)
def test_feed_seconds(value, expected):
    assert feed_seconds(value) == expected
