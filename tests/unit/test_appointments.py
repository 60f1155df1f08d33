"""Importing the booking system's export: every bad line named, nothing half-imported."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from queue_server.appointments import ExportError, decode_export, mask_name, parse_export

SH = zoneinfo.ZoneInfo("Asia/Shanghai")
MATTERS = {"RS01": "RS01", "YB02": "YB02", "社保卡申领补换": "RS01", "医疗费用报销": "YB02"}
GOOD = """code,name,phone,matters,date,slot
YY20261126001,张*明,138****1234,社保卡申领补换;医疗费用报销,2026-11-26,09:00-09:30
YY20261126002,李四,13912345678,RS01,2026/11/26,10:00-10:30
"""


def test_a_clean_export_gives_bookings_with_masked_names_and_utc_slots() -> None:
    first, second = parse_export(GOOD, MATTERS, SH)
    assert first.code == "YY20261126001" and first.services == ("RS01", "YB02")
    assert first.phone_tail == "1234" and first.name_masked == "张*明"
    assert first.slot_start == dt.datetime(2026, 11, 26, 1, 0, tzinfo=dt.UTC)
    assert first.slot_end - first.slot_start == dt.timedelta(minutes=30)
    assert second.name_masked == "李*"  # the export forgot to mask; we never store it
    assert second.phone_tail == "5678"


def test_chinese_headers_and_gb18030_excel_files_are_read() -> None:
    text = ("预约码,姓名,手机尾号,办理事项,预约日期,预约时段\n"
            "AB12-34,王*,5678,医疗费用报销,2026年11月26日,14:00~14:30\n")
    (booking,) = parse_export(decode_export(text.encode("gb18030")), MATTERS, SH)
    assert booking.services == ("YB02",) and booking.day == dt.date(2026, 11, 26)
    (again,) = parse_export(decode_export(b"\xef\xbb\xbf" + text.encode()), MATTERS, SH)
    assert again == booking


def test_every_bad_line_is_reported_with_its_number() -> None:
    text = GOOD + (
        "bad code!,赵*,1234,RS01,2026-11-26,09:00-09:30\n"          # line 4
        "YY3,钱*,12,RS01,2026-11-26,09:00-09:30\n"                  # line 5: code + phone
        "YY20261126004,孙*,1234,户口迁移,2026-11-26,09:00-09:30\n"   # line 6: unknown matter
        "YY20261126005,周*,1234,RS01,2026-13-40,09:00-09:30\n"       # line 7: date
        "YY20261126006,吴*,1234,RS01,2026-11-26,10:30-10:00\n"       # line 8: slot backwards
        "YY20261126001,郑*,1234,RS01,2026-11-26,11:00-11:30\n"       # line 9: duplicate
        "\n")
    with pytest.raises(ExportError) as err:
        parse_export(text, MATTERS, SH)
    lines = sorted({e.line for e in err.value.errors})
    assert lines == [4, 5, 6, 7, 8, 9]
    assert any("户口迁移" in e.message for e in err.value.errors)
    assert "第 9 行 / line 9" in str(err.value)


def test_missing_columns_are_refused_at_the_header() -> None:
    with pytest.raises(ExportError) as err:
        parse_export("code,name\nA1234,张*\n", MATTERS, SH)
    assert err.value.errors[0].line == 1 and "phone" in err.value.errors[0].message


def test_names_are_masked_whatever_their_length() -> None:
    assert [mask_name(n) for n in ("张三", "王小明", "欧阳娜娜", "李*", "A")] == [
        "张*", "王*明", "欧**娜", "李*", "A"]
