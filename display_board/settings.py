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

from queue_common import paths
from queue_common.client_config import AnnounceSection, BoardSection

log = logging.getLogger(__name__)

S = TypeVar("S", "AnnounceSettings", "BoardSettings")


_ANNOUNCE = AnnounceSection()
_BOARD = BoardSection()


@dataclass(frozen=True)
class AnnounceSettings:
    """[announce] as the announcer uses it; the defaults are the config's own."""

    template: str = _ANNOUNCE.template
    template_en: str = _ANNOUNCE.template_en
    repeat: int = _ANNOUNCE.repeat
    chime: bool = _ANNOUNCE.chime
    english: bool = _ANNOUNCE.english
    voice_zh: str = _ANNOUNCE.voice_zh  # a voice id or name; empty = chosen by language
    voice_en: str = _ANNOUNCE.voice_en
    rate: int = _ANNOUNCE.rate  # words per minute; 0 = the tuned default (voice.py)
    pitch: int = _ANNOUNCE.pitch  # espeak-ng 0-100; -1 = the tuned default
    word_gap: int = _ANNOUNCE.word_gap  # espeak-ng pause between words, 10 ms; -1 = tuned
    group_pause: float = _ANNOUNCE.group_pause  # s between 请+letter | digits | window
    max_age_seconds: int = _ANNOUNCE.max_age_seconds  # older calls are not spoken after a reconnect
    pause_seconds: float = _ANNOUNCE.pause_seconds  # silence between repeats
    pack: str = _ANNOUNCE.pack  # a voice pack folder (absolute or in the data dir)
    engine: str = _ANNOUNCE.engine  # "" = pyttsx3 (SAPI5 / espeak-ng); "command"
    engine_command: str = _ANNOUNCE.engine_command  # {text} and {wav} filled in


@dataclass(frozen=True)
class BoardSettings:
    notice: str = _BOARD.notice
    recent_calls: int = _BOARD.recent_calls
    flash_seconds: int = _BOARD.flash_seconds


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
