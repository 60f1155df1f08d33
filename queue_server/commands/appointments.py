"""`queue-server appointments import FILE | list [--day D]`: the booking system's export.

Import reads the CSV export (code, masked name, phone tail, matters, date, time slot,
optionally the 身份证 number: kept only as the hall's keyed hash), reports every bad
line, and stores all of it in one transaction or nothing at all.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from queue_common import identity, paths
from queue_server.appointments import ExportError, decode_export, parse_export
from queue_server.config import ConfigError, HallConfig, load_config
from queue_server.store import db
from queue_server.store.appointment_rows import list_appointments, store_bookings


def register(sub: Any) -> None:
    p = sub.add_parser("appointments", help="import / list bookings (预约)")
    p.add_argument("--data", help="data dir (default: $QUEUE_DATA or the platform's)")
    act = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = act.add_parser("import", help="import the booking system's CSV export")
    imp.add_argument("file", type=Path)
    imp.add_argument("--data", help=argparse.SUPPRESS, dest="data_sub")
    lst = act.add_parser("list", help="list the bookings of a day (default: today)")
    lst.add_argument("--day", type=dt.date.fromisoformat, help="YYYY-MM-DD")
    lst.add_argument("--data", help=argparse.SUPPRESS, dest="data_sub")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    data = paths.data_dir(getattr(args, "data_sub", None) or args.data)
    try:
        cfg = load_config(paths.config_file(data))
    except ConfigError as exc:
        print(f"queue-server appointments: {exc}", file=sys.stderr)
        return 1
    if args.action == "import":
        return _import(cfg, args.file)
    return _list(cfg, args.day)


def _engine(cfg: HallConfig) -> Any:
    engine = db.make_engine(cfg.database_url(), synchronous=cfg.database.synchronous)
    db.upgrade_to_head(engine)
    return engine


def _import(cfg: HallConfig, file: Path) -> int:
    try:
        text = decode_export(file.read_bytes())
    except OSError as exc:
        print(f"无法读取 / cannot read {file}: {exc}", file=sys.stderr)
        return 1
    matters = {s.code: s.code for s in cfg.services}
    matters.update({s.code.upper(): s.code for s in cfg.services})
    matters.update({s.name: s.code for s in cfg.services})
    try:
        bookings = parse_export(text, matters, cfg.tz, max_services=cfg.kiosk.max_services,
                                id_key=identity.load_key(cfg.data_dir))
    except ExportError as exc:
        for err in exc.errors:
            print(f"{file}: {err}", file=sys.stderr)
        print(f"未导入任何预约 / nothing imported ({len(exc.errors)} error(s))",
              file=sys.stderr)
        return 1
    engine = _engine(cfg)
    try:
        with engine.connect() as conn:
            counts, conflicts = store_bookings(conn, bookings)
            if conflicts:
                conn.rollback()
                for err in conflicts:
                    print(f"{file}: {err}", file=sys.stderr)
                print("未导入任何预约 / nothing imported", file=sys.stderr)
                return 1
            conn.commit()
    finally:
        engine.dispose()
    print(f"已导入 / imported: {counts.added} 新增 added, {counts.updated} 更新 updated, "
          f"{counts.unchanged} 未变 unchanged")
    return 0


def _list(cfg: HallConfig, day: dt.date | None) -> int:
    day = day or dt.datetime.now(cfg.tz).date()
    names = {s.code: s.name for s in cfg.services}
    engine = _engine(cfg)
    try:
        with engine.connect() as conn:
            rows = list_appointments(conn, day)
    finally:
        engine.dispose()
    print(f"{day} 预约 / appointments: {len(rows)}")
    for r in rows:
        start = r.slot_start.astimezone(cfg.tz).strftime("%H:%M")
        end = r.slot_end.astimezone(cfg.tz).strftime("%H:%M")
        state = f"已签到 {r.ticket_number or ''}".strip() if r.checked_in_at else "未签到"
        matters = "、".join(names.get(c, c) for c in r.services)
        print(f"{r.code:<14} {start}-{end}  {r.name_masked:<6} 尾号{r.phone_tail}  "
              f"{state:<10} {matters}")
    return 0
