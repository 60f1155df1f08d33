"""A private 1920x1920, 24-bit X display for the board tests and their screenshots.

pytest-xvfb's default screen (800x600, 16-bit) is smaller than the board and bands its
colours; screenshots at 1920x1080 and portrait 1080x1920 need a real-size, true-colour
screen. Xvfb picks a free display number itself (-displayfd), so parallel runs never
collide. Tk opens it with Tk(screenName=...).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import shutil
import tkinter as tk
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.xvfb import start_xvfb, stop_xvfb

_shared: dict[str, str] = {}


@contextlib.contextmanager
def private_display(width: int = 1920, height: int = 1920) -> Iterator[str]:
    """One display for the whole test process, stopped when the process exits.

    Tk keeps its X connections open after a root is destroyed, so a display that went
    away under a later test module would kill the process (Xlib I/O error): every
    module shares this one instead.
    """
    if "name" not in _shared:
        if shutil.which("Xvfb") is None:
            pytest.skip("Xvfb not installed (Debian package xvfb)")
        # At least 1920x1920 whoever asks first: a portrait 1080x1920 panel and a
        # 1920x1080 board fit, whichever module happens to start the display.
        proc, name = start_xvfb(max(width, 1920), max(height, 1920),
                                exit_with_last_client=True)
        atexit.register(stop_xvfb, proc)
        _shared["name"] = name
    yield _shared["name"]


_big: dict[str, str] = {}
BIG = (3840, 2160)


def big_display() -> str:
    """A 3840x2160 display of its own (a 4K board, and a portrait panel fits too), kept
    for the whole test process like the shared one; the other tests keep theirs."""
    if "name" not in _big:
        if shutil.which("Xvfb") is None:
            pytest.skip("Xvfb not installed (Debian package xvfb)")
        proc, name = start_xvfb(*BIG, exit_with_last_client=True)
        atexit.register(stop_xvfb, proc)
        _big["name"] = name
    return _big["name"]


def make_root(display: str, width: int, height: int) -> tk.Tk:
    root = tk.Tk(screenName=display, className="DisplayBoard")
    root.geometry(f"{width}x{height}+0+0")
    root.update()
    return root


@pytest.fixture(autouse=True)
def tk_garbage_on_main_thread() -> Iterator[None]:
    """No automatic garbage collection while a test's Tk objects live (see close_root).

    Automatic collection may run on any thread that allocates (the speech engine, a
    connection); a test's dead Tk objects are collected here, on the main thread.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.collect()
        if was_enabled:
            gc.enable()


def close_root(root: tk.Misc) -> None:
    """Destroy a test's Tk root and collect its objects HERE, on the Tk thread.

    Left to the garbage collector, a dead interpreter's objects may be freed on another
    thread (the speech or connection thread) and Tcl aborts the process
    ("Tcl_AsyncDelete: async handler deleted by the wrong thread").
    """
    root.destroy()
    gc.collect()


def screenshot(root: tk.Tk, display: str, path: Path) -> Path:
    """The root window's pixels as PNG (after all pending drawing is done)."""
    from PIL import ImageGrab

    root.update()
    x, y = root.winfo_rootx(), root.winfo_rooty()
    w, h = root.winfo_width(), root.winfo_height()
    image = ImageGrab.grab(bbox=(x, y, x + w, y + h), xdisplay=display)
    image.save(path)
    return path


def canvas_texts(canvas: tk.Canvas) -> list[str]:
    """Every text item's content, top to bottom (what a person in the hall can read)."""
    items = [(canvas.coords(i)[1], canvas.coords(i)[0], canvas.itemcget(i, "text"))  # type: ignore[no-untyped-call]
             for i in canvas.find_all() if canvas.type(i) == "text"]
    return [t for _y, _x, t in sorted(items) if t]
