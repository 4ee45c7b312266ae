"""Every test runs with its own empty config directory: a tester's own config.toml or
watchlists.toml never changes what a test sees, and no test writes into them."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _own_config_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARKETDESK_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))
