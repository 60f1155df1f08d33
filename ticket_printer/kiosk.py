"""The kiosk controller: which screen shows, what a touch does, what the server said.

Everything here runs on the Tk thread and never waits: requests go through the
connection (replies come back via its Tk pump), printing through the print worker.
Rules that decide anything about the queue stay in the server; the kiosk sends the
citizen's choice and shows the server's answer.

Screens: start (departments) -> matters (multi-select), with the chosen list always
beside them; priority (绿色通道 class, then matters); appointment (booking code);
busy (issuing / timed out / refused); ticket (confirmed number); paused (server
unreachable or hall closed).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import tkinter as tk
from collections.abc import Callable, Sequence
from typing import Any

from queue_common import i18n
from queue_common import protocol as p
from queue_common.hall_time import hall_clock, hall_zone, issuing
from queue_common.hall_view import hall_name, settings_of
from queue_common.i18n import tr
from queue_common.identity import KEY_FILE, InvalidIdNumber, looks_like_id_number
from queue_common.ports import ClientConnection, ReplyLike
from ticket_printer import look
from ticket_printer.look import KioskFonts
from ticket_printer.print_worker import (
    PrintOutcome,
    PrintWorker,
    device_status_args,
    reader_status_args,
)
from ticket_printer.readers import KeyboardWedge, Read, SerialReader
from ticket_printer.session import (
    Attempt,
    CardHolder,
    Choice,
    Matter,
    card_holder,
    check_in_attempt,
    departments,
    elderly_rule,
    issue_attempt,
    priority_classes,
    split_message,
    ticket_view,
)
from ticket_printer.views_choose import (
    AppointmentView,
    ChosenPanel,
    ElderlyOfferView,
    MattersView,
    PriorityView,
    StartView,
    big_button,
)
from ticket_printer.views_result import BusyView, PausedView, TicketShownView

log = logging.getLogger(__name__)

ISSUE_TIMEOUT = 2.0   # seconds per attempt; the connection retries once with the same id
ISSUE_RETRIES = 1
PRINT_DEADLINE = 20.0  # seconds: a printer silent this long is reported as hung
OFFLINE_CODE = "OFFLINE"
TIMEOUT_CODE = "TIMEOUT"


class Kiosk:
    """One kiosk screen bound to one connection and one printer."""

    def __init__(self, root: tk.Tk, conn: ClientConnection, worker: PrintWorker, *,
                 status_base: str | None, device: str = "kiosk-1", large: bool = False,
                 idle_seconds: int | None = None,
                 size: tuple[int, int] | None = None,
                 readers: Sequence[SerialReader] = (), wedge: bool = True,
                 id_key: bytes | None = None) -> None:
        """readers: the serial 身份证 / QR readers; wedge: take key presses as a HID
        reader's lines; id_key: the hall's keys/id_hash.key (None: no card features)."""
        self.root = root
        self.conn = conn
        self.worker = worker
        self.status_base = status_base
        self.device = device
        self.fonts = KioskFonts(root, large, size)
        self.default_large = large          # what the next citizen starts with
        self.default_lang = i18n.language()
        self.idle_override = idle_seconds
        self.choice = Choice()
        self.screen = "loading"
        self.dept_code: str | None = None
        self.attempt: Attempt | None = None
        self.attempt_choice: tuple[tuple[str, ...], str | None, str | None] | None = None
        self.appointment_message = ""
        self.shown: TicketShownView | None = None
        self.shown_job = 0
        self.printer_ok: bool | None = None
        self.latencies_ms: list[float] = []   # touch -> ticket drawn (bench/kiosk.py)
        self.reply_ms: list[float] = []       # touch -> reply in hand (the server's share)
        self.last_touch = time.monotonic()
        self._dirty = False
        self.readers = list(readers)
        self.wedge = KeyboardWedge() if wedge else None
        self.id_key = id_key
        self.holder: CardHolder | None = None  # the card read for this citizen, if any
        self.reader_ok: dict[str, bool] = {}
        root.configure(bg=look.BG)
        self._build_frame()
        self.main: tk.Frame = tk.Frame(self.body, bg=look.BG)
        self.side: tk.Frame | None = None
        conn.add_listener(self._on_event)
        root.bind_all("<ButtonPress>", self._touched, add="+")
        root.bind_all("<KeyPress>", self._key, add="+")
        self._timers: dict[str, str] = {"tick": root.after(1000, self._tick),
                                         "prints": root.after(50, self._pump_prints)}
        self._follow_connection()

    def close(self) -> None:
        """Stop the kiosk's timers (before the window is destroyed)."""
        for after_id in self._timers.values():
            self.root.after_cancel(after_id)
        self._timers.clear()
        self.conn.remove_listener(self._on_event)
        for reader in self.readers:
            reader.close()

    # ---- frame ----------------------------------------------------------------------

    def _build_frame(self) -> None:
        """Top bar (hall name, clock, 大字模式, English) over the body.

        Landscape: one row, the hall name wrapping in what the buttons leave. Portrait
        (a floor-standing kiosk is as narrow as a landscape one is short): the hall name
        on a row of its own, the clock and buttons under it, so none is pushed off.
        """
        gap = self.fonts.gap()
        top = tk.Frame(self.root, bg=look.BRAND, padx=gap, pady=gap // 2)
        top.pack(side="top", fill="x")
        self.top = top
        self.hall_label = tk.Label(top, text="", font=self.fonts["hall"], bg=look.BRAND,
                                   fg=look.TEXT_ON_BUTTONS, anchor="w", justify="left")
        self.clock = tk.Label(top, text="", font=self.fonts["top"], bg=look.BRAND,
                              fg=look.TEXT_ON_BUTTONS)
        self.large_button = big_button(top, "", self.toggle_large, self.fonts,
                                       bg=look.BUTTON, font="top")
        self.lang_button = big_button(top, "", self.toggle_language, self.fonts,
                                      bg=look.BUTTON, font="top")
        portrait = self.fonts.portrait
        self.hall_label.grid(row=0, column=0, columnspan=4 if portrait else 1, sticky="w")
        row = 1 if portrait else 0
        self.clock.grid(row=row, column=1, padx=gap, sticky="e")
        self.large_button.grid(row=row, column=2, padx=(0, gap // 2), pady=gap // 4)
        self.lang_button.grid(row=row, column=3, pady=gap // 4)
        top.columnconfigure(0, weight=1)
        if portrait:
            top.columnconfigure(1, weight=1)
        self.body = tk.Frame(self.root, bg=look.BG, padx=gap, pady=gap)
        self.body.pack(side="top", fill="both", expand=True)
        self._label_top()

    def _label_top(self) -> None:
        self.hall_label.configure(text=hall_name(self.state) or tr("kiosk.title"),
                                  font=self.fonts["hall"])
        self.lang_button.configure(text=tr("kiosk.start.language"))
        self.large_button.configure(text=tr("kiosk.start.normal_text" if self.fonts.large
                                            else "kiosk.start.large_text"))
        self.clock.configure(text=hall_clock(self.state.get("hall") or {}))
        for widget in (self.top, self.body):
            widget.configure(padx=self.fonts.gap())
        for button in (self.large_button, self.lang_button):
            button.configure(padx=self.fonts.pad(), pady=self.fonts.pad() // 2)
        room = self.fonts.width - 2 * self.fonts.gap()
        if not self.fonts.portrait:
            self.root.update_idletasks()
            room -= sum(w.winfo_reqwidth() for w in (self.clock, self.large_button,
                                                     self.lang_button)) + 3 * self.fonts.gap()
        self.hall_label.configure(wraplength=max(80, room))

    @property
    def state(self) -> dict[str, Any]:
        mirror = self.conn.mirror
        return mirror.state if mirror is not None and mirror.state else {}

    @property
    def idle_seconds(self) -> int:
        if self.idle_override is not None:
            return self.idle_override
        kiosk = settings_of(self.state).get("kiosk") or {}
        return int(kiosk.get("idle_seconds", 30))

    # ---- showing screens ----------------------------------------------------------------

    def _clear(self) -> None:
        self.main.destroy()
        if self.side is not None:
            self.side.destroy()
            self.side = None
        self.shown = None

    def _body_room(self) -> tuple[int, int]:
        """The body's inner size: the window less the top bar and the body's padding."""
        self.root.update_idletasks()
        gap = self.fonts.gap()
        return (self.fonts.width - 2 * gap,
                self.fonts.height - self.top.winfo_reqheight() - 2 * gap)

    def _place(self, make: Callable[[tuple[int, int]], tk.Frame], *,
               with_choice: bool) -> None:
        """Build a screen in the room it has; shrink the fonts until it fits.

        Tiles wrap at their cell's width, so only height can run out: with large text,
        many matters or a long English name, the screen is rebuilt a step smaller
        (the overflow says how much) rather than pushing 完成 or 确认取号 off the panel.
        """
        self.fonts.set_fit(1.0)
        for _attempt in range(8):
            self._label_top()
            over = self._build(make, with_choice)
            if over <= 1.0 or self.fonts.fit <= 0.45:
                return
            self._clear()
            self.fonts.set_fit(max(0.45, self.fonts.fit / max(over, 1.03)))

    def _build(self, make: Callable[[tuple[int, int]], tk.Frame], with_choice: bool) -> float:
        """Build main (and the chosen panel); how much too big they are (<= 1: fits)."""
        width, height = self._body_room()
        gap = self.fonts.gap()
        portrait = self.fonts.portrait
        side_w = side_h = 0
        if with_choice:
            label = dict(priority_classes(self.state)).get(self.choice.priority_class or "")
            if portrait:
                self.side = ChosenPanel(self.body, self.fonts, self, self.choice, label, width,
                                        band=True, card=self._card_text())
                self.side.pack(side="bottom", fill="x", pady=(gap, 0))
                self.root.update_idletasks()
                side_h = self.side.winfo_reqheight() + gap
            else:
                share = 0.34 if self.fonts.large else 0.28
                side_w = max(260, int(width * share),
                             ChosenPanel.min_width(self.fonts, self.choice))
                self.side = ChosenPanel(self.body, self.fonts, self, self.choice, label, side_w,
                                        card=self._card_text())
                self.side.pack(side="right", fill="y", padx=(gap, 0))
                side_w += gap
        room = (width - side_w, height - side_h)
        view = make(room)
        self.main = view
        view.pack(side="left", fill="both", expand=True)
        heights = [self._req_height(view)]
        switch = getattr(view, "switch_keys", None)
        if callable(switch):  # the keypad: the letters need more room than the digits
            switch()
            heights.append(self._req_height(view))
            switch()
        over = max(h / max(1, room[1]) for h in heights)
        over = max(over, view.winfo_reqwidth() / max(1, room[0]),
                   self.top.winfo_reqwidth() / max(1, self.fonts.width))
        if self.side is not None and not portrait:
            over = max(over, self.side.winfo_reqheight() / max(1, height))
        return over

    def _req_height(self, view: tk.Misc) -> int:
        self.root.update_idletasks()
        return int(view.winfo_reqheight())

    def _card_text(self) -> str | None:
        return tr("kiosk.card.holder", masked=self.holder.masked) if self.holder else None

    def _start_hint(self) -> str:
        """What the start screen says the readers take (only the ones this kiosk has)."""
        card = self.id_key is not None and (self.wedge is not None or any(
            r.device == "id_card" for r in self.readers))
        return tr("kiosk.start.card_hint") if card else ""

    def show_start(self) -> None:
        self._clear()
        self.screen, self.dept_code = "start", None
        hint = self._start_hint()
        self._place(lambda room: StartView(self.body, self.fonts, self,
                                           departments(self.state), room, hint),
                    with_choice=True)

    def _show_matters(self) -> None:
        dept = next((d for d in departments(self.state) if d.code == self.dept_code), None)
        if dept is None:
            self.show_start()
            return
        self._clear()
        self.screen = "matters"
        self._place(lambda room: MattersView(self.body, self.fonts, self, dept, self.choice,
                                             room), with_choice=True)

    def _show_busy(self, message: str, *, retry: bool = False, cancel: bool = False,
                   alert: bool = False, go_on: bool = False) -> None:
        """go_on: a 继续取号 button (the card stays: choose matters)."""
        self._clear()
        self.screen = "busy"
        self._place(lambda room: BusyView(self.body, self.fonts, message=message,
                                          retry=self.retry if retry else None,
                                          cancel=self.cancel_attempt if cancel else None,
                                          go_on=self._card_without_booking if go_on
                                          else None, alert=alert, room=room),
                    with_choice=False)

    def _show_paused(self) -> None:
        hall = self.state.get("hall") or {}
        body = tr("kiosk.paused.body")
        now = issuing(hall) if self.conn.online and hall else "open"
        if now != "open":
            body = tr("kiosk.not_yet.body" if now == "not_yet" else "kiosk.closed.body",
                      opening=hall.get("opening", ""), closing=hall.get("closing", ""))
        if self.screen == "paused" and isinstance(self.main, PausedView):
            self.main.body.configure(text=body)
            return
        self._clear()
        self.screen = "paused"
        self._place(lambda room: PausedView(self.body, self.fonts, body, room),
                    with_choice=False)

    def refresh(self) -> None:
        """Rebuild the current screen (language, text size or hall data changed)."""
        self._label_top()
        if self.screen == "start":
            self.show_start()
        elif self.screen == "matters":
            self._show_matters()
        elif self.screen == "priority":
            self.open_priority()
        elif self.screen == "appointment":
            self.open_appointment()
        elif self.screen == "paused":
            self._show_paused()
        elif self.screen == "offer":
            self._card_without_booking()  # the 70+ offer again, in the new language

    # ---- connection ---------------------------------------------------------------------

    def _can_issue(self) -> bool:
        hall = self.state.get("hall") or {}
        return bool(self.conn.online and self.state and issuing(hall) == "open")

    def _follow_connection(self) -> None:
        if not self._can_issue():
            if self.screen not in ("ticket",):
                self._show_paused()
            return
        if self.screen == "loading":
            self.finish()  # first snapshot: the hall's defaults (text size) apply
        elif self.screen == "paused":
            self._label_top()
            self.show_start()  # the choice (and its request id) survived the pause

    def _on_event(self, type_: str, data: dict[str, Any]) -> None:
        if type_ in ("connection", "resync", p.Ev.DAY_CLOSED):
            self._follow_connection()
            if type_ == "resync" and self.screen in ("start", "matters"):
                self._dirty = True
        elif data.get("waiting") is not None or type_ == p.Ev.COUNTER_SERVICES:
            # Every event that moves the queue carries the new counts (issue, call, 过号
            # re-queue, transfer, partial service, cancel ...): the buttons show them,
            # refreshed once the citizen leaves the screen untouched for a moment.
            self._dirty = True

    # ---- touches ---------------------------------------------------------------------------

    def _touched(self, _event: object = None) -> None:
        self.last_touch = time.monotonic()

    def _key(self, event: tk.Event[Any]) -> None:
        """A kiosk has no keyboard: key presses are a HID reader typing a line."""
        self._touched()
        if self.wedge is not None:
            read = self.wedge.feed(str(event.keysym), str(event.char))
            if read is not None:
                self.on_read(read)

    # ---- card and QR readers -----------------------------------------------------------

    def on_read(self, read: Read) -> None:
        """One read from a reader: a 身份证 number, or a booking code (a QR code)."""
        self._touched()
        if self.screen in ("busy", "loading") or not self._can_issue():
            return  # one thing at a time; paused: nothing can be issued anyway
        if self.screen == "ticket":
            self.finish()  # the next citizen
        card = read.device == "id_card" or looks_like_id_number(read.text)
        if card:
            self._card_read(read.text)
        else:
            self.submit_code(read.text)

    def _card_read(self, text: str) -> None:
        if self.id_key is None:
            log.warning("a card was read but this kiosk has no keys/%s", KEY_FILE)
            self._show_busy(tr("kiosk.card.unavailable"), cancel=True, alert=True)
            return
        try:
            holder = card_holder(text, self.id_key, self._hall_today())
        except InvalidIdNumber:
            self._show_busy(tr("kiosk.card.invalid"), cancel=True, alert=True)
            return
        self.choice.clear()
        self.holder = holder
        # A booking made for this card checks in at once; else the citizen chooses.
        self.attempt = check_in_attempt("", holder)
        self.attempt_choice = None
        self._send(self.attempt, tr("kiosk.card.looking"))

    def _hall_today(self) -> dt.date:
        zone = hall_zone(str((self.state.get("hall") or {}).get("timezone") or ""))
        return dt.datetime.now(zone).date()

    def _card_without_booking(self) -> None:
        """No booking for the card: choose matters as everyone does; from the hall's
        age on (70) the 绿色通道 class is offered, or given, as [kiosk] says."""
        self.attempt = None
        rule = elderly_rule(self.state, self.holder) if self.holder is not None else None
        if rule is not None and rule.action == "apply":
            self.choice.priority_class = rule.code
        if rule is not None and rule.action == "offer":
            self._clear()
            self.screen = "offer"
            holder = self.holder
            assert holder is not None
            self._place(lambda room: ElderlyOfferView(self.body, self.fonts, self, rule,
                                                      holder.masked, room),
                        with_choice=False)
            return
        self.show_start()

    def decline_priority(self) -> None:
        self._touched()
        self.show_start()

    def _pump_readers(self) -> None:
        for reader in self.readers:
            reader.drain(self.on_read)
            if reader.connected is not None and self.reader_ok.get(
                    reader.device) != reader.connected:
                self._report_reader(reader)

    def _report_reader(self, reader: SerialReader) -> None:
        """Tell the supervisor when a serial reader goes away or comes back."""
        first = reader.device not in self.reader_ok
        self.reader_ok[reader.device] = bool(reader.connected)
        if first and reader.connected:
            return
        self.conn.request(p.Op.DEVICE_STATUS, reader_status_args(reader.device,
                                                                 bool(reader.connected)),
                          timeout=3.0, retries=3)

    def _choice_changed(self) -> None:
        self.attempt = None  # a new choice is a new request (a new id)
        if self.screen == "matters":
            self._show_matters()
        else:
            self.show_start()

    def open_department(self, code: str) -> None:
        self._touched()
        self.dept_code = code
        self._show_matters()

    def toggle_matter(self, matter: Matter) -> None:
        self._touched()
        kiosk = settings_of(self.state).get("kiosk") or {}
        self.choice.max_services = int(kiosk.get("max_services", self.choice.max_services))
        self.choice.toggle(matter)
        self._choice_changed()

    def remove_matter(self, code: str) -> None:
        self._touched()
        self.choice.remove(code)
        self._choice_changed()

    def clear_choice(self) -> None:
        self._touched()
        self.choice.clear()
        self.holder = None  # 全部清除: the next citizen's, not this card's
        self._choice_changed()

    def open_priority(self) -> None:
        self._touched()
        self._clear()
        self.screen = "priority"
        self._place(lambda room: PriorityView(self.body, self.fonts, self,
                                              priority_classes(self.state), room),
                    with_choice=True)

    def choose_priority(self, code: str) -> None:
        self._touched()
        self.choice.priority_class = code
        self.attempt = None
        self.show_start()

    def clear_priority(self) -> None:
        self._touched()
        self.choice.priority_class = None
        self._choice_changed()

    def open_appointment(self) -> None:
        self._touched()
        self._clear()
        self.screen = "appointment"
        message = self.appointment_message
        self._place(lambda room: AppointmentView(self.body, self.fonts, self, message, room),
                    with_choice=False)
        self.appointment_message = ""

    def back_to_start(self) -> None:
        self.appointment_message = ""
        self.show_start()

    def toggle_language(self) -> None:
        self._touched()  # also when invoked without a pointer event (keyboard, tests)
        i18n.set_language("en" if i18n.language() == "zh" else "zh")
        self.refresh()

    def toggle_large(self) -> None:
        self._touched()
        self.fonts.set_large(not self.fonts.large)
        self.refresh()

    # ---- issuing ---------------------------------------------------------------------------

    def confirm(self) -> None:
        """确认取号: send `issue` (reusing the id if this same choice was already sent)."""
        if not self.choice.matters or not self._can_issue():
            return
        key = (tuple(m.code for m in self.choice.matters), self.choice.priority_class,
               self.holder.id_hash if self.holder is not None else None)
        if self.attempt is None or self.attempt_choice != key:
            self.attempt = issue_attempt(self.choice, self.holder)
            self.attempt_choice = key
        self._send(self.attempt)

    def submit_code(self, code: str) -> None:
        if not self._can_issue():
            return
        if self.attempt is None or self.attempt.args.get("code") != code.strip():
            self.attempt = check_in_attempt(code)
            self.attempt_choice = None
        self._send(self.attempt)

    def retry(self) -> None:
        self._touched()
        if self.attempt is not None:
            self._send(self.attempt)

    def cancel_attempt(self) -> None:
        self.attempt = None
        self.holder = None
        self.show_start()

    def _send(self, attempt: Attempt, message: str | None = None) -> None:
        attempt.started = time.perf_counter()
        self._show_busy(message or tr("kiosk.issuing"))
        self.conn.request(attempt.op, attempt.args, callback=self._on_reply,
                          timeout=ISSUE_TIMEOUT, retries=ISSUE_RETRIES,
                          request_id=attempt.request_id)

    def _on_reply(self, reply: ReplyLike) -> None:
        attempt = self.attempt
        if attempt is None or reply.request_id != attempt.request_id or self.screen != "busy":
            return  # the citizen cancelled or the kiosk went idle: nothing to show
        if reply.ok and reply.result is not None:
            self.reply_ms.append((time.perf_counter() - attempt.started) * 1000)
            self._show_ticket(attempt, reply.result)
        elif reply.error_code == TIMEOUT_CODE:
            self._show_busy(tr("kiosk.timeout"), retry=True, cancel=True, alert=True)
        elif reply.error_code == OFFLINE_CODE:
            self._show_paused()  # the choice and the id are kept for when it is back
        elif attempt.op == p.Op.CHECK_IN and "id_hash" in attempt.args and (
                reply.error_code == p.Err.APPOINTMENT_INVALID):
            # A card without a booking is the usual case: on to choosing matters. A
            # booking that cannot be used now (too early, used) says so first.
            if (reply.details or {}).get("reason") == "not_found":
                self._card_without_booking()
            else:
                self.attempt = None
                self._show_busy(split_message(reply.error_message), go_on=True, cancel=True,
                                alert=True)
        elif attempt.op == p.Op.CHECK_IN and reply.error_code in (
                p.Err.APPOINTMENT_INVALID, p.Err.NOT_FOUND, p.Err.CONFLICT, p.Err.BAD_REQUEST):
            self.attempt = None
            self.appointment_message = split_message(reply.error_message)
            self.open_appointment()
        else:
            self.attempt = None
            self._show_busy(tr("kiosk.error", message=split_message(reply.error_message)),
                            cancel=True, alert=True)

    def _show_ticket(self, attempt: Attempt, result: dict[str, Any]) -> None:
        base = (self.state.get("hall") or {}).get("status_base_url") or self.status_base
        view = ticket_view(result, self.state, status_base=base)
        self._clear()
        self.screen = "ticket"

        repeat = result.get("same_person_today")
        note = tr("kiosk.shown.repeat", n=repeat) if isinstance(repeat, int) and repeat else ""

        def make(room: tuple[int, int]) -> tk.Frame:
            self.shown = TicketShownView(self.body, self.fonts, view, self.finish, room, note)
            return self.shown

        self._place(make, with_choice=False)
        self.root.update_idletasks()  # on screen now, before the printer starts
        self.latencies_ms.append((time.perf_counter() - attempt.started) * 1000)
        self.shown_job = self.worker.submit(view)
        self._timers["overdue"] = self.root.after(int(PRINT_DEADLINE * 1000),
                                                  self._print_overdue, self.shown_job)
        self.attempt = None
        self.choice.clear()
        self.holder = None  # issued: the card is forgotten
        self.last_touch = time.monotonic()

    def finish(self) -> None:
        """Done or walked away: the next citizen starts from the hall's defaults."""
        self.choice.clear()
        self.attempt = None
        self.holder = None
        kiosk = settings_of(self.state).get("kiosk") or {}
        large = bool(kiosk.get("large_text", self.default_large))
        if large != self.fonts.large:
            self.fonts.set_large(large)
        if i18n.language() != self.default_lang:
            i18n.set_language(self.default_lang)
        self._label_top()
        if self._can_issue():
            self.show_start()
        else:
            self._show_paused()

    # ---- printer ----------------------------------------------------------------------------

    def _pump_prints(self) -> None:
        try:
            self.worker.drain(self._printed)
            self._pump_readers()
        finally:
            self._timers["prints"] = self.root.after(50, self._pump_prints)

    def _printed(self, outcome: PrintOutcome) -> None:
        if self.shown is not None and outcome.job == self.shown_job:
            if outcome.ok:
                self.shown.printed()
            else:
                self.shown.print_failed()
        if outcome.ok != self.printer_ok:
            self._report_printer(outcome)
        self.printer_ok = outcome.ok

    def _print_overdue(self, job: int) -> None:
        """A hung printer (USB stalled, driver blocked) never answers: say so anyway."""
        if self.worker.finished(job):
            return
        self._printed(PrintOutcome(job, False, reason="timeout",
                                   message="打印机无响应 / printer not responding"))

    def _report_printer(self, outcome: PrintOutcome) -> None:
        """Tell the supervisor (device_status -> device.status event) when it changes."""
        if outcome.ok and self.printer_ok is None:
            return  # first ticket printed fine: nothing to report
        self.conn.request(p.Op.DEVICE_STATUS, device_status_args(outcome), timeout=3.0,
                          retries=3)

    # ---- time -------------------------------------------------------------------------------

    def _tick(self) -> None:
        try:
            self.clock.configure(text=hall_clock(self.state.get("hall") or {}))
            self._follow_connection()  # opening time passes without any event
            idle = time.monotonic() - self.last_touch
            if idle >= self.idle_seconds and self._idle_applies():
                self.choice.clear()
                self.attempt = None
                self.appointment_message = ""
                self.finish()
            elif self._dirty and self.screen in ("start", "matters") and idle > 2:
                self._dirty = False
                self.refresh()
        finally:
            self._timers["tick"] = self.root.after(1000, self._tick)

    def _idle_applies(self) -> bool:
        if self.screen in ("matters", "priority", "appointment", "ticket", "offer"):
            return True
        if self.screen == "busy":
            return self.attempt is None or self.main_has_buttons()
        touched = (self.choice.matters or self.choice.priority_class or self.holder
                   or self.fonts.large != self.default_large
                   or i18n.language() != self.default_lang)
        return self.screen == "start" and bool(touched)

    def main_has_buttons(self) -> bool:
        """A busy screen offering 重试/取消 is waiting for a person, not for the server."""
        return isinstance(self.main, BusyView) and (
            self.main.retry_button is not None or self.main.cancel_button is not None)
