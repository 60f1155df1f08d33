"""Letters a hall should not put before its ticket numbers: the config check says which."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from queue_common.spoken_letters import MISHEARD, READINGS, misheard_prefixes
from queue_server.cli import main
from queue_server.config import default_config_text, parse_config


def _hall(prefix: str) -> str:
    return ('[[department]]\ncode = "RS"\nname = "人社"\n'
            f'[[service]]\ncode = "RS01"\nname = "社保卡"\ndepartment = "RS"\nprefix = "{prefix}"\n'
            'minutes = 8\n[[counter]]\nnumber = 1\n[numbering]\nappointment_prefix = ""\n')


def test_every_letter_has_a_mandarin_reading_and_the_misheard_are_among_them() -> None:
    assert sorted(READINGS) == [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    assert set(READINGS) >= MISHEARD and "A" not in MISHEARD
    assert misheard_prefixes(["A", next(iter(sorted(MISHEARD))).lower(), "B"]) == [
        next(iter(sorted(MISHEARD)))]


def test_a_misheard_prefix_is_a_warning_not_an_error(caplog: pytest.LogCaptureFixture) -> None:
    bad = sorted(MISHEARD)[0]
    with caplog.at_level(logging.WARNING, logger="queue_server.config"):
        cfg = parse_config(_hall(bad), "warn-me.toml")  # the hall still starts
        parse_config(_hall(bad), "warn-me.toml")  # said once, not at every load
    assert cfg.services[0].prefix == bad
    warnings = [r.getMessage() for r in caplog.records if "warn-me.toml" in r.getMessage()]
    assert len(warnings) == 1 and bad in warnings[0] and "容易听错" in warnings[0]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="queue_server.config"):
        parse_config(_hall("A"), "fine.toml")
    assert not [r for r in caplog.records if "fine.toml" in r.getMessage()]


def test_init_warns_about_the_letters_of_the_config_it_writes(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="queue_server.config"):
        assert main(["init", "--data", str(tmp_path / "hall")]) == 0
    said = [r.getMessage() for r in caplog.records if "容易听错" in r.getMessage()]
    cfg = parse_config(default_config_text(), "shipped.toml")
    shipped = misheard_prefixes([s.prefix for s in cfg.services] + [
        cfg.numbering.appointment_prefix, cfg.numbering.priority_prefix])
    assert bool(said) == bool(shipped)
    assert all(letter in said[0] for letter in shipped)
