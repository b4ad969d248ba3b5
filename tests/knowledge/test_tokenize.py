"""Tokens for Chinese, English and the mix on-call engineers type."""

from __future__ import annotations

from steadyops.knowledge.tokenize import guess_lang, stem, tokenize


def test_english_is_lowercased_stemmed_and_stopwords_dropped() -> None:
    assert tokenize("How do I purge the old snapshots?") == ["purg", "old", "snapshot"]
    assert stem("connections") == stem("connected") == stem("connect")
    assert stem("queues") == stem("queued")
    assert stem("nodes") == stem("node")


def test_technical_compounds_are_kept_whole_and_split() -> None:
    tokens = tokenize("autopurge.snapRetainCount=3 max_connections OOMKilled")
    for expected in ("autopurge.snapretaincount", "snapretaincount", "snap", "retain", "count",
                     "max_connections", "max", "connect", "oomkilled", "oom", "kill"):
        assert expected in tokens
    assert "4lw.commands.whitelist" in tokenize("4lw.commands.whitelist")


def test_chinese_uses_search_mode_segmentation_with_domain_words() -> None:
    tokens = tokenize("ZooKeeper磁盘清理快照")
    assert {"zookeeper", "磁盘", "清理", "磁盘清理", "快照"} <= set(tokens)
    assert "慢查询" in tokenize("慢查询太多")
    assert "的" not in tokenize("磁盘的使用率")  # stopword


def test_mixed_text_keeps_both_scripts_in_order() -> None:
    tokens = tokenize("redis 内存碎片率高，mem_fragmentation_ratio 2.3")
    assert tokens[0] == "redis"
    assert "内存" in tokens and "mem_fragmentation_ratio" in tokens
    assert tokens.index("内存") < tokens.index("mem_fragmentation_ratio")


def test_language_guess() -> None:
    assert guess_lang("磁盘满了怎么清理") == "zh"
    assert guess_lang("disk is full") == "en"
    assert guess_lang("ZooKeeper 集群失去仲裁时的处理步骤") == "zh"
    assert guess_lang("   ") is None
