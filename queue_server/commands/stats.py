"""`queue-server stats --data DIR [--from D] [--to D] [--by DIM] [--format F] [--out FILE]`.

The supervisor's monthly report from the command line: the same figures as the
dashboard's statistics tab (both call queue_server.stats.compute). Dates are business
days in the hall's timezone and default to today; --from alone runs to today. Table,
CSV and JSON go to stdout unless --out is given; xlsx always goes to a file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from queue_common import i18n, paths
from queue_server import messages as _messages  # noqa: F401  (registers the texts)

FORMATS = ("table", "csv", "json", "xlsx")
DIMENSIONS = ("matter", "counter", "clerk", "hour")


def register(sub: Any) -> None:
    p = sub.add_parser("stats", help="statistics report / export (统计报表)")
    p.add_argument("--data", help="data dir (default: $QUEUE_DATA or the platform's)")
    p.add_argument("--from", dest="day_from", metavar="YYYY-MM-DD",
                   help="first business day (default: --to, or today)")
    p.add_argument("--to", dest="day_to", metavar="YYYY-MM-DD",
                   help="last business day (default: today)")
    p.add_argument("--by", choices=DIMENSIONS, action="append",
                   help="group by matter, counter (window), clerk or hour; repeatable "
                        "(default: all four)")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument("--lang", choices=i18n.LANGS, help="header language (default zh)")
    p.add_argument("--rebuild", action="store_true",
                   help="recompute cached figures of finished days from the stored rows")
    p.set_defaults(func=run)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(i18n.tr("report.bad_date", value=text)) from None


def resolve_range(day_from: str | None, day_to: str | None,
                  today: dt.date) -> tuple[dt.date, dt.date]:
    """--from/--to as dates: both default to today; --from alone runs to today."""
    end = _date(day_to) if day_to else today
    start = _date(day_from) if day_from else (end if day_to else today)
    if end < start:
        raise ValueError(i18n.tr("report.bad_range"))
    return start, end


def run(args: argparse.Namespace) -> int:
    from queue_common import report
    from queue_server import stats
    from queue_server.config import ConfigError, load_config
    from queue_server.store import db
    from queue_server.store import stats_queries as q

    i18n.set_language(args.lang)
    data = paths.data_dir(args.data)
    try:
        cfg = load_config(paths.config_file(data))
    except ConfigError as exc:
        print(i18n.tr("report.no_config", error=exc), file=sys.stderr)
        return 2
    try:
        start, end = resolve_range(args.day_from, args.day_to,
                                   dt.datetime.now(cfg.tz).date())
    except ValueError as exc:
        print(f"{exc}", file=sys.stderr)
        return 2
    dims = tuple(dict.fromkeys(args.by)) if args.by else DIMENSIONS

    engine = db.make_engine(cfg.database_url(), synchronous=cfg.database.synchronous)
    try:
        db.upgrade_to_head(engine)
        with engine.begin() as conn:
            if args.rebuild:
                q.drop_cached_days(conn, start, end)
            result = stats.compute(conn, start, end, dims, cfg.tz,
                                   closing=stats.closing_from_hours(cfg.hours))
    except ValueError as exc:
        print(i18n.tr("report.bad_query", error=exc), file=sys.stderr)
        return 2
    finally:
        engine.dispose()

    if args.format == "xlsx":
        out = Path(args.out or f"stats-{start}-{end}.xlsx")
        report.write_xlsx(result, out, dims)
        print(i18n.tr("report.written", path=out), file=sys.stderr)
        return 0
    text = report.render(result, args.format, dims)
    if args.out:
        # utf-8-sig so Excel on a hall PC opens a CSV with Chinese headers correctly
        encoding = "utf-8-sig" if args.format == "csv" else "utf-8"
        Path(args.out).write_text(text, encoding=encoding)
        print(i18n.tr("report.written", path=args.out), file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
