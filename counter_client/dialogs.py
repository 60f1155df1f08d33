"""The caller's small dialogs: confirm, choose one, transfer.

None of them runs a nested event loop (no wait_window): each reports through a callback,
so events, replies and the offline banner keep flowing while a dialog is open, and tests
drive them like any widget (`dialog.buttons[key].invoke()`).
"""

from __future__ import annotations

import contextlib
import functools
import tkinter as tk
from collections.abc import Callable, Mapping, Sequence
from tkinter import ttk
from typing import Any

from counter_client import caller_state as cs
from counter_client import messages as _messages  # noqa: F401  (registers the texts)
from counter_client.look import Fonts
from queue_common.hall_view import service_names
from queue_common.i18n import tr


class Dialog(tk.Toplevel):
    """A transient window above the caller; Escape cancels, Enter takes the default."""

    def __init__(self, parent: tk.Misc, title: str, fonts: Fonts,
                 on_cancel: Callable[[], None] | None = None) -> None:
        super().__init__(parent)
        self.withdraw()
        self.title(title)
        self.fonts = fonts
        self.resizable(False, False)
        self.transient(parent.winfo_toplevel())
        self.attributes("-topmost", True)
        self.buttons: dict[str, ttk.Button] = {}
        self._on_cancel = on_cancel
        self.body = ttk.Frame(self, padding=16)
        self.body.pack(fill="both", expand=True)
        self.protocol("WM_DELETE_WINDOW", self.cancel)
        self.bind("<Escape>", lambda _e: self.cancel())

    def show(self) -> None:
        self.update_idletasks()
        parent = self.master.winfo_toplevel()
        x = parent.winfo_rootx() + 40
        y = parent.winfo_rooty() + 40
        self.geometry(f"+{max(0, x)}+{max(0, y)}")
        self.deiconify()
        self.lift()
        self.focus_force()
        # Not viewable yet under some window managers: the dialog works without a grab.
        with contextlib.suppress(tk.TclError):
            self.grab_set()

    def cancel(self) -> None:
        callback, self._on_cancel = self._on_cancel, None
        self.close()
        if callback is not None:
            callback()

    def close(self) -> None:
        with contextlib.suppress(tk.TclError):
            self.grab_release()
            # The clerk's next F-key must reach the caller at once, not a window
            # manager's idea of where focus goes after a dialog.
            self.master.winfo_toplevel().focus_force()
            self.destroy()
        # Drop Tk variables now, on the Tk thread: left in the widget cycle, the garbage
        # collector may free them on the connection's I/O thread, where Tcl refuses.
        for name, value in list(vars(self).items()):
            if isinstance(value, tk.Variable):
                delattr(self, name)

    def add_button(self, row: ttk.Frame, key: str, text: str,
                   command: Callable[[], None], default: bool = False) -> ttk.Button:
        button = ttk.Button(row, text=text, command=command, style="Caller.Action.TButton")
        button.pack(side="left", padx=6)
        self.buttons[key] = button
        if default:
            button.focus_set()
            self.bind("<Return>", lambda _e: button.invoke())
        return button


class ConfirmDialog(Dialog):
    """Yes/no for destructive or consequential actions (no-show, partial completion).

    `default` is what Enter does. For 过号 it is the action itself: the clerk pressed F5
    knowing the citizen did not come, and a caller must work from the keyboard (F5,
    Enter); Escape still cancels. Where Enter could lose work (closing the window with
    citizens waiting, a partial completion) the safe answer stays the default.
    """

    def __init__(self, parent: tk.Misc, fonts: Fonts, message: str,
                 on_ok: Callable[[], None], ok_text: str | None = None,
                 on_cancel: Callable[[], None] | None = None,
                 default: str = "cancel") -> None:
        super().__init__(parent, tr("cc.confirm.title"), fonts, on_cancel)
        self.message = message
        self.default = default
        ttk.Label(self.body, text=message, wraplength=520, justify="left",
                  font=fonts.base).pack(anchor="w", pady=(0, 14))
        row = ttk.Frame(self.body)
        row.pack(anchor="e")
        self._on_ok = on_ok
        self.add_button(row, "cancel", tr("cc.cancel"), self.cancel)
        self.add_button(row, "ok", ok_text or tr("cc.ok"), self.ok)
        chosen = self.buttons["ok" if default == "ok" else "cancel"]
        self.bind("<Return>", lambda _e: chosen.invoke())
        self.bind("<KP_Enter>", lambda _e: chosen.invoke())
        chosen.focus_set()
        self.show()

    def ok(self) -> None:
        self._on_cancel = None
        self.close()
        self._on_ok()


class ChoiceDialog(Dialog):
    """One button per choice (pause reason, what to do with an open ticket)."""

    def __init__(self, parent: tk.Misc, fonts: Fonts, title: str, message: str,
                 choices: Sequence[tuple[str, str]], on_choice: Callable[[str], None],
                 on_cancel: Callable[[], None] | None = None, vertical: bool = False) -> None:
        super().__init__(parent, title, fonts, on_cancel)
        self.message = message
        ttk.Label(self.body, text=message, wraplength=520, justify="left").pack(
            anchor="w", pady=(0, 12))
        row = ttk.Frame(self.body)
        row.pack(fill="x")
        self._on_choice = on_choice
        for key, text in choices:
            button = self.add_button(row, key, text, functools.partial(self.choose, key))
            if vertical:
                button.pack_configure(side="top", fill="x", pady=3)
        cancel_row = ttk.Frame(self.body)
        cancel_row.pack(anchor="e", pady=(12, 0))
        self.add_button(cancel_row, "cancel", tr("cc.cancel"), self.cancel)
        self.show()

    def choose(self, key: str) -> None:
        self._on_cancel = None
        self.close()
        self._on_choice(key)


class TransferDialog(Dialog):
    """Transfer to a matter queue, or to an open window that handles the matter."""

    def __init__(self, parent: tk.Misc, fonts: Fonts, number: str,
                 state: Mapping[str, Any], own_counter: int, preselect: str | None,
                 on_submit: Callable[[dict[str, Any]], None]) -> None:
        super().__init__(parent, tr("cc.transfer.title", number=number), fonts)
        self._state = state
        self._own = own_counter
        self._on_submit = on_submit
        services = [s for s in state.get("services") or [] if isinstance(s, dict)]
        self.service_codes = [str(s.get("code")) for s in services]
        names = service_names(state)
        labels = [f"{code}  {names.get(code, code)}" for code in self.service_codes]
        self.mode = tk.StringVar(self, "service")
        ttk.Label(self.body, text=tr("cc.transfer.service")).grid(row=0, column=0, sticky="w")
        self.service_list = tk.Listbox(self.body, height=min(10, max(4, len(labels))),
                                       width=28, exportselection=False, font=fonts.base)
        for label in labels:
            self.service_list.insert("end", label)
        self.service_list.grid(row=1, column=0, rowspan=3, sticky="nsew", padx=(0, 12))
        self.service_list.bind("<<ListboxSelect>>", lambda _e: self._refresh_counters())
        ttk.Radiobutton(self.body, text=tr("cc.transfer.to_service"), value="service",
                        style="Caller.TRadiobutton",
                        variable=self.mode).grid(row=1, column=1, sticky="w")
        ttk.Radiobutton(self.body, text=tr("cc.transfer.to_counter"), value="counter",
                        style="Caller.TRadiobutton",
                        variable=self.mode).grid(row=2, column=1, sticky="nw")
        self.counter_list = tk.Listbox(self.body, height=6, width=22, exportselection=False,
                                       font=fonts.base)
        self.counter_list.grid(row=3, column=1, sticky="nsew")
        self.counter_list.bind("<<ListboxSelect>>", lambda _e: self.mode.set("counter"))
        self.counter_numbers: list[int] = []
        self.empty_label = ttk.Label(self.body, text="", style="Caller.Muted.TLabel")
        self.empty_label.grid(row=4, column=1, sticky="w")
        ttk.Label(self.body, text=tr("cc.transfer.hint"), style="Caller.Info.TLabel").grid(
            row=5, column=0, columnspan=2, sticky="w", pady=(10, 0))
        row = ttk.Frame(self.body)
        row.grid(row=6, column=0, columnspan=2, sticky="e", pady=(12, 0))
        self.add_button(row, "cancel", tr("cc.cancel"), self.cancel)
        self.add_button(row, "ok", tr("cc.ok"), self.submit, default=True)
        if preselect in self.service_codes:
            self.select_service(preselect)
        self.show()

    @staticmethod
    def _selection(listbox: tk.Listbox) -> tuple[int, ...]:
        return tuple(int(i) for i in listbox.curselection())  # type: ignore[no-untyped-call]

    def select_service(self, code: str | None) -> None:
        self.service_list.selection_clear(0, "end")
        if code in self.service_codes:
            index = self.service_codes.index(code)
            self.service_list.selection_set(index)
            self.service_list.see(index)
        self._refresh_counters()

    def selected_service(self) -> str | None:
        chosen = self._selection(self.service_list)
        return self.service_codes[chosen[0]] if chosen else None

    def select_counter(self, number: int) -> None:
        if number in self.counter_numbers:
            self.counter_list.selection_clear(0, "end")
            self.counter_list.selection_set(self.counter_numbers.index(number))
            self.mode.set("counter")

    def _refresh_counters(self) -> None:
        counters = cs.open_counters_for(self._state, self.selected_service(), self._own)
        self.counter_list.delete(0, "end")
        self.counter_numbers = [int(c["number"]) for c in counters]
        for counter in counters:
            state = tr(f"cc.state.{counter.get('state', 'unknown')}")
            self.counter_list.insert("end", f"{counter.get('name') or counter['number']}  {state}")
        self.empty_label.configure(
            text="" if counters else tr("cc.transfer.no_counter"))

    def submit(self) -> None:
        service = self.selected_service()
        if self.mode.get() == "counter":
            chosen = self._selection(self.counter_list)
            if not chosen:
                self.counter_list.focus_set()
                return
            target: dict[str, Any] = {"counter": self.counter_numbers[chosen[0]]}
            if service is not None:
                target["service"] = service
        else:
            if service is None:
                self.service_list.focus_set()
                return
            target = {"service": service}
        self.close()
        self._on_submit(target)


class CompleteDialog(Dialog):
    """办结 from the compact bar: which of the ticket's matters are done (all ticked).

    The expanded view has tick boxes beside the ticket; the compact bar has none, so
    F4 there asks here instead of completing every matter. Enter completes as ticked.
    """

    def __init__(self, parent: tk.Misc, fonts: Fonts, number: str,
                 matters: Sequence[tuple[str, str]],
                 on_done: Callable[[dict[str, bool]], None]) -> None:
        super().__init__(parent, tr("cc.complete.title", number=number), fonts)
        self._on_done = on_done
        ttk.Label(self.body, text=tr("cc.complete.ask"), font=fonts.bold).pack(
            anchor="w", pady=(0, 8))
        self.vars: dict[str, tk.BooleanVar] = {}
        self.checks: dict[str, ttk.Checkbutton] = {}
        for code, name in matters:
            var = tk.BooleanVar(self, True)
            check = ttk.Checkbutton(self.body, text=name, variable=var,
                                    style="Caller.TCheckbutton")
            check.pack(anchor="w", pady=2)
            self.vars[code] = var
            self.checks[code] = check
        ttk.Label(self.body, text=tr("cc.complete.rest"), style="Caller.Muted.TLabel",
                  wraplength=480, justify="left").pack(anchor="w", pady=(8, 12))
        row = ttk.Frame(self.body)
        row.pack(anchor="e")
        self.add_button(row, "cancel", tr("cc.cancel"), self.cancel)
        self.add_button(row, "ok", tr("cc.complete.ok"), self.done, default=True)
        self.bind("<KP_Enter>", lambda _e: self.buttons["ok"].invoke())
        self.show()

    def done(self) -> None:
        outcome = {code: var.get() for code, var in self.vars.items()}
        self.close()
        self._on_done(outcome)

    def close(self) -> None:
        super().close()
        self.vars.clear()  # Tk variables go on the Tk thread (see Dialog.close)
