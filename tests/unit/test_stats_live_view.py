"""The supervisor's live view of a mirrored hall: waits so far, windows, alerts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from counter_client.supervisor.live_model import live_view
from queue_common.durations import clock_text

NOW = dt.datetime(2026, 11, 26, 10, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def at(minutes_ago: float) -> str:
    return (NOW - dt.timedelta(minutes=minutes_ago)).isoformat()


def ticket(tid: int, number: str, services: list[str], minutes_ago: float,
           state: str = "waiting") -> dict[str, Any]:
    return {"id": tid, "number": number, "kind": "normal", "state": state,
            "issued_at": at(minutes_ago),
            "items": [{"service": s, "state": "pending"} for s in services]}


def counter(number: int, state: str, services: list[str], **extra: Any) -> dict[str, Any]:
    return {"number": number, "name": f"{number}号窗口", "state": state, "services": services,
            "clerk": None, "ticket_id": None, "pause_reason": None, "since": at(1), **extra}


def hall(tickets: list[dict[str, Any]], counters: list[dict[str, Any]],
         alerts: dict[str, int] | None = None) -> dict[str, Any]:
    return {"hall": {"name": "测试中心", "settings": {"alerts": alerts or {
                "queue_length": 2, "wait_minutes": 30, "pause_minutes": 20}}},
            "services": [{"code": "RS01", "name": "社保卡申领"},
                         {"code": "YB01", "name": "医保登记"},
                         {"code": "MZ01", "name": "低保申请"}],
            "counters": {c["number"]: c for c in counters},
            "tickets": {t["id"]: t for t in tickets},
            "estimates": {"RS01": 900, "YB01": 300}}


def test_each_matter_shows_its_queue_its_longest_wait_and_the_estimate() -> None:
    state = hall([ticket(1, "A001", ["RS01"], 12), ticket(2, "B001", ["YB01", "RS01"], 5),
                  ticket(3, "A002", ["RS01"], 1, state="serving")],
                 [counter(1, "serving", ["RS01", "YB01"], ticket_id=3)])
    view = live_view(state, NOW)
    rows = {m.code: m for m in view.matters}
    assert (rows["RS01"].waiting, rows["RS01"].longest_s, rows["RS01"].estimate_s) == (
        2, 720, 900)
    assert (rows["YB01"].waiting, rows["YB01"].longest_s) == (1, 300)
    assert (rows["MZ01"].waiting, rows["MZ01"].longest_s, rows["MZ01"].windows) == (0, None, 0)
    assert view.waiting_total == 2 and [w.number for w in view.waiting] == ["A001", "B001"]
    assert view.windows[0].ticket == "A002" and view.windows[0].since_s == 60


def test_a_wait_over_the_threshold_raises_an_alert_for_that_matter() -> None:
    state = hall([ticket(1, "A001", ["RS01"], 31)], [counter(1, "idle", ["RS01"])])
    view = live_view(state, NOW)
    assert [(a.kind, a.subject) for a in view.alerts] == [("wait", "RS01")]
    assert view.alerts[0].params["minutes"] == 31
    assert live_view(state, NOW - dt.timedelta(minutes=2)).alerts == []


def test_too_many_waiting_per_open_window_is_an_alert_and_paused_windows_do_not_count() -> None:
    waiting = [ticket(i, f"A00{i}", ["RS01"], 1) for i in range(1, 6)]
    two_open = hall(waiting, [counter(1, "idle", ["RS01"]), counter(2, "serving", ["RS01"])])
    assert [a.kind for a in live_view(two_open, NOW).alerts] == ["queue"]  # 5 / 2 > 2
    three_open = hall(waiting, [counter(n, "idle", ["RS01"]) for n in (1, 2, 3)])
    assert live_view(three_open, NOW).alerts == []  # 5 / 3 = 1.7
    one_paused = hall(waiting, [counter(1, "idle", ["RS01"]), counter(2, "paused", ["RS01"]),
                                counter(3, "closed", ["RS01"])])
    assert live_view(one_paused, NOW).alerts[0].params["per"] == "5.0"


def test_a_matter_no_open_window_takes_is_an_alert() -> None:
    state = hall([ticket(1, "C001", ["MZ01"], 2)], [counter(1, "idle", ["RS01"])])
    assert [(a.kind, a.subject) for a in live_view(state, NOW).alerts] == [
        ("no_window", "MZ01")]


def test_a_window_paused_too_long_and_a_printer_error_are_alerts() -> None:
    state = hall([], [counter(3, "paused", ["RS01"], pause_reason="meeting", since=at(25))])
    devices = {"kiosk-1": {"name": "kiosk-1", "state": "error", "message": "缺纸"},
               "board-1": {"name": "board-1", "state": "ok", "message": ""}}
    view = live_view(state, NOW, devices)
    assert [(a.kind, a.subject) for a in view.alerts] == [("pause", "3"), ("device", "kiosk-1")]
    assert view.windows[0].alert and view.alerts[1].params["message"] == "缺纸"
    assert view.windows[0].since_at == "09:35"  # paused since, on the hall's clock


def test_thresholds_default_when_the_hall_sends_none() -> None:
    state = hall([ticket(1, "A001", ["RS01"], 29)], [counter(1, "idle", ["RS01"])])
    state["hall"] = {"name": "x"}
    assert live_view(state, NOW).alerts == []  # 29 min < default 30


def test_durations_read_as_minutes_and_hours() -> None:
    assert (clock_text(65), clock_text(3725), clock_text(None, "")) == ("1:05", "1:02:05", "")


def test_a_matter_whose_only_window_is_on_a_short_pause_raises_no_alert_yet() -> None:
    state = hall([ticket(1, "C001", ["MZ01"], 2)],
                 [counter(1, "paused", ["MZ01"], pause_reason="lunch", since=at(5))])
    assert live_view(state, NOW).alerts == []


def test_a_silent_board_is_an_alert_and_a_board_speaking_from_the_engine_a_warning() -> None:
    """The board reports error when calls are not heard, warning when heard otherwise."""
    devices = {"board-1": {"name": "board-1", "state": "error",
                           "message": "音频播放失败，叫号无声 / audio playback failed"},
               "board-2": {"name": "board-2", "state": "warning",
                           "message": "语音包缺少片段 / the voice pack lacks clips"},
               "board-3": {"name": "board-3", "state": "ok", "message": "静音 / muted"}}
    view = live_view(hall([], []), NOW, devices)
    assert [(a.kind, a.subject) for a in view.alerts] == [
        ("device", "board-1"), ("device_warning", "board-2")]


def test_a_citizen_kept_from_yesterday_has_waited_since_this_morning_s_opening() -> None:
    """The server says when a kept ticket's wait began (this morning's opening, not its
    issue yesterday): the live tab counts from there."""
    kept = {**ticket(1, "A041", ["RS01"], 18 * 60), "carried_to": "2026-11-26",
            "waiting_since": at(15)}
    state = hall([kept], [counter(1, "idle", ["RS01"])])
    view = live_view(state, NOW)
    assert view.waiting[0].waited_s == 15 * 60 and view.waiting[0].kept
    assert view.alerts == []  # no long-wait alarm for last night's hours
    kept["waiting_since"] = at(45)
    assert [a.kind for a in live_view(state, NOW).alerts] == ["wait"]  # 45 min since
