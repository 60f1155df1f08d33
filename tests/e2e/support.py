"""Small helpers the end-to-end tests share: the CLI as a process, the audit log read
straight from the hall's SQLite file, waiting for a condition off the Tk thread, and a
hall app as its own process (AppProcess, driving tests/e2e/app_driver.py)."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.live import DEMO_PASSWORD, REPO

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def run_cli(*args: str, timeout: float = 120) -> str:
    """`queue-server ARGS` as its own process; its stdout (fails on a non-zero exit)."""
    done = subprocess.run([sys.executable, "-m", "queue_server.cli", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"queue-server {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def db_rows(data: Path, sql: str, *params: Any) -> list[dict[str, Any]]:
    """Rows straight from the hall's SQLite file, read-only (what is really stored)."""
    uri = f"file:{data / 'queue.sqlite3'}?mode=ro"
    with sqlite3.connect(uri, uri=True, timeout=10) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute(sql, params)]


def events_of(data: Path, type_: str) -> list[dict[str, Any]]:
    """The audit log's events of one type, oldest first, data decoded."""
    rows = db_rows(data, "SELECT * FROM event WHERE type = ? ORDER BY id", type_)
    for row in rows:
        row["data"] = json.loads(row["data"]) if isinstance(row["data"], str) else {}
    return rows


def wait_until(predicate: Callable[[], bool], timeout: float, what: str,
               step: float = 0.05) -> float:
    """Seconds it took until predicate() held; fails naming `what` after timeout."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(step)
    return time.monotonic() - start


class AppProcess:
    """A hall app as its own process (tests/e2e/app_driver.py), asked over a pipe."""

    def __init__(self, app: str, data: Path, server: str, display: str, device: str,
                 *, counter: int | None = None, user: str | None = None,
                 log_dir: Path | None = None) -> None:
        self.app, self.device = app, device
        self.argv = [sys.executable, "-m", "tests.e2e.app_driver", app, "--data", str(data),
                     "--server", server, "--display", display, "--device", device]
        if counter is not None:
            self.argv += ["--counter", str(counter)]
        if user is not None:
            self.argv += ["--user", user]
        self.log_dir = log_dir or data / "logs"
        self.proc: subprocess.Popen[str] | None = None
        self._replies: dict[int, dict[str, Any]] = {}
        self._ready = threading.Event()
        self._cond = threading.Condition()
        self._next_id = 0
        self.starts = 0

    def start(self, timeout: float = 60.0) -> AppProcess:
        self.starts += 1
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = (self.log_dir / f"{self.app}-{self.device}-{self.starts}.log").open("w")
        env = {**os.environ, "QUEUE_PASSWORD": DEMO_PASSWORD, "PYTHONUNBUFFERED": "1",
               "PYTHONPATH": str(REPO)}
        self._ready.clear()
        self.proc = subprocess.Popen(self.argv, cwd=REPO, env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=log, text=True,
                                     encoding="utf-8", bufsize=1)
        log.close()
        threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.1):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self._ready.wait(0.5)  # the reader may still hold the last line
                raise AssertionError(f"{self.app} {self.device} did not start:\n{self.log()}")
        return self

    def log(self) -> str:
        path = self.log_dir / f"{self.app}-{self.device}-{self.starts}.log"
        return path.read_text("utf-8", "replace") if path.exists() else ""

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                continue  # anything else the app printed
            if not isinstance(msg, dict):
                continue
            if msg.get("ready"):
                self._ready.set()
            elif isinstance(msg.get("id"), int):
                with self._cond:
                    self._replies[msg["id"]] = msg
                    self._cond.notify_all()

    def ask(self, cmd: dict[str, Any], timeout: float = 15.0) -> dict[str, Any]:
        """Send one command; its result (fails on an error or no answer)."""
        assert self.proc is not None and self.proc.stdin is not None
        self._next_id += 1
        rid = self._next_id
        self.proc.stdin.write(json.dumps({**cmd, "id": rid}) + "\n")
        self.proc.stdin.flush()
        with self._cond:
            if not self._cond.wait_for(lambda: rid in self._replies, timeout):
                raise AssertionError(f"{self.app} did not answer {cmd}:\n{self.log()}")
            reply = self._replies.pop(rid)
        assert reply.get("ok"), f"{self.app} {cmd}: {reply.get('error')}\n{self.log()}"
        result: dict[str, Any] = reply["result"]
        return result

    def state(self) -> dict[str, Any]:
        return self.ask({"do": "state"})

    def wait_state(self, predicate: Callable[[dict[str, Any]], bool], timeout: float,
                   what: str) -> dict[str, Any]:
        """The app's screen state once predicate(state) holds."""
        seen: dict[str, Any] = {}

        def check() -> bool:
            nonlocal seen
            seen = self.state()
            return predicate(seen)

        try:
            wait_until(check, timeout, what, step=0.1)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; {self.app} shows {seen}") from None
        return seen

    def kill(self) -> None:
        """SIGKILL: the PC's power cord, mid-whatever it was doing."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def close(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(OSError):
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()
