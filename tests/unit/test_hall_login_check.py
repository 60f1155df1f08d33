"""The password check runs off the writer (Hall.verified_login_args on a worker thread); the
writer's login applies the proof, and still counts every wrong password."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from queue_common.protocol import Err, Role
from queue_server.hall import Actor, logins
from queue_server.hall.changes import PROOF_ARG, LoginProof
from queue_server.passwords import hash_password
from tests.support.hallkit import PASSWORD, HallKit

COUNTER_1 = Actor(device="counter-1", device_role=Role.COUNTER)


def checked_in_a_thread(kit: HallKit, args: dict[str, Any]) -> dict[str, Any]:
    """What the server does: verified_login_args on a checker thread."""
    out: list[dict[str, Any]] = []
    worker = threading.Thread(
        target=lambda: out.append(kit.hall.verified_login_args(args, COUNTER_1.device)),
        name="login-check")
    worker.start()
    worker.join(30)
    return out[0]


@pytest.fixture
def no_scrypt_on_the_writer(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts password checks and the thread each ran on."""
    threads: list[str] = []
    from queue_server.passwords import verify_password as real

    def counted(password: str, stored: str) -> bool:
        threads.append(threading.current_thread().name)
        return real(password, stored)

    monkeypatch.setattr(logins, "verify_password", counted)
    return threads


def test_a_clerk_checked_off_the_writer_logs_in_without_a_second_check(
        kit: HallKit, no_scrypt_on_the_writer: list[str]) -> None:
    before = kit.fingerprint()
    args = checked_in_a_thread(kit, {"user": "clerk1", "password": PASSWORD, "counter": 1})
    assert kit.fingerprint() == before, "the check changes nothing in the hall"
    proof = args[PROOF_ARG]
    assert isinstance(proof, LoginProof) and proof.ok
    assert no_scrypt_on_the_writer == ["login-check"]
    res = kit.ok("login", args, COUNTER_1)
    assert no_scrypt_on_the_writer == ["login-check"], "the writer trusted the proof"
    assert res["counter"] == 1 and res["today"] == proof.today
    if kit.sql:  # the clerk's day is read from the stored periods (statistics: SQL)
        assert proof.today == {"served": 0, "average_service_seconds": None}
    assert kit.hall.actor_for(res["token"], "counter-1", Role.COUNTER).counter == 1
    assert kit.snapshot()["counters"][0]["clerk"]["user"] == "clerk1"


def test_wrong_passwords_checked_off_the_writer_are_still_throttled(kit: HallKit) -> None:
    limit = kit.config.login.max_failures
    wrong = {"user": "clerk1", "password": "not-it-1", "counter": 1}
    for _ in range(limit):
        proof_args = checked_in_a_thread(kit, wrong)
        assert kit.err("login", proof_args, COUNTER_1).code == Err.BAD_CREDENTIALS
    right = checked_in_a_thread(kit, {"user": "clerk1", "password": PASSWORD, "counter": 1})
    assert right[PROOF_ARG].checked is False, "no scrypt spent on a throttled user"
    out = kit.run("login", right, COUNTER_1)
    assert out.error is not None and out.error.code == Err.THROTTLED
    assert len(kit.events("login.failed")) == limit


def test_checks_made_at_once_count_every_wrong_password(kit: HallKit) -> None:
    """Proofs checked before any was applied: the writer counts each failure."""
    limit = kit.config.login.max_failures
    wrong = [checked_in_a_thread(kit, {"user": "clerk2", "password": f"bad-{i}"})
             for i in range(limit + 1)]
    codes = [o.error.code for o in kit.hall.apply_batch(
        [("login", a, COUNTER_1, None) for a in wrong]) if o.error is not None]
    assert codes == [Err.BAD_CREDENTIALS] * limit + [Err.THROTTLED]


def test_a_password_changed_after_the_check_is_checked_again(kit: HallKit) -> None:
    args = checked_in_a_thread(kit, {"user": "clerk1", "password": PASSWORD})
    kit.set_rows("staff", {"user": "clerk1"}, {"password_hash": hash_password("a-new-password")})
    assert kit.err("login", args, COUNTER_1).code == Err.BAD_CREDENTIALS


def test_an_account_disabled_after_the_check_cannot_log_in(kit: HallKit) -> None:
    args = checked_in_a_thread(kit, {"user": "clerk1", "password": PASSWORD})
    kit.set_rows("staff", {"user": "clerk1"}, {"active": False})
    assert kit.err("login", args, COUNTER_1).code == Err.BAD_CREDENTIALS


def test_a_proof_sent_by_a_client_is_ignored(kit: HallKit) -> None:
    forged = {"user": "clerk1", "password": "guess-123",
              PROOF_ARG: {"user": "clerk1", "checked": True, "ok": True}}
    assert kit.err("login", forged, COUNTER_1).code == Err.BAD_CREDENTIALS
    # On any other operation the key is dropped before the arguments are checked.
    stray = {"services": ["RS01"], PROOF_ARG: LoginProof("clerk1", True, True)}
    assert kit.ok("issue", stray, kit.kiosk)["ticket"]["number"] == "A001"


def test_bad_arguments_get_no_proof_and_the_writer_names_the_field(kit: HallKit) -> None:
    args = checked_in_a_thread(kit, {"user": 7, "password": PASSWORD})
    assert PROOF_ARG not in args
    assert kit.err("login", args, COUNTER_1).code == Err.BAD_REQUEST
