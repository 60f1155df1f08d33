"""The board's settings: hall-wide ones from the server, local overrides from config.toml.

The server sends `hall.settings` (announce, board ...) in every snapshot so a board PC
needs only its [client] section; a PC may still override [announce] locally (e.g. a
voice installed only on that PC, or a quieter repeat near an office). Bad values fall
back to defaults with a log line: a typo in a config file must never silence a hall.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, TypeVar

from display_board.speech_text import DEFAULT_TEMPLATE_EN, DEFAULT_TEMPLATE_ZH
from queue_common import paths

log = logging.getLogger(__name__)

S = TypeVar("S", "AnnounceSettings", "BoardSettings")


@dataclass(frozen=True)
class AnnounceSettings:
    template: str = DEFAULT_TEMPLATE_ZH
    template_en: str = DEFAULT_TEMPLATE_EN
    repeat: int = 2
    chime: bool = True
    english: bool = False
    voice_zh: str = ""  # a voice id or name; empty = chosen by language
    voice_en: str = ""
    rate: int = 0  # words per minute; 0 = the tuned default (voice.py)
    pitch: int = -1  # espeak-ng 0-100; -1 = the tuned default
    word_gap: int = -1  # espeak-ng pause between words, 10 ms units; -1 = tuned default
    group_pause: float = -1.0  # seconds between 请+letter | digits | window; -1 = tuned
    max_age_seconds: int = 60  # calls older than this are not spoken after a reconnect
    pause_seconds: float = 0.6  # silence between repeats
    pack: str = ""  # a voice pack folder (absolute or in the data dir); "" = engine only
    engine: str = ""  # "" = pyttsx3 (SAPI5 / espeak-ng); "command" = engine_command
    engine_command: str = ""  # a local engine: {text} and {wav} are filled in (voice.md)


@dataclass(frozen=True)
class BoardSettings:
    notice: str = ""
    recent_calls: int = 6
    flash_seconds: int = 8


def _coerce(base: S, raw: object) -> S:
    """A copy of base with the known, well-typed keys of raw applied."""
    if not isinstance(raw, Mapping):
        return base
    changes: dict[str, Any] = {}
    for f in fields(base):
        if f.name not in raw:
            continue
        value = raw[f.name]
        want = type(getattr(base, f.name))
        if want is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, want) and not (want is int and isinstance(value, bool)):
            changes[f.name] = value
        else:
            log.warning("ignoring %s=%r: expected %s", f.name, value, want.__name__)
    return replace(base, **changes)


def read_local_config(data: Path | None) -> dict[str, Any]:
    """config.toml of this PC's data dir, or {} when absent or unreadable."""
    if data is None:
        return {}
    path = paths.config_file(data)
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        log.warning("cannot read %s: %s", path, exc)
        return {}


def announce_settings(snapshot: Mapping[str, Any] | None,
                      local: Mapping[str, Any] | None = None) -> AnnounceSettings:
    """Hall-wide [announce] from the snapshot, then this PC's [announce] on top."""
    hall_settings = _hall_settings(snapshot)
    merged = _coerce(_coerce(AnnounceSettings(), hall_settings.get("announce")),
                     (local or {}).get("announce"))
    return replace(merged, repeat=max(1, min(merged.repeat, 5)),
                   max_age_seconds=max(0, merged.max_age_seconds),
                   pause_seconds=max(0.0, min(merged.pause_seconds, 5.0)))


def board_settings(snapshot: Mapping[str, Any] | None,
                   local: Mapping[str, Any] | None = None) -> BoardSettings:
    """[board] from the snapshot's hall settings, then this PC's [board] on top."""
    hall_settings = _hall_settings(snapshot)
    merged = _coerce(_coerce(BoardSettings(), hall_settings.get("board")),
                     (local or {}).get("board"))
    return replace(merged, recent_calls=max(1, min(merged.recent_calls, 12)),
                   flash_seconds=max(0, merged.flash_seconds))


def _hall_settings(snapshot: Mapping[str, Any] | None) -> Mapping[str, Any]:
    hall = (snapshot or {}).get("hall")
    settings = hall.get("settings") if isinstance(hall, Mapping) else None
    return settings if isinstance(settings, Mapping) else {}
