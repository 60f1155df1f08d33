"""The trusted device keys, kept in step with `keys/trusted` while the server runs.

`queue-server device add / revoke` change the directory; a watcher thread re-reads it
when it changes (never the request loop: listing a directory can take long on a busy or
networked disk) and hands the new set to the ZAP handler, which the request check shares,
so a revoked key is refused for new handshakes and for every request from then on. The
loop learns that a device LOST its trust (``take_revoked``) and makes the event
subscribers handshake again.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from queue_server import keys
from queue_server.loop.zap import ZapHandler

log = logging.getLogger(__name__)

WATCH_SECONDS = 1.0


class TrustedKeys:
    """The trusted set of one server: loaded at start-up, watched, revocations flagged."""

    def __init__(self, data: Path, zap: ZapHandler) -> None:
        self.data = data
        self.zap = zap
        self._signature: tuple[tuple[str, int, int], ...] = ()
        self._keys: frozenset[str] = frozenset()
        self._revoked = threading.Event()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    def load(self, *, startup: bool = False) -> bool:
        """Re-read keys/trusted; True if a device lost its trust (revoked).

        At start-up an empty set is an error: every device would be refused.
        """
        self._signature = keys.trusted_signature(self.data)
        devices, problems = keys.load_trusted(self.data)
        for problem in problems:
            log.error("trusted keys: %s", problem)
        if startup:
            if not devices:
                raise keys.KeyFileError(
                    f"no trusted device keys loaded from {self.data / 'keys' / 'trusted'}: "
                    "every device would be refused (run `queue-server device add`)")
            names = ", ".join(sorted(d.name for d in devices.values()))
            log.info("trusted %d devices: %s", len(devices), names)
        before = self._keys
        self.zap.set_trusted(devices)
        self._keys = frozenset(devices)
        return bool(before - self._keys)

    def watch(self) -> None:
        """Start the watcher thread (after ``load(startup=True)``)."""
        self._watcher = threading.Thread(target=self._watch, name="trusted-keys", daemon=True)
        self._watcher.start()

    def take_revoked(self) -> bool:
        """True once after a reload took a device's trust away."""
        if not self._revoked.is_set():
            return False
        self._revoked.clear()
        return True

    def stop(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(3)

    def _watch(self) -> None:
        while not self._stop.wait(WATCH_SECONDS):
            try:
                changed = keys.trusted_signature(self.data) != self._signature
                if changed and self.load():
                    self._revoked.set()
            except Exception:
                log.exception("re-reading the trusted keys failed; the old set stays")
