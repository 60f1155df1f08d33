"""Caller benchmark: key press -> the server's answer on screen, and memory after a day.

A real `queue-server run` (tests/support/live.py) and the real counter-client app in its
own process (as on a clerk's PC) on an X display (a private Xvfb if $DISPLAY is unset).
The app process logs in through its form at window 1 and presses the hall's configured
keys through Tk (event_generate), timing each press until the caller's screen shows the
new state: call next (the number appears), start, complete. Then a simulated day runs
around it: the kiosk issues tickets and three other windows serve them as fast as the
server answers (far busier than a real hall) while window 1 keeps working (its presses
are timed too); the app then renders as many times as an hour of 1-second ticks would
and reports its resident memory.

    .venv/bin/python bench/counter.py                      # 200 calls, a 1,500-ticket day
    .venv/bin/python bench/counter.py --calls 50 --day-tickets 300   # quick

Prints p50/p99/max per key and the RSS, writes JSON to bench/results/counter.json.
Targets: call next p99 <= 50 ms; RSS <= 80 MB after the day.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.xvfb import display_or_private  # noqa: E402

RESULTS = REPO / "bench" / "results"
SECONDS_PER_HOUR = 3600


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def rss_mb() -> float:
    """Resident set size now (Linux /proc), else the peak from getrusage."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- the app process


def child(args: argparse.Namespace) -> int:
    """The counter-client app on window 1, measured from the inside."""
    import tkinter as tk

    from counter_client import caller_state as cs
    from counter_client.app import CounterApp
    from queue_common import i18n
    from queue_common.connection import Connection

    i18n.set_language("zh")
    data = Path(args.data)
    root = tk.Tk(className="CounterClient")
    conn = Connection.from_data_dir(data, "counter-1", args.server)
    conn.attach_tk(root, interval_ms=10)
    conn.start()
    app = CounterApp(root, conn, data=data, device="counter-1", on_quit=lambda: None)

    def pump(until: Any, timeout: float = 10.0) -> bool:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            root.update()
            if until():
                return True
        return False

    assert pump(lambda: conn.online and conn.mirror.ready), "app never came online"
    form = app.login
    assert form is not None
    form.user.insert(0, "clerk1")
    form.password.insert(0, "demo1234")
    form.counter.delete(0, "end")
    form.counter.insert(0, "1")
    form.submit_button.invoke()
    assert pump(lambda: app.caller is not None), form.status.cget("text")
    caller = app.caller
    assert caller is not None
    root.focus_force()
    assert pump(lambda: caller.view.counter_state == "idle"
                and caller.view.waiting_total >= args.calls), "tickets never showed"
    rss_start = rss_mb()

    # Where the time goes: the reply reaching the Tk thread, the event reaching it.
    marks: dict[str, float] = {}
    plain_request = conn.request

    def timed_request(op: str, args: dict[str, Any] | None = None, *,
                      callback: Any = None, **kw: Any) -> str:
        def wrapped(reply: Any) -> None:
            marks["reply"] = time.perf_counter()
            if callback is not None:
                callback(reply)
        return plain_request(op, args, callback=wrapped, **kw)

    conn.request = timed_request  # type: ignore[method-assign]
    conn.add_listener(lambda t, _d: marks.setdefault("event", time.perf_counter())
                      if t not in ("connection", "resync") else None)
    def own_event(t: str, d: dict[str, Any]) -> None:
        for c in d.get("counters") or []:
            if c.get("number") == 1 and c.get("state") == marks_want.get("state"):
                marks.setdefault("own_event", time.perf_counter())

    marks_want: dict[str, str] = {}
    conn.add_listener(own_event)
    resyncs = [0]  # snapshots taken after the first (a gap, a new epoch or silence)
    conn.add_listener(lambda t, _d: resyncs.__setitem__(0, resyncs[0] + 1)
                      if t == "resync" else None)
    parts: dict[str, list[float]] = {"reply": [], "event": []}
    worst: list[tuple[float, str, float, float]] = []  # (total, key, reply, event)

    def press(action: str, state: str, timeout: float = 10.0,
              record: bool = True) -> float | None:
        """Key press -> the state the server answered is on screen (ms); None if not."""
        assert pump(lambda: not caller.gate.busy()), "gate stuck"
        key = caller.key_for(action)
        assert key is not None, action
        marks.clear()
        marks_want["state"] = state
        t0 = time.perf_counter()
        root.event_generate(f"<Key-{key}>")
        ok = pump(lambda: caller.view.counter_state == state and not caller._render_pending
                  and caller.bar_state.cget("text") == i18n.tr(f"cc.state.{state}"),
                  timeout)
        total = (time.perf_counter() - t0) * 1000
        if ok and "reply" in marks and "event" in marks:
            reply_ms, event_ms = (marks["reply"] - t0) * 1000, (marks["event"] - t0) * 1000
            if record:
                parts["reply"].append(reply_ms)
                parts["event"].append(event_ms)
            own_ms = (marks.get("own_event", t0) - t0) * 1000
            (worst if record else day_worst).append((total, action, reply_ms, own_ms))
        return total if ok else None

    lat: dict[str, list[float]] = {"call_next": [], "start": [], "complete": []}
    day_lat: list[float] = []  # window 1's presses while three windows flood the hall
    day_worst: list[tuple[float, str, float, float]] = []

    def cycle(strict: bool) -> bool:
        for action, state in ((cs.CALL_NEXT, "calling"), (cs.START, "serving"),
                              (cs.COMPLETE, "idle")):
            ms = press(action, state, 10.0 if strict else 2.0, record=strict)
            if ms is None:
                assert not strict, f"{action}: screen never showed {state} ({caller.message})"
                return False  # the day: another window took the last ticket first
            (lat[action] if strict else day_lat).append(ms)
        return True

    for _ in range(args.calls):
        cycle(strict=True)
        shown = caller.bar_number.cget("text")
        assert shown == "—" or shown == i18n.tr("cc.no_ticket")
    print("MEASURED", flush=True)

    # The day: the parent drives the hall around us; window 1 keeps serving.
    day_done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.readline(), day_done.set()),
                     daemon=True).start()
    served_in_day = 0
    while not day_done.is_set():
        if caller.view.waiting_total and cs.CALL_NEXT in caller.enabled():
            served_in_day += cycle(strict=False)
        else:
            pump(lambda: day_done.is_set(), timeout=0.05)
    pump(lambda: False, timeout=1.0)  # let the last events in
    for _ in range(SECONDS_PER_HOUR):  # an hour of once-a-second ticks
        caller.render()
    root.update()
    gc.collect()
    result = {
        "latency_ms": {k: {"n": len(v), "p50": percentile(v, 50), "p99": percentile(v, 99),
                           "max": max(v) if v else None} for k, v in lat.items()},
        "breakdown_ms": {k: {"p50": percentile(v, 50), "p99": percentile(v, 99)}
                         for k, v in parts.items()},
        "slowest_presses": [
            {"ms": round(t, 1), "key": k, "reply_ms": round(r, 1), "event_ms": round(e, 1)}
            for t, k, r, e in sorted(worst, reverse=True)[:5]],
        "day_presses_ms": {"n": len(day_lat), "p50": percentile(day_lat, 50),
                           "p99": percentile(day_lat, 99),
                           "max": max(day_lat) if day_lat else None,
                           "slowest": [{"ms": round(t, 1), "key": k, "reply_ms": round(r, 1),
                                        "own_event_ms": round(e, 1)}
                                       for t, k, r, e in sorted(day_worst, reverse=True)[:5]]},
        "rss_mb_after_login": round(rss_start, 1),
        "rss_mb_after_day": round(rss_mb(), 1),
        "events_seen": conn.mirror.seq,
        "resyncs": resyncs[0],
        "served_by_window_1": args.calls + served_in_day,
    }
    print("RESULT " + json.dumps(result), flush=True)
    conn.stop()
    root.destroy()
    return 0


# ---------------------------------------------------------------- the hall around it


@contextlib.contextmanager
def x_display() -> Iterator[dict[str, str]]:
    """The environment for the app: $DISPLAY if set, else a private 24-bit Xvfb."""
    with display_or_private(1280, 900) as name:
        yield dict(os.environ, DISPLAY=name)


def run_day(hall: Any, tickets: int, stop: threading.Event) -> dict[str, int]:
    """Kiosk issues `tickets`; windows 3-5 serve them; as fast as the hall takes it."""
    kiosk = hall.connect("kiosk-1")
    # Windows 3-5 do not take CL01 (残疾人证办理, window 1's specialised matter), so
    # window 1 always has its own citizens while the others flood the hall.
    clerks = [hall.connect(f"counter-{n}", user=user, counter=n)
              for n, user in ((3, "clerk2"), (4, "clerk3"), (5, "super1"))]
    matters = ["RS01", "RS02", "YB01", "MZ02", "JZ01"]
    done = {"issued": 0, "served_by_others": 0}
    for i in range(tickets):
        services = [matters[i % len(matters)]] + ([matters[(i + 2) % len(matters)]]
                                                  if i % 4 == 0 else [])
        if i % 5 == 0:
            services = ["CL01"]
        if kiosk.call("issue", {"services": services}).ok:
            done["issued"] += 1
        clerk = clerks[i % len(clerks)]
        if clerk.call("call_next", {}).ok:
            clerk.call("start", {})
            if clerk.call("complete", {}).ok:
                done["served_by_others"] += 1
    for clerk in clerks:  # the rest of the queue
        while not stop.is_set() and clerk.call("call_next", {}).ok:
            clerk.call("start", {})
            clerk.call("complete", {})
            done["served_by_others"] += 1
    return done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--day-tickets", type=int, default=1500)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--server", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(RESULTS / "counter.json"))
    args = parser.parse_args()
    if args.child:
        return child(args)

    from tests.support.live import live_hall

    with tempfile.TemporaryDirectory(prefix="bench-counter-") as tmp, \
            live_hall(Path(tmp)) as hall, x_display() as env:
        kiosk = hall.connect("kiosk-1")
        for _ in range(args.calls):
            assert kiosk.call("issue", {"services": ["RS01"]}).ok
        env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
        server = f"{hall.host}:{hall.request_port}:{hall.event_port}"
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child", "--data", str(hall.data), "--server",
             server, "--calls", str(args.calls)], env=env, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdin is not None
        started = time.perf_counter()
        for line in proc.stdout:
            if line.startswith("MEASURED"):
                break
        else:
            raise SystemExit(f"the app process failed (exit {proc.wait()})")
        measured_at = time.perf_counter()
        stop = threading.Event()
        day = run_day(hall, args.day_tickets, stop)
        proc.stdin.write("done\n")
        proc.stdin.flush()
        result: dict[str, Any] = {}
        for line in proc.stdout:
            if line.startswith("RESULT "):
                result = json.loads(line[7:])
        proc.wait(60)
        if not result:
            raise SystemExit(f"the app process gave no result (exit {proc.returncode})")

    result.update({
        "what": "counter-client: key press -> server reply shown; RSS after a day",
        "command": "bench/counter.py " + " ".join(sys.argv[1:]),
        "calls": args.calls, "day": day,
        "seconds": {"measured_calls": round(measured_at - started, 1),
                    "day": round(time.perf_counter() - measured_at, 1)},
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
                    "platform": platform.platform()},
        "targets": {"call_next_p99_ms": 50, "rss_mb": 80},
    })
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False), "utf-8")
    print(f"{'key':<10}{'n':>6}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for key, row in result["latency_ms"].items():
        print(f"{key:<10}{row['n']:>6}{row['p50']:>10.1f}{row['p99']:>10.1f}{row['max']:>10.1f}")
    br = result["breakdown_ms"]
    print(f"of which (all keys, measured calls): reply on the Tk thread p50 "
          f"{br['reply']['p50']:.1f} / p99 {br['reply']['p99']:.1f} ms; event p50 "
          f"{br['event']['p50']:.1f} / p99 {br['event']['p99']:.1f} ms")
    for row in result["slowest_presses"]:
        print(f"  slow press: {row['key']} {row['ms']} ms (reply at {row['reply_ms']} ms, "
              f"its event at {row['event_ms']} ms)")
    dp = result["day_presses_ms"]
    print(f"window 1's presses while three windows and the kiosk flood the hall: "
          f"n={dp['n']} p50 {dp['p50']:.1f} / p99 {dp['p99']:.1f} ms")
    for row in dp["slowest"]:
        print(f"  slow press in the flood: {row['key']} {row['ms']} ms "
              f"(reply at {row['reply_ms']} ms, its event at {row['own_event_ms']} ms)")
    print(f"RSS after login {result['rss_mb_after_login']} MB; after the day "
          f"{result['rss_mb_after_day']} MB ({result['events_seen']} events mirrored, "
          f"{result['resyncs']} re-snapshots, "
          f"{day['issued']} tickets issued in the day)")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
