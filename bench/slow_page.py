"""Slow-connection bench: N idle or slow connections held on the live status page.

The target: with 2,000 idle or slow connections open on the status page, the page
still answers real phones with p99 <= 200 ms, and kiosk and counter requests keep their
normal p99. Three measured phases on one real `queue-server run` (the status page with
its default limits: max_connections 2,000, idle_seconds 20), each with bench/load.py's
load (--clients processes: kiosks issue, clerks call -> start -> complete, paced at
--rate ops/s each) and a probe:

1. without slow connections;
2. with --connections connections held open by one process of their own, in a mix
   (a quarter each):
   - idle: connect, send nothing;
   - slowloris: a request line and a header, then one more header byte every --drip s;
   - half: half a request line ("GET /t/"), then nothing;
   - slow reader: the Server-Sent Events stream of a real ticket (/t/<token>/events),
     a receive buffer of --rcvbuf bytes, never read;
   each reopened --reopen s after the server closed it (or refused it with a 503), so
   the page holds about N of them for the whole phase (measured from --settle s after
   they are all open: their arrival in one burst is not the steady state);
3. without them again (the load's normal p99 is the mean of phases 1 and 3: the first
   phase of a fresh server, and the shared machine's drift, would otherwise count for
   or against the slow phase).

The probe is a phone that keeps coming in: a new connection for each request, one after
the other, every --probe-every s, in turn GET /t/<token> (the whole page), GET
/hall.json, and an SSE stream until its first `status` event. Its figures count the
requests made while the load is measured (the load's 20 client processes starting up
are the bench's own burst of CPU; the whole phase is in the JSON too). A probe request that is
refused (503), fails or takes over 10 s counts as not answered: its latency is taken as
infinite for the percentile, so the p99 is met only if at least 99 % were answered 200
in time. Also reported: the server's open file descriptors and CPU (per thread) in each
phase, and how the slow connections ended (closed by the page, after how
long; refused).

    .venv/bin/python bench/slow_page.py --connections 2000 --seconds 20
    .venv/bin/python bench/slow_page.py --connections 200 --seconds 5   # quick

Writes JSON to bench/results/ (or --out). Figures from a shared machine are provisional.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import http.client
import json
import multiprocessing as mp
import os
import platform
import random
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.load import drive, pct  # noqa: E402
from bench.phones import CLERK_OPS, KIOSK_OPS, per_op, prepare  # noqa: E402
from queue_server import fd_limits  # noqa: E402
from tests.support.live import live_hall  # noqa: E402

RESULTS = REPO / "bench" / "results"
KINDS = ("idle", "slowloris", "half", "slow_reader")
# the load's "normal" is measured before and after: the first phase of a fresh server
# and the machine's drift would otherwise both count for or against the slow phase
PHASES = ("without_slow", "with_slow", "without_slow_after")
PROBE_KINDS = ("page", "hall_json", "sse_first_event")
PROBE_TIMEOUT = 10.0
TARGET_PAGE_P99_MS = 200.0
TCP_ESTABLISHED = 1


# -- the slow connections (their own process) -----------------------------------------


class _Tally:
    """How one kind of slow connection fared (in the slow process)."""

    def __init__(self) -> None:
        self.opened = 0
        self.closed_by_server = 0
        self.refused = 0  # the 503 of a page at its connection limit
        self.other_replies: dict[str, int] = {}
        self.connect_errors = 0
        self.lifetimes: list[float] = []  # seconds from open to closed by the server

    def ended(self, opened_at: float, first: bytes) -> None:
        self.closed_by_server += 1
        self.lifetimes.append(time.monotonic() - opened_at)
        if first.startswith(b"HTTP/1.1 503"):
            self.refused += 1
        elif first:
            line = first.split(b"\r\n", 1)[0].decode("latin-1")[:40]
            self.other_replies[line] = self.other_replies.get(line, 0) + 1

    def summary(self) -> dict[str, Any]:
        life = sorted(self.lifetimes)
        return {"opened": self.opened, "closed_by_server": self.closed_by_server,
                "refused_503": self.refused, "other_replies": self.other_replies,
                "connect_errors": self.connect_errors,
                "held_seconds_p50": round(pct(life, 50), 1) if life else None,
                "held_seconds_max": round(life[-1], 1) if life else None}


async def _talker(kind: str, port: int, token: str, drip: float, tally: _Tally,
                  now_open: Any, slot: int, gate: asyncio.Semaphore) -> None:
    """One idle, slowloris or half connection, until the server closes it."""
    async with gate:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    opened_at = time.monotonic()
    tally.opened += 1
    now_open[slot] += 1
    first = b""
    try:
        if kind == "half":
            writer.write(b"GET /t/")
        elif kind == "slowloris":
            writer.write(f"GET /t/{token} HTTP/1.1\r\nHost: hall\r\nX-Slow: ".encode())
        while True:
            try:
                got = await asyncio.wait_for(reader.read(4096),
                                             drip if kind == "slowloris" else None)
            except TimeoutError:
                writer.write(b"a")  # the next byte of a header that never ends
                continue
            if not got:
                break
            first = first or got
    except ConnectionError:
        pass
    finally:
        now_open[slot] -= 1
        writer.close()
    tally.ended(opened_at, first)


async def _slow_reader(port: int, token: str, rcvbuf: int, tally: _Tally,
                       now_open: Any, slot: int, gate: asyncio.Semaphore) -> None:
    """A live stream of a real ticket that is never read (a small receive buffer);
    ended when the socket leaves ESTABLISHED (the server closed or reset it)."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    try:
        async with gate:
            await loop.sock_connect(sock, ("127.0.0.1", port))
        await loop.sock_sendall(sock, f"GET /t/{token}/events HTTP/1.1\r\nHost: hall\r\n"
                                      "Accept: text/event-stream\r\n\r\n".encode())
        opened_at = time.monotonic()
        tally.opened += 1
        now_open[slot] += 1
        try:
            while sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0] \
                    == TCP_ESTABLISHED:
                await asyncio.sleep(1.0)
        finally:
            now_open[slot] -= 1
        try:  # what the server had said first, without taking anything off the buffer
            first = sock.recv(16, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except OSError:
            first = b""
        tally.ended(opened_at, first)
    finally:
        sock.close()


def slow_process(port: int, tokens: list[str], n: int, drip: float, rcvbuf: int,
                 reopen: float, now_open: Any, ready: Any, stop: Any, out: Any) -> None:
    """Hold n slow connections (a quarter of each kind) until `stop`; put the tallies.
    (In a hall they would come from other machines; here their CPU is on the same
    cores as the server's and the load's, which can only make the figures worse.)"""
    fd_limits.raise_soft_limit()

    async def main() -> None:
        tallies = {k: _Tally() for k in KINDS}
        gate = asyncio.Semaphore(64)  # connect in waves (the page's backlog is 512)
        rng = random.Random(7)
        stopping = False

        async def hold(i: int) -> None:
            kind = KINDS[i % len(KINDS)]
            slot = KINDS.index(kind)
            token = tokens[i % len(tokens)]
            while not stopping:  # (3.11's wait_for can swallow a cancellation)
                try:
                    if kind == "slow_reader":
                        await _slow_reader(port, token, rcvbuf, tallies[kind], now_open,
                                           slot, gate)
                    else:
                        await _talker(kind, port, token, drip, tallies[kind], now_open,
                                      slot, gate)
                except OSError:
                    tallies[kind].connect_errors += 1
                await asyncio.sleep(reopen * (0.5 + rng.random()))

        tasks = [asyncio.ensure_future(hold(i)) for i in range(n)]
        deadline = time.monotonic() + 60
        while sum(now_open) < n * 0.98 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        ready.set()
        cpu0, wall0 = time.process_time(), time.monotonic()
        while not stop.is_set():
            await asyncio.sleep(0.1)
        cores = (time.process_time() - cpu0) / max(1e-6, time.monotonic() - wall0)
        stopping = True
        for t in tasks:
            t.cancel()
        await asyncio.wait(tasks, timeout=10)
        out.put({"tallies": {k: t.summary() for k, t in tallies.items()},
                 "cpu_cores_while_held": round(cores, 3)})

    asyncio.run(main())


# -- the probe: a phone that keeps coming in ----------------------------------------


def _probe_once(port: int, kind: str, token: str) -> tuple[float, str]:
    """One request on a new connection: (seconds, "200" or what went wrong)."""
    path = {"page": f"/t/{token}", "hall_json": "/hall.json",
            "sse_first_event": f"/t/{token}/events"}[kind]
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=PROBE_TIMEOUT)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        resp = conn.getresponse()
        if resp.status != 200:
            resp.read()
            return time.perf_counter() - t0, str(resp.status)
        if kind == "sse_first_event":
            while True:
                line = resp.fp.readline()
                if not line:
                    return time.perf_counter() - t0, "stream ended"
                if line.startswith(b"event: status"):
                    break
        else:
            resp.read()
        return time.perf_counter() - t0, "200"
    except (OSError, http.client.HTTPException) as exc:
        return time.perf_counter() - t0, type(exc).__name__
    finally:
        conn.close()


def probe(port: int, token: str, every: float, stop: threading.Event,
          out: list[tuple[str, float, str, float]]) -> None:
    """Until stop: the three kinds of request in turn, every `every` s; (kind, seconds,
    outcome, wall time it began)."""
    i = 0
    while not stop.is_set():
        kind = PROBE_KINDS[i % len(PROBE_KINDS)]
        i += 1
        began = time.monotonic()
        at = time.time()
        seconds, outcome = _probe_once(port, kind, token)
        out.append((kind, seconds, outcome, at))
        stop.wait(max(0.0, every - (time.monotonic() - began)))


def probe_summary(samples: list[tuple[str, float, str, float]]) -> dict[str, Any]:
    def one(rows: list[tuple[str, float, str, float]]) -> dict[str, Any]:
        answered = [s for _, s, o, _ in rows if o == "200"]
        counted = [s if o == "200" else float("inf") for _, s, o, _ in rows]
        outcomes: dict[str, int] = {}
        for _, _, o, _ in rows:
            outcomes[o] = outcomes.get(o, 0) + 1
        p99 = pct(counted, 99)
        return {"count": len(rows), "answered_200": len(answered), "outcomes": outcomes,
                "p50_ms": _ms(pct(counted, 50)), "p99_ms": _ms(p99),
                "max_ms": _ms(max(counted, default=0.0)),
                "answered_p99_ms": _ms(pct(answered, 99))}

    out = {"all": one(samples)}
    out.update({k: one([r for r in samples if r[0] == k]) for k in PROBE_KINDS})
    # the slowest, with when they began: spikes shared by every kind are the machine
    # or the page's loop stopping, not one route
    worst = sorted(samples, key=lambda r: -r[1] if r[2] == "200" else -1e9)[:10]
    out["slowest"] = [{"kind": k, "ms": round(s * 1000, 1), "outcome": o,
                       "at": round(at, 2)} for k, s, o, at in worst]
    return out


def _ms(seconds: float) -> float | None:
    return None if seconds == float("inf") else round(seconds * 1000, 1)


def _watch(pid: int, now_open: Any, stop: threading.Event,
           out: list[tuple[int, int]]) -> None:
    """Every 0.5 s: the server's open file descriptors, the slow connections open."""
    while not stop.wait(0.5):
        out.append((len(os.listdir(f"/proc/{pid}/fd")), sum(now_open)))


# -- the run ----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--connections", type=int, default=2000)
    ap.add_argument("--seconds", type=float, default=20.0, help="measured, per phase")
    ap.add_argument("--clients", type=int, default=20, help="bench/load.py's clients")
    ap.add_argument("--rate", type=float, default=20.0,
                    help="ops/s per load client, Poisson-paced (0: closed loop)")
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--probe-every", type=float, default=0.05)
    ap.add_argument("--drip", type=float, default=3.0, help="slowloris: s between bytes")
    ap.add_argument("--rcvbuf", type=int, default=1024, help="slow reader: SO_RCVBUF")
    ap.add_argument("--reopen", type=float, default=0.5,
                    help="s (+-50 %%) before a closed slow connection is reopened")
    ap.add_argument("--settle", type=float, default=5.0,
                    help="s between the slow connections all open and the measuring")
    ap.add_argument("--out")
    args = ap.parse_args(argv)
    limit = fd_limits.raise_soft_limit()  # the slow process inherits it
    if limit is not None and limit < args.connections + 100:
        raise SystemExit(f"this process may open only {limit} files")
    kiosks = max(1, round(args.clients * 0.3))
    counters = max(1, args.clients - kiosks)
    summary: dict[str, Any] = {
        "benchmark": "slow_page", "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "load_average_at_start": [round(x, 2) for x in os.getloadavg()]},
        "connections": args.connections, "mix": {k: args.connections // len(KINDS)
                                                 for k in KINDS},
        "clients": args.clients, "rate_per_client": args.rate, "seconds": args.seconds,
        "probe_every": args.probe_every, "drip_seconds": args.drip, "rcvbuf": args.rcvbuf,
        "settle_seconds": args.settle,
        "target_page_p99_ms": TARGET_PAGE_P99_MS, "provisional": True}
    with tempfile.TemporaryDirectory() as tmp, live_hall(
            Path(tmp), extra_args=("--log-level", "WARNING"),
            prepare=lambda d: prepare(d, kiosks, counters, 0)) as hall:
        server = f"{hall.host}:{hall.request_port}:{hall.event_port}"
        assert hall.proc is not None
        pid = hall.proc.pid
        kiosk = hall.connect("kiosk-1")
        # tickets of the probe's matter (PH01): no load clerk calls them, they stay
        # waiting, so their page and stream stay the same all along
        tokens = [kiosk.call("issue", {"services": ["PH01"]}, timeout=30).result["ticket"]
                  ["token"] for _ in range(21)]
        probe_token, slow_tokens = tokens[0], tokens[1:]
        summary["page_limits"] = {"max_connections": 2000, "idle_seconds": 20,
                                  "note": "the defaults of [status_page]"}
        phases: dict[str, Any] = {}
        for phase in PHASES:
            ctx = mp.get_context("spawn")
            now_open = ctx.Array("i", len(KINDS), lock=False)
            ready, stop, out = ctx.Event(), ctx.Event(), ctx.Queue()
            proc = None
            if phase == "with_slow":
                proc = ctx.Process(target=slow_process, args=(
                    hall.status_port, slow_tokens, args.connections, args.drip, args.rcvbuf,
                    args.reopen, now_open, ready, stop, out))
                proc.start()
                if not ready.wait(90):
                    proc.kill()
                    raise RuntimeError("the slow connections did not open in 90 s:\n"
                                       + hall.log()[-2000:])
                slow_ready_at = time.time()
                time.sleep(args.settle)  # their arrival (one burst) is not the steady state
            began_at = time.time()  # wall clock: to line up with the server's log
            samples: list[tuple[str, float, str, float]] = []
            watch: list[tuple[int, int]] = []  # (server fds, slow connections open)
            stop_probe = threading.Event()

            threads = [threading.Thread(target=probe, args=(
                hall.status_port, probe_token, args.probe_every, stop_probe, samples),
                daemon=True), threading.Thread(target=_watch, args=(
                    pid, now_open, stop_probe, watch), daemon=True)]
            for t in threads:
                t.start()
            marks: dict[str, float] = {}
            results, wall, cpu = drive(hall.data, server, kiosks, counters, args.seconds,
                                       "hall", 100 if phase == "without_slow" else 0,
                                       args.rate, pid, "lean", False, 0, args.warmup,
                                       marks, page_pid=hall.status_pid)
            stop_probe.set()
            for t in threads:
                t.join(PROBE_TIMEOUT + 5)
            entry: dict[str, Any] = {
                "began_at": round(began_at, 1), "ended_at": round(time.time(), 1),
                "clerks": per_op(results, CLERK_OPS), "kiosks": per_op(results, KIOSK_OPS),
                "ops_per_second": round(sum(len(v) for r in results
                                            for v in r["lat"].values()) / wall, 1),
                # the probe while the load is measured (its clients' start-up, 20
                # processes spawning, is the bench's own burst), and over the whole phase
                "probe": probe_summary([r for r in samples if marks["measure_start"]
                                        <= r[3] <= marks["measure_end"]]),
                "probe_whole_phase": probe_summary(samples),
                "server_fds": {"min": min((f for f, _ in watch), default=None),
                               "max": max((f for f, _ in watch), default=None)},
                "slow_open": {"min": min((s for _, s in watch), default=None),
                              "max": max((s for _, s in watch), default=None)},
                "server_cpu_cores": {k: round(v / wall, 3) for k, v in cpu.items()
                                     if v / wall >= 0.005}}
            if proc is not None:
                entry["slow_all_open_at"] = round(slow_ready_at, 1)
                stop.set()
                try:
                    entry["slow"] = out.get(timeout=180)
                finally:
                    proc.join(30)
                    if proc.is_alive():
                        proc.kill()
            entry["server_alive"] = hall.proc.poll() is None
            phases[phase] = entry
        summary["phases"] = phases
        log = hall.log()
        summary["server_log_tracebacks"] = log.count("Traceback")
        summary["server_log_emfile"] = log.count("Too many open files")
        summary["server_log_tail"] = log[-1500:]
    summary["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    a, b, c = (phases[p] for p in PHASES)
    page_p99 = b["probe"]["all"]["p99_ms"]
    summary["target_met"] = {
        "page_p99": page_p99 is not None and page_p99 <= TARGET_PAGE_P99_MS,
        "all_probes_answered": b["probe"]["all"]["answered_200"] == b["probe"]["all"]["count"],
        # with / the mean of without (before) and without (after)
        "clerks_p99_ratio": _ratio(b["clerks"]["p99_ms"], a["clerks"]["p99_ms"],
                                   c["clerks"]["p99_ms"]),
        "kiosks_p99_ratio": _ratio(b["kiosks"]["p99_ms"], a["kiosks"]["p99_ms"],
                                   c["kiosks"]["p99_ms"])}
    path = Path(args.out) if args.out else RESULTS / (
        f"slow_page-{dt.datetime.now():%Y%m%d-%H%M%S}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", "utf-8")
    _print(summary, path)
    return 0


def _ratio(x: float | None, *normal: float | None) -> float | None:
    known = [n for n in normal if n]
    return round(x / (sum(known) / len(known)), 2) if x is not None and known else None


def _print(summary: dict[str, Any], path: Path) -> None:
    a, b, c = (summary["phases"][p] for p in PHASES)
    print(f"slow-page bench: {summary['connections']} slow connections ({', '.join(KINDS)}), "
          f"{summary['clients']} load clients at {summary['rate_per_client']:g} ops/s, "
          f"{summary['seconds']:g} s per phase; load average "
          f"{summary['machine']['load_average_at_start']} -> "
          f"{summary['machine']['load_average_after']} (provisional: shared machine)")
    print(f"  {'':<32}{'without':>12}{'with':>12}{'without again':>15}")
    rows: list[tuple[str, Any, Any, Any]] = [
        ("clerks p99 ms", a["clerks"]["p99_ms"], b["clerks"]["p99_ms"], c["clerks"]["p99_ms"]),
        ("kiosks p99 ms", a["kiosks"]["p99_ms"], b["kiosks"]["p99_ms"], c["kiosks"]["p99_ms"]),
        ("load ops/s", a["ops_per_second"], b["ops_per_second"], c["ops_per_second"])]
    for kind in ("all", *PROBE_KINDS):
        pa, pb, pc = a["probe"][kind], b["probe"][kind], c["probe"][kind]
        rows += [(f"probe {kind} p50 ms", pa["p50_ms"], pb["p50_ms"], pc["p50_ms"]),
                 (f"probe {kind} p99 ms", pa["p99_ms"], pb["p99_ms"], pc["p99_ms"]),
                 (f"probe {kind} answered", *(f"{q['answered_200']}/{q['count']}"
                                              for q in (pa, pb, pc)))]
    rows += [("server fds max", *(q["server_fds"]["max"] for q in (a, b, c))),
             ("slow connections open min-max", "-",
              f"{b['slow_open']['min']}-{b['slow_open']['max']}", "-"),
             ("server CPU cores (all threads)",
              *(round(sum(q["server_cpu_cores"].values()), 2) for q in (a, b, c)))]
    for name, *values in rows:
        cells = zip(values, (12, 12, 15), strict=True)
        print(f"  {name:<32}" + "".join(f"{'n/a' if v is None else v!s:>{w}}"
                                        for v, w in cells))
    slow = b.get("slow") or {}
    print(f"  the slow connections' own process: {slow.get('cpu_cores_while_held')} cores "
          "(on the same 2 cores as the server and the load)")
    for kind, t in (slow.get("tallies") or {}).items():
        print(f"  slow {kind:<12} opened {t['opened']}, closed by the page "
              f"{t['closed_by_server']} (503 {t['refused_503']}), held p50 "
              f"{t['held_seconds_p50']} s, max {t['held_seconds_max']} s"
              + (f", other replies {t['other_replies']}" if t["other_replies"] else ""))
    met = summary["target_met"]
    print(f"  target: page p99 <= {TARGET_PAGE_P99_MS:g} ms with the slow connections: "
          f"{'met' if met['page_p99'] else 'NOT met'}; clerks / kiosks p99 with / without "
          f"(mean of before and after): {met['clerks_p99_ratio']} / "
          f"{met['kiosks_p99_ratio']}")
    print(f"  written to {path}")


if __name__ == "__main__":
    raise SystemExit(main())
