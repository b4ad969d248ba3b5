from __future__ import annotations

import pytest

from steadyops.agent.commands import Command, Grammar, UnknownCommand
from steadyops.plugins import load_plugins

parse = Grammar.from_registry(load_plugins(entry_points_too=False)).parse  # the built-ins' words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("zk检测", Command("zk_check", "zookeeper", None)),
        ("ZK检测 10.0.0.5:2181", Command("zk_check", "zookeeper", "10.0.0.5:2181")),
        ("ｚｋ检测　全部", Command("zk_check", "zookeeper", "all")),
        ("check zookeeper", Command("zk_check", "zookeeper", None)),
        ("巡检", Command("inspect", None, None)),
        ("巡检 redis", Command("inspect", "redis", None)),
        ("redis巡检 all", Command("inspect", "redis", "all")),
        ("巡检 主机 web-1", Command("inspect", "host", "web-1")),
        ("inspect zookeeper 10.0.0.5", Command("inspect", "zookeeper", "10.0.0.5")),
        ("Inspect MariaDB", Command("inspect", "mysql", None)),
        ("磁盘清理 all", Command("disk_cleanup", None, "all")),
        ("磁盘清理 10.0.0.5", Command("disk_cleanup", None, "10.0.0.5")),
        ("disk cleanup zk zk-1", Command("disk_cleanup", "zookeeper", "zk-1")),
        ("事件列表", Command("incidents", None, None)),
    ],
)
def test_grammar(text: str, expected: Command) -> None:
    got = parse(text)
    assert (got.intent, got.kind, got.target) == (expected.intent, expected.kind, expected.target)


@pytest.mark.parametrize("text", ["重启一切", "make it work", "", "zk检查检查 a b"])
def test_unknown_commands_get_help(text: str) -> None:
    with pytest.raises(Exception) as info:
        parse(text)
    assert "command" in str(info.value) or "target" in str(info.value)


def test_typo_suggests_close_command() -> None:
    with pytest.raises(UnknownCommand) as info:
        parse("inspekt redis")
    assert "inspect" in info.value.suggestions
