"""Does the what-if reproduce a day it did not see being made? And how long does it take?

    .venv/bin/python bench/whatif.py [--days 20] [--replications 5] [--out FILE]

For each of --days days: citizens are drawn from a known profile (a morning peak, four
general matters and the 残联 matter, priority and appointment tickets, 5 % 过号) and
played through the real hall with a known staffing (queue_server.whatif.simulate):
that is the "past day". The what-if then sees only that day's stored rows, builds its
profile from them (arrivals per quarter hour, matter mix, service times, staffing read
back from the audit rows) and replays it with the unchanged plan, --replications times
with fresh draws. Its predicted mean and p90 wait are compared with the day's real
ones. It also times the supervisor's question on each day (the unchanged plan beside
one with a window fewer, each --replications times). Writes bench/results/whatif.json
(or --out).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from queue_server import whatif  # noqa: E402
from queue_server.config import parse_config  # noqa: E402
from tests.support.hallkit import SMALL_MATTERS  # noqa: E402

DAY = dt.date(2026, 11, 26)  # a Thursday: 08:30-16:30 by default

HALL = SMALL_MATTERS + "".join(f"\n[[counter]]\nnumber = {n}\n" for n in range(1, 6)) + """
[[counter]]
number = 6
general = false
services = ["CL01"]
"""

# The known staffing of the simulated past days: general windows 1-5 and the 残联 window 6.
STAFFING = {8: (1, 2, 3, 6), 9: (1, 2, 3, 4, 5, 6), 10: (1, 2, 3, 4, 5, 6),
            11: (1, 2, 3, 4, 5, 6), 12: (1, 2, 3, 6), 13: (1, 2, 3, 6),
            14: (1, 2, 3, 4, 6), 15: (1, 2, 3, 4, 6), 16: (1, 2, 3, 4, 6)}
# Arrivals per hour (a morning peak), spread evenly over its quarters.
PER_HOUR = {8: 14, 9: 30, 10: 30, 11: 24, 12: 12, 13: 16, 14: 22, 15: 18, 16: 8}
VISITS = ([(("RS01",), "normal", None)] * 30 + [(("RS02",), "normal", None)] * 15
          + [(("YB01",), "normal", None)] * 25 + [(("YB02",), "normal", None)] * 15
          + [(("RS01", "YB01"), "normal", None)] * 5 + [(("CL01",), "normal", None)] * 4
          + [(("RS01",), "priority", "elderly")] * 4 + [(("YB01",), "appointment", None)] * 2)


def truth() -> whatif.Profile:
    arrivals: dict[int, float] = {}
    for hour, n in PER_HOUR.items():
        quarters = [q for q in range(hour * 4, hour * 4 + 4) if q >= 34 and q < 66]
        for q in quarters:
            arrivals[q] = n / 4
    return whatif.Profile(day=DAY, days=[DAY], arrivals=arrivals, visits=VISITS,
                          no_show_rate=0.05, walkups=[20, 30, 40, 45, 60, 90],
                          no_show_waits=[90, 120, 150], service={}, staffing=STAFFING)


def pct(a: float, b: float) -> float:
    return round((a - b) / b * 100, 1) if b else 0.0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=20)
    ap.add_argument("--replications", type=int, default=5)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "whatif.json"))
    args = ap.parse_args()

    cfg = parse_config(HALL, "bench-whatif.toml")
    known = truth()
    rows: list[dict[str, Any]] = []
    times: list[float] = []
    plan_times: list[float] = []
    staffing_ok = 0
    for d in range(args.days):
        past = whatif.simulate(cfg, whatif.Plan(), DAY, STAFFING,
                               whatif.draw(known, cfg, 100_000 + d))
        history = past.history()
        started = time.perf_counter()
        profile = whatif.profile_from(cfg, [history], past.names(), DAY, real=True)
        result = whatif.compare(cfg, profile, whatif.Plan(),
                                replications=args.replications, seed=1 + 1000 * d)
        times.append(time.perf_counter() - started)
        # the supervisor's question: the same day with window 5 closed in the morning
        started = time.perf_counter()
        fewer = {h: tuple(w for w in ws if w != 5) for h, ws in profile.staffing.items()}
        changed = whatif.compare(cfg, profile, whatif.Plan(windows=fewer),
                                 replications=args.replications, seed=1 + 1000 * d)
        plan_times.append(time.perf_counter() - started)
        assert (changed["changed"]["totals"]["mean_wait"]["mean"]
                >= changed["unchanged"]["totals"]["mean_wait"]["mean"])
        staffing_ok += int(profile.staffing == STAFFING)
        assert profile.real is not None
        real = profile.real["totals"]
        pred = result["unchanged"]["totals"]
        rows.append({"day": d, "visits": real["issued"],
                     "real_mean": real["mean_wait"], "pred_mean": pred["mean_wait"]["mean"],
                     "pred_mean_range": [pred["mean_wait"]["low"], pred["mean_wait"]["high"]],
                     "real_p90": real["p90_wait"], "pred_p90": pred["p90_wait"]["mean"],
                     "seconds": round(times[-1], 2)})
        print(f"day {d:2d}: {real['issued']} visits, mean wait real {real['mean_wait']:.0f} s "
              f"predicted {pred['mean_wait']['mean']:.0f} s, p90 real {real['p90_wait']:.0f} s "
              f"predicted {pred['p90_wait']['mean']:.0f} s ({times[-1]:.1f} s)", flush=True)

    real_mean = statistics.fmean(r["real_mean"] for r in rows)
    pred_mean = statistics.fmean(r["pred_mean"] for r in rows)
    real_p90 = statistics.fmean(r["real_p90"] for r in rows)
    pred_p90 = statistics.fmean(r["pred_p90"] for r in rows)
    mean_err = [abs(pct(r["pred_mean"], r["real_mean"])) for r in rows]
    p90_err = [abs(pct(r["pred_p90"], r["real_p90"])) for r in rows]
    summary = {
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "load_average": [round(x, 2) for x in os.getloadavg()]},
        "mode": f"{args.days} simulated days, {args.replications} replications each, "
                "in-memory hall, one process",
        "days": args.days, "replications": args.replications,
        "visits_per_day": statistics.fmean(r["visits"] for r in rows),
        "staffing_read_back": f"{staffing_ok}/{args.days}",
        "mean_wait": {"real_s": round(real_mean, 1), "predicted_s": round(pred_mean, 1),
                      "error_pct": pct(pred_mean, real_mean),
                      "median_day_abs_error_pct": statistics.median(mean_err),
                      "days_within_10_pct": sum(e <= 10 for e in mean_err)},
        "p90_wait": {"real_s": round(real_p90, 1), "predicted_s": round(pred_p90, 1),
                     "error_pct": pct(pred_p90, real_p90),
                     "median_day_abs_error_pct": statistics.median(p90_err),
                     "days_within_15_pct": sum(e <= 15 for e in p90_err)},
        "whatif_seconds": {"median": round(statistics.median(times), 2),
                           "max": round(max(times), 2)},
        # history read from rows + the unchanged plan + a changed plan, each replicated
        "whatif_changed_plan_seconds": {"median": round(statistics.median(plan_times), 2),
                                        "max": round(max(plan_times), 2)},
        "per_day": rows,
    }
    summary["ok"] = (abs(summary["mean_wait"]["error_pct"]) <= 10
                     and abs(summary["p90_wait"]["error_pct"]) <= 15)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n",
                              "utf-8")
    print(json.dumps({k: v for k, v in summary.items() if k != "per_day"},
                     ensure_ascii=False, indent=2))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
