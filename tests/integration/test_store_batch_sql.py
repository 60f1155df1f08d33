"""The SQLite writer's statements: several rows per statement (as committed), one row
per statement (SQLite older than 3.33), and chunks at the bound-variable limit all
store the same hall, row for row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from queue_server.store import batch
from tests.support.hallkit import HallKit

TABLES = ("ticket", "ticket_item", "period", "event", "counter", "processed_request")


def _a_busy_morning(kit: HallKit) -> dict[str, list[dict[str, Any]]]:
    """Tickets issued, served, transferred and parked in group commits of several."""
    w1, w2 = kit.login("clerk1", counter=1), kit.login("clerk2", counter=2)
    issues = [("issue", {"services": [s]}, kit.kiosk, ("kiosk-1", f"i{n}"))
              for n, s in enumerate(["RS01", "YB01", "RS01", "RS02", "YB01", "RS01"])]
    kit.hall.apply_batch(issues)  # six tickets in one transaction
    for n, clerk in enumerate((w1, w2)):
        kit.hall.apply_batch([("call_next", {}, clerk, (clerk.device, f"c{n}")),
                              ("start", {}, clerk, (clerk.device, f"s{n}"))])
    kit.clock.advance(minutes=4)
    kit.hall.apply_batch([("complete", {}, w1, ("counter-1", "done")),
                          ("park", {"reason": "缺材料"}, w2, ("counter-2", "park")),
                          ("call_next", {}, w1, ("counter-1", "next"))])
    kit.serve(w2, minutes=3)
    kit.check_invariants()
    rows = {t: kit.rows(t) for t in TABLES}
    for r in rows["ticket"]:
        r.pop("token")  # random per ticket
    for r in rows["processed_request"]:
        r.pop("reply")  # holds the tokens
    return rows


@pytest.mark.parametrize("multi_row, max_variables", [(False, 32_000), (True, 7)],
                         ids=["one row per statement", "chunked at the variable limit"])
def test_every_way_of_writing_stores_the_same_hall(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, multi_row: bool,
        max_variables: int) -> None:
    expected = _a_busy_morning(HallKit.create(tmp_path / "as-committed", backend="sqlite"))
    monkeypatch.setattr(batch, "MULTI_ROW", multi_row)
    monkeypatch.setattr(batch, "MAX_VARIABLES", max_variables)
    assert _a_busy_morning(HallKit.create(tmp_path / "other", backend="sqlite")) == expected
