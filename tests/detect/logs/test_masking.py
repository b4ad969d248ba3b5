"""Masking of common variables with one configuration, and CJK-safe tokenisation."""

from __future__ import annotations

import pytest

from steadyops.detect.logs.masking import Masker, mask, premask, render, tokenize


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # addresses, with and without ports; Java's "/ip:port" and "host/ip:port" forms
        ("Connected to 10.0.0.1:8080", "Connected to <*>"),
        ("src: /10.0.3.7:41000 dest: /10.0.3.8:7000", "src: <*> dest: <*>"),
        ("Old: node-a-7/10.0.9.1:9000 New: node-a-7:9000", "Old: <*> New: <*>"),
        ("addr fe80::1ff:fe23:4567:890a and ::1 and fe80::1%en0", "addr <*> and <*> and <*>"),
        ("mac 00:1a:2b:3c:4d:5e up", "mac <*> up"),
        # numbers: ints, negatives, floats, hex, sizes, durations, percentages
        ("took 12 ms, delta -3 and 2.5 ratio", "took <*> ms, delta <*> and <*> ratio"),
        ("id=0x1f size 12KB took 3.5s at 80%", "id=<*> size <*> took <*> at <*>"),
        ("reg 00104400 addr 3fa9c2e1", "reg <*> addr <*>"),
        ("uptime 1h2m3s, next in 2m30s", "uptime <*>, next in <*>"),
        ("sent 512 bytes (1.2 KB) in 3 ms", "sent <*> bytes (<*> KB) in <*> ms"),
        # ids
        ("uuid 550e8400-e29b-41d4-a716-446655440000 ok", "uuid <*> ok"),
        ("Reading chunk chk_-4417200931", "Reading chunk <*>"),
        ("Worker job_20240102_0007_r_000003_1 is : 0.1", "Worker <*> is : <*>"),
        # code identifiers in snake_case stay, even with digits inside a part
        ("utf8_decode() failed in sha256_sum", "utf8_decode() failed in sha256_sum"),
        # paths, URLs, e-mail, hostnames
        ("file /var/log/app/x.log and ./rel/path", "file <*> and <*>"),
        ("open(/srv/data/run) failed", "open(<*>) failed"),
        # a path runs to whitespace or a framing delimiter: a dot right after it is its own
        ("wrote /srv/out/part-00042. next", "wrote <*> next"),
        ("both /opt/a/lib.so and /opt/b/lib.so. Using one", "both <*> and <*> Using one"),
        ("saved /tmp/report.csv, 3 rows", "saved <*>, <*> rows"),
        # a quoted path after a key is one value, the quotes and the key stay
        ('store path="/home/u/app/state.db" locked=NO', 'store path="<*>" locked=NO'),
        ("cfg file='./conf/app.yaml'", "cfg file='<*>'"),
        ("see https://example.com/a?b=1 or ops@example.com", "see <*> or <*>"),
        ("host db-01.prod.example.com up", "host <*> up"),
        # timestamps, one parameter each
        ("at 2024-01-02T03:04:05.123Z done", "at <*> done"),
        ("connection from 1.2.3.4 () at Mon Jan  2 03:04:05 2006", "connection from <*> () at <*>"),
        # key=value / key:value keep the key
        ("uid=0 euid=0 tty=console ruser= rhost=host.example.com", "uid=<*> euid=<*> tty=console ruser= rhost=<*>"),
        ("Pending:0 Scheduled:12 path:/var/run/x", "Pending:<*> Scheduled:<*> path:<*>"),
        # an HTTP request line: target and protocol are one parameter
        ('"GET /api/items/7 HTTP/1.1" status: 200', '"GET <*>" status: <*>'),
        # names that merely end in a digit stay; a numbered suffix keeps its name
        ("tty2 eth0 REG0=00001234 Type1", "tty2 eth0 REG0=<*> Type1"),
        ("writing dump.311 with libfoo-2.4.1 and shard#3", "writing dump.<*> with libfoo-<*> and shard#<*>"),
        # a date with its hour joined by '_' is one value per dashed piece; a dash beside a
        # value is structure: ``]-<*>``, ``<*>-[``
        ("file [2024-01-02_03,04,05.123456]-Trace_Logs-004.txt,", "file [<*>-<*>-<*>,<*>,<*>]-<*>,"),
        ("__73-[Engine observe:]_block_invoke", "<*>-[Engine observe:]_block_invoke"),
        # a number followed by the name of the next field keeps the name
        ("reason = Fail:sts:5_code:0", "reason = Fail:sts:<*>_code:<*>"),
        # a dotted name with a numbered last part keeps the name
        ('service "org.example.unit.worker.94" up', 'service "org.example.unit.worker.<*>" up'),
        # the '>' closing a description opened in an earlier word goes with the value
        ("for <Conn: 0x7f00aa11bb22>. and <mem:1024, cores:1>", "for <Conn: <*>. and <mem:<*>, cores:<*>"),
        ("balanced <id=5> stays", "balanced <id=<*>> stays"),
        # literals printed by code
        ("value null and true", "value <*> and <*>"),
        # the superuser accounts are user names: a value, as any other user name at that place
        ("session opened for user root by (uid=0)", "session opened for user <*> by (uid=<*>)"),
        ("ADMIN login on console; boot=admin", "<*> login on console; boot=<*>"),
        # nothing variable: unchanged
        ("Registered CacheManager", "Registered CacheManager"),
        ("com.example.agent.daemon: Service exited", "com.example.agent.daemon: Service exited"),
    ],
)
def test_masks_common_variables(line: str, expected: str) -> None:
    assert mask(line) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("用户张三登录失败，错误码 1001，耗时 35ms", "用户张三登录失败，错误码 <*>，耗时 <*>"),
        ("磁盘/dev/sda1使用率95%", "磁盘<*>使用率<*>"),
        ("连接 10.0.0.1:3306 超时 5s", "连接 <*> 超时 <*>"),
        ("任务 job_42 已完成", "任务 <*> 已完成"),
    ],
)
def test_chinese_lines_are_masked_without_garbling(line: str, expected: str) -> None:
    assert mask(line) == expected


def test_tokenize_keeps_cjk_words_whole_and_renders_back() -> None:
    line = "用户张三登录失败，错误码 1001"
    tokens, glued = tokenize(line)
    # jieba segments the CJK run into words; no token is a broken fragment of a character
    assert tokens[:4] == ["用户", "张三", "登录", "失败"]
    assert "".join(tokens) == line.replace(" ", "")
    assert tokens[-1] == "1001" and len(tokens) - 1 not in glued
    assert render(tokens, glued) == line


def test_tokenize_plain_lines_take_the_fast_path() -> None:
    assert tokenize("a  b\tc") == (["a", "b", "c"], ())


def test_premask_returns_the_replaced_texts_in_order() -> None:
    text, originals = premask('x "GET /a/b HTTP/1.1" at Mon Jan  2 03:04:05 2006')
    assert text == 'x "GET <*>" at <*>'
    assert originals == ["/a/b HTTP/1.1", "Mon Jan  2 03:04:05 2006"]


def test_masker_caches_words() -> None:
    masker = Masker()
    assert masker.mask_word("port=8080,") == "port=<*>,"
    assert masker.cache["port=8080,"] == "port=<*>,"
    assert masker.mask_word("port=8080,") == "port=<*>,"
