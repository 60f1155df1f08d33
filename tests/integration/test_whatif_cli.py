"""`queue-server whatif` on the scripted day (tests/integration/test_stats_scripted_day.py):
the real figures it reads are the hand-worked ones, the unchanged plan replays the real
staffing, and a plan with one window fewer never waits less on the same draws."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from queue_server import cli
from tests.integration.test_stats_scripted_day import DAY, play_the_day
from tests.support.hallkit import HallKit


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> HallKit:
    kit = HallKit.create(tmp_path_factory.mktemp("whatif-day"), backend="sqlite")
    play_the_day(kit)
    return kit


def whatif(kit: HallKit, capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert cli.main(["whatif", "--data", str(kit.data), "--day", DAY, *args]) == 0
    out: dict = json.loads(capsys.readouterr().out)
    return out


def test_the_real_day_is_read_with_the_statistics_definitions(
        kit: HallKit, capsys: pytest.CaptureFixture[str]) -> None:
    result = whatif(kit, capsys, "--replications", "2")
    real = {r["hour"]: r for r in result["real"]["hours"]}
    # waits of the visits issued at 09: A001 300, B001 480, A002 1200 (by hand)
    assert (real["09"]["issued"], real["09"]["mean_wait"], real["09"]["p90_wait"]) == (
        3, 660.0, 1200.0)
    assert real["10"]["max_ordinary_wait"] == 300.0  # B002 (A003 waited 60)
    assert result["real"]["totals"]["mean_wait"] == 440.0
    # window 1 busy 660 s of 09:00-10:00 (A001 called 09:05, done 09:16)
    assert real["09"]["utilisation"]["1"] == pytest.approx(660 / 3600, abs=0.001)
    # windows 1, 2 and 4 were open from 09:00 to closing (16:30)
    assert result["staffing"] == {f"{h:02d}": [1, 2, 4] for h in range(9, 17)}
    assert result["history"]["no_show_rate"] == pytest.approx(2 / 10, abs=0.001)  # of 10 calls, 回呼 too
    assert [r["hour"] for r in result["unchanged"]["hours"]][:1] == ["09"]
    assert result["elapsed_s"]["total"] > 0


def test_fewer_windows_never_wait_less_on_the_same_draws(
        kit: HallKit, capsys: pytest.CaptureFixture[str]) -> None:
    result = whatif(kit, capsys, "--replications", "3", "--windows", "9-16=1+4")
    assert result["plan"]["windows"]["09"] == [1, 4]
    base, fewer = result["unchanged"]["totals"], result["changed"]["totals"]
    assert fewer["mean_wait"]["mean"] >= base["mean_wait"]["mean"]
    assert set(fewer["utilisation"]) == {"1", "4"}


def test_a_plan_file_and_a_wrong_plan(kit: HallKit, capsys: pytest.CaptureFixture[str],
                                      tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"windows": {"9-16": 2}, "matters": {"4": ["CL01"]},
                                "appointment_credit": 30, "no_show": ["void", 0, 0]}))
    result = whatif(kit, capsys, "--plan", str(plan), "--replications", "1")
    assert result["plan"]["windows"]["12"] == [1, 2, 4]  # 2 general + the CL01 window
    assert result["plan"]["no_show"] == ["void", 0, 0]
    assert cli.main(["whatif", "--data", str(kit.data), "--day", DAY,
                     "--matters", "4=NOPE"]) == 2
    assert cli.main(["whatif", "--data", str(kit.data), "--day", "2026-11-20"]) == 2


def test_an_average_weekday_draws_its_arrivals_and_has_no_real_column(
        kit: HallKit, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["whatif", "--data", str(kit.data), "--weekdays", "4", "--until",
                     "2026-11-30", "--replications", "2", "--windows", "9-16=1"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["days"] == [DAY] and result["real"] is None
    assert result["history"]["visits_per_day"] == 7.0
    assert result["plan"]["windows"]["10"] == [1, 4]  # one general window and 残联's
    issued = result["unchanged"]["totals"]["issued"]
    assert issued["low"] <= issued["mean"] <= issued["high"]


def test_suggest_names_the_windows_it_found(
        kit: HallKit, capsys: pytest.CaptureFixture[str]) -> None:
    result = whatif(kit, capsys, "--suggest", "--target-p90", "60", "--replications", "1")
    assert set(result["suggested"]["general_windows"].values()) == {1}
    assert cli.main(["whatif", "--data", str(kit.data), "--day", DAY, "--suggest"]) == 2
