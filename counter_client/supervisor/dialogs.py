"""Small modal-less dialogs of the dashboard: pick matters, pick a window, give a reason,
name a PC and user whose login wait ends.

Each calls back with the answer and closes; nothing is sent until OK, and a reason is
required where the action is audited (moving or cancelling a citizen's ticket).
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk

from queue_common.i18n import tr


class _Dialog(tk.Toplevel):
    def __init__(self, parent: tk.Misc, title: str) -> None:
        super().__init__(parent)
        self.title(title)
        self.transient(parent.winfo_toplevel())
        self.body = ttk.Frame(self, padding=12)
        self.body.pack(fill="both", expand=True)
        ttk.Label(self.body, text=title, style="Dash.Heading.TLabel").pack(anchor="w", pady=(0, 8))
        self.error = ttk.Label(self.body, style="Dash.Error.TLabel")
        self.bind("<Escape>", lambda _e: self.destroy())

    def buttons(self) -> None:
        self.error.pack(anchor="w")
        bar = ttk.Frame(self.body)
        bar.pack(fill="x", pady=(10, 0))
        self.ok_button = ttk.Button(bar, text=tr("sv.dlg.ok"), command=self.ok)
        self.ok_button.pack(side="right")
        ttk.Button(bar, text=tr("sv.dlg.cancel_btn"),
                   command=self.destroy).pack(side="right", padx=6)

    def ok(self) -> None:
        raise NotImplementedError


class ServicesDialog(_Dialog):
    """Tick the matters a window takes from now on."""

    def __init__(self, parent: tk.Misc, title: str, matters: list[tuple[str, str]],
                 current: set[str], on_ok: Callable[[list[str]], None]) -> None:
        super().__init__(parent, title)
        self.on_ok = on_ok
        self.vars: dict[str, tk.BooleanVar] = {}
        grid = ttk.Frame(self.body)
        grid.pack(fill="both")
        for n, (code, name) in enumerate(matters):
            var = tk.BooleanVar(self, value=code in current)
            self.vars[code] = var
            ttk.Checkbutton(grid, text=f"{name}（{code}）", variable=var).grid(
                row=n // 2, column=n % 2, sticky="w", padx=(0, 16), pady=1)
        self.buttons()

    def set_chosen(self, codes: set[str]) -> None:
        for code, var in self.vars.items():
            var.set(code in codes)

    def ok(self) -> None:
        codes = [code for code, var in self.vars.items() if var.get()]
        self.destroy()
        self.on_ok(codes)


class ChoiceDialog(_Dialog):
    """Pick one of several (e.g. the window to move a ticket to) and give a reason."""

    def __init__(self, parent: tk.Misc, title: str, choices: list[tuple[str, str]],
                 on_ok: Callable[[str, str], None]) -> None:
        super().__init__(parent, title)
        self.on_ok = on_ok
        self.choice = tk.StringVar(self, value=choices[0][0] if choices else "")
        for value, text in choices:
            ttk.Radiobutton(self.body, text=text, value=value,
                            variable=self.choice).pack(anchor="w")
        ttk.Label(self.body, text=tr("sv.dlg.reason")).pack(anchor="w", pady=(8, 0))
        self.reason = ttk.Entry(self.body, width=40)
        self.reason.pack(fill="x")
        self.buttons()

    def ok(self) -> None:
        reason = self.reason.get().strip()
        if not reason:
            self.error.configure(text=tr("sv.dlg.need_reason"))
            return
        value = self.choice.get()
        self.destroy()
        self.on_ok(value, reason)


class ReasonDialog(_Dialog):
    """A required reason (cancelling a citizen's ticket is audited)."""

    def __init__(self, parent: tk.Misc, title: str, on_ok: Callable[[str], None]) -> None:
        super().__init__(parent, title)
        self.on_ok = on_ok
        ttk.Label(self.body, text=tr("sv.dlg.reason")).pack(anchor="w")
        self.reason = ttk.Entry(self.body, width=40)
        self.reason.pack(fill="x")
        self.reason.focus_set()
        self.buttons()

    def ok(self) -> None:
        reason = self.reason.get().strip()
        if not reason:
            self.error.configure(text=tr("sv.dlg.need_reason"))
            return
        self.destroy()
        self.on_ok(reason)


class ConfirmDialog(_Dialog):
    """Say what an action will do, then do it only on OK (ending the business day)."""

    def __init__(self, parent: tk.Misc, title: str, lines: list[str],
                 on_ok: Callable[[], None]) -> None:
        super().__init__(parent, title)
        self.on_ok = on_ok
        self.text = "\n".join(lines)
        ttk.Label(self.body, text=self.text, justify="left", wraplength=520).pack(anchor="w")
        self.buttons()

    def ok(self) -> None:
        self.destroy()
        self.on_ok()


class ThrottleDialog(_Dialog):
    """End the wait a PC is given after wrong passwords: for one user at one PC, every
    user at one PC, or one user at every PC (the server audits it)."""

    def __init__(self, parent: tk.Misc, device: str,
                 on_ok: Callable[[str | None, str | None], None]) -> None:
        super().__init__(parent, tr("sv.dlg.throttle"))
        self.on_ok = on_ok
        ttk.Label(self.body, text=tr("sv.dlg.device")).pack(anchor="w")
        self.device = ttk.Entry(self.body, width=40)
        self.device.insert(0, device)
        self.device.pack(fill="x")
        ttk.Label(self.body, text=tr("sv.dlg.user")).pack(anchor="w", pady=(8, 0))
        self.user = ttk.Entry(self.body, width=40)
        self.user.pack(fill="x")
        self.user.focus_set()
        self.buttons()

    def ok(self) -> None:
        device, user = self.device.get().strip() or None, self.user.get().strip() or None
        if device is None and user is None:
            self.error.configure(text=tr("sv.dlg.need_device_or_user"))
            return
        self.destroy()
        self.on_ok(device, user)
