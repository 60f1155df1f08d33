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


def _replies_across_0003(url: str) -> None:
    """A hall upgraded mid-day keeps its stored replies (a retry after the upgrade still
    gets its first reply), and going back keeps one reply per key."""
    import datetime as dt

    from alembic import command
    from sqlalchemy import text

    from queue_server.store.db import alembic_config

    engine = make_engine(url)
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))

    def to(revision: str, step: object) -> None:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            step(cfg, revision)  # type: ignore[operator]

    to("0002", command.upgrade)
    at = dt.datetime(2026, 11, 26, 9, 30)
    with engine.begin() as conn:
        for n in (1, 2):
            conn.execute(text("INSERT INTO processed_request (device, request_id, reply, at) "
                              "VALUES (:d, :r, :reply, :at)"),
                         {"d": "kiosk-1", "r": f"req-{n}", "reply": f'{{"n": {n}}}', "at": at})
    to("head", command.upgrade)
    with engine.begin() as conn:
        rows = conn.execute(text("SELECT id, request_id FROM processed_request ORDER BY id")).all()
        assert [r.request_id for r in rows] == ["req-1", "req-2"]
        conn.execute(text("INSERT INTO processed_request (device, request_id, reply, at) "
                          "VALUES ('kiosk-1', 'req-3', '{}', :at)"), {"at": at})
    assert [c["name"] for c in inspect(engine).get_columns("processed_request")][0] == "id"
    to("0002", command.downgrade)
    with engine.begin() as conn:
        keys = conn.execute(text("SELECT request_id FROM processed_request "
                                 "ORDER BY request_id")).scalars().all()
    assert keys == ["req-1", "req-2", "req-3"]
    assert inspect(engine).get_pk_constraint("processed_request")["constrained_columns"] == [
        "device", "request_id"]
    to("head", command.upgrade)
    engine.dispose()


def test_stored_replies_survive_the_append_only_upgrade_on_sqlite(tmp_path: Path) -> None:
    _replies_across_0003(sqlite_url(tmp_path / "q.sqlite3"))


def test_stored_replies_survive_the_append_only_upgrade_on_postgresql(pg_url: str) -> None:
    _replies_across_0003(pg_url)
