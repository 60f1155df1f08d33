"""Hall operations whose answer comes from the stored rows through SQL (statistics),
on SQLite and PostgreSQL: what the in-memory store of the unit tests cannot answer."""

from __future__ import annotations

import pytest

from tests.support.hallkit import PASSWORD, HallKit


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def hall_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_a_clerk_logging_in_again_gets_the_day_so_far(kit: HallKit) -> None:
    """The caller's 今日 line starts from the stored periods, as the statistics do."""
    dev = kit.kiosk.__class__(device="counter-1", device_role="counter")
    args = {"user": "clerk1", "password": PASSWORD, "counter": 1}
    assert kit.ok("login", args, dev)["today"] == {
        "served": 0, "average_service_seconds": None}
    w1 = kit.login("clerk1", counter=1)
    for minutes in (4, 8):
        kit.issue("RS01")
        kit.serve(w1, minutes=minutes)
    kit.issue("YB01")
    kit.ok("call_next", {}, w1)
    kit.ok("no_show", {}, w1)  # called but not served: not counted
    kit.ok("logout", {}, w1)
    today = kit.ok("login", args, dev)["today"]
    assert today == {"served": 2, "average_service_seconds": 360.0}
    report = kit.ok("stats", {"by": ["clerk"]}, kit.board)
    (row,) = [r for r in report["groups"]["clerk"] if r["key"] == "clerk1"]
    assert (row["served"], row["service_mean"]) == (2, 360.0)
    other = {"user": "clerk2", "password": PASSWORD, "counter": 2}
    other_pc = kit.kiosk.__class__(device="counter-2", device_role="counter")
    assert kit.ok("login", other, other_pc)["today"]["served"] == 0
