"""Supervisor dashboard (值班长看板): live hall and statistics, over the connection.

`open_dashboard(root, connection)` is what counter_client.app calls after a supervisor
logs in (or with --supervisor). It fills `root` when the window is empty, else opens a
second window, and returns the Dashboard.
"""

from __future__ import annotations

import datetime as dt
import tkinter as tk
from tkinter import ttk
from typing import Any

from counter_client import look
from counter_client.supervisor import messages  # noqa: F401  (registers sv.* texts)
from counter_client.supervisor.live_tab import Clock, LiveTab
from counter_client.supervisor.stats_tab import StatsTab
from counter_client.supervisor.whatif_tab import WhatifTab
from queue_common.hall_view import hall_name
from queue_common.i18n import tr
from queue_common.ports import ClientConnection
from queue_common.tk.listening import listen_while_alive


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Dashboard:
    """The live, statistics and 预测 tabs and a status line; the connection delivers on the Tk thread."""

    def __init__(self, window: tk.Tk | tk.Toplevel, connection: ClientConnection, *,
                 clock: Clock = _utc_now) -> None:
        self.window = window
        self.connection = connection
        self._styles(window)
        window.title(tr("sv.title", hall=hall_name(connection.mirror.state)))
        self.frame = ttk.Frame(window)
        self.frame.pack(fill="both", expand=True)
        self.banner = tk.Label(self.frame, text=tr("sv.offline"), bg=look.OFFLINE_BG, fg="white",
                               font=self.fonts["bold"])
        self.status = ttk.Label(self.frame, padding=(8, 2), style="Dash.Status.TLabel")
        self.status.pack(fill="x", side="bottom")
        self.notebook = ttk.Notebook(self.frame, style="Dash.TNotebook")
        self.notebook.pack(fill="both", expand=True)
        self.live = LiveTab(self.notebook, connection, clock=clock, status=self.say)
        self.stats = StatsTab(self.notebook, connection, status=self.say)
        self.notebook.add(self.live, text=tr("sv.tab.live"))
        self.notebook.add(self.stats, text=tr("sv.tab.stats"))
        self.whatif = WhatifTab(self.notebook, connection, status=self.say)
        self.notebook.add(self.whatif, text=tr("sv.tab.whatif"))
        listen_while_alive(self.frame, connection, self._on_event)
        self._show_online(bool(getattr(connection, "online", True)))

    def _styles(self, window: tk.Misc) -> None:
        self.desk_fonts = look.make_fonts(window)
        look.apply_dashboard_styles(window, self.desk_fonts)
        self.fonts = {role: self.desk_fonts.set[role]
                      for role in ("base", "small", "bold", "value")}

    def say(self, text: str, error: bool = False) -> None:
        self.status.configure(text=text, style="Dash.Error.TLabel" if error
                              else "Dash.Status.TLabel")

    def _on_event(self, type_: str, data: dict[str, Any]) -> None:
        if type_ == "connection":
            self._show_online(bool(data.get("online")))
            if data.get("online"):
                self.stats.query_if_pending()
        elif type_ == "resync":
            self.window.title(tr("sv.title", hall=hall_name(self.connection.mirror.state)))

    def _show_online(self, online: bool) -> None:
        if online:
            self.banner.pack_forget()
        else:
            self.banner.pack(fill="x", before=self.notebook)


def open_dashboard(root: tk.Misc, connection: ClientConnection) -> Dashboard:
    """The dashboard in root (when the login form has gone) or in a new window."""
    window: tk.Tk | tk.Toplevel
    if isinstance(root, tk.Tk) and not root.winfo_children():
        window = root
    else:
        window = tk.Toplevel(root)
    window.geometry("1440x900")
    return Dashboard(window, connection)
