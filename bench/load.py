"""Load benchmark: N client processes with CURVE against a real `queue-server run`.

Mixed hall work as a real hall does it: kiosks issue tickets (and now and then look one
up, as a phone on the status page would), counters log in and loop call_next -> start ->
complete. Every client is its own process (spawned, as on Windows): a lean CurveZMQ
client by default (LeanClient, below), or the apps' Connection class (--client
connection); in a closed loop (next request once the reply is in) unless --rate paces
it. After --warmup seconds of load, the requests started in the next --seconds are
measured; every client then waits for the others before it exits, so no process's exit
takes a core from the ones still measuring. The database is the default durable SQLite
file (WAL, synchronous=FULL unless --sync).

    .venv/bin/python bench/load.py --clients 50 --seconds 10
    .venv/bin/python bench/load.py --clients 50 --seconds 10 --no-group-commit

Prints throughput and p50/p99/max per op, writes JSON to bench/results/.
Target: >= 3,000 ops/s with 50 clients and p99 <= 20 ms on this machine.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import multiprocessing as mp
import os
import platform
import random
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.proc import cpu_seconds, thread_cpu  # noqa: E402
from queue_common import protocol as p  # noqa: E402
from queue_common.connection import Connection, Reply  # noqa: E402
from tests.support.live import DEMO_PASSWORD, live_hall  # noqa: E402

RESULTS = REPO / "bench" / "results"
_JSON_ENCODE = msgspec.json.Encoder().encode  # the lean client's; the server reads any JSON
_JSON_DECODE = msgspec.json.Decoder().decode


def prepare_hall(data: Path, kiosks: int, counters: int, synchronous: str) -> None:
    """Enough windows, devices and clerks for the run; the durability level asked for."""
    from queue_server import keys
    from queue_server.devices import hall_database
    from queue_server.passwords import hash_password
    from queue_server.store import admin

    cfg = data / "config.toml"
    text = cfg.read_text("utf-8")
    text = re.sub(r'(?m)^synchronous\s*=\s*"[A-Z]+"', f'synchronous = "{synchronous}"', text)
    existing = {int(n) for n in re.findall(r"(?m)^number\s*=\s*(\d+)", text)}
    extra = [n for n in range(1, counters + 1) if n not in existing]
    text += "".join(f'\n[[counter]]\nnumber = {n}\nname = "{n}号综合窗口"\ngeneral = true\n'
                    f"services = []\n" for n in extra)
    cfg.write_text(text, "utf-8")
    for i in range(1, kiosks + 1):
        keys.create_device_keys(data, f"kiosk-{i}", "kiosk")
    for n in range(1, counters + 1):
        keys.create_device_keys(data, f"counter-{n}", "counter")
    digest = hash_password(DEMO_PASSWORD)
    now = dt.datetime.now(dt.UTC)
    with hall_database(data) as engine:
        for n in range(1, counters + 1):
            admin.add_staff(engine, f"bench{n}", f"压测{n}", f"9{n:03d}", "clerk", digest, now)


class LeanClient:
    """The load generator's client: bench/zmtp_curve.py's CurveDealer, same keys,
    envelope and replies as Connection, without its I/O thread, retries and mirror.

    On this 2-core machine the 50 load processes share the cores with the server, and
    Connection's thread hand-offs cost more CPU per request than the server spends on
    it (the "CPU" line shows both), so the figure would measure the load generator.
    In a hall every client is its own PC. Closed-loop load only; apps use Connection.
    """

    def __init__(self, data: Path, device: str, server: str) -> None:
        from bench.zmtp_curve import CurveDealer
        from queue_common.endpoint import ClientKeys, client_endpoint

        endpoint = client_endpoint(data, server)
        keys = ClientKeys.from_data_dir(data, device)
        self._dealer = CurveDealer(endpoint.host, endpoint.request_port,
                                   keys.server_public, keys.public, keys.secret)
        self.token: str | None = None
        self._prefix = f"{os.getpid():x}-{time.time_ns():x}-"
        self._sent = 0
        self._timeout: float | None = None

    def call(self, op: str, args: dict[str, Any] | None = None, *, timeout: float = 5.0,
             retries: int = 0) -> Reply:
        """Send, wait for the reply with this id."""
        self._sent += 1  # unique per device and run: a pid-and-counter id costs less
        envelope = p.request(op, args, token=self.token,  # than uuid4, same envelope
                             request_id=f"{self._prefix}{self._sent:x}")
        if timeout != self._timeout:
            self._dealer.settimeout(timeout)
            self._timeout = timeout
        self._dealer.send(_JSON_ENCODE(envelope))
        try:
            while True:
                msg = _JSON_DECODE(self._dealer.recv())
                if msg.get("id") == envelope["id"]:
                    break
        except TimeoutError:
            return Reply.failure("TIMEOUT", envelope["id"])
        reply = Reply.from_wire(msg)
        if reply.ok and op == "login" and reply.result:
            self.token = reply.result.get("token")
        return reply

    def wait(self, go: Any) -> None:
        """Until the start signal, answering the server's heartbeats."""
        while not go.is_set():
            self._dealer.keep_alive(0.2)

    def idle(self, seconds: float) -> None:
        """Pause between paced requests, answering the server's heartbeats."""
        self._dealer.keep_alive(seconds)

    def stop(self) -> None:
        self._dealer.close()


def worker(data: str, server: str, device: str, user: str | None, counter: int | None,
           seconds: float, ready: Any, go: Any, out: Any, mix: str = "hall",
           rate: float = 0.0, client: str = "lean", cpus: tuple[int, ...] = (),
           nice: int = 0, warmup: float = 0.0, done: Any = None) -> None:
    """One client process: connect, (log in), wait for go, load the server for `warmup`
    + `seconds`, measuring the requests started in the last `seconds`; then wait for
    `done`, so no client's exit takes CPU from the others still measuring."""
    if cpus:
        os.sched_setaffinity(0, cpus)
    if nice:
        os.nice(nice)
    lat: dict[str, list[float]] = {}
    parts: dict[str, list[float]] = {"send_to_reply": [], "behind_own_reply": [],
                                     "client_late": []}
    errors: dict[str, int] = {}
    cpu = 0.0
    # Request-only connections: in a real hall every PC is its own machine and also
    # mirrors events; here 50 clients share 2 cores with the server, so they skip the
    # event stream to measure the SERVER (bench/fanout.py measures the events).
    conn: Connection | LeanClient
    if client == "lean":
        conn = LeanClient(Path(data), device, server)
    else:
        conn = Connection.from_data_dir(Path(data), device, server, mirror=False)
        conn.start()
    try:
        deadline = time.monotonic() + 30
        reply = conn.call("state")
        while not reply.ok and time.monotonic() < deadline:  # OFFLINE until connected
            time.sleep(0.05)
            reply = conn.call("state")
        state = reply.result or {}
        services = [s["code"] for s in state.get("services", [])
                    if s.get("general")] or ["RS01"]
        if user is not None:  # all clerks log in at once: slow hashes, so be patient
            r = conn.call("login", {"user": user, "password": DEMO_PASSWORD,
                                    "counter": counter}, timeout=120, retries=0)
            if not r.ok:
                raise SystemExit(f"{device}: login failed: {r.error_code}")
        ready.put(device)
        if isinstance(conn, LeanClient):
            conn.wait(go)
        else:
            go.wait()
        rng = random.Random(device)
        measure_from = time.perf_counter() + warmup
        end = measure_from + seconds
        cpu0: float | None = None
        last_ticket: int | None = None
        step = 0

        schedule = [time.perf_counter()]  # paced: when the next request is due
        last_end = 0.0  # when this client's previous reply came in

        def timed(op: str, args: dict[str, Any]) -> Any:
            t0 = time.perf_counter()
            if rate > 0:  # Poisson arrivals at `rate` ops/s from this client
                schedule[0] += rng.expovariate(rate)
                if schedule[0] > t0:
                    if isinstance(conn, LeanClient):
                        conn.idle(schedule[0] - t0)
                    else:
                        time.sleep(schedule[0] - t0)
                # From when it was due, not when it was sent: a late request carries
                # the wait the server caused (no coordinated omission).
                t0 = schedule[0]
            nonlocal cpu0, last_end
            if cpu0 is None and t0 >= measure_from:
                cpu0 = time.process_time()
            sent = time.perf_counter()
            reply = conn.call(op, args, timeout=10)
            done = time.perf_counter()
            if t0 < measure_from:  # warming up: caches, first commits, TCP windows
                last_end = done
                return reply
            lat.setdefault(op, []).append((done - t0) * 1000)
            if rate > 0:  # where a paced request's time went (the JSON's paced_parts)
                parts["send_to_reply"].append((done - sent) * 1000)
                parts["behind_own_reply"].append(max(0.0, last_end - t0) * 1000)
                parts["client_late"].append((sent - max(t0, last_end)) * 1000)
            last_end = done
            if not reply.ok:
                key = f"{op}:{reply.error_code}"
                errors[key] = errors.get(key, 0) + 1
            return reply

        while time.perf_counter() < end:
            step += 1
            if mix == "wire":  # the socket loop, CURVE and envelope alone: no database
                timed("hello", {})
                continue
            if user is None:
                if last_ticket is not None and step % 4 == 0:
                    timed("ticket_status", {"ticket_id": last_ticket})
                    continue
                reply = timed("issue", {"services": [rng.choice(services)]})
                if reply.ok and reply.result:
                    ticket = reply.result.get("ticket", reply.result)
                    last_ticket = ticket.get("id", last_ticket)
            else:
                reply = timed("call_next", {})
                if not reply.ok:
                    time.sleep(0.002)  # queue empty: a clerk would wait too
                    continue
                timed("start", {})
                timed("complete", {})
        cpu = 0.0 if cpu0 is None else time.process_time() - cpu0
    finally:
        out.put({"device": device, "lat": lat, "errors": errors, "cpu": cpu,
                 "parts": parts})
        if done is not None:  # keep the connection and the process until all are done
            done.wait(seconds + 120)
        conn.stop()


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return 0.0
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def drive(data: Path, server: str, kiosks: int, counters: int, seconds: float,
          mix: str = "hall", queue: int = 0, rate: float = 0.0, server_pid: int | None = None,
          client: str = "lean", pin: bool = False, nice: int = 0, warmup: float = 0.0,
          marks: dict[str, float] | None = None, page_pid: int | None = None
          ) -> tuple[list[dict[str, Any]], float, dict[str, float]]:
    """Run every client process against the server.

    Returns their results (requests started in the measured `seconds` after `warmup`),
    the measured seconds and the server's CPU seconds per thread over the same interval
    (empty when its pid is unknown), so a figure says where the cores went. `marks`,
    when given, gets the wall times the measured interval began and ended
    ("measure_start", "measure_end"), for a caller measuring something else alongside."""
    if queue:
        with Connection.from_data_dir(data, "kiosk-1", server, mirror=False) as kiosk:
            state = kiosk.call("state", timeout=30)
            while not state.ok:
                time.sleep(0.05)
                state = kiosk.call("state", timeout=30)
            codes = [s["code"] for s in (state.result or {})["services"] if s["general"]]
            for i in range(queue):
                kiosk.call("issue", {"services": [codes[i % len(codes)]]}, timeout=30)
    client_cpus: tuple[int, ...] = ()
    if pin and server_pid:  # the server on its own core, as on its own PC
        server_cpu_set = {min(os.sched_getaffinity(0))}
        for task in Path(f"/proc/{server_pid}/task").iterdir():  # threads started later
            os.sched_setaffinity(int(task.name), server_cpu_set)  # inherit it
        client_cpus = tuple(sorted(os.sched_getaffinity(0) - server_cpu_set))
    ctx = mp.get_context("spawn")
    ready, out, go, done = ctx.Queue(), ctx.Queue(), ctx.Event(), ctx.Event()
    plan: list[tuple[str, str | None, int | None]] = [
        (f"kiosk-{i}", None, None) for i in range(1, kiosks + 1)]
    plan += [(f"counter-{n}", f"bench{n}", n) for n in range(1, counters + 1)]
    procs = [ctx.Process(target=worker, args=(str(data), server, dev, user, ctr, seconds,
                                              ready, go, out, mix, rate, client,
                                              client_cpus, nice, warmup, done))
             for dev, user, ctr in plan]
    for proc in procs:
        proc.start()
    for _ in procs:
        ready.get(timeout=120)
    go.set()
    time.sleep(warmup)
    if marks is not None:
        marks["measure_start"] = time.time()
    before = _server_cpu(server_pid, page_pid)
    time.sleep(seconds)
    after = _server_cpu(server_pid, page_pid)
    if marks is not None:
        marks["measure_end"] = time.time()
    try:
        results = [out.get(timeout=seconds + 120) for _ in procs]
    finally:
        done.set()
        for proc in procs:
            proc.join(30)
    server_cpu = {name: round(cpu - before.get(name, 0.0), 3) for name, cpu in after.items()}
    return results, seconds, server_cpu


def _server_cpu(server_pid: int | None, page_pid: int | None) -> dict[str, float]:
    """CPU seconds so far of the server's threads, and of the status page's own process
    (counted with the server: it is the server's, on the same cores)."""
    out = thread_cpu(server_pid) if server_pid else {}
    if page_pid:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            out["page process"] = cpu_seconds(page_pid)
    return out


def run_once(args: argparse.Namespace, kiosks: int, counters: int,
             extra: tuple[str, ...]) -> tuple[dict[str, Any], str]:
    """One measured run on a fresh hall (or the attached server): its summary and the
    tail of the server's log."""
    if args.attach:
        data, server = args.attach
        results, wall, server_cpu = drive(Path(data), server, kiosks, counters,
                                          args.seconds, args.mix, args.queue, args.rate,
                                          args.server_pid, args.client, args.pin,
                                          args.nice_clients, args.warmup)
        server_log_tail = ""
    else:
        with tempfile.TemporaryDirectory() as tmp, live_hall(
                Path(tmp), extra_args=(*extra, "--log-level", "WARNING"),
                prepare=lambda d: prepare_hall(d, kiosks, counters, args.sync)) as hall:
            server = f"{hall.host}:{hall.request_port}:{hall.event_port}"
            assert hall.proc is not None
            results, wall, server_cpu = drive(hall.data, server, kiosks, counters,
                                              args.seconds, args.mix, args.queue, args.rate,
                                              hall.proc.pid, args.client, args.pin,
                                              args.nice_clients, args.warmup,
                                              page_pid=hall.status_pid)
            server_log_tail = hall.log()[-2000:]

    per_op: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    for res in results:
        for op, values in res["lat"].items():
            per_op.setdefault(op, []).extend(values)
        for key, n in res["errors"].items():
            errors[key] = errors.get(key, 0) + n
    everything = [v for values in per_op.values() for v in values]
    client_cpu = sum(res["cpu"] for res in results)
    n_ops = max(1, len(everything))
    server_total = sum(server_cpu.values()) if server_cpu else None
    cpu = {"clients_cores": round(client_cpu / wall, 2),
           "clients_us_per_op": round(client_cpu / n_ops * 1e6),
           "server_cores": None if server_total is None else round(server_total / wall, 2),
           "server_us_per_op": None if server_total is None else round(server_total / n_ops * 1e6),
           "server_threads_cores": {name: round(v / wall, 2) for name, v in server_cpu.items()
                                    if v / wall >= 0.005}}
    load_avg = os.getloadavg() if hasattr(os, "getloadavg") else None
    summary = {
        "benchmark": "load", "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": mp.cpu_count(),
                    "load_average_after": load_avg},  # a shared machine: read figures with it
        "clients": args.clients, "kiosks": kiosks, "counters": counters,
        "seconds": args.seconds, "warmup_seconds": args.warmup,
        "mix": args.mix, "client": args.client, "pinned": args.pin,
        "client_niceness": args.nice_clients, "rate_per_client": args.rate, "queue_at_start": args.queue, "sqlite_synchronous": args.sync, "group_commit": not args.no_group_commit,
        "ops": len(everything), "ops_per_second": round(len(everything) / wall, 1),
        "all": {"p50_ms": round(pct(everything, 50), 2), "p99_ms": round(pct(everything, 99), 2),
                "max_ms": round(max(everything, default=0), 2)},
        "per_op": {op: {"count": len(v), "p50_ms": round(pct(v, 50), 2),
                        "p99_ms": round(pct(v, 99), 2), "max_ms": round(max(v), 2)}
                   for op, v in sorted(per_op.items())},
        "errors": errors,
        "cpu": cpu,
    }
    if args.rate:  # a paced request's latency = behind_own_reply + client_late + send_to_reply
        merged: dict[str, list[float]] = {}
        for res in results:
            for name, values in res.get("parts", {}).items():
                merged.setdefault(name, []).extend(values)
        summary["paced_parts"] = {name: {"p50_ms": round(pct(v, 50), 2),
                                         "p99_ms": round(pct(v, 99), 2),
                                         "max_ms": round(max(v, default=0), 2)}
                                  for name, v in merged.items()}
    return summary, server_log_tail


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=10.0,
                    help="measured: requests started in this window count")
    ap.add_argument("--warmup", type=float, default=1.0,
                    help="seconds of load before the measured window (first commits, "
                         "caches, TCP windows); its requests are not counted")
    ap.add_argument("--kiosk-share", type=float, default=0.3,
                    help="share of clients that are kiosks (the rest are counters); 0.3 "
                         "keeps issuing and serving about even, so the queue stays "
                         "hall-sized instead of growing without bound")
    ap.add_argument("--queue", type=int, default=100,
                    help="tickets waiting before the clock starts (a busy morning)")
    ap.add_argument("--sync", default="FULL", choices=["OFF", "NORMAL", "FULL"])
    ap.add_argument("--no-group-commit", action="store_true")
    ap.add_argument("--rate", type=float, default=0.0,
                    help="ops/s per client, Poisson-paced (0: as fast as replies come)")
    ap.add_argument("--mix", default="hall", choices=["hall", "wire"],
                    help="hall: issue/call/start/complete/status; wire: hello only")
    ap.add_argument("--out", help="JSON file (default bench/results/load-<time>.json)")
    ap.add_argument("--attach", nargs=2, metavar=("DATA", "HOST:REQ:EV"),
                    help="drive an already running server (e.g. under a profiler)")
    ap.add_argument("--client", default="lean", choices=["lean", "connection"],
                    help="lean: a single-threaded CurveZMQ client (LeanClient); "
                         "connection: the apps' Connection class (I/O thread, retries)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs on fresh halls; the median by throughput is reported, all "
                         "are listed (this shared 2-core machine varies by +-30%%)")
    ap.add_argument("--pin", action="store_true",
                    help="(Linux) the server's threads on one core, the clients on the "
                         "others: the server measured as if on its own PC")
    ap.add_argument("--nice-clients", type=int, default=0, metavar="N",
                    help="run the client processes at this niceness (e.g. 10), so the "
                         "server gets a core whenever it has work, as on its own PC")
    ap.add_argument("--server-pid", type=int,
                    help="with --attach: the server's pid, to report its CPU")
    ap.add_argument("--prepare-only", metavar="DATA",
                    help="only add the windows, devices and clerks to an initialised DATA")
    args = ap.parse_args(argv)

    kiosks = max(1, round(args.clients * args.kiosk_share))
    counters = max(1, args.clients - kiosks)
    extra = ("--no-group-commit",) if args.no_group_commit else ()
    if args.prepare_only:
        prepare_hall(Path(args.prepare_only), kiosks, counters, args.sync)
        return 0
    runs = [run_once(args, kiosks, counters, extra) for _ in range(max(1, args.repeat))]
    ranked = sorted(runs, key=lambda r: r[0]["ops_per_second"])
    summary, server_log_tail = ranked[len(ranked) // 2]  # the median run, reported whole
    summary["repeats"] = [{"ops_per_second": r["ops_per_second"], "p50_ms": r["all"]["p50_ms"],
                           "p99_ms": r["all"]["p99_ms"]} for r, _ in runs]
    cpu, errors = summary["cpu"], summary["errors"]
    everything = summary["ops"]
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = Path(args.out) if args.out else RESULTS / f"load-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", "utf-8")
    paced = f", paced {args.rate:g} ops/s/client" if args.rate else ", closed loop"
    pinned = ", server pinned to one core" if args.pin else ""
    print(f"load ({args.mix}{paced}, {args.client} client{pinned}): {args.clients} clients ({kiosks} kiosks, "
          f"{counters} counters), "
          f"{args.seconds:.0f} s after {args.warmup:g} s warm-up, synchronous={args.sync}, "
          f"group commit {'on' if summary['group_commit'] else 'off'}")
    print(f"  {summary['ops']} ops, {summary['ops_per_second']} ops/s; all ops "
          f"p50 {summary['all']['p50_ms']} ms, p99 {summary['all']['p99_ms']} ms, "
          f"max {summary['all']['max_ms']} ms")
    for op, s in summary["per_op"].items():
        print(f"  {op:<14} {s['count']:>7}  p50 {s['p50_ms']:>7} ms  p99 {s['p99_ms']:>7} ms"
              f"  max {s['max_ms']:>8} ms")
    threads = ", ".join(f"{k} {v}" for k, v in cpu["server_threads_cores"].items())
    print(f"  CPU: clients {cpu['clients_cores']} cores ({cpu['clients_us_per_op']} us/op), "
          f"server {cpu['server_cores']} cores ({cpu['server_us_per_op']} us/op: {threads}), "
          f"machine {mp.cpu_count()} cores")
    if "paced_parts" in summary:
        parts = summary["paced_parts"]
        print("  paced, where the time went (p50 / p99 ms): sent -> reply in "
              f"{parts['send_to_reply']['p50_ms']} / {parts['send_to_reply']['p99_ms']}; "
              "due while this client's previous reply was out "
              f"{parts['behind_own_reply']['p50_ms']} / {parts['behind_own_reply']['p99_ms']}; "
              "client late to send (its own CPU turn) "
              f"{parts['client_late']['p50_ms']} / {parts['client_late']['p99_ms']}")
    if errors:
        print(f"  error replies: {errors}")
    if len(runs) > 1:
        print("  runs (the median is reported above): " + ", ".join(
            f"{r['ops_per_second']} ops/s p99 {r['p99_ms']} ms" for r in summary["repeats"]))
    if not everything:
        print(server_log_tail, file=sys.stderr)
    print(f"  -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
