"""The registry's extension points refuse what would make the grammar ambiguous, and read labels plainly."""

from __future__ import annotations

from typing import ClassVar

import pytest

from steadyops import Check, CheckResult, CheckStatus, Cleanup, DoCommand, PluginError, Registry, Target


class Ping(Check):
    name: ClassVar[str] = "thing.ping"
    target_kind: ClassVar[str] = "thing"

    async def run(self, target: Target) -> CheckResult:
        return CheckResult(status=CheckStatus.OK, summary="pong")


def test_one_word_means_one_kind_and_one_phrase_one_command() -> None:
    registry = Registry()
    registry.add_check(Ping)
    registry.add_kind_alias("thing", "物件", "Thing ")
    registry.add_kind_alias("thing", "物件")  # the same meaning again is harmless
    assert registry.words() == {"thing": "thing", "物件": "thing"}
    assert registry.kind_of("ＴＨＩＮＧ") == "thing" and registry.kind_of("other") == "other"
    with pytest.raises(PluginError, match="already means 'thing'"):
        registry.add_kind_alias("gadget", "物件")
    registry.add_command(DoCommand(name="thing_check", kind="thing", phrases=("物件检测",)))
    with pytest.raises(PluginError, match="already registered by 'thing_check'"):
        registry.add_command(DoCommand(name="other_check", kind="thing", phrases=("物件检测 ",)))
    with pytest.raises(PluginError, match="already registered"):
        registry.add_cleanup(Cleanup(kind="thing", action="a"))
        registry.add_cleanup(Cleanup(kind="thing", action="b"))


def test_cleanup_reads_its_label_params() -> None:
    cleanup = Cleanup(kind="host", action="host.clean_logs", label_params={
        "log_paths": ("paths", "list"), "log_older_than_days": ("older_than_days", "float")})
    target = Target(name="h", kind="host", labels={"log_paths": " /a, /b ,", "log_older_than_days": "3"})
    assert cleanup.params(target) == {"paths": ["/a", "/b"], "older_than_days": 3.0}
    odd = target.model_copy(update={"labels": {"log_older_than_days": "soon"}})
    assert cleanup.params(odd) == {"older_than_days": "soon"}  # the action's validation says what is wrong
    assert cleanup.label_for("paths") == "log_paths" and cleanup.label_for("globs") is None
