"""A private, true-colour Xvfb for Tk tests and benchmarks.

Xvfb picks a free display number itself (-displayfd), so parallel runs never collide;
pytest-xvfb's default 800x600 16-bit screen is too small for the board and bands its
colours.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator


def start_xvfb(width: int, height: int, *, exit_with_last_client: bool = False,
               ) -> tuple[subprocess.Popen[bytes], str]:
    """Start Xvfb with one width x height x 24 screen; (process, ":N").

    exit_with_last_client (-terminate): the server goes when its last client does, so
    a test process killed by a timeout never leaves an Xvfb behind.
    """
    if shutil.which("Xvfb") is None:
        raise RuntimeError("Xvfb is not installed (Debian package xvfb)")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{width}x{height}x24",
         "-nolisten", "tcp", *(["-terminate"] if exit_with_last_client else [])],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as fh:
        number = fh.readline().strip()
    if not number:
        stop_xvfb(proc)
        raise RuntimeError("Xvfb did not report a display number")
    return proc, f":{number}"


def stop_xvfb(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


@contextlib.contextmanager
def display_or_private(width: int, height: int) -> Iterator[str]:
    """$DISPLAY if there is one, else a private Xvfb for the duration."""
    if os.environ.get("DISPLAY"):
        yield os.environ["DISPLAY"]
        return
    proc, name = start_xvfb(width, height)
    try:
        yield name
    finally:
        stop_xvfb(proc)
