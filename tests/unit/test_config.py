"""config.toml: the shipped default is a realistic hall; bad configs name file, key, problem."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from queue_server.cli import main
from queue_server.commands.init import DEMO_STAFF
from queue_server.config import ConfigError, default_config_text, load_config, parse_config


def test_the_default_is_a_realistic_shanghai_centre() -> None:
    cfg = parse_config(default_config_text(), "default_config.toml")
    assert cfg.hall.timezone == "Asia/Shanghai"
    assert 15 <= len(cfg.services) <= 20
    depts = {s.department for s in cfg.services}
    assert {"RS", "YB", "MZ", "ZJ", "JZ", "CL", "WJ", "GJJ"} <= depts
    assert len(cfg.counters) == 8
    general = [s.code for s in cfg.services if s.general]
    for c in cfg.counters:
        taken = cfg.service_codes_of(c)
        assert set(general) <= set(taken)  # 全窗综合受理
        assert len(taken) - len(general) <= 2
    assert cfg.hours.for_day(dt.date(2026, 11, 26)) == (dt.time(8, 30), dt.time(16, 30))
    assert cfg.hours.for_day(dt.date(2026, 11, 28)) == (dt.time(8, 30), dt.time(11, 30))
    assert cfg.quota.enabled is False  # 不得限号
    assert set(cfg.policy.priority_classes) >= {"elderly", "disabled", "military", "pregnant"}
    assert cfg.counter_client.hotkeys["call_next"] == "F1"
    assert (cfg.server.request_port, cfg.server.event_port, cfg.server.status_port) == (
        5555, 5556, 5580)
    assert cfg.no_show.mode in ("void", "requeue")


@pytest.mark.parametrize(("toml", "key", "problem"), [
    ('[server]\nrequest_port = "5555"', "server.request_port", "expected `int`"),
    ("[server]\nrequest_port = 70000", "server.request_port", "1..65535"),
    ('[hall]\nnmae = "x"', "hall.nmae", "unknown key"),
    ('[hall]\ntimezone = "Mars/Olympus"', "hall.timezone", "unknown timezone"),
    ('[hours]\nmon = "9-17"', "hours.mon", "HH:MM-HH:MM"),
    ('[hours]\nmon = "17:00-09:00"', "hours.mon", "after opening"),
    ('[no_show]\nmode = "forgive"', "no_show.mode", "allowed: requeue, void"),
    ('[database]\nsynchronous = "FAST"', "database.synchronous", ""),
    ('[counter_client.hotkeys]\ncall_next = "F1"\nrecall = "F1"',
     "counter_client.hotkeys.recall", "already used"),
    ('[kiosk]\npriority_classes = ["vip"]', "kiosk.priority_classes[0]", "unknown priority"),
    ('[announce]\ntemplate = "请{ticket}号"', "announce.template", "{number}"),
    ('[hall]\nnotice = "过号请重新取号"', "hall.notice", "[no_show]"),
    ('[server]\nstatus_base_url = "192.168.1.10:5580"', "server.status_base_url", "http"),
    ("[appointments]\nearly_minutes = -5", "appointments.early_minutes", "0..1440"),
    ('[appointments]\nlate = "whenever"', "appointments.late", "allowed: refuse, walk_in"),
])
def test_a_bad_value_names_its_key(toml: str, key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config(toml, "hall.toml", require_hall=False)
    assert exc.value.file == "hall.toml"
    assert exc.value.key == key
    assert problem.lower() in exc.value.problem.lower()
    assert str(exc.value).startswith(f"hall.toml: {key}: ")


def _hall(extra: str = "", service: str = "", counter: str = "") -> str:
    return ('[[department]]\ncode = "RS"\nname = "人社"\n'
            '[[service]]\ncode = "RS01"\nname = "社保卡"\ndepartment = "RS"\nprefix = "A"\n'
            f"minutes = 8\n{service}\n[[counter]]\nnumber = 1\n{counter}\n{extra}")


@pytest.mark.parametrize(("text", "key", "problem"), [
    (_hall(service='[[service]]\ncode = "RS01"\nname = "x"\ndepartment = "RS"\nprefix = "A"\n'
                   "minutes = 5"), "service[1].code", "duplicate"),
    (_hall(service='[[service]]\ncode = "X1"\nname = "x"\ndepartment = "ZZ"\nprefix = "A"\n'
                   "minutes = 5"), "service[1].department", "unknown department"),
    (_hall(service='[[service]]\ncode = "X1"\nname = "x"\ndepartment = "RS"\nprefix = "a1"\n'
                   "minutes = 5"), "service[1].prefix", "capital letter"),
    (_hall(counter='services = ["NOPE"]'), "counter[0].services[0]", "unknown matter"),
    (_hall(counter="[[counter]]\nnumber = 1"), "counter[1].number", "duplicate window"),
    (_hall(service='[[service]]\ncode = "X1"\nname = "x"\ndepartment = "RS"\nprefix = "B"\n'
                   "minutes = 5\ngeneral = false"), "service[1]", "no window takes"),
    ('[[department]]\ncode = "RS"\nname = "人社"', "service", "at least one"),
])
def test_cross_references_are_checked(text: str, key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config(text, "hall.toml")
    assert (exc.value.key, problem in exc.value.problem) == (key, True), str(exc.value)


def test_a_client_pc_config_may_hold_only_the_client_section(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[client]\nserver = "192.168.1.10"\n', encoding="utf-8")
    cfg = load_config(path, require_hall=False)
    assert cfg.client.server == "192.168.1.10" and cfg.client.request_port == 5555
    with pytest.raises(ConfigError):
        load_config(path)  # but a server needs matters and windows


def test_missing_file_and_broken_toml_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")
    (tmp_path / "bad.toml").write_text("[hall\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(tmp_path / "bad.toml")


def test_the_default_notice_leaves_the_no_show_rule_to_no_show() -> None:
    """A ticket prints the notice and then the 过号 sentence made from [no_show]; the
    default notice must not state a 过号 rule of its own that could contradict it."""
    cfg = parse_config(default_config_text(), "default_config.toml")
    assert "过号" not in cfg.hall.notice and "过号" not in cfg.board.notice
    assert cfg.appointments.late in ("walk_in", "refuse")


def test_init_stores_the_status_url_phones_use(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "hall"
    assert main(["init", "--data", str(data), "--status-url", "http://192.168.1.10:5580"]) == 0
    assert load_config(data / "config.toml").server.status_base_url == "http://192.168.1.10:5580"
    assert "status_base_url" not in capsys.readouterr().out  # nothing to remind


def test_init_without_a_status_url_says_phones_need_the_lan_address(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "--data", str(tmp_path / "hall")]) == 0
    out = capsys.readouterr().out
    assert "status_base_url" in out and "--status-url" in out and "局域网" in out
    assert load_config(tmp_path / "hall" / "config.toml").server.status_base_url == ""


def test_init_refuses_a_status_url_phones_cannot_use_and_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "hall"
    assert main(["init", "--data", str(data), "--status-url", "localhost 5580"]) == 1
    assert "server.status_base_url" in capsys.readouterr().err
    assert not (data / "config.toml").exists()


def test_settings_for_the_apps_are_plain_data() -> None:
    cfg = parse_config(default_config_text(), "c.toml")
    s = cfg.settings()
    assert s["announce"]["template"] == "请{number}号到{counter}号窗口办理"
    assert s["counter_client"]["hotkeys"]["no_show"] == "F5"  # F5 过号, as on the hall's keyboards
    assert s["priority_classes"]["elderly"]["name"] == "70岁以上老人"


def test_init_makes_a_hall_and_never_overwrites_without_force(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "hall"
    assert main(["init", "--data", str(data), "--demo"]) == 0
    cfg = load_config(data / "config.toml")
    con = sqlite3.connect(data / "queue.sqlite3")
    assert con.execute("select count(*) from service").fetchone()[0] == len(cfg.services)
    assert con.execute("select count(*) from counter").fetchone()[0] == 8
    users = [r[0] for r in con.execute("select user from staff order by id")]
    assert users == [u for u, *_ in DEMO_STAFF]
    head = con.execute("select version_num from alembic_version").fetchone()
    assert head is not None
    con.close()
    assert (data / "keys" / "devices" / "kiosk-1.key_secret").exists()
    assert (data / "keys" / "server.key").exists()
    (data / "config.toml").write_text("# mine\n" + (data / "config.toml").read_text("utf-8"),
                                      encoding="utf-8")
    assert main(["init", "--data", str(data)]) == 1
    assert "--force" in capsys.readouterr().err
    assert (data / "config.toml").read_text("utf-8").startswith("# mine")
    assert main(["init", "--data", str(data), "--force"]) == 0
    assert not (data / "config.toml").read_text("utf-8").startswith("# mine")
    assert list(data.glob("queue.sqlite3.bak-*"))  # the old hall is kept, not lost
