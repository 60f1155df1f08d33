"""A real hall for tests: `queue-server init --demo` + `queue-server run` as a subprocess.

    with live_hall(tmp_path) as hall:
        kiosk = hall.connect("kiosk-1")                       # started, mirror loaded
        clerk = hall.connect("counter-1", user="clerk1", counter=1)   # logged in
        reply = kiosk.call("issue", {"services": ["RS01"]})
        hall.kill(); hall.restart()                           # SIGKILL, then same ports

The server listens on loopback ports the OS chose (port 0) and reports them on its
READY line; a restart reuses them so connected clients find it again. The data dir is
a copy of one `init --demo` made once per test process (scrypt hashing of the demo
passwords and the migrations are not repeated for every test). Server output goes to
DATA/logs/server-N.log, which a failing test can print with `hall.log()`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from queue_common.connection import Connection
from queue_common.endpoint import ServerEndpoint
from queue_server.config import round_the_clock

DEMO_PASSWORD = "demo1234"
REPO = Path(__file__).resolve().parents[2]
_templates: dict[bool, Path] = {}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "queue_server.cli", *args]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _template(demo: bool) -> Path:
    """One initialised data dir per process and flavour, copied for each hall."""
    if demo not in _templates:
        base = Path(tempfile.mkdtemp(prefix="live-hall-template-")) / "data"
        cmd = _cli("init", "--data", str(base), *(["--demo"] if demo else []))
        done = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"queue-server init failed:\n{done.stdout}\n{done.stderr}")
        _open_all_day(base / "config.toml")
        _templates[demo] = base
    return _templates[demo]


def _open_all_day(config: Path) -> None:
    """Tests run at any hour: the hall is open 00:00-24:00 every day."""
    config.write_text(round_the_clock(config.read_text("utf-8")), "utf-8")


class LiveHall:
    """A running `queue-server run` on loopback; see the module docstring."""

    def __init__(self, data: Path, *, extra_args: tuple[str, ...] = ()) -> None:
        self.data = data
        self.host = "127.0.0.1"
        self.request_port = 0
        self.event_port = 0
        self.status_port = 0
        self.status_pid: int | None = None
        self.epoch = ""
        self.extra_args = extra_args
        self.proc: subprocess.Popen[bytes] | None = None
        self._runs = 0
        self._connections: list[Connection] = []

    @property
    def endpoint(self) -> ServerEndpoint:
        return ServerEndpoint(self.host, self.request_port, self.event_port)

    @property
    def log_path(self) -> Path:
        return self.data / "logs" / f"server-{self._runs}.log"

    def start(self, timeout: float = 30.0) -> None:
        """Start the server and wait for its READY line (ports, epoch)."""
        self._runs += 1
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        out = self.log_path.open("wb")
        cmd = _cli("run", "--data", str(self.data), "--host", self.host,
                   "--request-port", str(self.request_port),
                   "--event-port", str(self.event_port),
                   "--status-port", str(self.status_port), *self.extra_args)
        flags = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
        self.proc = subprocess.Popen(cmd, env=_env(), stdout=out, stderr=subprocess.STDOUT,
                                     creationflags=flags)
        out.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log_path.read_text("utf-8", "replace").splitlines():
                if line.startswith("READY "):
                    ready: dict[str, Any] = json.loads(line[6:])
                    self.request_port = int(ready["request_port"])
                    self.event_port = int(ready["event_port"])
                    self.status_port = int(ready["status_port"] or 0)
                    self.status_pid = ready.get("status_pid")  # the page's own process
                    self.epoch = str(ready["epoch"])
                    return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"queue-server run did not become ready:\n{self.log()}")

    def log(self) -> str:
        """The current run's server output (for failure messages)."""
        try:
            return self.log_path.read_text("utf-8", "replace")
        except OSError:
            return ""

    def connect(self, device: str, *, user: str | None = None, counter: int | None = None,
                password: str = DEMO_PASSWORD, wait: float = 20.0) -> Connection:
        """A started Connection as DEVICE, its mirror loaded; logged in if user is given."""
        conn = Connection.from_data_dir(
            self.data, device, f"{self.host}:{self.request_port}:{self.event_port}")
        conn.start()
        self._connections.append(conn)
        if not conn.wait_until(lambda: conn.online and conn.mirror.ready, wait):
            raise RuntimeError(
                f"{device} did not come online in {wait} s (online={conn.online}, "
                f"mirror ready={conn.mirror.ready}, server alive="
                f"{self.proc is not None and self.proc.poll() is None}):\n{self.log()}")
        if user is not None:
            reply = conn.call("login", {"user": user, "password": password, "counter": counter})
            if not reply.ok:
                raise RuntimeError(f"login {user} failed: {reply.error_code} "
                                   f"{reply.error_message}")
            assert conn.token is not None
        return conn

    def kill(self) -> None:
        """SIGKILL: the crash case (nothing is flushed, nothing said goodbye)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self, timeout: float = 15.0) -> int | None:
        """Ask for a graceful stop (SIGINT / CTRL_BREAK) and wait; returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        if sys.platform == "win32":
            self.proc.send_signal(signal.CTRL_BREAK_EVENT)
        else:
            self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def restart(self) -> None:
        """Stop (or find dead) and start again on the same ports; a new epoch."""
        self.stop()
        self.start()

    def close(self) -> None:
        for conn in self._connections:
            with contextlib.suppress(Exception):
                conn.stop()
        self._connections.clear()
        try:
            self.stop()
        finally:
            self.kill()


@contextlib.contextmanager
def live_hall(tmp_path: Path, *, demo: bool = True, extra_args: tuple[str, ...] = (),
              prepare: Callable[[Path], None] | None = None) -> Iterator[LiveHall]:
    """A running hall in tmp_path/hall (see module docstring); stopped afterwards.

    prepare(data_dir) runs before the server starts (extra windows, devices, staff).
    """
    data = tmp_path / "hall"
    shutil.copytree(_template(demo), data)
    if prepare is not None:
        prepare(data)
    hall = LiveHall(data, extra_args=extra_args)
    hall.start()
    try:
        yield hall
    finally:
        hall.close()
