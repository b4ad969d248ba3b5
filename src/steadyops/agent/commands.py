"""A small deterministic command grammar, zh and en: works with no LLM at all.

On-call engineers type what they always type — ``zk检测``, ``巡检 redis``, ``磁盘清理 all``,
``inspect zookeeper 10.0.0.5`` — and expect the same thing every time. The grammar is a handful of
verbs and kind aliases, tried before any model; an unknown command gets suggestions, not a guess.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from steadyops.core.errors import ValidationFailed

Intent = Literal["inspect", "zk_check", "disk_cleanup", "incidents"]

KIND_ALIASES: dict[str, str] = {
    "zk": "zookeeper", "zookeeper": "zookeeper", "zoo": "zookeeper",
    "redis": "redis",
    "nginx": "nginx",
    "mysql": "mysql", "mariadb": "mysql", "数据库": "mysql",
    "pg": "postgres", "postgres": "postgres", "postgresql": "postgres",
    "rabbitmq": "rabbitmq", "rabbit": "rabbitmq", "mq": "rabbitmq",
    "host": "host", "hosts": "host", "主机": "host", "服务器": "host", "机器": "host",
    "prometheus": "prometheus", "prom": "prometheus",
    "http": "http_probe", "http_probe": "http_probe", "拨测": "http_probe", "probe": "http_probe",
    "gpu": "gpu", "显卡": "gpu", "k8s": "kubernetes", "kubernetes": "kubernetes",
    # model servers are one kind, "inference"; the server flavour is a target label (issue 14)
    "推理服务": "inference", "推理": "inference", "模型服务": "inference", "inference": "inference",
    "llm": "inference", "vllm": "inference", "sglang": "inference", "tgi": "inference",
    "llama.cpp": "inference", "llamacpp": "inference", "ollama": "inference", "triton": "inference",
}

# verb phrases → intent; longest first so "zk检测" wins over "检测"
VERBS: list[tuple[str, Intent]] = sorted([
    ("zk检测", "zk_check"), ("zk 检测", "zk_check"), ("zookeeper检测", "zk_check"), ("检测zk", "zk_check"),
    ("zk check", "zk_check"), ("check zk", "zk_check"), ("check zookeeper", "zk_check"),
    ("巡检", "inspect"), ("检查", "inspect"), ("健康检查", "inspect"), ("inspect", "inspect"), ("check", "inspect"),
    ("health check", "inspect"), ("inspection", "inspect"),
    ("磁盘清理", "disk_cleanup"), ("清理磁盘", "disk_cleanup"), ("disk cleanup", "disk_cleanup"),
    ("clean disk", "disk_cleanup"), ("cleanup disk", "disk_cleanup"), ("purge", "disk_cleanup"),
    ("事件列表", "incidents"), ("查看事件", "incidents"), ("incidents", "incidents"), ("list incidents", "incidents"),
], key=lambda v: -len(v[0]))

EXAMPLES = ["zk检测", "zk检测 10.0.0.5:2181", "巡检", "巡检 redis", "巡检 redis all", "inspect zookeeper 10.0.0.5",
            "GPU巡检", "推理服务检测",
            "磁盘清理 all", "磁盘清理 10.0.0.5", "disk cleanup zk-1", "事件列表", "list incidents"]


@dataclass(frozen=True)
class Command:
    intent: Intent
    kind: str | None = None
    target: str | None = None  # a name, an address, "all", or None for "everything in scope"
    text: str = ""


class UnknownCommand(ValidationFailed):
    def __init__(self, text: str, suggestions: list[str]) -> None:
        hint = f"; did you mean: {' | '.join(suggestions)}" if suggestions else f"; try: {' | '.join(EXAMPLES[:4])}"
        super().__init__(f"unknown command {text!r}{hint}")
        self.suggestions = suggestions


def normalise(text: str) -> str:
    """Full-width to half-width, lower case, single spaces: ``ＺＫ检测　all`` → ``zk检测 all``."""
    text = unicodedata.normalize("NFKC", text).strip().lower()
    return re.sub(r"\s+", " ", text)


def _kind_and_target(rest: str) -> tuple[str | None, str | None]:
    words = rest.split()
    kind = None
    if words and words[0] in KIND_ALIASES:
        kind = KIND_ALIASES[words.pop(0)]
    target = " ".join(words) or None
    if target in {"全部", "所有", "all", "*"}:
        target = "all"
    if target is not None and " " in target:
        raise ValidationFailed(f"expected one target (a name, an address or 'all'), got {target!r}")
    return kind, target


def parse(text: str) -> Command:
    norm = normalise(text)
    if not norm:
        raise UnknownCommand(text, EXAMPLES[:4])
    # "<kind>巡检" / "redis检测": a kind glued in front of a verb
    for alias, kind in sorted(KIND_ALIASES.items(), key=lambda kv: -len(kv[0])):
        for verb in ("巡检", "检查", "检测"):
            glued = f"{alias}{verb}"
            if norm == glued or norm.startswith(glued + " "):
                rest = norm[len(glued):].strip()
                intent: Intent = "zk_check" if kind == "zookeeper" else "inspect"
                _k, target = _kind_and_target(rest)
                return Command(intent, kind, target, text)
    for phrase, verb_intent in VERBS:
        if norm == phrase or norm.startswith(phrase + " ") or (not phrase.isascii() and norm.startswith(phrase)):
            named_kind, target = _kind_and_target(norm[len(phrase):].strip())
            if verb_intent == "zk_check":
                named_kind = "zookeeper"
            return Command(verb_intent, named_kind, target, text)
    close = difflib.get_close_matches(norm.split(" ")[0], [p for p, _i in VERBS] + EXAMPLES, n=3, cutoff=0.5)
    raise UnknownCommand(text, close)


def as_command(text: str) -> Command | None:
    """``text`` as a command when the grammar knows it, else None (a question for the agent)."""
    try:
        return parse(text)
    except ValidationFailed:
        return None
