"""Operations per second of the hall core alone (no sockets): issue / call_next / start /
complete cycles at 30 windows with thousands of citizens waiting, on SQLite with
synchronous=FULL and NORMAL, one commit per operation and group commit.

    .venv/bin/python bench/engine.py [--waiting 3000] [--seconds 5] [--batch 32] [--gc default]

Prints a table and writes bench/results/engine-<date>.json. Every committed operation
is durable in the mode named (FULL: survives power loss; NORMAL: survives a crash of
the process, may lose the last commits on power loss).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import platform
import sqlite3
import sys
import tempfile
import time
import uuid
import zoneinfo
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from queue_common.protocol import Role  # noqa: E402
from queue_server.clock import FakeClock  # noqa: E402
from queue_server.config import parse_config  # noqa: E402
from queue_server.hall.changes import Actor  # noqa: E402
from queue_server.hall.facade import Hall  # noqa: E402
from queue_server.passwords import hash_password  # noqa: E402
from queue_server.store import db, seed  # noqa: E402

COUNTERS = 30
SERVICES = [("RS01", "A"), ("RS02", "A"), ("YB01", "B"), ("YB02", "B"), ("MZ01", "C"),
            ("ZJ01", "D"), ("JZ01", "E"), ("GJJ01", "H")]


def config_text(synchronous: str, url: str = "") -> str:
    parts = ['[hall]\nname = "bench"\n',
             f'[database]\nsynchronous = "{synchronous}"\nurl = "{url}"\n',
             '[[department]]\ncode = "D"\nname = "综合"\n']
    parts += [f'[[service]]\ncode = "{c}"\nname = "{c}"\ndepartment = "D"\nprefix = "{p}"\n'
              f"minutes = 8\n" for c, p in SERVICES]
    parts += [f"[[counter]]\nnumber = {n}\n" for n in range(1, COUNTERS + 1)]
    return "\n".join(parts)


def make_hall(folder: Path, synchronous: str, clock: FakeClock,
              url: str = "") -> tuple[Hall, list[Actor]]:
    text = config_text(synchronous, url)
    (folder / "config.toml").write_text(text, encoding="utf-8")
    cfg = parse_config(text, str(folder / "config.toml"))
    engine = db.make_engine(cfg.database_url(), synchronous=synchronous)
    db.upgrade_to_head(engine)
    pw = hash_password("bench")
    with engine.begin() as conn:
        seed.sync_from_config(conn, cfg)
        for n in range(1, COUNTERS + 1):
            seed.add_staff(conn, f"c{n}", f"clerk {n}", f"{n:04d}", "clerk", pw, clock.now())
    engine.dispose()
    hall = Hall.open(cfg, clock=clock)
    clerks = []
    for n in range(1, COUNTERS + 1):
        dev = f"counter-{n}"
        out = hall.apply("login", {"user": f"c{n}", "password": "bench", "counter": n},
                         Actor(dev, Role.COUNTER))
        assert out.result is not None, out.error
        clerks.append(hall.actor_for(out.result["token"], dev, Role.COUNTER))
    return hall, clerks


def fill(hall: Hall, waiting: int, clock: FakeClock) -> None:
    kiosk = Actor("kiosk-1", Role.KIOSK)
    cmds = []
    for i in range(waiting):
        svc = [SERVICES[i % len(SERVICES)][0]]
        if i % 5 == 0:
            svc.append(SERVICES[(i + 3) % len(SERVICES)][0])
        cmds.append(("issue", {"services": svc}, kiosk, ("kiosk-1", f"fill-{i}")))
    for i in range(0, len(cmds), 500):
        clock.advance(0.05)
        for o in hall.apply_batch(cmds[i:i + 500]):
            assert o.error is None, o.error


def cycle_commands(clerks: list[Actor], round_no: int) -> list[list[tuple[str, dict[str, Any],
                                                                        Actor, Any]]]:
    """One round: every window issues one ticket (as the kiosk), calls, starts, completes."""
    kiosk = Actor("kiosk-1", Role.KIOSK)
    steps: list[list[tuple[str, dict[str, Any], Actor, Any]]] = []
    for op in ("issue", "call_next", "start", "complete"):
        step = []
        for n, clerk in enumerate(clerks):
            key = (clerk.device, f"{round_no}-{op}")
            if op == "issue":
                svc = SERVICES[(round_no + n) % len(SERVICES)][0]
                step.append(("issue", {"services": [svc]}, kiosk, ("kiosk-1", f"{key}")))
            else:
                step.append((op, {}, clerk, key))
        steps.append(step)
    return steps


def run(synchronous: str, mode: str, waiting: int, seconds: float, batch: int,
        url: str = "", gc_mode: str = "server") -> dict[str, Any]:
    tz = zoneinfo.ZoneInfo("Asia/Shanghai")
    clock = FakeClock(dt.datetime(2026, 11, 26, 9, 0, tzinfo=tz))
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp:
        hall, clerks = make_hall(Path(tmp), synchronous, clock, url)
        fill(hall, waiting, clock)
        if gc_mode == "server":  # as `queue-server run` does once the hall is loaded
            from queue_server.commands.run import tune_gc

            tune_gc()
        ops = errors = 0
        commits = 0
        start = time.perf_counter()
        round_no = 0
        latencies: list[float] = []
        while time.perf_counter() - start < seconds:
            ops_of_round = [cmd for step in cycle_commands(clerks, round_no) for cmd in step]
            chunk = 1 if mode == "per-op" else batch
            for i in range(0, len(ops_of_round), chunk):
                clock.advance(0.01)
                t0 = time.perf_counter()
                outs = hall.apply_batch(ops_of_round[i:i + chunk])
                latencies.append(time.perf_counter() - t0)
                errors += sum(o.error is not None for o in outs)
                ops += len(outs)
                commits += 1
            round_no += 1
        elapsed = time.perf_counter() - start
        still_waiting = len(hall.state.waiting)
        hall.close()
    latencies.sort()
    return {"database": "postgresql" if url else "sqlite",
            "synchronous": synchronous if not url else None, "mode": mode, "batch": batch if mode != "per-op" else 1,
            "waiting_at_start": waiting, "waiting_at_end": still_waiting,
            "counters": COUNTERS, "gc": gc_mode, "ops": ops, "errors": errors, "commits": commits,
            "seconds": round(elapsed, 3), "ops_per_second": round(ops / elapsed),
            "commit_latency_ms_p50": round(latencies[len(latencies) // 2] * 1000, 3),
            "commit_latency_ms_p99": round(latencies[int(len(latencies) * 0.99)] * 1000, 3)}


def raw_commit_rate(synchronous: str, seconds: float = 1.0) -> int:
    """One-row commits per second with plain sqlite3 in the same mode: this disk's ceiling
    for one commit per operation."""
    with tempfile.TemporaryDirectory(prefix="bench-raw-") as tmp:
        con = sqlite3.connect(Path(tmp) / "raw.sqlite3", isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute(f"PRAGMA synchronous={synchronous}")
        con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        n = 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            con.execute("BEGIN")
            con.execute("INSERT INTO t (v) VALUES ('x')")
            con.execute("COMMIT")
            n += 1
        elapsed = time.perf_counter() - start
        con.close()
    return round(n / elapsed)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--waiting", type=int, default=3000)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--batch", type=int, default=64,
                    help="operations per group commit (the server batches up to 64)")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--gc", choices=["server", "default"], default="server",
                    help="server: the collector tuned as `queue-server run` does; "
                         "default: Python's own thresholds (for comparison)")
    ap.add_argument("--pg", default=None, metavar="URL",
                    help="also measure PostgreSQL (a fresh schema is made and dropped), e.g. "
                         "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    a = ap.parse_args()
    results = []
    load_at_start = _load()
    print(f"{'synchronous':<12}{'mode':<14}{'ops/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    raw = {}
    for synchronous in ("FULL", "NORMAL"):
        raw[synchronous] = raw_commit_rate(synchronous)
        print(f"{synchronous:<12}{'raw sqlite3':<14}{raw[synchronous]:>9}  one-row commits/s "
              "(this disk's ceiling for one commit per operation)", flush=True)
        for mode in ("per-op", "group-commit"):
            r = run(synchronous, mode, a.waiting, a.seconds, a.batch, gc_mode=a.gc)
            results.append(r)
            print(f"{synchronous:<12}{mode:<14}{r['ops_per_second']:>9}"
                  f"{r['commit_latency_ms_p50']:>9}{r['commit_latency_ms_p99']:>9}"
                  f"{r['errors']:>8}", flush=True)
    if a.pg:
        for mode in ("per-op", "group-commit"):
            with _pg_schema(a.pg) as url:
                r = run("FULL", mode, a.waiting, a.seconds, a.batch, url, gc_mode=a.gc)
            results.append(r)
            print(f"{'postgresql':<12}{mode:<14}{r['ops_per_second']:>9}"
                  f"{r['commit_latency_ms_p50']:>9}{r['commit_latency_ms_p99']:>9}"
                  f"{r['errors']:>8}", flush=True)
    out = a.out or ROOT / "bench" / "results" / f"engine-{dt.date.today().isoformat()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = {"benchmark": "engine", "command": "python bench/engine.py " + " ".join(sys.argv[1:]),
           "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
           "load_average_at_start": load_at_start,
           "machine": {"python": platform.python_version(), "cpu_count": _cpus(),
                       "sqlite": sqlite3.sqlite_version, "platform": platform.platform()},
           "raw_sqlite_commits_per_second": raw,
           "load_average_at_end": _load(),
           "results": results}
    out.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


@contextlib.contextmanager
def _pg_schema(base: str) -> Iterator[str]:
    """A throw-away PostgreSQL schema; yields a URL whose search_path is that schema."""
    from sqlalchemy import create_engine, text

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _load() -> list[float] | None:
    """The machine's load average: other processes share these 2 cores."""
    try:
        import os

        return [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def _cpus() -> int | None:
    import os

    return os.cpu_count()


if __name__ == "__main__":
    sys.exit(main())
