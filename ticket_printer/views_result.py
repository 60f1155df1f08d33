"""Kiosk screens after 确认: waiting for the server, the ticket, and 暂停取号.

The ticket screen shows only a server-confirmed ticket (the controller builds it from
the reply); it stays readable for a photograph if the printer fails, QR code included.
On a landscape panel the QR code stands beside the ticket, on a portrait one under it.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable

from PIL import ImageTk

from queue_common.i18n import tr
from ticket_printer import look
from ticket_printer.look import KioskFonts
from ticket_printer.ticket import (
    TicketView,
    ahead_text,
    kind_text,
    qr_image,
    slot_text,
    wait_line,
)
from ticket_printer.views_choose import Room, big_button, wrap_label


class TicketShownView(tk.Frame):
    """The confirmed ticket: number huge, matters, people ahead, wait, QR, print state."""

    def __init__(self, parent: tk.Misc, fonts: KioskFonts, view: TicketView,
                 done: Callable[[], None], room: Room = (800, 600), note: str = "") -> None:
        """note: a line for the citizen on the screen only (not printed)."""
        pad = fonts.gap()
        super().__init__(parent, bg=look.PANEL, padx=pad, pady=pad)
        width, height = room[0] - 2 * pad, room[1] - 2 * pad
        side_by_side = width > height
        self.qr_size = max(120, min(height, width) // (4 if side_by_side else 3))
        text_w = width - (self.qr_size + 3 * pad if side_by_side else 0)
        left = tk.Frame(self, bg=look.PANEL)
        left.grid(row=0, column=0, sticky="nsew")
        right = tk.Frame(self, bg=look.PANEL)
        if side_by_side:
            right.grid(row=0, column=1, sticky="n", padx=(pad, 0))
            self.columnconfigure(0, weight=1)
        else:
            right.grid(row=1, column=0, sticky="n", pady=(pad, 0))
        wrap_label(left, tr("kiosk.shown.title"), fonts, "title", text_w, bg=look.PANEL,
                   fg=look.MUTED, anchor="center").pack()
        label = kind_text(view)
        if label:
            wrap_label(left, label, fonts, "title", text_w - 2 * pad, bg=look.PRIORITY,
                       fg=look.TEXT_ON_BUTTONS, anchor="center").pack(pady=pad // 3, ipadx=pad)
        # The number as big as the width allows (9 ems at most).
        fonts.fitted("number", view.number, text_w * 0.9)
        self.number = tk.Label(left, text=view.number, font=fonts["number"], bg=look.PANEL,
                               fg=look.INK)
        self.number.pack()
        self.matters = wrap_label(left, tr("kiosk.list_sep").join(view.services), fonts, "title", text_w,
                                  bg=look.PANEL, anchor="center")
        self.matters.pack(pady=pad // 3)
        for text, font in ((ahead_text(view.ahead), "title"), (wait_line(view),
                                                               "body")):
            if text:
                wrap_label(left, text, fonts, font, text_w, bg=look.PANEL,
                           anchor="center").pack(pady=1)
        slot = slot_text(view)
        for extra in (slot, note):
            if extra:
                wrap_label(left, extra, fonts, "body", text_w, bg=look.PANEL,
                           anchor="center").pack()
        # Portrait: the QR code under the ticket, then the print state and 完成 last.
        tail = left
        if not side_by_side:
            tail = tk.Frame(self, bg=look.PANEL)
            tail.grid(row=2, column=0, sticky="n")
        self.print_state = wrap_label(tail, tr("kiosk.shown.printing"), fonts, "title", text_w,
                                      bg=look.PANEL, fg=look.MUTED, anchor="center")
        self.print_state.pack(pady=(pad // 2, pad // 3))
        self.done_button = big_button(tail, tr("kiosk.shown.done"), done, fonts,
                                      bg=look.BRAND, active=look.BRAND, wrap=text_w)
        self.done_button.pack(pady=pad // 3, ipadx=2 * pad)
        # A blank image holds the place (a Label without one counts in characters).
        self.blank = tk.PhotoImage(master=self, width=self.qr_size, height=self.qr_size)
        self.qr_photo: ImageTk.PhotoImage | None = None
        self.qr_label = tk.Label(right, bg=look.PANEL, image=self.blank, bd=0)
        self.qr_label.pack(pady=(pad, pad // 3))
        side_w = self.qr_size + 2 * pad if side_by_side else width
        if view.status_url:
            # Drawn just after the number: the number must never wait for the QR code.
            self.after(1, self._draw_qr, view.status_url)
            wrap_label(right, tr("kiosk.ticket.scan"), fonts, "small", side_w, bg=look.PANEL,
                       fg=look.MUTED, anchor="center").pack()
        if view.no_show_rule:
            wrap_label(right, view.no_show_rule, fonts, "small", side_w, bg=look.PANEL,
                       fg=look.MUTED).pack(pady=pad // 2)

    def _draw_qr(self, url: str) -> None:
        if not self.winfo_exists():
            return
        self.qr_photo = ImageTk.PhotoImage(qr_image(url, self.qr_size), master=self)
        self.qr_label.configure(image=self.qr_photo)

    def printed(self) -> None:
        self.print_state.configure(text=tr("kiosk.shown.printed"), fg=look.CHOSEN)

    def print_failed(self) -> None:
        self.print_state.configure(text=tr("kiosk.shown.print_failed"), fg=look.ALERT_INK)


class BusyView(tk.Frame):
    """While the server answers; after a timeout: 重试 (same request id) or 取消."""

    def __init__(self, parent: tk.Misc, fonts: KioskFonts, *, message: str,
                 retry: Callable[[], None] | None = None,
                 cancel: Callable[[], None] | None = None, alert: bool = False,
                 room: Room = (800, 600), go_on: Callable[[], None] | None = None) -> None:
        super().__init__(parent, bg=look.BG)
        width = room[0]
        gap = fonts.gap()
        inner = tk.Frame(self, bg=look.BG)
        inner.pack(expand=True)
        self.message = wrap_label(inner, message, fonts, "title", width - 2 * gap,
                                  fg=look.ALERT_INK if alert else look.INK, anchor="center")
        self.message.pack(pady=gap)
        buttons = tk.Frame(inner, bg=look.BG)
        buttons.pack()
        self.retry_button = self.cancel_button = self.go_on_button = None
        half = (width - 6 * gap) // 2
        if go_on is not None:
            self.go_on_button = big_button(buttons, tr("kiosk.card.go_on"), go_on, fonts,
                                           bg=look.CONFIRM, active=look.CONFIRM_ACTIVE,
                                           wrap=half)
            self.go_on_button.pack(side="left", padx=gap, ipadx=gap)
        if retry is not None:
            self.retry_button = big_button(buttons, tr("kiosk.retry"), retry, fonts,
                                           bg=look.CONFIRM, active=look.CONFIRM_ACTIVE,
                                           wrap=half)
            self.retry_button.pack(side="left", padx=gap, ipadx=gap)
        if cancel is not None:
            self.cancel_button = big_button(buttons, tr("kiosk.cancel"), cancel, fonts,
                                            bg=look.MUTED, active=look.MUTED_ACTIVE, wrap=half)
            self.cancel_button.pack(side="left", padx=gap, ipadx=gap)


class PausedView(tk.Frame):
    """暂停取号: the server is unreachable (or the hall closed); no button issues anything."""

    def __init__(self, parent: tk.Misc, fonts: KioskFonts, body: str,
                 room: Room = (800, 600)) -> None:
        super().__init__(parent, bg=look.BG)
        width = room[0] - 2 * fonts.gap()
        inner = tk.Frame(self, bg=look.BG)
        inner.pack(expand=True)
        wrap_label(inner, tr("kiosk.paused.title"), fonts, "huge", width, fg=look.ALERT_INK,
                   anchor="center").pack(pady=fonts.gap())
        self.body = wrap_label(inner, body, fonts, "title", width, anchor="center")
        self.body.pack()
