"""The expanded view's panels: the current ticket, the waiting lists, the parked list.

Each panel renders a CallerView (caller_state) and reports what the clerk picked; none
of them sends anything itself.
"""

from __future__ import annotations

import datetime as dt
import tkinter as tk
from collections.abc import Callable, Mapping
from tkinter import ttk
from typing import Any

from counter_client import caller_state as cs
from counter_client import look
from counter_client import messages as _messages  # noqa: F401  (registers the texts)
from counter_client.look import Fonts
from queue_common.durations import clock_text, minutes_text
from queue_common.i18n import language, tr


def priority_name(code: str | None, settings: Mapping[str, Any]) -> str | None:
    """A priority class code -> its name in the current language (from hall settings)."""
    if not code:
        return None
    classes = settings.get("priority_classes") or {}
    entry = classes.get(code) if isinstance(classes, Mapping) else None
    if isinstance(entry, Mapping):
        name = entry.get("name_en") if language() == "en" else entry.get("name")
        if name:
            return str(name)
    return code


def ticket_kind_text(ticket: cs.TicketView, settings: Mapping[str, Any]) -> str:
    text = tr(f"cc.kind.{ticket.kind}")
    name = priority_name(ticket.priority_class, settings)
    return f"{text} · {name}" if name else text


class TicketPanel(ttk.Frame):
    """Number, matters with a tick box each, priority class, waited, called at, recalls."""

    def __init__(self, master: tk.Misc, fonts: Fonts) -> None:
        super().__init__(master, padding=(10, 6))
        self.fonts = fonts
        ttk.Label(self, text=tr("cc.current"), style="Caller.Muted.TLabel").grid(
            row=0, column=0, sticky="w")
        self.number = tk.Label(self, text=tr("cc.no_ticket"), font=fonts.number,
                               fg=look.NUMBER_FG, bg=look.DESK_BG, anchor="w", width=6)
        self.number.grid(row=1, column=0, sticky="w")
        info = ttk.Frame(self)
        info.grid(row=1, column=1, sticky="nw", padx=(12, 0), pady=(10, 0))
        self.kind = ttk.Label(info, text="", style="Caller.Head.TLabel")
        self.kind.pack(anchor="w")
        self.waited = ttk.Label(info, text="")
        self.waited.pack(anchor="w")
        self.called = ttk.Label(info, text="")
        self.called.pack(anchor="w")
        self.recalls = ttk.Label(info, text="")
        self.recalls.pack(anchor="w")
        ttk.Label(self, text=tr("cc.matters"), style="Caller.Muted.TLabel").grid(
            row=2, column=0, columnspan=2, sticky="w", pady=(6, 0))
        self.items_frame = ttk.Frame(self)
        self.items_frame.grid(row=3, column=0, columnspan=2, sticky="w")
        self.item_vars: dict[str, tk.BooleanVar] = {}
        self.item_checks: dict[str, ttk.Checkbutton] = {}
        self._ticket_key: tuple[Any, ...] | None = None

    def render(self, view: cs.CallerView, settings: Mapping[str, Any], now: dt.datetime) -> None:
        ticket = view.current
        if ticket is None:
            self.number.configure(text=tr("cc.no_ticket"))
            for label in (self.kind, self.waited, self.called, self.recalls):
                label.configure(text="")
            self._set_items(None)
            return
        self.number.configure(text=ticket.number)
        self.kind.configure(text=ticket_kind_text(ticket, settings))
        self.waited.configure(text=tr("cc.waited",
                                      duration=clock_text(ticket.waited_seconds(now))))
        called = ticket.called_at.strftime("%H:%M:%S") if ticket.called_at else "-"
        self.called.configure(text=tr("cc.called_at", time=called))
        self.recalls.configure(text=tr("cc.recalls", count=ticket.recalls))
        self._set_items(ticket)

    def _set_items(self, ticket: cs.TicketView | None) -> None:
        key = None if ticket is None else (ticket.id, ticket.items)
        if key == self._ticket_key:
            return
        same_ticket = (ticket is not None and self._ticket_key is not None
                       and self._ticket_key[0] == ticket.id)
        previous = {k: v.get() for k, v in self.item_vars.items()} if same_ticket else {}
        self._ticket_key = key
        for child in self.items_frame.winfo_children():
            child.destroy()
        self.item_vars.clear()
        self.item_checks.clear()
        if ticket is None:
            return
        for index, item in enumerate(ticket.items):
            pending = item.state == "pending" and item.here
            # A pending matter starts ticked: most visits get everything done, and the
            # clerk unticks what was not (the confirm dialog then says what happens).
            var = tk.BooleanVar(self, previous.get(item.service, True) if pending
                                else item.state == "done")
            text = f"{item.name}（{item.service}）" if language() == "zh" else \
                f"{item.name} ({item.service})"
            if not pending:
                state = item.state if item.state != "pending" else "elsewhere"
                text += f" · {tr(f'cc.item.{state}')}"
            check = ttk.Checkbutton(self.items_frame, text=text, variable=var,
                                    style="Caller.TCheckbutton")
            if not pending:
                check.state(["disabled"])
            check.grid(row=index, column=0, sticky="w")
            self.item_vars[item.service] = var
            self.item_checks[item.service] = check

    def outcome(self) -> dict[str, bool]:
        """service -> done? for the matters still pending on the current ticket."""
        return {code: var.get() for code, var in self.item_vars.items()
                if "disabled" not in self.item_checks[code].state()}


class TicketList(ttk.Frame):
    """A titled Treeview of tickets (waiting or parked) with one action button."""

    def __init__(self, master: tk.Misc, title: str, button_text: str,
                 on_pick: Callable[[int], None], height: int = 6,
                 fonts: Fonts | None = None) -> None:
        super().__init__(master)
        ttk.Label(self, text=title, style="Caller.Head.TLabel").grid(row=0, column=0, sticky="w")
        self.button = ttk.Button(self, text=button_text, style="Caller.Small.TButton",
                                 command=self._pick_selected)
        self.button.grid(row=0, column=1, sticky="e")
        columns = ("number", "kind", "waited", "matters")
        self.tree = ttk.Treeview(self, columns=columns, show="headings", height=height,
                                 selectmode="browse", style="Caller.Treeview")
        widths = {"number": 70, "kind": 80, "waited": self._waited_width(fonts),
                  "matters": 230}
        for col in columns:
            self.tree.heading(col, text=tr(f"cc.col.{col}"))
            self.tree.column(col, width=widths[col], stretch=col == "matters", anchor="w")
        self.tree.column("waited", minwidth=widths["waited"])
        self.tree.grid(row=1, column=0, columnspan=2, sticky="nsew")
        self.tree.bind("<Double-1>", lambda _e: self._pick_selected())
        self.tree.bind("<Return>", lambda _e: self._pick_selected())
        self.columnconfigure(0, weight=1)
        self.rowconfigure(1, weight=1)
        self._on_pick = on_pick
        self._rows: tuple[tuple[str, ...], ...] = ()
        self.enabled = False
        self._font = fonts.small if fonts is not None else None

    @staticmethod
    def _waited_width(fonts: Fonts | None) -> int:
        """Wide enough for "999 小时 59 分": a ticket left waiting for days (a clock set
        wrong, a day not closed) still reads whole, and the column never shrinks under it."""
        if fonts is None:
            return 70
        return max(70, fonts.small.measure(minutes_text(999 * 3600 + 59 * 60)) + 12)

    def render(self, tickets: tuple[cs.TicketView, ...], settings: Mapping[str, Any],
               now: dt.datetime, enabled: bool) -> None:
        rows = tuple(
            (str(t.id), t.number, ticket_kind_text(t, settings),
             minutes_text(t.waited_seconds(now)), self._matters(t))
            for t in tickets)
        if rows != self._rows:
            self._update_rows(rows)
            self._rows = rows
        self.enabled = enabled and bool(rows)
        self.button.state(["!disabled"] if self.enabled else ["disabled"])

    def _matters(self, ticket: cs.TicketView) -> str:
        """The pending matters' names, or their codes when the names would not fit the
        column (long English names): a clerk reads RS01 as well as its name."""
        pending = [i for i in ticket.items if i.state == "pending"]
        sep = "、" if language() == "zh" else ", "
        names = sep.join(i.name for i in pending)
        room = int(self.tree.column("matters", "width")) - 8
        if self._font is not None and self._font.measure(names) > room:
            return sep.join(i.service for i in pending)
        return names

    def _update_rows(self, rows: tuple[tuple[str, ...], ...]) -> None:
        """Touch only rows that changed: a call at another window costs one delete, not
        a rebuild of a 200-row list (the press-to-screen time is measured in bench/)."""
        old = {row[0]: row for row in self._rows}
        wanted = [row[0] for row in rows]
        gone = set(old) - set(wanted)
        if gone:
            self.tree.delete(*gone)
        for index, row in enumerate(rows):
            iid = row[0]
            if iid not in old:
                self.tree.insert("", index, iid=iid, values=row[1:])
            elif old[iid] != row:
                self.tree.item(iid, values=row[1:])
        if [r[0] for r in self._rows if r[0] not in gone] != wanted:
            for index, iid in enumerate(wanted):  # order changed (a requeue): re-place
                self.tree.move(iid, "", index)

    def select(self, ticket_id: int) -> None:
        if self.tree.exists(str(ticket_id)):
            self.tree.selection_set(str(ticket_id))
            self.tree.see(str(ticket_id))

    def _pick_selected(self) -> None:
        chosen = self.tree.selection()
        if self.enabled and chosen:
            self._on_pick(int(chosen[0]))


class WaitingCounts(ttk.Frame):
    """How many wait for this window's matters: in total and per matter."""

    def __init__(self, master: tk.Misc, fonts: Fonts) -> None:
        super().__init__(master)
        self.total = ttk.Label(self, text="", style="Caller.Head.TLabel")
        self.total.grid(row=0, column=0, sticky="w")
        ttk.Label(self, text=tr("cc.by_service"), style="Caller.Muted.TLabel").grid(
            row=1, column=0, sticky="w")
        self.tree = ttk.Treeview(self, columns=("matter", "count"), show="headings", height=4,
                                 style="Caller.Treeview")
        self.tree.heading("matter", text=tr("cc.col.matters"))
        self.tree.heading("count", text=tr("cc.col.count"))
        self.tree.column("matter", width=300, stretch=True)
        self.tree.column("count", width=60, anchor="e", stretch=False)
        self.tree.grid(row=2, column=0, sticky="nsew")
        self.columnconfigure(0, weight=1)
        self._rows: tuple[tuple[str, str, int], ...] = ()

    def render(self, view: cs.CallerView) -> None:
        self.total.configure(text=tr("cc.waiting_total", count=view.waiting_total))
        rows = tuple(r for r in view.waiting_by_service if r[2] > 0) or view.waiting_by_service
        if rows != self._rows:
            self.tree.delete(*self.tree.get_children())
            for code, name, count in rows:
                label = f"{name}（{code}）" if language() == "zh" else f"{name} ({code})"
                self.tree.insert("", "end", iid=code, values=(label, count))
            self._rows = rows
