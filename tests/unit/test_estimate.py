"""How long until called (queue_server.domain.estimate): the queue run forward."""

from __future__ import annotations

import datetime as dt
import heapq

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from queue_server.domain import estimate, policy
from queue_server.domain.estimate import SimCounter
from queue_server.domain.policy import Waiting

T0 = dt.datetime(2026, 11, 26, 1, 0, tzinfo=dt.UTC)
MINUTES = {"RS01": 10.0, "YB01": 5.0, "CL01": 20.0}


def w(tid: int, minute: float, *services: str, transfer_to: int | None = None,
      credit: float = 0) -> Waiting:
    return Waiting(tid, T0 + dt.timedelta(minutes=minute), dt.timedelta(minutes=credit),
                   frozenset(services or {"RS01"}), transfer_to)


def test_one_window_serves_the_queue_in_order() -> None:
    called, _ = estimate.simulate([w(1, 0), w(2, 1), w(3, 2)],
                                  [SimCounter(1, frozenset({"RS01"}))], MINUTES)
    assert called == {1: 0.0, 2: 600.0, 3: 1200.0}


def test_two_windows_halve_the_wait() -> None:
    ws = frozenset({"RS01"})
    called, _ = estimate.simulate([w(i, i) for i in range(1, 5)],
                                  [SimCounter(1, ws), SimCounter(2, ws)], MINUTES)
    assert called == {1: 0.0, 2: 0.0, 3: 600.0, 4: 600.0}


def test_a_busy_window_is_free_when_its_citizen_is_expected_done() -> None:
    called, per_matter = estimate.simulate(
        [w(1, 0)], [SimCounter(1, frozenset({"RS01"}), free_in=240.0)], MINUTES,
        phantoms=["RS01"])
    assert called == {1: 240.0}
    assert per_matter == {"RS01": 840.0}


def test_a_multi_matter_ticket_takes_the_sum_of_its_matters() -> None:
    called, per_matter = estimate.simulate(
        [w(1, 0, "RS01", "YB01")], [SimCounter(1, frozenset({"RS01", "YB01"}))], MINUTES,
        phantoms=["YB01"])
    assert per_matter == {"YB01": 900.0}


def test_a_matter_no_open_window_takes_has_no_estimate() -> None:
    called, per_matter = estimate.simulate(
        [w(1, 0, "CL01")], [SimCounter(1, frozenset({"RS01"}))], MINUTES,
        phantoms=["CL01", "RS01"])
    assert called == {}
    assert per_matter == {"CL01": None, "RS01": 0.0}


def test_specialised_window_and_comprehensive_windows_share_the_work() -> None:
    counters = [SimCounter(1, frozenset({"RS01", "CL01"})), SimCounter(4, frozenset({"CL01"}))]
    called, _ = estimate.simulate([w(1, 0, "CL01"), w(2, 1, "CL01"), w(3, 2, "RS01")],
                                  counters, MINUTES)
    assert called == {1: 0.0, 2: 0.0, 3: 1200.0}


def test_transferred_ticket_waits_for_its_window_only() -> None:
    counters = [SimCounter(1, frozenset({"RS01"})), SimCounter(2, frozenset({"RS01"}), 300.0)]
    called, _ = estimate.simulate([w(1, 0, transfer_to=2), w(2, 1)], counters, MINUTES)
    assert called == {2: 0.0, 1: 300.0}


def test_priority_credit_is_the_same_policy_as_the_hall() -> None:
    called, _ = estimate.simulate([w(1, 0), w(2, 20, credit=30)],
                                  [SimCounter(1, frozenset({"RS01"}))], MINUTES)
    assert called == {2: 0.0, 1: 600.0}


# -- the printed wait assumes the hall's own calling order ---------------------------------

def _called_by_the_policy(queue: list[Waiting], counters: list[SimCounter],
                          transfer_first: bool) -> dict[int, float]:
    """The forward run done the slow, obvious way: each time a window is free it asks
    policy.next_ticket over everything not yet called (the rule call_next applies)."""
    heap = [(c.free_in, c.number, c) for c in counters]
    heapq.heapify(heap)
    left, called = list(queue), {}
    while heap:
        at, _, counter = heapq.heappop(heap)
        pick = policy.next_ticket(left, counter.number, counter.services,
                                  transfer_first=transfer_first)
        if pick is None:
            continue
        left.remove(pick)
        called[pick.ticket_id] = at
        heapq.heappush(heap, (at + estimate.service_seconds(pick, counter, MINUTES),
                              counter.number, counter))
    return called


matter_sets = st.frozensets(st.sampled_from(sorted(MINUTES)), min_size=1)


@settings(max_examples=200, deadline=None)
@given(tickets=st.lists(st.tuples(st.integers(0, 120), st.sampled_from([0, 0, 15, 30]),
                                  matter_sets, st.sampled_from([None, None, None, 1, 2])),
                        max_size=25),
       windows=st.lists(st.tuples(matter_sets, st.sampled_from([0.0, 0.0, 90.0, 700.0])),
                        min_size=1, max_size=3),
       transfer_first=st.booleans())
def test_the_estimate_calls_in_the_policys_order(
        tickets: list[tuple[int, int, frozenset[str], int | None]],
        windows: list[tuple[frozenset[str], float]], transfer_first: bool) -> None:
    """Whatever the queue (credits, several matters, transfers to a window) and the open
    windows (busy or free), the estimate's run calls every ticket exactly when and where
    the calling policy would: the printed wait and call_next cannot drift apart."""
    queue = [w(i + 1, minute, *matters, transfer_to=to, credit=credit)
             for i, (minute, credit, matters, to) in enumerate(tickets)]
    counters = [SimCounter(n, matters, free_in)
                for n, (matters, free_in) in enumerate(windows, start=1)]
    run = estimate.run_forward(queue, counters, MINUTES, transfer_first=transfer_first)
    assert run.called == _called_by_the_policy(queue, counters, transfer_first)
    if len(counters) == 1:  # one window: it calls its whole list, in the list's order
        order = sorted(run.called, key=run.called.__getitem__)
        assert order == [x.ticket_id for x in policy.call_order(
            queue, 1, counters[0].services, transfer_first=transfer_first)]


# -- what a visit is expected to take --------------------------------------------------------

def _visits(code: str, minutes: list[float]) -> list[estimate.Visit]:
    return [estimate.Visit(frozenset({code}), m) for m in minutes]


def test_a_matter_is_expected_to_take_its_mean_not_its_median() -> None:
    """Skewed times: the run forward adds expected times, and the sum of medians is
    short. Shrunk toward the configured minutes by three visits' worth."""
    times = estimate.fit(_visits("RS01", [3.0, 4.0, 5.0, 90.0, 4.0] * 4), {"RS01": 8.0})
    assert times.minutes["RS01"] == pytest.approx((21.2 * 20 + 3 * 8.0) / 23)


def test_without_history_the_configured_minutes_and_half_a_minute_to_walk_up() -> None:
    times = estimate.fit([], {"RS01": 8.0})
    assert times.visit_minutes(["RS01"]) == 8.5
    assert times.factors[0] == 1.0


def test_a_visit_for_two_matters_is_attributed_by_their_means_not_split_evenly() -> None:
    """One 15-minute matter and one 5-minute matter always taken together: an even split
    (the old rule) said 10 and 10; the singles seen alone say 15 and 5, and the joint
    visits give a factor for two matters at once."""
    visits = (_visits("A", [15.0] * 30) + _visits("B", [5.0] * 30)
              + [estimate.Visit(frozenset({"A", "B"}), 18.0)] * 30)
    times = estimate.fit(visits, {"A": 10.0, "B": 10.0})
    assert times.minutes["A"] == pytest.approx(15.0, rel=0.1)
    assert times.minutes["B"] == pytest.approx(5.0, rel=0.15)
    assert times.visit_minutes(["A", "B"], overhead=False) == pytest.approx(18.0, rel=0.05)


def test_the_walk_up_is_learnt_from_the_calls() -> None:
    visits = [estimate.Visit(frozenset({"A"}), 10.0, 1.5)] * 10
    assert estimate.fit(visits, {"A": 10.0}).overhead == pytest.approx(1.5)


def test_a_service_running_long_is_expected_to_go_on() -> None:
    """Not expected - elapsed: past its mean a skewed service still has a while to go."""
    assert estimate.remaining(600, 0, 0.36) == pytest.approx(600)
    assert estimate.remaining(600, 300, 0.36) > 300
    assert estimate.remaining(600, 900, 0.36) > 60
    assert estimate.remaining(600, 300, 0.0) == 300


def test_the_first_of_several_busy_windows_is_free_sooner_than_the_soonest_expected_end(
) -> None:
    free = estimate.free_times([(600.0, 0.0)] * 8, 1.0)
    assert min(free) < 200  # eight windows, ten minutes each to go: one is free soon
    assert sum(free) == pytest.approx(8 * 600, rel=0.05)  # a long queue waits as long
    assert estimate.free_times([(600.0, 0.0)], 1.0) == [pytest.approx(600)]
    # the window expected to finish first gets the first finishing time
    free = estimate.free_times([(900.0, 0.0), (300.0, 0.0)], 0.36)
    assert free[1] < free[0]


@given(st.lists(st.tuples(st.floats(60, 3600), st.floats(0, 3600)), min_size=1, max_size=10),
       st.floats(0.05, 1.5))
def test_free_times_are_never_negative_and_follow_the_expected_order(
        busy: list[tuple[float, float]], cv2: float) -> None:
    free = estimate.free_times(busy, cv2)
    means = [estimate.remaining(e, t, cv2) for e, t in busy]
    assert all(f >= 0 for f in free)
    order = sorted(range(len(busy)), key=lambda i: means[i])
    assert [free[i] for i in order] == sorted(free)


def test_priority_arrivals_forecast_to_overtake_an_ordinary_citizen() -> None:
    """A priority citizen every 10 minutes, 10 minutes each, 10 windows: a tenth of
    the windows' time, and overtake an ordinary citizen for the 30 minutes of credit."""
    arrivals = [estimate.Credited(1800.0, 1 / 600)]
    assert estimate.overtaken(600, 0, 0, arrivals, 600, 10) == pytest.approx(600 / 0.9, abs=1)
    long = estimate.overtaken(7200, 0, 0, arrivals, 600, 10)
    assert long == pytest.approx(7200 + 0.1 * 1800, abs=1)  # only for the credit's span
    assert estimate.overtaken(600, 1800, 0, arrivals, 600, 10) == 600  # a priority citizen
    assert estimate.overtaken(600, 0, 1800, arrivals, 600, 10) == 600  # waited past it


def test_a_run_cut_at_its_horizon_prices_the_rest_of_a_long_queue_in_aggregate() -> None:
    """600 citizens, two windows, a horizon of 100 calls: the first 100 are called exactly
    as in the full run; the rest, and a new ticket, within a minute of it (the windows
    share the rest's work evenly)."""
    queue = [w(i, i * 0.1, ("RS01", "YB01")[i % 2]) for i in range(1, 601)]
    both = frozenset({"RS01", "YB01"})
    counters = [SimCounter(1, both, 100.0), SimCounter(2, both, 400.0)]
    full = estimate.run_forward(queue, counters, MINUTES, phantoms=["RS01"])
    cut = estimate.run_forward(queue, counters, MINUTES, phantoms=["RS01"], horizon=100)
    assert len(cut.called) == 100
    for x in queue:
        got, want = cut.call_of(x.ticket_id), full.called[x.ticket_id]
        assert got is not None
        if x.ticket_id in cut.called:
            assert got == want
        else:
            assert abs(got - want) <= 600
    new, want = cut.per_matter["RS01"], full.per_matter["RS01"]
    assert new is not None and want is not None and abs(new - want) <= 600


@settings(max_examples=150, deadline=None)
@given(tickets=st.lists(st.tuples(st.integers(0, 120), st.sampled_from([0, 0, 15, 30]),
                                  matter_sets, st.sampled_from([None, None, None, None, 1])),
                        max_size=30),
       windows=st.lists(st.tuples(matter_sets, st.sampled_from([0.0, 0.0, 90.0, 700.0])),
                        min_size=1, max_size=3),
       transfer_first=st.booleans())
def test_a_fit_asked_again_by_the_next_run_gives_the_same_waits_as_a_fresh_one(
        tickets: list[tuple[int, int, frozenset[str], int | None]],
        windows: list[tuple[frozenset[str], float]], transfer_first: bool) -> None:
    """The hall runs the queue forward after every change with the same fitted times,
    which keep each window's prices from the runs before: the second run of a hall
    (after a different queue filled those prices) calls every ticket exactly when the
    slow way does and when a fit asked for the first time does."""
    queue = [w(i + 1, minute, *matters, transfer_to=to, credit=credit)
             for i, (minute, credit, matters, to) in enumerate(tickets)]
    counters = [SimCounter(n, matters, free_in)
                for n, (matters, free_in) in enumerate(windows, start=1)]
    kept = estimate.ServiceTimes(MINUTES)
    estimate.run_forward(queue[::-1][:10], counters[::-1], kept, transfer_first=transfer_first)
    again = estimate.run_forward(queue, counters, kept, transfer_first=transfer_first,
                                 phantoms=sorted(MINUTES))
    fresh = estimate.run_forward(queue, counters, estimate.ServiceTimes(MINUTES),
                                 transfer_first=transfer_first, phantoms=sorted(MINUTES))
    assert again.called == fresh.called == _called_by_the_policy(queue, counters,
                                                                 transfer_first)
    assert again.per_matter == fresh.per_matter and again.exits == fresh.exits
