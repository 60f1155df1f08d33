"""A window and its clerk: login, logout, pause, resume, open, close, matters."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from typing import Any

from queue_common.protocol import Err, Ev
from queue_server import args as schemas
from queue_server import policy
from queue_server.errors import HallError, conflict
from queue_server.hall_base import (
    PROOF_ARG,
    Actor,
    Event,
    HallBase,
    LoginProof,
    LoginSessionLive,
    bilingual,
    hash_token,
)
from queue_server.live import (
    CounterLive,
    TicketLive,
)
from queue_server.passwords import verify_password
from queue_server.state_view import StaffInfo
from queue_server.store.hall_store import STORE_ERRORS

log = logging.getLogger(__name__)


class WindowOps(HallBase):
    """Operations of queue_server.hall.Hall: a window and its clerk: login, logout, pause, resume, open, close, matters."""

    def verify_login(self, user: object, password: object) -> LoginProof | None:
        """The slow part of a login (scrypt, ~50 ms, and the clerk's day so far), made
        OUTSIDE the single writer: thread-safe, reads the database on its own pooled
        connection, changes no hall state. None if the arguments are not strings (the
        writer's login answers BAD_REQUEST)."""
        if not isinstance(user, str) or not isinstance(password, str):
            return None
        fails = self._failures.get(user)  # a tuple, replaced whole by the writer
        if fails is not None and fails[1] is not None and fails[1] > self.clock.now():
            return LoginProof(user, checked=False)  # THROTTLED anyway: spare the CPU
        try:
            row = self.store.staff_by_user(user)
        except STORE_ERRORS:
            return LoginProof(user, checked=False)  # the writer tries (and answers) itself
        if row is None or not row.active:
            return LoginProof(user, checked=True)
        ok = verify_password(password, row.password_hash)
        today = self._clerk_today(row.user) if ok else None
        return LoginProof(user, True, ok, row.id, row.password_hash, today)

    def verified_login_args(self, args: dict[str, Any]) -> dict[str, Any]:
        """Login args with verify_login's proof attached, for the writer (thread-safe)."""
        proof = self.verify_login(args.get("user"), args.get("password"))
        return args if proof is None else {**args, PROOF_ARG: proof}

    def _login(self, a: schemas.LoginArgs, actor: Actor,
               proof: LoginProof | None = None) -> tuple[dict[str, Any], list[Event]]:
        now = self.clock.now()
        lg = self.config.login
        fails = self._failures.get(a.user)
        if fails is not None and fails[1] is not None and fails[1] > now:
            raise HallError(Err.THROTTLED, bilingual("密码错误次数过多，请稍后再试",
                                                "too many wrong passwords, try again later"),
                            {"retry_after": int((fails[1] - now).total_seconds()) + 1})
        counter = self._counter_arg(a.counter, actor) if a.counter is not None else None
        row = self.store.staff_by_user(a.user)
        trusted = (proof is not None and proof.checked and proof.user == a.user
                   and row is not None and proof.staff_id == row.id
                   and proof.password_hash == row.password_hash)
        if row is None or not row.active:
            good = False
        elif trusted and proof is not None:
            good = proof.ok
        else:
            good = verify_password(a.password, row.password_hash)
        if row is None or not good:
            count = (fails[0] if fails else 0) + 1
            until = now + dt.timedelta(seconds=lg.lockout_seconds) if count >= lg.max_failures \
                else None
            self._failures[a.user] = (0 if until else count, until)
            self._audit("login.failed", now, actor, counter=counter,
                        data={"user": a.user[:32], "throttled": until is not None})
            raise HallError(Err.BAD_CREDENTIALS, bilingual("用户名或密码错误",
                                                      "wrong user name or password"))
        staff = StaffInfo(row.id, row.user, row.name, row.badge, row.role, True)
        if counter is not None and counter.staff_id is not None \
                and counter.staff_id != staff.id and counter.ticket_id is not None:
            raise conflict("counter", counter.state, f"{counter.number}号窗口正在办理",
                           f"window {counter.number} is busy with another clerk",
                           counter=counter.number)
        # Nothing changes before this line: a refused login (apart from the wrong
        # password it counts and audits above) leaves the hall as it was.
        self._failures.pop(a.user, None)
        self.staff[staff.id] = staff
        assert self._tx is not None
        changed: list[CounterLive] = []
        if counter is not None:
            for s in self.sessions.values():  # one clerk per window
                if s.counter_id == counter.id and s.ended_at is None:
                    s.ended_at = now
                    self._tx.sessions[s.token_hash] = s
            counter.staff_id = staff.id
            if counter.state == "closed":
                self._set_counter(counter, "idle", now)
            self._touch_counter(counter)
            changed.append(counter)
        token = secrets.token_urlsafe(32)
        session = LoginSessionLive(hash_token(token), staff.id, actor.device,
                           counter.id if counter else None, now,
                           now + dt.timedelta(hours=lg.session_hours))
        self._tx.new_sessions[session.token_hash] = session
        self.sessions[session.token_hash] = session
        self._tx.after_commit.append(self._drop_ended_sessions)
        self._audit("login", now, actor, counter=counter,
                    data={"user": staff.user, "staff_id": staff.id})
        result = {"token": token, "expires_at": self.views.time(session.expires_at),
                  "staff": {"user": staff.user, "name": staff.name, "badge": staff.badge,
                            "role": staff.role},
                  "counter": counter.number if counter else None,
                  "today": proof.today if trusted and proof is not None
                  else self._clerk_today(staff.user)}
        events = [self._event(Ev.COUNTER_CLERK, counters=changed)] if changed else []
        return result, events

    def _clerk_today(self, user: str) -> dict[str, Any] | None:
        """The clerk's business day so far (served, average service seconds), from the
        stored periods by queue_server.stats, so the caller's 今日 line and the
        supervisor's report never disagree. None if the rows cannot be read now: a
        login must not fail for want of a figure."""
        from queue_server import stats

        try:
            with self.store.reading() as conn:
                report = stats.compute(conn, self.day, self.day, "clerk", self.tz,
                                       today=self.day,
                                       closing=stats.closing_from_hours(self.config.hours))
        except STORE_ERRORS:
            log.warning("today's figures of %s not read", user, exc_info=True)
            return None
        row = next((r for r in report["groups"]["clerk"] if r["key"] == user), None)
        if row is None:
            return {"served": 0, "average_service_seconds": None}
        mean = row.get("service_mean")
        return {"served": int(row["served"]),
                "average_service_seconds": float(mean) if mean is not None else None}

    def _drop_ended_sessions(self) -> None:
        for h in [h for h, s in self.sessions.items() if s.ended_at is not None]:
            del self.sessions[h]

    def _logout(self, a: schemas.NoArgs, actor: Actor) -> tuple[dict[str, Any], list[Event]]:
        if actor.staff_id is None:
            raise HallError(Err.UNAUTHENTICATED, bilingual("未登录", "not logged in"))
        now = self.clock.now()
        c = self.counters.get(actor.counter) if actor.counter is not None else None
        if c is not None and c.ticket_id is not None and c.staff_id == actor.staff_id:
            t = self.tickets[c.ticket_id]
            raise conflict("counter", c.state, f"请先办结或转移{t.number}号",
                           f"finish or transfer ticket {t.number} first", counter=c.number)
        assert self._tx is not None
        for s in self.sessions.values():
            if s.staff_id == actor.staff_id and s.device == actor.device and s.ended_at is None:
                s.ended_at = now
                self._tx.sessions[s.token_hash] = s
        self._tx.after_commit.append(self._drop_ended_sessions)
        events: list[Event] = []
        if c is not None and c.staff_id == actor.staff_id:
            c.staff_id = None
            self._set_counter(c, "closed", now)
            self._clear_transfers_to(c, now, actor)
            events.append(self._event(Ev.COUNTER_CLERK, counters=[c]))
        self._audit("logout", now, actor, counter=c)
        return {}, events

    def _pause(self, a: schemas.PauseArgs, actor: Actor) -> tuple[dict[str, Any], list[Event]]:
        c = self._staffed_counter(actor)
        if c.state != "idle":
            raise conflict("counter", c.state, f"{c.number}号窗口当前状态为{c.state}",
                           f"window {c.number} is {c.state}", counter=c.number)
        now = self.clock.now()
        self._set_counter(c, "paused", now)
        c.pause_reason = a.reason
        self._audit(Ev.COUNTER_PAUSED, now, actor, counter=c,
                    data={"reason": a.reason, "note": a.note[:200]})
        return {"counter": self.views.counter(c)}, [self._event(Ev.COUNTER_PAUSED, counters=[c])]

    def _resume(self, a: schemas.NoArgs, actor: Actor) -> tuple[dict[str, Any], list[Event]]:
        c = self._staffed_counter(actor)
        if c.state != "paused":
            raise conflict("counter", c.state, f"{c.number}号窗口未暂停",
                           f"window {c.number} is {c.state}, not paused", counter=c.number)
        now = self.clock.now()
        self._set_counter(c, "idle", now)
        self._audit(Ev.COUNTER_RESUMED, now, actor, counter=c)
        return {"counter": self.views.counter(c)}, [self._event(Ev.COUNTER_RESUMED, counters=[c])]

    def _open_counter(self, a: schemas.CounterArgs, actor: Actor
                      ) -> tuple[dict[str, Any], list[Event]]:
        c = self._counter_arg(a.counter, actor)
        if c.state != "closed":
            raise conflict("counter", c.state, f"{c.number}号窗口已开放",
                           f"window {c.number} is already open", counter=c.number)
        now = self.clock.now()
        self._set_counter(c, "idle", now)
        self._audit(Ev.COUNTER_OPENED, now, actor, counter=c)
        return {"counter": self.views.counter(c)}, [self._event(Ev.COUNTER_OPENED, counters=[c])]

    def _close_counter(self, a: schemas.CounterArgs, actor: Actor
                       ) -> tuple[dict[str, Any], list[Event]]:
        c = self._counter_arg(a.counter, actor)
        if c.state in ("calling", "serving") or c.ticket_id is not None:
            raise conflict("counter", c.state, f"{c.number}号窗口正在办理，不能关闭",
                           f"window {c.number} is {c.state}", counter=c.number)
        if c.state == "closed":
            raise conflict("counter", c.state, f"{c.number}号窗口已关闭",
                           f"window {c.number} is already closed", counter=c.number)
        now = self.clock.now()
        self._set_counter(c, "closed", now)
        moved = self._clear_transfers_to(c, now, actor)
        self._audit(Ev.COUNTER_CLOSED, now, actor, counter=c,
                    data={"released": [t.id for t in moved]})
        return ({"counter": self.views.counter(c)},
                [self._event(Ev.COUNTER_CLOSED, counters=[c], tickets=moved)])

    def _clear_transfers_to(self, c: CounterLive, now: dt.datetime,
                            actor: Actor) -> list[TicketLive]:
        """Tickets waiting for a window that closed go back to their matters' queues."""
        moved = [t for t in self.waiting.tickets.values() if t.transfer_to_counter_id == c.id]
        for t in moved:
            self.waiting.remove(t)
            t.transfer_to_counter_id = None
            self.waiting.add(t, None)
            self._joins += 1  # it moved in the queue: the next estimate runs again
            self._touch(t)
        return moved

    def _counter_services(self, a: schemas.CounterServicesArgs, actor: Actor
                          ) -> tuple[dict[str, Any], list[Event]]:
        c = self._counter_arg(a.counter, actor)
        services = self._known_services(a.services, "args.services")
        now = self.clock.now()
        c.services = sorted((s.code for s in services), key=self._service_order.__getitem__)
        self._touch_counter(c)
        assert self._tx is not None
        self._tx.counter_services.add(c.id)
        self._version += 1
        self._windows_version += 1
        self._audit(Ev.COUNTER_SERVICES, now, actor, counter=c, data={"services": c.services})
        return ({"counter": self.views.counter(c)},
                [self._event(Ev.COUNTER_SERVICES, counters=[c])])

    def window_queue(self, number: int) -> list[int]:
        """Ids of the waiting tickets window `number` may call, in the order call_next
        would call them: policy.call_order over the waiting index, the one ordering."""
        with self._lock:
            c = self.counters[number]
            order = policy.call_order(self.waiting.candidates(c.number), c.number,
                                      set(c.services),
                                      transfer_first=self.credits.transfer_first)
            return [w.ticket_id for w in order]

    def _window_queue(self, a: schemas.NoArgs, actor: Actor
                      ) -> tuple[dict[str, Any], list[Event]]:
        c = self._staffed_counter(actor)
        return {"counter": c.number, "ticket_ids": self.window_queue(c.number)}, []
