"""Memory and cost over a long day: the real Hall on SQLite (tests/support/hallkit.py, no
sockets), a round-the-clock hall on a fake clock, the load benchmark's mix (kiosk
issues while fewer than --queue wait, a status look-up by token, three windows cycling
call_next -> start -> complete, a rating, the hall's tick about once a simulated
second), for --ops operations.

Whatever the hall keeps per operation (idempotency replies, finished tickets, ratings
...) must be bounded: the figures per tenth of the run (RSS, process time per operation,
p99 of a batch's prepare + write) must stay flat. ``flat`` compares the last tenth with
the second (the first is the warm-up: the held tables fill during the first 30
simulated minutes). ``--trace`` adds tracemalloc's top growing lines between the second
and the last tenth (slower; for finding what grows).

    .venv/bin/python bench/day_memory.py                 # 200,000 operations
    .venv/bin/python bench/day_memory.py --ops 30000     # a short run
    .venv/bin/python bench/day_memory.py --trace

Writes --out (default bench/results/day_memory-<date>.json).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ROUND_THE_CLOCK = "\n[hours]\n" + "".join(
    f'{d} = "00:00-24:00"\n' for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun",
                                       "holiday"))
# The hall's cost, not the disk's: no fsync per batch (the server's default is FULL).
NO_FSYNC = '\n[database]\nsynchronous = "OFF"\n'
SECONDS_PER_OP = 0.15  # simulated: 200,000 operations are about 8.3 hours of a day


def rss_mb() -> float | None:
    """Resident memory of this process (Linux /proc, else psutil if installed)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, AttributeError):
        pass
    try:
        import psutil  # type: ignore[import-not-found]

        return float(psutil.Process().memory_info().rss) / 2**20
    except ImportError:
        return None


def read_calls() -> int | None:
    """Read system calls of this process so far (Linux /proc; None elsewhere): a count
    that does not depend on how busy the machine is, so a query that reads more of the
    database as the day goes on shows as a growing count per operation."""
    try:
        for line in Path("/proc/self/io").read_text().splitlines():
            if line.startswith("syscr:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def p99(values: list[float]) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * 0.99))] if s else 0.0


def run(ops_wanted: int, queue: int, trace: bool) -> dict[str, Any]:
    from queue_server.hall import day as hall_day
    from tests.support.hallkit import SHANGHAI, HallKit

    start = dt.datetime(2026, 11, 26, 0, 0, 1, tzinfo=SHANGHAI)
    segments: list[dict[str, Any]] = []
    tenth = max(1, ops_wanted // 10)
    snapshots: list[Any] = []
    with tempfile.TemporaryDirectory(prefix="bench-day-") as tmp:
        kit = HallKit.create(Path(tmp), backend="sqlite", extra=ROUND_THE_CLOCK + NO_FSYNC,
                             start=start)
        hall, state = kit.hall, kit.hall.state
        clerks = [kit.login(f"clerk{n}", counter=n) for n in (1, 2, 3)]
        steps, at = ["call_next", "start", "complete"], [0, 0, 0]
        done_ids: list[int] = []
        tokens: list[str] = []
        ops = rid = batches = 0
        seg_ops, seg_cpu, seg_lat = 0, 0.0, []
        next_tick = kit.clock.now()
        reads_at = read_calls()
        gc.collect()
        if trace:
            tracemalloc.start(10)
        while ops < ops_wanted:
            batch: list[Any] = []
            if len(hall.state.waiting) < queue:
                for _ in range(2):
                    rid += 1
                    batch.append(("issue", {"services": ["RS01"]}, kit.kiosk,
                                  ("kiosk-1", f"r{rid}")))
            if tokens:
                batch.append(("ticket_status", {"token": tokens[-1]}, kit.board, None))
            if done_ids:
                rid += 1
                batch.append(("rate", {"ticket_id": done_ids.pop(), "level": 5}, clerks[0],
                              ("counter-1", f"r{rid}")))
            for i, clerk in enumerate(clerks):
                rid += 1
                batch.append((steps[at[i]], {}, clerk, (clerk.device, f"r{rid}")))
            t0 = time.perf_counter()
            c0 = time.process_time()
            prepared = hall.prepare(batch)
            hall.write([prepared])
            outcomes = hall.written(prepared, None)
            seg_cpu += time.process_time() - c0
            seg_lat.append((time.perf_counter() - t0) * 1000)
            for i, outcome in enumerate(outcomes[-3:]):
                if outcome.error is None:
                    if steps[at[i]] == "complete" and outcome.result:
                        done_ids.append(int(outcome.result["ticket"]["id"]))
                    at[i] = (at[i] + 1) % 3
            for (op, *_), outcome in zip(batch, outcomes, strict=True):
                if op == "issue" and outcome.result:
                    tokens.append(outcome.result["ticket"]["token"])
            del tokens[:-4]
            ops += len(batch)
            seg_ops += len(batch)
            batches += 1
            kit.clock.advance(seconds=SECONDS_PER_OP * len(batch))
            if kit.clock.now() >= next_tick:
                next_tick = kit.clock.now() + dt.timedelta(seconds=1)
                hall.tick()
            if seg_ops >= tenth:
                gc.collect()
                state = hall.state
                reads = read_calls()
                segments.append({
                    "reads_per_op": (round((reads - reads_at) / seg_ops, 2)
                                     if reads is not None and reads_at is not None else None),
                    "ops_so_far": ops, "rss_mb": rss_mb(),
                    "cpu_us_per_op": round(seg_cpu / seg_ops * 1e6, 1),
                    "batch_p99_ms": round(p99(seg_lat), 3),
                    "held": {"tickets": len(state.tickets), "replies": len(state.processed),
                             "rated": len(state.rated), "sessions": len(state.sessions),
                             "throttle": len(state.throttle)},
                    "simulated": kit.clock.now().astimezone(SHANGHAI).strftime("%H:%M")})
                if trace and len(segments) in (2, 10):
                    snapshots.append(tracemalloc.take_snapshot())
                seg_ops, seg_cpu, seg_lat = 0, 0.0, []
                reads_at = read_calls()
        hall.close()
        assert hall_day is not None
    out: dict[str, Any] = {"segments": segments, "ops": ops, "batches": batches}
    if len(segments) >= 3:
        first, last = segments[1], segments[-1]

        def growth(key: str) -> float | None:
            a, b = first.get(key), last.get(key)
            return round((b - a) / a * 100, 1) if a and b is not None else None

        out["growth_percent"] = {k: growth(k) for k in ("rss_mb", "cpu_us_per_op",
                                                        "batch_p99_ms", "reads_per_op")}
        out["flat_within_10_percent"] = all(
            g is not None and g <= 10 for k, g in out["growth_percent"].items()
            if k in ("rss_mb", "cpu_us_per_op"))
    if len(snapshots) == 2:
        stats = snapshots[1].compare_to(snapshots[0], "traceback")
        out["tracemalloc_top_growth"] = [
            {"kib": round(s.size_diff / 1024, 1), "count": s.count_diff,
             "where": [f"{f.filename.replace(str(ROOT) + '/', '')}:{f.lineno}"
                       for f in s.traceback[:4]]}
            for s in stats[:8]]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ops", type=int, default=200_000)
    ap.add_argument("--queue", type=int, default=40, help="issue while fewer wait")
    ap.add_argument("--trace", action="store_true", help="tracemalloc: what grows")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    started = time.monotonic()
    result = run(args.ops, args.queue, args.trace)
    report = {
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": f"{platform.platform()}, Python {platform.python_version()}, "
                   f"{os.cpu_count()} CPUs",
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "mode": f"in-process Hall on SQLite (synchronous OFF), {args.ops} ops, queue ~{args.queue}"
                + (", tracemalloc" if args.trace else ""),
        "seconds": round(time.monotonic() - started, 1), **result}
    for seg in result["segments"]:
        print(f"{seg['ops_so_far']:>8} ops  {seg['simulated']}  rss {seg['rss_mb']:.1f} MB  "
              f"{seg['cpu_us_per_op']:>7.1f} us/op  p99 {seg['batch_p99_ms']:.2f} ms  "
              f"reads/op {seg['reads_per_op']}  "
              f"held {seg['held']}")
    print("growth 2nd -> last tenth (%):", result.get("growth_percent"),
          "flat:", result.get("flat_within_10_percent"))
    for row in result.get("tracemalloc_top_growth", []):
        print(f"  +{row['kib']} KiB ({row['count']:+d})  {' <- '.join(row['where'])}")
    out = args.out or ROOT / "bench" / "results" / f"day_memory-{dt.date.today()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1), "utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
