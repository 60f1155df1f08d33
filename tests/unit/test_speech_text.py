"""How the hall speaks a call: letters as letters, ticket digits one by one, windows as numbers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from display_board.speech_text import (
    DEFAULT_TEMPLATE_ZH,
    announcement_en,
    announcement_zh,
    counter_en,
    counter_zh,
    ticket_en,
    ticket_zh,
)


@pytest.mark.parametrize(("number", "spoken"), [
    ("A012", "A 零一二"),
    ("A001", "A 零零一"),
    ("B100", "B 一零零"),
    ("Y007", "Y 零零七"),
    ("a012", "A 零一二"),  # lower case from a hand-typed --number
    ("VIP01", "V I P 零一"),
    ("123", "一二三"),
    ("A-012", "A 零一二"),  # separators are not read aloud
])
def test_ticket_digits_are_read_one_by_one_and_letters_as_letters(number: str,
                                                                  spoken: str) -> None:
    assert ticket_zh(number) == spoken


def test_zero_leading_ticket_is_never_read_as_a_number() -> None:
    """espeak-ng reads raw 'A012' comes out as 零十二; the hall wants 零一二."""
    assert "十" not in ticket_zh("A012")
    assert "零一二" in announcement_zh("A012", 3)


@pytest.mark.parametrize(("counter", "spoken"), [
    (1, "一"), (3, "三"), (9, "九"), (10, "十"), (11, "十一"), (12, "十二"), (19, "十九"),
    (20, "二十"), (21, "二十一"), (99, "九十九"), (100, "一百"), (101, "一百零一"),
    (110, "一百一十"), (1005, "一千零五"), (1050, "一千零五十"), (0, "零"),
])
def test_window_numbers_are_read_as_numbers(counter: int, spoken: str) -> None:
    assert counter_zh(counter) == spoken


def test_full_sentence_uses_the_hall_template() -> None:
    assert announcement_zh("A012", 12) == "请 A 零一二 号到 十二 号窗口办理"
    assert announcement_zh("B003", 5, "{number}号请到{counter}号窗口") == \
        "B 零零三 号请到 五 号窗口"


def test_a_broken_template_falls_back_to_the_default_instead_of_silence() -> None:
    assert announcement_zh("A012", 3, "请{ticket}号到{counter}号窗口") == \
        announcement_zh("A012", 3, DEFAULT_TEMPLATE_ZH)
    assert announcement_zh("A012", 3, "请{0}号") == announcement_zh("A012", 3)
    assert announcement_zh("A012", 3, "") == announcement_zh("A012", 3)


def test_english_spells_the_letter_and_reads_digits_singly() -> None:
    assert ticket_en("A012") == "A, zero one two"
    assert counter_en(12) == "12"
    assert announcement_en("A012", 12) == "Number A, zero one two, please go to window 12."


@given(st.from_regex(r"[A-Z]{1,2}[0-9]{3,4}", fullmatch=True))
def test_every_digit_of_any_ticket_is_spoken_in_order(number: str) -> None:
    spoken = ticket_zh(number).replace(" ", "")
    digits = "零一二三四五六七八九"
    assert "".join(str(digits.index(ch)) for ch in spoken if ch in digits) == \
        "".join(ch for ch in number if ch.isdigit())
    assert [ch for ch in spoken if ch.isascii()] == [ch for ch in number if ch.isalpha()]


def _read_back(words: str) -> int:
    """How a listener hears a Chinese number (digits times 十/百/千, 零 as a filler)."""
    digits = {c: i for i, c in enumerate("零一二三四五六七八九")}
    units = {"十": 10, "百": 100, "千": 1000}
    total = current = 0
    for ch in words:
        if ch in digits:
            current = digits[ch]
        else:
            total += (current or 1) * units[ch]
            current = 0
    return total + current


@given(st.integers(min_value=0, max_value=9999))
def test_every_window_number_is_heard_as_itself(counter: int) -> None:
    """A citizen must walk to the right window: the words mean exactly that number."""
    assert _read_back(counter_zh(counter)) == counter
