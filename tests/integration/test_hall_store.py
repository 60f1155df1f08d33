"""The hall's storage: a full disk loses nothing acknowledged, a restart resumes the hall,
and the same rules hold on PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event

from queue_common.protocol import Err
from tests.support.hallkit import HallKit


def test_a_full_disk_answers_store_unavailable_and_recovers(tmp_path: Path) -> None:
    kit = HallKit.create(tmp_path, backend="sqlite")
    w1 = kit.login("clerk1", counter=1)
    kit.issue("RS01")
    kit.ok("call_next", {}, w1)
    engine = kit.engine
    with engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()

    def disk_full(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages}")

    event.listen(engine, "connect", disk_full)
    kit.hall.close()  # every new connection now sees a full "disk"
    failed = None
    for n in range(300):
        out = kit.run("issue", {"services": ["RS01", "YB02"]}, kit.kiosk, ("kiosk-1", f"r{n}"))
        if out.error is not None:
            failed = out
            break
    assert failed is not None and failed.error is not None, "the disk never filled up"
    assert failed.error.code == Err.STORE_UNAVAILABLE and failed.events == []
    before = kit.snapshot()
    kit.check_invariants()  # memory was reloaded: it equals the database
    again = kit.run("issue", {"services": ["RS01", "YB02"]}, kit.kiosk, ("kiosk-1", f"r{n}"))
    assert again.error is not None and again.error.code == Err.STORE_UNAVAILABLE
    assert kit.snapshot()["tickets"] == before["tickets"]
    # Space again: the very next operation works, the hall carries on where it was.
    event.remove(engine, "connect", disk_full)
    kit.hall.close()
    kit.ok("start", {}, w1)
    kit.ok("complete", {}, w1)
    retried = kit.run("issue", {"services": ["RS01", "YB02"]}, kit.kiosk, ("kiosk-1", f"r{n}"))
    assert retried.error is None and retried.events  # the failed request was not stored
    kit.check_invariants()


def test_a_group_commit_that_fails_applies_none_of_its_operations(tmp_path: Path) -> None:
    kit = HallKit.create(tmp_path, backend="sqlite")
    w1, w2 = kit.login("clerk1", counter=1), kit.login("clerk2", counter=2)
    kit.issue("RS01")
    kit.issue("RS01")
    tickets_before = kit.rows("ticket")
    engine = kit.engine

    def read_only(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA query_only = ON")

    event.listen(engine, "connect", read_only)
    kit.hall.close()
    outs = kit.hall.apply_batch([("call_next", {}, w1, None), ("call_next", {}, w2, None),
                                 ("call_next", {}, w1, None)])
    assert [o.error.code if o.error else None for o in outs] == [
        Err.STORE_UNAVAILABLE, Err.STORE_UNAVAILABLE, Err.CONFLICT]
    event.remove(engine, "connect", read_only)
    kit.hall.close()
    assert kit.rows("ticket") == tickets_before
    assert [c["state"] for c in kit.snapshot()["counters"][:2]] == ["idle", "idle"]
    kit.check_invariants()


def test_a_restart_resumes_windows_tickets_and_logins(tmp_path: Path) -> None:
    kit = HallKit.create(tmp_path, backend="sqlite")
    w1 = kit.login("clerk1", counter=1)
    kit.issue("RS01", "YB01")
    kit.issue("YB01")
    kit.ok("call_next", {}, w1)
    kit.ok("start", {}, w1)
    before = kit.snapshot()
    kit.reopen()
    after = kit.snapshot()
    for key in ("tickets", "counters", "waiting", "recent_calls"):
        assert after[key] == before[key]
    # The clerk's login survives the restart: the same token works.
    clerk = kit.hall.actor_for(kit.tokens["clerk1"], "counter-1", "counter")
    assert clerk == w1
    kit.ok("complete", {"done": ["RS01"]}, w1)
    kit.check_invariants()


def test_the_hall_runs_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    kit = HallKit.create(tmp_path, url=pg_url)
    w1, w4 = kit.login("clerk1", counter=1), kit.login("clerk4", counter=4)
    first = kit.issue("RS01", "CL01")["ticket"]
    kit.issue("YB02", priority="elderly")
    kit.clock.advance(minutes=2)
    called = kit.ok("call_next", {}, w1)["ticket"]
    assert called["kind"] == "priority"
    kit.ok("start", {}, w1)
    kit.clock.advance(minutes=7)
    kit.ok("complete", {}, w1)
    kit.ok("rate", {"ticket_id": called["id"], "level": 5}, w1)
    assert kit.ok("call_next", {}, w1)["ticket"]["id"] == first["id"]
    kit.ok("start", {}, w1)
    assert kit.ok("complete", {}, w1)["ticket"]["state"] == "waiting"  # CL01 left
    assert kit.ok("call_next", {}, w4)["ticket"]["id"] == first["id"]
    kit.ok("no_show", {}, w4)
    key = ("kiosk-1", "pg-1")
    a = kit.run("issue", {"services": ["RS02"]}, kit.kiosk, key)
    b = kit.run("issue", {"services": ["RS02"]}, kit.kiosk, key)
    assert a.result == b.result and b.events == []
    kit.check_invariants()
    kit.reopen()
    kit.check_invariants()
