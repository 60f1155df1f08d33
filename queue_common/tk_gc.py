"""Garbage collection of a Tk program happens on the Tk thread, never elsewhere.

Python's cyclic collector runs on whichever thread happens to allocate. In our apps
that is often the connection's I/O thread or the speech thread; when it frees a
widget cycle or a Tk variable there, Tcl aborts the whole process
("Tcl_AsyncDelete: async handler deleted by the wrong thread"), seen in CI after
dialogs came and went. So a Tk program turns automatic collection off and collects
from root.after() instead: the young generation every second (cheap), everything
once a minute.
"""

from __future__ import annotations

import contextlib
import gc
import tkinter as tk

YOUNG_EVERY_MS = 1000
FULL_EVERY = 60  # young collections between two full ones


def collect_on_tk_thread(root: tk.Misc) -> None:
    """Disable automatic collection and collect from root's event loop until it dies."""
    gc.disable()
    count = 0

    def collect() -> None:
        nonlocal count
        count += 1
        gc.collect(2 if count % FULL_EVERY == 0 else 0)
        with contextlib.suppress(tk.TclError):  # the window is gone: the program ends
            root.after(YOUNG_EVERY_MS, collect)

    root.after(YOUNG_EVERY_MS, collect)
