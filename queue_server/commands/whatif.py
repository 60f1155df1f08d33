"""`queue-server whatif --data DIR (--day D | --weekdays N) [plan] [--suggest --target-p90 MIN]`.

A past day (or an average weekday of the last N) replayed through the real hall under
another plan, side by side with the unchanged plan and with what really happened;
JSON on stdout (docs/whatif.md). The plan:

  --windows 9=4,10-11=6,12=3   general windows open per local hour (a count: the
                               lowest numbers first) or a list: 9=1+2+5
  --matters 4=CL01             window 4 takes only CL01 (repeatable: 4=CL01+CL02)
  --credit elderly=15          a priority class's credit in minutes (repeatable)
  --appointment-credit 30      the appointment credit in minutes
  --no-show void | requeue:3:1 the 过号 rule (mode, requeue after N, at most M times)
  --plan FILE.json             the same as JSON: {"windows": {"9": 4}, "matters":
                               {"4": ["CL01"]}, "priority_credits": {...},
                               "appointment_credit": 30, "no_show": ["requeue", 3, 1]}
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

from queue_common import paths

USAGE_ERROR = 2


def register(sub: Any) -> None:
    p = sub.add_parser("whatif", help="replay a past day under another plan (假如)")
    p.add_argument("--data", help="data dir (default: $QUEUE_DATA or the platform's)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--day", metavar="YYYY-MM-DD", help="the past business day to replay")
    src.add_argument("--weekdays", type=int, metavar="N",
                     help="an average weekday of the last N weekdays with tickets")
    p.add_argument("--until", metavar="YYYY-MM-DD",
                   help="with --weekdays: the last day looked at (default: yesterday)")
    p.add_argument("--plan", metavar="FILE", help="the plan as JSON")
    p.add_argument("--windows", help="windows open per hour, e.g. 9=4,10-11=6,12=1+2+5")
    p.add_argument("--matters", action="append", default=[], metavar="W=CODE[+CODE]",
                   help="a window's matters under the plan (repeatable)")
    p.add_argument("--credit", action="append", default=[], metavar="CLASS=MIN",
                   help="a priority class's credit in minutes (repeatable)")
    p.add_argument("--appointment-credit", type=float, metavar="MIN")
    p.add_argument("--no-show", metavar="void|requeue:N:M", help="the 过号 rule")
    p.add_argument("--replications", type=int, default=5)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--suggest", action="store_true",
                   help="find the fewest windows per hour that keep p90 <= --target-p90")
    p.add_argument("--target-p90", type=float, metavar="MIN",
                   help="with --suggest: the p90 wait to keep, in minutes")
    p.add_argument("--out", metavar="FILE", help="write the JSON to FILE")
    p.set_defaults(func=run)


def _hours(text: str) -> list[int]:
    if "-" in text:
        a, b = text.split("-", 1)
        return list(range(int(a), int(b) + 1))
    return [int(text)]


def parse_windows(text: str) -> tuple[dict[int, int], dict[int, tuple[int, ...]]]:
    """'9=4,10-11=6,12=1+2+5' -> ({9: 4, 10: 6, 11: 6}, {12: (1, 2, 5)})."""
    counts: dict[int, int] = {}
    lists: dict[int, tuple[int, ...]] = {}
    for part in filter(None, (x.strip() for x in text.split(","))):
        hours, value = part.split("=", 1)
        for h in _hours(hours):
            if "+" in value:
                lists[h] = tuple(sorted(int(w) for w in value.split("+")))
            else:
                counts[h] = int(value)
    return counts, lists


def plan_from(args: argparse.Namespace, cfg: Any, staffing: dict[int, tuple[int, ...]]
              ) -> Any:
    from queue_server import whatif

    spec: dict[str, Any] = {}
    if args.plan:
        spec = json.loads(Path(args.plan).read_text("utf-8"))
    matters = {int(k): tuple(v) for k, v in (spec.get("matters") or {}).items()}
    for m in args.matters:
        w, codes = m.split("=", 1)
        matters[int(w)] = tuple(codes.split("+"))
    known = {s.code for s in cfg.services}
    for w, codes in matters.items():
        unknown = [c for c in codes if c not in known]
        if unknown or w not in {c.number for c in cfg.counters}:
            raise ValueError(f"--matters {w}={'+'.join(codes)}: unknown window or matter")
    credits = {str(k): float(v) for k, v in (spec.get("priority_credits") or {}).items()}
    for c in args.credit:
        k, v = c.split("=", 1)
        credits[k] = float(v)
    appointment = args.appointment_credit if args.appointment_credit is not None \
        else spec.get("appointment_credit")
    no_show = spec.get("no_show")
    if args.no_show:
        parts = args.no_show.split(":")
        no_show = [parts[0], int(parts[1]) if len(parts) > 1 else cfg.no_show.requeue_after,
                   int(parts[2]) if len(parts) > 2 else cfg.no_show.max_requeues]
    if no_show is not None and no_show[0] not in ("void", "requeue"):
        raise ValueError("--no-show is void or requeue:N:M")
    counts: dict[int, int] = {}
    lists: dict[int, tuple[int, ...]] = {}
    for k, v in (spec.get("windows") or {}).items():
        for h in _hours(str(k)):
            if isinstance(v, list):
                lists[h] = tuple(int(w) for w in v)
            else:
                counts[h] = int(v)
    if args.windows:
        c2, l2 = parse_windows(args.windows)
        counts |= c2
        lists |= l2
    base = whatif.Plan(matters=matters)
    windows = None
    if counts or lists:
        windows = whatif.windows_by_count(cfg, counts, staffing, base)
        windows |= lists
    return whatif.Plan(windows=windows, matters=matters, priority_credits=credits,
                       appointment_credit=float(appointment) if appointment is not None
                       else None,
                       no_show=tuple(no_show) if no_show is not None else None)


def run(args: argparse.Namespace) -> int:
    from queue_server import whatif
    from queue_server.config import ConfigError, load_config
    from queue_server.store import db

    data = paths.data_dir(args.data)
    try:
        cfg = load_config(paths.config_file(data))
    except ConfigError as exc:
        print(f"config: {exc}", file=sys.stderr)
        return USAGE_ERROR
    if args.suggest and args.target_p90 is None:
        print("--suggest needs --target-p90 MIN", file=sys.stderr)
        return USAGE_ERROR
    started = time.perf_counter()
    engine = db.make_engine(cfg.database_url(), synchronous=cfg.database.synchronous)
    try:
        db.upgrade_to_head(engine)
        with engine.connect() as conn:
            if args.day:
                profile = whatif.profile_of_day(conn, cfg, dt.date.fromisoformat(args.day))
            else:
                until = (dt.date.fromisoformat(args.until) if args.until
                         else dt.datetime.now(cfg.tz).date() - dt.timedelta(days=1))
                profile = whatif.profile_of_weekdays(conn, cfg, until, args.weekdays)
        plan = plan_from(args, cfg, profile.staffing)
        read_s = time.perf_counter() - started
        if args.suggest:
            result = whatif.suggest(cfg, profile, plan, args.target_p90 * 60.0,
                                    replications=args.replications, seed=args.seed,
                                    progress=lambda m: print(m, file=sys.stderr))
        else:
            result = whatif.compare(cfg, profile, plan, replications=args.replications,
                                    seed=args.seed)
    except ValueError as exc:
        print(f"whatif: {exc}", file=sys.stderr)
        return USAGE_ERROR
    finally:
        engine.dispose()
    result["elapsed_s"] = {"history": round(read_s, 3),
                           "total": round(time.perf_counter() - started, 3)}
    text = json.dumps(result, ensure_ascii=False, indent=2) + "\n"
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0
