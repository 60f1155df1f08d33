"""How a hall app's Tk loop ends: the window closes, or the process is asked to stop.

Ctrl-C in the terminal that started `queue-server demo` reaches every app of the hall
(SIGINT to the whole process group), and the demo then asks each one with SIGTERM
(CTRL_BREAK on Windows). Left to Python's defaults, every app died with a
KeyboardInterrupt traceback in its log, which reads like a crash. Here those signals
just end the Tk loop, and the app's own clean-up (stop the connection, the printer,
the voice) runs as on a normal close.

Python runs a signal handler between bytecodes; the apps' Tk loops run Python often
(the connection is drained every 10-25 ms), so the loop ends within that.
"""

from __future__ import annotations

import contextlib
import signal
import tkinter as tk

STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGBREAK")  # SIGBREAK: Ctrl-Break on Windows


def run_until_stopped(root: tk.Misc) -> None:
    """root.mainloop() until the window closes or a stop signal arrives, quietly."""

    def stop(_signum: int, _frame: object) -> None:
        with contextlib.suppress(tk.TclError):  # the window is already gone
            root.after_idle(root.quit)

    for name in STOP_SIGNALS:
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), stop)
    root.mainloop()
