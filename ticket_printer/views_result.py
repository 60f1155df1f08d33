"""Kiosk screens after 确认: waiting for the server, the ticket, and 暂停取号.

The ticket screen shows only a server-confirmed ticket (the controller builds it from
the reply); it stays readable for a photograph if the printer fails, QR code included.
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
    wait_text,
)
from ticket_printer.views_choose import big_button


class TicketShownView(tk.Frame):
    """The confirmed ticket: number huge, matters, people ahead, wait, QR, print state."""

    def __init__(self, parent: tk.Misc, fonts: KioskFonts, view: TicketView,
                 done: Callable[[], None]) -> None:
        super().__init__(parent, bg=look.PANEL, padx=24, pady=16)
        left = tk.Frame(self, bg=look.PANEL)
        left.pack(side="left", fill="both", expand=True)
        tk.Label(left, text=tr("kiosk.shown.title"), font=fonts["title"], bg=look.PANEL,
                 fg=look.MUTED).pack()
        label = kind_text(view)
        if label:
            tk.Label(left, text=label, font=fonts["title"], bg=look.PRIORITY, fg="white",
                     padx=16, pady=4).pack(pady=4)
        self.number = tk.Label(left, text=view.number, font=fonts["number"], bg=look.PANEL,
                               fg=look.INK)
        self.number.pack()
        wrap = fonts.width // 2
        self.matters = tk.Label(left, text="、".join(view.services), font=fonts["title"],
                                bg=look.PANEL, fg=look.INK, wraplength=wrap, justify="center")
        self.matters.pack(pady=4)
        for text, font in ((ahead_text(view.ahead), "title"), (wait_text(view.wait_seconds),
                                                               "body")):
            if text:
                tk.Label(left, text=text, font=fonts[font], bg=look.PANEL,
                         fg=look.INK).pack(pady=2)
        slot = slot_text(view)
        if slot:
            tk.Label(left, text=slot, font=fonts["body"], bg=look.PANEL, fg=look.INK,
                     wraplength=wrap, justify="center").pack()
        self.print_state = tk.Label(left, text=tr("kiosk.shown.printing"), font=fonts["title"],
                                    bg=look.PANEL, fg=look.MUTED, wraplength=wrap,
                                    justify="center")
        self.print_state.pack(pady=(12, 4))
        self.done_button = big_button(left, tr("kiosk.shown.done"), done, fonts,
                                      bg=look.BRAND, active=look.BRAND)
        self.done_button.pack(pady=8, ipadx=40)
        right = tk.Frame(self, bg=look.PANEL)
        right.pack(side="right", fill="y", padx=(24, 0))
        self.qr_photo: ImageTk.PhotoImage | None = None
        self.qr_size = fonts.height // 4
        self.qr_label = tk.Label(right, bg=look.PANEL)
        self.qr_label.pack(pady=(40, 8))
        if view.status_url:
            # Drawn just after the number: the number must never wait for the QR code.
            self.after(1, self._draw_qr, view.status_url)
            tk.Label(right, text=tr("kiosk.ticket.scan"), font=fonts["small"], bg=look.PANEL,
                     fg=look.MUTED).pack()
        if view.no_show_rule:
            tk.Label(right, text=view.no_show_rule, font=fonts["small"], bg=look.PANEL,
                     fg=look.MUTED, wraplength=max(160, fonts.height // 4),
                     justify="left").pack(pady=12)

    def _draw_qr(self, url: str) -> None:
        if not self.winfo_exists():
            return
        size = max(120, self.qr_size)
        self.qr_photo = ImageTk.PhotoImage(qr_image(url, size), master=self)
        self.qr_label.configure(image=self.qr_photo)

    def printed(self) -> None:
        self.print_state.configure(text=tr("kiosk.shown.printed"), fg=look.CHOSEN)

    def print_failed(self) -> None:
        self.print_state.configure(text=tr("kiosk.shown.print_failed"), fg=look.ALERT)


class BusyView(tk.Frame):
    """While the server answers; after a timeout: 重试 (same request id) or 取消."""

    def __init__(self, parent: tk.Misc, fonts: KioskFonts, *, message: str,
                 retry: Callable[[], None] | None = None,
                 cancel: Callable[[], None] | None = None, alert: bool = False) -> None:
        super().__init__(parent, bg=look.BG)
        inner = tk.Frame(self, bg=look.BG)
        inner.place(relx=0.5, rely=0.45, anchor="center")
        self.message = tk.Label(inner, text=message, font=fonts["title"], bg=look.BG,
                                fg=look.ALERT if alert else look.INK,
                                wraplength=fonts.width * 3 // 5, justify="center")
        self.message.pack(pady=16)
        buttons = tk.Frame(inner, bg=look.BG)
        buttons.pack()
        self.retry_button = self.cancel_button = None
        if retry is not None:
            self.retry_button = big_button(buttons, tr("kiosk.retry"), retry, fonts,
                                           bg=look.CONFIRM, active=look.CONFIRM_ACTIVE)
            self.retry_button.pack(side="left", padx=12, ipadx=24)
        if cancel is not None:
            self.cancel_button = big_button(buttons, tr("kiosk.cancel"), cancel, fonts,
                                            bg=look.MUTED, active=look.MUTED)
            self.cancel_button.pack(side="left", padx=12, ipadx=24)


class PausedView(tk.Frame):
    """暂停取号: the server is unreachable (or the hall closed); no button issues anything."""

    def __init__(self, parent: tk.Misc, fonts: KioskFonts, body: str) -> None:
        super().__init__(parent, bg=look.BG)
        inner = tk.Frame(self, bg=look.BG)
        inner.place(relx=0.5, rely=0.45, anchor="center")
        tk.Label(inner, text=tr("kiosk.paused.title"), font=fonts["huge"], bg=look.BG,
                 fg=look.ALERT).pack(pady=16)
        self.body = tk.Label(inner, text=body, font=fonts["title"], bg=look.BG, fg=look.INK,
                             wraplength=fonts.width * 3 // 5, justify="center")
        self.body.pack()
