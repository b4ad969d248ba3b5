"""Credential references resolve at the last moment, and no error message ever echoes a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from steadyops.core.credentials import CredentialError, resolve_secret


def test_env_and_file_references(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEADYOPS_TEST_SECRET", "s3cret")
    assert resolve_secret("env:STEADYOPS_TEST_SECRET") == "s3cret"
    secret = tmp_path / "redis.pass"
    secret.write_text("p@ss\n")
    assert resolve_secret(f"file:{secret}") == "p@ss"  # echo adds one newline; a password never ends in one
    secret.write_text("p@ss\r\n")
    assert resolve_secret(f"file:{secret}") == "p@ss"
    assert resolve_secret(None) is None and resolve_secret("") is None
    monkeypatch.setenv("STEADYOPS_TEST_EMPTY", "")
    assert resolve_secret("env:STEADYOPS_TEST_EMPTY") == ""


def test_missing_and_malformed_references(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STEADYOPS_TEST_MISSING", raising=False)
    with pytest.raises(CredentialError, match="not set"):
        resolve_secret("env:STEADYOPS_TEST_MISSING")
    with pytest.raises(CredentialError, match="No such file"):
        resolve_secret(f"file:{tmp_path / 'nope'}")
    for pasted in ("hunter2-is-my-password", "hunter2:with-a-colon"):
        with pytest.raises(CredentialError) as info:
            resolve_secret(pasted)
        assert "hunter2" not in str(info.value)
    big = tmp_path / "big"
    big.write_bytes(b"x" * 70_000)
    with pytest.raises(CredentialError, match="too big"):
        resolve_secret(f"file:{big}")
