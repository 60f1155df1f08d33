"""The kiosk's 身份证 and QR readers: keyboard-wedge or serial, one line per read.

Halls buy both kinds. A keyboard-wedge (HID) reader types what it read and Enter, as
if a keyboard were plugged in; a serial reader (RS-232 or a USB-serial adapter: COM4 on
Windows, /dev/ttyUSB0 on Linux) sends the same as a line of text. Either way the kiosk
gets one line per card or code, and decides what it is from the line (an ID number has
a shape of its own; anything else is a booking code), so one wedge may serve both.

A kiosk has no keyboard, so every key press is a reader's: the wedge collects printable
characters until Enter. The serial reader runs on a thread of its own (pyserial, the
`serial` extra) and hands lines to the Tk thread through a queue the kiosk drains; it
reopens its port when the reader is unplugged and plugged back. What a reader read is
never logged: it may be a citizen's ID number.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

log = logging.getLogger(__name__)

Device = Literal["id_card", "qr"]
MAX_LINE = 256  # no reader sends more for one read; anything longer is noise
REOPEN_SECONDS = 3.0


@dataclass(frozen=True)
class Read:
    """One read: what device it came from (a wedge cannot tell) and the line."""

    device: Device | None
    text: str

    def __repr__(self) -> str:  # never the text: it may be an ID number
        return f"Read({self.device}, {len(self.text)} chars)"


class KeyboardWedge:
    """Assembles the lines a HID reader types (the kiosk feeds it every key press)."""

    def __init__(self) -> None:
        self.buffer: list[str] = []

    def feed(self, keysym: str, char: str) -> Read | None:
        """One key press; the line read once Enter comes."""
        if keysym in ("Return", "KP_Enter"):
            text = "".join(self.buffer).strip()
            self.buffer.clear()
            return Read(None, text) if text else None
        if char and char.isprintable() and len(self.buffer) < MAX_LINE:
            self.buffer.append(char)
        return None


class SerialReader:
    """Lines from a serial reader, read on a thread, drained on the Tk thread.

    `port`: "COM4" on Windows, "/dev/ttyUSB0" (or a test's pseudo-terminal) on Linux.
    `opener` opens the port (pyserial's serial.Serial by default, tests may pass theirs).
    """

    def __init__(self, device: Device, port: str, baudrate: int = 9600, *,
                 opener: Callable[..., Any] | None = None,
                 on_state: Callable[[bool, str], None] | None = None) -> None:
        self.device = device
        self.port = port
        self.baudrate = baudrate
        self._opener = opener
        self._lines: queue.Queue[Read] = queue.Queue()
        self._states: queue.Queue[tuple[bool, str]] = queue.Queue()
        self._on_state = on_state
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"reader-{device}",
                                        daemon=True)
        self.connected: bool | None = None
        self._thread.start()

    def _open(self) -> Any:
        if self._opener is not None:
            return self._opener(self.port, self.baudrate, timeout=0.2)
        import serial  # pyserial: the `serial` extra

        return serial.Serial(self.port, self.baudrate, timeout=0.2)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                port = self._open()
            except Exception as exc:  # absent, unplugged, no pyserial: try again later
                self._states.put((False, f"{self.port}: {type(exc).__name__}: {exc}"))
                self._stop.wait(REOPEN_SECONDS)
                continue
            self._states.put((True, self.port))
            try:
                self._read_lines(port)
            except Exception as exc:  # unplugged while open
                self._states.put((False, f"{self.port}: {type(exc).__name__}"))
            finally:
                try:
                    port.close()
                except Exception:  # already gone with the device
                    log.debug("closing %s failed", self.port)
            self._stop.wait(REOPEN_SECONDS)

    def _read_lines(self, port: Any) -> None:
        pending = b""
        while not self._stop.is_set():
            chunk = port.read(64)
            if not chunk:
                continue
            pending += chunk
            while True:
                cut = min((i for i in (pending.find(b"\r"), pending.find(b"\n")) if i >= 0),
                          default=-1)
                if cut < 0:
                    break
                line, pending = pending[:cut], pending[cut + 1:]
                text = line.decode("utf-8", "replace").strip()
                if text and len(text) <= MAX_LINE:
                    self._lines.put(Read(self.device, text))
            if len(pending) > MAX_LINE:
                pending = b""  # noise without an end of line

    def drain(self, on_read: Callable[[Read], None]) -> None:
        """On the Tk thread: hand over what was read, report a change of connection."""
        while True:
            try:
                connected, why = self._states.get_nowait()
            except queue.Empty:
                break
            if connected != self.connected:
                self.connected = connected
                if self._on_state is not None:
                    self._on_state(connected, why)
        while True:
            try:
                read = self._lines.get_nowait()
            except queue.Empty:
                return
            on_read(read)

    def close(self, timeout: float = 2.0) -> None:
        self._stop.set()
        deadline = time.monotonic() + timeout
        self._thread.join(max(0.0, deadline - time.monotonic()))
