"""What this PC remembers between runs: last user and window number (per PC, not per hall).

Stored as a small JSON file in the local data dir, so the clerk who sits at window 3
every day finds it filled in. A damaged file is ignored, never fatal.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

FILE_NAME = "counter_client.json"
POSITION = re.compile(r"[+-]\d{1,5}[+-]\d{1,5}")


@dataclass
class Prefs:
    user: str = ""
    counter: int | None = None
    expanded: bool = True
    position: str = ""  # "+X+Y" where the clerk put the caller on this PC's screen


def prefs_path(data: Path, device: str) -> Path:
    return data / f"{device}.{FILE_NAME}"


def load_prefs(data: Path, device: str) -> Prefs:
    try:
        raw = json.loads(prefs_path(data, device).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Prefs()
    if not isinstance(raw, dict):
        return Prefs()
    counter = raw.get("counter")
    position = raw.get("position")
    return Prefs(user=str(raw.get("user") or ""),
                 counter=counter if isinstance(counter, int) and counter > 0 else None,
                 expanded=bool(raw.get("expanded", True)),
                 position=position if isinstance(position, str)
                 and POSITION.fullmatch(position) else "")


def save_prefs(data: Path, device: str, prefs: Prefs) -> None:
    """Write atomically (temp file + replace) so a power cut never leaves half a file."""
    path = prefs_path(data, device)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(prefs), ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # remembering is a convenience; a read-only disk must not stop the caller
