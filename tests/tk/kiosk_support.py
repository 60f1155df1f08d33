"""A kiosk on a private X display, connected to a real `queue-server run`.

The hall is opened all day (the default config closes at 16:30 Shanghai time, and
tests run at any hour), and today's bookings can be imported before the server starts.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import tkinter as tk
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from queue_common import identity
from queue_common.connection import Connection
from queue_server.cli import main as server_cli
from queue_server.config import round_the_clock
from tests.support.live import LiveHall, live_hall
from tests.support.tk_loop import pump
from tests.tk.board_display import screenshot
from ticket_printer.kiosk import Kiosk
from ticket_printer.print_worker import PrintWorker
from ticket_printer.printers import FilePrinter, Printer

SCREEN = (1280, 1024)
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def open_all_day(data: Path) -> None:
    """Every day 00:00-24:00, so issuing works whenever the suite runs."""
    cfg = data / "config.toml"
    cfg.write_text(round_the_clock(cfg.read_text("utf-8")), "utf-8")


def import_bookings(data: Path, rows: list[tuple[str, str]]) -> None:
    """Today's bookings (code, matters) in a slot around now, through the real CLI."""
    now = dt.datetime.now(SHANGHAI)
    day = now.date().isoformat()
    lines = ["code,name,phone,matters,date,slot"]
    for code, matters in rows:
        lines.append(f"{code},张*明,138****1234,{matters},{day},00:00-23:59")
    export = data / "bookings.csv"
    export.write_text("\n".join(lines) + "\n", "utf-8")
    assert server_cli(["appointments", "--data", str(data), "import", str(export)]) == 0



@dataclass
class KioskRig:
    hall: LiveHall
    root: tk.Tk
    conn: Connection
    kiosk: Kiosk
    worker: PrintWorker
    display: str
    tickets_dir: Path

    def shot(self, path: Path) -> Path:
        return screenshot(self.root, self.display, path)

    def wait(self, until: Callable[[], bool], timeout: float = 10.0) -> bool:
        return pump(self.root, until, timeout)

    def main(self) -> Any:
        return self.kiosk.main

    def side(self) -> Any:
        return self.kiosk.side

    def printed(self) -> list[Path]:
        return sorted(self.tickets_dir.glob("*.png")) if self.tickets_dir.exists() else []


@contextlib.contextmanager
def kiosk_rig(tmp_path: Path, display: str, *, bookings: list[tuple[str, str]] | None = None,
              printer: Printer | None = None, idle_seconds: int | None = None,
              large: bool = False, readers: Callable[[], list[Any]] | None = None,
              prepare_more: Callable[[Path], None] | None = None) -> Iterator[KioskRig]:
    """readers: makes the kiosk's serial readers (the kiosk gets the hall's id key)."""
    def prepare(data: Path) -> None:
        open_all_day(data)
        if bookings:
            import_bookings(data, bookings)
        if prepare_more is not None:
            prepare_more(data)

    with live_hall(tmp_path, prepare=prepare) as hall:
        conn = hall.connect("kiosk-1")
        root = tk.Tk(screenName=display, className="TicketPrinter")
        root.geometry(f"{SCREEN[0]}x{SCREEN[1]}+0+0")
        tickets = tmp_path / "tickets"
        worker = PrintWorker(printer or FilePrinter(tickets, 576))
        conn.attach_tk(root, interval_ms=10)
        kiosk = Kiosk(root, conn, worker, device="kiosk-1", large=large,
                      status_base=f"http://127.0.0.1:{hall.status_port}",
                      idle_seconds=idle_seconds, size=SCREEN,
                      readers=readers() if readers is not None else (),
                      id_key=identity.load_key(hall.data))
        pump(root, lambda: kiosk.screen == "start")
        try:
            yield KioskRig(hall, root, conn, kiosk, worker, display, tickets)
        finally:
            kiosk.close()
            worker.stop()
            root.update_idletasks()
            root.destroy()
