"""When a speech engine's WAV file is written: the board's calls and the rating pad's
prompt both have an engine write a file and must not read it half done.

A WAV being written reads as complete after each chunk (the wave module patches the
header at every writeframes), and on a busy PC the writer can pause for tens of ms; and
espeak's driver can return from runAndWait before the header of its file is final. So a
file is taken as written when the engine says it is finished, or else when it has
looked complete and unchanged for a quiet while.
"""

from __future__ import annotations

import threading
import time
import wave
from pathlib import Path


def complete_wav_size(path: Path) -> int:
    """Size of a readable WAV with samples at path, else 0."""
    try:
        with wave.open(str(path), "rb") as wav:
            if wav.getnframes() == 0:
                return 0
        return path.stat().st_size
    except (OSError, EOFError, wave.Error):
        return 0


def wait_for_wav(path: Path, timeout: float, quiet: float,
                 finished: threading.Event | None = None) -> bool:
    """Until `finished` is set, or the file has looked complete and unchanged for
    `quiet` seconds; False if neither within `timeout`."""
    deadline = time.monotonic() + timeout
    last_size, quiet_since = 0, time.monotonic()
    while time.monotonic() < deadline:
        if finished is not None and finished.wait(0.05):
            return True
        if finished is None:
            time.sleep(0.05)
        size = complete_wav_size(path)
        if not size or size != last_size:
            last_size, quiet_since = size, time.monotonic()
        elif time.monotonic() - quiet_since >= quiet:
            return True
    return False
