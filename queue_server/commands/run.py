"""`queue-server run [--data DIR] [--host] [--request-port] [--event-port] [--status-port]`.

Opens the hall (database upgraded to head, state loaded), binds the CURVE sockets and
the citizen status page, prints one READY line with the actual ports (port 0 = let the
OS choose, which tests use), and serves until Ctrl-C, SIGTERM or, on Windows,
CTRL_BREAK_EVENT: the batch in hand is finished and the sockets closed, so no committed
operation is lost and no reply is sent for an uncommitted one.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from types import FrameType
from typing import Any

from queue_common import paths

log = logging.getLogger("queue_server.run")


def register(sub: Any) -> None:
    p = sub.add_parser("run", help="serve the hall (运行服务器)")
    p.add_argument("--data", help="data dir (default: $QUEUE_DATA or the platform's)")
    p.add_argument("--host", help="address to listen on (config [server] host)")
    p.add_argument("--request-port", type=int, help="ROUTER port for requests (0: any free)")
    p.add_argument("--event-port", type=int, help="PUB port for events (0: any free)")
    p.add_argument("--status-port", type=int,
                   help="citizen status page port (0: any free, -1: off)")
    p.add_argument("--no-group-commit", action="store_true",
                   help="commit each request alone (for benchmarks)")
    p.add_argument("--refusal-burst", type=float, default=None,
                   help="refused requests a device may send at once before it is "
                        "throttled (0: never; for fuzzing)")
    p.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING ...")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from queue_server.config import ConfigError, load_config
    from queue_server.hall.facade import Hall
    from queue_server.loop.server import HallServer, ServerOptions

    logging.basicConfig(level=getattr(logging, str(args.log_level).upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    data = paths.data_dir(args.data)
    try:
        config = load_config(paths.config_file(data))
    except (ConfigError, OSError) as exc:
        print(f"queue-server run: {exc}", file=sys.stderr)
        return 1
    sec = config.server
    options = ServerOptions(
        host=args.host or sec.host,
        request_port=sec.request_port if args.request_port is None else args.request_port,
        event_port=sec.event_port if args.event_port is None else args.event_port,
        group_commit=not args.no_group_commit,
        timezone=config.tz,
    )
    status_port = sec.status_port if args.status_port is None else args.status_port
    options.page_link = status_port >= 0
    if args.refusal_burst is not None:
        options.refusal_burst = args.refusal_burst
    hall = Hall.open(config)
    tune_files()
    tune_gc()
    tune_threads()
    server = HallServer(hall, data, options)
    status: Any = None
    try:
        try:
            server.bind()
        except Exception as exc:  # bad keys, port in use (zmq or OS errors)
            print(f"queue-server run: cannot start: {exc}", file=sys.stderr)
            return 1
        _check_devices(data)
        if status_port >= 0:
            status = _start_status_page(options.host, status_port, server, config,
                                        str(args.log_level).upper())
        _install_stop_handlers(server)
        ready = {"request_port": server.request_port, "event_port": server.event_port,
                 "status_port": status.port if status is not None else None,
                 "status_pid": status.pid if status is not None else None,
                 "epoch": server.epoch, "pid": _pid()}
        print("READY " + json.dumps(ready), flush=True)
        log.info("serving %s: requests :%d, events :%d", config.hall.name,
                 server.request_port, server.event_port)
        _serve(server)
        log.info("stopping: the batch in hand was finished; closing (%s)", server.stats)
    finally:
        if status is not None:
            status.stop()
        server.close()
        hall.close()
    return 0


# Python's cyclic collector stops the request loop for as long as it scans. The default
# (700, 10, 10) scans every live object (the day's tickets, periods ...) every ~70,000
# allocations: 50-80 ms stops every few seconds under load (bench/engine.py). A young
# collection costs ~0.3 us per object it scans, so young generations stay small: 5,000
# allocations per young collection (~1.5 ms), a middle one every 3 (~3-6 ms, it scans
# what survived). The full one waits for 100 middle ones and (CPython) for the long-lived
# objects to have grown by a quarter. bench/load.py, 50 clients, timed by gc.callbacks:
# with (50_000, 20, 100) young collections took 13-25 ms and middle ones 25-40 ms, and
# nearly half of the requests over 20 ms were caught in those stops.
GC_THRESHOLDS = (5_000, 3, 100)


# The committer thread needs the GIL back after every SQLite call of a commit; with the
# default 5 ms switch interval a busy request loop kept it waiting ~10 ms per commit
# (bench/load.py: 11.6 ms per transaction against 0.4 ms for the same SQLite alone).
GIL_SWITCH_SECONDS = 0.0005


def tune_files() -> None:
    """Raise the soft open-file limit (queue_server.fd_limits): phones on the status
    page must never take the descriptors ZeroMQ, the database and the keys need."""
    from queue_server import fd_limits

    limit = fd_limits.raise_soft_limit()
    if limit is not None:
        log.info("open-file limit: %d", limit)


def tune_threads() -> None:
    """Hand the GIL over sooner, so the committer and the workers are not starved."""
    import sys

    sys.setswitchinterval(GIL_SWITCH_SECONDS)


def tune_gc() -> None:
    """After start-up: what was loaded is never garbage (freeze), collect rarely."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _serve(server: Any) -> None:
    """server.serve(), under cProfile when QUEUE_PROFILE names a stats file (for
    bench/load.py runs: where the loop's time goes; `python -m pstats FILE` reads it)."""
    import os

    target = os.environ.get("QUEUE_PROFILE")
    if not target:
        server.serve()
        return
    import cProfile

    profile = cProfile.Profile()
    try:
        profile.runcall(server.serve)
    finally:
        profile.dump_stats(target)
        log.info("profile of the request loop written to %s", target)


def _check_devices(data: Any) -> None:
    """Say at start-up where the device table and the trusted keys disagree."""
    from queue_server.devices import disagreements

    try:
        for problem in disagreements(data):
            log.warning("devices: %s", problem)
    except Exception as exc:  # a report, never a reason not to serve
        log.warning("devices: could not compare the table with keys/trusted: %s", exc)


def _start_status_page(host: str, port: int, server: Any, config: Any = None,
                       log_level: str = "INFO") -> Any:
    """The citizen status page in its own process (queue_server.status_process), or
    None if it cannot start (the hall is served without it; the log says why)."""
    from queue_server.loop.zap import PAGE_USER
    from queue_server.status_page import PageOptions
    from queue_server.status_process import PageProcess

    def alert(state: str, message: str) -> None:
        server.alert(PAGE_USER, state, message, {"status_page": state == "ok"},
                     role="server")

    options = PageOptions.from_config(config) if config is not None else PageOptions()
    page = PageProcess(host, port, server.page_link(), options, log_level=log_level,
                       alert=alert)
    try:
        page.start()
    except OSError as exc:  # PageFailed, or the interpreter could not be started
        log.error("status page not started on port %s: %s", port, exc)
        return None
    return page


def _install_stop_handlers(server: Any) -> None:
    """Ctrl-C, SIGTERM and (Windows) CTRL_BREAK_EVENT ask the loop to stop cleanly."""

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: stopping after the batch in hand", signum)
        server.request_stop()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    sigbreak = getattr(signal, "SIGBREAK", None)  # Windows: CTRL_BREAK_EVENT
    if sigbreak is not None:
        signal.signal(sigbreak, stop)


def _pid() -> int:
    import os

    return os.getpid()
