"""What a batch of operations changed, and the plain records an operation is given and
gives back (who asks, what it answers).

An operation never writes the database: it changes the live state and records here,
explicitly, every object it touched and every row it adds. The facade turns one
batch's ``Changes`` into one store transaction (group commit), and runs its
``after_commit`` steps, which change the parts of the state that only follow a write
(idempotency replies, ratings, device health, ended logins).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from queue_server.domain.visit import Counter, Item, Period, Ticket
from queue_server.errors import HallError
from queue_server.store.batch import Batch

Event = tuple[str, dict[str, Any]]
Reply = tuple[dict[str, Any], list[Event]]  # an operation's result and its events
# An idempotency reply kept for the day: the result as JSON bytes, and when. Bytes, not
# the result's dicts: ~5 containers per operation, kept all day, made every collection of
# the cyclic GC's middle generation scan them all (25-40 ms stops of the request loop
# under bench/load.py); bytes and datetimes are not tracked by the collector at all.
StoredReply: TypeAlias = tuple[bytes, dt.datetime]


@dataclass(frozen=True)
class Actor:
    """Who asks: the device (from its CURVE key) and the logged-in staff, if any."""

    device: str
    device_role: str
    staff_id: int | None = None
    staff_role: str | None = None
    counter: int | None = None


SERVER = Actor(device="server", device_role="server")  # the hall's own steps


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
class LoginSession:
    token_hash: str
    staff_id: int
    device: str
    counter_id: int | None
    created_at: dt.datetime
    expires_at: dt.datetime
    ended_at: dt.datetime | None = None


@dataclass(frozen=True)
class LoginProof:
    """A password check made off the writer (Hall.verified_login_args, on a worker).

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


@dataclass
class Changes:
    """What the operations of one batch changed, to write in one transaction."""

    new_tickets: dict[int, Ticket] = field(default_factory=dict)
    tickets: dict[int, Ticket] = field(default_factory=dict)
    new_items: dict[int, Item] = field(default_factory=dict)
    items: dict[int, Item] = field(default_factory=dict)
    new_periods: dict[int, Period] = field(default_factory=dict)
    periods: dict[int, Period] = field(default_factory=dict)
    counters: dict[int, Counter] = field(default_factory=dict)
    counter_services: set[int] = field(default_factory=set)
    sessions: dict[str, LoginSession] = field(default_factory=dict)
    new_sessions: dict[str, LoginSession] = field(default_factory=dict)
    batch: Batch = field(default_factory=Batch)  # rows added outright (events, ratings ...)
    # idempotency replies of this batch, as results until the batch is priced (price)
    processed: dict[tuple[str, str], tuple[dict[str, Any], dt.datetime]] = field(
        default_factory=dict)
    # replies whose wait and people ahead are filled at the end of the batch (price)
    priced: list[tuple[dict[str, Any], Ticket, bool]] = field(default_factory=list)
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    appointments: set[int] = field(default_factory=set)  # bookings used by this batch
    # Finished days' statistics facts to store (stat_day): (day, version, JSON).
    stat_days: list[tuple[dt.date, int, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.new_tickets or self.tickets or self.new_items or self.items
                    or self.new_periods or self.periods or self.counters
                    or self.counter_services or self.sessions or self.new_sessions
                    or self.batch or self.processed or self.stat_days)

    def ticket(self, t: Ticket) -> None:
        self.tickets[t.id] = t

    def counter(self, c: Counter) -> None:
        self.counters[c.id] = c

    def item(self, i: Item) -> None:
        self.items[i.id] = i

    def session(self, s: LoginSession) -> None:
        self.sessions[s.token_hash] = s

    def price(self, result: dict[str, Any], t: Ticket, *, issued: bool) -> None:
        """Fill the reply's people ahead and wait at the end of the batch, from the
        state the whole batch left (Hall.prepare): then the queue is run forward once
        per batch, not once per ticket issued or looked up after a call changed it. A
        figure from after the ticket's own issue, never before (issued: its printed
        wait, which the estimate learns its range from)."""
        self.priced.append((result, t, issued))

    def after(self, fn: Callable[[], None]) -> None:
        """Run fn once the batch is applied (the state it changes follows the write)."""
        self.after_commit.append(fn)
