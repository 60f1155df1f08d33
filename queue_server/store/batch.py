"""One database transaction's worth of writes, flushed with Core executemany.

The hall collects what its operations changed (new rows, changed rows by primary key,
deletions) and writes them in one transaction: one statement per table and kind, not
one per row, which is what makes group commit (several requests, one commit) cheap.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Executable, Table, bindparam, insert, update

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

    def __bool__(self) -> bool:
        return bool(self.deletes) or any(self.inserts.values()) or any(self.updates.values())

    def flush(self, conn: Connection, pk: dict[str, str]) -> None:
        """Write everything; pk names each updated table's key column."""
        for stmt in self.deletes:
            conn.execute(stmt)
        rank = {name: i for i, name in enumerate(INSERT_ORDER)}
        for table in sorted(self.inserts, key=lambda t: rank.get(t.name, 99)):
            rows = self.inserts[table]
            if rows:
                conn.execute(insert(table), rows)
        for table, by_key in self.updates.items():
            if not by_key:
                continue
            key = pk[table.name]
            rows = list(by_key.values())
            cols = [c for c in rows[0] if c != key]
            stmt = (update(table).where(table.c[key] == bindparam("_key"))
                    .values({c: bindparam(f"v_{c}") for c in cols}))
            conn.execute(stmt, [{"_key": r[key], **{f"v_{c}": r[c] for c in cols}}
                                for r in rows])
