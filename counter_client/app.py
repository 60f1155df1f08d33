"""counter-client: the clerk's caller, the citizen's rating pad, the supervisor's entry.

    counter-client [--server HOST[:REQ:EV]] [--data DIR] [--device NAME] [--counter N]
                   [--lang zh|en] [--rating-pad] [--supervisor]

The caller: login -> caller window -> logout -> login again. `--rating-pad --counter N`
runs the citizen-facing pad for window N instead (no login: rating needs none).
`--supervisor`, or a supervisor logging in without a window number, opens the
supervisor dashboard (counter_client.supervisor) when it is installed.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import re
import sys
import tkinter as tk
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from counter_client import look
from counter_client import messages as _messages  # noqa: F401  (registers the texts)
from counter_client.caller_window import CallerWindow
from counter_client.login_view import LoginView
from counter_client.prefs import Prefs, load_prefs, save_prefs
from counter_client.rating_pad import RatingPad
from queue_common import i18n, paths
from queue_common.i18n import tr
from queue_common.ports import StaffConnection
from queue_common.protocol import SUPERVISOR_ROLES
from queue_common.tk.stopping import run_until_stopped

APP_CLASS = "CounterClient"  # X11 class: xdotool finds the window by it (not by a CJK title)
GEOMETRY = re.compile(r"(?:(\d{2,5})x(\d{2,5}))?([+-]\d{1,5}[+-]\d{1,5})?")
COMPACT_HEIGHT = 300


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="counter-client",
                                     description="呼叫器 / caller, 评价器 / rating pad")
    parser.add_argument("--server", help="HOST or HOST:REQUEST_PORT:EVENT_PORT")
    parser.add_argument("--data", help="data dir holding config.toml and keys")
    parser.add_argument("--device", default="counter-1", help="device key name")
    parser.add_argument("--counter", type=int, help="window number")
    parser.add_argument("--user", help="user name to fill in on the login form")
    parser.add_argument("--geometry", help="WxH+X+Y: where the window goes; a height "
                        f"under {COMPACT_HEIGHT} starts as the compact bar")
    parser.add_argument("--lang", choices=i18n.LANGS)
    parser.add_argument("--rating-pad", action="store_true", help="citizen rating pad")
    parser.add_argument("--supervisor", action="store_true", help="supervisor dashboard")
    parser.add_argument("--fullscreen", action="store_true",
                        help="the rating pad fills its panel (a touch screen facing the citizen)")
    args = parser.parse_args(argv)
    if args.geometry and not GEOMETRY.fullmatch(args.geometry):
        parser.error("--geometry must look like 800x200+0+0 or +0+0")
    if args.rating_pad and not args.counter:
        parser.error("--rating-pad needs --counter N")
    if args.counter is not None and args.counter <= 0:
        parser.error("--counter must be a positive window number")
    return args


def pad_size(args: argparse.Namespace, root: tk.Misc) -> tuple[int, int]:
    """The rating pad's panel: the screen (--fullscreen), --geometry's size, or 1024x600."""
    if args.fullscreen:
        return root.winfo_screenwidth(), root.winfo_screenheight()
    match = GEOMETRY.fullmatch(args.geometry or "")
    if match and match.group(1):
        return int(match.group(1)), int(match.group(2))
    return 1024, 600


def supervisor_available() -> bool:
    try:
        return importlib.util.find_spec("counter_client.supervisor") is not None
    except ModuleNotFoundError:
        return False


def open_supervisor(root: tk.Misc, connection: StaffConnection) -> Any:
    """counter_client.supervisor.open_dashboard(root, connection) if it is installed."""
    module = importlib.import_module("counter_client.supervisor")
    return module.open_dashboard(root, connection)


class CounterApp:
    """Login -> caller (or dashboard) -> logout, for one counter PC."""

    def __init__(self, root: tk.Tk, connection: StaffConnection, *, data: Path,
                 device: str, counter: int | None = None, supervisor: bool = False,
                 user: str | None = None, geometry: str | None = None,
                 auto_password: str | None = None,
                 fonts: look.Fonts | None = None,
                 on_quit: Callable[[], None] | None = None) -> None:
        self.root = root
        self.connection = connection
        self.data = data
        self.device = device
        self.counter_fixed = counter
        self.supervisor_mode = supervisor
        self.fonts = fonts or look.make_fonts(root)
        look.apply_styles(root, self.fonts)
        root.configure(bg=look.DESK_BG)
        self.prefs: Prefs = load_prefs(data, device)
        if user:
            self.prefs.user = user
        match = GEOMETRY.fullmatch(geometry or "")
        if match and match.group(3):
            self.prefs.position = match.group(3)  # this start's place wins over memory
        if match and match.group(2):
            self.prefs.expanded = int(match.group(2)) >= COMPACT_HEIGHT
        if self.prefs.position:
            root.geometry(self.prefs.position)
        self.login: LoginView | None = None
        self.caller: CallerWindow | None = None
        self.rating_window: tk.Toplevel | None = None
        self.dashboard: Any = None
        self._on_quit = on_quit or root.destroy
        root.protocol("WM_DELETE_WINDOW", self.close)
        self.show_login()
        if auto_password and user:
            self._auto_login(auto_password, attempts=120)

    def _auto_login(self, password: str, attempts: int) -> None:
        """Demo halls log their clerks in by themselves once the server answers.

        The password comes from $QUEUE_PASSWORD (never from the command line, where
        other users of the PC could read it); a real window always shows the form.
        """
        login = self.login
        if login is None or attempts <= 0:
            return
        if not self.connection.online:
            self.root.after(500, self._auto_login, password, attempts - 1)
            return
        login.password.delete(0, "end")
        login.password.insert(0, password)
        login.submit()

    def show_login(self) -> None:
        self.login = LoginView(self.root, self.connection, self.fonts, self.prefs,
                               self._logged_in, self._quit, counter_fixed=self.counter_fixed,
                               supervisor=self.supervisor_mode)
        self.root.title(self.login.title)

    def _logged_in(self, result: dict[str, Any], counter: int | None) -> None:
        found = result.get("staff")
        staff: dict[str, Any] = found if isinstance(found, dict) else {}
        bound = result.get("counter") if isinstance(result.get("counter"), int) else counter
        self.prefs.user = str(staff.get("user") or self.prefs.user)
        if bound is not None:
            self.prefs.counter = bound
        save_prefs(self.data, self.device, self.prefs)
        if self.login is not None:
            self.login.destroy()
            self.login = None
        wants_dashboard = self.supervisor_mode or (
            staff.get("role") in SUPERVISOR_ROLES and bound is None)
        if wants_dashboard and supervisor_available():
            self.dashboard = open_supervisor(self.root, self.connection)
            return
        if bound is None:
            self.show_login()
            if self.login is not None:
                self.login.status.configure(text=tr("cc.login.need_counter")
                                            if not wants_dashboard
                                            else tr("cc.supervisor.missing"))
            return
        self.root.title(tr("cc.title", counter=tr("cc.counter_name", number=bound)))
        extra: list[tuple[str, Callable[[], None]]] = [
            (tr("cc.act.rating_pad"), lambda: self.open_rating_pad(bound))]
        if staff.get("role") in SUPERVISOR_ROLES and supervisor_available():
            extra.append((tr("cc.act.dashboard"),
                          lambda: open_supervisor(self.root, self.connection)))
        self.caller = CallerWindow(self.root, self.connection, counter=bound, staff=staff,
                                   fonts=self.fonts, expanded=self.prefs.expanded,
                                   on_logout=self._logged_out,
                                   on_size_change=self._size_changed, extra_buttons=extra)
        self.caller.my_day.set_baseline(result.get("today"))
        if self.prefs.position:
            self.root.geometry(self.prefs.position)  # where the clerk left it last time

    def _size_changed(self, expanded: bool) -> None:
        if self.prefs.expanded != expanded:
            self.prefs.expanded = expanded
            save_prefs(self.data, self.device, self.prefs)

    def remember_position(self) -> None:
        """Keep where the clerk put the caller (restored at the next login)."""
        if self.root.winfo_viewable():
            self.prefs.position = f"+{self.root.winfo_x()}+{self.root.winfo_y()}"
            save_prefs(self.data, self.device, self.prefs)

    def _logged_out(self) -> None:
        self.remember_position()
        reason = self.caller.leave_reason if self.caller is not None else ""
        self.caller = None
        if self.rating_window is not None:
            self.rating_window.destroy()
            self.rating_window = None
        self.show_login()
        if reason and self.login is not None:
            self.login.status.configure(text=reason, style="Caller.Error.TLabel")

    def open_rating_pad(self, counter: int) -> None:
        """The pad as a second window of the caller (drag it to the citizen's screen)."""
        if self.rating_window is not None and self.rating_window.winfo_exists():
            self.rating_window.lift()
            return
        window = tk.Toplevel(self.root)
        window.title(tr("rp.title", counter=tr("cc.counter_name", number=counter)))
        window.geometry("1024x600")
        RatingPad(window, self.connection, counter, size=(1024, 600))
        self.rating_window = window

    def close(self) -> None:
        """Window closed: with a ticket at the window, ask first; then log out and quit."""
        if self.caller is not None:
            caller = self.caller

            def logout_then_quit() -> None:
                caller.on_logout = self._quit
                caller._do_logout()

            caller.request_logout(then=logout_then_quit)
        else:
            self._quit()

    def _quit(self) -> None:
        if self.caller is not None:
            self.remember_position()
        self._on_quit()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    i18n.set_language(args.lang)
    data = paths.data_dir(args.data)
    from queue_common.connection import Connection

    try:
        connection = Connection.from_data_dir(data, args.device, args.server)
    except (OSError, ValueError) as exc:
        # No key, a damaged key or a bad --server: say which, in both languages.
        print(tr("cc.start_failed", device=args.device, data=data, error=exc), file=sys.stderr)
        return 2
    root = tk.Tk(className=APP_CLASS)
    connection.attach_tk(root, interval_ms=10)  # a reply is on screen within ~10 ms
    connection.start()
    try:
        if args.rating_pad:
            root.configure(bg=look.DESK_BG)
            root.title(tr("rp.title", counter=tr("cc.counter_name", number=args.counter)))
            size = pad_size(args, root)
            if args.fullscreen:
                root.attributes("-fullscreen", True)
                root.configure(cursor="none")  # a touch panel: no mouse pointer
            root.geometry(args.geometry or f"{size[0]}x{size[1]}+0+0")
            RatingPad(root, connection, args.counter, size=size)
        else:
            CounterApp(root, connection, data=data, device=args.device, counter=args.counter,
                       supervisor=args.supervisor, user=args.user, geometry=args.geometry,
                     auto_password=os.environ.get("QUEUE_PASSWORD") if args.user else None)
        run_until_stopped(root)
    finally:
        connection.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
