"""Small helpers the end-to-end tests share: the CLI as a process, the audit log read
straight from the hall's SQLite file, and waiting for a condition off the Tk thread."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.live import REPO

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
