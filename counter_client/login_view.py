"""The caller's login form: user, password and window number (remembered per PC).

The server decides at which windows a clerk may log in from this PC and says so in its
`hello` reply (`windows`): when it names one window the form shows that window and does
not let it be changed; when it names none the form says the PC belongs to no window.

The request is asynchronous like every other: the form stays responsive, a second
press while the first is in flight does nothing, and a server that is not there yet
is reported in words while the connection keeps trying.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk
from typing import Any

from counter_client import look
from counter_client import messages as _messages  # noqa: F401  (registers the texts)
from counter_client.look import Fonts
from counter_client.prefs import Prefs
from queue_common.i18n import tr
from queue_common.ports import StaffConnection
from queue_common.tk.listening import listen_while_alive


class LoginView:
    def __init__(self, root: tk.Misc, connection: StaffConnection, fonts: Fonts,
                 prefs: Prefs, on_success: Callable[[dict[str, Any], int | None], None],
                 on_quit: Callable[[], None], counter_fixed: int | None = None,
                 supervisor: bool = False) -> None:
        """supervisor: the dashboard's sign-in, which asks for no window number."""
        self.root = root
        self.connection = connection
        self.on_success = on_success
        self.supervisor = supervisor
        self.busy = False
        self.frame = ttk.Frame(root, padding=24)
        self.frame.pack(fill="both", expand=True)
        self.title = tr("cc.login.supervisor_title" if supervisor else "cc.login.title")
        tk.Label(self.frame, text=self.title, font=fonts.banner, bg=look.DESK_BG,
                 fg=look.NUMBER_FG).grid(row=0, column=0, columnspan=2, pady=(0, 16))
        self.user = ttk.Entry(self.frame, width=22, font=fonts.base)
        self.password = ttk.Entry(self.frame, width=22, show="•", font=fonts.base)
        self.counter = ttk.Entry(self.frame, width=6, font=fonts.base)
        rows = [("cc.login.user", self.user), ("cc.login.password", self.password)]
        if not supervisor:
            rows.append(("cc.login.counter", self.counter))
        for line, (key, entry) in enumerate(rows, start=1):
            ttk.Label(self.frame, text=tr(key)).grid(row=line, column=0, sticky="e", padx=8,
                                                     pady=5)
            entry.grid(row=line, column=1, sticky="w", pady=5)
        if supervisor:
            ttk.Label(self.frame, text=tr("cc.login.supervisor_hint"),
                      style="Caller.Muted.TLabel").grid(row=3, column=0, columnspan=2, pady=5)
        self.user.insert(0, prefs.user)
        counter = counter_fixed if counter_fixed is not None else prefs.counter
        if counter is not None and not supervisor:
            self.counter.insert(0, str(counter))
        row = ttk.Frame(self.frame)
        row.grid(row=4, column=0, columnspan=2, pady=(16, 0))
        self.quit_button = ttk.Button(row, text=tr("cc.login.quit"), command=on_quit)
        self.quit_button.pack(side="left", padx=6)
        self.submit_button = ttk.Button(row, text=tr("cc.login.submit"),
                                        style="Caller.Action.TButton", command=self.submit)
        self.submit_button.pack(side="left", padx=6)
        self.status = ttk.Label(self.frame, text="", style="Caller.Error.TLabel", wraplength=360)
        self.status.grid(row=5, column=0, columnspan=2, pady=(12, 0))
        self.conn_label = ttk.Label(self.frame, text="")
        self.conn_label.grid(row=6, column=0, columnspan=2, pady=(8, 0))
        self.hint = ttk.Label(self.frame, text="", style="Caller.Muted.TLabel", wraplength=360)
        self.hint.grid(row=7, column=0, columnspan=2, pady=(4, 0))
        self.windows: list[int] | None = None  # hello's answer; None until it came
        self._show_connection()
        listen_while_alive(self.frame, connection, self._on_event)
        if not supervisor:
            self._ask_windows()
        for entry in (self.user, self.password, self.counter):
            entry.bind("<Return>", lambda _e: self.submit())
        (self.password if prefs.user else self.user).focus_set()

    def _on_event(self, event_type: str, _data: dict[str, Any]) -> None:
        if event_type in ("connection", "resync"):
            self._show_connection()
            if not self.supervisor and self.windows is None:
                self._ask_windows()

    def _ask_windows(self) -> None:
        def replied(reply: Any) -> None:
            if not self.frame.winfo_exists() or not reply.ok \
                    or not isinstance(reply.result, dict):
                return  # asked again when the connection comes back
            windows = reply.result.get("windows")
            if isinstance(windows, list) and all(isinstance(w, int) for w in windows):
                self._show_windows(windows)

        self.connection.request("hello", {}, callback=replied)

    def _show_windows(self, windows: list[int]) -> None:
        self.windows = windows
        if len(windows) == 1:
            self.counter.state(["!readonly"])
            self.counter.delete(0, "end")
            self.counter.insert(0, str(windows[0]))
            self.counter.state(["readonly"])
            self.hint.configure(text=tr("cc.login.own_window", window=windows[0]))
        elif not windows:
            self.hint.configure(text=tr("cc.login.no_window"))

    def _show_connection(self) -> None:
        online = bool(self.connection.online)
        self.conn_label.configure(text=tr("cc.online") if online else tr("cc.offline"),
                                  style="Caller.Online.TLabel" if online else "Caller.Offline.TLabel")

    def submit(self) -> None:
        if self.busy:
            return
        user = self.user.get().strip()
        password = self.password.get()
        counter_text = "" if self.supervisor else self.counter.get().strip()
        if not user or not password:
            self.status.configure(text=tr("cc.login.need_user"))
            return
        counter: int | None = None
        if counter_text:
            if not counter_text.isdigit() or int(counter_text) <= 0:
                self.status.configure(text=tr("cc.login.need_counter"))
                return
            counter = int(counter_text)
        self.busy = True
        self.submit_button.state(["disabled"])
        self.status.configure(text=tr("cc.login.busy"), style="Caller.Info.TLabel")

        def replied(reply: Any) -> None:
            self.busy = False
            if not self.frame.winfo_exists():
                return
            self.submit_button.state(["!disabled"])
            if reply.ok and isinstance(reply.result, dict):
                self.on_success(reply.result, counter)
                return
            if reply.error_code in ("OFFLINE", "TIMEOUT"):
                text = tr("cc.login.offline")
            else:
                text = reply.error_message or str(reply.error_code)
            self.status.configure(text=text, style="Caller.Error.TLabel")
            self.password.delete(0, "end")
            self.password.focus_set()

        self.connection.login(user, password, counter, replied)

    def destroy(self) -> None:
        self.frame.destroy()
