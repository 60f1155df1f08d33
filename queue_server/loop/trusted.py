"""The trusted device keys, kept in step with `keys/trusted` while the server runs.

`queue-server device add / revoke` change the directory; a watcher thread looks at it
every WATCH_SECONDS (never the request loop: listing a directory can take long on a
busy or networked disk) and hands a changed set to the ZAP handler, which the request
check shares, so a revoked key is refused for new handshakes and for every request from
then on. When a device LOST its trust the loop rebinds the event socket (every
subscriber handshakes again and the revoked key is refused) before the change counts as
applied.

Applied means: the server writes `keys/trusted.applied` (the fingerprint of the
directory it now serves by, its pid) once the set is in force, and removes it when it
stops. `device add / revoke` wait for that file to show their change
(``wait_applied``), so when they return on a running server the new key is trusted and
the revoked one is refused on both sockets.

A reload that fails (the directory unreadable, a disk error) keeps the old set, is
retried at every look, and raises a supervisor alert (``take_alarms``) until it works;
it is never skipped as if the directory had not changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
import time
from collections import deque
from pathlib import Path

from queue_common import paths
from queue_server import keys
from queue_server.loop.zap import ZapHandler

log = logging.getLogger(__name__)

WATCH_SECONDS = 0.2
REBIND_WAIT_SECONDS = 3.0  # the loop rebinds the event socket within its 0.1 s poll
LOG_FAILURE_EVERY = 60.0
Signature = tuple[tuple[str, int, int], ...]


def applied_path(data: Path) -> Path:
    """The file a running server writes once it serves by the current trusted set."""
    return paths.keys_dir(data) / "trusted.applied"


def signature(data: Path) -> Signature:
    """Fingerprint of keys/trusted (names, mtimes, sizes); OSError if it cannot be read
    (an unreadable directory is a failure, never an empty set)."""
    folder = paths.trusted_keys_dir(data)
    entries = []
    with os.scandir(folder) as it:
        for entry in it:
            if entry.name.endswith(".key"):
                st = entry.stat()
                entries.append((entry.name, st.st_mtime_ns, st.st_size))
    return tuple(sorted(entries))


def digest(sig: Signature) -> str:
    return hashlib.sha256(repr(sig).encode("utf-8")).hexdigest()[:32]


def wait_applied(data: Path, timeout: float = 5.0) -> str:
    """After changing keys/trusted: wait until a running server applied it.

    Returns "applied" (the running server serves by the new set), "no-server" (no
    server has the data dir open: it applies the set when it starts) or "timeout" (a
    server seems to run but did not confirm in time; its log says why).
    """
    want = digest(signature(data))
    marker = applied_path(data)
    deadline = time.monotonic() + timeout
    while True:
        try:
            seen = json.loads(marker.read_text("utf-8"))
        except FileNotFoundError:
            return "no-server"
        except (OSError, ValueError):
            seen = {}  # being replaced right now
        if isinstance(seen, dict) and seen.get("signature") == want:
            return "applied"
        if time.monotonic() >= deadline:
            return "timeout"
        time.sleep(0.02)


class TrustedKeys:
    """The trusted set of one server: loaded at start-up, watched, revocations flagged."""

    def __init__(self, data: Path, zap: ZapHandler) -> None:
        self.data = data
        self.zap = zap
        self._signature: Signature | None = None
        self._keys: frozenset[str] = frozenset()
        self._revoked = threading.Event()
        self._rebound = threading.Event()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._failing_since: float | None = None
        self._failure_logged = 0.0
        # (state, message) for the supervisor's alert about the key store (appended by
        # the watcher, taken by the loop).
        self._alarms: deque[tuple[str, str]] = deque()

    def load(self, *, startup: bool = False) -> bool:
        """Re-read keys/trusted; True if a device lost its trust (revoked). Raises
        (OSError, KeyFileError) and keeps the old set if the directory cannot be read.

        At start-up an empty set is an error: every device would be refused.
        """
        folder = paths.trusted_keys_dir(self.data)
        if not folder.is_dir():
            raise keys.KeyFileError(f"{folder}: trusted-keys directory missing")
        sig = signature(self.data)
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
        self._signature = sig
        if startup:
            self._write_applied()
        return bool(before - self._keys)

    def watch(self) -> None:
        """Start the watcher thread (after ``load(startup=True)``)."""
        self._watcher = threading.Thread(target=self._watch, name="trusted-keys", daemon=True)
        self._watcher.start()

    def take_revoked(self) -> bool:
        """True once after a reload took a device's trust away (the loop then rebinds
        the event socket and calls ``rebound``)."""
        if not self._revoked.is_set():
            return False
        self._revoked.clear()
        return True

    def rebound(self) -> None:
        """The loop has rebound the event socket: the revocation is applied."""
        self._rebound.set()

    def take_alarms(self) -> list[tuple[str, str]]:
        """(state, message) of the key store's alert since the last call."""
        return [self._alarms.popleft() for _ in range(len(self._alarms))]

    def stop(self) -> None:
        self._stop.set()
        self._rebound.set()
        if self._watcher is not None:
            self._watcher.join(3)
        with contextlib.suppress(OSError):
            applied_path(self.data).unlink()

    def _write_applied(self) -> None:
        assert self._signature is not None
        marker = applied_path(self.data)
        tmp = marker.with_suffix(".tmp")
        tmp.write_text(json.dumps({"signature": digest(self._signature), "pid": os.getpid(),
                                   "devices": len(self._keys)}), "utf-8")
        os.replace(tmp, marker)

    def _watch(self) -> None:
        while not self._stop.wait(WATCH_SECONDS):
            try:
                if signature(self.data) == self._signature and self._failing_since is None:
                    continue
                self._rebound.clear()
                if self.load():
                    self._revoked.set()
                    if not self._rebound.wait(REBIND_WAIT_SECONDS):
                        log.error("the event socket was not rebound after a revocation")
                self._write_applied()
                if self._failing_since is not None:
                    log.warning("trusted keys re-read again after %.0f s of failures",
                                time.monotonic() - self._failing_since)
                    self._failing_since = None
                    self._alarms.append(("ok", "设备密钥已重新读取 / trusted keys re-read"))
            except Exception as exc:
                now = time.monotonic()
                if self._failing_since is None:
                    self._failing_since = now
                    self._alarms.append(("error", "无法读取受信任设备密钥，沿用旧名单 / "
                                         f"cannot re-read the trusted keys, old set kept: {exc}"))
                if now - self._failure_logged >= LOG_FAILURE_EVERY:
                    self._failure_logged = now
                    log.exception("re-reading the trusted keys failed; the old set stays "
                                  "and it is retried every %.1f s", WATCH_SECONDS)
