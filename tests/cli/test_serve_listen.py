"""``serve`` refuses to listen beyond loopback without TLS, unless a TLS proxy is declared (loudly)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from steadyops.cli import app as cli
from steadyops.cli.serve import check_listen, is_loopback
from steadyops.config.settings import Settings


def test_loopback_addresses() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "10.0.0.5", "example.com"))


def test_refuses_plain_http_beyond_loopback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_listen(Settings(data_dir=tmp_path, host="127.0.0.1")) == (None, None)
    with pytest.raises(typer.Exit) as refused:
        check_listen(Settings(data_dir=tmp_path, host="0.0.0.0"))
    assert refused.value.exit_code == 2
    assert "auth.behind_tls_proxy" in capsys.readouterr().err
    tls = Settings(data_dir=tmp_path, host="0.0.0.0", auth={"tls_certfile": "/c.pem", "tls_keyfile": "/k.pem"})
    assert check_listen(tls) == ("/c.pem", "/k.pem")
    proxied = Settings(data_dir=tmp_path, host="0.0.0.0", auth={"behind_tls_proxy": True})
    assert check_listen(proxied) == (None, None)
    assert "WARNING" in capsys.readouterr().err


def test_serve_command_exits_before_binding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from steadyops.cli.common import state

    monkeypatch.setenv("STEADYOPS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(state, "_settings", None)
    result = CliRunner().invoke(cli, ["--lang", "en", "serve", "--host", "0.0.0.0", "--port", "1"])
    assert result.exit_code == 2 and "refusing to listen on 0.0.0.0" in result.stderr
