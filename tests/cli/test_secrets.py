"""Tokens come from an environment variable or an owner-only file, and never leak in errors."""

import os

import pytest

from tui.secrets import TokenError, resolve_token


def test_token_from_environment(monkeypatch):
    monkeypatch.setenv("MD_TOKEN", " abc123 \n")
    assert resolve_token(env="MD_TOKEN") == "abc123"


def test_missing_environment_variable_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("MD_NOPE", raising=False)
    with pytest.raises(TokenError, match="MD_NOPE is not set"):
        resolve_token(env="MD_NOPE")


def test_token_file_must_be_private(tmp_path):
    f = tmp_path / "token"
    f.write_text("sekrit-value\n")
    os.chmod(f, 0o644)
    with pytest.raises(TokenError) as info:
        resolve_token(file=str(f))
    assert "chmod 600" in str(info.value) and "sekrit-value" not in str(info.value)
    os.chmod(f, 0o600)
    assert resolve_token(file=str(f)) == "sekrit-value"


def test_unreadable_or_empty_token_file(tmp_path):
    with pytest.raises(TokenError, match="token file"):
        resolve_token(file=str(tmp_path / "absent"))
    empty = tmp_path / "empty"
    empty.write_text("")
    os.chmod(empty, 0o600)
    with pytest.raises(TokenError, match="empty"):
        resolve_token(file=str(empty))


def test_no_source_means_no_token():
    assert resolve_token() == ""
