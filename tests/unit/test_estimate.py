"""How long until called (queue_server.domain.estimate): the queue run forward."""

from __future__ import annotations

import datetime as dt
import heapq

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
