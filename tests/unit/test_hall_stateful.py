"""Random days in the hall (hypothesis): whatever clerks, kiosk and supervisor do, in any
order, the rules hold after every step (hallkit.check_invariants):

- a ticket is at no more than one window; a window serves at most one ticket;
- numbers are unique per day; every matter ends in exactly one final state;
- waiting counts equal what the stored rows say; periods never overlap and have no gaps;
- the live state equals a fresh load of the stored rows, and the waiting index picks
  what the pure policy picks.
A refused operation must change nothing and say why with a domain code.
"""

from __future__ import annotations

import collections
import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from queue_common.protocol import Err, Role
from queue_server.hall import Actor
from tests.support.hallkit import SHANGHAI, HallKit

SERVICES = ["RS01", "RS02", "YB01", "YB02", "CL01"]
WINDOWS = [1, 2, 3, 4]
DOMAIN_ERRORS = {Err.CONFLICT, Err.QUEUE_EMPTY, Err.COUNTER_CLOSED, Err.NOT_FOUND,
                 Err.HALL_CLOSED, Err.BAD_REQUEST, Err.UNAUTHENTICATED,
                 Err.FORBIDDEN}  # a pad rating a ticket its window did not just serve

pytestmark = pytest.mark.slow
windows = st.sampled_from(WINDOWS)
OPS_ANYWHERE = ["call_next", "recall", "start", "no_show", "complete", "park", "pause",
                "resume"]


def _window_in(*states: str) -> Any:
    """Precondition: some window is in one of states (rules then pick one of them)."""
    return lambda self: any(c.state in states for c in self.kit.hall.state.counters.values())


def _has_ticket(*states: str) -> Any:
    return lambda self: any(t.state in states for t in self.kit.hall.state.tickets.values())


class HallDay(RuleBasedStateMachine):
    kit: HallKit
    clerks: dict[int, Actor]
    sup: Actor
    backend = "memory"  # tests/integration plays the same days on SQLite
    extra = ""  # config appended to the small hall's

    @initialize()
    def open_hall(self) -> None:
        self.kit = HallKit.create(Path(tempfile.mkdtemp(prefix="hall-day-")),
                                  backend=self.backend, extra=self.extra)
        self.clerks = {n: self.kit.login(f"clerk{n}", counter=n) for n in WINDOWS}
        self.sup = self.kit.login("super1", counter=None)
        self.ids: list[int] = []

    def do(self, op: str, args: dict[str, Any], actor: Actor) -> dict[str, Any] | None:
        before = self.kit.snapshot()
        out = self.kit.run(op, args, actor)
        if out.error is not None:
            assert out.error.code in DOMAIN_ERRORS, out.error
            assert out.events == []
            after = self.kit.snapshot()
            for key in ("tickets", "counters", "waiting"):
                assert before[key] == after[key], f"refused {op} changed {key}"
            return None
        assert out.events, f"{op} succeeded without an event"
        return out.result

    def window(self, i: int, *states: str) -> int:
        """The i-th window (mod) in one of states."""
        found = [c.number for c in self.kit.hall.state.counters.values() if c.state in states]
        return found[i % len(found)] if found else WINDOWS[i % len(WINDOWS)]

    def some_ticket(self, i: int, *states: str) -> int:
        """The i-th ticket (mod) in one of states, else any ticket ever issued."""
        found = [t.id for t in self.kit.hall.state.tickets.values() if t.state in states]
        pool = found or self.ids
        return pool[i % len(pool)] if pool else 1

    @rule(services=st.lists(st.sampled_from(SERVICES), min_size=1, max_size=3, unique=True),
          priority=st.sampled_from([None, None, None, "elderly", "disabled"]))
    def issue(self, services: list[str], priority: str | None) -> None:
        res = self.do("issue", {"services": services, "priority_class": priority},
                      self.kit.kiosk)
        if res is not None:
            self.ids.append(res["ticket"]["id"])

    @rule(services=st.lists(st.sampled_from(SERVICES), min_size=1, max_size=2, unique=True))
    def another_citizen_arrives(self, services: list[str]) -> None:
        self.issue(services, None)

    @precondition(lambda self: _window_in("idle")(self) and _has_ticket("waiting")(self))
    @rule(n=windows)
    def call_next(self, n: int) -> None:
        self.do("call_next", {}, self.clerks[self.window(n, "idle")])

    @precondition(_has_ticket("waiting"))
    @rule(n=windows, i=st.integers(0, 50))
    def call_a_ticket(self, n: int, i: int) -> None:
        self.do("call", {"ticket_id": self.some_ticket(i, "waiting")},
                self.clerks[self.window(n, "idle")])

    @precondition(_window_in("calling"))
    @rule(n=windows)
    def recall(self, n: int) -> None:
        self.do("recall", {}, self.clerks[self.window(n, "calling")])

    @precondition(_window_in("calling"))
    @rule(n=windows)
    def start(self, n: int) -> None:
        self.do("start", {}, self.clerks[self.window(n, "calling")])

    @precondition(_window_in("calling"))
    @rule(n=windows)
    def no_show(self, n: int) -> None:
        self.do("no_show", {}, self.clerks[self.window(n, "calling")])

    @precondition(_window_in("serving"))
    @rule(n=windows, how=st.sampled_from(["all", "all", "first", "none_done", "bad"]))
    def complete(self, n: int, how: str) -> None:
        n = self.window(n, "serving")
        c = self.kit.hall.state.counters[n]
        here: list[str] = []
        if c.ticket_id is not None:
            t = self.kit.hall.state.tickets[c.ticket_id]
            here = [i.service for i in t.items_here(c.id)]
        args: dict[str, Any] = {
            "all": {}, "first": {"done": here[:1]},
            "none_done": {"done": [], "not_done": here},
            "bad": {"done": ["CL01", "RS01"]}}[how]
        self.do("complete", args, self.clerks[n])

    @precondition(_window_in("calling", "serving"))
    @rule(n=windows, to=windows)
    def transfer_to_window(self, n: int, to: int) -> None:
        self.do("transfer", {"counter": to}, self.clerks[self.window(n, "calling", "serving")])

    @precondition(_window_in("calling", "serving"))
    @rule(n=windows, service=st.sampled_from(SERVICES))
    def transfer_to_matter(self, n: int, service: str) -> None:
        self.do("transfer", {"service": service},
                self.clerks[self.window(n, "calling", "serving")])

    @precondition(_window_in("calling", "serving"))
    @rule(n=windows)
    def park(self, n: int) -> None:
        self.do("park", {"reason": "取材料"}, self.clerks[self.window(n, "calling", "serving")])

    @precondition(_has_ticket("parked"))
    @rule(n=windows, i=st.integers(0, 50))
    def unpark(self, n: int, i: int) -> None:
        self.do("unpark", {"ticket_id": self.some_ticket(i, "parked")},
                self.clerks[self.window(n, "idle")])

    @rule(n=windows)
    def pause(self, n: int) -> None:
        self.do("pause", {"reason": "lunch"}, self.clerks[n])

    @precondition(_window_in("paused"))
    @rule(n=windows)
    def resume(self, n: int) -> None:
        self.do("resume", {}, self.clerks[self.window(n, "paused")])

    @rule(n=windows, op=st.sampled_from(OPS_ANYWHERE))
    def any_button_at_any_window(self, n: int, op: str) -> None:
        """A clerk presses a key that may not fit the window's state."""
        self.do(op, {"reason": "other"} if op == "pause" else {}, self.clerks[n])

    @rule(n=windows)
    def close_window(self, n: int) -> None:
        self.do("close_counter", {"counter": n}, self.sup)

    @precondition(_window_in("closed"))
    @rule(n=windows)
    def open_window(self, n: int) -> None:
        self.do("open_counter", {"counter": self.window(n, "closed")}, self.sup)

    @rule(n=windows, services=st.lists(st.sampled_from(SERVICES), min_size=1, max_size=5,
                                       unique=True))
    def reassign_window(self, n: int, services: list[str]) -> None:
        self.do("counter_services", {"counter": n, "services": services}, self.sup)

    @precondition(_has_ticket("waiting"))
    @rule(i=st.integers(0, 50), to=windows)
    def supervisor_moves_a_waiting_ticket(self, i: int, to: int) -> None:
        self.do("transfer", {"ticket_id": self.some_ticket(i, "waiting"), "counter": to,
                             "note": "窗口3更快"}, self.sup)

    @rule(i=st.integers(0, 50))
    def cancel(self, i: int) -> None:
        self.do("cancel_ticket", {"ticket_id": self.some_ticket(i, "waiting", "parked"), "reason": "重复取号"},
                self.sup)

    @rule(i=st.integers(0, 50), level=st.sampled_from([None, 1, 3, 5]), at=windows)
    def rate(self, i: int, level: int | None, at: int) -> None:
        pad = Actor(device=f"counter-{at}", device_role=Role.COUNTER)
        self.do("rate", {"ticket_id": self.some_ticket(i, "done", "waiting"), "level": level,
                         "reason": "等候时间太长" if level == 1 else None}, pad)

    @rule(minutes=st.integers(0, 20))
    def time_passes(self, minutes: int) -> None:
        self.kit.clock.advance(minutes=minutes)
        self.kit.hall.tick()

    @precondition(lambda self: self.local_hour() >= 15)
    @rule()
    def next_morning(self) -> None:
        local = self.kit.clock.now().astimezone(SHANGHAI)
        self.kit.clock.set((local + dt.timedelta(days=1)).replace(hour=8, minute=45))
        self.kit.hall.tick()

    @precondition(lambda self: self.local_hour() >= 16)
    @rule()
    def close_day(self) -> None:
        self.do("close_day", {}, self.sup)

    def local_hour(self) -> int:
        return self.kit.clock.now().astimezone(SHANGHAI).hour

    @invariant()
    def rules_hold(self) -> None:
        if hasattr(self, "kit"):
            self.kit.check_invariants()

    def teardown(self) -> None:
        if hasattr(self, "kit"):
            self.kit.hall.close()


HallDay.TestCase.settings = settings(
    max_examples=30, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
test_random_hall_days_keep_the_rules = HallDay.TestCase


class KeepingHallDays(HallDay):
    """The same random days in a hall that keeps the waiting for the next opening."""

    extra = '\n[day]\ncarry_over = "next_opening"\ncarry_credit_minutes = 60\n'

    @rule(close=st.booleans())
    def the_evening_comes(self, close: bool) -> None:
        """Late afternoon at once (random steps rarely get there): maybe a supervisor
        closes the day, else midnight will."""
        local = self.kit.clock.now().astimezone(SHANGHAI)
        if local.hour < 16:
            self.kit.clock.set(local.replace(hour=16, minute=35))
            self.kit.hall.tick()
        if close:
            self.do("close_day", {}, self.sup)

    @rule(opening=st.sampled_from([8, 9]))
    def the_next_day_begins(self, opening: int) -> None:
        """Midnight, then the next morning (before or after the 08:30 opening); the
        clerks log in again."""
        local = self.kit.clock.now().astimezone(SHANGHAI)
        self.kit.clock.set((local + dt.timedelta(days=1)).replace(hour=0, minute=0, second=1))
        self.kit.hall.tick()
        self.kit.clock.set((local + dt.timedelta(days=1)).replace(hour=opening, minute=0))
        self.kit.hall.tick()
        self.clerks = {n: self.kit.login(f"clerk{n}", counter=n) for n in WINDOWS}
        self.sup = self.kit.login("super1", counter=None)

    @invariant()
    def a_kept_ticket_is_kept_once(self) -> None:
        if not hasattr(self, "kit"):
            return
        kept = collections.Counter(r["ticket_id"] for r in self.kit.rows("event")
                                   if r["type"] == "ticket.carried")
        assert all(n == 1 for n in kept.values()), kept
        today = self.kit.hall.state.day
        for t in self.kit.hall.state.tickets.values():
            if t.carried_to is not None and not t.final:
                assert t.id in kept and t.business_day < t.carried_to, t
                if t.state == "waiting" and t.no_shows == 0 and t.called_at is None:
                    # never called since: it waits for its day, or was closed with it
                    assert t.carried_to >= today, f"{t.number} outlived its day"


KeepingHallDays.TestCase.settings = HallDay.TestCase.settings
test_random_days_in_a_hall_that_keeps_the_waiting = KeepingHallDays.TestCase
