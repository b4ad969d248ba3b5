"""Token rules of the template miner: which differences between two tokens generalise."""

from __future__ import annotations

from steadyops.detect.logs.tokens import covers, merge


def test_a_value_and_a_word_in_the_same_frame_merge_either_way() -> None:
    assert covers("chdir(<*>)", "chdir(pwd)")
    assert merge("chdir(pwd)", "chdir(<*>)") == "chdir(<*>)"
    assert merge("chdir(<*>)", "chdir(pwd)") == "chdir(<*>)"
    assert merge("node7,", "<*>,") == "<*>,"


def test_two_words_stay_apart_and_an_extra_word_is_a_different_message() -> None:
    assert merge("(OPEN)", "(CLOSED)") is None
    assert merge("OPEN(id=<*>)", "(id=<*>)") is None
    assert merge("id=0x1f", "id=<*>") == "id=<*>"
