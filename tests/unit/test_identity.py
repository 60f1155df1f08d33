"""身份证 numbers at the kiosk: GB 11643 check character, birth date, age, mask, hash."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queue_common import identity as idn

# The standard's own example (GB 11643-1999 appendix): Beijing, born 1949-12-31.
EXAMPLE = "11010519491231002X"
TODAY = dt.date(2026, 11, 26)


def with_check(first17: str) -> str:
    return first17 + idn.check_character(first17)


def test_the_standards_example_is_valid_and_its_check_is_x() -> None:
    number = idn.parse_id_number(EXAMPLE.lower(), TODAY)
    assert number.number == EXAMPLE and number.birth == dt.date(1949, 12, 31)
    assert number.age_on(TODAY) == 76


@pytest.mark.parametrize(("text", "reason"), [
    ("11010519491231002", "shape"), ("1101051949123100XX", "shape"),
    ("110105194912310021", "check"), (with_check("11010519490231002"), "birth"),
    (with_check("11010518991231002"), "birth"), (with_check("11010520301231002"), "birth"),
])
def test_a_wrong_number_is_refused_and_says_why_without_the_number(text: str,
                                                                   reason: str) -> None:
    with pytest.raises(idn.InvalidIdNumber) as err:
        idn.parse_id_number(text, TODAY)
    assert err.value.reason == reason and text not in str(err.value)


@given(st.text("0123456789", min_size=17, max_size=17),
       st.integers(0, 16), st.integers(1, 9))
def test_changing_one_digit_is_always_caught(first17: str, where: int, delta: int) -> None:
    number = with_check(first17)
    digit = (int(number[where]) + delta) % 10
    changed = number[:where] + str(digit) + number[where + 1:]
    assert idn.check_character(changed[:17]) != changed[17]


def test_age_turns_on_the_birthday() -> None:
    number = idn.parse_id_number(with_check("31010119561126123"), TODAY)
    assert number.age_on(TODAY) == 70
    assert number.age_on(TODAY - dt.timedelta(days=1)) == 69


def test_the_screen_shows_the_number_masked_and_repr_never_shows_it() -> None:
    number = idn.parse_id_number(EXAMPLE, TODAY)
    assert number.masked == "1101**********002X"
    assert EXAMPLE not in repr(number) and EXAMPLE not in str(number)
    assert EXAMPLE not in f"{number}"


def test_the_hash_depends_on_the_halls_key(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    idn.make_key(one)
    idn.make_key(two)
    key1, key2 = idn.load_key(one), idn.load_key(two)
    assert key1 is not None and key2 is not None and key1 != key2
    h = idn.id_hash(key1, EXAMPLE)
    assert idn.is_id_hash(h) and EXAMPLE not in h
    assert h == idn.id_hash(key1, EXAMPLE.lower()) != idn.id_hash(key2, EXAMPLE)
    assert idn.make_key(one).read_text().strip() == key1.hex()  # made once, kept


def test_no_key_means_no_identity_features(tmp_path: Path) -> None:
    assert idn.load_key(tmp_path) is None
    (tmp_path / "keys").mkdir()
    idn.key_path(tmp_path).write_text("not hex", "ascii")
    assert idn.load_key(tmp_path) is None
