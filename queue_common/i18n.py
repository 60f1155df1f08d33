"""One translation function for every visible string (Simplified Chinese default).

Each package keeps its own catalogue module (`<package>/messages.py`) holding
``MESSAGES: dict[str, tuple[str, str]]`` = key -> (中文, English) and registers it with
``register``. Keeping both languages side by side makes a missing English text a test
failure instead of a surprise on a hall PC (tests/unit/test_i18n.py).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

LANGS = ("zh", "en")
_catalogue: dict[str, tuple[str, str]] = {}
_lang = "zh"


def register(messages: Mapping[str, tuple[str, str]]) -> None:
    """Add a package's messages; a key defined twice with other texts is a bug."""
    for key, texts in messages.items():
        old = _catalogue.get(key)
        if old is not None and old != texts:
            raise ValueError(f"message {key!r} registered twice with different texts")
        _catalogue[key] = texts


def set_language(lang: str | None) -> str:
    """Choose zh or en (None: $QUEUE_LANG or zh); returns the language in force."""
    global _lang
    chosen = lang or os.environ.get("QUEUE_LANG") or "zh"
    if chosen not in LANGS:
        raise ValueError(f"language must be one of {LANGS}, not {chosen!r}")
    _lang = chosen
    return _lang


def language() -> str:
    return _lang


def tr(key: str, **kwargs: object) -> str:
    """The text for key in the current language, formatted with kwargs.

    An unknown key shows itself (visible in screenshots and tests) rather than crash
    a hall screen.
    """
    return tr_in(_lang, key, **kwargs)


def tr_in(lang: str, key: str, **kwargs: object) -> str:
    """tr in a given language: a page serving both languages at once (the phone's)."""
    texts = _catalogue.get(key)
    if texts is None:
        text = key
    else:
        text = texts[0] if lang == "zh" else texts[1]
    if kwargs:
        try:
            return text.format(**kwargs)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def catalogue() -> dict[str, tuple[str, str]]:
    """A copy of everything registered (for completeness tests)."""
    return dict(_catalogue)
