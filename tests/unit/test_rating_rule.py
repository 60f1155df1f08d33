"""Who may rate which visit: the window that just served it (its pad or its counter PC,
within the rating timeout) or the citizen's phone with the ticket's token; one rating
per visit, whichever comes first (docs/policy.md, "Rating")."""

from __future__ import annotations

from pathlib import Path

import pytest

from queue_common.protocol import Err, Role
from queue_server.hall import Actor
from tests.support.hallkit import HallKit

PHONE = Actor(device="status-page", device_role=Role.PHONE)


def pad(window: int) -> Actor:
    """The rating pad at a window: a counter device without a login."""
    return Actor(device=f"counter-{window}", device_role=Role.COUNTER)


@pytest.fixture
def kit(tmp_path: Path) -> HallKit:
    return HallKit.create(tmp_path)


def test_the_pad_rates_the_ticket_its_window_just_served(kit: HallKit) -> None:
    w1 = kit.login("clerk1", counter=1)
    t = kit.issue("RS01")["ticket"]
    kit.serve(w1)
    out = kit.ok("rate", {"ticket_id": t["id"], "level": 5}, pad(1))
    assert out["rating"]["source"] == "pad"
    (row,) = kit.rows("rating")
    assert row["source"] == "pad" and row["staff_id"] == w1.staff_id


def test_a_counter_pc_of_another_window_cannot_rate_it(kit: HallKit) -> None:
    w1 = kit.login("clerk1", counter=1)
    t = kit.issue("RS01")["ticket"]
    kit.serve(w1)
    # no login, another window's device: the hole this rule closes
    err = kit.err("rate", {"ticket_id": t["id"], "level": 1, "reason": "等候时间太长"}, pad(2))
    assert err.code == Err.FORBIDDEN and err.details["counter"] == 2
    # a clerk logged in at window 2 cannot either
    w2 = kit.login("clerk2", counter=2)
    assert kit.err("rate", {"ticket_id": t["id"], "level": 5}, w2).code == Err.FORBIDDEN
    # a device of no window at all
    kiosk = kit.err("rate", {"ticket_id": t["id"], "level": 5}, kit.kiosk)
    assert kiosk.code == Err.FORBIDDEN
    assert kit.rows("rating") == []
    # ... and the citizen's own rating is still taken
    kit.ok("rate", {"ticket_id": t["id"], "level": 4}, pad(1))


def test_only_the_last_ticket_served_at_the_window(kit: HallKit) -> None:
    w1 = kit.login("clerk1", counter=1)
    first = kit.issue("RS01")["ticket"]
    kit.issue("RS01")
    kit.serve(w1)
    kit.serve(w1)  # window 1 served the next one since
    err = kit.err("rate", {"ticket_id": first["id"], "level": 5}, pad(1))
    assert err.code == Err.FORBIDDEN


def test_after_the_rating_timeout_the_pad_is_refused(kit: HallKit) -> None:
    w1 = kit.login("clerk1", counter=1)
    t = kit.issue("RS01")["ticket"]
    kit.serve(w1)
    timeout = kit.hall.state.config.rating.timeout_seconds
    kit.clock.advance(seconds=timeout + 60)  # past the pad's timeout and the grace
    err = kit.err("rate", {"ticket_id": t["id"], "level": 5}, pad(1))
    assert err.code == Err.CONFLICT and err.details["state"] == "timed_out"


def test_the_phone_rates_once_with_the_token(kit: HallKit) -> None:
    w1 = kit.login("clerk1", counter=1)
    t = kit.issue("RS01")["ticket"]
    kit.serve(w1)
    kit.clock.advance(minutes=20)  # long after the pad's timeout: a phone may still rate
    out = kit.ok("rate", {"token": t["token"], "level": 2, "reason": "等候时间太长",
                          "text": "叫号声音太小"}, PHONE)
    assert out["rating"]["source"] == "phone"
    (row,) = kit.rows("rating")
    assert row["reason"] == "等候时间太长 / 叫号声音太小" and row["source"] == "phone"
    again = kit.err("rate", {"token": t["token"], "level": 5}, PHONE)
    assert again.code == Err.CONFLICT and again.details["source"] == "phone"


def test_whichever_source_comes_first_the_other_is_told_politely(kit: HallKit) -> None:
    w1 = kit.login("clerk1", counter=1)
    t = kit.issue("RS01")["ticket"]
    kit.serve(w1)
    kit.ok("rate", {"token": t["token"], "level": 5}, PHONE)
    err = kit.err("rate", {"ticket_id": t["id"], "level": 3}, pad(1))
    assert err.code == Err.CONFLICT and err.details["source"] == "phone"
    assert "手机" in err.message and "phone" in err.message

    u = kit.issue("RS01")["ticket"]
    kit.serve(w1)
    kit.ok("rate", {"ticket_id": u["id"], "level": 4}, w1)  # the clerk's PC, logged in
    err = kit.err("rate", {"token": u["token"], "level": 5}, PHONE)
    assert err.code == Err.CONFLICT and err.details["source"] == "counter"


def test_a_token_rates_only_from_the_phone_and_only_its_ticket(kit: HallKit) -> None:
    w1 = kit.login("clerk1", counter=1)
    t = kit.issue("RS01")["ticket"]
    kit.serve(w1)
    # a counter device may not rate by token (the token is the citizen's credential)
    assert kit.err("rate", {"token": t["token"], "level": 5}, pad(1)).code == Err.BAD_REQUEST
    # the phone names no ticket id
    assert kit.err("rate", {"ticket_id": t["id"], "level": 5}, PHONE).code == Err.BAD_REQUEST
    assert kit.err("rate", {"token": "x" * 32, "level": 5}, PHONE).code == Err.NOT_FOUND
    waiting = kit.issue("RS01")["ticket"]
    assert kit.err("rate", {"token": waiting["token"], "level": 5}, PHONE).code == Err.CONFLICT


def test_a_rating_survives_a_restart_with_its_source(tmp_path: Path) -> None:
    kit = HallKit.create(tmp_path, backend="sqlite")
    w1 = kit.login("clerk1", counter=1)
    t = kit.issue("RS01")["ticket"]
    kit.serve(w1)
    kit.ok("rate", {"token": t["token"], "level": 5}, PHONE)
    kit.reopen()
    err = kit.err("rate", {"ticket_id": t["id"], "level": 3}, pad(1))
    assert err.details["source"] == "phone"
