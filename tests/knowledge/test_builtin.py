"""Every integration ships focused runbooks in both languages, with the same structure."""

from __future__ import annotations

import re
from collections import defaultdict
from importlib import resources

import pytest

from steadyops.knowledge import KnowledgeBase, builtin_runbooks
from steadyops.knowledge.tokenize import cjk_ratio

REQUIRED = ("host", "zookeeper", "redis", "nginx", "mysql", "postgres", "rabbitmq", "http_probe", "prometheus",
            "kubernetes", "gpu", "vllm")
NAME = re.compile(r"^integrations/(?P<integration>[a-z_]+)/runbooks/(?P<topic>[a-z0-9-]+)\.(?P<lang>zh|en)\.md$")


def runbooks() -> dict[str, dict[str, str]]:
    """topic -> lang -> text"""
    out: dict[str, dict[str, str]] = defaultdict(dict)
    for name, item in builtin_runbooks():
        match = NAME.match(name)
        assert match, f"{name}: runbooks are named <topic>.zh.md / <topic>.en.md"
        out[f"{match['integration']}/{match['topic']}"][match["lang"]] = item.read_text(encoding="utf-8")
    return out


def test_every_required_integration_has_runbooks() -> None:
    integrations = {topic.split("/")[0] for topic in runbooks()}
    assert set(REQUIRED) <= integrations


@pytest.mark.parametrize("topic", sorted(runbooks()))
def test_runbook_exists_in_both_languages_with_the_same_shape(topic: str) -> None:
    pair = runbooks()[topic]
    assert set(pair) == {"zh", "en"}, f"{topic} must exist as .zh.md and .en.md"
    shapes = {}
    for lang, text in pair.items():
        assert text.startswith("# "), f"{topic}.{lang}: starts with its H1 title"
        h2 = re.findall(r"^## ", text, flags=re.M)
        assert len(h2) >= 4, f"{topic}.{lang}: symptoms, checks, causes, remediation, risks"
        assert "```" in text, f"{topic}.{lang}: has concrete commands"
        shapes[lang] = (len(h2), len(re.findall(r"^### ", text, flags=re.M)), text.count("```"))
    assert shapes["zh"] == shapes["en"], f"{topic}: zh and en differ in sections or code blocks"
    # English runbooks may name the Chinese commands (`zk检测`, `磁盘清理`, 拨测), nothing more
    assert cjk_ratio(pair["zh"]) > 0.2 and cjk_ratio(pair["en"]) < 0.01  # commands are Latin in both


def test_topics_named_in_the_issues_are_covered() -> None:
    topics = set(runbooks())
    for expected in ("zookeeper/zk-disk-cleanup", "zookeeper/zk-health-check", "zookeeper/zk-quorum-lost",
                     "host/host-disk-full", "host/host-memory-oom", "host/host-clock-skew", "host/host-fd-exhaustion",
                     "redis/redis-memory-evictions", "redis/redis-replication", "nginx/nginx-accepts-handled",
                     "mysql/mysql-replication", "postgres/pg-xid-wraparound", "rabbitmq/rabbitmq-resource-alarm",
                     "http_probe/http-probe-tls-expiry", "prometheus/prometheus-targets-down",
                     "kubernetes/k8s-crashloopbackoff", "gpu/gpu-xid-errors", "vllm/vllm-kv-cache"):
        assert expected in topics


def test_shipped_as_package_resources() -> None:
    root = resources.files("steadyops").joinpath("integrations")
    assert root.joinpath("zookeeper", "runbooks", "zk-disk-cleanup.zh.md").is_file()


def test_builtin_index_is_fast_enough_to_rebuild_at_start(builtin_kb: KnowledgeBase,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from steadyops.knowledge import base

    monkeypatch.setattr(base, "_BUILTIN_CACHE", {})  # measure a cold parse, not the per-process cache
    started = time.perf_counter()
    kb = KnowledgeBase.builtin()  # jieba is already loaded by the session fixture
    elapsed = time.perf_counter() - started
    assert len(kb.chunks) == len(builtin_kb.chunks) > 300
    assert elapsed < 2.0, f"indexing the built-in runbooks took {elapsed:.2f} s"
