"""How a wait is said to a citizen (queue_common.waits): one text for ticket, kiosk and
status page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queue_common import i18n
from queue_common.waits import SOON_SECONDS, wait_minutes, wait_text


@pytest.fixture(autouse=True)
def chinese() -> Iterator[None]:
    i18n.set_language("zh")
    yield
    i18n.set_language("zh")


def test_a_range_is_said_in_whole_minutes_low_down_high_up() -> None:
    assert wait_text(1200, 1800) == "预计等候约 20-30 分钟"
    assert wait_text(1230, 1750) == "预计等候约 20-30 分钟"
    assert wait_text(600, 661) == "预计等候约 10-12 分钟"
    i18n.set_language("en")
    assert wait_text(1200, 1800) == "Estimated wait: about 20-30 min"


def test_a_wide_range_is_rounded_to_five_minutes() -> None:
    assert wait_text(23 * 60, 41 * 60) == "预计等候约 20-45 分钟"


def test_a_short_wait_is_soon_and_a_range_from_zero_is_within() -> None:
    assert wait_text(0, SOON_SECONDS - 1) == "预计很快为您办理"
    assert wait_text(0, 8 * 60) == "预计 8 分钟内为您办理"
    i18n.set_language("en")
    assert wait_text(30, 100) == "Estimated wait: soon"


def test_a_server_without_a_range_gets_its_point_and_no_wait_gets_nothing() -> None:
    assert wait_text(None, None, 14 * 60) == "预计等候约 14 分钟"
    assert wait_text(None, None, None) is None


@given(st.integers(0, 6 * 3600), st.integers(0, 6 * 3600))
def test_the_minutes_shown_always_hold_the_range(a: int, b: int) -> None:
    low, high = min(a, b), max(a, b)
    shown = wait_minutes(low, high)
    if shown is None:
        assert high < SOON_SECONDS
    else:
        assert high <= shown[1] * 60 and shown[0] <= shown[1]
        assert shown[0] * 60 <= low or low == high  # a point is rounded up
