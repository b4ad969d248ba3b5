"""Slack specifics: Markdown → mrkdwn and the section limit."""

from __future__ import annotations

from steadyops.integrations.slack.notifier import SECTION_CHARS, cut, to_mrkdwn


def test_markdown_becomes_mrkdwn_with_slack_escapes() -> None:
    src = "# Disk\n**磁盘** 97% ~~old~~ <b> & [runbook](https://r.example/a?b=1&c=2)"
    assert to_mrkdwn(src) == "*Disk*\n*磁盘* 97% ~old~ &lt;b&gt; &amp; <https://r.example/a?b=1&amp;c=2|runbook>"


def test_cut_keeps_within_the_section_limit_and_prefers_a_line_break() -> None:
    text = "\n".join(f"line {i} 告警" for i in range(2000))
    out = cut(text, SECTION_CHARS)
    assert len(out) <= SECTION_CHARS
    assert out.endswith("告警\n…(truncated)")
    assert cut("short", SECTION_CHARS) == "short"
