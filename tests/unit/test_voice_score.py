"""The intelligibility bench's scorer: what counts as a call heard right."""

from __future__ import annotations

import pytest

from bench.voice_score import heard, score


@pytest.mark.parametrize(("transcript", "pinyin"), [
    ("请A012号到3号窗口办理。", None),
    ("請 A 零一二號到三號窗口辦理", None),  # traditional characters, Chinese digits
    ("请诶零一二号到三号窗口办理", None),  # the letter's Mandarin name
    ("請欸012號到3號窗口辦理", {"欸": "ei"}),  # a character that sounds like it
])
def test_the_same_call_written_down_in_different_ways_is_right(
        transcript: str, pinyin: dict[str, str] | None) -> None:
    s = score("A012", 3, transcript, pinyin)
    assert s.fully_right and s.cer == 0.0


def test_a_letter_heard_as_a_digit_is_wrong_and_says_what_was_heard() -> None:
    s = score("E245", 1, "请1245号到1号窗口办理")  # E's 伊 taken for 一
    assert not s.fully_right and s.heard.letter == "" and s.heard.digits == "1245"
    assert 0 < s.cer < 0.2


def test_a_window_in_chinese_numerals_is_read_as_a_number() -> None:
    assert heard("请B007号到二十三号窗口办理").window == "23"
    assert heard("请B007号到十二号窗口办理").window == "12"
    assert score("B007", 23, "请B007号到二十三号窗口办理").fully_right


def test_nonsense_is_nothing_heard_and_a_full_error() -> None:
    s = score("A989", 7, "親愛的女兒,奧套餐")
    assert not s.fully_right and s.heard.letter == s.heard.digits == "" and s.cer >= 0.9
