"""The hall's shared machinery: state it keeps, the helpers every operation uses.

queue_server.hall assembles the Hall from this base and the operation modules
(hall_visit, hall_window, hall_day) and the loader (hall_load); see its docstring.
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import logging
import threading
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from queue_common.protocol import Err
from queue_server import estimate, policy
from queue_server.clock import Clock
from queue_server.config import HallConfig
from queue_server.errors import HallError, bad_request, conflict, not_found
from queue_server.live import (
    CounterLive,
    ItemLive,
    PeriodLive,
    TicketLive,
    WaitingIndex,
)
from queue_server.state_view import StaffInfo, Views
from queue_server.store import tables as T
from queue_server.store.batch import Batch
from queue_server.store.hall_store import HallStore

log = logging.getLogger(__name__)

Event = tuple[str, dict[str, Any]]
# An idempotency reply kept for the day: the result as JSON bytes, and when. Bytes, not
# the result's dicts: ~5 containers per operation, kept all day, made every collection of
# the cyclic GC's middle generation scan them all (25-40 ms stops of the request loop
# under bench/load.py); bytes and datetimes are not tracked by the collector at all.
StoredReply: TypeAlias = tuple[bytes, dt.datetime]
RECENT_CALLS = 20
# Estimates (docs/estimate.md): a run of the queue forward is reused for up to 1 s, and
# run again at once when a window opens, closes, pauses, resumes or changes matters, or
# when a ticket joins the queue other than behind everybody. A new ticket queued behind
# everybody (every plain `issue`) is added to the run exactly (estimate.append), so no
# printed estimate ever leaves out a ticket ahead of it, and no issue pays a full run.
ESTIMATE_MAX_AGE = dt.timedelta(seconds=1)
SIMULATED_OUT = ("closed", "paused")  # windows the run leaves out
ACTUALS_DAYS = 14
ACTUALS_KEPT = 50
PROCESSED_KEEP = dt.timedelta(days=2)
PK = {"ticket": "id", "ticket_item": "id", "period": "id", "counter": "id",
      "login_session": "token_hash", "business_day": "day", "appointment": "id"}


@dataclass(frozen=True)
class Actor:
    """Who asks: the device (from its CURVE key) and the logged-in staff, if any."""

    device: str
    device_role: str
    staff_id: int | None = None
    staff_role: str | None = None
    counter: int | None = None


@dataclass
class Outcome:
    """The answer to one operation; events are committed when it is returned."""

    result: dict[str, Any] | None
    error: HallError | None
    events: list[Event] = field(default_factory=list)


Command: TypeAlias = "tuple[str, dict[str, Any], Actor, tuple[str, str] | None]"


@dataclass
class Prepared:
    """A batch applied to the live state whose rows are not written yet (Hall.prepare).

    rows None: nothing to write (reads, refusals). failed_index: the operation that
    failed unexpectedly; nothing of the batch may be written, the hall must recover.
    """

    outcomes: list[Outcome]
    rows: Batch | None
    failed_index: int | None = None


@dataclass
class LoginSessionLive:
    token_hash: str
    staff_id: int
    device: str
    counter_id: int | None
    created_at: dt.datetime
    expires_at: dt.datetime
    ended_at: dt.datetime | None = None


@dataclass(frozen=True)
class LoginProof:
    """A password check made off the writer (Hall.verify_login, in a worker thread).

    The writer's login trusts it only if the staff row still has this id and this
    password hash; otherwise (password changed meanwhile, unknown then, not checked
    because the user was throttled) it checks again itself. Wrong passwords are counted
    by the writer, so throttling stays exact.
    """

    user: str
    checked: bool  # False: not checked (the user was throttled when it was asked)
    ok: bool = False
    staff_id: int | None = None
    password_hash: str | None = None
    today: dict[str, Any] | None = None  # the clerk's day so far (read with the check)


# The login args key carrying a LoginProof from the server's verifier to the writer. A
# request can only carry JSON, never a LoginProof, so a client cannot forge one.
PROOF_ARG = "__verified__"


@dataclass(frozen=True)
class ServiceInfo:
    id: int
    code: str
    name: str
    department: str
    prefix: str
    minutes: float
    general: bool
    active: bool
    quota: int | None


@dataclass
class Estimates:
    """The last run of the queue forward (queue_server.estimate) and what it saw."""

    at: dt.datetime
    run: estimate.Run
    minutes: dict[str, float]
    windows: tuple[int, int]  # (_windows_version, _sim_windows) when it ran
    joins: int  # tickets that joined the queue so far, each in the run
    last_key: tuple[dt.datetime, int] | None  # the queue's last ticket in the run
    appended: int = 0


@dataclass
class Tx:
    """What the operations of one batch changed, to write in one transaction."""

    new_tickets: dict[int, TicketLive] = field(default_factory=dict)
    tickets: dict[int, TicketLive] = field(default_factory=dict)
    new_items: dict[int, ItemLive] = field(default_factory=dict)
    items: dict[int, ItemLive] = field(default_factory=dict)
    new_periods: dict[int, PeriodLive] = field(default_factory=dict)
    periods: dict[int, PeriodLive] = field(default_factory=dict)
    counters: dict[int, CounterLive] = field(default_factory=dict)
    counter_services: set[int] = field(default_factory=set)
    sessions: dict[str, LoginSessionLive] = field(default_factory=dict)
    new_sessions: dict[str, LoginSessionLive] = field(default_factory=dict)
    batch: Batch = field(default_factory=Batch)
    processed: dict[tuple[str, str], StoredReply] = field(
        default_factory=dict)
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    appointments: set[int] = field(default_factory=set)  # checked in by this batch

    def __bool__(self) -> bool:
        return bool(self.new_tickets or self.tickets or self.new_items or self.items
                    or self.new_periods or self.periods or self.counters
                    or self.counter_services or self.sessions or self.new_sessions
                    or self.batch or self.processed)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def bilingual(zh: str, en: str) -> str:
    return f"{zh} / {en}"


class HallBase:
    """State of the live hall and the helpers operations share (no operations)."""

    config: HallConfig
    store: HallStore
    clock: Clock
    tz: zoneinfo.ZoneInfo
    credits: policy.Credits
    _lock: threading.RLock
    _failures: dict[str, tuple[int, dt.datetime | None]]
    _hours_cache: dict[dt.date, tuple[dt.time, dt.time] | None]
    _broken: bool
    _tx: Tx | None
    day: dt.date
    day_known: bool
    day_closed: bool
    departments: list[dict[str, str]]
    services: dict[str, ServiceInfo]
    service_by_id: dict[int, ServiceInfo]
    _service_order: dict[str, int]
    counters: dict[int, CounterLive]
    counter_by_id: dict[int, CounterLive]
    numbers: dict[int, int]
    staff: dict[int, StaffInfo]
    sessions: dict[str, LoginSessionLive]
    tickets: dict[int, TicketLive]
    waiting: WaitingIndex
    seq_by_prefix: dict[str, int]
    issued_by_service: collections.Counter[str]
    issued_today: int
    rated: set[int]
    next_id: dict[str, int]
    processed: dict[tuple[str, str], StoredReply]
    recent_calls: collections.deque[dict[str, Any]]
    devices: dict[str, dict[str, Any]]
    actuals: dict[str, collections.deque[float]]
    views: Views
    _estimates: Estimates | None
    _estimates_view: tuple[Estimates, int, dict[str, int | None]] | None
    _version: int
    _windows_version: int
    _sim_windows: int
    _joins: int
    _reachable_cache: dict[tuple[frozenset[str], int], frozenset[str]]

    def _hours(self, day: dt.date) -> tuple[dt.time, dt.time] | None:
        """Opening hours of a day (config [hours]), remembered: asked on every operation."""
        if day not in self._hours_cache:
            self._hours_cache[day] = self.config.hours.for_day(day)
        return self._hours_cache[day]

    def _local_day(self, now: dt.datetime) -> dt.date:
        return now.astimezone(self.tz).date()

    def _closing(self, day: dt.date) -> dt.datetime | None:
        hours = self._hours(day)
        if hours is None:
            return None
        return dt.datetime.combine(day, hours[1], self.tz)

    def _is_open(self, now: dt.datetime) -> bool:
        if self.day_closed:
            return False
        local = now.astimezone(self.tz)
        hours = self._hours(local.date())
        return hours is not None and hours[0] <= local.time() < hours[1]

    def _status_base_url(self) -> str:
        s = self.config.server
        return s.status_base_url or ""

    def _service_view(self, s: ServiceInfo) -> dict[str, Any]:
        return {"code": s.code, "name": s.name, "department": s.department,
                "prefix": s.prefix, "minutes": s.minutes, "general": s.general}

    def _waiting_view(self) -> dict[str, Any]:
        return {"total": len(self.waiting), "by_service": dict(self.waiting.count)}

    def _target_number(self, t: TicketLive) -> int | None:
        c = t.transfer_to_counter_id
        return self.numbers[c] if c is not None else None

    def _new_id(self, table: str) -> int:
        n = self.next_id[table]
        self.next_id[table] = n + 1
        return n

    def _touch(self, t: TicketLive) -> None:
        assert self._tx is not None
        self._tx.tickets[t.id] = t

    def _touch_counter(self, c: CounterLive) -> None:
        assert self._tx is not None
        self._tx.counters[c.id] = c

    def _open_period(self, item: ItemLive, kind: str, now: dt.datetime,
                     counter: CounterLive | None = None, staff_id: int | None = None) -> None:
        """Close the matter's open period (if any) at now and open `kind` at now."""
        self._close_period(item, now)
        p = PeriodLive(id=self._new_id("period"), item_id=item.id, ticket_id=item.ticket_id,
                       service_id=item.service_id, kind=kind, start=now,
                       counter_id=counter.id if counter else None, staff_id=staff_id)
        item.period = p
        assert self._tx is not None
        self._tx.new_periods[p.id] = p

    def _close_period(self, item: ItemLive, now: dt.datetime) -> None:
        p = item.period
        if p is None:
            return
        p.end = now
        if p.kind in ("called", "serving"):
            ticket = self.tickets[item.ticket_id]
            closing = self._closing(ticket.business_day)
            p.overtime = closing is not None and now > closing
        item.period = None
        assert self._tx is not None
        self._tx.periods[p.id] = p

    def _finish_item(self, item: ItemLive, state: str, now: dt.datetime,
                     counter: CounterLive | None = None, staff_id: int | None = None) -> None:
        self._close_period(item, now)
        item.state = state
        item.completed_at = now
        if counter is not None:
            item.counter_id = counter.id
            item.staff_id = staff_id
        assert self._tx is not None
        self._tx.items[item.id] = item

    def _audit(self, type_: str, now: dt.datetime, actor: Actor, *,
               ticket: TicketLive | None = None, counter: CounterLive | None = None,
               data: dict[str, Any] | None = None, day: dt.date | None = None) -> None:
        """One audit-log row for a transition (who, where, when, what)."""
        assert self._tx is not None
        if day is None:
            day = ticket.business_day if ticket is not None else self.day
        self._tx.batch.insert(T.EVENT, {
            "id": self._new_id("event"), "at": now, "business_day": day, "type": type_,
            "ticket_id": ticket.id if ticket else None,
            "counter_id": counter.id if counter else None, "staff_id": actor.staff_id,
            "device": actor.device, "data": data or {}})

    def _event(self, type_: str, *, tickets: list[TicketLive] | None = None,
               counters: list[CounterLive] | None = None,
               call: dict[str, Any] | None = None, **extra: Any) -> Event:
        v = self.views
        data: dict[str, Any] = {
            "tickets": [v.ticket(t) for t in tickets or ()],
            "counters": [v.counter(c) for c in counters or ()],
            "call": call, "waiting": self._waiting_view(),
            "estimates": self._new_ticket_estimates(self.clock.now()),
        }
        data.update(extra)
        return (type_, data)

    def _set_state(self, t: TicketLive, state: str) -> None:
        """Change a ticket's state, keeping the waiting index in step."""
        if t.state == "waiting":
            self.waiting.remove(t)
        t.state = state
        if state == "waiting":
            self.waiting.add(t, self._target_number(t))
            self._joins += 1
        self._version += 1
        self._touch(t)

    def _set_counter(self, c: CounterLive, state: str, now: dt.datetime,
                     ticket: TicketLive | None = None) -> None:
        if (c.state == "closed") != (state == "closed"):
            self._windows_version += 1
        if (c.state in SIMULATED_OUT) != (state in SIMULATED_OUT):
            self._sim_windows += 1
        c.state = state
        c.since = now
        c.ticket_id = ticket.id if ticket else None
        self._version += 1
        if state != "paused":
            c.pause_reason = None
        self._touch_counter(c)

    def _staffed_counter(self, actor: Actor) -> CounterLive:
        """The window this clerk is logged in at (calling needs one)."""
        if actor.staff_id is None:
            raise HallError(Err.UNAUTHENTICATED, bilingual("请先登录", "please log in first"))
        if actor.counter is None:
            raise conflict("counter", "unbound", "登录时未选择窗口",
                           "this login is not bound to a window")
        c = self.counters.get(actor.counter)
        if c is None:
            raise not_found("counter", actor.counter, "窗口不存在", "no such window")
        return c

    def _counter_arg(self, number: int | None, actor: Actor) -> CounterLive:
        n = number if number is not None else actor.counter
        if n is None:
            raise bad_request("args.counter", "请指定窗口", "name the window")
        c = self.counters.get(n)
        if c is None:
            raise not_found("counter", n, f"{n}号窗口不存在", f"no window {n}")
        return c

    def _current_ticket(self, c: CounterLive, *states: str) -> TicketLive:
        """The ticket at window c, which must be in one of states."""
        if c.ticket_id is None:
            raise conflict("counter", c.state, f"{c.number}号窗口当前没有号",
                           f"window {c.number} has no ticket", counter=c.number)
        t = self.tickets[c.ticket_id]
        if t.state not in states:
            raise conflict("ticket", t.state, f"{t.number}号当前状态为{t.state}",
                           f"ticket {t.number} is {t.state}", ticket_id=t.id)
        return t

    def _ticket_arg(self, ticket_id: int) -> TicketLive:
        t = self.tickets.get(ticket_id)
        if t is None:
            raise not_found("ticket", ticket_id, "号票不存在或不是今天的",
                            "no such ticket today")
        return t

    def _known_services(self, codes: list[str], field_name: str) -> list[ServiceInfo]:
        if not codes:
            raise HallError(Err.NO_SERVICES, bilingual("请至少选择一项业务", "choose at least one matter"),
                            {"field": field_name})
        seen: set[str] = set()
        out: list[ServiceInfo] = []
        for code in codes:
            s = self.services.get(code)
            if s is None or not s.active:
                raise HallError(Err.UNKNOWN_SERVICE, bilingual(f"未知业务 {code}",
                                                          f"unknown matter {code}"),
                                {"field": field_name, "service": code})
            if code in seen:
                raise HallError(Err.DUPLICATE_SERVICE, bilingual(f"业务 {code} 重复",
                                                            f"matter {code} given twice"),
                                {"field": field_name, "service": code})
            seen.add(code)
            out.append(s)
        return out

    def _items_here(self, t: TicketLive, c: CounterLive) -> list[ItemLive]:
        """Pending matters of t now in service (called / serving) at window c."""
        return [i for i in t.items if i.state == "pending" and i.period is not None
                and i.period.kind in ("called", "serving") and i.period.counter_id == c.id]

    def _minutes(self) -> dict[str, float]:
        return {code: estimate.expected_minutes(list(self.actuals.get(code, ())), s.minutes)
                for code, s in self.services.items()}

    def _run_estimates(self, now: dt.datetime) -> Estimates:
        """The last run of the queue forward, or a new one (see ESTIMATE_MAX_AGE)."""
        cached = self._estimates
        if cached is not None and cached.at <= now < cached.at + ESTIMATE_MAX_AGE \
                and cached.windows == (self._windows_version, self._sim_windows) \
                and cached.joins == self._joins:
            return cached
        minutes = self._minutes()
        sims = []
        for c in self.counters.values():
            if c.state in SIMULATED_OUT:
                continue
            free_in = 0.0
            if c.ticket_id is not None:
                t = self.tickets[c.ticket_id]
                expect = sum(minutes[i.service] for i in self._items_here(t, c)) * 60
                started = c.since or now
                free_in = max(0.0, expect - (now - started).total_seconds())
            sims.append(estimate.SimCounter(c.number, frozenset(c.services), free_in))
        waiting = self.waiting.as_policy()
        run = estimate.run_forward(
            waiting, sims, minutes, transfer_first=self.credits.transfer_first,
            phantoms=[s.code for s in self.services.values() if s.active])
        self._estimates = Estimates(
            now, run, minutes, (self._windows_version, self._sim_windows), self._joins,
            max((w.key for w in waiting), default=None))
        return self._estimates

    def _new_ticket_estimates(self, now: dt.datetime) -> dict[str, int | None]:
        """Expected wait (s) of a new ticket per matter, as of the last run (<= 1 s old)."""
        est = self._run_estimates(now)
        view = self._estimates_view
        if view is None or view[0] is not est or view[1] != est.appended:
            per_matter = {k: (round(v) if v is not None else None)
                          for k, v in est.run.per_matter.items()}
            self._estimates_view = view = (est, est.appended, per_matter)
        return view[2]

    def _ticket_estimate(self, t: TicketLive, now: dt.datetime) -> int | None:
        """Seconds until t is called. A ticket that just joined the queue behind
        everybody (a plain issue) is added to the last run exactly; any other change
        of who waits runs the queue forward again."""
        if t.state != "waiting":
            return None
        est = self._estimates
        if est is not None and t.id not in est.run.called \
                and est.at <= now < est.at + ESTIMATE_MAX_AGE \
                and est.windows == (self._windows_version, self._sim_windows) \
                and est.joins == self._joins - 1 and t.transfer_to_counter_id is None \
                and (est.last_key is None or t.key > est.last_key):
            value = estimate.append(est.run, self.waiting.policy_of(t.id), est.minutes)
            est.joins, est.last_key = self._joins, t.key
            est.appended += 1
        else:
            est = self._run_estimates(now)
            value = est.run.called.get(t.id)
        if value is None:
            return None
        return max(0, round(value - (now - est.at).total_seconds()))

    def _ahead(self, t: TicketLive) -> int:
        """People ahead (policy.ahead_of), from the index."""
        if t.state != "waiting":
            return 0
        return self.waiting.ahead(t, self._target_number(t), self._reachable(t))

    def _reachable(self, t: TicketLive) -> frozenset[str]:
        """Matters of the windows (open ones, else all) that take one of t's matters."""
        mine = t.pending_services
        cache_key = (mine, self._windows_version)
        hit = self._reachable_cache.get(cache_key)
        if hit is not None:
            return hit
        if len(self._reachable_cache) > 1000:
            self._reachable_cache.clear()
        self._reachable_cache[cache_key] = found = self._find_reachable(mine)
        return found

    def _find_reachable(self, mine: frozenset[str]) -> frozenset[str]:
        for candidates in ([c for c in self.counters.values() if c.state != "closed"],
                           list(self.counters.values())):
            windows = [c for c in candidates if not mine.isdisjoint(c.services)]
            if windows:
                return frozenset(s for c in windows for s in c.services)
        return mine

    def _tx_after(self, fn: Callable[[], None]) -> None:
        assert self._tx is not None
        self._tx.after_commit.append(fn)

    def _ticket_row(self, t: TicketLive) -> dict[str, Any]:
        return {"id": t.id, "business_day": t.business_day, "number": t.number,
                "prefix": t.prefix, "seq": t.seq, "kind": t.kind,
                "priority_class": t.priority_class, "state": t.state, "token": t.token,
                "issued_at": t.issued_at, "called_at": t.called_at, "counter_id": t.counter_id,
                "transfer_to_counter_id": t.transfer_to_counter_id, "queued_at": t.queued_at,
                "recalls": t.recalls, "no_shows": t.no_shows, "issued_by": t.issued_by,
                "closed_at": t.closed_at}


def item_row(i: ItemLive) -> dict[str, Any]:
    return {"id": i.id, "ticket_id": i.ticket_id, "service_id": i.service_id,
            "position": i.position, "state": i.state, "counter_id": i.counter_id,
            "staff_id": i.staff_id, "completed_at": i.completed_at}


def period_row(p: PeriodLive) -> dict[str, Any]:
    return {"id": p.id, "item_id": p.item_id, "ticket_id": p.ticket_id,
            "service_id": p.service_id, "kind": p.kind, "start": p.start, "end": p.end,
            "counter_id": p.counter_id, "staff_id": p.staff_id, "overtime": p.overtime}


def counter_row(c: CounterLive) -> dict[str, Any]:
    return {"id": c.id, "state": c.state, "pause_reason": c.pause_reason, "since": c.since,
            "staff_id": c.staff_id, "ticket_id": c.ticket_id}


def session_row(s: LoginSessionLive) -> dict[str, Any]:
    return {"token_hash": s.token_hash, "staff_id": s.staff_id, "device": s.device,
            "counter_id": s.counter_id, "created_at": s.created_at, "expires_at": s.expires_at,
            "ended_at": s.ended_at}


def stored_request_key(key: tuple[str, str]) -> tuple[str, str]:
    """(device, request id) as stored: over-long parts are hashed to fit the columns."""
    device, rid = key
    if len(device) > 64:
        device = hashlib.sha256(device.encode()).hexdigest()
    if len(rid) > 64:
        rid = hashlib.sha256(rid.encode()).hexdigest()
    return device, rid


def chunks(ids: list[int], n: int) -> list[list[int]]:
    return [ids[i:i + n] for i in range(0, len(ids), n)] or []


def internal_error() -> Outcome:
    return Outcome(None, HallError(Err.INTERNAL, bilingual("内部错误，操作未执行",
                                                      "internal error; nothing was applied")), [])
