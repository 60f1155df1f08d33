"""Hall board benchmark: call -> board repainted with 20 boards, voice latency, RSS, idle CPU.

A real server (tests/support/live.py), --boards subscribers in all (default 20) of which
--real are real `display-board` processes on a private Xvfb (the first 1920x1080, the
rest 640x360), all subscribed as board-1.
A clerk calls tickets one by one; every board writes a trace line when a repaint has
completed (`--trace-paint`, after Tk's idle redraw) and the speaking board when an
announcement's audio is ready. Figures:

- press -> repainted: trace time minus the moment the clerk sent call_next (includes
  the database commit); commit -> repainted: minus the arrival of the clerk's reply
  (the server replies right after the commit). Over all boards x all calls.
- call -> first audio sample ready: in the speaking board, from the call event reaching
  the board to the announcement WAV (chime + sentence x repeat) being ready to play;
  and end to end from the clerk's press. Calls here come faster than speech (the
  speaking board has no sound card: aplay fails at once), so some wait behind the
  previous announcement; the figure for an idle announcer is reported apart.
- RSS of each board (/proc, Linux) and CPU while idle with the clock ticking, over
  --idle seconds with no calls; plus one board scrolling a long notice (marquee).

All processes are on this machine and use time.perf_counter (CLOCK_MONOTONIC on Linux),
so their times compare directly.

    .venv/bin/python bench/board.py --boards 20 --real 1 --calls 60    # 20 PCs
    .venv/bin/python bench/board.py --boards 20 --real 20 --calls 60   # all on this PC
    .venv/bin/python bench/board.py --boards 3 --real 1 --pack phrase  # a voice pack

With --pack UNITS the hall's [announce] pack is a voice pack of that unit size, cut
from espeak-ng before the server starts (letter A, numbers 000-999, windows 1-8: the
size of a real phrase pack); the speaking board joins each call from it, and the trace
gives the time spent cutting and joining clips.

With --real 1 one board is measured while 19 more subscribers load the server's fan-out,
as in a hall where each board has its own PC; --real 20 runs twenty Tk boards on this
machine's cores (the worst case: the boards queue for the CPU, not for the network).

Targets: repaint p99 <= 50 ms with 20 boards; audio ready <= 300 ms (with a pack
too, joining <= 5 ms); RSS <= 80 MB; idle CPU <= 2 %.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import multiprocessing as mp
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.fanout import subscriber_proc  # noqa: E402
from bench.load import pct  # noqa: E402
from bench.proc import cpu_seconds, rss_mb  # noqa: E402
from tests.support.live import live_hall  # noqa: E402
from tests.support.xvfb import start_xvfb, stop_xvfb  # noqa: E402

RESULTS = REPO / "bench" / "results"
LONG_NOTICE = ("请在休息区等候，留意大屏和语音叫号。过号请到取号机重新登记。本中心实行一窗通办，"
               "一个号可办理多项业务；70岁以上老人、残疾人、军人可走绿色通道。")


def board_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "display_board.app", *args]


def env_for(display: str) -> dict[str, str]:
    env = dict(os.environ, DISPLAY=display, PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    return env


def read_trace(path: Path) -> list[list[str]]:
    try:
        return [line.split() for line in path.read_text().splitlines() if line.strip()]
    except OSError:
        return []


def idle_cpu(pids: list[int], seconds: float) -> list[float]:
    before = {pid: cpu_seconds(pid) for pid in pids}
    t0 = time.monotonic()
    time.sleep(seconds)
    wall = time.monotonic() - t0
    return [100 * (cpu_seconds(pid) - before[pid]) / wall for pid in pids]


def stats(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "p50": round(pct(values, 50), 2), "p99": round(pct(values, 99), 2),
            "max": round(max(values, default=0.0), 2)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--boards", type=int, default=20, help="subscribers in all")
    ap.add_argument("--real", type=int, default=1,
                    help="how many of them are real display-board processes on this "
                         "machine (the rest are raw subscribers, like boards on other PCs)")
    ap.add_argument("--calls", type=int, default=60)
    ap.add_argument("--interval", type=float, default=0.25, help="seconds between calls")
    ap.add_argument("--idle", type=float, default=20.0, help="seconds of idle CPU sampling")
    ap.add_argument("--pack", metavar="UNITS", help="speak from a voice pack of these units "
                    "(phrase, compact, word, syllable) cut from espeak-ng")
    ap.add_argument("--out")
    args = ap.parse_args(argv)

    load_before = round(os.getloadavg()[0], 2)  # other work on this machine skews timings
    xvfb, display = start_xvfb(1920, 1080)
    boards: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp, live_hall(
                Path(tmp), extra_args=("--log-level", "WARNING"),
                prepare=(lambda data: with_pack(data, args.pack)) if args.pack
                else None) as hall:
            # Subscribers that are not real boards: raw CURVE SUB sockets (bench/fanout.py),
            # standing in for boards on other PCs (the server's fan-out cost is the same).
            mpctx = mp.get_context("spawn")
            ready, out, stop = mpctx.Queue(), mpctx.Queue(), mpctx.Event()
            extra_subs = max(0, args.boards - args.real)
            per = [n for n in (extra_subs - extra_subs // 2, extra_subs // 2) if n]
            subs = [mpctx.Process(target=subscriber_proc, args=(
                str(hall.data), hall.endpoint.event_url, n, ready, stop, out)) for n in per]
            for proc in subs:
                proc.start()
            subscribed = sum(ready.get(timeout=60) for _ in subs)
            traces = [Path(tmp) / f"board-{i}.trace" for i in range(args.real)]
            server = f"{hall.host}:{hall.request_port}:{hall.event_port}"
            for i, trace in enumerate(traces):
                x, y = (i % 3) * 640, ((i // 3) % 3) * 360
                geometry = "1920x1080+0+0" if i == 0 else f"640x360+{x}+{y}"
                extra = [] if i == 0 else ["--mute"]  # one voice per hall
                boards.append(subprocess.Popen(
                    board_cmd("--server", server, "--data", str(hall.data), "--device",
                              "board-1", "--geometry", geometry, "--trace-paint", str(trace),
                              *extra),
                    env=env_for(display), stdout=subprocess.DEVNULL,
                    stderr=open(Path(tmp) / f"board-{i}.log", "wb")))  # noqa: SIM115
            deadline = time.monotonic() + 120
            while not all(read_trace(t) for t in traces):
                if time.monotonic() > deadline:
                    raise SystemExit("boards did not start; see their logs")
                time.sleep(0.2)
            time.sleep(2.0)  # let start-up settle (first snapshot, fonts)
            kiosk = hall.connect("kiosk-1")
            clerk = hall.connect("counter-1", user="clerk1", counter=1)
            for _ in range(args.calls):
                assert kiosk.call("issue", {"services": ["RS01"]}).ok
            time.sleep(1.0)
            sent: dict[str, tuple[float, float]] = {}
            for _ in range(args.calls):
                t_send = time.perf_counter()
                reply = clerk.call("call_next")
                t_reply = time.perf_counter()
                assert reply.ok and reply.result, reply
                sent[str(reply.result["ticket"]["number"])] = (t_send, t_reply)
                assert clerk.call("start").ok
                assert clerk.call("complete", {"done": None, "not_done": []}).ok
                time.sleep(args.interval)
            time.sleep(max(3.0, 0.5 * args.calls))  # let the voice queue drain
            # Idle: nobody calls, the clocks tick.
            pids = [b.pid for b in boards]
            cpu = idle_cpu(pids, args.idle)
            rss = [rss_mb(pid) for pid in pids]
            lines = [read_trace(t) for t in traces]  # before the temp dir goes
            stop.set()
            for _proc in subs:
                out.get(timeout=60)
            for proc in subs:
                proc.join(10)

        press_paint: list[float] = []
        commit_paint: list[float] = []
        missing = 0
        event_paint: list[float] = []
        for board_lines in lines:
            first_paint: dict[str, float] = {}
            arrived: dict[str, float] = {}
            for parts in board_lines:
                if parts[0] == "event" and parts[2] in sent:
                    arrived.setdefault(parts[2], float(parts[1]))
                if parts[0] == "paint" and parts[2] in sent and parts[3] == "1":
                    first_paint.setdefault(parts[2], float(parts[1]))
            event_paint += [(first_paint[n] - arrived[n]) * 1000 for n in arrived
                            if n in first_paint]
            for number, (t_send, t_reply) in sent.items():
                if number not in first_paint:
                    missing += 1
                    continue
                press_paint.append((first_paint[number] - t_send) * 1000)
                commit_paint.append((first_paint[number] - t_reply) * 1000)
        audio_event: list[float] = []
        audio_press: list[float] = []
        audio_idle: list[float] = []  # the announcer had finished the previous one
        joins: list[float] = []  # a voice pack's cutting and joining, per call
        previous_end = 0.0
        for parts in lines[0]:
            if parts[0] == "audio" and parts[2] in sent:
                ready, queued, finished = float(parts[1]), float(parts[4]), float(parts[5])
                if len(parts) > 6 and float(parts[6]) > 0:
                    joins.append(float(parts[6]))
                audio_event.append((ready - queued) * 1000)
                audio_press.append((ready - sent[parts[2]][0]) * 1000)
                if queued >= previous_end:
                    audio_idle.append((ready - queued) * 1000)
                previous_end = finished
    finally:
        for b in boards:
            b.terminate()
        for b in boards:
            try:
                b.wait(10)
            except subprocess.TimeoutExpired:
                b.kill()
        if sys.exc_info()[0] is not None:  # failing: do not leave the display behind
            xvfb.terminate()

    try:
        marquee_cpu, marquee_rss = marquee_board(display, args.idle)
    finally:
        stop_xvfb(xvfb)

    summary: dict[str, Any] = {
        "benchmark": "board", "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "subscribers": args.real + subscribed, "real_boards": args.real,
        "calls": len(sent), "missing_paints": missing,
        "press_to_repaint_ms": stats(press_paint),
        "commit_to_repaint_ms": stats(commit_paint),
        "event_on_tk_to_repaint_ms": stats(event_paint),
        "load_average_1min": {"before": load_before, "after": round(os.getloadavg()[0], 2)},
        "event_to_audio_ready_ms": stats(audio_event),
        "press_to_audio_ready_ms": stats(audio_press),
        "event_to_audio_ready_idle_announcer_ms": stats(audio_idle),
        "announcements": len(audio_event),
        "voice": f"pack:{args.pack} (cut from espeak-ng)" if args.pack else "tts",
        "pack_join_ms": stats(joins) if joins else None,
        "rss_mb": {"board_1920x1080": round(rss[0], 1),
                   "max_all": round(max(rss), 1), "mean_all": round(sum(rss) / len(rss), 1)},
        "idle_cpu_percent": {"board_1920x1080": round(cpu[0], 2), "max_all": round(max(cpu), 2),
                             "mean_all": round(sum(cpu) / len(cpu), 2),
                             "seconds": args.idle},
        "marquee_board_1920x1080": {"cpu_percent": round(marquee_cpu, 2),
                                    "rss_mb": round(marquee_rss, 1)},
    }
    pr, cr = summary["press_to_repaint_ms"], summary["commit_to_repaint_ms"]
    ae, ap_ = summary["event_to_audio_ready_ms"], summary["press_to_audio_ready_ms"]
    print(f"board: {args.real + subscribed} subscribers of which {args.real} real boards "
          f"on this machine, {len(sent)} calls, {missing} paints missing")
    print(f"  commit -> repainted: p50 {cr['p50']} ms, p99 {cr['p99']} ms, max {cr['max']} ms")
    print(f"  press  -> repainted: p50 {pr['p50']} ms, p99 {pr['p99']} ms, max {pr['max']} ms")
    er = summary["event_on_tk_to_repaint_ms"]
    print(f"  event delivered on the Tk thread -> repainted: p50 {er['p50']} ms, "
          f"p99 {er['p99']} ms")
    print(f"  load average (1 min) before/after: {load_before} / "
          f"{summary['load_average_1min']['after']} on {os.cpu_count()} CPUs")
    print(f"  event  -> audio ready: p50 {ae['p50']} ms, p99 {ae['p99']} ms "
          f"({len(audio_event)} announcements)")
    print(f"  press  -> audio ready: p50 {ap_['p50']} ms, p99 {ap_['p99']} ms")
    ai = summary["event_to_audio_ready_idle_announcer_ms"]
    print(f"  event  -> audio ready, announcer idle (not queued behind a previous call): "
          f"p50 {ai['p50']} ms, p99 {ai['p99']} ms ({ai['n']})")
    if joins:
        pj = summary["pack_join_ms"]
        print(f"  voice pack ({args.pack}): cutting and joining a call p50 {pj['p50']} ms, "
              f"p99 {pj['p99']} ms, max {pj['max']} ms ({pj['n']} calls)")
    print(f"  RSS: 1920x1080 board {summary['rss_mb']['board_1920x1080']} MB, "
          f"max of all {summary['rss_mb']['max_all']} MB")
    ic = summary["idle_cpu_percent"]
    print(f"  idle CPU over {args.idle:.0f} s: 1920x1080 board {ic['board_1920x1080']} %, "
          f"max {ic['max_all']} %, mean {ic['mean_all']} %")
    print(f"  scrolling-notice board: CPU {marquee_cpu:.2f} %, RSS {marquee_rss:.1f} MB")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = Path(args.out) if args.out else (
        RESULTS / f"board-{args.boards}subs-{args.real}real"
        f"{'-pack-' + args.pack if args.pack else ''}.json")
    path.write_text(json.dumps(summary, indent=2) + "\n", "utf-8")
    print(f"  -> {path}")
    return 0


def with_pack(data: Path, units: str) -> None:
    """A voice pack in the hall's data dir, named in its [announce] (see the docstring)."""
    import re
    import threading

    from display_board.settings import AnnounceSettings
    from display_board.voice import Synth
    from display_board.voice_tools import cut_pack, new_manifest

    manifest = new_manifest(name="bench pack (espeak-ng)", units=units, letters="A",
                            windows=range(1, 9), digits=3, template="", template_en="",
                            english=False, rate=22050, licence="generated by bench/board.py")
    if not manifest.template:
        from display_board.speech_text import DEFAULT_TEMPLATE_ZH

        manifest = dataclasses.replace(manifest, template=DEFAULT_TEMPLATE_ZH)

    def cut() -> None:
        synth = Synth(AnnounceSettings())
        try:
            cut_pack(data / "voice-pack", manifest, synth.clip)
        finally:
            synth.close()

    started = time.monotonic()
    worker = threading.Thread(target=cut)
    worker.start()
    worker.join()
    print(f"  cut a {units} pack of {len(manifest.clips)} clips from espeak-ng in "
          f"{time.monotonic() - started:.0f} s")
    config = data / "config.toml"
    text = config.read_text("utf-8")
    text, n = re.subn(r"(?m)^\[announce\]\s*$", '[announce]\npack = "voice-pack"', text,
                      count=1)
    if n != 1:
        text += '\n[announce]\npack = "voice-pack"\n'
    config.write_text(text, "utf-8")


def marquee_board(display: str, seconds: float) -> tuple[float, float]:
    """CPU of one 1920x1080 board whose notice is too long and scrolls (no server)."""
    with tempfile.TemporaryDirectory() as tmp:
        notice = LONG_NOTICE.replace('"', "")
        (Path(tmp) / "config.toml").write_text(f'[board]\nnotice = "{notice}"\n', "utf-8")
        proc = subprocess.Popen(board_cmd("--preview", "--mute", "--data", tmp, "--geometry",
                                          "1920x1080+0+0"), env=env_for(display),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(4.0)
            cpu = idle_cpu([proc.pid], seconds)[0]
            return cpu, rss_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    sys.exit(main())
