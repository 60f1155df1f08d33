"""Start a whole hall on one machine: server, two callers, the hall board and a kiosk.

Each part is its own process (as on real hall PCs), started with the same Python, so
the demo exercises exactly what a hall runs. A child that dies is reported and the rest
keep running; Ctrl-C (or SIGTERM, or closing the launcher's console on Windows) stops
them all, the server last so nobody loses the server mid-operation.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from queue_server.commands.init import DEMO_PASSWORD

POLL_SECONDS = 0.2
STOP_GRACE_SECONDS = 8.0


@dataclass
class Child:
    """One process of the demo hall and how to start it again by hand."""

    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    reported: bool = False
    log_path: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Screen:
    width: int
    height: int


@dataclass
class DemoPlan:
    """What to start and where to put each window on one screen."""

    server: Child
    apps: list[Child] = field(default_factory=list)


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def screen_size() -> Screen:
    """The primary screen's size; 1920x1080 when there is no display (CI, ssh)."""
    if sys.platform != "win32" and not os.environ.get("DISPLAY"):
        return Screen(1920, 1080)
    try:
        import tkinter

        root = tkinter.Tk()
        root.withdraw()
        size = Screen(root.winfo_screenwidth(), root.winfo_screenheight())
        root.destroy()
        return size
    except Exception:  # no display server reachable: place windows for a common screen
        return Screen(1920, 1080)


def plan(data: Path, screen: Screen, *, mute: bool = False) -> DemoPlan:
    """The demo hall: the board takes the left 60%, the callers and the kiosk the rest."""
    d = str(data)
    w, h = screen.width, screen.height
    board_w = int(w * 0.6)
    right_x = board_w
    right_w = w - board_w
    caller_h = max(220, h // 5)
    clerk_env = {"QUEUE_PASSWORD": DEMO_PASSWORD}  # demo clerks log in by themselves
    board_args = ["--data", d, "--device", "board-1", "--geometry",
                  f"{board_w}x{h - 60}+0+0"]
    if mute:
        board_args.append("--mute")
    apps = [
        Child("display-board", python_module("display_board.app", *board_args)),
        Child("counter-client 1", python_module(
            "counter_client.app", "--data", d, "--device", "counter-1", "--counter", "1",
            "--user", "clerk1", "--geometry", f"{right_w}x{caller_h}+{right_x}+0"),
            extra_env=clerk_env),
        Child("counter-client 2", python_module(
            "counter_client.app", "--data", d, "--device", "counter-2", "--counter", "2",
            "--user", "clerk2", "--geometry",
            f"{right_w}x{caller_h}+{right_x}+{caller_h + 40}"),
            extra_env=clerk_env),
        Child("ticket-printer", python_module(
            "ticket_printer.app", "--data", d, "--device", "kiosk-1", "--geometry",
            f"{right_w}x{h - 2 * caller_h - 140}+{right_x}+{2 * caller_h + 80}")),
    ]
    server = Child("queue-server", python_module("queue_server.cli", "run", "--data", d))
    return DemoPlan(server=server, apps=apps)


def _creation_flags() -> int:
    # On Windows each child gets its own process group so CTRL_BREAK reaches only it.
    return getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0) if sys.platform == "win32" else 0


def start(child: Child, logs: Path, env: dict[str, str]) -> None:
    logs.mkdir(parents=True, exist_ok=True)
    slug = child.name.replace(" ", "-")
    child.log_path = logs / f"demo-{slug}.log"
    log = child.log_path.open("ab")
    child.process = subprocess.Popen(
        child.argv, stdout=log, stderr=subprocess.STDOUT, env={**env, **child.extra_env},
        creationflags=_creation_flags())
    log.close()  # the child holds its own handle
    child.reported = False


def stop(child: Child) -> None:
    """Ask politely (SIGTERM / CTRL_BREAK), then kill after a grace period."""
    proc = child.process
    if proc is None or proc.poll() is not None:
        return
    try:
        if sys.platform == "win32":
            proc.send_signal(signal.CTRL_BREAK_EVENT)
        else:
            proc.terminate()
        proc.wait(timeout=STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=STOP_GRACE_SECONDS)
    except OSError:
        pass


def wait_for_port(host: str, port: int, timeout: float, alive: Callable[[], bool]) -> bool:
    """True once something accepts TCP on host:port (the server's request socket)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(POLL_SECONDS)
    return False


def report_dead(children: Sequence[Child], say: Callable[[str], None]) -> None:
    for child in children:
        proc = child.process
        if proc is None or child.reported:
            continue
        code = proc.poll()
        if code is not None:
            child.reported = True
            say(f"! {child.name} stopped (exit code {code}); see {child.log_path}. "
                "The rest of the hall keeps running.")


def run_until_interrupted(
    demo: DemoPlan, *, logs: Path, host: str, request_port: int,
    say: Callable[[str], None] = print, stop_event: threading.Event | None = None,
    after_server: Callable[[], None] | None = None,
    before_stop: Callable[[], None] | None = None,
) -> int:
    """Start everything, watch the children, stop them all on Ctrl-C or stop_event."""
    stop_event = stop_event or threading.Event()
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")

    def on_signal(signum: int, _frame: object) -> None:
        stop_event.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    if sys.platform == "win32":
        signal.signal(signal.SIGBREAK, on_signal)

    start(demo.server, logs, env)
    server_proc = demo.server.process
    assert server_proc is not None
    say(f"queue-server starting (log: {demo.server.log_path}) ...")
    if not wait_for_port(host, request_port, 30.0, lambda: server_proc.poll() is None):
        say(f"! queue-server did not start; see {demo.server.log_path}")
        stop(demo.server)
        return 1
    say(f"queue-server serving on {host}:{request_port}")
    for child in demo.apps:
        start(child, logs, env)
        say(f"started {child.name} (log: {child.log_path})")
    if after_server is not None:
        after_server()
    say("The hall is open. Ctrl-C stops everything.")
    try:
        while not stop_event.wait(POLL_SECONDS):
            report_dead(demo.apps, say)
            if server_proc.poll() is not None:
                say(f"! queue-server stopped (exit code {server_proc.returncode}); "
                    f"see {demo.server.log_path}. Stopping the hall.")
                break
    finally:
        say("stopping the hall ...")
        if before_stop is not None:
            before_stop()  # e.g. simulated citizens leave before the server goes
        for child in demo.apps:
            stop(child)
        stop(demo.server)
        say("all stopped.")
    return 0 if server_proc.returncode in (0, None, -signal.SIGTERM) else 1
