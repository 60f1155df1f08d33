"""A citizen's card at the kiosk, as the hall sees it: only a keyed hash, never the number.

The kiosk sends `id_hash` (queue_common.identity); the hall keeps it beside the ticket,
says how many tickets the same card took today, and checks in a booking made for it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from queue_common import identity
from queue_common.protocol import Err
from queue_server.appointments import parse_export
from queue_server.store.appointment_rows import store_bookings
from tests.support.hallkit import SHANGHAI, HallKit

KEY = bytes(range(32))
CARD = "11010519491231002X"
HASH = identity.id_hash(KEY, CARD)
OTHER = identity.id_hash(KEY, "310101195611261235")


@pytest.fixture
def kit(tmp_path: Path) -> HallKit:
    return HallKit.create(tmp_path, backend="sqlite")  # the CLI's import writes SQL


def test_a_ticket_taken_with_a_card_keeps_only_its_hash(kit: HallKit) -> None:
    first = kit.ok("issue", {"services": ["RS01"], "id_hash": HASH}, kit.kiosk)
    assert first["same_person_today"] == 0
    second = kit.ok("issue", {"services": ["YB01"], "id_hash": HASH}, kit.kiosk)
    assert second["same_person_today"] == 1  # the same card twice today
    assert kit.ok("issue", {"services": ["RS01"], "id_hash": OTHER},
                  kit.kiosk)["same_person_today"] == 0
    rows = kit.rows("ticket_identity")
    assert [(r["ticket_id"], r["id_hash"]) for r in rows] == [
        (first["ticket"]["id"], HASH), (second["ticket"]["id"], HASH),
        (rows[2]["ticket_id"], OTHER)]
    assert "same_person_today" not in kit.issue("RS01")  # no card, no identity row
    assert len(kit.rows("ticket_identity")) == 3


@pytest.mark.parametrize("bad", [CARD, HASH.upper(), HASH[:-1], "0" * 65, 42])
def test_anything_but_a_hash_is_refused_so_a_clear_number_never_lands(kit: HallKit,
                                                                      bad: object) -> None:
    err = kit.err("issue", {"services": ["RS01"], "id_hash": bad}, kit.kiosk)
    assert err.code == Err.BAD_REQUEST and err.details.get("field") == "args.id_hash"
    assert kit.rows("ticket_identity") == []


def _book_for_card(kit: HallKit, code: str, id_hash: str) -> None:
    kit.book(code, dt.date(2026, 11, 26))
    kit.set_rows("appointment", {"code": code}, {"id_hash": id_hash})


def test_a_booking_is_checked_in_with_the_card_it_was_made_for(kit: HallKit) -> None:
    _book_for_card(kit, "YY2026", HASH)
    res = kit.ok("check_in", {"id_hash": HASH}, kit.kiosk)
    assert res["ticket"]["kind"] == "appointment" and res["appointment"]["code"] == "YY2026"
    assert res["same_person_today"] == 0
    assert kit.rows("ticket_identity")[0]["ticket_id"] == res["ticket"]["id"]
    again = kit.err("check_in", {"id_hash": HASH}, kit.kiosk)
    assert again.code == Err.APPOINTMENT_INVALID and again.details["reason"] == "used"
    none = kit.err("check_in", {"id_hash": OTHER}, kit.kiosk)
    assert none.code == Err.APPOINTMENT_INVALID and none.details["reason"] == "not_found"


def test_a_check_in_names_a_code_or_a_card_not_both_nor_neither(kit: HallKit) -> None:
    _book_for_card(kit, "YY2026", HASH)
    for args in ({}, {"code": "YY2026", "id_hash": HASH}):
        assert kit.err("check_in", args, kit.kiosk).code == Err.BAD_REQUEST


def test_an_export_with_id_numbers_stores_their_hashes_only(kit: HallKit) -> None:
    text = ("code,name,phone,matters,date,slot,身份证号\n"
            f"YY0001,张*,1234,RS01,2026-11-26,09:30-10:00,{CARD.lower()}\n"
            "YY0002,李*,5678,RS01,2026-11-26,10:00-10:30,\n")
    bookings = parse_export(text, {"RS01": "RS01"}, SHANGHAI, id_key=KEY)
    assert [b.id_hash for b in bookings] == [HASH, None]
    with kit.engine.connect() as conn:
        store_bookings(conn, bookings)
        conn.commit()
    assert kit.ok("check_in", {"id_hash": HASH}, kit.kiosk)["appointment"]["code"] == "YY0001"
    raw = (kit.data / "queue.sqlite3").read_bytes()
    wal = kit.data / "queue.sqlite3-wal"
    raw += wal.read_bytes() if wal.exists() else b""
    assert CARD.encode() not in raw and CARD.lower().encode() not in raw


def test_an_export_with_id_numbers_needs_the_key_and_never_echoes_a_number() -> None:
    from queue_server.appointments import ExportError

    text = "code,name,phone,matters,date,slot,身份证号\nYY0001,张*,1234,RS01,2026-11-26,09:30-10:00,%s\n"
    with pytest.raises(ExportError) as no_key:
        parse_export(text % CARD, {"RS01": "RS01"}, SHANGHAI)
    assert "id_hash.key" in str(no_key.value)
    wrong = CARD[:-1] + "1"
    with pytest.raises(ExportError) as bad:
        parse_export(text % wrong, {"RS01": "RS01"}, SHANGHAI, id_key=KEY)
    assert "身份证号无效" in str(bad.value) and wrong not in str(bad.value)


def test_init_makes_the_halls_key_and_the_import_uses_it(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    from queue_server.cli import main as cli
    from queue_server.commands.init import init_data_dir

    data = tmp_path / "hall"
    init_data_dir(data)
    key = identity.load_key(data)
    assert key is not None and identity.key_path(data).stat().st_size == 65
    export = tmp_path / "bookings.csv"
    export.write_text("code,name,phone,matters,date,slot,身份证号\n"
                      f"YY0001,张*,1234,RS01,2026-11-26,09:30-10:00,{CARD}\n", "utf-8")
    assert cli(["appointments", "--data", str(data), "import", str(export)]) == 0
    out = capsys.readouterr()
    assert CARD not in out.out + out.err
    raw = (data / "queue.sqlite3").read_bytes()
    assert CARD.encode() not in raw
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{data / 'queue.sqlite3'}")
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT id_hash FROM appointment")).scalar_one()
    engine.dispose()
    assert stored == identity.id_hash(key, CARD)
