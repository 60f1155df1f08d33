"""The kiosk's waiting counts follow every change of the queue, not only new tickets.

A 过号 re-queue or a transfer puts a citizen back into a matter's queue; the
department buttons must say so (the board did, the kiosk kept the old count).
"""

from __future__ import annotations

import time
import tkinter as tk
from collections.abc import Iterator
from pathlib import Path

import pytest

from queue_common import i18n
from tests.support.default_hall import default_snapshot
from tests.support.fake_connection import FakeConnection
from tests.support.hall_snapshots import ticket
from ticket_printer.kiosk import Kiosk
from ticket_printer.print_worker import PrintWorker
from ticket_printer.printers import FilePrinter
from ticket_printer.views_choose import StartView

pytestmark = pytest.mark.tk


@pytest.fixture
def kiosk(tmp_path: Path) -> Iterator[tuple[Kiosk, FakeConnection]]:
    i18n.set_language("zh")
    root = tk.Tk(className="TicketPrinter")
    root.geometry("1280x1024+0+0")
    conn = FakeConnection(default_snapshot(waiting={"RS01": 2}))
    worker = PrintWorker(FilePrinter(tmp_path, 576))
    k = Kiosk(root, conn, worker, status_base=None, idle_seconds=3600, size=(1280, 1024))
    yield k, conn
    k.close()
    worker.stop()
    root.update_idletasks()
    root.destroy()


def rs_button_text(k: Kiosk) -> str:
    assert isinstance(k.main, StartView)
    return str(k.main.department_buttons["RS"].cget("text"))


def untouched_tick(k: Kiosk) -> None:
    k.last_touch = time.monotonic() - 5  # the citizen left the screen alone
    k._tick()
    k.root.update()


@pytest.mark.parametrize("event", ["ticket.no_show", "ticket.transferred",
                                   "ticket.requeued", "ticket.cancelled"])
def test_a_requeue_or_transfer_updates_the_department_counts(
        kiosk: tuple[Kiosk, FakeConnection], event: str) -> None:
    k, conn = kiosk
    assert "等候 2 人" in rs_button_text(k)
    back = ticket(9, "A009", ["RS01"])
    conn.emit(event, {"tickets": [back], "waiting": {"total": 3, "by_service": {"RS01": 3}}})
    untouched_tick(k)
    assert "等候 3 人" in rs_button_text(k)


def test_counts_wait_while_the_citizen_is_touching(kiosk: tuple[Kiosk, FakeConnection]) -> None:
    k, conn = kiosk
    conn.emit("ticket.no_show", {"tickets": [], "waiting": {"total": 3,
                                                             "by_service": {"RS01": 3}}})
    k.last_touch = time.monotonic()
    k._tick()
    assert "等候 2 人" in rs_button_text(k)  # no screen jumps under a finger
    untouched_tick(k)
    assert "等候 3 人" in rs_button_text(k)
