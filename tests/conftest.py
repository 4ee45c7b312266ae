"""Every test runs with its own empty config directory: a tester's own config.toml or
watchlists.toml never changes what a test sees, and no test writes into them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from support.nats_server import NatsServer


@pytest.fixture(autouse=True)
def _own_config_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MARKETDESK_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))


@pytest.fixture
def nats_server() -> Iterator[NatsServer]:
    """A real nats-server (JetStream on) on a free loopback port, killed afterwards
    (tests/support/nats_server.py; the bus tests kill and restart it themselves)."""
    from support.nats_server import running_nats

    with running_nats() as server:
        yield server
