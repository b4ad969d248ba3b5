"""The streaming template miner: grouping, parameters, stability, persistence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from steadyops.detect.logs import MinerConfig, TemplateMiner


def test_same_line_same_id_and_masked_variants_join_it() -> None:
    miner = TemplateMiner()
    first = miner.add("Receiving chunk chk_1 src: /10.0.0.1:5000 dest: /10.0.0.2:50010")
    assert first.is_new and first.template == "Receiving chunk <*> src: <*> dest: <*>"
    again = miner.add("Receiving chunk chk_1 src: /10.0.0.1:5000 dest: /10.0.0.2:50010")
    other = miner.add("Receiving chunk chk_-99 src: /10.0.0.3:1 dest: /10.0.0.4:2")
    assert (again.template_id, other.template_id) == (first.template_id, first.template_id)
    assert not again.is_new and not other.is_new
    assert miner.templates()[0].count == 3


def test_params_are_the_values_behind_each_wildcard() -> None:
    miner = TemplateMiner()
    m = miner.add("session opened for user root by (uid=0) in 12ms")
    assert m.template == "session opened for user <*> by (uid=<*>) in <*>"
    assert m.params == ["root", "0", "12ms"]
    m = miner.add('10.1.2.3 "GET /api/items HTTP/1.1" status: 200 at Mon Jan  2 03:04:05 2006')
    assert m.template == '<*> "GET <*>" status: <*> at <*>'
    assert m.params == ["10.1.2.3", "/api/items HTTP/1.1", "200", "Mon Jan  2 03:04:05 2006"]


def test_value_like_differences_generalise_keeping_the_frame() -> None:
    miner = TemplateMiner()
    a = miner.add("com.example.sync.heartbeat: scheduler told me to run this job")
    b = miner.add("com.example.Cleanup.daily: scheduler told me to run this job")
    assert a.template_id == b.template_id
    assert b.template == "com.example.<*>: scheduler told me to run this job"
    assert b.params == ["Cleanup.daily"]


def test_different_plain_words_are_different_templates() -> None:
    miner = TemplateMiner()
    ids = {
        miner.add(f"attempt_{i} TaskAttempt Transitioned from {a} to {b}").template_id
        for i, (a, b) in enumerate([("NEW", "UNASSIGNED"), ("UNASSIGNED", "ASSIGNED"), ("ASSIGNED", "RUNNING")])
    }
    assert len(ids) == 3
    assert miner.add("WWEN[enable] done").template_id != miner.add("WWEN[disable] done").template_id


def test_an_open_set_of_lowercase_names_becomes_a_parameter() -> None:
    miner = TemplateMiner()
    ids = [miner.add(f"session closed for user {u}").template_id for u in ("cyrus", "news", "test", "root")]
    assert len({miner.resolve(i) for i in ids}) == 1  # earlier ids follow the merge
    tpl = miner.get(ids[0])
    assert tpl is not None and tpl.template == "session closed for user <*>" and tpl.count == 4
    # a small closed set of capitalised states stays apart
    states = [miner.add(f"VM {s} (Lifecycle Event)").template_id for s in ("Paused", "Resumed", "Started", "Stopped")]
    assert len(set(states)) == 4


def test_a_varying_unit_is_part_of_the_value() -> None:
    miner = TemplateMiner()
    miner.add("stored (estimated size 384.0 B, free 317.5 KB)")
    m = miner.add("stored (estimated size 2.1 KB, free 315.4 KB)")
    assert m.template == "stored (estimated size <*>, free <*> KB)"
    assert m.params == ["2.1 KB", "315.4"]


def test_match_does_not_learn() -> None:
    miner = TemplateMiner()
    learned = miner.add("Deleting chunk chk_1 file /data/1")
    assert miner.match("Deleting chunk chk_2 file /data/2") == learned.__class__(
        learned.template_id, learned.template, ["chk_2", "/data/2"], False
    )
    assert miner.match("Something never seen 42") is None
    assert len(miner) == 1


def test_chinese_lines_group_by_template() -> None:
    miner = TemplateMiner()
    a = miner.add("用户登录失败，错误码 1001，耗时 35ms")
    b = miner.add("用户登录失败，错误码 2002，耗时 7ms")
    assert a.template_id == b.template_id
    assert b.template == "用户登录失败，错误码 <*>，耗时 <*>"
    assert b.params == ["2002", "7ms"]


def test_state_survives_save_and_load(tmp_path: Path) -> None:
    lines = [
        "session closed for user cyrus",
        "session closed for user news",
        "session closed for user test",
        "Took 1.5 seconds to spawn the instance",
        "用户登录失败，错误码 1001",
        "stored (estimated size 384.0 B, free 317.5 KB)",
        "stored (estimated size 2.1 KB, free 315.4 KB)",
    ]
    miner = TemplateMiner(MinerConfig(similarity=0.5))
    ids = [miner.add(line).template_id for line in lines]
    path = tmp_path / "templates.json"
    miner.save(path)
    assert json.loads(path.read_text(encoding="utf-8"))["format"] == "steadyops.logtemplates/1"

    restored = TemplateMiner.load(path)
    assert restored.config == miner.config
    assert restored.templates() == miner.templates()
    assert [restored.resolve(i) for i in ids] == [miner.resolve(i) for i in ids]
    # it keeps learning exactly like the original would
    for line in ["session closed for user root", "Took 3 seconds to spawn the instance", "brand new line"]:
        assert restored.add(line) == miner.add(line)


def test_load_rejects_foreign_files(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"format": "other"}', encoding="utf-8")
    with pytest.raises(ValueError):
        TemplateMiner.load(path)


def test_different_keys_of_masked_values_never_become_one_template() -> None:
    """However many distinct keys appear at one position, ``key:<*>`` names a different message."""
    miner = TemplateMiner()
    keys = ["onResize", "flushCache", "onStart", "getSteps", "setTotal", "onPause", "onResume"]
    for key in keys:
        for value in ("1700000000000 14 0 4", "1700000000077 15 1 4"):
            miner.add(f"{key}:{value}")
    assert sorted(t.template for t in miner.templates()) == sorted(f"{k}:<*> <*> <*> <*>" for k in keys)


def test_a_list_of_values_of_any_length_is_one_parameter() -> None:
    """Four or more bare values in a row are a list: its length does not make a new template."""
    miner = TemplateMiner()
    a = miner.add("ask 10.0.0.1:7000 to delete blk_11 blk_12 blk_13 blk_14")
    b = miner.add("ask 10.0.0.2:7000 to delete blk_21 blk_22 blk_23 blk_24 blk_25 blk_26")
    assert miner.resolve(a.template_id) == miner.resolve(b.template_id)
    assert b.template == "ask <*> to delete <*>"
    assert b.params == ["10.0.0.2:7000", "blk_21 blk_22 blk_23 blk_24 blk_25 blk_26"]
    # a short fixed tuple stays as separate values
    c = miner.add("onTick:1514038530000 14 0 4")
    assert c.template == "onTick:<*> <*> <*> <*>"


def test_function_names_with_digits_are_words_not_values() -> None:
    """``ab2_init()`` and ``worker.init()`` name different functions: never merged into ``<*>()``."""
    miner = TemplateMiner()
    a = miner.add("ab2_init() Found child 6725 in slot 10")
    b = miner.add("obj.init() Found child 6726 in slot 7")
    assert a.template == "ab2_init() Found child <*> in slot <*>"
    assert miner.resolve(a.template_id) != miner.resolve(b.template_id)


def test_lines_with_no_constant_in_common_never_join() -> None:
    # a template whose only constants are frames would become all parameters and then take in
    # every line of its length
    miner = TemplateMiner()
    first = miner.add("(disk:7) 4a2c6f 0.5")
    other = miner.add("[Controller::run] calling register")
    assert first.template == "(disk:<*>) <*> <*>"
    assert other.template_id != first.template_id and other.template == "[Controller::run] calling register"
    assert all(t.template != "<*> <*> <*>" for t in miner.templates())


def test_a_word_counts_as_varying_only_where_it_is_the_one_difference() -> None:
    # 'remote', 'local', 'manual' differ together with the shape of the next value: three messages
    miner = TemplateMiner()
    ids = [
        miner.add(f"job failed: {w} step{dots}{n}").template_id
        for w, dots, n in (("remote", "...", 1), ("local", "......", 2), ("manual", "......", 3))
    ]
    assert len({miner.resolve(i) for i in ids}) == 3


@pytest.mark.parametrize("order", [1, -1])
def test_a_word_where_a_template_has_a_value_joins_it_in_either_order(order: int) -> None:
    miner = TemplateMiner()
    lines = ["LOGIN chdir(/home/u1/run) failed: No such file", "LOGIN chdir(pwd) failed: No such file"][::order]
    ids = {miner.resolve(miner.add(line).template_id) for line in lines}
    assert len(ids) == 1
    assert miner.templates()[0].template == "LOGIN chdir(<*>) failed: No such file"


def test_code_locations_are_constants_of_their_templates() -> None:
    miner = TemplateMiner()
    lines = ["[io] Engine::start entered", "[io] Loader::stop entered", "[io] Engine::stop entered"]
    assert len({miner.add(line).template_id for line in lines}) == 3


def test_learn_is_add_without_the_parameters() -> None:
    lines = [f"user {i} logged in from 10.0.0.{i % 7}" for i in range(20)]
    lines += [f"moved from {a} to {b}" for a, b in (("OPEN", "READY"), ("READY", "DONE"), ("A", "B"))]
    adding, learning = TemplateMiner(), TemplateMiner()
    assert [adding.add(line).template_id for line in lines] == [learning.learn(line) for line in lines]
    assert adding.templates() == learning.templates()


def test_a_bound_on_candidates_compares_only_the_latest_templates_of_a_bucket() -> None:
    lines = [f"open {w} com.example.sync.heartbeat:" for w in ("Alpha", "Beta", "Gamma", "Delta")]  # one each
    free, bounded = TemplateMiner(), TemplateMiner(MinerConfig(max_candidates=3))
    assert [free.learn(line) for line in lines] == [bounded.learn(line) for line in lines]
    near, far = "open Delta com.example.Cleanup.daily:", "open Alpha com.example.Cleanup.daily:"
    assert not free.add(near).is_new and not bounded.add(near).is_new
    assert not free.add(far).is_new
    assert bounded.add(far).is_new  # its twin is older than the last 3: a duplicate, never a wrong merge
