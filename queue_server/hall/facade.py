"""The hall as the socket loop drives it: batches applied in memory, written in one
transaction, answered once written; reloaded from the database when a write failed.

``Hall`` holds the live state (queue_server.hall.state), the store and the clock, and
nothing of the rules: each operation is a function named by its registry row
(queue_server.registry), run against the state with the batch's Changes
(queue_server.hall.changes). A domain error is raised before anything changes; a bug in
an operation poisons its batch (nothing of it is written, the hall reloads).

Threads (docs/design.md, "Threads"):

- the writer (the request loop): ``prepare``, ``written``, ``recover``, ``apply``,
  ``apply_batch``, ``tick``, ``snapshot``, ``actor_for``, ``window_queue``. Only it
  changes the state. A lock makes a stray call from another thread safe, not fast.
- the committer: ``write``, which touches the store only (rows taken at prepare).
- workers: ``verified_login_args`` (the password check) and ``read_database``
  (`stats`): they read the store and never change the state; what a report builds for
  the statistics cache is handed to the writer, which stores it at its next tick.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
from collections import deque
from collections.abc import Sequence
from typing import Any

from queue_common.protocol import Err, Op, Role
from queue_server import args as schemas
from queue_server import json_bytes, registry
from queue_server.clock import Clock, SystemClock
from queue_server.config import HallConfig
from queue_server.errors import EarlierWriteFailed, HallError, bilingual, store_unavailable
from queue_server.hall import carry, day, find, logins, visit, window
from queue_server.hall import transitions as tr
from queue_server.hall.changes import (
    PROOF_ARG,
    SERVER,
    Actor,
    Changes,
    Command,
    Event,
    LoginProof,
    Outcome,
    Prepared,
    Reply,
)
from queue_server.hall.load import load_state
from queue_server.hall.ports import HallStorePort
from queue_server.hall.state import HallState, Throttle
from queue_server.registry import KEEPS_REPLY_OPS, Handler
from queue_server.store import rows as R
from queue_server.store import seed
from queue_server.store import tables as T
from queue_server.store.batch import Batch
from queue_server.store.hall_store import STORE_ERRORS, HallStore
from queue_server.store.rows import stored_request_key
from queue_server.store.stats_queries import keep_day

__all__ = ["Actor", "Command", "Hall", "HallError", "Outcome", "Prepared"]

log = logging.getLogger(__name__)

# The hall's own steps, run as operations of the server actor (not protocol ops).
ROLLOVER_OP = "__rollover__"
END_LOGINS_OP = "__end_logins__"
KEEP_FACTS_OP = "__keep_facts__"
OPEN_KEPT_OP = "__open_kept__"
FORGET_EVERY = dt.timedelta(seconds=30)  # finished tickets and old replies leave memory
INTERNAL: dict[str, Handler] = {ROLLOVER_OP: day.rollover, END_LOGINS_OP: logins.end_logins,
                                KEEP_FACTS_OP: day.keep_facts, OPEN_KEPT_OP: day.open_kept}


def internal_error() -> Outcome:
    return Outcome(None, HallError(Err.INTERNAL, bilingual("内部错误，操作未执行",
                                                          "internal error; nothing was applied")))


def _refusal(exc: HallError) -> Outcome:
    """A refused operation's outcome (QUEUE_EMPTY, FORBIDDEN ...), held until its batch
    is committed. Without the traceback: it holds prepare's frame, whose locals hold the
    outcomes list holding the error, a cycle that took the whole batch (commands, rows,
    replies) to the cyclic collector; under load that made its young collections 25-50 ms
    stops of the request loop (bench/load.py, p99)."""
    return Outcome(None, exc.with_traceback(None), [])


class Hall:
    """The hall: one instance per server, the only writer of queue state."""

    def __init__(self, config: HallConfig, store: HallStorePort, clock: Clock) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self._lock = threading.RLock()
        self._throttle = Throttle(config.login.max_failures, config.login.lockout_seconds)
        # ^ survives reloads: a failed write forgives nobody
        self._broken = False
        self._in_flight = 0  # prepared batches whose write has not ended
        self._logins_checked = dt.datetime.min.replace(tzinfo=dt.UTC)
        # Statistics facts a worker built, for the writer's next tick (append and
        # popleft are thread-safe).
        self._facts: deque[tuple[dt.date, int, str]] = deque()
        self._finished: deque[dt.date] = deque()  # days ended, facts not stored yet
        self._ends_of = (dt.date.min, dt.datetime.min.replace(tzinfo=dt.UTC))
        self._forgot = dt.datetime.min.replace(tzinfo=dt.UTC)
        self.state: HallState = load_state(store, config, clock.now(), throttle=self._throttle)

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

    # -- the writer ----------------------------------------------------------------------

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
            s, ch = self.state, Changes()
            outcomes: list[Outcome] = []
            new_day: list[Event] = []
            new_day_at = 0
            for i, cmd in enumerate(commands):
                try:
                    now = self.clock.now()
                    if now >= self._day_ends(s):
                        new_day, new_day_at = self._new_day(s, ch, now), i
                    outcomes.append(self._run(s, ch, *cmd, now=now))
                except HallError as exc:  # kept without its traceback: see _refusal
                    outcomes.append(_refusal(exc))
                except Exception:  # a bug: nothing of this batch may stand
                    log.exception("hall operation %s failed", cmd[0])
                    self._broken = True
                    retry = store_unavailable(RuntimeError("batch abandoned"))
                    return Prepared([internal_error() if j == i else
                                     Outcome(None, retry, []) for j in range(len(commands))],
                                    None, failed_index=i)
            if new_day:  # published with the batch, before the events of that operation
                outcomes[new_day_at].events[:0] = new_day
            now = self.clock.now()
            self._finish(s, ch, now)
            tr.with_estimates(s, [e for o in outcomes for e in o.events], now)
            if not ch:
                return Prepared(outcomes, None)
            rows = self._rows(s, ch)
            for fn in ch.after_commit:  # the live state runs ahead; a failure reloads it
                fn()
            self._in_flight += 1
            return Prepared(outcomes, rows)

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

    def tick(self) -> list[Event]:
        """About once a second: logins ended by the CLI (queue_server.hall.logins),
        business-day rollover, statistics facts to store, the estimate's service times
        fitted again (off the path of a request)."""
        with self._lock:
            now = self.clock.now()
            events: list[Event] = []
            if self._logins_checked <= now < self._logins_checked + logins.LOGIN_WATCH_EVERY:
                ending = None
            else:
                self._logins_checked = now
                ending = logins.watch(self.state, now)
            if ending is not None:
                events += self.apply(END_LOGINS_OP, {"ending": ending}, SERVER).events
            events += self._roll_over(now)
            if self.state.carried and carry.opening_due(self.state, now):
                self.apply(OPEN_KEPT_OP, {}, SERVER)
            if now >= self._forgot + FORGET_EVERY or now < self._forgot:
                self._forgot = now
                day.forget_finished(self.state, now)
                self.state.processed.prune(now)
            if self._facts:
                days = [self._facts.popleft() for _ in range(len(self._facts))]
                self.apply(KEEP_FACTS_OP, {"days": days}, SERVER)
            self.state.estimates.refit(self.state, now)
            return events

    def _roll_over(self, now: dt.datetime) -> list[Event]:
        """A new business day (or tickets of an earlier one still open): the rollover
        operation, then the finished day's statistics facts, stored once, now, so no
        later `stats` rebuilds them from its ~14,000 periods."""
        s = self.state
        today = s.calendar.local_day(now)
        if today == s.day and s.day_known and s.settled_day == today:
            return []  # no ticket of an earlier day can appear within the day
        if today == s.day and s.day_known and not carry.stale(s, today):
            s.settled_day = today
            self._summarize_finished()
            return []
        out = self.apply(ROLLOVER_OP, {}, SERVER)  # its batch starts the day (_new_day)
        if out.error is None:
            self._summarize_finished()
        return out.events

    def _summarize_finished(self) -> None:
        while self._finished:
            self._summarize(self._finished.popleft())

    def _summarize(self, finished: dt.date) -> None:
        from queue_server import stats

        if finished in self.state.unsettled_days:
            return  # a kept ticket of that day is still open: its facts are not final

        try:
            with self.store.reading() as conn:
                version, text = stats.facts_of_day(
                    conn, finished, self.config.tz, stats.closing_from_hours(self.config.hours))
        except STORE_ERRORS as exc:  # only a cache: the next report rebuilds it
            log.warning("statistics facts of %s not built: %s: %s", finished,
                        type(exc).__name__, exc)
            return
        if self.apply(KEEP_FACTS_OP, {"days": [(finished, version, text)]}, SERVER).error:
            log.warning("statistics facts of %s not stored", finished)

    def snapshot(self) -> dict[str, Any]:
        """The whole hall state (docs/hall-state.md), without epoch and seq."""
        with self._lock:
            return day.snapshot(self.state, self.clock.now())

    def recent_calls(self) -> list[dict[str, Any]]:
        """The day's latest calls, newest first (the calls profile's catch-up)."""
        with self._lock:
            return list(self.state.recent_calls)

    def login_windows(self, device: str, device_role: str) -> list[int] | None:
        """The windows a clerk may log in at from this PC (hello's `windows`): None
        when any window will do (not a counter PC, or [security] counter_any_window)."""
        if device_role != Role.COUNTER or self.state.config.security.counter_any_window:
            return None
        with self._lock:
            mine = find.window_of_device(self.state, device)
        return [] if mine is None else [mine]

    def actor_for(self, token: str | None, device: str, device_role: str) -> Actor:
        """The actor behind a request: token -> staff and window (UNAUTHENTICATED if bad)."""
        with self._lock:
            return logins.actor_for(self.state, token, device, device_role, self.clock.now())

    def window_queue(self, number: int) -> list[int]:
        """Ids of the waiting tickets window `number` may call, in calling order."""
        with self._lock:
            return window.queue_of(self.state, number)

    # -- the committer ----------------------------------------------------------------------

    def write(self, prepared: Sequence[Prepared]) -> None:
        """Commit these batches' rows, in order, in one transaction (the server's
        committer thread; touches only the store). Raises if nothing was written."""
        rows = [b.rows for b in prepared if b.rows is not None]
        if rows:
            self.store.write_all(rows, R.PK)

    # -- workers ------------------------------------------------------------------------------

    def read_database(self, op: str, args: dict[str, Any], actor: Actor) -> Outcome:
        """An operation that reads only the database (`stats`), or writes only rows the
        live state never holds (bookings), on any thread: it leaves the live state and
        the hall's batches alone, so the server answers it from a worker while batches
        go on. It sees what is committed."""
        row = registry.spec(op)
        if row.runs not in (registry.Runs.WORKER, registry.Runs.STORE) or row.handler is None:
            raise ValueError(f"{op} is not a database read")
        ch = Changes()
        try:
            result, events = row.handler(self.state, ch, schemas.parse(row.schema, args),
                                         actor, self.clock.now())
        except HallError as exc:
            return _refusal(exc)
        self._facts.extend(ch.stat_days)  # the writer stores them (tick)
        ch.stat_days.clear()
        assert not ch, f"{op} on a worker changed the hall"
        return Outcome(result, None, events)

    def verified_login_args(self, args: dict[str, Any],
                            device: str | None = None) -> dict[str, Any]:
        """Login args with the password check's proof attached, for the writer
        (thread-safe: reads the store and the throttle only). Given the requesting
        device, a try it must wait with is not checked at all (the writer refuses it)."""
        proof = logins.verify_login(self.state, args.get("user"), args.get("password"),
                                    self.clock.now(), device)
        return args if proof is None else {**args, PROOF_ARG: proof}

    # -- inside a batch ------------------------------------------------------------------------

    def _day_ends(self, s: HallState) -> dt.datetime:
        """The first instant of the business day after the state's (remembered)."""
        if self._ends_of[0] != s.day:
            self._ends_of = (s.day, dt.datetime.combine(s.day + dt.timedelta(days=1),
                                                        dt.time(0), s.tz))
        return self._ends_of[1]

    def _new_day(self, s: HallState, ch: Changes, now: dt.datetime) -> list[Event]:
        """The first operation of a new business day starts it, in its own batch: the
        earlier day's queue closes and numbering restarts in the same transaction as
        that operation, so no request between midnight and the next tick is numbered
        on the old day, and no old and new A001 are ever live together. The tick's
        rollover then finds nothing left to do but store the finished day's facts."""
        if s.calendar.local_day(now) <= s.day:
            return []
        if s.day_known:
            self._finished.append(s.day)
        return day.rollover(s, ch, {}, SERVER, now)[1]

    def _run(self, s: HallState, ch: Changes, op: str, args: dict[str, Any], actor: Actor,
             key: tuple[str, str] | None, *, now: dt.datetime) -> Outcome:
        internal = INTERNAL.get(op)
        if internal is not None:
            result, events = internal(s, ch, args, actor, now)
            return Outcome(result, None, events)
        if key is not None and op in KEEPS_REPLY_OPS:
            key = stored_request_key(key)
            this_batch = ch.processed.get(key)
            if this_batch is not None:  # the same result, priced with it (_finish)
                return Outcome(this_batch[0], None, [])
            stored = s.processed.get(key)
            if stored is not None:
                return Outcome(json_bytes.decode(stored[0]), None, [])
            if s.processed.seen.might_have(key):  # older than memory holds: the database's
                kept = s.store.stored_reply(*key)
                if kept is not None:
                    # held in memory again from now: a device replaying an old request
                    # costs the database's scan once, not at every replay
                    s.processed.put(key, (json_bytes.encode(dict(kept.reply)), now))
                    return Outcome(dict(kept.reply), None, [])
        row = registry.REGISTRY.get(op)
        if row is None or row.handler is None:
            raise HallError(Err.UNKNOWN_OP, bilingual(f"未知操作 {op}", f"unknown operation {op}"),
                            {"op": op})
        proof: LoginProof | None = None
        if PROOF_ARG in args:  # from the server's verifier; a client's is dropped
            args = dict(args)
            given = args.pop(PROOF_ARG)
            proof = given if isinstance(given, LoginProof) and op == Op.LOGIN else None
        parsed = schemas.parse(row.schema, args)
        reply: Reply
        if proof is not None:
            reply = logins.login(s, ch, parsed, actor, now, proof)
        else:
            reply = row.handler(s, ch, parsed, actor, now)
        result, events = reply
        if key is not None and op in KEEPS_REPLY_OPS:
            ch.processed[key] = (result, now)  # kept once priced (_finish)
        return Outcome(result, None, events)

    def _finish(self, s: HallState, ch: Changes, now: dt.datetime) -> None:
        """The end of a batch's operations: the replies' waits from the state they all
        left (Changes.price), then the idempotency replies as they will be sent."""
        for result, t, issued in ch.priced:
            visit.priced(s, result, t, issued, now)
        for key, (result, at) in ch.processed.items():
            entry = (json_bytes.encode(result), at)
            ch.batch.insert(T.PROCESSED_REQUEST, {
                "device": key[0], "request_id": key[1], "reply": result, "at": at})
            ch.after(functools.partial(s.processed.put, key, entry))

    def _rows(self, s: HallState, ch: Changes) -> Batch:
        """Every row the batch changed, as values taken now (later batches change the
        same live objects before this one is written)."""
        b = ch.batch
        for t in ch.new_tickets.values():
            b.insert(T.TICKET, R.ticket_row(t))
        for t in ch.tickets.values():
            if t.id not in ch.new_tickets:
                b.update(T.TICKET, t.id, R.ticket_row(t))
        for i in ch.new_items.values():
            b.insert(T.TICKET_ITEM, R.item_row(i))
        for i in ch.items.values():
            if i.id not in ch.new_items:
                b.update(T.TICKET_ITEM, i.id, R.item_row(i))
        for p in ch.new_periods.values():
            b.insert(T.PERIOD, R.period_row(p))
        for p in ch.periods.values():
            if p.id not in ch.new_periods:
                b.update(T.PERIOD, p.id, R.period_end_row(p))
        for c in ch.counters.values():
            b.update(T.COUNTER, c.id, R.counter_row(c))
        for cid in ch.counter_services:
            c = s.counter_by_id[cid]
            b.replace_counter_services(cid, [s.services[code].id for code in c.services])
        for session in ch.new_sessions.values():
            b.insert(T.LOGIN_SESSION, R.session_row(session))
        for session in ch.sessions.values():
            if session.token_hash not in ch.new_sessions:
                b.update(T.LOGIN_SESSION, session.token_hash, R.session_row(session))
        built = self.clock.now()
        for stat_day, version, text in ch.stat_days:
            keep_day(b, stat_day, version, text, built)
        return b

    def _try_reload(self) -> bool:
        try:
            self.state = load_state(self.store, self.config, self.clock.now(),
                                    throttle=self._throttle)
        except STORE_ERRORS:
            self._broken = True
            return False
        self._broken = False
        return True

