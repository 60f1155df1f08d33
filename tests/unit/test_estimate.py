"""How long until called (queue_server.domain.estimate): the queue run forward."""

from __future__ import annotations

import datetime as dt
import heapq
import math
import random
import statistics

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


@settings(max_examples=300, deadline=None)
@given(tickets=st.lists(st.tuples(st.integers(0, 120), st.sampled_from([0, 0, 15, 30]),
                                  matter_sets), max_size=40),
       windows=st.lists(st.tuples(matter_sets, st.sampled_from([0.0, 0.0, 90.0, 700.0])),
                        min_size=1, max_size=3),
       horizon=st.integers(0, 12), transfer_first=st.booleans())
def test_the_rest_beyond_the_horizon_priced_from_the_index_s_tally_is_the_same(
        tickets: list[tuple[int, int, frozenset[str]]],
        windows: list[tuple[frozenset[str], float]], horizon: int,
        transfer_first: bool) -> None:
    """A long queue's rest, priced from the waiting index's tally of matter sets less
    what the run called, gives every ticket and every new ticket the same wait as
    counting the rest ticket by ticket (windows that take only some matters make the
    run take tickets from further on in line)."""
    import collections

    queue = sorted((w(i + 1, minute, *services, credit=credit)
                    for i, (minute, credit, services) in enumerate(tickets)),
                   key=lambda x: x.key)
    counters = [SimCounter(n + 1, services, free)
                for n, (services, free) in enumerate(windows)]
    tally = collections.Counter(x.services for x in queue)
    kwargs = {"phantoms": sorted(MINUTES), "ordered": True, "horizon": horizon,
              "transfer_first": transfer_first}
    counted = estimate.run_forward(queue, counters, MINUTES, **kwargs)  # type: ignore[arg-type]
    tallied = estimate.run_forward(queue, counters, MINUTES, sets=tally,  # type: ignore[arg-type]
                                   **kwargs)
    assert tallied.exits == pytest.approx(counted.exits)
    assert tallied.per_matter == pytest.approx(counted.per_matter)
    for x in queue:
        assert tallied.call_of(x.ticket_id) == pytest.approx(counted.call_of(x.ticket_id))


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


def _greedy(free: list[float], upcoming: list[float], factors: list[float]) -> list[float]:
    """The k-th call from now, k = 0 .. len(upcoming): each citizen in line goes to the
    first window free and keeps it busy for its time x its factor."""
    heap = sorted(free)
    calls = []
    for seconds, factor in zip(upcoming, factors, strict=True):
        at = heap[0]
        calls.append(at)
        heapq.heapreplace(heap, at + seconds * factor)
    calls.append(heap[0])
    return calls


def test_windows_whose_visits_vary_call_sooner_than_a_schedule_of_means() -> None:
    """Eight windows, forty citizens of ten minutes each: when visits vary, a quick
    window calls again soon, so after a round the calls come minutes sooner than a
    schedule of means; when visits hardly vary, they do not."""
    varied = estimate.Renewal([], 8, 1.0)
    steady = estimate.Renewal([], 8, 0.01)
    for _ in range(40):
        varied.add(600.0)
        steady.add(600.0)
    assert varied.shift(0) == 0.0  # an idle window calls the first now either way
    # eight windows free together call together in the schedule of means; drawn, the
    # first of a round comes minutes sooner, the last a little later: on average sooner
    for start in (8, 16, 24):
        assert statistics.fmean(varied.shift(k) for k in range(start, start + 8)) < -120
        assert abs(statistics.fmean(steady.shift(k) for k in range(start, start + 8))) < 30
    assert varied.shift(1000) == pytest.approx(statistics.fmean(varied.shifts[-8:]))


def test_the_renewal_shift_is_what_drawing_futures_at_random_gives() -> None:
    """Busy windows at several elapsed times and idle ones, a line of citizens of
    different expected times: the run of means plus the shift is, call by call, the
    mean of many futures drawn at random from the same lognormal times."""
    busy = [(600.0, 0.0), (600.0, 200.0), (900.0, 500.0), (400.0, 900.0)]
    cv2 = 0.5
    upcoming = [300.0, 900.0, 600.0, 600.0, 450.0, 1200.0, 300.0, 600.0] * 3
    renewal = estimate.Renewal(busy, 2, cv2)
    for seconds in upcoming:
        renewal.add(seconds)
    plain = _greedy([*estimate.free_times(busy, cv2), 0.0, 0.0], upcoming,
                    [1.0] * len(upcoming))
    rng = random.Random(5)
    sigma = math.sqrt(math.log1p(cv2))
    totals = [0.0] * (len(upcoming) + 1)
    draws = 4000
    for _ in range(draws):
        free = [0.0, 0.0]
        for expected, elapsed in busy:
            while True:  # a visit that has lasted `elapsed` already
                took = expected * math.exp(sigma * rng.gauss(0, 1) - sigma * sigma / 2)
                if took > elapsed:
                    free.append(took - elapsed)
                    break
        factors = [math.exp(sigma * rng.gauss(0, 1) - sigma * sigma / 2) for _ in upcoming]
        for k, at in enumerate(_greedy(free, upcoming, factors)):
            totals[k] += at / draws
    for k, mean in enumerate(totals):
        assert plain[k] + renewal.shift(k) == pytest.approx(mean, abs=45), k
    assert min(renewal.shifts) < -60  # and it is not nothing


def test_the_renewal_shift_is_the_same_every_time_and_added_citizens_keep_it() -> None:
    busy = [(600.0, 100.0), (300.0, 0.0), (900.0, 1200.0)]
    whole = estimate.Renewal(busy, 1, 0.7)
    part = estimate.Renewal(busy, 1, 0.7)
    for seconds in (600.0, 300.0, 900.0, 600.0, 600.0):
        whole.add(seconds)
    for seconds in (600.0, 300.0):
        part.add(seconds)
    before = list(part.shifts)
    for seconds in (900.0, 600.0, 600.0):
        part.add(seconds)
    assert part.shifts == whole.shifts
    assert part.shifts[:3] == before
    assert whole.shift(0) == pytest.approx(0.0, abs=1e-6)  # the first end: free_times'


def test_a_visit_for_several_matters_varies_less_than_one_for_a_single_matter() -> None:
    """Each matter's time varies on its own; three served together vary less, in
    proportion, than one: the fit keeps a spread per number of matters."""
    rng = random.Random(2)
    codes = ["A", "B", "C", "D"]
    visits = []
    for _ in range(400):
        k = rng.choice([1, 1, 2, 3])
        chosen = rng.sample(codes, k)
        minutes = sum(rng.lognormvariate(math.log(10) - 0.35, math.sqrt(0.69)) for _ in chosen)
        visits.append(estimate.Visit(frozenset(chosen), minutes))
    times = estimate.fit(visits, dict.fromkeys(codes, 10.0))
    one, two, three = times.spreads
    assert one > two > three
    assert one > times.cv2 > three
    assert times.cv2_of(1) == one and times.cv2_of(5) == three
    assert estimate.fit([], {"A": 10.0}).cv2_of(2) == pytest.approx(0.36)


def test_a_busy_window_serving_one_uncertain_matter_may_be_free_sooner() -> None:
    """Two windows twenty minutes into a visit expected to take twenty: the one whose
    visit varies more is more likely one of the long ones, so it has longer to go on
    average, yet its first-to-finish draws are shorter."""
    free = estimate.free_times([(1200.0, 1200.0), (1200.0, 1200.0)], [1.0, 0.1])
    assert free[0] > free[1]
    assert estimate.remaining(1200, 1200, 1.0) > estimate.remaining(1200, 1200, 0.1)
