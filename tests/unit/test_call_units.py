"""A call cut into the clips a voice pack says it with, at every unit size."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from display_board.call_units import (
    call_tokens,
    cover,
    key_of,
    plan_clips,
    split_units,
)

ZH = "请{number}号到{counter}号窗口办理"
EN = "Number {number}, please go to window {counter}."


def keys(number: str, counter: int, units: str, template: str = ZH,
         lang: str = "zh") -> list[str]:
    return split_units(call_tokens(number, counter, template, lang), units, lang)  # type: ignore[arg-type]


def test_phrase_units_are_please_letter_the_number_and_the_window_phrase() -> None:
    assert keys("A012", 3, "phrase") == ["请A", "零一二", "号到三号窗口办理"]
    assert keys("Y007", 12, "phrase") == ["请Y", "零零七", "号到十二号窗口办理"]


def test_compact_units_keep_the_first_digit_with_the_letter() -> None:
    assert keys("A012", 3, "compact") == ["请A零", "一二", "号到三号窗口办理"]
    clips = plan_clips("compact", "ABCDEY", range(1, 31))
    assert len(clips) == 6 * 10 + 100 + 30  # a sitting of under an hour
    assert "请Y九" in clips and "零零" in clips


def test_word_and_syllable_units_cut_finer() -> None:
    assert keys("A012", 12, "word") == ["请", "A", "零", "一", "二", "号到", "十二",
                                       "号窗口办理"]
    assert keys("A012", 12, "syllable") == ["请", "A", "零", "一", "二", "号", "到", "十",
                                           "二", "号", "窗", "口", "办", "理"]


def test_the_english_sentence_is_cut_into_words_and_phrases() -> None:
    assert keys("A012", 3, "phrase", EN, "en") == ["Number A", "zero one two",
                                                  "please go to window 3"]


def test_a_phrase_pack_for_a_hall_is_a_sitting_of_about_a_thousand_clips() -> None:
    clips = plan_clips("phrase", "ABCDEY", range(1, 31))
    assert len(clips) == 6 + 1000 + 30
    assert clips[:2] == ["请A", "零零一"] and "号到三十号窗口办理" in clips
    word = plan_clips("word", "ABCDEY", range(1, 31))
    assert len(word) < 60 and "十二" in word and "号窗口办理" in word


def test_the_longest_clip_wins_and_finer_clips_fill_in() -> None:
    pack = {"请A", "零一二", "号到三号窗口办理", "请", "B", "零", "一", "二"}
    got = cover(call_tokens("A012", 3, ZH), pack.__contains__, "zh")
    assert [p.key for p in got.pieces] == ["请A", "零一二", "号到三号窗口办理"]
    assert got.complete
    mixed = cover(call_tokens("B012", 3, ZH), pack.__contains__, "zh")
    assert [p.key for p in mixed.pieces] == ["请", "B", "零一二", "号到三号窗口办理"]


def test_what_a_pack_lacks_is_named() -> None:
    pack = {"请A", "零一二", "号到三号窗口办理"}
    got = cover(call_tokens("G012", 4, ZH), pack.__contains__, "zh")
    assert not got.complete
    assert "G" in got.missing and "四" in got.missing


def test_joins_get_a_breath_after_the_letter_and_none_inside_the_number() -> None:
    pack = set(keys("A012", 3, "syllable"))
    pieces = cover(call_tokens("A012", 3, ZH), pack.__contains__, "zh").pieces
    gaps = {p.key: p.gap_before for p in pieces}
    assert pieces[0].gap_before == 0.0
    assert gaps["零"] > gaps["一"] == 0.0  # after the letter vs inside the number


def test_a_broken_template_is_cut_as_the_default_one() -> None:
    assert key_of(call_tokens("A012", 3, "请{number号"), "zh") == \
        key_of(call_tokens("A012", 3, ZH), "zh")


@given(st.sampled_from("ABCDEFGHJKNPQSTWXY"), st.integers(0, 999), st.integers(1, 99),
       st.sampled_from(["phrase", "compact", "word", "syllable"]))
def test_a_pack_planned_for_a_call_says_all_of_it(letter: str, n: int, window: int,
                                                  units: str) -> None:
    """Whatever the unit size, the planned clips cover the call and say it in order."""
    number = f"{letter}{n:03d}"
    tokens = call_tokens(number, window, ZH)
    pack = set(split_units(tokens, units, "zh"))
    got = cover(tokens, pack.__contains__, "zh")
    assert got.complete
    assert "".join(p.key for p in got.pieces) == key_of(tokens, "zh")
