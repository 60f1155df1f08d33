"""Tk objects of the in-process apps are freed on the main thread only (see
tests/tk/board_display.py: Tcl aborts the process when a connection or speech thread
happens to run the garbage collector over a dead interpreter's objects)."""

from tests.tk.board_display import tk_garbage_on_main_thread  # noqa: F401  (autouse)
