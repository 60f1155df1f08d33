"""The citizen status page in a process of its own, and the server's end that runs it.

Why a process: the page faces every phone in the hall, over plain HTTP. In a thread of
the server it shared the interpreter lock and the open-file table with the request
loop, so what phones do (hundreds of connections opened and dropped each second, slow
readers) cost kiosks and clerks their latency, and a per-ticket limit that turns held
connections into reconnections could not be afforded (docs/security.md). In its own
process the page has its own lock, its own descriptors and its own crash: it reaches
the loop only through the loop's lookups (queue_server.loop.lookups) on loopback TCP,
with CURVE keys the server makes at each start and hands over on the child's stdin
(no key on disk, no device key opens that door).

The child: `python -m queue_server.status_process`, one JSON line on stdin (where to
listen, the loop's endpoints and keys, the page's options, the log level); it answers
``READY {"port": n, "pid": p}`` (or ``FAILED {"error": ...}``) on stdout, serves until
its stdin ends (the server closes it when it stops; the OS closes it when the server
dies, so the page never outlives the hall) and ignores Ctrl-C, which is the server's.

The server's end (PageProcess): starts the child, waits for READY, and watches it; a
child that exits while the server runs is started again on the same port (after 1 s,
then up to 30 s between tries) and the supervisor's dashboard gets an alert naming the
page, and another when it is back.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

READY_SECONDS = 30.0  # a child that has not answered READY by then is stopped
PORT_WAIT_SECONDS = 5.0  # a fixed port still held by the page of a stopped server
STOP_SECONDS = 5.0  # a stopping child that has not exited by then is killed
RESTART_FIRST = 1.0  # seconds before the first restart; doubled up to RESTART_MOST
RESTART_MOST = 30.0

Alert = Callable[[str, str], None]  # (state "error" | "ok", bilingual message)


# -- the child ------------------------------------------------------------------------


def main() -> int:
    """The page's process (see the module docstring)."""
    try:
        spec = json.loads(sys.stdin.readline() or "null")
    except ValueError:
        spec = None
    if not isinstance(spec, dict):
        print('FAILED {"error": "no spec on stdin"}', flush=True)
        return 2
    logging.basicConfig(level=spec.get("log_level", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Ctrl-C (and on Windows Ctrl-Break, sent to the whole console group) stops the
    # server, which then stops us: the page must not die first and be restarted
    for name in ("SIGINT", "SIGBREAK"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    import zmq

    from queue_server import fd_limits
    from queue_server.loop.lookups import LookupClient
    from queue_server.status_page import LoopBackend, PageOptions, start_status_server

    limit = fd_limits.raise_soft_limit()
    if limit is not None:
        log.info("status page: open-file limit %d", limit)
    ctx: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    link = spec["link"]
    client = LookupClient(ctx, link["lookup_url"], link["feed_url"],
                          (link["loop_public"], link["page_public"], link["page_secret"]))
    try:
        page = start_status_server(spec["host"], int(spec["port"]), LoopBackend(client),
                                   options=PageOptions(**spec["options"]))
    except OSError as exc:
        print("FAILED " + json.dumps({"error": str(exc)}), flush=True)
        client.close()
        ctx.term()
        return 1
    print("READY " + json.dumps({"port": page.port, "pid": os.getpid()}), flush=True)
    try:
        while sys.stdin.readline():  # EOF: the server stopped or died
            pass
    finally:
        page.stop()
        client.close()
        ctx.term()
    return 0


# -- the server's end -------------------------------------------------------------------


class PageFailed(OSError):
    """The page's process did not start (its port taken, it crashed at start)."""


class PageProcess:
    """The status page's process, started, watched and restarted by the server."""

    def __init__(self, host: str, port: int, link: dict[str, str], options: Any,
                 *, log_level: str = "INFO", alert: Alert | None = None) -> None:
        self.host = host
        self.port = port  # 0 until the first start chose one; then kept for restarts
        self.pid: int | None = None
        self._link = link
        self._options = dataclasses.asdict(options)
        self._log_level = log_level
        self._alert = alert
        self._proc: subprocess.Popen[str] | None = None
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None
        self.restarts = 0

    def start(self) -> int:
        """Start the page and wait until it listens; its port. PageFailed if it
        cannot (the server then runs without a page, as before)."""
        deadline = time.monotonic() + PORT_WAIT_SECONDS
        while True:
            try:
                self._spawn()
                break
            except PageFailed:
                # a page of the server just before this one (a restart) may still hold
                # the port for a moment; the OS-chosen port (0) is never held
                if self.port == 0 or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self._watcher = threading.Thread(target=self._watch, name="status-page-watch",
                                         daemon=True)
        self._watcher.start()
        return self.port

    def stop(self) -> None:
        """Close the child's stdin (it stops serving and exits); kill it if it lingers."""
        self._stopping.set()
        proc = self._proc
        if proc is not None:
            _end(proc)
        if self._watcher is not None:
            self._watcher.join(STOP_SECONDS + 1)

    # -- inside ---------------------------------------------------------------------------

    def _spawn(self) -> None:
        spec = {"host": self.host, "port": self.port, "link": self._link,
                "options": self._options, "log_level": self._log_level}
        proc = subprocess.Popen(  # noqa: S603  (our own interpreter and module)
            [sys.executable, "-m", "queue_server.status_process"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8",
            env=_child_env())
        assert proc.stdin is not None and proc.stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_read_lines, args=(proc.stdout, lines),
                         name="status-page-out", daemon=True).start()
        try:
            proc.stdin.write(json.dumps(spec) + "\n")
            proc.stdin.flush()
        except OSError as exc:
            _end(proc)
            raise PageFailed(f"the status page's process did not start: {exc}") from exc
        try:
            line = lines.get(timeout=READY_SECONDS)
        except queue.Empty:
            _end(proc)
            raise PageFailed("the status page's process did not answer in "
                             f"{READY_SECONDS:.0f} s") from None
        word, _, rest = line.partition(" ")
        if word != "READY":
            _end(proc)
            detail = _error_of(rest) if word == "FAILED" else "it exited at start"
            raise PageFailed(f"status page not started on port {self.port}: {detail}")
        ready = json.loads(rest)
        self.port, self.pid, self._proc = int(ready["port"]), int(ready["pid"]), proc
        log.info("status page: process %d on port %d", self.pid, self.port)

    def _watch(self) -> None:
        delay = RESTART_FIRST
        while not self._stopping.is_set():
            proc = self._proc
            if proc is None:
                return
            code = proc.wait()
            if self._stopping.is_set():
                return
            log.error("the status page's process %s exited (code %s): starting it again",
                      self.pid, code)
            self._say("error", f"市民查询页进程已退出（{code}），正在重启 / the status "
                               f"page's process exited ({code}); restarting")
            while not self._stopping.wait(delay):
                try:
                    self._spawn()
                except OSError as exc:  # PageFailed among them
                    log.error("the status page did not start again: %s", exc)
                    delay = min(RESTART_MOST, delay * 2)
                    continue
                self.restarts += 1
                delay = RESTART_FIRST
                self._say("ok", "市民查询页已恢复 / the status page is back")
                break

    def _say(self, state: str, message: str) -> None:
        if self._alert is not None:
            try:
                self._alert(state, message)
            except Exception:  # an alert must never stop the watcher
                log.exception("status page alert failed")


def _read_lines(stream: Any, lines: queue.Queue[str]) -> None:
    """The child's stdout: its READY line, then (nothing, normally) until it exits; read
    to the end so the pipe never fills."""
    for raw in stream:
        line = raw.rstrip("\n")
        if line.startswith(("READY ", "FAILED ")):
            lines.put(line)
        elif line:
            log.info("status page: %s", line)
    lines.put("EXITED")


def _child_env() -> dict[str, str]:
    """The server's environment, with this package importable however the server was
    started (installed, or `python -m` from a checkout in another directory)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def _error_of(rest: str) -> str:
    try:
        return str(json.loads(rest).get("error"))
    except (ValueError, AttributeError):
        return rest


def _end(proc: subprocess.Popen[str]) -> None:
    """Ask the child to stop (its stdin closed), then kill it if it lingers."""
    try:
        if proc.stdin is not None:
            proc.stdin.close()
    except OSError:
        pass
    try:
        proc.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(STOP_SECONDS)


if __name__ == "__main__":
    sys.exit(main())
