"""`queue-server appointments import / list` against a real data dir (SQLite): every
bad line named, nothing half-imported, a used booking never rewritten."""

from __future__ import annotations

from pathlib import Path

import pytest

from queue_server.cli import main as cli
from queue_server.commands.init import init_data_dir
from tests.unit.test_appointments import GOOD


@pytest.fixture
def hall_dir(tmp_path: Path) -> Path:
    data = tmp_path / "hall"
    init_data_dir(data)
    return data


def test_import_then_list_shows_the_days_bookings(hall_dir: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    export = tmp_path / "export.csv"
    export.write_text(GOOD, encoding="utf-8-sig")
    assert cli(["appointments", "--data", str(hall_dir), "import", str(export)]) == 0
    assert "2 新增 added" in capsys.readouterr().out
    assert cli(["appointments", "--data", str(hall_dir), "import", str(export)]) == 0
    assert "2 未变 unchanged" in capsys.readouterr().out  # re-import is harmless
    assert cli(["appointments", "--data", str(hall_dir), "list", "--day", "2026-11-26"]) == 0
    out = capsys.readouterr().out
    assert "appointments: 2" in out
    assert "YY20261126001" in out and "09:00-09:30" in out and "尾号1234" in out
    assert "13912345678" not in out and "李四" not in out


def test_a_file_with_one_bad_line_imports_nothing(hall_dir: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    export = tmp_path / "export.csv"
    export.write_text(GOOD + "YY9,赵*,1234,RS99,2026-11-26,09:00-09:30\n", encoding="utf-8")
    assert cli(["appointments", "--data", str(hall_dir), "import", str(export)]) == 1
    err = capsys.readouterr().err
    assert "line 4" in err and "nothing imported" in err
    assert cli(["appointments", "--data", str(hall_dir), "list", "--day", "2026-11-26"]) == 0
    assert "appointments: 0" in capsys.readouterr().out


def test_a_booking_already_checked_in_is_never_rewritten(hall_dir: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    import sqlite3

    export = tmp_path / "export.csv"
    export.write_text(GOOD, encoding="utf-8")
    assert cli(["appointments", "--data", str(hall_dir), "import", str(export)]) == 0
    with sqlite3.connect(hall_dir / "queue.sqlite3") as con:
        con.execute("UPDATE appointment SET checked_in_at='2026-11-26 01:05:00' "
                    "WHERE code='YY20261126001'")
    moved = GOOD.replace("09:00-09:30", "15:00-15:30").replace("10:00-10:30", "11:00-11:30")
    export.write_text(moved, encoding="utf-8")
    assert cli(["appointments", "--data", str(hall_dir), "import", str(export)]) == 1
    assert "line 2" in capsys.readouterr().err
    assert cli(["appointments", "--data", str(hall_dir), "list", "--day", "2026-11-26"]) == 0
    out = capsys.readouterr().out
    assert "10:00-10:30" in out and "11:00" not in out  # the good line was not applied either
