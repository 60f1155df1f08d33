"""The PC remembers its window number and last user; damage never stops the caller."""

from __future__ import annotations

from pathlib import Path

from counter_client.prefs import Prefs, load_prefs, prefs_path, save_prefs


def test_window_number_is_remembered_per_device(tmp_path: Path) -> None:
    save_prefs(tmp_path, "counter-3", Prefs(user="clerk1", counter=3, expanded=False))
    assert load_prefs(tmp_path, "counter-3") == Prefs("clerk1", 3, False)
    assert load_prefs(tmp_path, "counter-4") == Prefs()


def test_screen_position_is_remembered_and_checked(tmp_path: Path) -> None:
    save_prefs(tmp_path, "counter-3", Prefs(position="+1200+0"))
    assert load_prefs(tmp_path, "counter-3").position == "+1200+0"
    prefs_path(tmp_path, "counter-3").write_text('{"position": "; rm -rf"}', encoding="utf-8")
    assert load_prefs(tmp_path, "counter-3").position == ""


def test_damaged_file_gives_empty_prefs(tmp_path: Path) -> None:
    prefs_path(tmp_path, "counter-1").write_text("{not json", encoding="utf-8")
    assert load_prefs(tmp_path, "counter-1") == Prefs()
    prefs_path(tmp_path, "counter-1").write_text('{"counter": -2, "user": 5}', encoding="utf-8")
    assert load_prefs(tmp_path, "counter-1") == Prefs(user="5", counter=None)
