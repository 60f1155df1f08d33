"""The kiosk's own logic without a screen: what is offered, chosen, sent and shown."""

from __future__ import annotations

import pytest

from queue_common import i18n
from tests.support.hall_snapshots import snapshot, ticket
from ticket_printer.session import (
    Choice,
    check_in_attempt,
    departments,
    issue_attempt,
    priority_classes,
    split_message,
    ticket_view,
)
from ticket_printer.ticket import text_lines

SETTINGS = {"kiosk": {"priority_classes": ["elderly", "military"], "max_services": 2},
            "priority_classes": {"elderly": {"name": "70岁以上老人", "name_en": "Aged 70+"},
                                 "military": {"name": "军人（依法优先）", "name_en": ""}},
            "no_show": {"mode": "void"}}


@pytest.fixture(autouse=True)
def _chinese() -> None:
    i18n.set_language("zh")


def _state() -> dict:  # type: ignore[type-arg]
    state = snapshot([], [ticket(1, "A001", ["RS01"]), ticket(2, "A002", ["RS01", "YB02"])],
                     settings=SETTINGS)
    state["departments"] = [{"code": "YB", "name": "医保"}, {"code": "RS", "name": "人社"}]
    return state


def test_departments_follow_config_order_and_carry_waiting_counts() -> None:
    depts = departments(_state())
    assert [d.code for d in depts] == ["YB", "RS", "ZJ"]  # ZJ: a matter whose dept is unnamed
    rs = depts[1]
    assert [m.code for m in rs.matters] == ["RS01"] and rs.waiting == 2
    assert depts[0].matters[0].waiting == 1


def test_choice_keeps_tap_order_toggles_and_stops_at_the_configured_maximum() -> None:
    yb, rs, zj = (m for d in departments(_state()) for m in d.matters)
    choice = Choice(max_services=2)
    assert choice.toggle(yb) and choice.toggle(rs)
    assert not choice.toggle(zj) and choice.full  # a third matter does not fit
    assert choice.toggle(yb)  # tapping a chosen matter removes it
    assert [m.code for m in choice.matters] == ["RS01"]


def test_issue_sends_codes_in_order_with_the_priority_class_and_a_fresh_id() -> None:
    yb, rs, _ = (m for d in departments(_state()) for m in d.matters)
    choice = Choice()
    choice.toggle(rs)
    choice.toggle(yb)
    first = issue_attempt(choice)
    assert first.op == "issue" and first.args == {"services": ["RS01", "YB02"]}
    choice.priority_class = "elderly"
    second = issue_attempt(choice)
    assert second.args["priority_class"] == "elderly"
    assert first.request_id != second.request_id
    assert check_in_attempt("  YY001 ").args == {"code": "YY001"}


def test_priority_classes_are_offered_as_configured_with_their_names() -> None:
    assert priority_classes(_state()) == [("elderly", "70岁以上老人"), ("military", "军人（依法优先）")]
    i18n.set_language("en")
    assert priority_classes(_state())[0] == ("elderly", "Aged 70+")
    assert priority_classes(_state())[1] == ("military", "军人（依法优先）")  # no English given


def test_ticket_view_is_built_from_the_confirmed_reply_only() -> None:
    reply = {"ticket": ticket(9, "B012", ["YB02", "RS01"], kind="priority",
                              priority_class="elderly", issued_at="2026-11-26T09:12:00+08:00"),
             "ahead": 4, "estimated_wait": 600, "status_url": None}
    view = ticket_view(reply, _state(), status_base="http://10.0.0.5:5580/")
    assert view.number == "B012" and view.services == ("医保登记", "社保卡申领")
    assert view.ahead == 4 and view.wait_seconds == 600
    assert view.priority_label == "70岁以上老人"
    assert view.status_url == "http://10.0.0.5:5580/t/tok9"
    assert view.issued_at.hour == 9 and "作废" in view.no_show_rule
    reply["status_url"] = "http://hall.example/t/abc"
    assert ticket_view(reply, _state(), status_base=None).status_url == "http://hall.example/t/abc"


def test_a_late_check_in_says_on_the_ticket_why_it_is_an_ordinary_number() -> None:
    booking = {"code": "YY0800", "slot_start": "08:00", "slot_end": "08:30",
               "slot": "08:00-08:30"}
    reply = {"ticket": ticket(5, "A005", ["RS01"]), "ahead": 2, "estimated_wait": 300,
             "late_appointment": booking}
    view = ticket_view(reply, _state(), status_base=None)
    assert view.appointment_slot is None and view.late_slot == "08:00-08:30"
    assert "已过预约时段 08:00-08:30，按普通号排队" in text_lines(view)
    on_time = ticket_view({**{k: v for k, v in reply.items() if k != "late_appointment"},
                           "appointment": booking}, _state(), status_base=None)
    assert on_time.late_slot is None
    assert "预约时段 08:00-08:30" in text_lines(on_time)


def test_server_messages_show_in_the_kiosk_language() -> None:
    message = "预约码无效、已使用或不是今天的 / booking code unknown, used or not for today"
    assert split_message(message) == "预约码无效、已使用或不是今天的"
    i18n.set_language("en")
    assert split_message(message) == "booking code unknown, used or not for today"
    assert split_message("plain") == "plain" and split_message(None) == ""


def test_closed_screen_only_while_the_server_said_closed_and_the_clock_agrees() -> None:
    import datetime as dt

    from queue_common.hall_time import issuing

    hall = {"open": False, "opening": "08:30", "closing": "16:30", "timezone": "Asia/Shanghai"}
    night = dt.datetime(2026, 11, 26, 22, 0, tzinfo=dt.UTC)      # 06:00 in Shanghai
    morning = dt.datetime(2026, 11, 27, 0, 31, tzinfo=dt.UTC)    # 08:31: the snapshot is stale
    evening = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)     # 17:00
    assert issuing(hall, night) == "not_yet"  # "08:30 开始取号", not "stopped for today"
    assert issuing(hall, morning) == "open"
    assert issuing(hall, evening) == "ended"
    assert issuing({**hall, "open": True}, night) == "open"
    assert issuing({**hall, "day_closed": True}, morning) == "ended"
    assert issuing({**hall, "opening": None, "closing": None}, morning) == "ended"


def test_the_demo_geometry_sizes_the_kiosk_to_its_window_not_the_screen() -> None:
    from types import SimpleNamespace

    from ticket_printer.app import build_parser, window_size

    screen = SimpleNamespace(winfo_screenwidth=lambda: 1920, winfo_screenheight=lambda: 1080)
    demo = build_parser().parse_args(["--geometry", "768x508+1152+520"])
    assert window_size(demo, screen) == (768, 508)  # type: ignore[arg-type]
    kiosk = build_parser().parse_args(["--fullscreen"])
    assert window_size(kiosk, screen) == (1920, 1080)  # type: ignore[arg-type]


def test_the_kiosk_clock_shows_the_hall_time_whatever_zone_the_pc_is_set_to() -> None:
    import datetime as dt

    from queue_common.hall_time import hall_clock

    utc_evening = dt.datetime(2026, 11, 26, 21, 45, tzinfo=dt.UTC)  # a PC left on UTC
    assert hall_clock({"timezone": "Asia/Shanghai"}, utc_evening) == "05:45"  # as the board
    assert hall_clock({"timezone": "Europe/London"}, utc_evening) == "21:45"
    # a zone this PC does not know: the PC's own, as the board does
    assert hall_clock({"timezone": "Nowhere/Else"}, utc_evening) == \
        utc_evening.astimezone().strftime("%H:%M")


def test_the_ticket_says_which_wifi_the_qr_code_needs_when_the_hall_names_one() -> None:
    from ticket_printer.ticket import text_lines

    reply = {"ticket": ticket(9, "A009", ["RS01"]), "ahead": 1, "estimated_wait": 60}
    plain = ticket_view(reply, _state(), status_base="http://10.0.0.5:5580")
    assert plain.wifi_name == "" and not any("Wi-Fi" in line for line in text_lines(plain))
    state = _state()
    state["hall"]["settings"]["status_page"] = {"wifi_name": "ZJ-Hall-Guest"}
    view = ticket_view(reply, state, status_base="http://10.0.0.5:5580")
    assert view.wifi_name == "ZJ-Hall-Guest"
    assert "请先连接大厅 Wi-Fi：ZJ-Hall-Guest" in text_lines(view)
