"""The schema comes from Alembic, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect

from queue_server.store.db import make_engine, sqlite_url, upgrade_to_head
from queue_server.store.models import Base

TABLES = set(Base.metadata.tables)


def _check(url: str) -> None:
    engine = make_engine(url)
    upgrade_to_head(engine)
    upgrade_to_head(engine)  # a second start-up upgrade is a no-op
    names = set(inspect(engine).get_table_names())
    assert names >= TABLES
    assert "alembic_version" in names
    engine.dispose()


def test_sqlite_database_is_migrated_to_head(tmp_path: Path) -> None:
    _check(sqlite_url(tmp_path / "q.sqlite3"))


def test_postgresql_database_is_migrated_to_head(pg_url: str) -> None:
    _check(pg_url)
