"""`queue-server demo`: the whole hall starts, a simulated day runs, Ctrl-C stops it all."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from queue_common.connection import Connection


def free_port_triple() -> tuple[int, int, int]:
    """Three ports the OS says are free now (the demo reads fixed ports from config)."""
    socks = [socket.socket() for _ in range(3)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        a, b, c = (s.getsockname()[1] for s in socks)
        return a, b, c
    finally:
        for s in socks:
            s.close()


def _wait_for(path: Path, text: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    out = ""
    while time.monotonic() < deadline:
        out = path.read_text("utf-8", errors="replace") if path.exists() else ""
        if text in out:
            return out
        time.sleep(0.3)
    raise AssertionError(f"{text!r} not seen in {path} within {timeout}s:\n{out}")


@pytest.mark.slow
def test_demo_hall_runs_a_simulated_day_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    if sys.platform == "win32":
        pytest.skip("POSIX signal delivery")
    data = tmp_path / "hall"
    req, ev, status = free_port_triple()
    from queue_server.commands.demo import make_demo_hall

    make_demo_hall(data)
    cfg = data / "config.toml"
    text = cfg.read_text("utf-8")
    text = text.replace("request_port = 5555", f"request_port = {req}")
    text = text.replace("event_port = 5556", f"event_port = {ev}")
    text = text.replace("status_port = 5580", f"status_port = {status}")
    cfg.write_text(text, "utf-8")
    assert f"request_port = {req}" in text, "config layout changed: ports not replaced"
    out_path = tmp_path / "demo.out"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with out_path.open("wb") as out:
        # A session of its own: Ctrl-C in a terminal signals the whole process group,
        # every app of the hall included, not only the launcher.
        proc = subprocess.Popen(
            [sys.executable, "-m", "queue_server.cli", "demo", "--data", str(data),
             "--simulate", "--mute", "--arrivals", "60"],
            stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        _wait_for(out_path, "The hall is open", 60)
        conn = Connection.from_data_dir(data, "board-1")
        conn.start()
        try:
            # Simulated citizens take tickets and the simulated clerk at window 3 calls them.
            assert conn.wait_until(lambda: any(
                c.get("number") == 3 and c.get("state") in ("calling", "serving")
                for c in conn.mirror.state.get("counters", {}).values()), timeout=60), \
                out_path.read_text("utf-8")

            def clerk_at(number: int) -> str | None:
                counter = conn.mirror.state["counters"].get(number) or {}
                return (counter.get("clerk") or {}).get("user")

            # The demo clerks at windows 1 and 2 log in by themselves (their apps start
            # alongside the simulation, so give them the same minute).
            assert conn.wait_until(lambda: clerk_at(1) == "clerk1" and clerk_at(2) == "clerk2",
                                   timeout=60), (clerk_at(1), clerk_at(2))
        finally:
            conn.stop()
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        proc.wait(timeout=40)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out = out_path.read_text("utf-8")
    assert "all stopped." in out
    assert "stopped (exit code" not in out, out  # no child crashed during the run
    assert proc.returncode == 0
    # Each app ended quietly: a traceback in its log reads like a crash.
    app_logs = [p for p in (data / "logs").glob("demo-*.log") if "queue-server" not in p.name]
    assert len(app_logs) >= 4, app_logs
    for log in app_logs:
        text = log.read_text("utf-8", errors="replace")
        assert "Traceback" not in text and "KeyboardInterrupt" not in text, (log, text[-2000:])


def test_simulated_citizens_at_a_closed_hall_say_so_once_not_at_every_arrival(
        tmp_path: Path) -> None:
    """A newcomer starts the demo on a data dir with real hours at night: one line says
    the hall is closed, instead of a HALL_CLOSED line every few seconds."""
    import re

    from queue_server.demo.simulate import SimSettings, Simulation
    from tests.support.live import live_hall

    def closed_all_week(data: Path) -> None:
        cfg = data / "config.toml"
        cfg.write_text(re.sub(r'(?m)^(mon|tue|wed|thu|fri|sat|sun|holiday)\s*=\s*"[^"]*"',
                              lambda m: f'{m.group(1)} = "closed"',
                              cfg.read_text("utf-8")), "utf-8")

    said: list[str] = []
    with live_hall(tmp_path, prepare=closed_all_week) as hall:
        sim = Simulation(hall.data, SimSettings(arrivals_per_minute=600, clerks=(), seed=1),
                         server=f"{hall.host}:{hall.request_port}:{hall.event_port}",
                         say=said.append)
        sim.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not said:
            time.sleep(0.1)
        time.sleep(3)  # ~30 more arrivals, all refused
        sim.stop()
    closed = [line for line in said if "HALL_CLOSED" in line]
    assert len(closed) == 1, said
    assert "said once" in closed[0]
