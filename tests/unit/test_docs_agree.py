"""What the documentation promises is what the shipped config does."""

from __future__ import annotations

import re
from pathlib import Path

from queue_server.config import default_config_text, parse_config

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_the_documented_hotkeys_are_the_shipped_ones() -> None:
    text = (DOCS / "configuration.md").read_text("utf-8")
    section = text[text.index("- `[counter_client]`"):]
    section = section[:section.index("\n- `[", 1)]
    documented = dict(re.findall(r"`(\w+)` (F\d+)", section))
    shipped = parse_config(default_config_text()).counter_client.hotkeys
    assert documented == shipped


def test_every_department_and_matter_of_the_default_hall_has_an_english_name() -> None:
    cfg = parse_config(default_config_text())
    assert [d.code for d in cfg.departments if not d.name_en] == []
    assert [s.code for s in cfg.services if not s.name_en] == []
    names = cfg.settings()["names_en"]
    assert set(names["departments"]) == {d.code for d in cfg.departments}
    assert set(names["services"]) == {s.code for s in cfg.services}
