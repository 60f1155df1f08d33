"""The store behind the hall: the in-memory store of the unit tests holds what SQLite
holds, and the statistics cache is written by the hall's single writer only."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import pytest

from queue_server.store import stats_queries as q
from tests.support.hallkit import SHANGHAI, HallKit


def _a_morning(kit: HallKit) -> dict[str, list[dict[str, Any]]]:
    w1, w2, w4 = (kit.login(f"clerk{n}", counter=n) for n in (1, 2, 4))
    boss = kit.login("super1", counter=None)
    kit.book("YY0930", dt.date(2026, 11, 26))
    first = kit.issue("RS01", "CL01")["ticket"]
    kit.issue("YB02", priority="elderly")
    kit.ok("check_in", {"code": "YY0930"}, kit.kiosk)
    kit.clock.advance(minutes=2)
    kit.ok("call_next", {}, w1)
    kit.ok("start", {}, w1)
    kit.clock.advance(minutes=6)
    kit.ok("complete", {}, w1)
    kit.ok("call_next", {}, w2)
    kit.ok("no_show", {}, w2)
    kit.ok("call_next", {}, w1)
    kit.ok("start", {}, w1)
    kit.ok("transfer", {"service": "CL01", "note": "残联"}, w1)
    kit.ok("call_next", {}, w4)
    kit.ok("park", {"reason": "取材料"}, w4)
    kit.ok("unpark", {"ticket_id": first["id"]}, w4)
    kit.ok("start", {}, w4)
    kit.clock.advance(minutes=20)
    kit.ok("complete", {}, w4)
    kit.ok("rate", {"ticket_id": first["id"], "level": 5}, w4)
    kit.ok("device_status", {"state": "warning", "message": "纸将用完"}, kit.kiosk)
    kit.ok("counter_services", {"counter": 2, "services": ["RS01", "YB01"]}, boss)
    kit.ok("pause", {"reason": "lunch"}, w2)
    kit.ok("logout", {}, w1)
    kit.clock.set(dt.datetime(2026, 11, 27, 8, 45, tzinfo=SHANGHAI))
    kit.hall.tick()  # rollover: yesterday's waiting tickets close as not served
    kit.check_invariants()
    rows = kit.every_row()
    rows.pop("stat_day")  # statistics facts are built from SQL (none in memory)
    return rows


def test_the_memory_store_holds_what_sqlite_holds_after_the_same_morning(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The unit tests' store is only worth its speed if it keeps what the real one
    keeps: the same rows, column by column, after the same operations."""
    def played(backend: str) -> dict[str, list[dict[str, Any]]]:
        counter = itertools.count()
        monkeypatch.setattr("secrets.token_urlsafe", lambda n=32: f"token-{next(counter)}")
        return _a_morning(HallKit.create(tmp_path / backend, backend=backend))

    memory, sqlite = played("memory"), played("sqlite")
    assert memory.keys() == sqlite.keys()
    for table in memory:
        assert memory[table] == sqlite[table], table


def test_a_report_on_a_worker_writes_nothing_and_the_writer_keeps_its_facts(
        tmp_path: Path) -> None:
    kit = HallKit.create(tmp_path, backend="sqlite")
    w1 = kit.login("clerk1", counter=1)
    boss = kit.login("super1", counter=None)
    kit.issue("RS01")
    kit.serve(w1, minutes=5)
    kit.clock.set(dt.datetime(2026, 11, 27, 8, 45, tzinfo=SHANGHAI))
    kit.hall.tick()  # the rollover: the writer stores the finished day's facts
    assert [r["business_day"] for r in kit.rows("stat_day")] == [dt.date(2026, 11, 26)]
    with kit.engine.begin() as conn:
        q.drop_cached_days(conn, dt.date(2026, 11, 26), dt.date(2026, 11, 26))
    kit.hall.tick()
    report = kit.hall.read_database("stats", {"from": "2026-11-26", "to": "2026-11-26"},
                                    boss)
    assert report.error is None and report.result["totals"]["served"] == 1
    assert kit.rows("stat_day") == [], "a worker's report never writes"
    kit.hall.tick()  # the writer stores what the report built
    assert [r["business_day"] for r in kit.rows("stat_day")] == [dt.date(2026, 11, 26)]
    again = kit.hall.read_database("stats", {"from": "2026-11-26", "to": "2026-11-26"}, boss)
    assert again.result == report.result
