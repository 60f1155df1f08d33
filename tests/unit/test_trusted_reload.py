"""The trusted-key watcher: a reload that fails keeps the old set, is retried and
raises an alarm until it works; a change is acknowledged for `device add / revoke`."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from queue_server import keys
from queue_server.keys import TrustedDevice
from queue_server.loop import trusted as tk


class RecordingZap:
    """Stands in for the ZAP handler: remembers each trusted set it is given."""

    def __init__(self) -> None:
        self.sets: list[set[str]] = []

    def set_trusted(self, devices: Mapping[str, TrustedDevice]) -> None:
        self.sets.append({d.name for d in devices.values()})


def _until(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False


def test_a_failed_reload_is_retried_and_alarmed_never_skipped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keys.create_hall_keys(tmp_path, [("kiosk-1", "kiosk")])
    zap = RecordingZap()
    watcher = tk.TrustedKeys(tmp_path, zap)  # type: ignore[arg-type]
    watcher.load(startup=True)
    assert tk.wait_applied(tmp_path, 1) == "applied"
    real = keys.load_trusted
    monkeypatch.setattr(keys, "load_trusted", lambda _d: (_ for _ in ()).throw(
        OSError("disk gone")))
    watcher.watch()
    try:
        keys.create_device_keys(tmp_path, "board-1", "board")
        alarms: list[tuple[str, str]] = []
        assert _until(lambda: bool(alarms.extend(watcher.take_alarms()) or alarms))
        assert alarms[0][0] == "error" and "disk gone" in alarms[0][1]
        assert zap.sets == [{"kiosk-1"}]  # the old set stays
        assert tk.wait_applied(tmp_path, 0.3) == "timeout"  # and `device add` says so
        monkeypatch.setattr(keys, "load_trusted", real)  # the disk is back
        assert _until(lambda: zap.sets[-1] == {"kiosk-1", "board-1"})
        assert tk.wait_applied(tmp_path, 2) == "applied"
        assert _until(lambda: bool(alarms.extend(watcher.take_alarms()) or
                                   alarms[-1][0] == "ok"))
    finally:
        watcher.stop()
    assert tk.wait_applied(tmp_path, 0) == "no-server"
