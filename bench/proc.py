"""What a process costs, read from /proc (Linux; the benchmarks' machine)."""

from __future__ import annotations

import os
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """User + system CPU seconds the process (or one of its threads) has used so far."""
    path = f"/proc/{pid}/task/{thread}/stat" if thread is not None else f"/proc/{pid}/stat"
    fields = Path(path).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def rss_mb(pid: int) -> float:
    """Resident set size now, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds so far per thread of the process, by thread name ("name#tid" where
    names repeat; the main thread is "main")."""
    out: dict[str, float] = {}
    for task in sorted(Path(f"/proc/{pid}/task").iterdir(), key=lambda t: int(t.name)):
        try:
            name = "main" if task.name == str(pid) else (task / "comm").read_text().strip()
            seconds = cpu_seconds(pid, thread=int(task.name))
        except (FileNotFoundError, ProcessLookupError):  # the thread ended meanwhile
            continue
        if name in out:
            name = f"{name}#{task.name}"
        out[name] = seconds
    return out
