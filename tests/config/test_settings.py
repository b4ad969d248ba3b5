from __future__ import annotations

from pathlib import Path

import pytest

from steadyops.app import build_app
from steadyops.config.settings import load_settings, parse_duration
from steadyops.core.errors import ConfigError
from steadyops.plugins import Registry


def test_durations() -> None:
    assert parse_duration("1h30m") == 5400
    assert parse_duration("250ms") == 0.25
    assert parse_duration(5) == 5.0
    with pytest.raises(ValueError):
        parse_duration("5 minutes")


def test_yaml_and_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "steadyops.yaml"
    cfg.write_text("port: 9001\nroute:\n  group_wait: 10s\n  group_by: [alertname, cluster]\n")
    monkeypatch.setenv("STEADYOPS_PORT", "9002")
    s = load_settings(cfg)
    assert s.port == 9002
    assert s.route.group_wait == 10.0 and s.route.group_by == ["alertname", "cluster"]
    assert s.route.repeat_interval == 14400.0


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("port: 99999\n", "port"),
        ("route:\n  group_wait: soon\n", "route.group_wait"),
        ("intake:\n  max_body_bytes: -1\n", "intake.max_body_bytes"),
        ("inhibit_rules:\n  - source_matchers: ['severity=~\"(\"']\n    target_matchers: ['a=b']\n",
         "inhibit_rules.0.source_matchers"),
        ("no_such_key: 1\n", "no_such_key"),
    ],
)
def test_invalid_config_names_the_field(tmp_path: Path, text: str, field: str) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(cfg)
    assert field in str(info.value)


def test_unknown_notifier_type_suggests(tmp_path: Path) -> None:
    from steadyops.plugins import load_plugins

    cfg = tmp_path / "s.yaml"
    cfg.write_text(f"data_dir: {tmp_path}\nreceivers:\n  - name: default\n    channels:\n      - type: dingtalkk\n")
    with pytest.raises(ConfigError) as info:
        build_app(load_settings(cfg), registry=load_plugins(entry_points_too=False))
    assert "receivers.0.channels.0.type" in str(info.value) and "dingtalk" in str(info.value)


def test_route_receiver_must_exist(tmp_path: Path) -> None:
    cfg = tmp_path / "s.yaml"
    cfg.write_text(f"data_dir: {tmp_path}\nroute:\n  receiver: nobody\n")
    with pytest.raises(ConfigError) as info:
        build_app(load_settings(cfg), registry=Registry())
    assert "route.receiver" in str(info.value)
