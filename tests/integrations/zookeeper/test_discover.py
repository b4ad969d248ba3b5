"""Where a ZooKeeper keeps its data when it cannot be asked: zoo.cfg, the process, the last answer."""

from __future__ import annotations

from pathlib import Path

from steadyops.core.inventory import Target
from steadyops.integrations.zookeeper.discover import KnownDirs, _config_arg, dirs_from_config


def test_dirs_from_a_config_file_with_the_default_log_dir(tmp_path: Path) -> None:
    cfg = tmp_path / "zoo.cfg"
    cfg.write_text("tickTime=2000\ndataDir=/var/lib/zk\nclientPort=2181\n", encoding="utf-8")
    assert dirs_from_config(cfg) == {"dataDir": "/var/lib/zk", "dataLogDir": "/var/lib/zk"}
    cfg.write_text("dataDir=/var/lib/zk\ndataLogDir=/fast/zk-log\n", encoding="utf-8")
    assert dirs_from_config(cfg)["dataLogDir"] == "/fast/zk-log"
    assert dirs_from_config(tmp_path / "missing.cfg") == {}


def test_the_config_file_is_the_argument_after_the_main_class() -> None:
    cmd = ["java", "-Xmx1g", "-cp", "/usr/share/java/zookeeper.jar",
           "org.apache.zookeeper.server.quorum.QuorumPeerMain", "/etc/zookeeper/conf/zoo.cfg"]
    assert _config_arg(cmd) == "/etc/zookeeper/conf/zoo.cfg"
    assert _config_arg(["redis-server", "/etc/redis.conf"]) is None


def test_last_known_dirs_belong_to_the_same_address_only() -> None:
    known = KnownDirs()
    here = Target(name="zk-mem", kind="zookeeper", address="127.0.0.1:52181")
    known.remember(here, {"dataDir": "/d", "dataLogDir": "/d"})
    assert known.last_known(here) == {"dataDir": "/d", "dataLogDir": "/d"}
    moved = Target(name="zk-mem", kind="zookeeper", address="10.0.0.9:2181")
    assert known.last_known(moved) == {}
    assert KnownDirs().last_known(here) == {}  # another registry's memory knows nothing of it
