"""The caller's screen and its valid buttons follow the mirrored hall state alone."""

from __future__ import annotations

import datetime as dt

from counter_client import caller_state as cs
from queue_common import i18n
from queue_common.durations import clock_text, minutes_text
from queue_common.mirror import Mirror
from tests.support.hall_snapshots import counter, snapshot, ticket


def test_idle_window_with_people_waiting_may_call_and_pause() -> None:
    snap = snapshot([counter(3)], [ticket(1, "A001", ["RS01"])])
    view = cs.caller_view(snap, 3, online=True, queue=[1])
    assert view.counter_state == "idle" and view.current is None
    assert view.enabled == {cs.CALL_NEXT, cs.CALL, cs.PAUSE, cs.PAUSE_TOGGLE, cs.CLOSE_COUNTER}


def test_nobody_waiting_leaves_call_next_disabled() -> None:
    view = cs.caller_view(snapshot([counter(3)], []), 3, online=True)
    assert cs.CALL_NEXT not in view.enabled and cs.PAUSE in view.enabled


def test_nobody_for_this_window_leaves_call_next_disabled_whoever_waits() -> None:
    # Citizens wait, but the server lists none for window 3 (other matters, transfers).
    snap = snapshot([counter(3)], [ticket(1, "A001", ["ZJ03"])])
    view = cs.caller_view(snap, 3, online=True, queue=[])
    assert view.waiting_total == 0 and cs.CALL_NEXT not in view.enabled


def test_calling_allows_recall_start_no_show_transfer_only() -> None:
    snap = snapshot([counter(3, "calling", ticket_id=1)],
                    [ticket(1, "A001", ["RS01"], state="called", counter=3,
                            called_at="2026-11-26T09:10:00+08:00")])
    view = cs.caller_view(snap, 3, online=True)
    assert view.current is not None and view.current.number == "A001"
    assert view.enabled == {cs.RECALL, cs.START, cs.NO_SHOW, cs.TRANSFER}


def test_serving_allows_complete_transfer_park() -> None:
    snap = snapshot([counter(3, "serving", ticket_id=1)],
                    [ticket(1, "A001", ["RS01"], state="serving", counter=3)])
    view = cs.caller_view(snap, 3, online=True)
    assert view.enabled == {cs.COMPLETE, cs.TRANSFER, cs.PARK, cs.PARK_TOGGLE}


def test_paused_window_can_only_resume() -> None:
    snap = snapshot([counter(3, "paused", pause_reason="lunch")], [ticket(1, "A001", ["RS01"])])
    view = cs.caller_view(snap, 3, online=True)
    assert view.enabled == {cs.RESUME, cs.PAUSE_TOGGLE, cs.CLOSE_COUNTER}
    assert view.pause_reason == "lunch"


def test_closed_window_can_only_be_opened() -> None:
    snap = snapshot([counter(3, "closed")], [ticket(1, "A001", ["RS01"])])
    assert cs.caller_view(snap, 3, online=True).enabled == {cs.OPEN_COUNTER}


def test_offline_disables_every_action() -> None:
    snap = snapshot([counter(3)], [ticket(1, "A001", ["RS01"])])
    assert cs.caller_view(snap, 3, online=False).enabled == frozenset()


def test_the_list_and_its_count_are_the_servers_in_the_servers_order() -> None:
    snap = snapshot([counter(3, services=["RS01", "YB02"]), counter(5, services=["ZJ03"])], [
        ticket(1, "A001", ["RS01"], issued_at="2026-11-26T09:02:00+08:00"),
        ticket(2, "B001", ["YB02", "ZJ03"], issued_at="2026-11-26T09:01:00+08:00"),
        ticket(3, "C001", ["ZJ03"]),
        ticket(4, "A002", ["RS01"], transfer_to_counter=5),  # sent to another window
        ticket(5, "C002", ["ZJ03"], transfer_to_counter=3),  # sent here explicitly
        ticket(6, "A003", ["RS01"], kind="priority", priority_class="elderly",
               issued_at="2026-11-26T09:20:00+08:00"),
    ])
    # What the server answered to window_queue: not issue order (credit, transfer).
    view = cs.caller_view(snap, 3, online=True, queue=[5, 6, 2, 1])
    assert [t.number for t in view.waiting] == ["C002", "A003", "B001", "A001"]
    assert view.waiting_total == 4
    # Per matter: the hall's own counts (waiting.by_service), as the board shows them.
    assert view.waiting_by_service == (("RS01", "社保卡申领", 3), ("YB02", "医保登记", 1))


def test_a_listed_ticket_the_mirror_saw_called_meanwhile_is_left_out() -> None:
    snap = snapshot([counter(3), counter(4, "calling", ticket_id=1)], [
        ticket(1, "A001", ["RS01"], state="called", counter=4),  # window 4 was quicker
        ticket(2, "A002", ["RS01"])])
    view = cs.caller_view(snap, 3, online=True, queue=[1, 2, 99])  # 99: not mirrored yet
    assert [t.number for t in view.waiting] == ["A002"]


def test_parked_list_holds_only_this_windows_parked_tickets() -> None:
    snap = snapshot([counter(3), counter(4)], [
        ticket(1, "A001", ["RS01"], state="parked", counter=3),
        ticket(2, "A002", ["RS01"], state="parked", counter=4),
    ])
    view = cs.caller_view(snap, 3, online=True)
    assert [t.number for t in view.parked] == ["A001"]
    assert {cs.UNPARK, cs.PARK_TOGGLE} <= view.enabled


def test_mirror_keyed_by_number_and_id_reads_like_a_snapshot() -> None:
    snap = snapshot([counter(3, "serving", ticket_id=7)],
                    [ticket(7, "A007", ["RS01", "YB02"], state="serving", counter=3,
                            item_states={"YB02": "done"})])
    mirror = Mirror()
    mirror.load(snap)
    view = cs.caller_view(mirror.state, 3, online=True)
    assert view.current is not None
    assert view.current.pending_services == ("RS01",)
    assert [i.state for i in view.current.items] == ["pending", "done"]


def test_waited_time_stops_at_the_call() -> None:
    t = cs.TicketView(1, "A001", "normal", None, "called",
                      cs.parse_time("2026-11-26T09:00:00+08:00"),
                      cs.parse_time("2026-11-26T09:12:30+08:00"), 0, 0, None, ())
    later = dt.datetime(2026, 11, 26, 5, 0, tzinfo=dt.UTC)
    assert t.waited_seconds(later) == 750
    assert clock_text(750) == "12:30"
    assert clock_text(4000) == "1:06:40"


def test_broken_ticket_rows_are_skipped_not_fatal() -> None:
    snap = snapshot([counter(3)], [ticket(1, "A001", ["RS01"])])
    snap["tickets"].append({"number": "X"})  # no id
    snap["tickets"].append({"id": 9, "number": "A009", "issued_at": "not a time",
                            "state": "waiting", "items": [{"service": "RS01"}]})
    view = cs.caller_view(snap, 3, online=True, queue=[9, 1])
    assert [t.number for t in view.waiting] == ["A009", "A001"]


def test_transfer_targets_are_open_windows_taking_the_matter() -> None:
    snap = snapshot([counter(3), counter(4, "closed"), counter(5, services=["ZJ03"]),
                     counter(6, "paused", services=["ZJ03", "RS01"])], [])
    assert [c["number"] for c in cs.open_counters_for(snap, "ZJ03", exclude=3)] == [5, 6]
    assert [c["number"] for c in cs.open_counters_for(snap, None, exclude=3)] == [5, 6]


def test_ticket_cache_reparses_only_what_the_mirror_replaced() -> None:
    snap = snapshot([counter(3)], [ticket(i, f"A{i:03d}", ["RS01"]) for i in range(1, 4)])
    mirror = Mirror()
    mirror.load(snap)
    cache = cs.TicketCache()
    first = cs.caller_view(mirror.state, 3, online=True, queue=[1, 2, 3], cache=cache)
    mirror.apply(11, "ticket.called", {
        "tickets": [ticket(2, "A002", ["RS01"], state="called", counter=3)],
        "counters": [counter(3, "calling", ticket_id=2)]})
    second = cs.caller_view(mirror.state, 3, online=True, queue=[1, 3], cache=cache)
    assert second.current is not None and second.current.number == "A002"
    assert [t.number for t in second.waiting] == ["A001", "A003"]
    assert second.waiting[0] is first.waiting[0]  # unchanged ticket: not parsed again


def test_the_matters_in_service_here_are_those_the_server_says_are_at_this_window() -> None:
    # Window 3 takes RS01 and YB02, yet the server says only YB02 was called here (RS01
    # was left for another window): the caller believes the server, not the matter list.
    snap = snapshot([counter(3, "serving", ticket_id=7)],
                    [ticket(7, "A007", ["RS01", "YB02", "ZJ03"], state="serving", counter=3,
                            item_counters={"RS01": None, "YB02": 3, "ZJ03": None})])
    view = cs.caller_view(snap, 3, online=True)
    assert view.current is not None
    assert [(i.service, i.here) for i in view.current.items] == [
        ("RS01", False), ("YB02", True), ("ZJ03", False)]


def test_a_ticket_transferred_here_has_every_matter_here_when_the_server_says_so() -> None:
    # ZJ03 is not one of window 3's matters; a transfer to window 3 made it called here.
    snap = snapshot([counter(3, "calling", ticket_id=8)],
                    [ticket(8, "C008", ["ZJ03"], state="called", counter=3)])
    view = cs.caller_view(snap, 3, online=True)
    assert view.current is not None
    assert [(i.service, i.here) for i in view.current.items] == [("ZJ03", True)]


def test_a_wait_of_hours_in_the_list_reads_as_hours_not_thousands_of_minutes() -> None:
    try:
        i18n.set_language("zh")
        assert minutes_text(754) == "12 分"
        assert minutes_text(3599) == "59 分"
        assert minutes_text(3600) == "1 小时 00 分"
        assert minutes_text(642_960) == "178 小时 36 分"
        assert minutes_text(None) == "-"
        i18n.set_language("en")
        assert minutes_text(7500) == "2 h 05 min"
    finally:
        i18n.set_language("zh")
