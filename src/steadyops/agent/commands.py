"""A small deterministic command grammar, zh and en: works with no LLM at all.

On-call engineers type what they always type — ``zk检测``, ``巡检 redis``, ``磁盘清理 all``,
``inspect zookeeper 10.0.0.5`` — and expect the same thing every time. The grammar is a handful of
verbs and kind aliases, tried before any model; an unknown command gets suggestions, not a guess.

The core owns only the generic verbs (inspect, disk cleanup, incidents). The nouns (``zk``,
``显卡``, ``vllm`` …) and the kind-specific phrases (``zk检测``) are what the loaded integrations
registered (``registry.add_kind_alias`` / ``registry.add_command``), so :class:`Grammar` is built
from a registry and a new integration adds its words without touching this file.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from steadyops.core.errors import ValidationFailed
from steadyops.plugins import DoCommand, Registry
from steadyops.plugins import normalise_phrase as normalise

__all__ = ["GENERIC_EXAMPLES", "INTENTS", "Command", "Grammar", "UnknownCommand", "normalise"]

#: the generic intents; a registered :class:`DoCommand`'s name is an intent too
INTENTS = ("inspect", "disk_cleanup", "incidents")

# verb phrases → intent; longest first at parse time so "健康检查" wins over "检查"
VERBS: tuple[tuple[str, str], ...] = (
    ("巡检", "inspect"), ("检查", "inspect"), ("健康检查", "inspect"), ("inspect", "inspect"), ("check", "inspect"),
    ("health check", "inspect"), ("inspection", "inspect"),
    ("磁盘清理", "disk_cleanup"), ("清理磁盘", "disk_cleanup"), ("disk cleanup", "disk_cleanup"),
    ("clean disk", "disk_cleanup"), ("cleanup disk", "disk_cleanup"), ("purge", "disk_cleanup"),
    ("事件列表", "incidents"), ("查看事件", "incidents"), ("incidents", "incidents"), ("list incidents", "incidents"),
)
#: verbs a kind may be glued in front of: ``redis巡检``, ``GPU巡检``, ``推理服务检测``
GLUED_VERBS = ("巡检", "检查", "检测")
GENERIC_EXAMPLES = ("巡检", "巡检 redis", "巡检 redis all", "磁盘清理 all", "磁盘清理 10.0.0.5", "事件列表",
                    "list incidents")
ALL_WORDS = {"全部", "所有", "all", "*"}


@dataclass(frozen=True)
class Command:
    intent: str
    kind: str | None = None
    target: str | None = None  # a name, an address, "all", or None for "everything in scope"
    text: str = ""


class UnknownCommand(ValidationFailed):
    def __init__(self, text: str, suggestions: list[str], examples: Sequence[str] = GENERIC_EXAMPLES) -> None:
        hint = f"; did you mean: {' | '.join(suggestions)}" if suggestions else f"; try: {' | '.join(examples[:4])}"
        super().__init__(f"unknown command {text!r}{hint}")
        self.suggestions = suggestions


@dataclass(frozen=True)
class Grammar:
    """The generic verbs plus what a registry's integrations brought: kind aliases and ``do`` commands."""

    aliases: Mapping[str, str] = field(default_factory=dict)
    commands: Mapping[str, DoCommand] = field(default_factory=dict)
    extra_examples: Sequence[str] = ()

    @classmethod
    def from_registry(cls, registry: Registry) -> Grammar:
        return cls(aliases=registry.words(), commands={c.name: c for c in registry.commands.values()},
                   extra_examples=tuple(registry.examples))

    @property
    def verbs(self) -> list[tuple[str, str, str | None]]:
        """(phrase, intent, kind it implies), longest phrase first; registered phrases before generic ones."""
        own = [(normalise(p), c.name, c.kind) for c in self.commands.values() for p in c.phrases]
        generic = [(p, intent, None) for p, intent in VERBS]
        return sorted([*own, *generic], key=lambda v: -len(v[0]))

    @property
    def examples(self) -> list[str]:
        own = [e for c in self.commands.values() for e in (c.examples or c.phrases[:1])]
        return list(dict.fromkeys([*own, *self.extra_examples, *GENERIC_EXAMPLES]))

    def kind_of(self, word: str) -> str:
        """The kind a word names (``zk`` → zookeeper); an unknown word is taken as a kind itself."""
        word = normalise(word)
        return self.aliases.get(word, word)

    def _command_for(self, kind: str) -> DoCommand | None:
        return next((c for c in self.commands.values() if c.kind == kind), None)

    def _kind_and_target(self, rest: str) -> tuple[str | None, str | None]:
        words = rest.split()
        kind = None
        if words and words[0] in self.aliases:
            kind = self.aliases[words.pop(0)]
        target = " ".join(words) or None
        if target in ALL_WORDS:
            target = "all"
        if target is not None and " " in target:
            raise ValidationFailed(f"expected one target (a name, an address or 'all'), got {target!r}")
        return kind, target

    def parse(self, text: str) -> Command:
        norm = normalise(text)
        if not norm:
            raise UnknownCommand(text, self.examples[:4], self.examples)
        # "<kind>巡检" / "redis检测": a kind glued in front of a verb (its own command, if it registered one)
        for alias, kind in sorted(self.aliases.items(), key=lambda kv: -len(kv[0])):
            for verb in GLUED_VERBS:
                glued = f"{alias}{verb}"
                if norm == glued or norm.startswith(glued + " "):
                    own = self._command_for(kind)
                    _k, target = self._kind_and_target(norm[len(glued):].strip())
                    return Command(own.name if own else "inspect", kind, target, text)
        for phrase, intent, implied in self.verbs:
            if norm == phrase or norm.startswith(phrase + " ") or (not phrase.isascii() and norm.startswith(phrase)):
                named_kind, target = self._kind_and_target(norm[len(phrase):].strip())
                return Command(intent, implied or named_kind, target, text)
        close = difflib.get_close_matches(norm.split(" ")[0], [p for p, _i, _k in self.verbs] + self.examples,
                                          n=3, cutoff=0.5)
        raise UnknownCommand(text, close, self.examples)

    def as_command(self, text: str) -> Command | None:
        """``text`` as a command when the grammar knows it, else None (a question for the agent)."""
        try:
            return self.parse(text)
        except ValidationFailed:
            return None
