"""The hall's operations: issue, call_next, complete ... each all-or-nothing, durable.

One ``Hall`` owns the database and a live projection of today's queue
(queue_server.live). An operation validates against the projection, changes it, and
records every row it touched; ``apply_batch`` then writes all of them with SQLAlchemy
Core in ONE transaction (group commit) before anything is answered. A domain error is
raised before anything changes. If the commit fails (disk full, read-only) the
projection is reloaded from the database, so memory and database never disagree, and
every operation of the batch answers STORE_UNAVAILABLE.

Every transition closes the open period of each matter it touches and opens the next
(periods contiguous, no overlap: exact wait and service times per matter) and writes
one audit ``event`` row.

Single writer: one thread calls ``apply``/``apply_batch``/``prepare``/``tick``; the
server's committer thread calls ``write`` (the store only) for batches already prepared.
A lock makes a stray call from another thread (a status page) safe, not fast.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from queue_common.protocol import Err, Op
from queue_server import args as schemas
from queue_server import json_bytes, policy, registry
from queue_server.clock import Clock, SystemClock
from queue_server.config import HallConfig
from queue_server.errors import EarlierWriteFailed, HallError, store_unavailable
from queue_server.hall_base import (
    PK,
    PROOF_ARG,
    Actor,
    Command,
    Event,
    LoginProof,
    Outcome,
    Prepared,
    Tx,
    bilingual,
    counter_row,
    hash_token,
    internal_error,
    item_row,
    period_row,
    session_row,
    stored_request_key,
)
from queue_server.hall_day import DayOps
from queue_server.hall_load import Loader
from queue_server.hall_logins import END_LOGINS_OP, LoginWatch
from queue_server.hall_visit import VisitOps
from queue_server.hall_window import WindowOps
from queue_server.registry import KEEPS_REPLY_OPS
from queue_server.store import seed
from queue_server.store import tables as T
from queue_server.store.batch import Batch
from queue_server.store.hall_store import STORE_ERRORS, HallStore

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = ["Actor", "Command", "Hall", "HallError", "Outcome", "Prepared"]

log = logging.getLogger(__name__)


def _refusal(exc: HallError) -> Outcome:
    """A refused operation's outcome (QUEUE_EMPTY, FORBIDDEN ...), held until its batch
    is committed. Without the traceback: it holds prepare's frame, whose locals hold the
    outcomes list holding the error, a cycle that took the whole batch (commands, rows,
    replies) to the cyclic collector; under load that made its young collections 25-50 ms
    stops of the request loop (bench/load.py, p99)."""
    return Outcome(None, exc.with_traceback(None), [])


class Hall(Loader, VisitOps, LoginWatch, WindowOps, DayOps):
    """The hall: one instance per server, the only writer of queue state."""

    # The method answering each operation the hall runs (queue_server.registry says
    # which those are; a test checks that none is missing).
    HANDLERS: ClassVar[dict[str, str]] = {
        Op.LOGIN: "_login", Op.LOGOUT: "_logout", Op.STATE: "_state", Op.ISSUE: "_issue",
        Op.CHECK_IN: "_check_in", Op.TICKET_STATUS: "_ticket_status",
        Op.CALL_NEXT: "_call_next", Op.CALL: "_call", Op.RECALL: "_recall",
        Op.START: "_start", Op.NO_SHOW: "_no_show", Op.COMPLETE: "_complete",
        Op.TRANSFER: "_transfer", Op.PARK: "_park", Op.UNPARK: "_unpark",
        Op.PAUSE: "_pause", Op.RESUME: "_resume", Op.RATE: "_rate", Op.STATS: "_stats",
        Op.COUNTER_SERVICES: "_counter_services", Op.OPEN_COUNTER: "_open_counter",
        Op.CLOSE_COUNTER: "_close_counter", Op.CANCEL_TICKET: "_cancel_ticket",
        Op.CLOSE_DAY: "_close_day", Op.DEVICE_STATUS: "_device_status",
        Op.WINDOW_QUEUE: "_window_queue",
    }

    def __init__(self, config: HallConfig, store: HallStore, clock: Clock) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.tz = config.tz
        self.credits = policy.Credits(
            priority={k: v.credit_minutes for k, v in config.policy.priority_classes.items()},
            appointment=config.policy.appointment_credit_minutes,
            transfer_first=config.policy.transfer_first)
        self._lock = threading.RLock()
        self._failures: dict[str, tuple[int, dt.datetime | None]] = {}
        self._hours_cache: dict[dt.date, tuple[dt.time, dt.time] | None] = {}
        self._broken = False
        self._in_flight = 0  # prepared batches whose write has not ended
        self._ending: dict[str, str] = {}
        self._logins_checked = dt.datetime.min.replace(tzinfo=dt.UTC)
        self._tx: Tx | None = None
        self._load()

    @classmethod
    def open(cls, config: HallConfig, *, clock: Clock | None = None) -> Hall:
        """Engine, schema upgraded to head, config synced, today's state loaded."""
        store = HallStore.open(config.database_url(), config.database.synchronous,
                               prepare=lambda conn: seed.sync_from_config(conn, config))
        hall = cls(config, store, clock or SystemClock())
        hall.tick()  # tickets left waiting on an earlier day are closed as not served
        return hall

    def close(self) -> None:
        """Release the database connections (a later operation would reconnect)."""
        with self._lock:
            self.store.release()

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for statistics and tests that read the rows)."""
        return self.store.engine

    def apply(self, op: str, args: dict[str, Any], actor: Actor,
              request_key: tuple[str, str] | None = None) -> Outcome:
        """Run one operation in one transaction (see module docstring)."""
        return self.apply_batch([(op, args, actor, request_key)])[0]

    def apply_batch(self, commands: list[Command]) -> list[Outcome]:
        """Group commit, synchronously: prepared, written, and recovered on a failure.
        For ticks, tests and tools; the server pipelines prepare / write / written."""
        with self._lock:
            if self._in_flight:
                raise RuntimeError("apply_batch while pipelined writes are in flight")
            prepared = self.prepare(commands)
            if prepared.failed_index is not None:  # a bug: the others on their own
                self.recover()
                i = prepared.failed_index
                if len(commands) == 1:
                    return [internal_error()]
                return [self.apply(*c) if j != i else internal_error()
                        for j, c in enumerate(commands)]
            error: BaseException | None = None
            try:
                self.write([prepared])
            except Exception as exc:  # nothing of the batch was written
                error = exc
            outcomes = self.written(prepared, error)
            if error is not None:
                self.recover()
            return outcomes

    def prepare(self, commands: list[Command]) -> Prepared:
        """Apply the batch to the live state and take its rows; nothing is written yet.

        From here until ``written`` the live state is ahead of the database: the
        caller must hold every reply and event of the batch until then, and may
        prepare the next batch meanwhile (each operation sees the ones before it).
        An operation that fails unexpectedly (a bug) poisons the batch: nothing of it
        may be written, and the caller ``recover``s once no write is in flight.
        """
        with self._lock:
            if self._broken and (self._in_flight or not self._try_reload()):
                err = store_unavailable(RuntimeError("the database could not be reloaded"))
                return Prepared([Outcome(None, err, []) for _ in commands], None)
            tx = self._tx = Tx()
            outcomes: list[Outcome] = []
            try:
                for i, cmd in enumerate(commands):
                    try:
                        outcomes.append(self._run(*cmd))
                    except HallError as exc:  # kept without its traceback: see _refusal
                        outcomes.append(_refusal(exc))
                    except Exception:  # a bug: nothing of this batch may stand
                        log.exception("hall operation %s failed", cmd[0])
                        self._broken = True
                        retry = store_unavailable(RuntimeError("batch abandoned"))
                        return Prepared([internal_error() if j == i else
                                         Outcome(None, retry, []) for j in range(len(commands))],
                                        None, failed_index=i)
            finally:
                self._tx = None
            if not tx:
                return Prepared(outcomes, None)
            rows = self._rows(tx)
            for fn in tx.after_commit:  # the live state runs ahead; a failure reloads it
                fn()
            self._in_flight += 1
            return Prepared(outcomes, rows)

    def write(self, prepared: Sequence[Prepared]) -> None:
        """Commit these batches' rows, in order, in one transaction (the server's
        committer thread; touches only the store). Raises if nothing was written."""
        rows = [b.rows for b in prepared if b.rows is not None]
        if rows:
            self.store.write_all(rows, PK)

    def written(self, prepared: Prepared, error: BaseException | None) -> list[Outcome]:
        """The batch's final outcomes once its write ended; in the order prepared.

        After an error the hall is broken until ``recover``: each operation that
        succeeded in memory answers STORE_UNAVAILABLE (nothing of it was written).
        """
        with self._lock:
            if prepared.rows is not None:
                self._in_flight -= 1
            if error is None:
                return prepared.outcomes
            self._broken = True
            if isinstance(error, EarlierWriteFailed):
                err = store_unavailable(error.cause)
            elif isinstance(error, STORE_ERRORS):
                err = store_unavailable(error)
            else:
                log.error("writing a batch failed", exc_info=error)
                err = internal_error().error or store_unavailable(error)
            return [o if o.error is not None else Outcome(None, err, [])
                    for o in prepared.outcomes]

    def recover(self) -> bool:
        """Rebuild the live state from the database (no write may be in flight)."""
        with self._lock:
            if self._in_flight:
                raise RuntimeError("recover while pipelined writes are in flight")
            return self._try_reload()

    def read_database(self, op: str, args: dict[str, Any], actor: Actor) -> Outcome:
        """An operation that reads only the database (`stats`), on any thread: it
        touches neither the live state nor the writer, so the server answers it from a
        worker while batches go on. It sees what is committed."""
        if op != Op.STATS:
            raise ValueError(f"{op} is not a database read")
        try:
            result, events = self._stats(schemas.parse(registry.spec(op).schema, args), actor)
        except HallError as exc:
            return _refusal(exc)
        return Outcome(result, None, events)

    def actor_for(self, token: str | None, device: str, device_role: str) -> Actor:
        """The actor behind a request: token -> staff and window (UNAUTHENTICATED if bad)."""
        if not token:
            return Actor(device=device, device_role=device_role)
        with self._lock:
            s = self.sessions.get(hash_token(token))
            now = self.clock.now()
            if s is None or s.ended_at is not None or s.expires_at <= now or s.device != device:
                raise HallError(Err.UNAUTHENTICATED, bilingual(
                    "登录已失效，请重新登录", "login expired or unknown, please log in again"))
            staff = self.staff.get(s.staff_id)
            if staff is None or not staff.active:
                raise HallError(Err.UNAUTHENTICATED, bilingual("账号已停用", "account disabled"))
            counter = self.numbers[s.counter_id] if s.counter_id is not None else None
            return Actor(device=device, device_role=device_role, staff_id=staff.id,
                         staff_role=staff.role, counter=counter)

    def snapshot(self) -> dict[str, Any]:
        """The whole hall state (docs/hall-state.md), without epoch and seq."""
        with self._lock:
            now = self.clock.now()
            hours = self._hours(self.day)
            v = self.views
            return {
                "business_day": self.day.isoformat(),
                "now": v.time(now),
                "hall": {
                    "name": self.config.hall.name, "name_en": self.config.hall.name_en,
                    "notice": self.config.hall.notice, "timezone": self.config.hall.timezone,
                    "open": self._is_open(now),
                    "opening": hours[0].strftime("%H:%M") if hours else None,
                    "closing": hours[1].strftime("%H:%M") if hours else None,
                    "day_closed": self.day_closed,
                    "status_base_url": self._status_base_url(),
                    "settings": self.config.settings(),
                },
                "departments": list(self.departments),
                "services": [self._service_view(s) for s in self.services.values()
                             if s.active],
                "counters": [v.counter(c) for c in self.counters.values()],
                "tickets": [v.ticket(t) for t in self.tickets.values() if not t.final],
                "recent_calls": list(self.recent_calls),
                "waiting": self._waiting_view(),
                "estimates": self._new_ticket_estimates(now),
                "devices": dict(self.devices),
            }

    def tick(self) -> list[Event]:
        """About once a second: logins ended by the CLI (queue_server.hall_logins),
        business-day rollover."""
        with self._lock:
            now = self.clock.now()
            ended: list[Event] = []
            if self._watch_logins(now):
                server = Actor(device="server", device_role="server")
                ended = self.apply_batch([(END_LOGINS_OP, {}, server, None)])[0].events
            today = self._local_day(now)
            if today == self.day and self.day_known and self._settled_day == today:
                return ended  # no ticket of an earlier day can appear within the day
            stale = [t for t in self.tickets.values()
                     if t.business_day < today and t.state in ("waiting", "parked")]
            if today == self.day and self.day_known and not stale:
                self._settled_day = today
                return ended
            actor = Actor(device="server", device_role="server")
            finished = self.day if self.day_known and self.day < today else None
            out = self.apply_batch([("__rollover__", {}, actor, None)])[0]
            if finished is not None and out.error is None:
                self._summarize(finished)
            return ended + out.events

    def _summarize(self, day: dt.date) -> None:
        """Store the finished day's statistics facts (queue_server.stats) once, now, so
        no later `stats` request has to rebuild them from its ~14,000 periods."""
        from queue_server import stats

        try:
            with self.engine.begin() as conn:
                stats.summarize_day(conn, day, self.tz,
                                    stats.closing_from_hours(self.config.hours))
        except Exception:  # only a cache: the next report rebuilds it from the rows
            log.exception("statistics facts of %s not stored", day)

    def _run(self, op: str, args: dict[str, Any], actor: Actor,
             key: tuple[str, str] | None) -> Outcome:
        tx = self._tx
        assert tx is not None
        if op == "__rollover__":
            return Outcome({}, None, self._rollover())
        if op == END_LOGINS_OP:
            return Outcome({}, None, self._end_logins())
        if key is not None and op in KEEPS_REPLY_OPS:
            key = stored_request_key(key)
            stored = tx.processed.get(key) or self.processed.get(key)
            if stored is not None:
                return Outcome(json_bytes.decode(stored[0]), None, [])
        name = self.HANDLERS.get(op)
        if name is None:
            raise HallError(Err.UNKNOWN_OP, bilingual(f"未知操作 {op}", f"unknown operation {op}"),
                            {"op": op})
        proof: LoginProof | None = None
        if PROOF_ARG in args:  # from the server's verifier; a client's is dropped
            args = dict(args)
            given = args.pop(PROOF_ARG)
            proof = given if isinstance(given, LoginProof) and op == Op.LOGIN else None
        parsed = schemas.parse(registry.spec(op).schema, args)
        if proof is not None:
            result, events = self._login(parsed, actor, proof)
        else:
            result, events = getattr(self, name)(parsed, actor)
        if key is not None and op in KEEPS_REPLY_OPS:
            stored_key, entry = key, (json_bytes.encode(result), self.clock.now())
            tx.processed[stored_key] = entry
            tx.batch.insert(T.PROCESSED_REQUEST, {
                "device": key[0], "request_id": key[1], "reply": result, "at": entry[1]})
            tx.after_commit.append(lambda: self.processed.__setitem__(stored_key, entry))
        return Outcome(result, None, events)

    def _rows(self, tx: Tx) -> Batch:
        """Every row the batch changed, as values taken now (later batches change the
        same live objects before this one is written)."""
        b = tx.batch
        for t in tx.new_tickets.values():
            b.insert(T.TICKET, self._ticket_row(t))
        for t in tx.tickets.values():
            if t.id not in tx.new_tickets:
                b.update(T.TICKET, t.id, self._ticket_row(t))
        for i in tx.new_items.values():
            b.insert(T.TICKET_ITEM, item_row(i))
        for i in tx.items.values():
            if i.id not in tx.new_items:
                b.update(T.TICKET_ITEM, i.id, item_row(i))
        for p in tx.new_periods.values():
            b.insert(T.PERIOD, period_row(p))
        for p in tx.periods.values():
            if p.id not in tx.new_periods:
                b.update(T.PERIOD, p.id, {"id": p.id, "end": p.end, "overtime": p.overtime})
        for c in tx.counters.values():
            b.update(T.COUNTER, c.id, counter_row(c))
        for cid in tx.counter_services:
            c = self.counter_by_id[cid]
            b.replace_counter_services(cid, [self.services[code].id for code in c.services])
        for s in tx.new_sessions.values():
            b.insert(T.LOGIN_SESSION, session_row(s))
        for s in tx.sessions.values():
            if s.token_hash not in tx.new_sessions:
                b.update(T.LOGIN_SESSION, s.token_hash, session_row(s))
        return b

    def _try_reload(self) -> bool:
        try:
            self._load()
        except STORE_ERRORS:
            self._broken = True
            return False
        return True

    def _state(self, a: schemas.NoArgs, actor: Actor) -> tuple[dict[str, Any], list[Event]]:
        return self.snapshot(), []
