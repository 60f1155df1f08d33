"""One hall app (board, kiosk or caller) as its own process, driven over stdin/stdout.

    python -m tests.e2e.app_driver counter --data D --server H:R:E --display :5 \
        --device counter-1 --counter 1 --user clerk1      # QUEUE_PASSWORD in the env

The app is the real one (BoardApp, Kiosk, CounterApp with its own auto-login, as
`queue-server demo` starts it) on the real Tk loop; the test is the person in front
of it. Each stdin line is a JSON command, answered by one JSON line on stdout:

    {"do": "state"}                       -> what the screen shows now
    {"do": "press", "action": "call_next"} (counter: the hall's key for it)
    {"do": "choose", "dept": "RS", "matter": "RS01"}  /  {"do": "confirm"}  (kiosk)
    {"do": "shot", "path": "artifacts/x.png"}  -> a screenshot of the app's window

Commands run on the Tk thread (a reader thread queues them, an after() loop takes
them), so the app is never touched from another thread. A test kills this process
with SIGKILL to crash the app mid-operation; nothing here tries to soften that.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import sys
import threading
import tkinter as tk
from pathlib import Path
from typing import Any

from queue_common import i18n
from queue_common.connection import Connection

Command = dict[str, Any]


class Driven:
    """The app under the test's hands; subclasses know one app."""

    def __init__(self, root: tk.Tk, conn: Connection) -> None:
        self.root = root
        self.conn = conn

    def state(self) -> dict[str, Any]:
        return {"online": self.conn.online, "epoch": self.conn.mirror.epoch}

    def do(self, cmd: Command) -> dict[str, Any]:
        if cmd["do"] == "state":
            return self.state()
        if cmd["do"] == "shot":  # the window's pixels, for a person to look at
            from tests.tk.board_display import screenshot

            self.root.lift()
            screenshot(self.root, self.root.winfo_screen(), Path(cmd["path"]))
            return {"path": cmd["path"]}
        raise ValueError(f"unknown command {cmd['do']!r}")


class DrivenCounter(Driven):
    def __init__(self, root: tk.Tk, conn: Connection, args: argparse.Namespace) -> None:
        super().__init__(root, conn)
        from counter_client.app import CounterApp

        self.app = CounterApp(root, conn, data=Path(args.data), device=args.device,
                              counter=args.counter, user=args.user,
                              auto_password=os.environ.get("QUEUE_PASSWORD"),
                              on_quit=root.destroy)

    def state(self) -> dict[str, Any]:
        out = super().state()
        caller = self.app.caller
        out["logged_in"] = caller is not None
        if caller is not None:
            view = caller.view
            out.update(state=view.counter_state, number=caller.bar_number.cget("text"),
                       waiting=[t.number for t in view.waiting], busy=caller.gate.busy(),
                       offline_banner=bool(caller.banner.winfo_ismapped()),
                       message=caller.message)
        return out

    def do(self, cmd: Command) -> dict[str, Any]:
        if cmd["do"] == "press":
            caller = self.app.caller
            if caller is None:
                return {"pressed": False, "why": "not logged in"}
            key = caller.key_for(cmd["action"])
            self.root.focus_force()
            self.root.event_generate(f"<Key-{key}>")
            return {"pressed": True, "key": key}
        return super().do(cmd)


class DrivenBoard(Driven):
    def __init__(self, root: tk.Tk, conn: Connection, args: argparse.Namespace) -> None:
        super().__init__(root, conn)
        from display_board.board_app import BoardApp

        root.geometry("1280x720+0+0")
        self.app = BoardApp(root, conn, local={"board": {"flash_seconds": 1}}, mute=True)
        self.app.start()

    def state(self) -> dict[str, Any]:
        from display_board.hall_board import HallBoard
        from tests.tk.board_display import canvas_texts

        out = super().state()
        view = self.app.view
        out["texts"] = canvas_texts(view.canvas) if isinstance(view, HallBoard) else []
        return out


class DrivenKiosk(Driven):
    def __init__(self, root: tk.Tk, conn: Connection, args: argparse.Namespace) -> None:
        super().__init__(root, conn)
        from tests.tk.kiosk_support import SCREEN, KioskRig
        from ticket_printer.kiosk import Kiosk
        from ticket_printer.print_worker import PrintWorker
        from ticket_printer.printers import FilePrinter

        root.geometry(f"{SCREEN[0]}x{SCREEN[1]}+0+0")
        tickets = Path(args.data) / "printed" / str(os.getpid())
        self.worker = PrintWorker(FilePrinter(tickets, 576))
        self.kiosk = Kiosk(root, conn, self.worker, device=args.device, status_base=None)
        self.rig = KioskRig(None, root, conn, self.kiosk, self.worker,  # type: ignore[arg-type]
                            args.display, tickets)

    def state(self) -> dict[str, Any]:
        from ticket_printer.views_result import TicketShownView

        out = super().state()
        shown = self.kiosk.main
        out.update(screen=self.kiosk.screen,
                   chosen=[m.code for m in self.kiosk.choice.matters],
                   shown=shown.number.cget("text") if isinstance(shown, TicketShownView)
                   else None)
        return out

    def do(self, cmd: Command) -> dict[str, Any]:
        from tests.tk.test_kiosk import _choose

        if cmd["do"] == "choose":
            _choose(self.rig, cmd["dept"], cmd["matter"])
            return self.state()
        if cmd["do"] == "confirm":  # the citizen's finger: the reply comes later
            self.rig.side().confirm_button.invoke()
            return {"confirmed": True}
        return super().do(cmd)


APPS: dict[str, type[Driven]] = {"counter": DrivenCounter, "board": DrivenBoard,
                                  "kiosk": DrivenKiosk}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("app", choices=sorted(APPS))
    ap.add_argument("--data", required=True)
    ap.add_argument("--server", required=True)
    ap.add_argument("--display", required=True)
    ap.add_argument("--device", required=True)
    ap.add_argument("--counter", type=int)
    ap.add_argument("--user")
    args = ap.parse_args()
    i18n.set_language("zh")
    conn = Connection.from_data_dir(Path(args.data), args.device, args.server)
    root = tk.Tk(screenName=args.display, className=f"E2E{args.app.title()}")
    conn.attach_tk(root, interval_ms=10)
    conn.start()
    driven = APPS[args.app](root, conn, args)  # type: ignore[call-arg]
    commands: queue.Queue[Command | None] = queue.Queue()

    def read_stdin() -> None:
        for line in sys.stdin:
            if line.strip():
                commands.put(json.loads(line))
        commands.put(None)  # the test closed our stdin: quit

    def take() -> None:
        while True:
            try:
                cmd = commands.get_nowait()
            except queue.Empty:
                root.after(10, take)
                return
            if cmd is None:
                root.quit()
                return
            try:
                reply: dict[str, Any] = {"id": cmd.get("id"), "ok": True,
                                         "result": driven.do(cmd)}
            except Exception as exc:  # report, keep the app running
                reply = {"id": cmd.get("id"), "ok": False, "error": repr(exc)}
            print(json.dumps(reply, ensure_ascii=False), flush=True)

    threading.Thread(target=read_stdin, daemon=True).start()
    root.after(10, take)
    print(json.dumps({"id": None, "ready": True}), flush=True)
    try:
        root.mainloop()
    finally:
        conn.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
