"""Kiosk screens where the citizen chooses: departments, matters, 绿色通道, appointment code.

Views render what they are given and call the controller for every touch; they hold no
state of their own beyond their widgets, so language and large-text changes simply
rebuild them. Each view is told the room it has (`room`: width, height in pixels) and
lays its touch targets out in it: tiles wrap their text at the width of their cell, so
a view never asks for more width than it has; the controller shrinks the fonts when a
view still needs more height than the panel gives (ticket_printer.kiosk).
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable, Sequence
from functools import partial
from typing import Literal, Protocol

from queue_common.i18n import tr
from ticket_printer import look
from ticket_printer import messages as _messages  # noqa: F401  (registers the texts)
from ticket_printer.look import KioskFonts
from ticket_printer.session import Choice, Department, ElderlyRule, Matter

Room = tuple[int, int]


class OfferActions(Protocol):
    def choose_priority(self, code: str) -> None: ...
    def decline_priority(self) -> None: ...


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
    pad = fonts.pad()
    return tk.Button(parent, text=text, command=command, font=fonts[font], bg=bg, fg="white",
                     activebackground=active, activeforeground="white",
                     disabledforeground=look.DISABLED_FG, relief="flat", bd=0,
                     highlightthickness=0, padx=pad, pady=pad, state=state,
                     wraplength=max(0, wrap - 2 * pad) if wrap else 0, justify="center",
                     cursor="hand2")


def tile_grid(parent: tk.Frame, buttons: Sequence[tk.Button], columns: int, gap: int) -> None:
    """Buttons in equal cells, `columns` across, filling the parent."""
    for i, btn in enumerate(buttons):
        btn.grid(row=i // columns, column=i % columns, sticky="nsew", padx=gap // 2,
                 pady=gap // 2)
    for c in range(columns):
        parent.columnconfigure(c, weight=1, uniform="col")
    for r in range((len(buttons) + columns - 1) // columns):
        parent.rowconfigure(r, weight=1, uniform="row")


def columns_for(count: int, room: Room, fonts: KioskFonts, texts: Sequence[str],
                font: str, choices: Sequence[int]) -> int:
    """The column count whose cells hold the texts best: the widest cell for which the
    longest word fits and the rows are still at least two lines of text high."""
    width, height = room
    line = fonts[font].metrics("linespace")
    widest_word = max((fonts.measure(font, word) for t in texts for word in t.split()),
                      default=0)
    best = choices[0]
    for columns in choices:
        rows = -(-count // columns)
        cell_w = (width - columns * fonts.gap()) / columns
        cell_h = (height - rows * fonts.gap()) / rows
        if widest_word + 2 * fonts.pad() <= cell_w and cell_h >= 2.4 * line:
            best = columns
            break
        best = columns
    return best


def wrap_label(parent: tk.Misc, text: str, fonts: KioskFonts, font: str, width: int, *,
               bg: str = look.BG, fg: str = look.INK, anchor: str = "w") -> tk.Label:
    """A text wrapping at `width` pixels, never asking for more (no border, no padding)."""
    return tk.Label(parent, text=text, font=fonts[font], bg=bg, fg=fg, anchor=anchor,  # type: ignore[arg-type]
                    justify="left" if anchor == "w" else "center", bd=0, padx=0,
                    wraplength=max(40, width))


class StartView(tk.Frame):
    """Departments as big tiles, plus the 绿色通道 and appointment entries."""

    def __init__(self, parent: tk.Misc, fonts: KioskFonts, actions: Actions,
                 depts: list[Department], room: Room, hint: str = "") -> None:
        super().__init__(parent, bg=look.BG)
        width, height = room
        gap = fonts.gap()
        wrap_label(self, tr("kiosk.start.prompt"), fonts, "title", width).pack(
            fill="x", pady=(0, gap))
        if hint:
            self.hint = wrap_label(self, hint, fonts, "body", width, fg=look.MUTED)
            self.hint.pack(fill="x", pady=(0, gap))
        extra = tk.Frame(self, bg=look.BG)
        extra.pack(side="bottom", fill="x", pady=(gap, 0))  # before the grid: never squeezed
        half = (width - 2 * gap) // 2
        self.priority_button = big_button(extra, tr("kiosk.start.priority"),
                                          actions.open_priority, fonts, bg=look.PRIORITY,
                                          active=look.PRIORITY_ACTIVE, wrap=half)
        self.appointment_button = big_button(extra, tr("kiosk.start.appointment"),
                                             actions.open_appointment, fonts, bg=look.BRAND,
                                             active=look.BRAND, wrap=half)
        self.priority_button.pack(side="left", fill="x", expand=True, padx=(0, gap // 2))
        self.appointment_button.pack(side="left", fill="x", expand=True, padx=(gap // 2, 0))
        grid = tk.Frame(self, bg=look.BG)
        grid.pack(fill="both", expand=True)
        texts = [f"{d.name}\n{tr('kiosk.waiting_now', n=d.waiting)}" for d in depts]
        grid_room = (width, height - 4 * fonts["title"].metrics("linespace"))
        columns = columns_for(len(depts), grid_room, fonts, texts, "tile",
                              (2, 3) if fonts.large else (3, 4, 2))
        cell = (width - columns * gap) // columns
        self.department_buttons: dict[str, tk.Button] = {}
        for d, text in zip(depts, texts, strict=True):
            self.department_buttons[d.code] = big_button(
                grid, text, partial(actions.open_department, d.code), fonts, font="tile",
                wrap=cell)
        tile_grid(grid, list(self.department_buttons.values()), columns, gap)


class MattersView(tk.Frame):
    """The matters of one department; a tap adds or removes it from the chosen list."""

    def __init__(self, parent: tk.Misc, fonts: KioskFonts, actions: Actions,
                 dept: Department, choice: Choice, room: Room) -> None:
        super().__init__(parent, bg=look.BG)
        width, height = room
        gap = fonts.gap()
        head = tk.Frame(self, bg=look.BG)
        head.pack(fill="x", pady=(0, gap))
        self.back_button = big_button(head, "‹ " + tr("kiosk.matters.back"),
                                      actions.back_to_start, fonts, bg=look.MUTED,
                                      active=look.MUTED_ACTIVE, font="body",
                                      wrap=width // 3)
        self.back_button.pack(side="left")
        back_w = self.back_button.winfo_reqwidth()
        wrap_label(head, dept.name, fonts, "title", width - back_w - gap).pack(
            side="left", padx=(gap, 0))
        wrap_label(self, tr("kiosk.matters.prompt"), fonts, "body", width,
                   fg=look.MUTED).pack(fill="x", pady=(0, gap))
        grid = tk.Frame(self, bg=look.BG)
        grid.pack(fill="both", expand=True)
        texts = []
        for m in dept.matters:
            mark = "✓ " if choice.has(m.code) else ""
            texts.append(f"{mark}{m.name}\n{tr('kiosk.waiting_now', n=m.waiting)}")
        columns = columns_for(len(texts), (width, height), fonts, texts, "tile",
                              (1, 2) if fonts.large and len(texts) <= 4 else (2, 3, 1))
        cell = (width - columns * gap) // columns
        self.matter_buttons: dict[str, tk.Button] = {}
        for m, text in zip(dept.matters, texts, strict=True):
            chosen = choice.has(m.code)
            blocked = choice.full and not chosen
            btn = big_button(grid, text, partial(actions.toggle_matter, m), fonts,
                             font="tile",
                             bg=look.DISABLED if blocked else (
                                 look.CHOSEN if chosen else look.BUTTON),
                             active=look.CHOSEN_ACTIVE if chosen else look.BUTTON_ACTIVE,
                             state="disabled" if blocked else "normal", wrap=cell)
            self.matter_buttons[m.code] = btn
        tile_grid(grid, list(self.matter_buttons.values()), columns, gap)


class ChosenPanel(tk.Frame):
    """Always visible while choosing: the chosen matters, each removable, and 确认取号.

    Beside the screen on a landscape panel (a column `size[0]` wide), under it on a
    portrait one (a band as wide as the panel: the list left, the buttons right).
    """

    @staticmethod
    def min_width(fonts: KioskFonts, choice: Choice) -> int:
        """The column width in which no word of a chosen matter is broken."""
        words = [w for m in choice.matters for w in m.name.split()]
        widest = max((fonts.measure("body", w) for w in words), default=0)
        remove = fonts.measure("small", "✕ " + tr("kiosk.chosen.remove")) + 2 * fonts.pad()
        digits = fonts.measure("body", "5. ")
        return widest + digits + remove + 4 * fonts.gap()

    def __init__(self, parent: tk.Misc, fonts: KioskFonts, actions: Actions, choice: Choice,
                 priority_label: str | None, width: int, *, band: bool = False,
                 card: str | None = None) -> None:
        """card: the card read for this citizen, as shown (身份证 3101**********1234)."""
        super().__init__(parent, bg=look.PANEL, padx=fonts.gap(), pady=fonts.gap())
        gap = fonts.gap()
        inner = width - 2 * gap
        if band:
            list_w = inner * 3 // 5
            buttons_w = inner - list_w - gap
            listing = tk.Frame(self, bg=look.PANEL)
            listing.grid(row=0, column=0, sticky="nsew", padx=(0, gap))
            actions_box = tk.Frame(self, bg=look.PANEL)
            actions_box.grid(row=0, column=1, sticky="nsew")
            self.columnconfigure(0, weight=3, minsize=list_w)
            self.columnconfigure(1, weight=2, minsize=buttons_w)
        else:
            list_w = buttons_w = inner
            listing = actions_box = self
        tk.Frame(listing, bg=look.PANEL, width=list_w, height=0).pack()  # the width
        wrap_label(listing, f"{tr('kiosk.chosen.title')} {len(choice.matters)}/"
                            f"{choice.max_services}", fonts, "button", list_w,
                   bg=look.PANEL).pack(fill="x")
        self.remove_buttons: dict[str, tk.Button] = {}
        rows = tk.Frame(listing, bg=look.PANEL)
        rows.pack(fill="both", expand=True, pady=gap // 2)
        rows.columnconfigure(0, weight=1)
        # A band under a portrait screen is narrow for names: its 移除 is a bare ✕.
        remove_text = "✕" if band else "✕ " + tr("kiosk.chosen.remove")
        remove_w = (fonts.measure("small", remove_text) + 2 * fonts.pad())
        text_w = list_w - remove_w - gap
        line = 0
        if card:
            wrap_label(rows, card, fonts, "small", list_w, bg=look.PANEL, fg=look.MUTED).grid(
                row=line, column=0, columnspan=2, sticky="w", pady=2)
            line += 1
        if priority_label:
            wrap_label(rows, tr("kiosk.chosen.priority", label=priority_label), fonts, "body",
                       text_w, bg=look.PANEL, fg=look.PRIORITY).grid(
                row=line, column=0, sticky="w", pady=2)
            self.priority_remove = big_button(rows, "✕", actions.clear_priority, fonts,
                                              bg=look.MUTED, active=look.MUTED_ACTIVE,
                                              font="small")
            self.priority_remove.grid(row=line, column=1, sticky="e", pady=2)
            line += 1
        if not choice.matters:
            wrap_label(rows, tr("kiosk.chosen.empty"), fonts, "body", list_w,
                       bg=look.PANEL, fg=look.MUTED).grid(row=line, column=0, columnspan=2,
                                                          sticky="w", pady=4)
        for i, m in enumerate(choice.matters, start=1):
            wrap_label(rows, f"{i}. {m.name}", fonts, "body", text_w, bg=look.PANEL).grid(
                row=line, column=0, sticky="w", pady=2)
            btn = big_button(rows, remove_text, partial(actions.remove_matter, m.code), fonts,
                             bg=look.MUTED, active=look.MUTED_ACTIVE, font="small")
            btn.grid(row=line, column=1, sticky="e", pady=2)
            self.remove_buttons[m.code] = btn
            line += 1
        self.clear_button = big_button(actions_box, tr("kiosk.chosen.clear"),
                                       actions.clear_choice, fonts, bg=look.MUTED,
                                       active=look.MUTED_ACTIVE, font="body", wrap=buttons_w,
                                       state="normal" if choice.matters else "disabled")
        self.confirm_button = big_button(
            actions_box, tr("kiosk.confirm"), actions.confirm, fonts,
            bg=look.CONFIRM if choice.matters else look.DISABLED, active=look.CONFIRM_ACTIVE,
            font="confirm", state="normal" if choice.matters else "disabled", wrap=buttons_w)
        if band:
            self.confirm_button.pack(side="bottom", fill="both", expand=True)
            self.clear_button.pack(side="bottom", fill="x", pady=(0, gap // 2))
        else:
            self.confirm_button.pack(side="bottom", fill="x")
            self.clear_button.pack(side="bottom", fill="x", pady=(0, gap // 2))


class ElderlyOfferView(tk.Frame):
    """A card of a citizen of the hall's age (70) or over: offer the 绿色通道 class."""

    def __init__(self, parent: tk.Misc, fonts: KioskFonts, actions: OfferActions,
                 rule: ElderlyRule, masked: str, room: Room) -> None:
        super().__init__(parent, bg=look.BG)
        width = room[0]
        gap = fonts.gap()
        inner = tk.Frame(self, bg=look.BG)
        inner.pack(expand=True)
        wrap_label(inner, tr("kiosk.card.holder", masked=masked), fonts, "body", width,
                   fg=look.MUTED, anchor="center").pack(pady=(0, gap))
        wrap_label(inner, tr("kiosk.card.offer", age=rule.age, label=rule.label), fonts,
                   "title", width, anchor="center").pack(pady=(0, 2 * gap))
        half = (width - 4 * gap) // 2
        row = tk.Frame(inner, bg=look.BG)
        row.pack()
        self.accept_button = big_button(row, tr("kiosk.card.use_priority"),
                                        partial(actions.choose_priority, rule.code), fonts,
                                        bg=look.PRIORITY, active=look.PRIORITY_ACTIVE,
                                        font="tile", wrap=half)
        self.decline_button = big_button(row, tr("kiosk.card.normal"), actions.decline_priority,
                                         fonts, bg=look.MUTED, active=look.MUTED_ACTIVE,
                                         font="tile", wrap=half)
        self.accept_button.pack(side="left", padx=gap, ipadx=gap, ipady=gap)
        self.decline_button.pack(side="left", padx=gap, ipadx=gap, ipady=gap)


class PriorityView(tk.Frame):
    """绿色通道: pick the class; the matters are chosen next, as for everyone."""

    def __init__(self, parent: tk.Misc, fonts: KioskFonts, actions: Actions,
                 classes: list[tuple[str, str]], room: Room) -> None:
        super().__init__(parent, bg=look.BG)
        width, _height = room
        gap = fonts.gap()
        wrap_label(self, tr("kiosk.priority.prompt"), fonts, "title", width).pack(
            fill="x", pady=(0, gap))
        self.back_button = big_button(self, "‹ " + tr("kiosk.cancel"), actions.back_to_start,
                                      fonts, bg=look.MUTED, active=look.MUTED_ACTIVE,
                                      font="body")
        self.back_button.pack(side="bottom", anchor="w", pady=(gap, 0))
        grid = tk.Frame(self, bg=look.BG)
        grid.pack(fill="both", expand=True)
        cell = (width - 2 * gap) // 2
        self.class_buttons: dict[str, tk.Button] = {}
        for code, label in classes:
            self.class_buttons[code] = big_button(
                grid, label, partial(actions.choose_priority, code), fonts, font="tile",
                bg=look.PRIORITY, active=look.PRIORITY_ACTIVE, wrap=cell)
        tile_grid(grid, list(self.class_buttons.values()), 2, gap)


DIGITS = ("123", "456", "789", "\x000-")       # \x00 = the switch to letters
LETTERS = ("ABCDEF", "GHIJKL", "MNOPQR", "STUVWX", "YZ-\x00")


class AppointmentView(tk.Frame):
    """Type the booking code on the keypad, or scan it (a QR reader types it and Enter,
    or sends it on its serial line: ticket_printer.readers)."""

    def __init__(self, parent: tk.Misc, fonts: KioskFonts, actions: Actions,
                 message: str = "", room: Room = (800, 600)) -> None:
        super().__init__(parent, bg=look.BG)
        self.actions = actions
        self.fonts = fonts
        width, _height = room
        gap = fonts.gap()
        self.width = width
        wrap_label(self, tr("kiosk.appointment.prompt"), fonts, "title", width).pack(
            fill="x", pady=(0, gap))
        self.code = tk.StringVar(self)
        # Read-only: the keypad and the readers fill it. A kiosk has no keyboard, and a
        # HID reader's keys are taken by the kiosk as one read (ticket_printer.readers).
        self.entry = tk.Entry(self, textvariable=self.code, font=fonts["entry"],
                              justify="center", relief="solid", bd=2, state="readonly",
                              readonlybackground=look.PANEL, fg=look.INK)
        self.entry.pack(fill="x", pady=gap // 2)
        self.message = wrap_label(self, message, fonts, "body", width, fg=look.ALERT_INK)
        self.message.pack(fill="x")
        self.back_button = big_button(self, "‹ " + tr("kiosk.cancel"), actions.back_to_start,
                                      fonts, bg=look.MUTED, active=look.MUTED_ACTIVE,
                                      font="body")
        self.back_button.pack(side="bottom", anchor="w", pady=(gap // 2, 0))
        edit = tk.Frame(self, bg=look.BG)
        edit.pack(side="bottom", fill="x")
        third = (width - 3 * gap) // 3
        for col, btn in enumerate((
                big_button(edit, "⌫", self._backspace, fonts, bg=look.MUTED,
                           active=look.MUTED_ACTIVE, font="key"),
                big_button(edit, tr("kiosk.appointment.clear"), lambda: self.code.set(""),
                           fonts, bg=look.MUTED, active=look.MUTED_ACTIVE, wrap=third))):
            btn.grid(row=0, column=col, sticky="nsew", padx=gap // 2, pady=gap // 2)
            edit.columnconfigure(col, weight=1, uniform="edit")
        self.submit_button = big_button(edit, tr("kiosk.appointment.submit"), self._submit,
                                        fonts, bg=look.CONFIRM, active=look.CONFIRM_ACTIVE,
                                        wrap=third)
        self.submit_button.grid(row=0, column=2, sticky="nsew", padx=gap // 2, pady=gap // 2)
        edit.columnconfigure(2, weight=1, uniform="edit")
        self.pad = tk.Frame(self, bg=look.BG)
        self.pad.pack(fill="both", expand=True, pady=(gap // 2, 0))
        self.key_buttons: dict[str, tk.Button] = {}
        self.letters = False
        self._build_pad()

    def _build_pad(self) -> None:
        """Digits, or letters for codes that have them (the \x00 key switches)."""
        for child in self.pad.winfo_children():
            child.destroy()
        self.key_buttons = {}
        for r in range(6):
            self.pad.rowconfigure(r, weight=0, uniform="")
        rows = LETTERS if self.letters else DIGITS
        columns = max(len(row) for row in rows)
        gap = self.fonts.gap()
        for r, row in enumerate(rows):
            for c, ch in enumerate(row):
                if ch == "\x00":
                    btn = big_button(self.pad, "123" if self.letters else "ABC",
                                     self.switch_keys, self.fonts, bg=look.BRAND,
                                     active=look.BRAND, font="key")
                else:
                    btn = big_button(self.pad, ch, partial(self._type, ch), self.fonts,
                                     font="key")
                    self.key_buttons[ch] = btn
                btn.configure(pady=max(2, self.fonts.pad() // 3))
                btn.grid(row=r, column=c, sticky="nsew", padx=gap // 3, pady=gap // 3)
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
