"""Kiosk screens where the citizen chooses: departments, matters, 绿色通道, appointment code.

Views render what they are given and call the controller for every touch; they hold no
state of their own beyond their widgets, so language and large-text changes simply
rebuild them.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from functools import partial
from typing import Literal, Protocol

from queue_common.i18n import tr
from ticket_printer import look
from ticket_printer import messages as _messages  # noqa: F401  (registers the texts)
from ticket_printer.look import KioskFonts
from ticket_printer.session import Choice, Department, Matter


class Actions(Protocol):
    """What the views may ask of the kiosk controller (ticket_printer.kiosk.Kiosk)."""

    def open_department(self, code: str) -> None: ...
    def toggle_matter(self, matter: Matter) -> None: ...
    def remove_matter(self, code: str) -> None: ...
    def clear_choice(self) -> None: ...
    def confirm(self) -> None: ...
    def open_priority(self) -> None: ...
    def choose_priority(self, code: str) -> None: ...
    def clear_priority(self) -> None: ...
    def open_appointment(self) -> None: ...
    def submit_code(self, code: str) -> None: ...
    def back_to_start(self) -> None: ...


def big_button(parent: tk.Misc, text: str, command: Callable[[], None], fonts: KioskFonts, *,
               bg: str = look.BUTTON, active: str = look.BUTTON_ACTIVE, font: str = "button",
               state: Literal["normal", "disabled"] = "normal", wrap: int = 0) -> tk.Button:
    """A flat, high-contrast touch target (tk.Button: ttk cannot colour per button)."""
    pad = fonts.px("body") // 2
    return tk.Button(parent, text=text, command=command, font=fonts[font], bg=bg, fg="white",
                     activebackground=active, activeforeground="white",
                     disabledforeground="#eef2f7", relief="flat", bd=0, highlightthickness=0,
                     padx=pad, pady=pad, state=state, wraplength=wrap, cursor="hand2")


def _grid(parent: tk.Frame, buttons: list[tk.Button], columns: int) -> None:
    gap = 8
    for i, btn in enumerate(buttons):
        btn.grid(row=i // columns, column=i % columns, sticky="nsew", padx=gap, pady=gap)
    for c in range(columns):
        parent.columnconfigure(c, weight=1, uniform="col")
    for r in range((len(buttons) + columns - 1) // columns):
        parent.rowconfigure(r, weight=1, uniform="row")


class StartView(tk.Frame):
    """Departments as big buttons, plus the 绿色通道 and appointment entries."""

    def __init__(self, parent: tk.Misc, fonts: KioskFonts, actions: Actions,
                 depts: list[Department]) -> None:
        super().__init__(parent, bg=look.BG)
        tk.Label(self, text=tr("kiosk.start.prompt"), font=fonts["title"], bg=look.BG,
                 fg=look.INK, anchor="w").pack(fill="x", pady=(0, 8))
        extra = tk.Frame(self, bg=look.BG)
        extra.pack(side="bottom", fill="x", pady=(12, 0))  # before the grid: never squeezed
        grid = tk.Frame(self, bg=look.BG)
        grid.pack(fill="both", expand=True)
        # Large text: wider buttons while they fit in few rows, else 3 columns so no
        # button is squeezed below its text; very big halls get a 4th column.
        columns = 2 if fonts.large and len(depts) <= 6 else 3 if len(depts) <= 12 else 4
        self.department_buttons: dict[str, tk.Button] = {}
        buttons = []
        for d in depts:
            btn = big_button(grid, f"{d.name}\n{tr('kiosk.waiting_now', n=d.waiting)}",
                             partial(actions.open_department, d.code), fonts)
            btn.configure(font=fonts["button"])
            self.department_buttons[d.code] = btn
            buttons.append(btn)
        _grid(grid, buttons, columns)
        self.priority_button = big_button(extra, tr("kiosk.start.priority"),
                                          actions.open_priority, fonts, bg=look.PRIORITY,
                                          active=look.PRIORITY)
        self.appointment_button = big_button(extra, tr("kiosk.start.appointment"),
                                             actions.open_appointment, fonts, bg=look.BRAND,
                                             active=look.BRAND)
        self.priority_button.pack(side="left", fill="x", expand=True, padx=8)
        self.appointment_button.pack(side="left", fill="x", expand=True, padx=8)


class MattersView(tk.Frame):
    """The matters of one department; a tap adds or removes it from the chosen list."""

    def __init__(self, parent: tk.Misc, fonts: KioskFonts, actions: Actions,
                 dept: Department, choice: Choice) -> None:
        super().__init__(parent, bg=look.BG)
        head = tk.Frame(self, bg=look.BG)
        head.pack(fill="x", pady=(0, 8))
        self.back_button = big_button(head, "‹ " + tr("kiosk.matters.back"),
                                      actions.back_to_start, fonts, bg=look.MUTED,
                                      active=look.MUTED, font="body")
        self.back_button.pack(side="left")
        tk.Label(head, text=dept.name, font=fonts["title"], bg=look.BG, fg=look.INK,
                 anchor="w").pack(side="left", padx=12)
        tk.Label(self, text=tr("kiosk.matters.prompt"), font=fonts["body"], bg=look.BG,
                 fg=look.MUTED, anchor="w", justify="left",
                 wraplength=fonts.width // 2).pack(fill="x", pady=(0, 6))
        grid = tk.Frame(self, bg=look.BG)
        grid.pack(fill="both", expand=True)
        self.matter_buttons: dict[str, tk.Button] = {}
        buttons = []
        wrap = max(200, fonts.width // (3 if fonts.large else 4))
        for m in dept.matters:
            chosen = choice.has(m.code)
            text = ("✓ " if chosen else "") + m.name
            btn = big_button(grid, f"{text}\n{tr('kiosk.waiting_now', n=m.waiting)}",
                             partial(actions.toggle_matter, m), fonts,
                             bg=look.CHOSEN if chosen else look.BUTTON,
                             active=look.CHOSEN if chosen else look.BUTTON_ACTIVE,
                             state="disabled" if choice.full and not chosen else "normal",
                             wrap=wrap)
            if choice.full and not chosen:
                btn.configure(bg=look.DISABLED)
            self.matter_buttons[m.code] = btn
            buttons.append(btn)
        _grid(grid, buttons, 1 if fonts.large and len(buttons) <= 4 else 2)


class ChosenPanel(tk.Frame):
    """Always visible while choosing: the chosen matters, each removable, and 确认取号."""

    def __init__(self, parent: tk.Misc, fonts: KioskFonts, actions: Actions, choice: Choice,
                 priority_label: str | None, width: int) -> None:
        super().__init__(parent, bg=look.PANEL, padx=12, pady=12, width=width)
        self.pack_propagate(False)  # same width on every screen: nothing jumps
        text_width = width - 24 - fonts.px("small") * 5  # beside the 移除 button
        tk.Label(self, text=f"{tr('kiosk.chosen.title')} {len(choice.matters)}/"
                            f"{choice.max_services}", font=fonts["button"], bg=look.PANEL,
                 fg=look.INK, anchor="w").pack(fill="x")
        self.remove_buttons: dict[str, tk.Button] = {}
        rows = tk.Frame(self, bg=look.PANEL)
        rows.pack(fill="both", expand=True, pady=8)
        rows.columnconfigure(0, weight=1)
        line = 0
        if priority_label:
            tk.Label(rows, text=tr("kiosk.chosen.priority", label=priority_label),
                     font=fonts["body"], bg=look.PANEL, fg=look.PRIORITY, anchor="w",
                     justify="left", wraplength=text_width).grid(row=line, column=0,
                                                                 sticky="w", pady=3)
            self.priority_remove = big_button(rows, "✕", actions.clear_priority, fonts,
                                              bg=look.MUTED, active=look.MUTED, font="small")
            self.priority_remove.grid(row=line, column=1, sticky="e", pady=3)
            line += 1
        if not choice.matters:
            tk.Label(rows, text=tr("kiosk.chosen.empty"), font=fonts["body"], bg=look.PANEL,
                     fg=look.MUTED, anchor="w").grid(row=line, column=0, sticky="w", pady=6)
        for i, m in enumerate(choice.matters, start=1):
            tk.Label(rows, text=f"{i}.{m.name}", font=fonts["body"], bg=look.PANEL,
                     fg=look.INK, anchor="w", justify="left", wraplength=text_width).grid(
                row=line, column=0, sticky="w", pady=3)
            btn = big_button(rows, "✕ " + tr("kiosk.chosen.remove"),
                             partial(actions.remove_matter, m.code), fonts,
                             bg=look.MUTED, active=look.MUTED, font="small")
            btn.grid(row=line, column=1, sticky="e", pady=3)
            self.remove_buttons[m.code] = btn
            line += 1
        self.clear_button = big_button(self, tr("kiosk.chosen.clear"), actions.clear_choice,
                                       fonts, bg=look.MUTED, active=look.MUTED, font="body",
                                       state="normal" if choice.matters else "disabled")
        self.clear_button.pack(fill="x", pady=(0, 8))
        self.confirm_button = big_button(
            self, tr("kiosk.confirm"), actions.confirm, fonts,
            bg=look.CONFIRM if choice.matters else look.DISABLED, active=look.CONFIRM_ACTIVE,
            font="confirm", state="normal" if choice.matters else "disabled")
        self.confirm_button.pack(fill="x")


class PriorityView(tk.Frame):
    """绿色通道: pick the class; the matters are chosen next, as for everyone."""

    def __init__(self, parent: tk.Misc, fonts: KioskFonts, actions: Actions,
                 classes: list[tuple[str, str]]) -> None:
        super().__init__(parent, bg=look.BG)
        tk.Label(self, text=tr("kiosk.priority.prompt"), font=fonts["title"], bg=look.BG,
                 fg=look.INK, anchor="w", justify="left",
                 wraplength=fonts.width * 3 // 5).pack(fill="x", pady=(0, 8))
        grid = tk.Frame(self, bg=look.BG)
        grid.pack(fill="both", expand=True)
        self.class_buttons: dict[str, tk.Button] = {}
        for code, label in classes:
            self.class_buttons[code] = big_button(
                grid, label, partial(actions.choose_priority, code), fonts,
                bg=look.PRIORITY, active=look.PRIORITY)
        _grid(grid, list(self.class_buttons.values()), 2)
        self.back_button = big_button(self, "‹ " + tr("kiosk.cancel"), actions.back_to_start,
                                      fonts, bg=look.MUTED, active=look.MUTED, font="body")
        self.back_button.pack(side="bottom", anchor="w", pady=(12, 0), before=grid)


DIGITS = ("123", "456", "789", "\x000-")       # \x00 = the switch to letters
LETTERS = ("ABCDEF", "GHIJKL", "MNOPQR", "STUVWX", "YZ-\x00")


class AppointmentView(tk.Frame):
    """Type the booking code on the keypad, or scan it (scanners type and press Enter)."""

    def __init__(self, parent: tk.Misc, fonts: KioskFonts, actions: Actions,
                 message: str = "") -> None:
        super().__init__(parent, bg=look.BG)
        self.actions = actions
        self.fonts = fonts
        tk.Label(self, text=tr("kiosk.appointment.prompt"), font=fonts["title"], bg=look.BG,
                 fg=look.INK, anchor="w").pack(fill="x", pady=(0, 8))
        self.code = tk.StringVar(self)
        self.entry = tk.Entry(self, textvariable=self.code, font=fonts["huge"], justify="center",
                              relief="solid", bd=2)
        self.entry.pack(fill="x", pady=8)
        self.entry.bind("<Return>", lambda _e: self._submit())
        self.message = tk.Label(self, text=message, font=fonts["body"], bg=look.BG,
                                fg=look.ALERT, anchor="w", justify="left",
                                wraplength=fonts.width * 3 // 5)
        self.message.pack(fill="x")
        self.back_button = big_button(self, "‹ " + tr("kiosk.cancel"), actions.back_to_start,
                                      fonts, bg=look.MUTED, active=look.MUTED, font="body")
        self.back_button.pack(side="bottom", anchor="w", pady=(8, 0))
        edit = tk.Frame(self, bg=look.BG)
        edit.pack(side="bottom", fill="x")
        for col, btn in enumerate((
                big_button(edit, "⌫", self._backspace, fonts, bg=look.MUTED,
                           active=look.MUTED, font="title"),
                big_button(edit, tr("kiosk.appointment.clear"), lambda: self.code.set(""),
                           fonts, bg=look.MUTED, active=look.MUTED))):
            btn.grid(row=0, column=col, sticky="nsew", padx=8, pady=8)
            edit.columnconfigure(col, weight=1, uniform="edit")
        self.submit_button = big_button(edit, tr("kiosk.appointment.submit"), self._submit,
                                        fonts, bg=look.CONFIRM, active=look.CONFIRM_ACTIVE)
        self.submit_button.grid(row=0, column=2, sticky="nsew", padx=8, pady=8)
        edit.columnconfigure(2, weight=1, uniform="edit")
        self.pad = tk.Frame(self, bg=look.BG)
        self.pad.pack(fill="both", expand=True, pady=(8, 0))
        self.key_buttons: dict[str, tk.Button] = {}
        self.letters = False
        self._build_pad()
        self.after_idle(self.entry.focus_set)

    def _build_pad(self) -> None:
        """Digits, or letters for codes that have them (the \x00 key switches)."""
        for child in self.pad.winfo_children():
            child.destroy()
        self.key_buttons = {}
        for r in range(6):
            self.pad.rowconfigure(r, weight=0, uniform="")
        rows = LETTERS if self.letters else DIGITS
        columns = max(len(row) for row in rows)
        for r, row in enumerate(rows):
            for c, ch in enumerate(row):
                if ch == "\x00":
                    btn = big_button(self.pad, "123" if self.letters else "ABC",
                                     self.switch_keys, self.fonts, bg=look.BRAND,
                                     active=look.BRAND, font="title")
                else:
                    btn = big_button(self.pad, ch, partial(self._type, ch), self.fonts,
                                     font="title")
                    self.key_buttons[ch] = btn
                btn.grid(row=r, column=c, sticky="nsew", padx=6, pady=6)
            self.pad.rowconfigure(r, weight=1, uniform="key")
        for c in range(6):
            self.pad.columnconfigure(c, weight=1 if c < columns else 0,
                                     uniform="key" if c < columns else "")

    def switch_keys(self) -> None:
        self.letters = not self.letters
        self._build_pad()

    def _type(self, ch: str) -> None:
        self.code.set(self.code.get() + ch)
        self.entry.icursor("end")

    def _backspace(self) -> None:
        self.code.set(self.code.get()[:-1])
        self.entry.icursor("end")

    def _submit(self) -> None:
        code = self.code.get().strip()
        if not code:
            self.message.configure(text=tr("kiosk.appointment.empty"))
            return
        self.actions.submit_code(code)
