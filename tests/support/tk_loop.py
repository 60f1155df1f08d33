"""Drive a Tk program from a test the way mainloop would, until something holds."""

from __future__ import annotations

import time
import tkinter as tk
from collections.abc import Callable


def pump(root: tk.Misc, until: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Run the Tk loop (replies and events arrive through it) until `until()` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        root.update()
        if until():
            return True
        time.sleep(0.005)
    root.update()
    return until()
