"""Who is called next (queue_server.domain.policy): pure rules, plain values."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from queue_server.domain import policy
from queue_server.domain.policy import Credits, Waiting

T0 = dt.datetime(2026, 11, 26, 1, 0, tzinfo=dt.UTC)
CREDITS = Credits(priority={"elderly": 30.0, "military": 30.0}, appointment=15.0)


def w(tid: int, minute: float, *services: str, kind: str = "normal",
      cls: str | None = None, transfer_to: int | None = None) -> Waiting:
    return Waiting(ticket_id=tid, queued_at=T0 + dt.timedelta(minutes=minute),
                   credit=CREDITS.for_ticket(kind, cls), services=frozenset(services or {"RS01"}),
                   transfer_to=transfer_to)


def test_first_come_first_served_among_equals() -> None:
    queue = [w(2, 5), w(1, 0), w(3, 9)]
    assert policy.next_ticket(queue, 1, {"RS01"}).ticket_id == 1


def test_a_window_only_calls_tickets_with_a_matter_it_takes() -> None:
    queue = [w(1, 0, "CL01"), w(2, 5, "RS01")]
    assert policy.next_ticket(queue, 1, {"RS01"}).ticket_id == 2
    assert policy.next_ticket(queue, 4, {"YB01"}) is None


def test_a_multi_matter_ticket_is_callable_by_any_window_taking_one() -> None:
    queue = [w(1, 0, "RS01", "CL01")]
    assert policy.next_ticket(queue, 4, {"CL01"}).ticket_id == 1


def test_transferred_to_this_window_comes_first_and_only_here() -> None:
    queue = [w(1, 0), w(2, 20, transfer_to=3)]
    assert policy.next_ticket(queue, 3, {"RS01"}).ticket_id == 2
    assert policy.next_ticket(queue, 1, {"RS01"}).ticket_id == 1
    assert policy.next_ticket([w(2, 20, transfer_to=3)], 1, {"RS01"}) is None


def test_without_transfer_first_a_transferred_ticket_keeps_its_arrival() -> None:
    queue = [w(1, 0), w(2, 20, transfer_to=3)]
    assert policy.next_ticket(queue, 3, {"RS01"}, transfer_first=False).ticket_id == 1


def test_priority_credit_moves_a_ticket_ahead_by_its_minutes() -> None:
    queue = [w(1, 0), w(2, 29, kind="priority", cls="elderly")]
    assert policy.next_ticket(queue, 1, {"RS01"}).ticket_id == 2
    queue = [w(1, 0), w(2, 31, kind="priority", cls="elderly")]
    assert policy.next_ticket(queue, 1, {"RS01"}).ticket_id == 1


def test_appointment_credit() -> None:
    queue = [w(1, 0), w(2, 10, kind="appointment")]
    assert policy.next_ticket(queue, 1, {"RS01"}).ticket_id == 2
    assert CREDITS.largest == dt.timedelta(minutes=30)


def test_unknown_priority_class_gets_no_credit() -> None:
    assert CREDITS.for_ticket("priority", "vip") == dt.timedelta(0)


def test_requeue_after_n_lands_behind_the_nth_competitor() -> None:
    late = w(1, 0)
    rivals = [w(2, 1), w(3, 2), w(4, 3)]
    now = T0 + dt.timedelta(minutes=10)
    at = policy.requeue_at(late, rivals, 2, now)
    moved = Waiting(1, at, late.credit, late.services)
    assert [x.ticket_id for x in policy.order([moved, *rivals])] == [2, 3, 1, 4]
    assert policy.requeue_at(late, rivals[:1], 2, now) == now  # fewer: at the back
    first = policy.requeue_at(late, rivals, 0, now)
    assert policy.order([Waiting(1, first, late.credit, late.services), *rivals])[0].ticket_id == 1


def test_people_ahead_counts_those_my_windows_call_first() -> None:
    me = w(9, 10, "RS01")
    queue = [w(1, 0, "RS01"), w(2, 1, "YB01"), w(3, 2, "CL01"), w(4, 20, "RS01"),
             w(5, 3, transfer_to=2), me]
    assert policy.ahead_of(me, queue, frozenset({"RS01", "YB01"})) == 2
    assert policy.ahead_of(me, queue, frozenset({"RS01", "YB01", "CL01"})) == 3
    moved = w(6, 5, transfer_to=2)
    assert policy.ahead_of(moved, [*queue, moved], frozenset()) == 1


minutes = st.integers(0, 300)
classes = st.sampled_from([None, "elderly", "military"])


@given(st.lists(st.tuples(minutes, classes), min_size=1, max_size=40))
def test_an_ordinary_citizen_waits_at_most_the_largest_credit_longer(
        arrivals: list[tuple[int, str | None]]) -> None:
    """The starvation bound (docs/policy.md): nobody who came more than C minutes after an
    ordinary citizen is called before them, whatever the mix of priority tickets."""
    queue = [w(i, m, kind="priority" if c else "normal", cls=c)
             for i, (m, c) in enumerate(arrivals)]
    called: list[Waiting] = []
    rest = list(queue)
    while rest:
        nxt = policy.next_ticket(rest, 1, {"RS01"})
        assert nxt is not None
        called.append(nxt)
        rest.remove(nxt)
    bound = CREDITS.largest
    for i, a in enumerate(called):
        if a.credit:
            continue
        for b in called[:i]:
            assert b.queued_at <= a.queued_at + bound, (a, b)


@given(st.lists(st.tuples(minutes, classes), max_size=30), st.integers(1, 5))
def test_next_ticket_is_the_head_of_the_order_among_eligible(
        arrivals: list[tuple[int, str | None]], number: int) -> None:
    queue = [w(i, m, kind="priority" if c else "normal", cls=c,
               transfer_to=(i % 7 if i % 5 == 0 else None))
             for i, (m, c) in enumerate(arrivals)]
    got = policy.next_ticket(queue, number, {"RS01"})
    mine = [x for x in policy.order(queue) if x.transfer_to == number]
    general = [x for x in policy.order(queue) if x.transfer_to is None]
    want = (mine or general or [None])[0]
    assert got == want


matters = st.sets(st.sampled_from(["RS01", "YB01", "CL01"]), min_size=1)


@given(st.lists(st.tuples(minutes, classes, matters, st.sampled_from([None, None, 1, 2])),
                max_size=30),
       st.integers(1, 2), matters, st.booleans())
def test_a_windows_call_order_is_next_ticket_again_and_again(
        arrivals: list[tuple[int, str | None, set[str], int | None]], number: int,
        takes: set[str], transfer_first: bool) -> None:
    """The list a window is shown (call_order) is what pressing 呼叫 calls, one press
    after the other: each head is next_ticket's pick of what is still waiting."""
    queue = [w(i, m, *sorted(s), kind="priority" if c else "normal", cls=c, transfer_to=to)
             for i, (m, c, s, to) in enumerate(arrivals)]
    listed = policy.call_order(queue, number, takes, transfer_first=transfer_first)
    rest = list(queue)
    pressed = []
    while (nxt := policy.next_ticket(rest, number, takes,
                                     transfer_first=transfer_first)) is not None:
        pressed.append(nxt)
        rest.remove(nxt)
    assert listed == pressed


kinds = st.sampled_from([("normal", None), ("priority", "elderly"), ("priority", "military"),
                         ("appointment", None)])
matters = st.frozensets(st.sampled_from(["RS01", "YB01", "CL01"]), min_size=1)


@given(me=st.tuples(kinds, matters), rivals=st.lists(st.tuples(minutes, kinds, matters),
                                                     max_size=12),
       after=st.integers(1, 5), missed_at=st.integers(0, 400), credits=st.tuples(
           st.integers(0, 120), st.integers(0, 120)))
def test_a_missed_call_is_requeued_behind_n_citizens_whatever_its_class(
        me: tuple[tuple[str, str | None], frozenset[str]],
        rivals: list[tuple[int, tuple[str, str | None], frozenset[str]]],
        after: int, missed_at: int, credits: tuple[int, int]) -> None:
    """过号 "将在 N 人之后重新排队": at least `after` of the waiting citizens who share a matter
    with the re-queued ticket (all of them if fewer wait) are called before it, whatever
    its class (a priority or appointment credit does not bring it back to the front)."""
    table = Credits(priority={"elderly": float(credits[0]), "military": 30.0},
                    appointment=float(credits[1]))
    now = T0 + dt.timedelta(minutes=max([missed_at, *(m for m, _, _ in rivals)]))
    (kind, cls), mine = me
    late = Waiting(0, T0, table.for_ticket(kind, cls), mine)
    queue = [Waiting(i + 1, T0 + dt.timedelta(minutes=m), table.for_ticket(k, c), s)
             for i, (m, (k, c), s) in enumerate(rivals)]
    sharing = [x for x in queue if not x.services.isdisjoint(mine)]
    at = policy.requeue_at(late, sharing, after, now)
    back = Waiting(0, at, late.credit, mine)
    everyone = frozenset().union(mine, *(x.services for x in queue))
    order = [x.ticket_id for x in policy.call_order([back, *queue], 1, everyone)]
    called_first = {x.ticket_id for x in sharing} & set(order[:order.index(0)])
    assert len(called_first) >= min(after, len(sharing))
    if len(sharing) < after:  # fewer wait: behind all of them, and no earlier than a
        assert back.virtual_arrival >= now - late.credit  # newcomer of its class


def test_an_elderly_citizen_who_missed_the_call_does_not_come_back_first() -> None:
    late = w(1, 0, kind="priority", cls="elderly")  # 30 minutes of credit
    rivals = [w(2, 1), w(3, 2), w(4, 3)]
    at = policy.requeue_at(late, rivals, 2, T0 + dt.timedelta(minutes=5))
    moved = Waiting(1, at, late.credit, late.services)
    assert [x.ticket_id for x in policy.order([moved, *rivals])] == [2, 3, 1, 4]
