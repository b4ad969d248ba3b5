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


def test_names_made_of_words_stay_apart_however_much_of_them_differs() -> None:
    # one part different was already a word difference; both parts different must not be softer
    assert merge("Engine::start", "Engine::stop") is None
    assert merge("Engine::start", "Loader::stop") is None
    # a name against a value, or two values, still generalise
    assert merge("Engine::start", "<*>") == "<*>"
    assert merge("0x1f::2", "0x2a::3") == "<*>"
