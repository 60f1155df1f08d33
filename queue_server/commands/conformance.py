"""`queue-server conformance --data DIR [--server HOST[:REQ:EV]]`: the protocol kit.

Runs queue_server.conformance against a running test hall and prints PASS / FAIL /
SKIP per check; exit status 1 when a check failed, 2 when the kit could not start.
`--restart-cmd CMD` lets the restart checks crash and restart the server.
"""

from __future__ import annotations

import argparse
import subprocess
from collections.abc import Callable
from typing import Any

from queue_common import paths


def register(sub: Any) -> None:
    p = sub.add_parser("conformance",
                       help="check a running test hall against the protocol (协议一致性检查)")
    p.add_argument("--data", help="the hall's data dir (for the device keys)")
    p.add_argument("--server", default="127.0.0.1",
                   help="HOST, or HOST:REQUEST_PORT:EVENT_PORT (default 127.0.0.1)")
    p.add_argument("--kiosk", default="kiosk-1")
    p.add_argument("--board", default="board-1")
    p.add_argument("--counter", default="counter-1", help="the clerk's counter device")
    p.add_argument("--other-counter", default="counter-2")
    p.add_argument("--clerk", default="clerk1")
    p.add_argument("--password", default="demo1234")
    p.add_argument("--window", type=int, default=1)
    p.add_argument("--only", default="", help="run the checks whose name contains this")
    p.add_argument("--restart-cmd", default=None, metavar="CMD",
                   help="a shell command that kills the server without warning (kill -9,"
                        " taskkill /F) and starts it again on the same ports; without it"
                        " the restart checks are skipped")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from queue_common.endpoint import ServerEndpoint
    from queue_server import conformance

    try:
        server = ServerEndpoint.parse(args.server)
    except ValueError as exc:
        print(f"错误 / error: {exc}")
        return 2
    data = paths.data_dir(args.data)
    if not paths.server_public_key(data).is_file():
        print(f"错误 / error: no server key in {data} (give --data: the hall's data dir)")
        return 2
    setup = conformance.Setup(data=data, server=server, kiosk=args.kiosk, board=args.board,
                              counter=args.counter, other_counter=args.other_counter,
                              clerk=args.clerk, password=args.password, window=args.window,
                              restart=_restart(args.restart_cmd) if args.restart_cmd else None)
    return 0 if conformance.run(setup, args.only) else 1


def _restart(command: str) -> Callable[[], None]:
    """Run the integrator's restart command; its failure fails the check that needed it."""
    def restart() -> None:
        done = subprocess.run(command, shell=True, timeout=120, check=False)
        if done.returncode != 0:
            raise ValueError(f"--restart-cmd exited with {done.returncode}")
    return restart
