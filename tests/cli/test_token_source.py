"""Where the CLI's token comes from: the flag/env, else the local admin token — for loopback only."""

from __future__ import annotations

from pathlib import Path

from steadyops.auth.bootstrap import write_secret
from steadyops.cli.common import CliState
from steadyops.config.settings import Settings


def test_local_admin_token_only_goes_to_a_server_on_this_machine(tmp_path: Path) -> None:
    write_secret(tmp_path / "admin.token", "so_local_secret")
    state = CliState(_settings=Settings(data_dir=tmp_path))
    assert state.token() == "so_local_secret"  # default server: 127.0.0.1 from the config
    for url, expected in (("http://localhost:8900", "so_local_secret"), ("http://[::1]:8900", "so_local_secret"),
                          ("https://ops.example.com", None), ("http://10.0.0.5:8900", None)):
        state.server_flag = url
        assert state.token() == expected, url
    state.token_flag = "so_given"
    assert state.token() == "so_given"


def test_no_token_file_means_no_header(tmp_path: Path) -> None:
    state = CliState(_settings=Settings(data_dir=tmp_path / "empty"))
    assert state.token() is None and "authorization" not in state.client().headers
