"""A view listens to the connection for exactly as long as its widget exists.

The connection outlives every view (the login form, the caller, the dashboard, a
rating pad window come and go); a listener left registered after its widgets died
would run on every later event and touch dead Tk objects (TclError). Tying the
listener to the widget's <Destroy> removes it however the widget goes: closed window,
logout, or a parent destroyed with everything in it.
"""

from __future__ import annotations

import tkinter as tk

from queue_common.ports import ClientConnection, Listener


def listen_while_alive(widget: tk.Misc, connection: ClientConnection, fn: Listener) -> None:
    """connection.add_listener(fn) now; remove_listener(fn) when widget is destroyed."""
    connection.add_listener(fn)

    def gone(event: tk.Event[tk.Misc]) -> None:
        if event.widget is widget:
            connection.remove_listener(fn)

    widget.bind("<Destroy>", gone, add="+")
