"""`whatif`: the supervisor's what-if (docs/whatif.md), asked from the dashboard.

It runs `queue-server whatif` as a child process of the server, not on a thread of it:
a what-if is seconds of pure Python, and on a thread it would hold the interpreter's
lock against the hall's own writer all that time. The worker thread that answers the
op only waits for the child (which reads the committed rows, like `stats`).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from queue_server.errors import bad_request
from queue_server.hall.changes import Actor, Changes, Reply
from queue_server.hall.state import HallState

TIMEOUT_S = 300.0
MAX_REPLICATIONS = 20
PLAN_KEYS = ("windows", "matters", "priority_credits", "appointment_credit", "no_show")


def command(s: HallState, a: dict[str, Any], plan_file: Path) -> list[str]:
    """The `queue-server whatif` command line for the op's arguments."""
    cmd = [sys.executable, "-m", "queue_server.cli", "whatif",
           "--data", str(Path(s.config.path).resolve().parent), "--plan", str(plan_file)]
    day, weekdays = a.get("day"), a.get("weekdays")
    if (day is None) == (weekdays is None):
        raise bad_request("args.day", "请给出日期或近N个工作日之一",
                          "give exactly one of day and weekdays")
    if day is not None:
        try:
            cmd += ["--day", dt.date.fromisoformat(str(day)).isoformat()]
        except ValueError:
            raise bad_request("args.day", "日期格式应为 YYYY-MM-DD",
                              "dates are YYYY-MM-DD") from None
    else:
        if not isinstance(weekdays, int) or not 1 <= weekdays <= 60:
            raise bad_request("args.weekdays", "工作日数应为 1-60", "weekdays is 1-60")
        cmd += ["--weekdays", str(weekdays), "--until",
                (s.day - dt.timedelta(days=1)).isoformat()]
    reps = a.get("replications", 5)
    if not isinstance(reps, int) or not 1 <= reps <= MAX_REPLICATIONS:
        raise bad_request("args.replications", f"重复次数应为 1-{MAX_REPLICATIONS}",
                          f"replications is 1-{MAX_REPLICATIONS}")
    cmd += ["--replications", str(reps)]
    target = a.get("target_p90_minutes")
    if target is not None:
        if not isinstance(target, int | float) or target <= 0:
            raise bad_request("args.target_p90_minutes", "目标应为正的分钟数",
                              "the target is a positive number of minutes")
        cmd += ["--suggest", "--target-p90", str(float(target))]
    return cmd


def whatif(s: HallState, ch: Changes, a: dict[str, Any], actor: Actor,
           now: dt.datetime) -> Reply:
    """The what-if's JSON (docs/whatif.md) for a day or an average weekday and a plan."""
    if not isinstance(a, dict):
        raise bad_request("args", "参数应为对象", "args is an object")
    plan = {k: a[k] for k in PLAN_KEYS if a.get(k) is not None}
    with tempfile.TemporaryDirectory(prefix="whatif-") as folder:
        plan_file = Path(folder) / "plan.json"
        plan_file.write_text(json.dumps(plan), "utf-8")
        cmd = command(s, a, plan_file)
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8",
                                  timeout=TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise bad_request("args", "预测用时过长，请减少重复次数",
                              "the what-if took too long; ask fewer replications") from None
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or ["?"])[-1][:300]
        raise bad_request("args", f"无法预测：{why}", f"no what-if: {why}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result, []
