"""F-keys as on real callers, remappable by the hall without leaving a clerk keyless."""

from __future__ import annotations

from counter_client import caller_state as cs
from counter_client.hotkeys import DEFAULT_HOTKEYS, normalise_key, resolve_hotkeys, tk_sequence


def test_defaults_are_f1_to_f8() -> None:
    keys, problems = resolve_hotkeys(None)
    assert keys == DEFAULT_HOTKEYS and problems == []
    assert [keys[a] for a in cs.KEYED_ACTIONS] == [f"F{i}" for i in range(1, 9)]


def test_key_spellings_are_normalised() -> None:
    assert normalise_key("f5") == "F5"
    assert normalise_key("<F10>") == "F10"
    assert normalise_key("ctrl+N") == "Control-n"
    assert normalise_key("n") is None  # a bare letter would fire while typing
    assert normalise_key("F99") is None
    assert tk_sequence("Control-n") == "<Control-Key-n>"
    assert tk_sequence("F1") == "<Key-F1>"


def test_hall_config_with_separate_park_and_unpark_keys() -> None:
    # the shipped default config: the habits of real callers
    configured = {"call_next": "F1", "recall": "F2", "rate": "F3", "no_show": "F4",
                  "pause": "F5", "transfer": "F6", "park": "F7", "unpark": "F8",
                  "start": "F9", "complete": "F10"}
    keys, problems = resolve_hotkeys(configured)
    assert keys[cs.START] == "F9" and keys[cs.COMPLETE] == "F10"
    assert keys[cs.PARK] == "F7" and keys[cs.UNPARK] == "F8"
    assert keys[cs.PAUSE_TOGGLE] == "F5"  # 暂停 pauses and resumes
    assert cs.PARK_TOGGLE not in keys  # its F7 went to park
    assert len(set(keys.values())) == len(keys)  # no key does two things
    assert any("park_toggle" in p for p in problems)


def test_bad_entries_are_reported_and_defaults_kept() -> None:
    keys, problems = resolve_hotkeys({"call_next": "banana", "fly": "F11", "recall": "F1"})
    assert keys[cs.RECALL] == "F1"
    assert cs.CALL_NEXT not in keys  # its default F1 was given to recall; reported
    assert len(problems) == 3


def test_the_callers_keys_are_the_shipped_configs_keys_in_button_order() -> None:
    from queue_server.config import default_config_text, parse_config

    shipped = parse_config(default_config_text()).counter_client.hotkeys
    assert shipped == DEFAULT_HOTKEYS
    assert tuple(DEFAULT_HOTKEYS) == cs.KEYED_ACTIONS
