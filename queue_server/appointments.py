"""Reading the booking system's export (预约导出) into bookings the hall can check in.

The city's booking system exports a CSV per day: booking code, the citizen's name
(already masked, e.g. 张*明), the phone's last four digits, the matters, the date and
the time slot. Halls open it in Excel and save it again, so both UTF-8 (with or without
BOM) and GB18030 are read, and headers may be English or Chinese.

Pure: no database, no clock. Every problem is reported with its line number and the
whole file is refused when any line is wrong (``parse_export``), so a half-imported
day can never happen. Names are stored masked even when the export forgot to mask them.

An export may carry the citizen's 身份证 number (so the citizen can check in with the
card): it is checked and kept only as the hall's keyed hash (queue_common.identity);
the number itself is never stored and never repeated in an error message.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass

from queue_common.identity import InvalidIdNumber, id_hash, parse_id_number

CODE_RE = re.compile(r"^[A-Za-z0-9-]{4,32}$")
SLOT_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-~–—至到]\s*(\d{1,2}):(\d{2})\s*$")
MATTER_SEP = re.compile(r"[;；、,，|/]+")

# Accepted header names (lower-cased) -> field.
HEADERS: dict[str, str] = {
    "code": "code", "预约码": "code", "预约号": "code", "booking code": "code",
    "name": "name", "姓名": "name", "name_masked": "name",
    "phone": "phone", "phone_tail": "phone", "手机尾号": "phone", "手机号": "phone",
    "电话": "phone",
    "matters": "matters", "services": "matters", "事项": "matters", "办理事项": "matters",
    "date": "date", "日期": "date", "预约日期": "date",
    "slot": "slot", "time slot": "slot", "time_slot": "slot", "时段": "slot",
    "预约时段": "slot",
    "id_number": "id_number", "id": "id_number", "身份证号": "id_number",
    "身份证号码": "id_number", "证件号码": "id_number",
}
REQUIRED = ("code", "name", "phone", "matters", "date", "slot")


@dataclass(frozen=True)
class Booking:
    """One appointment as the hall stores it; slot times are aware (UTC)."""

    line: int
    code: str
    name_masked: str
    phone_tail: str
    services: tuple[str, ...]  # matter codes
    day: dt.date
    slot_start: dt.datetime
    slot_end: dt.datetime
    id_hash: str | None = None  # the booked citizen's card, as the hall's keyed hash


@dataclass(frozen=True)
class LineError:
    line: int
    message: str  # "中文 / English"

    def __str__(self) -> str:
        return f"第 {self.line} 行 / line {self.line}: {self.message}"


class ExportError(Exception):
    """The export was refused; ``errors`` lists every bad line."""

    def __init__(self, errors: list[LineError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


def decode_export(raw: bytes) -> str:
    """UTF-8 (BOM or not), else GB18030 (what Chinese Excel saves)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def mask_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧**娜; an already masked name stays as it is."""
    name = name.strip()
    if "*" in name or len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def _phone_tail(value: str) -> str | None:
    digits = re.sub(r"\D", "", value)
    return digits[-4:] if len(digits) >= 4 else None


def _date(value: str) -> dt.date | None:
    text = value.strip().replace("/", "-").replace(".", "-")
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text) or re.fullmatch(
        r"(\d{4})年(\d{1,2})月(\d{1,2})日", value.strip())
    if not m:
        return None
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def parse_export(text: str, matters: Mapping[str, str], tz: zoneinfo.ZoneInfo, *,
                 max_services: int = 5, id_key: bytes | None = None) -> list[Booking]:
    """All bookings of the export, or ExportError naming every bad line.

    matters maps both matter codes and matter names to codes (names as the booking
    system spells them: 社保卡申领). Line numbers count the header as line 1. An ID
    number column needs the hall's key (id_key) to be hashed with.
    """
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise ExportError([LineError(1, "文件为空或没有表头 / empty file or no header")])
    columns: dict[str, int] = {}
    for i, head in enumerate(rows[0]):
        field = HEADERS.get(head.strip().lower())
        if field and field not in columns:
            columns[field] = i
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        raise ExportError([LineError(1, f"缺少列 / missing columns: {', '.join(missing)}")])
    if "id_number" in columns and id_key is None:
        raise ExportError([LineError(1, "导出含身份证号，但本机没有 keys/id_hash.key（运行 "
                                        "queue-server init）/ the export has ID numbers but "
                                        "this data dir has no keys/id_hash.key")])
    bookings: list[Booking] = []
    errors: list[LineError] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # Excel leaves blank lines at the end
        booking = _parse_row(number, row, columns, matters, tz, max_services, errors, id_key)
        if booking is None:
            continue
        if booking.code in seen:
            errors.append(LineError(number, f"预约码 {booking.code} 与第 {seen[booking.code]} "
                                            f"行重复 / duplicate code (line {seen[booking.code]})"))
            continue
        seen[booking.code] = number
        bookings.append(booking)
    if errors:
        raise ExportError(errors)
    return bookings


BOOKING_FIELDS = ("code", "name", "phone", "matters", "date", "slot")


def parse_booking(fields: Mapping[str, str], matters: Mapping[str, str],
                  tz: zoneinfo.ZoneInfo, *, max_services: int = 5) -> Booking:
    """One booking sent by the booking system (op `booking_put`), checked by exactly the
    rules of an export line; ExportError (line 1) naming every problem otherwise."""
    errors: list[LineError] = []
    row = [fields.get(f, "") for f in BOOKING_FIELDS]
    columns = {f: i for i, f in enumerate(BOOKING_FIELDS)}
    booking = _parse_row(1, row, columns, matters, tz, max_services, errors)
    if booking is None:
        raise ExportError(errors)
    return booking


def _parse_row(number: int, row: list[str], columns: dict[str, int],
               matters: Mapping[str, str], tz: zoneinfo.ZoneInfo, max_services: int,
               errors: list[LineError], id_key: bytes | None = None) -> Booking | None:
    def cell(field: str) -> str:
        i = columns.get(field, len(row))
        return row[i].strip() if i < len(row) else ""

    before = len(errors)

    def bad(message: str) -> None:
        errors.append(LineError(number, message))

    code = cell("code")
    if not CODE_RE.match(code):
        bad(f"预约码无效 / bad booking code {code!r} (4-32 letters, digits or -)")
    name = mask_name(cell("name"))
    if not name:
        bad("姓名为空 / name is empty")
    phone = _phone_tail(cell("phone"))
    if phone is None:
        bad(f"手机尾号无效 / phone tail needs 4 digits, got {cell('phone')!r}")
    codes: list[str] = []
    for part in MATTER_SEP.split(cell("matters")):
        part = part.strip()
        if not part:
            continue
        code_of = matters.get(part) or matters.get(part.upper())
        if code_of is None:
            bad(f"未知事项 / unknown matter {part!r}")
        elif code_of in codes:
            bad(f"事项重复 / matter listed twice {part!r}")
        else:
            codes.append(code_of)
    if not codes and len(errors) == before:
        bad("没有事项 / no matters")
    if len(codes) > max_services:
        bad(f"事项过多 / more than {max_services} matters")
    day = _date(cell("date"))
    if day is None:
        bad(f"日期无效 / bad date {cell('date')!r} (YYYY-MM-DD)")
    slot = SLOT_RE.match(cell("slot"))
    start = end = None
    if slot is None:
        bad(f"时段无效 / bad time slot {cell('slot')!r} (HH:MM-HH:MM)")
    elif day is not None:
        try:
            start = dt.datetime.combine(day, dt.time(int(slot[1]), int(slot[2])), tz)
            end = dt.datetime.combine(day, dt.time(int(slot[3]), int(slot[4])), tz)
        except ValueError:
            bad(f"时段无效 / bad time slot {cell('slot')!r}")
        else:
            if end <= start:
                bad(f"时段结束早于开始 / slot ends before it starts {cell('slot')!r}")
    hashed = None
    if cell("id_number") and id_key is not None:
        try:
            card = parse_id_number(cell("id_number"))
        except InvalidIdNumber as exc:  # never echo the number
            bad(f"身份证号无效（{exc.reason}）/ invalid ID number ({exc.reason})")
        else:
            hashed = id_hash(id_key, card.number)
    if len(errors) != before or day is None or start is None or end is None or phone is None:
        return None
    return Booking(number, code, name, phone, tuple(codes), day,
                   start.astimezone(dt.UTC), end.astimezone(dt.UTC), hashed)
