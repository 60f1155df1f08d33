"""Readers of the hall-state shapes (docs/hall-state.md) every screen needs.

A raw `state` snapshot has lists; the mirror keeps counters keyed by number and tickets
by id. These readers take either and never raise on a malformed entry: a hall screen
shows what it can rather than crash.

Names: matters and departments are stored in Chinese; their English names come from
the entry's own `name_en` or, for halls whose server sends them apart, from
`hall.settings.names_en`. An English screen shows the English name where the hall gave
one, else the Chinese name (never an empty label).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from queue_common.i18n import language


def as_list(collection: Any) -> list[dict[str, Any]]:
    """Counters/tickets come as a list (snapshot) or keyed by number/id (mirror)."""
    if collection is None:
        return []
    if isinstance(collection, Mapping):
        return [v for v in collection.values() if isinstance(v, dict)]
    if isinstance(collection, str | bytes):
        return []
    try:
        return [v for v in collection if isinstance(v, dict)]
    except TypeError:
        return []


def parse_time(value: Any) -> dt.datetime | None:
    """ISO-8601 with offset -> aware datetime; anything else -> None (never raises)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def find_counter(state: Mapping[str, Any], number: int) -> dict[str, Any] | None:
    for counter in as_list(state.get("counters")):
        if counter.get("number") == number:
            return counter
    return None


def settings_of(state: Mapping[str, Any]) -> dict[str, Any]:
    """`hall.settings` (the hall-wide client settings), {} when absent."""
    hall = state.get("hall") or {}
    settings = hall.get("settings") if isinstance(hall, Mapping) else None
    return dict(settings) if isinstance(settings, Mapping) else {}


def localised(item: Mapping[str, Any], english: str | None = None) -> str:
    """item's name in the screen's language: `name_en` (or `english`) in English."""
    if language() == "en":
        en = item.get("name_en") or english
        if isinstance(en, str) and en:
            return en
    return str(item.get("name") or item.get("code") or "")


def _english(state: Mapping[str, Any], kind: str) -> Mapping[str, Any]:
    names = settings_of(state).get("names_en")
    table = names.get(kind) if isinstance(names, Mapping) else None
    return table if isinstance(table, Mapping) else {}


def service_names(state: Mapping[str, Any]) -> dict[str, str]:
    """Matter code -> its name in the screen's language."""
    english = _english(state, "services")
    return {str(s.get("code")): localised(s, english.get(str(s.get("code"))))
            for s in as_list(state.get("services"))}


def department_names(state: Mapping[str, Any]) -> dict[str, str]:
    """Department code -> its name in the screen's language."""
    english = _english(state, "departments")
    return {str(d.get("code")): localised(d, english.get(str(d.get("code"))))
            for d in as_list(state.get("departments"))}


def hall_name(state: Mapping[str, Any]) -> str:
    hall = state.get("hall")
    return localised(hall) if isinstance(hall, Mapping) else ""
