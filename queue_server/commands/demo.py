"""`queue-server demo`: the whole hall on this machine, each part its own process."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from queue_common.paths import data_dir


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="start a whole demo hall on this machine / 启动演示大厅")
    p.add_argument("--data", help="data dir (made with `init --demo` if missing)")
    p.add_argument("--simulate", action="store_true",
                   help="feed the hall simulated citizens and clerks")
    p.add_argument("--mute", action="store_true", help="no voice on the hall board")
    p.add_argument("--arrivals", type=float, default=3.0,
                   help="simulated citizens per minute (with --simulate)")
    p.set_defaults(func=run)


def make_demo_hall(data: Path) -> None:
    """A demo data dir: demo staff, and open round the clock so it works at any hour."""
    from queue_server.commands.init import DEMO_PASSWORD, DEMO_STAFF, init_data_dir
    from queue_server.config import default_config_text, round_the_clock

    print(f"no hall at {data}: making a demo hall there (open 00:00-24:00)")
    init_data_dir(data, demo=True, config_text=round_the_clock(default_config_text()))
    users = ", ".join(u for u, *_ in DEMO_STAFF)
    print(f"演示账号 / demo staff: {users} (password {DEMO_PASSWORD})")


def run(args: argparse.Namespace) -> int:
    from queue_server.config import load_config
    from queue_server.demo.launcher import plan, run_until_interrupted, screen_size

    data = data_dir(args.data)
    if not (data / "config.toml").exists():
        make_demo_hall(data)
    config = load_config(data / "config.toml")
    host = "127.0.0.1"
    demo = plan(data, screen_size(), mute=args.mute)
    simulation = None

    def start_simulation() -> None:
        nonlocal simulation
        if not args.simulate:
            return
        from queue_server.demo.simulate import SimSettings, Simulation

        simulation = Simulation(data, SimSettings(arrivals_per_minute=args.arrivals))
        simulation.start()
        print("simulated citizens arriving; simulated clerk at window 3")

    def stop_simulation() -> None:
        if simulation is not None:
            simulation.stop()

    return run_until_interrupted(
        demo, logs=data / "logs", host=host, request_port=config.server.request_port,
        after_server=start_simulation, before_stop=stop_simulation)


if __name__ == "__main__":
    sys.exit(run(argparse.Namespace()))
