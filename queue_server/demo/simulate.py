"""Simulated citizens and clerks so a demo hall looks alive (`queue-server demo --simulate`).

Citizens arrive at the kiosk as a Poisson stream and take tickets for one to three
matters; simulated clerks at windows 3.. call, start and complete them with service
times drawn around each matter's expected minutes (sped up by `speed`). Everything goes
through the real wire as real devices would, so the board, the callers and the
statistics see an ordinary day.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from queue_common.connection import Connection, Reply
from queue_server.commands.init import DEMO_PASSWORD


@dataclass(frozen=True)
class SimSettings:
    arrivals_per_minute: float = 3.0
    speed: float = 20.0  # simulated seconds per real second for service times
    clerks: tuple[tuple[str, int, str], ...] = (("clerk3", 3, "counter-3"),)
    seed: int | None = None


def _services(conn: Connection) -> list[dict[str, Any]]:
    conn.poll()  # the mirror is updated on the thread that drains the connection
    services: list[dict[str, Any]] = list(conn.mirror.state.get("services", []))
    return services


class Simulation:
    """Runs the kiosk stream and the clerks on plain threads until stop()."""

    def __init__(self, data: Path, settings: SimSettings, server: str | None = None,
                 say: Callable[[str], None] = print) -> None:
        self.data = data
        self.settings = settings
        self.server = server
        self.say = say
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._rng = random.Random(settings.seed)

    def start(self) -> None:
        self._threads.append(threading.Thread(target=self._citizens, name="sim-kiosk",
                                              daemon=True))
        for user, counter, device in self.settings.clerks:
            self._threads.append(threading.Thread(
                target=self._clerk, args=(user, counter, device), name=f"sim-{user}",
                daemon=True))
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5)

    def _connect(self, device: str) -> Connection:
        conn = Connection.from_data_dir(self.data, device, server=self.server)
        conn.start()
        return conn

    def _citizens(self) -> None:
        conn = self._connect("kiosk-1")
        refused: str | None = None  # said once, not at every arrival (HALL_CLOSED all night)
        try:
            while not self._stop.is_set():
                gap = self._rng.expovariate(self.settings.arrivals_per_minute / 60.0)
                if self._stop.wait(min(gap, 60.0)):
                    break
                services = [s for s in _services(conn) if s.get("general", True)]
                if not services:
                    continue
                k = min(len(services), self._rng.choice((1, 1, 1, 2, 2, 3)))
                chosen = [s["code"] for s in self._rng.sample(services, k)]
                args: dict[str, Any] = {"services": chosen}
                if self._rng.random() < 0.1:
                    args["priority_class"] = "elderly"
                reply = conn.call("issue", args)
                if not reply.ok and reply.error_code != refused:
                    self.say(f"sim kiosk: {reply.error_code} {reply.error_message}"
                             " (said once; the simulated citizens keep coming)")
                elif reply.ok and refused is not None:
                    self.say("sim kiosk: issuing tickets again")
                refused = None if reply.ok else reply.error_code
        finally:
            conn.stop()

    def _clerk(self, user: str, counter: int, device: str) -> None:
        conn = self._connect(device)
        try:
            if not self._login(conn, user, counter):
                return
            conn.call("open_counter", {})  # CONFLICT when login already opened it: fine
            while not self._stop.is_set():
                reply = conn.call("call_next", {})
                if not reply.ok or not reply.result:
                    self._stop.wait(3.0)
                    continue
                ticket = reply.result.get("ticket") or {}
                if self._stop.wait(self._rng.uniform(3, 8)):
                    break
                if self._rng.random() < 0.05:
                    conn.call("no_show", {})
                    continue
                conn.call("start", {})
                minutes = sum(self._minutes(conn, i.get("service"))
                              for i in ticket.get("items", []))
                if self._stop.wait(minutes * 60 / self.settings.speed):
                    break
                conn.call("complete", {"done": None, "not_done": []})
        finally:
            conn.stop()

    def _login(self, conn: Connection, user: str, counter: int) -> bool:
        for _ in range(30):
            reply = conn.call("login", {"user": user, "password": DEMO_PASSWORD,
                                        "counter": counter})
            if reply.ok:
                return True
            if self._stop.wait(1.0):
                return False
        self.say(f"sim {user}: could not log in")
        return False

    def _minutes(self, conn: Connection, code: Any) -> float:
        for s in _services(conn):
            if s.get("code") == code:
                return float(s.get("minutes", 5)) * self._rng.uniform(0.6, 1.4)
        return 5.0


__all__ = ["Reply", "SimSettings", "Simulation"]
