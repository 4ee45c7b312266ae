"""Secrets never come back on the screen: argument errors echo no value, and every URL shown
(health, logs, ``marketdesk config``, errors, JSON) has its query values and user info
redacted, whatever their names (``jKey``, ``apikey``, ``susertoken``...)."""

from __future__ import annotations

import json
import logging

import pytest
from support.fake_feed import FakeFeed, client_for, new_token, running
from support.waiting import until
from test_cli import run_cli
from test_cli_faults import ThreadFeed

from tui import cli, feed_commands
from tui.cli_parser import build_parser
from tui.feed.config import FeedConfig, redact, redact_url

SECRET = "Zq9-SeCrEt-7781"
ADVICE = "use --token-env VAR or --token-file PATH"
FEED = ["--url", "ws://127.0.0.1:1/2.0/market/feed/full"]


@pytest.mark.parametrize(
    ("argv", "advice"),
    [
        (["snapshot", *FEED, f"--token={SECRET}", "--scrip", "NSE|1"], True),
        (["snapshot", *FEED, "--token", SECRET, "--scrip", "NSE|1"], True),
        ([f"--token={SECRET}", "snapshot", *FEED, "--scrip", "NSE|1"], True),
        (["--token", SECRET], True),
        ([SECRET], False),  # a stray positional: taken for a command
        (["snapshot", SECRET, *FEED, "--scrip", "NSE|1"], False),
        (["snapshot", *FEED, "--token-e", SECRET, "--scrip", "NSE|1"], False),  # no abbreviation
        (["tail", *FEED, f"--token-f={SECRET}", "--scrip", "NSE|1"], False),
        (["--auth", SECRET], False),
        (["snapshot", *FEED, "--scrip", "NSE|1", "--seconds", SECRET], False),
        ([f"-v{SECRET}"], False),
        (["--refresh-hz", SECRET], False),
        (["--theme", SECRET], False),
        (["snapshot", *FEED, "--token-env", "HOME", "--scrip", SECRET], False),
        (["--watch", SECRET], False),
        (["config", SECRET], False),
    ],
)
def test_argument_errors_never_echo_a_value(argv, advice, capsys):
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert SECRET not in out + err
    assert err.startswith("usage: marketdesk") and "error: " in err
    assert (ADVICE in err) is advice


def test_the_message_still_names_what_was_wrong(capsys):
    cli.main(["snapshot", *FEED, f"--token={SECRET}", "--scrip", "NSE|1"])
    assert "unrecognized arguments: --token=…; a token is never given on the command line" in (
        capsys.readouterr().err
    )
    cli.main(["--auth", SECRET])
    assert "argument --auth: invalid choice: '…' (choose from 'header'" in capsys.readouterr().err


def test_the_simulator_keeps_its_own_token_flag():
    """``sim --token`` is the simulator's: no advice, and abbreviations are refused there too."""
    parser = build_parser()
    assert parser.parse_args(["sim", "--token", "t1", "--port", "0"]).token == ["t1"]
    with pytest.raises(Exception, match="unrecognized arguments"):
        parser.parse_args(["sim", "--tok", "t1"])


# --------------------------------------------------------------------------- URLs shown

URLS = [
    f"wss://h/NorenWSTP/?jKey={SECRET}",
    f"wss://h/feed?apikey={SECRET}&uid=FA12345",
    f"wss://h/feed?susertoken={SECRET}#frag",
    f"wss://someone:{SECRET}@h/feed",
    f"wss://{SECRET}@h/feed",
    f"wss://h/feed?a=1&sig={SECRET[:8]}%2B{SECRET[8:]}",
]


@pytest.mark.parametrize("url", URLS)
def test_redact_url_hides_every_query_value_and_the_user_info(url):
    shown = redact_url(url)
    assert SECRET not in shown and SECRET[:8] not in shown
    assert shown.startswith("wss://") and "/feed" in shown or "NorenWSTP" in shown


@pytest.mark.parametrize("url", URLS)
def test_redact_finds_urls_and_queries_in_any_text(url):
    text = f"connect failed: {url} (GET {url.partition('h/')[2]} HTTP/1.1)"
    assert SECRET not in redact(text) and SECRET[:8] not in redact(text)


def test_redact_leaves_plain_text_alone():
    assert redact("lp=100 is a price, 2 == 2, a@b") == "lp=100 is a price, 2 == 2, a@b"


def test_marketdesk_config_never_shows_a_query_value(capsys):
    assert cli.main(["--url", f"wss://h/NorenWSTP/?jKey={SECRET}&uid=FA1", "config"]) == 0
    out = capsys.readouterr().out
    assert SECRET not in out and "jKey=<redacted>" in out


async def test_health_logs_and_json_never_show_a_query_value(caplog):
    caplog.set_level(logging.DEBUG)  # websockets logs the upgrade request's path at DEBUG
    feed = FakeFeed(new_token())
    async with feed.running():
        client = client_for(feed, url=feed.url(f"/2.0/market/feed/full?jKey={SECRET}"))
        client.subscribe(["NSE|1"])
        async with running(client) as h:
            await until(lambda: h.state == "live" and "NSE|1" in client.market.scrips)
            feed.drop_all()
            await until(lambda: client.health.reconnects >= 1 and h.state == "live")
            shown = [repr(client), repr(client.health.as_dict()), repr(h.events),
                     json.dumps(feed_commands.health_json(client))]  # fmt: skip
        assert "jKey=<redacted>" in client.health.endpoint
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("marketdesk")]
    assert any("GET /2.0/market/feed/full?jKey=<redacted>" in text for text in ours)
    assert not any(SECRET in text for text in ours + shown)  # (the test's server logs it)


def test_errors_naming_the_url_are_redacted():
    cfg = FeedConfig(url=f"wss://h/feed?jKey={SECRET}")
    assert SECRET in cfg.secrets()
    assert SECRET not in repr(cfg) and SECRET not in cfg.endpoint


def test_snapshot_json_and_verbose_logs_never_show_a_query_value():
    with ThreadFeed() as feed:
        out = run_cli(
            "-v",
            "snapshot",
            "--url",
            feed.url(f"/2.0/market/feed/full?jKey={SECRET}"),
            "--token-env",
            "MD_TOKEN",
            "--scrip",
            "NSE|1",
            "--seconds",
            "1",
        )
    assert out.returncode == 0, out.stderr
    assert SECRET not in out.stdout + out.stderr
    assert "jKey=<redacted>" in json.loads(out.stdout)["health"]["endpoint"]
