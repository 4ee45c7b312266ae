"""FeedConfig, URL redaction, access levels, subscriptions bookkeeping, the registry."""

import logging

import pytest

from tui.feed import sessions
from tui.feed.config import FeedConfig, level_of, redact, redact_url, url_token
from tui.feed.redacting import protect
from tui.feed.subscriptions import CHUNK, Subscriptions
from tui.wire.frames import DecodeErrors
from tui.wire.protocol import encode

SECRET = "s3cr3t/tok+en=="


def test_repr_never_shows_the_token():
    cfg = FeedConfig(url=f"wss://feed.example/2.0/market/feed/full?token={SECRET}", token=SECRET)
    for text in (repr(cfg), str(cfg), cfg.endpoint, f"{cfg}"):
        assert SECRET not in text and "s3cr3t" not in text
    assert "<redacted>" in repr(cfg)


@pytest.mark.parametrize(
    ("path", "level"),
    [
        ("/2.0/market/feed", "L0"),
        ("/2.0/market/feed/", "L0"),
        ("/2.0/market/feed/full", "L1"),
        ("/2.0/market/feed/l2", "L2"),
        ("/other", ""),
    ],
)
def test_level_from_path(path, level):
    assert level_of(f"ws://h:1{path}") == level
    assert FeedConfig(url=f"ws://h:1{path}").level == level


def test_query_mode_adds_the_token_and_the_endpoint_hides_it():
    cfg = FeedConfig(url="ws://h:1/2.0/market/feed/l2?x=1", token=SECRET, auth="query")
    assert url_token(cfg.connect_url) == SECRET
    assert cfg.connect_url.startswith("ws://h:1/2.0/market/feed/l2?x=1&token=")
    assert cfg.endpoint == "ws://h:1/2.0/market/feed/l2?x=<redacted>&token=<redacted>"
    header = FeedConfig(url="ws://h:1/2.0/market/feed", token=SECRET)
    assert header.connect_url == "ws://h:1/2.0/market/feed" == header.endpoint


def test_a_token_already_in_the_url_is_a_secret_too():
    cfg = FeedConfig(url="ws://h:1/2.0/market/feed?access_token=abc123xyz", auth="query")
    assert cfg.effective_token == "abc123xyz"
    assert cfg.secrets() == ("abc123xyz",)
    assert "abc123xyz" not in cfg.endpoint and "abc123xyz" not in repr(cfg)


def test_redact_url_hides_passwords_and_known_secrets():
    assert (
        redact_url("wss://u:pw@h/p?token=a&k=v")
        == "wss://<redacted>@h/p?token=<redacted>&k=<redacted>"
    )
    assert redact("x a/b+c y a%2Fb%2Bc", ("a/b+c",)) == "x <redacted> y <redacted>"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"url": "http://h/x"},
        {"url": "ws:///nohost"},
        {"auth": "cookie"},
        {"jitter": "x"},
        {"heartbeat": 0},
        {"backoff_min": 2.0, "backoff_max": 1.0},
    ],
)
def test_invalid_configs(kwargs):
    args = {"url": "ws://h:1/2.0/market/feed", "token": SECRET} | kwargs
    with pytest.raises(ValueError) as info:
        FeedConfig(**args)
    assert SECRET not in str(info.value)


def test_bad_url_error_does_not_show_a_token_in_it():
    with pytest.raises(ValueError) as info:
        FeedConfig(url=f"http://h/x?token={SECRET}")
    assert SECRET not in str(info.value)


def test_protect_adds_redaction_to_existing_errors():
    errors = DecodeErrors(redact=("other",))
    protect(errors, (SECRET,))
    errors.add("not-json", f"bad {SECRET} and other and s3cr3t%2Ftok%2Ben%3D%3D")
    sample = errors.samples[-1][1]
    assert "s3cr3t" not in sample and "other" not in sample


def test_subscriptions_one_price_stream_per_key():
    subs = Subscriptions()
    sent = [encode(r) for r in subs.add(["NSE|1", "NSE|2"], depth=False)]
    assert sent == [b'{"t":"t","k":"NSE|1#NSE|2"}']
    sent = [encode(r) for r in subs.add(["NSE|2", "NSE|3"], depth=True, orders=True)]
    assert sent == [
        b'{"t":"u","k":"NSE|2"}',
        b'{"t":"d","k":"NSE|2#NSE|3"}',
        b'{"t":"l","k":"NSE|2#NSE|3"}',
    ]
    assert subs.add(["NSE|3"], depth=False) == []  # depth wins: nothing to send
    assert len(subs) == 3
    replay = [encode(r) for r in subs.replay()]
    assert replay == [
        b'{"t":"d","k":"NSE|2#NSE|3"}',
        b'{"t":"t","k":"NSE|1"}',
        b'{"t":"l","k":"NSE|2#NSE|3"}',
    ]
    requests, removed = subs.remove(["NSE|3", "NSE|1", "NSE|9"])
    assert [encode(r) for r in requests] == [
        b'{"t":"ud","k":"NSE|3"}',
        b'{"t":"u","k":"NSE|1"}',
        b'{"t":"ul","k":"NSE|3"}',
    ]
    assert removed == ["NSE|3", "NSE|1"]
    assert subs.wants("NSE|2") and not subs.wants("NSE|3")
    assert [encode(r) for r in subs.resubscribe_orders(["NSE|2", "NSE|1"])] == [
        b'{"t":"ul","k":"NSE|2"}',
        b'{"t":"l","k":"NSE|2"}',
    ]


def test_subscriptions_are_chunked_and_validated():
    subs = Subscriptions()
    keys = [f"NSE|{i}" for i in range(CHUNK * 2 + 1)]
    assert len(subs.add(keys + keys)) == 3
    with pytest.raises(ValueError):
        subs.add(["NSE|1#NSE|2"])
    with pytest.raises(ValueError):
        subs.add(["nokey"])
    assert subs.add(["  ", ""]) == []


def test_registry_keys_are_not_the_token_and_claims_are_exclusive():
    key = sessions.fingerprint(SECRET)
    assert SECRET not in key and key == sessions.fingerprint(SECRET)
    assert key != sessions.fingerprint(SECRET + "x")
    assert sessions.fingerprint("", "ws://a:1/x") != sessions.fingerprint("", "ws://b:1/x")
    owner, other = object(), object()
    sessions.claim(key, owner)
    try:
        with pytest.raises(sessions.SessionInUse) as info:
            sessions.claim(key, other)
        assert SECRET not in str(info.value)
        sessions.release(key, other)  # not the owner: no effect
        assert sessions.claimed(key)
    finally:
        sessions.release(key, owner)
    assert not sessions.claimed(key)


@pytest.mark.parametrize(
    ("url", "auth", "header", "proxy"),
    [
        ("ws://127.0.0.1:1/2.0/market/feed", "header", True, None),
        ("wss://feed.example/2.0/market/feed", "header", True, True),
        ("wss://feed.example/2.0/market/feed", "query", False, True),
        ("ws://localhost:1/2.0/market/feed", "connect", False, None),
    ],
)
async def test_dial_options(monkeypatch, url, auth, header, proxy):
    """No compression, the default (verifying) TLS context, pings from the config, the
    bearer header only in header mode, no proxy for the embedded loopback feed."""
    from tui.feed import connection
    from tui.feed.redacting import RedactingAdapter

    seen: dict[str, object] = {}

    async def fake_connect(uri: str, **kwargs: object) -> str:
        seen.update(kwargs, uri=uri)
        return "ws"

    monkeypatch.setattr(connection, "connect", fake_connect)
    cfg = FeedConfig(url=url, token=SECRET, auth=auth, heartbeat=3.0, ping_timeout=7.0)
    assert await connection.dial(cfg, RedactingAdapter(logging.getLogger("t"), ())) == "ws"
    assert seen["compression"] is None and "ssl" not in seen
    assert seen["ping_interval"] == 3.0 and seen["ping_timeout"] == 7.0
    assert seen["max_size"] == 2**20 and seen["proxy"] is proxy
    headers = seen["additional_headers"]
    assert (headers == {"Authorization": f"Bearer {SECRET}"}) if header else headers is None
    assert (url_token(str(seen["uri"])) == SECRET) == (auth == "query")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("ws://h/2.0/market/feed/l2?conflate=20", "ws://h/2.0/market/feed/l2?conflate=20"),
        ("ws://h/feed?conflate=12.5&jKey=abcdef123", "ws://h/feed?conflate=12.5&jKey=<redacted>"),
        ("ws://h/feed?jKey=abcdef123&conflate=1000", "ws://h/feed?jKey=<redacted>&conflate=1000"),
        # anything but a plain rate in conflate= could be a secret in the wrong place
        ("ws://h/feed?conflate=abcdef123", "ws://h/feed?conflate=<redacted>"),
        ("ws://h/feed?conflate=123456", "ws://h/feed?conflate=<redacted>"),
        ("ws://h/feed?conflate=20x", "ws://h/feed?conflate=<redacted>"),
    ],
)
def test_the_relays_conflate_rate_is_the_one_query_value_shown(url, shown):
    assert redact_url(url) == shown
    assert redact(f"failed: {url} (retrying)") == f"failed: {shown} (retrying)"
