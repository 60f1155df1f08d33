"""What the hall needs of its database (queue_server.store.hall_store.HallStore, or an
in-memory fake in the unit tests): the rows to load, a few lookups by meaning, and one
transaction per write. Nothing else of the store reaches the service layer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from queue_server.appointments import Booking
from queue_server.store.batch import Batch

# Tickets whose printed wait's error a restart reads back: more than the calibration
# keeps (hall.estimates: RESIDUALS_KEPT in each of its bands), the newest first.
WAIT_ERRORS_READ = 2000


@dataclass
class StoredHall:
    """Every row the live state is built from (queue_server.hall.load); rows are read
    by attribute, as the database's rows are."""

    departments: Sequence[Any]
    services: Sequence[Any]
    counter_services: Sequence[Any]
    counters: Sequence[Any]
    staff: Sequence[Any]
    open_sessions: Sequence[Any]
    business_day: Any | None
    tickets: Sequence[Any]  # the day's tickets and earlier ones not in a final state
    items: Sequence[Any]  # of those tickets, by ticket and position
    open_periods: Sequence[Any]  # of those tickets
    rated: dict[int, str]  # the day's rated tickets -> the rating's source
    next_ids: dict[str, int]
    processed: Sequence[Any]  # stored replies since the given time
    recent_calls: Sequence[Any]  # (id, device, data) of the day's newest call events
    device_reports: Sequence[Any]  # (id, device, data) of the day's device.status events
    serving_periods: Sequence[Any]  # closed serving periods since the given time
    # (printed_wait, wait_error) of tickets issued since that time and called, oldest
    # first: the printed range's calibration (hall.estimates)
    wait_errors: Sequence[tuple[float, float]] = ()


@dataclass(frozen=True)
class LoginFacts:
    """What the login watch re-reads (queue_server.hall.logins.watch)."""

    staff: Sequence[Any]
    open_sessions: set[str]  # token hashes neither ended nor expired
    revoked_devices: set[str]


class HallStorePort(Protocol):
    def load(self, day: dt.date, now: dt.datetime, *, final: Iterable[str],
             recent_calls: int, call_types: Sequence[str], device_type: str,
             processed_since: dt.datetime, actuals_since: dt.datetime) -> StoredHall: ...

    def staff_by_user(self, user: str) -> Any | None: ...

    def appointment_by_code(self, code: str) -> Any | None: ...

    def appointments_by_id_hash(self, day: dt.date, id_hash: str) -> Sequence[Any]:
        """The day's bookings made for this card (by the hall's keyed hash)."""
        ...

    def tickets_of_id_hash(self, day: dt.date, id_hash: str) -> int:
        """How many of the day's written tickets were taken with this card."""
        ...

    def business_day_exists(self, day: dt.date) -> bool: ...

    def put_booking(self, booking: Booking) -> str:
        """Store one booking in a transaction of its own: "added", "updated",
        "unchanged", or "used" (it gave a ticket already: left as it was)."""
        ...

    def cancel_booking(self, code: str) -> str:
        """Withdraw an unused booking: "cancelled", "not_found" or "used"."""
        ...

    def stored_reply(self, device: str, request_id: str) -> Any | None:
        """The kept reply of (device, request id) (a row with .reply and .at), if any."""
        ...

    def login_facts(self, now: dt.datetime) -> LoginFacts: ...

    def reading(self) -> AbstractContextManager[Any]:
        """A read-only connection for statistics (SQL stores only; a store without one
        raises one of STORE_ERRORS)."""
        ...

    def write_all(self, batches: Sequence[Batch], pk: dict[str, str]) -> None: ...

    def release(self) -> None: ...
