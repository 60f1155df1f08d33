"""An in-memory store: the HallStorePort of queue_server.hall.ports over plain dicts,
one per table, holding what the SQL store would hold (rows as dicts; UTC datetimes;
JSON values copied as a database copies them).

It runs the real Hall, with the real batches of rows, in milliseconds, without SQLite:
the hall's unit tests use it, and so does `queue-server whatif`, which plays a day
through a Hall on a fake clock (queue_server.whatif). ``write_all`` applies the Batch
the hall built (inserts, updates by key, the few deletes it issues), ``load`` answers
what the live state is built from, and the lookups answer as the SQL queries do. A write can be made to fail
(``fail_writes``), as a full disk does. Statistics read SQL and are not here:
``reading`` raises as an unreachable database would. tests/integration runs the same
hall tests on SQLite and PostgreSQL, and checks this store seeds what the real one does.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import operator
from collections.abc import Iterable, Iterator, Sequence
from types import SimpleNamespace
from typing import Any

import msgspec
from sqlalchemy import JSON, Table
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, BindParameter, BooleanClauseList

from queue_server.appointments import Booking
from queue_server.config import HallConfig
from queue_server.hall.ports import WAIT_ERRORS_READ, LoginFacts, StoredHall
from queue_server.store.batch import Batch
from queue_server.store.hall_store import NUMBERED
from queue_server.store.models import Base

_COMPARE = {operators.eq: operator.eq, operators.ne: operator.ne, operators.lt: operator.lt,
            operators.le: operator.le, operators.gt: operator.gt, operators.ge: operator.ge}


class MemoryStore:
    """The hall's database as dicts: table name -> primary key tuple -> row."""

    def __init__(self, *, copy_values: bool = True) -> None:
        self.tables: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {
            name: {} for name in Base.metadata.tables}
        self.fail_writes: BaseException | None = None  # raised by the next writes
        self.writes = 0
        # False: values are kept as the hall gives them (aware UTC datetimes, JSON not
        # copied), about a quarter of a simulated day's time (queue_server.whatif);
        # the tests keep the copies, which catch a row that a database would refuse.
        self.copy_values = copy_values

    # -- seeding, as `queue-server init` and the start-up sync write a new hall ---------

    @classmethod
    def seeded(cls, cfg: HallConfig, staff: Iterable[tuple[str, str, str, str, str]],
               now: dt.datetime, *, copy_values: bool = True) -> MemoryStore:
        """A new hall's rows from config (store.seed.sync_from_config on an empty
        database) and staff (user, name, badge, role, password hash)."""
        store = cls(copy_values=copy_values)
        depts = {d.code: store.insert("department", {"code": d.code, "name": d.name})
                 for d in cfg.departments}
        svcs = {s.code: store.insert("service", {
            "code": s.code, "name": s.name, "department_id": depts[s.department],
            "prefix": s.prefix, "minutes": float(s.minutes), "general": s.general,
            "active": True, "daily_quota": s.quota or None}) for s in cfg.services}
        for c in cfg.counters:
            cid = store.insert("counter", {"number": c.number, "name": c.name or
                                           f"{c.number}号窗口", "state": "closed"})
            for code in cfg.service_codes_of(c):
                store.insert("counter_service", {"counter_id": cid, "service_id": svcs[code]})
        for user, name, badge, role, password_hash in staff:
            store.insert("staff", {"user": user, "name": name, "badge": badge, "role": role,
                                   "password_hash": password_hash, "active": True,
                                   "created_at": now})
        return store

    def insert(self, table: str, row: dict[str, Any]) -> Any:
        """One row (missing columns take their defaults); its key (the id if numbered)."""
        t = Base.metadata.tables[table]
        full, keys = _shape(table)
        full = dict(full)
        if self.copy_values:
            full.update({k: _stored(t, k, v) for k, v in row.items()})
        else:
            full.update(row)
        if keys == ["id"] and full["id"] is None:
            full["id"] = max((k[0] for k in self.tables[table]), default=0) + 1
        self.tables[table][tuple(full[k] for k in keys)] = full
        return full["id"] if "id" in full else tuple(full[k] for k in keys)

    def update(self, table: str, where: dict[str, Any], values: dict[str, Any]) -> int:
        """Set values on the rows matching every (column, value) of where."""
        t = Base.metadata.tables[table]
        n = 0
        for key, row in self.tables[table].items():
            if all(row[c] == v for c, v in where.items()):
                self.tables[table][key] = {**row, **{k: _stored(t, k, v)
                                                     for k, v in values.items()}}
                n += 1
        return n

    def rows(self, table: str) -> list[dict[str, Any]]:
        """Every row, by primary key (as the SQL store's ORDER BY the key)."""
        return [dict(self.tables[table][k]) for k in sorted(self.tables[table])]

    # -- HallStorePort ------------------------------------------------------------------

    def write_all(self, batches: Sequence[Batch], pk: dict[str, str]) -> None:
        if self.fail_writes is not None:
            raise self.fail_writes  # nothing applied, as a failed transaction
        for batch in batches:
            for stmt in batch.deletes:
                self._delete(stmt)
            for table, rows in batch.inserts.items():
                for row in rows:
                    self.insert(table.name, row)
            for table, by_key in batch.updates.items():
                rows_by_key = self.tables[table.name]
                for key, values in by_key.items():
                    old = rows_by_key.get((key,))
                    if old is None:  # an UPDATE of no row changes nothing
                        continue
                    rows_by_key[(key,)] = {**old, **({k: _stored(table, k, v)
                                                      for k, v in values.items()}
                                                     if self.copy_values else values)}
        self.writes += 1

    def release(self) -> None:
        pass

    def load(self, day: dt.date, now: dt.datetime, *, final: Iterable[str],
             recent_calls: int, call_types: Sequence[str], device_type: str,
             processed_since: dt.datetime, actuals_since: dt.datetime) -> StoredHall:
        finals = set(final)
        tickets = [r for r in self.rows("ticket")
                   if r["business_day"] == day or r["state"] not in finals]
        ids = {r["id"] for r in tickets}
        today = {r["id"] for r in tickets if r["business_day"] == day}
        events = self.rows("event")
        calls = [r for r in events if r["business_day"] == day and r["type"] in call_types]
        return StoredHall(
            departments=_ns(self.rows("department")), services=_ns(self.rows("service")),
            counter_services=_ns(self.rows("counter_service")),
            counters=_ns(sorted(self.rows("counter"), key=lambda r: r["number"])),
            staff=_ns(self.rows("staff")),
            open_sessions=_ns(r for r in self.rows("login_session")
                              if r["ended_at"] is None and r["expires_at"] > now),
            business_day=next(iter(_ns(r for r in self.rows("business_day")
                                       if r["day"] == day)), None),
            tickets=_ns(tickets),
            items=_ns(sorted((r for r in self.rows("ticket_item") if r["ticket_id"] in ids),
                             key=lambda r: (r["ticket_id"], r["position"]))),
            open_periods=_ns(r for r in self.rows("period")
                             if r["ticket_id"] in ids and r["end"] is None),
            rated={r["ticket_id"]: r.get("source") or "pad" for r in self.rows("rating")
                   if r["ticket_id"] in today},
            next_ids={t: max((k[0] for k in self.tables[t]), default=0) + 1 for t in NUMBERED},
            processed=_ns(r for r in self.rows("processed_request") if r["at"] > processed_since),
            recent_calls=_ns(calls[-recent_calls:] if recent_calls else calls),
            device_reports=_ns(r for r in events
                               if r["business_day"] == day and r["type"] == device_type),
            serving_periods=_ns(sorted(
                (r for r in self.rows("period") if r["kind"] == "serving"
                 and r["end"] is not None and r["start"] > actuals_since),
                key=lambda r: r["start"])),
            wait_errors=[(float(r["printed_wait"]), float(r["wait_error"]))
                         for r in sorted(self.rows("ticket"), key=lambda r: r["id"])
                         if r["issued_at"] > actuals_since and r.get("wait_error") is not None
                         and r.get("printed_wait") is not None][-WAIT_ERRORS_READ:])

    def staff_by_user(self, user: str) -> Any | None:
        return next(iter(_ns(r for r in self.rows("staff") if r["user"] == user)), None)

    def appointment_by_code(self, code: str) -> Any | None:
        return next(iter(_ns(r for r in self.rows("appointment") if r["code"] == code)), None)

    def put_booking(self, booking: Booking) -> str:
        values = {"name_masked": booking.name_masked, "phone_tail": booking.phone_tail,
                  "services": ",".join(booking.services), "day": booking.day,
                  "slot_start": booking.slot_start, "slot_end": booking.slot_end,
                  "id_hash": booking.id_hash}
        old = next((r for r in self.rows("appointment") if r["code"] == booking.code), None)
        if old is None:
            self.insert("appointment", {"code": booking.code, **values})
            return "added"
        if all(old[k] == _stored(Base.metadata.tables["appointment"], k, v)
               for k, v in values.items()):
            return "unchanged"
        if old["checked_in_at"] is not None or old["ticket_id"] is not None:
            return "used"
        self.update("appointment", {"code": booking.code}, values)
        return "updated"

    def cancel_booking(self, code: str) -> str:
        table = self.tables["appointment"]
        key = next((k for k, r in table.items() if r["code"] == code), None)
        if key is None:
            return "not_found"
        if table[key]["checked_in_at"] is not None or table[key]["ticket_id"] is not None:
            return "used"
        del table[key]
        return "cancelled"

    def appointments_by_id_hash(self, day: dt.date, id_hash: str) -> list[Any]:
        return sorted(_ns(r for r in self.rows("appointment")
                          if r["day"] == day and r.get("id_hash") == id_hash),
                      key=lambda r: (r.slot_start, r.code))

    def tickets_of_id_hash(self, day: dt.date, id_hash: str) -> int:
        return sum(1 for r in self.rows("ticket_identity")
                   if r["business_day"] == day and r["id_hash"] == id_hash)

    def business_day_exists(self, day: dt.date) -> bool:
        return (day,) in self.tables["business_day"]

    def stored_reply(self, device: str, request_id: str) -> Any | None:
        return next(iter(_ns(r for r in self.rows("processed_request")
                             if r["device"] == device and r["request_id"] == request_id)),
                    None)

    def login_facts(self, now: dt.datetime) -> LoginFacts:
        return LoginFacts(
            staff=_ns(self.rows("staff")),
            open_sessions={r["token_hash"] for r in self.rows("login_session")
                           if r["ended_at"] is None and r["expires_at"] > now},
            revoked_devices={r["name"] for r in self.rows("device")
                             if not r["active"] or r["revoked_at"] is not None})

    @contextlib.contextmanager
    def reading(self) -> Iterator[Any]:
        raise OSError("the in-memory store has no SQL: statistics need a database")
        yield  # pragma: no cover

    # -- the few deletes the hall issues (a window's matters, old replies, stat_day) ----

    def _delete(self, stmt: Any) -> None:
        table = stmt.table.name
        rows = self.tables[table]
        for key in [k for k, row in rows.items() if _matches(stmt.whereclause, row)]:
            del rows[key]


def _matches(clause: Any, row: dict[str, Any]) -> bool:
    if isinstance(clause, BooleanClauseList) and clause.operator is operators.and_:
        return all(_matches(c, row) for c in clause.clauses)
    if isinstance(clause, BinaryExpression) and clause.operator in _COMPARE \
            and isinstance(clause.right, BindParameter):
        compare: Any = _COMPARE[clause.operator]
        return bool(compare(row[clause.left.name], clause.right.value))
    raise NotImplementedError(f"the memory store does not evaluate {clause}")


@functools.cache
def _shape(table: str) -> tuple[dict[str, Any], list[str]]:
    """A table's column defaults and primary key columns."""
    t = Base.metadata.tables[table]
    return ({c.name: _default(c) for c in t.columns}, [c.name for c in t.primary_key.columns])


def _default(column: Any) -> Any:
    d = column.default
    return d.arg if d is not None and d.is_scalar else None


def _stored(table: Table, column: str, value: Any) -> Any:
    """A value as the database gives it back: UTC datetimes, JSON copied."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)
    if isinstance(table.c[column].type, JSON) and value is not None:
        return msgspec.json.decode(msgspec.json.encode(value))
    return value


def _ns(rows: Iterable[dict[str, Any]]) -> list[Any]:
    return [SimpleNamespace(**r) for r in rows]
