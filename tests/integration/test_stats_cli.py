"""`queue-server stats` on an initialised data dir: every format gives the same numbers."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest

from queue_common import i18n, report
from queue_server import cli
from queue_server.commands.stats import resolve_range
from queue_server.config import load_config
from queue_server.store.db import make_engine
from tests.integration.test_stats import DAY, script_day
from tests.support.statsday import ScriptedDay

ARGS = ["--from", DAY.isoformat(), "--to", DAY.isoformat()]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A hall made by `init --demo` with the scripted day written into its database."""
    root = tmp_path_factory.mktemp("hall")
    assert cli.main(["init", "--data", str(root), "--demo"]) == 0
    cfg = load_config(root / "config.toml")
    engine = make_engine(cfg.database_url())
    with engine.begin() as conn:
        script_day(ScriptedDay(conn, DAY, cfg.hall.timezone))
    engine.dispose()
    return root


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["stats", *args])
    out, err = capsys.readouterr()
    i18n.set_language("zh")
    return code, out, err


def test_json_report_has_the_hand_worked_headline(data: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--data", str(data), *ARGS, "--format", "json")
    assert code == 0
    result = json.loads(out)
    t = result["totals"]
    assert (t["issued"], t["served"], t["wait_mean"], t["wait_p90"], t["service_mean"]) == (
        7, 5, 440.0, 1200.0, 876.0)
    assert set(result["groups"]) == {"matter", "counter", "clerk", "hour"}
    matters = {r["key"]: r for r in result["groups"]["matter"]}
    assert matters["RS01"]["label"] == "社保卡申领补换"  # the name from config.toml


def test_csv_to_stdout_carries_the_same_seconds_as_json(
        data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, js, _ = run(capsys, "--data", str(data), *ARGS, "--format", "json", "--by", "counter")
    code, out, _ = run(capsys, "--data", str(data), *ARGS, "--format", "csv",
                       "--by", "counter")
    assert code == 0
    table = list(csv.reader(io.StringIO(out)))
    head = table[0]
    assert head[:3] == ["窗口", "代码", "名称"] and "平均等候（秒）" in head
    by_key = {row[1]: dict(zip(head, row, strict=True)) for row in table[1:]}
    expected = {r["key"]: r for r in json.loads(js)["groups"]["counter"]}
    assert by_key["2"]["平均等候（秒）"] == str(expected["2"]["wait_mean"]) == "570.0"
    assert by_key["2"]["过号率"] == "0.25"
    assert by_key["total"]["取号数"] == "7"


def test_xlsx_opens_with_the_figures_of_the_report(data: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "month.xlsx"
    code, _, err = run(capsys, "--data", str(data), *ARGS, "--format", "xlsx",
                       "--out", str(out))
    assert code == 0 and str(out) in err
    summary = {r[0]: r[1] for r in report.read_xlsx_sheet(out, "概览") if r and r[0]}
    assert summary["取号数"] == 7
    # Durations are durations in Excel ([h]:mm:ss cells), not counts of seconds.
    assert summary["平均等候"] == dt.timedelta(minutes=7, seconds=20)
    assert summary["90%等候"] == dt.timedelta(minutes=20)
    assert summary["满意率"] == 0.5
    assert summary["差评"] == 1
    hours = report.read_xlsx_sheet(out, "时段")
    head = hours[0]
    nine = dict(zip(head, next(r for r in hours if r[0] == "09"), strict=True))
    assert (nine["取号数"], nine["平均等候"], nine["等候中位数"]) == (
        3, dt.timedelta(minutes=11), dt.timedelta(minutes=8))


def test_xlsx_cells_are_formatted_as_durations_and_percentages(
        data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "month.xlsx"
    assert run(capsys, "--data", str(data), *ARGS, "--format", "xlsx", "--out", str(out))[0] == 0
    sheet = load_workbook(out)["窗口"]
    head = [c.value for c in sheet[1]]
    formats = {head[i]: sheet.cell(2, i + 1).number_format for i in range(len(head))}
    assert formats["平均等候"] == "[h]:mm:ss" and formats["90%办理"] == "[h]:mm:ss"
    assert formats["过号率"] == "0.0%" and formats["取号数"] == "General"


def test_table_shows_minutes_and_percentages_in_chinese(
        data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--data", str(data), *ARGS, "--by", "matter")
    assert code == 0
    assert "统计报表 2026-11-26 至 2026-11-26" in out
    line = next(ln for ln in out.splitlines() if ln.startswith("最低生活保障申请"))
    assert "16:30" in line  # MZ01's wait mean 990 s = 16:30; p90 1680 s = 28:00
    assert "28:00" in line and "50.0%" in line


def test_english_headers_with_lang_en(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--data", str(data), *ARGS, "--by", "hour", "--lang", "en")
    assert code == 0 and "Mean wait" in out and "Total" in out


def test_bad_dates_are_refused_with_a_message(data: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--data", str(data), "--from", "26/11/2026")
    assert code == 2 and "YYYY-MM-DD" in err
    code, _, err = run(capsys, "--data", str(data), "--from", "2026-11-27",
                       "--to", "2026-11-26")
    assert code == 2 and "结束日期早于开始日期" in err
    code, _, err = run(capsys, "--data", str(data), "--from", "2020-01-01",
                       "--to", "2026-11-26")
    assert code == 2 and "at most 731 days" in err


def test_missing_data_dir_is_an_error_not_a_crash(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--data", str(tmp_path / "nowhere"))
    assert code == 2 and "queue-server init" in err


@pytest.mark.parametrize(("day_from", "day_to", "expected"), [
    (None, None, ("2026-11-26", "2026-11-26")),
    ("2026-11-01", None, ("2026-11-01", "2026-11-26")),
    (None, "2026-11-20", ("2026-11-20", "2026-11-20")),
])
def test_dates_default_to_today(day_from: str | None, day_to: str | None,
                                expected: tuple[str, str]) -> None:
    start, end = resolve_range(day_from, day_to, dt.date(2026, 11, 26))
    assert (start.isoformat(), end.isoformat()) == expected
