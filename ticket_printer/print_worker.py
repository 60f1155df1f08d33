"""Printing off the Tk thread: render + print in a worker, results handed back by queue.

A thermal printer on a serial line takes seconds and a jammed one may hang; the kiosk
screen must keep answering touches meanwhile, so the Tk thread only enqueues a job and
later drains the outcome from ``after()`` (polling, not cross-thread
event_generate).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ticket_printer.messages import MESSAGES
from ticket_printer.printers import Printer, PrinterError
from ticket_printer.ticket import TicketView, render

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PrintOutcome:
    job: int
    ok: bool
    where: str = ""
    reason: str = ""     # offline | no_paper | failed | config
    message: str = ""
    render_ms: float = 0.0


def _both(key: str, **kwargs: object) -> str:
    """"中文 / English": the supervisor reads it whatever language the kiosk shows."""
    zh, en = MESSAGES[key]
    return f"{zh.format(**kwargs)} / {en.format(**kwargs)}"


def device_status_args(outcome: PrintOutcome) -> dict[str, Any]:
    """The `device_status` request (docs/protocol.md) telling the supervisor about it."""
    return {"state": "ok" if outcome.ok else "error",
            "message": _both("kiosk.printer.ok") if outcome.ok
            else _both("kiosk.printer.failed", error=outcome.message),
            "details": {"component": "printer", "reason": outcome.reason or "ok"}}


def reader_status_args(device: str, connected: bool) -> dict[str, Any]:
    """The `device_status` request when a serial 身份证 or QR reader goes or comes back."""
    name = "kiosk.reader.id_card" if device == "id_card" else "kiosk.reader.qr"
    return {"state": "ok" if connected else "error",
            "message": _both("kiosk.reader.ok" if connected else "kiosk.reader.failed",
                             reader=_both(name)),
            "details": {"component": f"reader.{device}",
                        "reason": "ok" if connected else "disconnected"}}


class PrintWorker:
    """One daemon thread printing jobs in order; ``drain`` runs callbacks on the caller."""

    def __init__(self, printer: Printer) -> None:
        self.printer = printer
        self._jobs: queue.Queue[tuple[int, TicketView] | None] = queue.Queue()
        self._done: queue.Queue[PrintOutcome] = queue.Queue()
        self._next = 0
        self._finished = 0  # highest job done (jobs finish in order)
        self._thread = threading.Thread(target=self._run, name="ticket-printer", daemon=True)
        self._thread.start()

    def submit(self, view: TicketView) -> int:
        self._next += 1
        self._jobs.put((self._next, view))
        return self._next

    def drain(self, handle: Callable[[PrintOutcome], None]) -> int:
        count = 0
        while True:
            try:
                outcome = self._done.get_nowait()
            except queue.Empty:
                return count
            count += 1
            self._finished = max(self._finished, outcome.job)
            handle(outcome)

    def finished(self, job: int) -> bool:
        """Has the outcome of job been drained (on the draining thread)?"""
        return job <= self._finished

    def stop(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=2)

    def _run(self) -> None:
        while True:
            item = self._jobs.get()
            if item is None:
                return
            job, view = item
            t0 = time.perf_counter()
            try:
                image = render(view, self.printer.width)
                render_ms = (time.perf_counter() - t0) * 1000
                where = self.printer.print_ticket(view, image)
                self._done.put(PrintOutcome(job, True, where=where, render_ms=render_ms))
            except PrinterError as exc:
                log.warning("ticket %s not printed: %s", view.number, exc.message)
                self._done.put(PrintOutcome(job, False, reason=exc.reason, message=exc.message))
            except Exception as exc:  # a bug or a driver crash must not kill the worker
                log.exception("printing ticket %s failed", view.number)
                self._done.put(PrintOutcome(job, False, reason="failed", message=str(exc)))
