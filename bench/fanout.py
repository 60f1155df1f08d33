"""Fan-out benchmark: a committed call reaching 50 subscribers (hall boards, callers).

A real server (durable SQLite); a kiosk issues tickets, one clerk calls them one by one
(call_next, then complete) at a steady pace; 50 CURVE subscribers spread over several
processes take the timestamp of every `ticket.called` event. For each call we measure
- commit -> event: event arrival minus the arrival of the call's reply at the clerk (the
  server sends the reply right after the commit, the event right after the reply);
- press -> event: event arrival minus the moment the clerk sent call_next (includes the
  database commit itself).
All processes are on this machine, so time.time() is one clock.

    .venv/bin/python bench/fanout.py --subscribers 50 --calls 200

Target: commit -> event p99 <= 20 ms at 50 subscribers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import zmq  # noqa: E402

from bench.load import pct  # noqa: E402
from queue_common.endpoint import ClientKeys  # noqa: E402
from tests.support.live import live_hall  # noqa: E402

RESULTS = REPO / "bench" / "results"


def subscriber_proc(data: str, url: str, count: int, ready: Any, stop: Any, out: Any) -> None:
    """`count` SUB sockets as board-1; (ticket id, arrival) of each ticket.called."""
    keys = ClientKeys.from_data_dir(Path(data), "board-1")
    ctx = zmq.Context()
    poller = zmq.Poller()
    socks = []
    for _ in range(count):
        s = ctx.socket(zmq.SUB)
        s.linger = 0
        s.curve_serverkey = keys.server_public.encode()
        s.curve_publickey = keys.public.encode()
        s.curve_secretkey = keys.secret.encode()
        s.setsockopt(zmq.SUBSCRIBE, b"ticket.called")
        s.setsockopt(zmq.SUBSCRIBE, b"heartbeat")
        s.connect(url)
        poller.register(s, zmq.POLLIN)
        socks.append(s)
    heard: set[int] = set()
    arrivals: list[list[Any]] = []
    while len(heard) < count:  # every socket has heard a heartbeat: connected
        for s, _ in poller.poll(200):
            s.recv_multipart()
            heard.add(socks.index(s))
    ready.put(count)
    while not stop.is_set():
        for s, _ in poller.poll(100):
            topic, body = s.recv_multipart()
            now = time.time()
            if topic == b"ticket.called":
                call = (json.loads(body).get("data") or {}).get("call") or {}
                arrivals.append([call.get("ticket_id"), now])
    out.put(arrivals)
    ctx.destroy(linger=0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--subscribers", type=int, default=50)
    ap.add_argument("--processes", type=int, default=10)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--interval", type=float, default=0.02, help="seconds between calls")
    ap.add_argument("--out")
    args = ap.parse_args(argv)

    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp, live_hall(
            Path(tmp), extra_args=("--log-level", "WARNING")) as hall:
        kiosk = hall.connect("kiosk-1")
        clerk = hall.connect("counter-1", user="clerk1", counter=1)
        services = clerk.call("state").result or {}
        mine = next(c for c in services["counters"] if c["number"] == 1)["services"]
        for _ in range(args.calls):
            r = kiosk.call("issue", {"services": [mine[0]]})
            assert r.ok, r
        ready, out, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
        per = [args.subscribers // args.processes + (1 if i < args.subscribers % args.processes
                                                     else 0) for i in range(args.processes)]
        procs = [ctx.Process(target=subscriber_proc,
                             args=(str(hall.data), hall.endpoint.event_url, n, ready, stop, out))
                 for n in per if n]
        for proc in procs:
            proc.start()
        connected = sum(ready.get(timeout=60) for _ in procs)
        sent: dict[int, tuple[float, float]] = {}  # ticket id -> (sent, replied)
        for _ in range(args.calls):
            t_send = time.time()
            r = clerk.call("call_next")
            t_reply = time.time()
            if r.ok and r.result:
                ticket = r.result.get("ticket", r.result)
                sent[int(ticket["id"])] = (t_send, t_reply)
            clerk.call("start")
            clerk.call("complete", {})
            time.sleep(args.interval)
        time.sleep(0.5)
        stop.set()
        arrivals = [a for _ in procs for a in out.get(timeout=60)]
        for proc in procs:
            proc.join(10)

    commit_to_event: list[float] = []
    press_to_event: list[float] = []
    for ticket_id, at in arrivals:
        if ticket_id in sent:
            t_send, t_reply = sent[ticket_id]
            commit_to_event.append((at - t_reply) * 1000)
            press_to_event.append((at - t_send) * 1000)
    expected = len(sent) * connected
    summary = {
        "benchmark": "fanout", "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": mp.cpu_count(),
                    "load_average_after": os.getloadavg() if hasattr(os, "getloadavg")
                    else None},
        "subscribers": connected, "calls": len(sent),
        "deliveries": len(commit_to_event), "expected_deliveries": expected,
        "commit_to_event_ms": {"p50": round(pct(commit_to_event, 50), 2),
                               "p99": round(pct(commit_to_event, 99), 2),
                               "max": round(max(commit_to_event, default=0), 2)},
        "press_to_event_ms": {"p50": round(pct(press_to_event, 50), 2),
                              "p99": round(pct(press_to_event, 99), 2),
                              "max": round(max(press_to_event, default=0), 2)},
    }
    c, pr = summary["commit_to_event_ms"], summary["press_to_event_ms"]
    print(f"fanout: {connected} subscribers, {len(sent)} calls, "
          f"{len(commit_to_event)}/{expected} deliveries")
    print(f"  commit -> event: p50 {c['p50']} ms, p99 {c['p99']} ms, max {c['max']} ms")
    print(f"  press  -> event: p50 {pr['p50']} ms, p99 {pr['p99']} ms, max {pr['max']} ms")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = Path(args.out) if args.out else RESULTS / f"fanout-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(summary, indent=2) + "\n", "utf-8")
    print(f"  -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
