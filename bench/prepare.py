"""CPU per operation of the hall core in process time: Hall.prepare (the rules on the live
state) and Hall.write (the rows into SQLite) for the load benchmark's mix (kiosk issues,
a status lookup, three windows cycling call_next -> start -> complete), no sockets.

Process time moves far less than ops/s on a busy shared machine, so this is the figure
for an A/B of a change to the hall core: ``--against DIR`` alternates runs of this
checkout and of another one (e.g. ``git worktree add /tmp/main main``), in separate
processes, and prints each side's minimum and median.

    .venv/bin/python bench/prepare.py [--batches 1500] [--repeat 6] [--against DIR]

Writes bench/results/prepare-<date>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def measure(root: Path, batches: int) -> dict[str, float]:
    """One run in this process, on the checkout at root (its tests.support.hallkit)."""
    sys.path.insert(0, str(root))
    import gc

    from tests.support.hallkit import HallKit

    options = {"backend": "sqlite"} if "backend" in HallKit.create.__code__.co_varnames else {}
    with tempfile.TemporaryDirectory(prefix="bench-prepare-") as tmp:
        kit = HallKit.create(Path(tmp), **options)
        clerks = [kit.login(f"clerk{n}", counter=n) for n in (1, 2, 3)]
        steps, at = ["call_next", "start", "complete"], [0, 0, 0]
        prepare = write = 0.0
        ops = rid = 0
        last: int | None = None
        gc.collect()
        for _ in range(batches):
            batch: list[Any] = []
            for _ in range(2):
                rid += 1
                batch.append(("issue", {"services": ["RS01"]}, kit.kiosk, ("kiosk-1", f"r{rid}")))
            if last is not None:
                batch.append(("ticket_status", {"ticket_id": last}, kit.board, None))
            for i, clerk in enumerate(clerks):
                rid += 1
                batch.append((steps[at[i]], {}, clerk, (clerk.device, f"r{rid}")))
            t0 = time.process_time()
            prepared = kit.hall.prepare(batch)
            prepare += time.process_time() - t0
            for i, outcome in enumerate(prepared.outcomes[-3:]):
                if outcome.error is None:
                    at[i] = (at[i] + 1) % 3
            issued = prepared.outcomes[0].result
            last = issued["ticket"]["id"] if issued else last
            t0 = time.process_time()
            kit.hall.write([prepared])
            kit.hall.written(prepared, None)
            write += time.process_time() - t0
            ops += len(batch)
        kit.hall.close()
    return {"ops": ops, "prepare_us": prepare / ops * 1e6, "write_us": write / ops * 1e6}


def _one(root: Path, batches: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--one", str(root), "--batches",
                          str(batches)], check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batches", type=int, default=1500)
    ap.add_argument("--repeat", type=int, default=6)
    ap.add_argument("--against", type=Path, help="another checkout to alternate with")
    ap.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one is not None:
        print(json.dumps(measure(args.one, args.batches)))
        return 0
    sides = {"this": ROOT} | ({"against": args.against.resolve()} if args.against else {})
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in sides}
    for _ in range(args.repeat):
        for name, root in sides.items():
            runs[name].append(_one(root, args.batches))
    report: dict[str, Any] = {
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": f"{platform.platform()}, Python {platform.python_version()}",
        "load_average": list(__import__("os").getloadavg()), "batches": args.batches,
        "sides": {name: str(root) for name, root in sides.items()}, "runs": runs}
    for name, rs in runs.items():
        for key in ("prepare_us", "write_us"):
            values = sorted(r[key] for r in rs)
            report[f"{name}_{key}"] = {"min": round(values[0], 1),
                                       "median": round(statistics.median(values), 1)}
        print(f"{name:8} {sides[name]}: prepare {report[f'{name}_prepare_us']} us/op, "
              f"write {report[f'{name}_write_us']} us/op (process time, {len(rs)} runs)")
    out = ROOT / "bench" / "results" / f"prepare-{dt.date.today().isoformat()}.json"
    out.write_text(json.dumps(report, indent=1), "utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
