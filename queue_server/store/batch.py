"""One database transaction's worth of writes, flushed with Core executemany.

The hall collects what its operations changed (new rows, changed rows by primary key,
deletions) and writes them in one transaction: one statement per table and kind, not
one per row, which is what makes group commit (several requests, one commit) cheap.

On SQLite the rows go to the driver's executemany with SQL built once per table and
values converted exactly as SQLAlchemy's SQLite types store them (bench/engine.py:
SQLAlchemy's per-execute statement handling cost more than SQLite's own work). Other
databases take the plain Core path.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec
from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    Date,
    DateTime,
    Executable,
    Table,
    bindparam,
    delete,
    insert,
    update,
)
from sqlalchemy.exc import DBAPIError

from queue_server.store import tables

# Insert order respects foreign keys (ticket before item before period ...).
INSERT_ORDER = ("business_day", "staff", "ticket", "ticket_item", "period", "event", "rating",
                "login_session", "processed_request", "counter_service")


@dataclass
class Batch:
    """Rows to insert and to update, per table."""

    inserts: dict[Table, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    updates: dict[Table, dict[Any, dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(dict))
    deletes: list[Executable] = field(default_factory=list)

    def insert(self, table: Table, row: dict[str, Any]) -> None:
        self.inserts[table].append(row)

    def update(self, table: Table, key: Any, row: dict[str, Any]) -> None:
        """Full new values of a row (same columns for every row of a table)."""
        self.updates[table][key] = row

    def delete(self, stmt: Executable) -> None:
        self.deletes.append(stmt)

    def replace_counter_services(self, counter_id: int, service_ids: list[int]) -> None:
        """A window's matters become exactly these (supervisor's counter_services)."""
        t = tables.COUNTER_SERVICE
        self.delete(delete(t).where(t.c.counter_id == counter_id))
        for sid in service_ids:
            self.insert(t, {"counter_id": counter_id, "service_id": sid})

    def prune_processed(self, before: dt.datetime) -> None:
        """Forget stored replies older than `before` (idempotency keys past any retry)."""
        t = tables.PROCESSED_REQUEST
        self.delete(delete(t).where(t.c.at < before))

    def __bool__(self) -> bool:
        return bool(self.deletes) or any(self.inserts.values()) or any(self.updates.values())

    def flush(self, conn: Connection, pk: dict[str, str]) -> None:
        """Write everything; pk names each updated table's key column."""
        for stmt in self.deletes:
            conn.execute(stmt)
        if conn.dialect.name == "sqlite":
            self._flush_sqlite(conn, pk)
            return
        for table, rows in self._insert_groups():
            conn.execute(_insert(table), rows)
        for table, key, cols, rows in self._update_groups(pk):
            conn.execute(_update(table, key, cols),
                         [{"_key": r[key], **{f"v_{c}": r[c] for c in cols}} for r in rows])

    def _insert_groups(self) -> Iterator[tuple[Table, list[dict[str, Any]]]]:
        """New rows per table, parents first (foreign keys)."""
        for table in sorted(self.inserts, key=lambda t: _RANK.get(t.name, 99)):
            if self.inserts[table]:
                yield table, self.inserts[table]

    def _update_groups(self, pk: dict[str, str]
                       ) -> Iterator[tuple[Table, str, tuple[str, ...], list[dict[str, Any]]]]:
        """Changed rows per table: (table, key column, the other columns, rows)."""
        for table, by_key in self.updates.items():
            if by_key:
                key = pk[table.name]
                rows = list(by_key.values())
                yield table, key, tuple(c for c in rows[0] if c != key), rows

    def _flush_sqlite(self, conn: Connection, pk: dict[str, str]) -> None:
        # The driver's own cursor, inside the transaction `conn` began: SQLAlchemy's
        # per-statement bookkeeping cost more than SQLite's work (bench/engine.py).
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        many = ""
        try:
            for table, all_rows in self._insert_groups():
                groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
                for row in all_rows:  # a table's rows need not name the same columns
                    groups[tuple(row)].append(row)
                for cols, rows in groups.items():
                    many, one, convert = _sqlite_insert(table, cols)
                    _run_rows(cursor, many, one, [convert(r) for r in rows])
            for table, key, cols, rows in self._update_groups(pk):
                many, one, convert = _sqlite_update(table, key, cols)
                _run_rows(cursor, many, one, [convert(r) for r in rows])
        except conn.dialect.loaded_dbapi.Error as exc:  # as SQLAlchemy would raise it
            raise DBAPIError(many, None, exc) from exc
        finally:
            cursor.close()


_RANK = {name: i for i, name in enumerate(INSERT_ORDER)}
Converter = Callable[[dict[str, Any]], tuple[Any, ...]]


_DT_TEXT: dict[dt.datetime, str] = {}


def _sqlite_datetime(v: Any) -> Any:
    """As SQLAlchemy's SQLite DATETIME stores it: naive UTC text with microseconds."""
    if v is None:
        return None
    text = _DT_TEXT.get(v)
    if text is not None:
        return text
    if v.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    u = v.astimezone(dt.UTC)
    text = (f"{u.year:04d}-{u.month:02d}-{u.day:02d} {u.hour:02d}:{u.minute:02d}:"
            f"{u.second:02d}.{u.microsecond:06d}")
    if len(_DT_TEXT) > 100_000:  # the same instants are written again and again
        _DT_TEXT.clear()
    _DT_TEXT[v] = text
    return text


_JSON = msgspec.json.Encoder()


def _sqlite_json(v: Any) -> str | None:
    """JSON text as UTF-8 (json.dumps escapes every Chinese character and is ~10x
    slower; every operation stores its reply and an audit row)."""
    if v is None:
        return None
    try:
        return _JSON.encode(v).decode("utf-8")
    except (TypeError, ValueError, OverflowError):  # what msgspec will not take
        return json.dumps(v)


def _sqlite_value(column_type: Any) -> Callable[[Any], Any] | None:
    if isinstance(column_type, DateTime) or isinstance(
            getattr(column_type, "impl_instance", None), DateTime):
        return _sqlite_datetime
    if isinstance(column_type, Date):
        return lambda v: None if v is None else v.isoformat()
    if isinstance(column_type, JSON):  # read back by SQLAlchemy's JSON type (json.loads)
        return _sqlite_json
    if isinstance(column_type, Boolean):
        return lambda v: None if v is None else int(bool(v))
    return None


def _converter(table: Table, cols: tuple[str, ...]) -> Converter:
    """row dict -> parameter tuple, as one generated expression per (table, columns):
    a generator over the columns cost more than SQLite's insert (bench/engine.py)."""
    fns = {f"f{i}": f for i, c in enumerate(cols)
           if (f := _sqlite_value(table.c[c].type)) is not None}
    parts = [f"f{i}(row[{c!r}])" if f"f{i}" in fns else f"row[{c!r}]"
             for i, c in enumerate(cols)]
    source = f"lambda row: ({', '.join(parts)},)" if parts else "lambda row: ()"
    convert: Converter = eval(source, fns)  # noqa: S307 - column names from our own schema
    return convert


# Several rows per statement: sqlite3 releases and retakes the GIL around every step, so
# executemany's one step per row made the committer thread queue for the GIL behind the
# request loop once per row. "{rows}" stands for the row tuples of one statement.
# UPDATE ... FROM needs SQLite 3.33; older ones run one statement per row.
MULTI_ROW = sqlite3.sqlite_version_info >= (3, 33, 0)
MAX_VARIABLES = 32_000  # SQLite's limit is 32,766 bound values per statement since 3.32


@functools.cache
def _sqlite_insert(table: Table, cols: tuple[str, ...]) -> tuple[str, str, Converter]:
    """(statement for many rows, for one row, row -> parameters)."""
    names = ", ".join(f'"{c}"' for c in cols)
    many = f'INSERT INTO "{table.name}" ({names}) VALUES {{rows}}'
    return many, _statement(many, len(cols), 1), _converter(table, cols)


@functools.cache
def _sqlite_update(table: Table, key: str, cols: tuple[str, ...]
                   ) -> tuple[str, str, Converter]:
    """As _sqlite_insert; parameters per row: the key first, then cols."""
    sets = ", ".join(f'"{c}" = v.column{i + 2}' for i, c in enumerate(cols))
    many = (f'UPDATE "{table.name}" SET {sets} FROM (VALUES {{rows}}) AS v '
            f'WHERE "{table.name}"."{key}" = v.column1')
    one_sets = ", ".join(f'"{c}" = ?{i + 2}' for i, c in enumerate(cols))
    one = f'UPDATE "{table.name}" SET {one_sets} WHERE "{key}" = ?1'
    return many, one, _converter(table, (key, *cols))


@functools.lru_cache(maxsize=1024)  # one per (table, columns, rows per statement) seen
def _statement(template: str, width: int, n: int) -> str:
    row = "(" + ", ".join("?" * width) + ")"
    return template.replace("{rows}", ", ".join([row] * n))


def _run_rows(cursor: Any, many: str, one: str, rows: list[tuple[Any, ...]]) -> None:
    """Every row, in as few statements as the variable limit allows."""
    if not rows:
        return
    width = len(rows[0])
    if not MULTI_ROW or len(rows) == 1:
        cursor.executemany(one, rows)
        return
    per = max(1, MAX_VARIABLES // max(1, width))
    for i in range(0, len(rows), per):
        chunk = rows[i:i + per]
        cursor.execute(_statement(many, width, len(chunk)),
                       [v for row in chunk for v in row])


@functools.cache
def _insert(table: Table) -> Executable:
    """Statements are built once: building them costs more than running them."""
    return insert(table)


@functools.cache
def _update(table: Table, key: str, cols: tuple[str, ...]) -> Executable:
    return (update(table).where(table.c[key] == bindparam("_key"))
            .values({c: bindparam(f"v_{c}") for c in cols}))
