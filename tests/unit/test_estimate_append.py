"""A new ticket queued behind everybody is added to the last run (estimate.append) with
exactly the result of running the queue forward again, and the hall prints that."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from queue_server.domain import estimate
from queue_server.domain.estimate import SimCounter
from queue_server.domain.policy import Waiting
from queue_server.domain.visit import Ticket
from queue_server.hall.estimates import (
    BANDS,
    BIAS_ALLOWANCE,
    RESIDUALS_MIN,
    SCALE_FLOOR,
    EstimateCache,
)
from tests.support.hallkit import NewKit

T0 = dt.datetime(2026, 11, 26, 1, 0, tzinfo=dt.UTC)
CODES = ["RS01", "YB01", "CL01", "GJ01"]
MINUTES = {"RS01": 10.0, "YB01": 5.0, "CL01": 20.0, "GJ01": 7.5}
matters = st.frozensets(st.sampled_from(CODES), min_size=1, max_size=2)


@st.composite
def halls(draw: st.DrawFn) -> tuple[list[Waiting], list[SimCounter], list[frozenset[str]]]:
    """A queue (some priority credit, some transferred), open windows, new tickets."""
    n_windows = draw(st.integers(1, 5))
    windows = [SimCounter(n, draw(matters), draw(st.sampled_from([0.0, 0.0, 90.0, 400.0])))
               for n in range(1, n_windows + 1)]
    queue = []
    for i in range(draw(st.integers(0, 25))):
        transfer = draw(st.sampled_from([None] * 6 + list(range(1, n_windows + 1))))
        queue.append(Waiting(i + 1, T0 + dt.timedelta(minutes=i),
                             dt.timedelta(minutes=draw(st.sampled_from([0, 0, 0, 15]))),
                             draw(matters), transfer))
    new = draw(st.lists(matters, min_size=1, max_size=6))
    return queue, windows, new


@settings(max_examples=300, deadline=None)
@given(halls(), st.booleans())
def test_appending_equals_running_again(
        hall: tuple[list[Waiting], list[SimCounter], list[frozenset[str]]],
        transfer_first: bool) -> None:
    queue, windows, new = hall
    run = estimate.run_forward(queue, windows, MINUTES, transfer_first=transfer_first,
                               phantoms=CODES)
    later = T0 + dt.timedelta(hours=2)  # behind every ticket, credit included
    for j, services in enumerate(new):
        ticket = Waiting(1000 + j, later + dt.timedelta(seconds=j), dt.timedelta(0),
                         services)
        got = estimate.append(run, ticket, MINUTES)
        queue.append(ticket)
        again = estimate.run_forward(queue, windows, MINUTES,
                                     transfer_first=transfer_first, phantoms=CODES)
        assert got == again.called.get(ticket.ticket_id)
        assert run.called == again.called
        assert run.per_matter == again.per_matter
        assert run.exits == again.exits


def test_printed_estimates_match_a_fresh_run_while_the_queue_only_grows(
        new_kit: NewKit) -> None:
    kit = new_kit()
    clerk = kit.login("clerk1", counter=1)
    kit.login("clerk2", counter=2)
    kit.issue("RS01")
    kit.clock.advance(seconds=0.5)
    # the run is made at the call; the issues at the same instant are added to it (a
    # later issue would get the run's figure aged, which a new run does not reproduce to
    # the second: the window's time to go is re-drawn for its longer elapsed time)
    kit.ok("call_next", {}, clerk)
    printed = [kit.issue(code)["estimated_wait"] for code in
               ("RS01", "YB01", "RS01", "RS02", "YB01", "RS01")]
    ids = [t["id"] for t in kit.snapshot()["tickets"] if t["state"] == "waiting"]
    kit.hall.state.estimates.forget()  # what a run from scratch says now
    fresh = [kit.ok("ticket_status", {"ticket_id": i}, kit.board)["estimated_wait"]
             for i in ids]
    assert printed == fresh
    assert printed == sorted(printed) and printed[-1] > 0


def test_a_priority_ticket_is_counted_in_the_next_plain_estimate(new_kit: NewKit) -> None:
    kit = new_kit()
    kit.login("clerk1", counter=1)
    assert kit.issue("RS01")["estimated_wait"] == 0
    before = kit.issue("RS01")["estimated_wait"]
    kit.issue("RS01", priority="elderly")  # jumps ahead: not appended, the run is redone
    after = kit.issue("RS01")["estimated_wait"]
    # the priority ticket and the one before it (8 min each, plus the half minute a
    # citizen takes to walk up), and more priority citizens forecast to overtake
    assert after > before + 2 * 510
    kit.hall.state.estimates.forget()
    last = max(t["id"] for t in kit.snapshot()["tickets"])
    assert kit.ok("ticket_status", {"ticket_id": last}, kit.board)["estimated_wait"] == after


def test_a_ticket_issued_after_a_call_is_priced_on_the_queue_after_that_call(
        new_kit: NewKit) -> None:
    """No printed estimate comes from a state older than the ticket's issue: a call in
    the same second as the last run still runs the queue forward again."""
    kit = new_kit()
    clerk = kit.login("clerk1", counter=1)
    for _ in range(3):
        kit.issue("RS01")
    kit.ok("call_next", {}, clerk)  # in the same instant as the issues
    printed = kit.issue("RS01")
    kit.hall.state.estimates.forget()
    fresh = kit.ok("ticket_status", {"ticket_id": printed["ticket"]["id"]}, kit.board)
    assert printed["estimated_wait"] == fresh["estimated_wait"]


def test_estimates_stay_the_same_until_an_event_says_otherwise(new_kit: NewKit) -> None:
    """The published estimates are of the last state change (estimates_at): a quiet
    minute changes neither them nor their instant."""
    kit = new_kit()
    clerk = kit.login("clerk1", counter=1)
    kit.issue("RS01")
    kit.issue("RS01")
    kit.ok("call_next", {}, clerk)
    before = kit.snapshot()
    kit.clock.advance(minutes=1)
    after = kit.snapshot()
    for key in ("estimates", "estimate_ranges", "estimates_at"):
        assert after[key] == before[key]
    events = kit.run("start", {}, clerk).events
    assert events[0][1]["estimates_at"] != before["estimates_at"]


def test_the_issue_prints_a_range_around_its_point(new_kit: NewKit) -> None:
    kit = new_kit()
    kit.login("clerk1", counter=1)
    for _ in range(4):
        out = kit.issue("RS01")
    assert out["estimated_wait_low"] <= out["estimated_wait"] <= out["estimated_wait_high"]
    assert out["estimated_wait_low"] < out["estimated_wait_high"]
    status = kit.ok("ticket_status", {"ticket_id": out["ticket"]["id"]}, kit.board)
    assert status["estimated_wait_high"] == out["estimated_wait_high"]
    ranges = kit.snapshot()["estimate_ranges"]
    low, high = ranges["RS01"]
    assert low <= kit.snapshot()["estimates"]["RS01"] <= high


def _printed(ticket_id: int, model: float, scale: float) -> Ticket:
    """A ticket issued at T0 whose wait was printed from `model` with spread `scale`."""
    ticket: Any = SimpleNamespace(id=ticket_id, issued_at=T0, printed=(model, scale),
                                  wait_error=None)
    return cast(Ticket, ticket)


def test_the_printed_wait_learns_from_how_long_citizens_really_waited() -> None:
    """Citizens called an hour after a printed 10 minutes, again and again: the hall's
    printed figure for a run that says 10 minutes moves up, and the range with it."""
    cache = EstimateCache()
    before = cache._wait(600.0, None)
    for i in range(RESIDUALS_MIN):
        cache.called(_printed(i, 600.0, 600.0), T0 + dt.timedelta(hours=1), 1)
    after = cache._wait(600.0, None)
    assert before.point == 600 and before.low < 600 < before.high
    # moved until the mean error is within the allowance; the range is where they were
    assert after.point == 600 + 5 * 600 - BIAS_ALLOWANCE
    assert after.high == 600 + 5 * 600 and after.low == after.point


def test_a_few_citizens_called_far_later_move_the_printed_wait_only_as_far_as_needed(
) -> None:
    """Most citizens are called when printed, a few an hour later: the point moves
    only as far as keeps the mean error within BIAS_ALLOWANCE; one citizen a minute late
    among forty does not move it at all."""
    cache = EstimateCache()
    for i in range(RESIDUALS_MIN):
        late = dt.timedelta(hours=1) if i % 10 == 0 else dt.timedelta(0)
        cache.called(_printed(i, 600.0, 600.0),
                     T0 + dt.timedelta(seconds=600) + late, 1)
    wait = cache._wait(600.0, None)
    mean_error = 3600 / 10
    assert wait.point == round(600 + mean_error - BIAS_ALLOWANCE)
    # all on time but one a minute late: the point stays where nearly all were called
    cache = EstimateCache()
    for i in range(RESIDUALS_MIN):
        cache.called(_printed(i, 0.0, SCALE_FLOOR),
                     T0 + dt.timedelta(seconds=60 if i == 0 else 0), 1)
    assert cache._wait(0.0, None).point == 0
    # a few more a little late than a little early: on average on time, so it stays
    cache = EstimateCache()
    for i in range(RESIDUALS_MIN):
        cache.called(_printed(i, 600.0, SCALE_FLOOR),
                     T0 + dt.timedelta(seconds=620 if i % 2 or i == 0 else 580), 1)
    assert cache._wait(600.0, None).point == 600


def test_a_citizen_who_comes_while_the_window_has_been_busy_a_while_is_priced_anew(
        new_kit: NewKit) -> None:
    """The one window called a citizen nine minutes ago and has not finished: a new
    ticket is not given the old run's figure less nine minutes (as if the window were
    sure to finish when it said) but a new run's, in which a visit that has lasted
    this long is likely a long one."""
    kit = new_kit()
    clerk = kit.login("clerk1", counter=1)
    kit.issue("RS01")
    kit.ok("call_next", {}, clerk)
    then = kit.snapshot()["estimates"]["RS01"]  # a new ticket's wait at the call
    kit.clock.advance(minutes=9)
    printed = kit.issue("RS01")
    assert printed["estimated_wait"] > max(0, then - 9 * 60)
    kit.hall.state.estimates.forget()
    fresh = kit.ok("ticket_status", {"ticket_id": printed["ticket"]["id"]}, kit.board)
    assert printed["estimated_wait"] == fresh["estimated_wait"]


def test_events_of_one_batch_carry_the_new_ticket_estimates_as_the_batch_left_them(
        new_kit: NewKit) -> None:
    """Published together, a batch's events all say what a new ticket waits once the
    whole batch is applied (the queue is run forward once per batch, not per event)."""
    kit = new_kit()
    clerk = kit.login("clerk1", counter=1)
    for _ in range(3):
        kit.issue("RS01")
    outcomes = kit.hall.apply_batch([
        ("call_next", {}, clerk, None),
        ("issue", {"services": ["RS01"]}, kit.kiosk, None),
        ("issue", {"services": ["RS01"]}, kit.kiosk, None)])
    events = [data for o in outcomes for _type, data in o.events]
    assert len(events) == 3
    after = kit.snapshot()
    for data in events:
        assert data["estimates"] == after["estimates"]
        assert data["estimate_ranges"] == after["estimate_ranges"]
    assert [d["waiting"]["total"] for d in events] == [2, 3, 4]  # counts stay per event


def test_tickets_issued_between_calls_of_one_batch_cost_one_run_and_match_a_fresh_one(
        new_kit: NewKit, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two windows call and two kiosks issue in one batch: each printed wait is what a
    run from the state the whole batch left says, and the queue is run forward once
    (not once per ticket issued after a call changed it)."""
    kit = new_kit()
    one, two = kit.login("clerk1", counter=1), kit.login("clerk2", counter=2)
    for _ in range(6):
        kit.issue("RS01")
    runs = []
    cache = kit.hall.state.estimates
    real = cache._fresh

    def counted(s: object, now: dt.datetime) -> object:
        before = cache._last
        got = real(s, now)  # type: ignore[arg-type]
        if got is not before:
            runs.append(now)
        return got

    monkeypatch.setattr(cache, "_fresh", counted)
    outcomes = kit.hall.apply_batch([
        ("call_next", {}, one, ("kiosk-test", "a")),
        ("issue", {"services": ["RS01"]}, kit.kiosk, ("kiosk-test", "b")),
        ("call_next", {}, two, ("kiosk-test", "c")),
        ("issue", {"services": ["RS01"]}, kit.kiosk, ("kiosk-test", "d"))])
    assert all(o.error is None for o in outcomes)
    assert len(runs) == 1
    printed = [outcomes[1].result, outcomes[3].result]
    monkeypatch.undo()
    cache.forget()
    for reply in printed:
        assert reply is not None
        fresh = kit.ok("ticket_status", {"ticket_id": reply["ticket"]["id"]}, kit.board)
        assert reply["estimated_wait"] == fresh["estimated_wait"]
        assert reply["ahead"] == fresh["ahead"]
    assert [r["ahead"] for r in printed if r] == [4, 5]


def test_a_retried_issue_answers_the_wait_first_printed_with_it(new_kit: NewKit) -> None:
    """The kept idempotency reply is the priced one: a kiosk retrying after a lost reply
    prints the same wait and people ahead, not the placeholders."""
    kit = new_kit()
    kit.login("clerk1", counter=1)
    for _ in range(3):
        kit.issue("RS01")
    key = ("kiosk-test", "retry-1")
    first = kit.hall.apply("issue", {"services": ["RS01"]}, kit.kiosk, key).result
    again = kit.hall.apply("issue", {"services": ["RS01"]}, kit.kiosk, key).result
    assert first is not None and again is not None
    assert first["ahead"] == 3 and first["estimated_wait"] is not None
    assert again == first
    kit.hall.state.processed.prune(kit.clock.now() + dt.timedelta(days=1))
    stored = kit.hall.store.stored_reply(*key)
    assert stored is not None and dict(stored.reply)["ahead"] == 3
    assert dict(stored.reply)["estimated_wait"] == first["estimated_wait"]


def _calibrations(kit: Any) -> list[tuple[float, float, float]]:
    cache = kit.hall.state.estimates
    return [cache._calibration(band) for band in range(len(BANDS) + 1)]


def test_a_restart_keeps_the_printed_range_calibrated_on_the_hall_s_own_errors(
        new_kit: NewKit) -> None:
    """Fifty citizens called later than printed, then the server restarts: the range is
    calibrated on the same errors as before (not the model's normal one again), and a
    citizen who took a ticket before the restart and is called after it still counts."""
    kit = new_kit()
    clerk = kit.login("clerk1", 1)
    normal = _calibrations(kit)
    for i in range(RESIDUALS_MIN + 10):
        kit.issue("RS01")
        kit.issue("RS01")
        kit.clock.advance(minutes=1 + i % 4)
        kit.serve(clerk, minutes=3 + i % 7)
    waiting_through = kit.issue("RS01")["ticket"]["id"]
    before = _calibrations(kit)
    assert before != normal, "fifty errors move the calibration off the model's own"
    called_before = kit.hall.state.estimates._called
    kit.reopen()
    assert _calibrations(kit) == before
    assert kit.hall.state.estimates._called == called_before  # every error read back
    t = kit.hall.state.tickets[waiting_through]
    assert t.printed is not None and t.wait_error is None
    while kit.hall.state.tickets[waiting_through].wait_error is None:
        kit.serve(clerk, minutes=4)
    assert kit.hall.state.estimates._called > called_before
    kit.reopen()  # the error learned after the first restart is read back too
    assert kit.hall.state.tickets[waiting_through].wait_error is not None


def test_citizens_who_come_back_with_matters_left_lengthen_a_long_wait() -> None:
    """A fifth of the windows' work comes back (the rest of partly served tickets): a
    wait of an hour is that much longer; the last minutes of a wait, when returns come
    back behind me, are not."""
    back = estimate.Returns(share=0.2, front=300.0)
    assert estimate.overtaken(3600, 0, 0, [], 600, 4, back) == pytest.approx(
        (3600 - 0.2 * 300) / 0.8, abs=1)
    assert estimate.overtaken(240, 0, 0, [], 600, 4, back) == 240
    assert estimate.overtaken(3600, 0, 0, [], 600, 4, None) == 3600


@pytest.mark.parametrize("specialised_window_open", [True, False])
def test_rests_of_partly_served_tickets_are_forecast_where_they_compete(
        new_kit: NewKit, specialised_window_open: bool) -> None:
    """Every fifth citizen also asks for 残联 (CL01), which window 1 cannot do: it does
    the rest and sends CL01 back. Window 3 takes CL01 and everything else, so with it
    open the rests come back ahead of an ordinary citizen far back; with only window 1
    calling, nobody who calls that citizen takes them, and the wait is not lengthened."""
    kit = new_kit()
    clerk = kit.login("clerk1", counter=1)
    if specialised_window_open:
        kit.login("clerk3", counter=3)
    for i in range(80):
        kit.issue("RS01", "CL01") if i % 5 == 0 else kit.issue("RS01")
    for _ in range(55):
        kit.ok("call_next", {}, clerk)
        kit.ok("start", {}, clerk)
        kit.clock.advance(seconds=60)
        kit.ok("complete", {}, clerk)
    s, now = kit.hall.state, kit.clock.now()
    last = max(s.tickets.values(), key=lambda t: t.id)
    assert last.pending_services == {"RS01"}
    with_returns = s.estimates.wait_of(s, last, now)
    s.estimates._returns = type(s.estimates._returns)()  # the hall before it saw any
    s.estimates.forget()
    without = s.estimates.wait_of(s, last, now)
    assert with_returns is not None and without is not None
    if specialised_window_open:
        # 11 of 55 matters called came back: the wait grows by up to 1 / (1 - 0.2)
        assert 1.15 * without.model < with_returns.model < without.model / 0.8 + 1
    else:
        assert with_returns.model == without.model


def test_the_service_times_are_fitted_again_in_the_tick_not_in_a_clerks_press(
        new_kit: NewKit) -> None:
    """Ten visits completed and half a minute gone: the next call runs the queue forward
    on the fit it has (the clerk's press does not pay for a new one); the hall's tick
    fits again, and no published estimate changes until the next event."""
    kit = new_kit()
    clerk = kit.login("clerk1", counter=1)
    for _ in range(14):
        kit.issue("RS01")
    s = kit.hall.state
    kit.ok("call_next", {}, clerk)
    first = s.estimates._times
    assert first is not None
    for _ in range(10):
        kit.ok("start", {}, clerk)
        kit.clock.advance(seconds=60)
        kit.ok("complete", {}, clerk)
        kit.ok("call_next", {}, clerk)
    kit.clock.advance(seconds=31)
    kit.ok("start", {}, clerk)  # a state change: the queue is run forward again
    kit.snapshot()
    assert s.estimates._times is first
    before = kit.snapshot()
    kit.hall.tick()
    assert s.estimates._times is not first
    after = kit.snapshot()
    assert after["estimates"] == before["estimates"]
    assert after["estimates_at"] == before["estimates_at"]


def test_returns_are_counted_over_the_last_two_hours_only() -> None:
    """A morning of partial services says nothing about the afternoon: after two hours
    without any, there is no returns forecast, and the totals are exact meanwhile."""
    from queue_server.hall.estimates import RETURNS_MIN, _Returns

    kept = _Returns()
    for i in range(RETURNS_MIN):
        kept.call(T0 + dt.timedelta(seconds=20 * i), 1)
    kept.came_back(T0 + dt.timedelta(minutes=5), ["CL01"])
    kept.came_back(T0 + dt.timedelta(minutes=70), ["CL01", "YB01"])
    assert kept.seen(T0 + dt.timedelta(minutes=71)) == (RETURNS_MIN, {"CL01": 2, "YB01": 1})
    for i in range(RETURNS_MIN):  # the afternoon's calls, none back
        kept.call(T0 + dt.timedelta(minutes=130, seconds=20 * i), 1)
    assert kept.seen(T0 + dt.timedelta(minutes=150)) == (RETURNS_MIN, {"CL01": 1, "YB01": 1})
    assert kept.seen(T0 + dt.timedelta(minutes=200)) is None  # the 70th minute's gone too
