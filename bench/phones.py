"""Phones bench: N phones on the live status page while bench/load.py's hall load runs.

Two measured phases on one real `queue-server run`, each with the load of
bench/load.py (--clients processes: kiosks issue, clerks call -> start -> complete):

1. without phones: the clerks' and kiosks' p99;
2. with --phones phones connected to the live page (Server-Sent Events, one aiohttp
   client process holding them all): the same p99s, and the page's update latency.

The update latency is end to end: a probe clerk at its own window (a matter only it
takes, PH01, which every phone's ticket holds) calls the next ticket every --probe-every
seconds; each call moves every phone's `ahead` by one. A phone whose ticket is the j-th
PH01 ticket and now shows `ahead` a has seen the call of the (j - a)-th ticket; its
latency for that call is when its event arrived minus when the probe SENT that call
(so it includes the call itself). Target: update p99 <= 1 s. Wall clocks of processes
on one machine. The probe calls all along (while the load's processes start and log
in, too), but the figures count the calls sent in the load's measured interval (after
its warmup), the interval of the clerks' and kiosks' figures; `update_all` counts
every call.

    .venv/bin/python bench/phones.py --phones 300 --clients 50 --seconds 10
    .venv/bin/python bench/phones.py --phones 50 --clients 8 --seconds 3   # quick

Per probe call it also says where the time went (printed for the worst calls, all of
them in the JSON's ``update.calls``): when the call was sent and its reply came, the
hall seq of its ticket.called event (heard by the probe clerk's own mirror), when the
loop's change-feed note of that seq was published and heard by the page, the refresh
that carried it (the first whose lookup answer is as of that seq or later: when it
began, when its lookup answered, when the phones were woken, what it was started by,
and the pause of the refresh before it), and the first and last phone receipt. The
page's side comes from its trace (queue_server.status_page.TRACE_ENV, a file the bench
names); a server without it still gives the latencies, not the breakdown.

Writes JSON to bench/results/ (or --out). Figures from a shared machine are provisional.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import multiprocessing as mp
import os
import platform
import re
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.load import drive, pct, prepare_hall  # noqa: E402
from tests.support.live import DEMO_PASSWORD, live_hall  # noqa: E402

RESULTS = REPO / "bench" / "results"
PROBE_WINDOW = 99
TRACE_ENV = "QUEUE_STATUS_TRACE"  # queue_server.status_page.TRACE_ENV (named here, so
# the bench also runs against a server that has no trace: latencies, no breakdown)
CLERK_OPS = ("call_next", "start", "complete")
KIOSK_OPS = ("issue", "ticket_status")


def prepare(data: Path, kiosks: int, counters: int, phones: int) -> None:
    """The load's hall, plus the probe's matter, window, device and clerk."""
    from queue_server import keys
    from queue_server.devices import hall_database
    from queue_server.passwords import hash_password
    from queue_server.store import admin

    prepare_hall(data, kiosks, counters, "FULL")
    cfg = data / "config.toml"
    text = cfg.read_text("utf-8")
    text += ('\n[[service]]\ncode = "PH01"\nname = "手机压测事项"\ndepartment = "RS"\n'
             'prefix = "P"\nminutes = 5\ngeneral = false\n'
             f'\n[[counter]]\nnumber = {PROBE_WINDOW}\nname = "压测窗口"\ngeneral = false\n'
             'services = ["PH01"]\n')
    limit = f"max_connections = {max(2000, phones * 2)}"
    if "[status_page]" in text:
        text = re.sub(r"(?m)^max_connections\s*=.*$", limit, text, count=1)
    else:
        text += f"\n[status_page]\n{limit}\n"
    cfg.write_text(text, "utf-8")
    keys.create_device_keys(data, f"counter-{PROBE_WINDOW}", "counter")
    with hall_database(data) as engine:
        admin.add_staff(engine, "probe1", "压测探针", "9999", "clerk",
                        hash_password(DEMO_PASSWORD), dt.datetime.now(dt.UTC))


# -- the phones (their own process) -------------------------------------------------


async def _phone(session: Any, url: str, log: list[tuple[float, int | None, str, str]],
                 connected: Any) -> None:
    """One phone: an SSE stream; logs (arrival wall time, ahead, state) per event."""
    last = ""
    while True:
        try:
            headers = {"Last-Event-ID": last} if last else {}
            async with session.get(url, headers=headers) as resp:
                event = ""
                async for raw in resp.content:
                    line = raw.decode("utf-8").rstrip("\n")
                    if line.startswith("id: "):
                        last = line[4:]
                    elif line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: ") and event == "status":
                        view = json.loads(line[6:])
                        log.append((time.time(), view.get("ahead"), view.get("state"),
                                    view.get("number")))
                        connected()
        except asyncio.CancelledError:
            raise
        except Exception:
            await asyncio.sleep(0.5)


def phones_process(urls: list[str], ready: Any, stop: Any, out: Any) -> None:
    import aiohttp

    async def main() -> None:
        logs: list[list[tuple[float, int | None, str, str]]] = [[] for _ in urls]
        seen: set[int] = set()
        timeout = aiohttp.ClientTimeout(total=None, sock_read=60)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                         timeout=timeout) as session:
            def mark(i: int) -> Any:
                def connected() -> None:
                    if i not in seen:
                        seen.add(i)
                        if len(seen) == len(urls):
                            ready.set()
                return connected

            tasks = [asyncio.ensure_future(_phone(session, u, logs[i], mark(i)))
                     for i, u in enumerate(urls)]
            while not stop.is_set():
                await asyncio.sleep(0.1)
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        out.put(logs)

    asyncio.run(main())


# -- the probe --------------------------------------------------------------------------


def probe(clerk: Any, every: float, stop: threading.Event, sent: dict[str, float],
          replied: dict[str, float] | None = None,
          seqs: dict[str, int] | None = None) -> None:
    """Every `every` s: call the next PH01 ticket (number -> send time, reply time),
    serve it; the hall seq of each ticket.called the clerk's mirror hears goes in
    `seqs` (number -> seq)."""
    def heard(type_: str, data: dict[str, Any]) -> None:
        if type_ == "ticket.called" and seqs is not None:
            for ticket in data.get("tickets") or []:
                seqs.setdefault(str(ticket.get("number")), clerk.mirror.seq)

    clerk.add_listener(heard)
    try:
        while not stop.is_set():
            t0 = time.time()
            reply = clerk.call("call_next", {}, timeout=30)
            if reply.ok:
                number = str(reply.result["ticket"]["number"])
                sent[number] = t0
                if replied is not None:
                    replied[number] = time.time()
            # serve what the window holds (also a call whose reply was lost to a timeout:
            # the window would otherwise stay busy and refuse every later call)
            clerk.call("start", {}, timeout=30)
            clerk.call("complete", {}, timeout=30)
            clerk.poll(10_000)  # the events heard meanwhile (their seqs)
            stop.wait(max(0.0, every - (time.time() - t0)))
    finally:
        clerk.poll(10_000)
        clerk.remove_listener(heard)


def receipts(logs: list[list[tuple[float, int | None, str, str]]],
             numbers: list[str]) -> dict[str, list[float]]:
    """Per probe call (the number called): when each phone first showed its effect.
    numbers: the PH01 tickets in queue order."""
    index = {n: i for i, n in enumerate(numbers)}
    out: dict[str, list[float]] = {}
    for log in logs:
        if not log or log[0][3] not in index:
            continue
        j = index[log[0][3]]
        first_seen: dict[int, float] = {}  # index of the ticket called -> first seen
        for at, ahead, state, _number in log[1:]:
            if state == "waiting" and ahead is not None:
                first_seen.setdefault(j - ahead - 1, at)
            elif state == "called":
                first_seen.setdefault(j, at)
        for called, at in first_seen.items():
            if 0 <= called < len(numbers):
                out.setdefault(numbers[called], []).append(at)
    return out


def update_latencies(logs: list[list[tuple[float, int | None, str, str]]],
                     numbers: list[str], sent: dict[str, float]) -> list[float]:
    """Per phone and probe call: the first event showing its effect, minus the call's
    send time."""
    return [at - sent[number] for number, ats in receipts(logs, numbers).items()
            if number in sent for at in ats]


def read_trace(path: Path) -> tuple[dict[int, dict[str, Any]], list[dict[str, Any]]]:
    """The page's trace: notes by seq (the first heard), refreshes in order."""
    notes: dict[int, dict[str, Any]] = {}
    refreshes: list[dict[str, Any]] = []
    if not path.exists():
        return notes, refreshes
    for line in path.read_text("utf-8").splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if item.get("k") == "note" and isinstance(item.get("seq"), int) and not item.get("beat"):
            notes.setdefault(item["seq"], item)
        elif item.get("k") == "refresh":
            refreshes.append(item)
    return notes, refreshes


def breakdown(sent: dict[str, float], replied: dict[str, float], seqs: dict[str, int],
              got: dict[str, list[float]], notes: dict[int, dict[str, Any]],
              refreshes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per probe call, in ms after the call was sent: reply, the feed note published and
    heard, the refresh that carried it (began, answered, woke), first and last phone."""
    out = []
    for number, t0 in sorted(sent.items(), key=lambda kv: kv[1]):
        ats = got.get(number) or []
        seq = seqs.get(number)
        row: dict[str, Any] = {"number": number, "seq": seq, "phones": len(ats)}

        def ms(at: Any, _t0: float = t0) -> float | None:
            return round((at - _t0) * 1000, 1) if isinstance(at, (int, float)) else None

        row["reply_ms"] = ms(replied.get(number))
        note = notes.get(seq) if seq is not None else None
        row["note"] = "heard" if note else ("dropped" if notes and seq is not None else None)
        row["published_ms"] = ms(note.get("at")) if note else None
        row["note_heard_ms"] = ms(note.get("got")) if note else None
        carried = next((i for i, r in enumerate(refreshes) if seq is not None
                        and isinstance(r.get("seq"), int) and r["seq"] >= seq), None)
        if carried is not None:
            r = refreshes[carried]
            row.update(refresh_began_ms=ms(r.get("began")), refresh_answered_ms=ms(r.get("looked")),
                       refresh_woke_ms=ms(r.get("woke")), refresh_cause=r.get("cause"),
                       refresh_work_ms=round(1000 * float(r.get("work") or 0), 1),
                       refresh_tokens=r.get("tokens"))
            if carried > 0:
                prev = refreshes[carried - 1]
                end = (prev.get("woke") or prev.get("looked") or prev.get("began") or 0)
                row["previous_pause_ms"] = round(1000 * float(prev.get("pause") or 0), 1)
                row["previous_pause_ended_ms"] = ms(end + float(prev.get("pause") or 0))
        row["first_phone_ms"] = ms(min(ats)) if ats else None
        row["last_phone_ms"] = ms(max(ats)) if ats else None
        out.append(row)
    return out


STAGES = (("reply", None, "reply_ms"), ("note heard", "reply_ms", "note_heard_ms"),
          ("to refresh", "note_heard_ms", "refresh_began_ms"),
          ("lookup", "refresh_began_ms", "refresh_answered_ms"),
          ("to first phone", "refresh_answered_ms", "first_phone_ms"),
          ("to last phone", "first_phone_ms", "last_phone_ms"))


def print_worst(calls: list[dict[str, Any]], n: int = 8) -> None:
    """The worst calls (by their last phone) and the time between each two stages."""
    timed = [c for c in calls if c.get("last_phone_ms") is not None]
    if not timed:
        return
    worst = sorted(timed, key=lambda c: -c["last_phone_ms"])[:n]
    print(f"  worst {len(worst)} of {len(timed)} probe calls (ms after the call was sent; "
          "each stage since the one before):")
    for c in worst:
        parts = []
        for name, a, b in STAGES:
            start = 0.0 if a is None else c.get(a)
            end = c.get(b)
            if start is not None and end is not None:
                parts.append(f"{name} {end - start:+.0f}")
        extra = ""
        if c.get("refresh_cause"):
            extra = (f"; refresh by {c['refresh_cause']}, work {c.get('refresh_work_ms')} ms, "
                     f"the one before paused {c.get('previous_pause_ms')} ms "
                     f"(until {c.get('previous_pause_ended_ms')})")
        note = "" if c.get("note") in (None, "heard") else f"; note {c['note']}"
        when = "" if c.get("measured", True) else " (before/after the measured interval)"
        print(f"    {c['number']} seq {c.get('seq')}{when}: last phone {c['last_phone_ms']:.0f} = "
              + ", ".join(parts) + note + extra)


def page_part(calls: list[dict[str, Any]]) -> dict[str, Any]:
    """Per measured call, its reply to its last phone: the page's lag apart from the
    call's own latency (which the clerks' figures measure)."""
    parts = [c["last_phone_ms"] - c["reply_ms"] for c in calls if c.get("measured")
             and c.get("last_phone_ms") is not None and c.get("reply_ms") is not None]
    return {"calls": len(parts), "p50_ms": round(pct(parts, 50), 1),
            "max_ms": round(max(parts, default=0.0), 1)}


def latency_figures(lat: list[float]) -> dict[str, Any]:
    return {"count": len(lat), "negative": sum(x < 0 for x in lat),
            "p50_ms": round(pct(lat, 50) * 1000, 1), "p99_ms": round(pct(lat, 99) * 1000, 1),
            "max_ms": round(max(lat, default=0) * 1000, 1)}


def summarise_refreshes(refreshes: list[dict[str, Any]], notes: dict[int, dict[str, Any]],
                        since: float, until: float) -> dict[str, Any]:
    """The page's refreshes in [since, until) (wall times): how many, why, how long;
    the feed's notes heard, and the seqs missing between them (notes dropped)."""
    rs = [r for r in refreshes if since <= float(r.get("began") or 0) < until
          and r.get("tokens")]
    if not rs:
        return {"count": 0}
    lookup = [float(r["looked"]) - float(r["began"]) for r in rs if r.get("looked")]
    work = [float(r.get("work") or 0) for r in rs]
    pause = [float(r.get("pause") or 0) for r in rs]
    causes: dict[str, int] = {}
    for r in rs:
        causes[str(r.get("cause"))] = causes.get(str(r.get("cause")), 0) + 1
    return {"count": len(rs), "by_cause": causes,
            "lookup_p50_ms": round(pct(lookup, 50) * 1000, 1),
            "lookup_max_ms": round(max(lookup, default=0) * 1000, 1),
            "work_p50_ms": round(pct(work, 50) * 1000, 1),
            "work_max_ms": round(max(work, default=0) * 1000, 1),
            "pause_p50_ms": round(pct(pause, 50) * 1000, 1),
            "pause_max_ms": round(max(pause, default=0) * 1000, 1),
            **_note_gaps(notes, since, until)}


def _note_gaps(notes: dict[int, dict[str, Any]], since: float,
               until: float) -> dict[str, int]:
    heard = sorted(q for q, n in notes.items() if since <= float(n.get("got") or 0) < until)
    if not heard:
        return {"notes": 0, "gaps": 0}
    return {"notes": len(heard), "gaps": heard[-1] - heard[0] + 1 - len(heard)}


def per_op(results: list[dict[str, Any]], ops: tuple[str, ...]) -> dict[str, Any]:
    values = [v for r in results for op, vs in r["lat"].items() if op in ops for v in vs]
    return {"count": len(values), "p50_ms": round(pct(values, 50), 2),
            "p99_ms": round(pct(values, 99), 2)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--phones", type=int, default=300)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--probe-every", type=float, default=1.0)
    ap.add_argument("--out")
    args = ap.parse_args(argv)
    kiosks = max(1, round(args.clients * 0.3))
    counters = max(1, args.clients - kiosks)
    summary: dict[str, Any] = {
        "benchmark": "phones", "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "load_average_at_start": os.getloadavg() if hasattr(os, "getloadavg")
                    else None},
        "phones": args.phones, "clients": args.clients, "seconds": args.seconds,
        "probe_every": args.probe_every, "provisional": True}
    trace_dir = tempfile.TemporaryDirectory()
    trace = Path(trace_dir.name) / "page-trace.jsonl"
    os.environ[TRACE_ENV] = str(trace)  # the server's page writes it (its environment)
    with trace_dir, tempfile.TemporaryDirectory() as tmp, live_hall(
            Path(tmp), extra_args=("--log-level", "WARNING"),
            prepare=lambda d: prepare(d, kiosks, counters, args.phones)) as hall:
        server = f"{hall.host}:{hall.request_port}:{hall.event_port}"
        assert hall.proc is not None
        kiosk = hall.connect("kiosk-1")
        issued = [kiosk.call("issue", {"services": ["PH01"]}, timeout=30).result["ticket"]
                  for _ in range(args.phones + 200)]
        tokens = [t["token"] for t in issued]
        numbers = [str(t["number"]) for t in issued]
        clerk = hall.connect(f"counter-{PROBE_WINDOW}", user="probe1", counter=PROBE_WINDOW)
        clerk.call("open_counter", {})
        phases: dict[str, Any] = {}
        for phase in ("without_phones", "with_phones"):
            stop_probe = threading.Event()
            sent: dict[str, float] = {}
            replied: dict[str, float] = {}
            seqs: dict[str, int] = {}
            ctx = mp.get_context("spawn")
            ready, stop, out = ctx.Event(), ctx.Event(), ctx.Queue()
            proc = None
            if phase == "with_phones":
                urls = [f"http://127.0.0.1:{hall.status_port}/t/{t}/events"
                        for t in tokens[-args.phones:]]  # the last: waiting all along
                proc = ctx.Process(target=phones_process, args=(urls, ready, stop, out))
                proc.start()
                if not ready.wait(60):
                    raise RuntimeError("the phones did not all connect in 60 s")
            prober = threading.Thread(target=probe, args=(clerk, args.probe_every, stop_probe,
                                                          sent, replied, seqs), daemon=True)
            prober.start()
            marks: dict[str, float] = {}
            results, wall, _cpu = drive(hall.data, server, kiosks, counters, args.seconds,
                                        "hall", 100 if phase == "without_phones" else 0, 0.0,
                                        hall.proc.pid, "lean", False, 0, args.warmup, marks)
            stop_probe.set()
            prober.join(10)
            entry: dict[str, Any] = {
                "clerks": per_op(results, CLERK_OPS), "kiosks": per_op(results, KIOSK_OPS),
                "ops_per_second": round(sum(len(v) for r in results
                                            for v in r["lat"].values()) / wall, 1),
                "probe_calls": len(sent)}
            if proc is not None:
                time.sleep(1.5)  # the last call's events arrive
                stop.set()
                logs = out.get(timeout=60)
                proc.join(30)
                start, end = marks["measure_start"], marks["measure_end"]
                measured = {n: t0 for n, t0 in sent.items() if start <= t0 < end}
                notes, refreshes = read_trace(trace)
                calls = breakdown(sent, replied, seqs, receipts(logs, numbers), notes,
                                  refreshes)
                for call in calls:
                    call["measured"] = call["number"] in measured
                entry["update"] = dict(latency_figures(update_latencies(logs, numbers,
                                                                        measured)),
                                       calls=calls)
                entry["update_all"] = latency_figures(update_latencies(logs, numbers, sent))
                entry["page_part"] = page_part(calls)
                entry["page_refreshes"] = summarise_refreshes(refreshes, notes, start, end)
            phases[phase] = entry
        summary["phases"] = phases
        summary["server_log_tail"] = hall.log()[-1500:]
    summary["machine"]["load_average_after"] = (os.getloadavg() if hasattr(os, "getloadavg")
                                                else None)
    path = Path(args.out) if args.out else RESULTS / (
        f"phones-{dt.datetime.now():%Y%m%d-%H%M%S}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", "utf-8")
    a, b = phases["without_phones"], phases["with_phones"]
    print(f"phones bench ({args.phones} phones, {args.clients} clients, {args.seconds} s; "
          f"provisional: shared machine)")
    print(f"  clerks p99: {a['clerks']['p99_ms']} ms without phones, "
          f"{b['clerks']['p99_ms']} ms with")
    print(f"  kiosks p99: {a['kiosks']['p99_ms']} ms without phones, "
          f"{b['kiosks']['p99_ms']} ms with")
    u = b.get("update", {})
    print(f"  page update: p50 {u.get('p50_ms')} ms, p99 {u.get('p99_ms')} ms, "
          f"max {u.get('max_ms')} ms over {u.get('count')} updates (target p99 <= 1000 ms)")
    w = b.get("update_all", {})
    print(f"    every probe call, also those while the load started: p50 {w.get('p50_ms')}"
          f" ms, p99 {w.get('p99_ms')} ms, max {w.get('max_ms')} ms over {w.get('count')}")
    part = b.get("page_part") or {}
    if part.get("calls"):
        print(f"    the page's part (the probe call's reply to its last phone, per call): "
              f"p50 {part['p50_ms']} ms, max {part['max_ms']} ms over {part['calls']} calls")
    print_worst(u.get("calls") or [])
    r = b.get("page_refreshes") or {}
    if r.get("count"):
        print(f"  page refreshes while measured: {r['count']} ({r['by_cause']}), lookup "
              f"p50 {r['lookup_p50_ms']} / max {r['lookup_max_ms']} ms, work p50 "
              f"{r['work_p50_ms']} / max {r['work_max_ms']} ms, pause p50 {r['pause_p50_ms']}"
              f" / max {r['pause_max_ms']} ms; notes heard {r['notes']}, seq gaps {r['gaps']}")
    print(f"  written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
