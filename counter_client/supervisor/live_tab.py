"""Live tab: queues by matter, window states, waiting tickets, alerts, and actions.

Renders counter_client.supervisor.live_model's view of the mirror; every action is one
request through the connection (open / close a window, change its matters, move or
cancel a waiting ticket), and its effect arrives back as an event like on every screen.
"""

from __future__ import annotations

import datetime as dt
import tkinter as tk
from collections.abc import Callable, Sequence
from tkinter import ttk
from typing import Any

from counter_client import look
from counter_client.supervisor import live_model as lm
from counter_client.supervisor.dialogs import (
    ChoiceDialog,
    ConfirmDialog,
    ReasonDialog,
    ServicesDialog,
    ThrottleDialog,
)
from queue_common.durations import clock_text
from queue_common.hall_view import service_names
from queue_common.i18n import tr
from queue_common.ports import ClientConnection
from queue_common.tk.listening import listen_while_alive

ALERT_BG, ALERT_FG = look.ALERT_BG, look.ALERT_FG
Clock = Callable[[], dt.datetime]


def _bar(parent: tk.Misc) -> ttk.Frame:
    """A row of buttons under a table, packed first so a short window never hides it."""
    bar = ttk.Frame(parent)
    bar.pack(side="bottom", fill="x", pady=(4, 0))
    return bar


def _tree(parent: tk.Misc, columns: Sequence[tuple[str, str, int]], height: int
          ) -> ttk.Treeview:
    frame = ttk.Frame(parent)
    tree = ttk.Treeview(frame, columns=[c for c, _, _ in columns], show="headings",
                        height=height, selectmode="browse", style="Dash.Treeview")
    for col, key, width in columns:
        tree.heading(col, text=tr(key))
        tree.column(col, width=width, anchor="w" if width > 120 else "center",
                    stretch=width > 120)
    bar = ttk.Scrollbar(frame, orient="vertical", command=tree.yview)
    tree.configure(yscrollcommand=bar.set)
    tree.pack(side="left", fill="both", expand=True)
    bar.pack(side="right", fill="y")
    tree.tag_configure("alert", background=ALERT_BG, foreground=ALERT_FG)
    tree.tag_configure("closed", foreground=look.CLOSED_FG)
    frame.pack(fill="both", expand=True)
    return tree


def sync_rows(tree: ttk.Treeview, rows: list[tuple[str, tuple[Any, ...], tuple[str, ...]]]
              ) -> None:
    """Make the tree show rows (iid, values, tags) in order, keeping the selection."""
    wanted = {iid for iid, _, _ in rows}
    for iid in tree.get_children():
        if iid not in wanted:
            tree.delete(iid)
    for index, (iid, values, tags) in enumerate(rows):
        if tree.exists(iid):
            tree.item(iid, values=values, tags=tags)
            if tree.index(iid) != index:
                tree.move(iid, "", index)
        else:
            tree.insert("", index, iid=iid, values=values, tags=tags)


class LiveTab(ttk.Frame):
    def __init__(self, parent: tk.Misc, connection: ClientConnection, *,
                 clock: Clock, status: Callable[[str, bool], None]) -> None:
        super().__init__(parent, padding=8)
        self.connection = connection
        self.clock = clock
        self.status = status
        self.devices: dict[str, dict[str, Any]] = {}
        self.view = lm.LiveView()
        self._refresh_pending = False

        self.summary = ttk.Label(self, style="Dash.Summary.TLabel")
        self.summary.pack(fill="x", pady=(0, 6))
        panes = ttk.Panedwindow(self, orient="vertical")
        panes.pack(fill="both", expand=True)
        top = ttk.Frame(panes)
        bottom = ttk.Frame(panes)
        panes.add(top, weight=3)
        panes.add(bottom, weight=2)

        left = ttk.Labelframe(top, text=tr("sv.matters"), padding=4, style="Dash.TLabelframe")
        left.pack(side="left", fill="both", expand=True, padx=(0, 6))
        self.matters = _tree(left, [("matter", "sv.col.matter", 200),
                                    ("waiting", "sv.col.waiting", 90),
                                    ("longest", "sv.col.longest", 100),
                                    ("estimate", "sv.col.estimate", 130),
                                    ("windows", "sv.col.windows", 115)], 10)
        right = ttk.Labelframe(top, text=tr("sv.windows"), padding=4, style="Dash.TLabelframe")
        right.pack(side="left", fill="both", expand=True)
        wbar = _bar(right)
        self.windows = _tree(right, [("window", "sv.col.window", 110),
                                     ("state", "sv.col.state", 80),
                                     ("clerk", "sv.col.clerk", 80),
                                     ("detail", "sv.col.detail", 160),
                                     ("since", "sv.col.since", 80)], 10)
        self.open_button = ttk.Button(wbar, text=tr("sv.act.open"), command=self.open_window)
        self.close_button = ttk.Button(wbar, text=tr("sv.act.close"),
                                       command=self.close_window)
        self.services_button = ttk.Button(wbar, text=tr("sv.act.services"),
                                          command=self.change_services)
        for b in (self.open_button, self.close_button, self.services_button):
            b.pack(side="left", padx=(0, 6))

        tickets = ttk.Labelframe(bottom, text=tr("sv.tickets"), padding=4, style="Dash.TLabelframe")
        tickets.pack(side="left", fill="both", expand=True, padx=(0, 6))
        tbar = _bar(tickets)
        self.tickets = _tree(tickets, [("number", "sv.col.number", 80),
                                       ("kind", "sv.col.kind", 70),
                                       ("matters", "sv.col.matter", 260),
                                       ("waited", "sv.col.waited", 90)], 6)
        self.move_button = ttk.Button(tbar, text=tr("sv.act.move"), command=self.move_ticket)
        self.cancel_button = ttk.Button(tbar, text=tr("sv.act.cancel"),
                                        command=self.cancel_ticket)
        self.move_button.pack(side="left", padx=(0, 6))
        self.cancel_button.pack(side="left")

        alerts = ttk.Labelframe(bottom, text=tr("sv.alerts"), padding=4,
                                style="Dash.TLabelframe")
        alerts.pack(side="left", fill="both", expand=True)
        abar = _bar(alerts)
        self.throttle_button = ttk.Button(abar, text=tr("sv.act.throttle"),
                                          command=self.clear_throttle)
        self.throttle_button.pack(side="left")
        self.close_day_button = ttk.Button(abar, text=tr("sv.act.close_day"),
                                           command=self.close_day)
        self.close_day_button.pack(side="left", padx=(6, 0))
        self.alerts = tk.Listbox(alerts, height=7, activestyle="none", borderwidth=0,
                                 highlightthickness=0,
                                 font=str(ttk.Style(self).lookup("Dash.Treeview", "font")
                                          or "TkDefaultFont"))
        self.alerts.pack(fill="both", expand=True)

        listen_while_alive(self, connection, self._on_event)
        self._tick_id: str | None = None
        self.bind("<Destroy>", self._stop_ticking, add="+")
        self.refresh()
        self._tick()

    # -- rendering --------------------------------------------------------------------
    def _on_event(self, type_: str, data: dict[str, Any]) -> None:
        if type_ == "device.status" and isinstance(data.get("device"), dict):
            dev = data["device"]
            self.devices[str(dev.get("name"))] = dev
        elif type_ == "resync":
            self.devices.update(data.get("devices") or {})
        if not self._refresh_pending and self.winfo_exists():
            self._refresh_pending = True
            self.after_idle(self.refresh)

    def _tick(self) -> None:
        """Waits and pause durations grow by themselves: redraw every second."""
        self.refresh()
        self._tick_id = self.after(1000, self._tick)

    def _stop_ticking(self, event: tk.Event[Any]) -> None:
        if event.widget is self and self._tick_id is not None:
            self.after_cancel(self._tick_id)
            self._tick_id = None

    def refresh(self) -> None:
        self._refresh_pending = False
        state = self.connection.mirror.state
        if not self.devices and isinstance(state.get("devices"), dict):
            self.devices.update(state["devices"])
        self.view = view = lm.live_view(state, self.clock(), self.devices)
        names = service_names(state)
        self.summary.configure(text=tr("sv.summary", waiting=view.waiting_total,
                                       open=view.open_windows, alerts=len(view.alerts)))
        sync_rows(self.matters, [
            (m.code, (m.name, m.waiting, clock_text(m.longest_s),
                      clock_text(m.estimate_s), m.windows),
             ("alert",) if m.alert else ()) for m in view.matters])
        sync_rows(self.windows, [
            (str(w.number), (w.name, tr(f"sv.state.{w.state}"), w.clerk, self._detail(w),
                             clock_text(w.since_s)),
             ("alert",) if w.alert else (("closed",) if w.state == "closed" else ()))
            for w in view.windows])
        sync_rows(self.tickets, [
            (str(t.ticket_id), (t.number, tr("sv.kind.kept", kind=tr(f"sv.kind.{t.kind}"))
                                if t.kept else tr(f"sv.kind.{t.kind}"),
                                "、".join(names.get(c, c) for c in t.services),
                                clock_text(t.waited_s)), ())
            for t in view.waiting])
        self.alerts.delete(0, "end")
        if not view.alerts:
            self.alerts.insert("end", tr("sv.alerts.none"))
            self.alerts.itemconfigure(0, foreground=look.MUTED_FG)
        for n, alert in enumerate(view.alerts):
            self.alerts.insert("end", "⚠ " + self.alert_text(alert))
            self.alerts.itemconfigure(n, foreground=ALERT_FG, background=ALERT_BG)

    @staticmethod
    def alert_text(alert: lm.Alert) -> str:
        params = dict(alert.params)
        if "reason" in params:
            params["reason"] = tr(f"sv.pause.{params['reason']}") if params["reason"] else ""
        return tr(f"sv.alert.{alert.kind}", **params)

    @staticmethod
    def _detail(w: lm.WindowRow) -> str:
        if w.state in ("calling", "serving") and w.ticket:
            return tr(f"sv.detail.{w.state}", number=w.ticket)
        since = tr("sv.detail.since", at=w.since_at) if w.since_at else ""
        if w.state == "paused":
            return tr("sv.detail.paused", reason=tr(f"sv.pause.{w.pause_reason or 'other'}")
                      ) + since
        if w.state == "idle":
            return tr("sv.detail.idle") + since
        return tr(f"sv.detail.{w.state}") if w.state == "closed" else ""

    # -- actions ----------------------------------------------------------------------
    def selected_window(self) -> int | None:
        sel = self.windows.selection()
        if not sel:
            self.status(tr("sv.act.pick_window"), True)
            return None
        return int(sel[0])

    def selected_ticket(self) -> lm.WaitingRow | None:
        sel = self.tickets.selection()
        row = next((t for t in self.view.waiting if sel and str(t.ticket_id) == sel[0]), None)
        if row is None:
            self.status(tr("sv.act.pick_ticket"), True)
        return row

    def send(self, op: str, args: dict[str, Any], what: str) -> str:
        def replied(reply: Any) -> None:
            if reply.ok:
                self.status(tr("sv.act.done", what=what), False)
            else:
                self.status(tr("sv.act.failed", message=reply.error_message or
                               reply.error_code), True)
        return self.connection.request(op, args, callback=replied)

    def open_window(self) -> None:
        number = self.selected_window()
        if number is not None:
            self.send("open_counter", {"counter": number},
                      f"{tr('sv.act.open')} {number}")

    def close_window(self) -> None:
        number = self.selected_window()
        if number is not None:
            self.send("close_counter", {"counter": number},
                      f"{tr('sv.act.close')} {number}")

    def change_services(self) -> ServicesDialog | None:
        number = self.selected_window()
        if number is None:
            return None
        state = self.connection.mirror.state
        counter = (state.get("counters") or {}).get(number) or {}
        names = service_names(state)
        matters = [(s["code"], names.get(s["code"], s["code"])) for s in state.get("services") or []]

        def chosen(codes: list[str]) -> None:
            self.send("counter_services", {"counter": number, "services": codes},
                      f"{tr('sv.act.services')} {number}")

        return ServicesDialog(self, tr("sv.dlg.services", window=counter.get("name", number)),
                              matters, set(counter.get("services") or ()), chosen)

    def move_ticket(self) -> ChoiceDialog | None:
        row = self.selected_ticket()
        if row is None:
            return None
        counters = self.connection.mirror.state.get("counters") or {}
        choices = [(str(n), f"{c.get('name', n)} · {tr('sv.state.' + str(c.get('state')))}")
                   for n, c in sorted(counters.items())]

        def chosen(number: str, reason: str) -> None:
            self.send("transfer", {"ticket_id": row.ticket_id, "counter": int(number),
                                   "note": reason}, f"{tr('sv.act.move')} {row.number}")

        return ChoiceDialog(self, tr("sv.dlg.move", number=row.number), choices, chosen)

    def clear_throttle(self) -> ThrottleDialog:
        """The device of the selected device alert, if any, is filled in."""
        device = ""
        chosen = self.alerts.curselection()
        if chosen and chosen[0] < len(self.view.alerts):
            alert = self.view.alerts[chosen[0]]
            if alert.kind.startswith("device"):
                device = alert.subject

        def given(device: str | None, user: str | None) -> None:
            def replied(reply: Any) -> None:
                if not reply.ok:
                    self.status(tr("sv.act.failed", message=reply.error_message or
                                   reply.error_code), True)
                    return
                cleared = len((reply.result or {}).get("cleared") or [])
                self.status(tr("sv.throttle.cleared", count=cleared) if cleared
                            else tr("sv.throttle.none"), not cleared)
            self.connection.request("clear_throttle", {"device": device, "user": user},
                                    callback=replied)

        return ThrottleDialog(self, device, given)

    def close_day(self) -> ConfirmDialog:
        """End the business day, after saying how many still wait and what becomes of
        them (the hall's [day] carry_over, sent in the snapshot's settings)."""
        state = self.connection.mirror.state
        left = sum(1 for t in (state.get("tickets") or {}).values()
                   if t.get("state") in ("waiting", "parked"))
        settings = (state.get("hall") or {}).get("settings") or {}
        keep = (settings.get("day") or {}).get("carry_over") == "next_opening"
        lines = [tr("sv.dlg.close_day_waiting", n=left),
                 tr("sv.dlg.close_day_keep" if keep else "sv.dlg.close_day_not_served")]

        def confirmed() -> None:
            def replied(reply: Any) -> None:
                if not reply.ok:
                    self.status(tr("sv.act.failed", message=reply.error_message or
                                   reply.error_code), True)
                    return
                result = reply.result or {}
                self.status(tr("sv.close_day.done", not_served=result.get("not_served", 0),
                               carried=result.get("carried", 0)), False)
            self.connection.request("close_day", {}, callback=replied)

        return ConfirmDialog(self, tr("sv.dlg.close_day"), lines, confirmed)

    def cancel_ticket(self) -> ReasonDialog | None:
        row = self.selected_ticket()
        if row is None:
            return None

        def given(reason: str) -> None:
            self.send("cancel_ticket", {"ticket_id": row.ticket_id, "reason": reason},
                      f"{tr('sv.act.cancel')} {row.number}")

        return ReasonDialog(self, tr("sv.dlg.cancel", number=row.number), given)
