"""Which key runs which action: F1..F8 as on real callers, remappable per hall.

The hall's `[counter_client] hotkeys` table (reaching the caller through
`snapshot["hall"]["settings"]["counter_client"]["hotkeys"]`) maps an action name to a
key, e.g. ``{call_next = "F9"}``. Anything unusable in it is ignored with a reason so a
typo in one hall's config never leaves a clerk without keys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from counter_client import caller_state as cs
from queue_common.client_config import default_hotkeys

# The shipped defaults are the config's ([counter_client] hotkeys), one definition.
DEFAULT_HOTKEYS: dict[str, str] = default_hotkeys()
# Real callers often have separate 挂起 and 回呼 keys: those may be bound on their own.
# 暂停 on a real caller is one key that pauses and resumes, hence the alias.
BINDABLE = (*DEFAULT_HOTKEYS, cs.PARK, cs.UNPARK)
ALIASES = {"pause": cs.PAUSE_TOGGLE, "resume": cs.PAUSE_TOGGLE}
# Known to real callers but not an action here: the rating pad asks the citizen by
# itself after every completion, so a 评价 key has nothing to do.
IGNORED = frozenset({"rate"})
_MODIFIERS = ("Control", "Alt", "Shift")
_KEY = re.compile(r"^(?:(Control|Alt|Shift)-)*(F(?:[1-9]|1[0-9]|2[0-4])|[A-Za-z0-9])$")


def normalise_key(text: str) -> str | None:
    """'f1' / '<F1>' / 'ctrl+n' -> 'F1' / 'F1' / 'Control-n'; None if unusable."""
    key = text.strip().strip("<>").replace("+", "-")
    parts = [p for p in key.split("-") if p]
    if not parts:
        return None
    mods = []
    for part in parts[:-1]:
        name = {"ctrl": "Control", "control": "Control", "alt": "Alt",
                "shift": "Shift"}.get(part.lower())
        if name is None:
            return None
        mods.append(name)
    last = parts[-1]
    if re.fullmatch(r"[fF]\d{1,2}", last):
        last = last.upper()
    elif len(last) == 1 and last.isalnum():
        if not mods:  # a bare letter would fire while typing in a dialog
            return None
        last = last.lower()
    else:
        return None
    candidate = "-".join([*sorted(set(mods), key=_MODIFIERS.index), last])
    return candidate if _KEY.match(candidate) else None


def tk_sequence(key: str) -> str:
    """'F1' -> '<Key-F1>', 'Control-n' -> '<Control-Key-n>'."""
    *mods, last = key.split("-")
    return "<" + "".join(f"{m}-" for m in mods) + f"Key-{last}>"


def resolve_hotkeys(configured: Mapping[str, Any] | None) -> tuple[dict[str, str], list[str]]:
    """Defaults overlaid with the hall's map; returns (action -> key, problems).

    A configured key wins over a default on the same key (that default action is then
    left without a key and reported); two configured actions on one key keep the first.
    """
    chosen: dict[str, str] = {}
    problems: list[str] = []
    for raw_action, raw_key in (configured or {}).items() if isinstance(configured, Mapping) \
            else ():
        action = ALIASES.get(str(raw_action), str(raw_action))
        if action in IGNORED:
            continue
        if action not in BINDABLE:
            problems.append(f"unknown action {raw_action!r}")
            continue
        key = normalise_key(raw_key) if isinstance(raw_key, str) else None
        if key is None:
            problems.append(f"unusable key {raw_key!r} for {raw_action!r}")
            continue
        if key in chosen.values():
            problems.append(f"{key} configured twice; {raw_action!r} ignored")
            continue
        chosen[action] = key
    for action, key in DEFAULT_HOTKEYS.items():
        if action in chosen:
            continue
        if key in chosen.values():
            problems.append(f"{action!r} has no key: {key} was given to another action")
            continue
        chosen[action] = key
    return {a: chosen[a] for a in BINDABLE if a in chosen}, problems
