"""A hostile but trusted counter PC: what its clerk's login may and may not do to the
rest of the hall (other windows, other PCs' logins, the server's memory)."""

from __future__ import annotations

import pytest

from queue_common.protocol import Err, Role
from queue_server import registry
from queue_server.errors import HallError
from queue_server.hall.changes import Actor
from queue_server.hall.state import Throttle
from tests.support.hallkit import PASSWORD, HallKit, NewKit


def at(device: str) -> Actor:
    return Actor(device=device, device_role=Role.COUNTER)


def login_args(user: str, password: str, counter: int | None) -> dict[str, object]:
    return {"user": user, "password": password, "counter": counter}


# -- a clerk acts on their own window only ------------------------------------------------


def test_the_window_1_clerk_cannot_close_or_open_window_2(kit: HallKit) -> None:
    w1, w2 = kit.login("clerk1", counter=1), kit.login("clerk2", counter=2)
    err = kit.err("close_counter", {"counter": 2}, w1)
    assert err.code == Err.WRONG_WINDOW
    assert err.details == {"counter": 2, "yours": 1, "why": "login"}
    assert "2号" in err.message and "window 2" in err.message
    kit.ok("close_counter", {}, w2)
    assert kit.err("open_counter", {"counter": 2}, w1).code == Err.WRONG_WINDOW
    assert kit.snapshot()["counters"][1]["state"] == "closed"
    kit.ok("close_counter", {"counter": 1}, w1)  # naming their own window is fine
    kit.ok("open_counter", {"counter": 1}, w1)


def test_a_supervisor_opens_and_closes_any_window(kit: HallKit) -> None:
    boss = kit.login("super1", counter=None)
    kit.ok("open_counter", {"counter": 3}, boss)
    kit.ok("close_counter", {"counter": 3}, boss)
    kit.ok("counter_services", {"counter": 2, "services": ["RS01"]}, boss)


def test_no_clerk_operation_reaches_another_window(kit: HallKit) -> None:
    """Every operation a clerk may send, naming window 2 wherever its arguments let
    it: window 2's state, matters and ticket stay exactly as they were."""
    w1, w2 = kit.login("clerk1", counter=1), kit.login("clerk2", counter=2)
    for _ in range(3):
        kit.issue("RS01")
    kit.ok("call_next", {}, w2)
    window_2 = kit.snapshot()["counters"][1]
    clerk_ops = [op for op, row in registry.REGISTRY.items()
                 if row.permission.staff is not None and Role.CLERK in row.permission.staff
                 and row.changes]
    assert {"open_counter", "close_counter", "pause", "resume", "call_next",
            "recall"} <= set(clerk_ops)
    for op in clerk_ops:
        if op == "logout":
            continue
        for args in ({"counter": 2}, {}):
            kit.run(op, args, w1)
        assert kit.snapshot()["counters"][1] == window_2, op
    kit.check_invariants()


def test_a_login_without_a_window_acts_on_no_window(kit: HallKit) -> None:
    desk = kit.login("clerk3", counter=None, device="counter-3")
    assert kit.err("open_counter", {"counter": 3}, desk).code == Err.WRONG_WINDOW


# -- a counter PC logs in at its own window --------------------------------------------------


def test_a_counter_pc_logs_in_at_its_own_window_only(kit: HallKit) -> None:
    err = kit.err("login", login_args("clerk2", PASSWORD, 2), at("counter-1"))
    assert err.code == Err.WRONG_WINDOW
    assert err.details == {"counter": 2, "yours": 1, "why": "device"}
    assert kit.err("login", login_args("clerk2", PASSWORD, 2),
                   at("supervisor-1")).code == Err.WRONG_WINDOW
    assert kit.ok("login", login_args("clerk2", PASSWORD, 2), at("counter-2"))["counter"] == 2
    assert kit.ok("login", login_args("super1", PASSWORD, None), at("counter-1"))


def test_config_maps_other_pc_names_to_windows_or_lets_any_pc_at_any_window(
        new_kit: NewKit) -> None:
    mapped = new_kit(extra='\n[security]\ncounter_windows = { "front-desk" = 3 }\n')
    assert mapped.ok("login", login_args("clerk3", PASSWORD, 3), at("front-desk"))
    assert mapped.err("login", login_args("clerk1", PASSWORD, 1),
                      at("front-desk")).code == Err.WRONG_WINDOW
    free = new_kit(extra="\n[security]\ncounter_any_window = true\n")
    assert free.ok("login", login_args("clerk2", PASSWORD, 2), at("counter-1"))["counter"] == 2


# -- wrong passwords: the PC that typed them waits, nobody else -------------------------------


def test_wrong_passwords_at_one_pc_never_lock_the_clerk_out_of_their_own(kit: HallKit) -> None:
    hostile = at("counter-4")
    for _ in range(5):  # the outside tester's attack, repeated every five minutes
        for _ in range(8):
            kit.run("login", login_args("clerk1", "guess", None), hostile)
        assert kit.err("login", login_args("clerk1", PASSWORD, None),
                       hostile).code == Err.THROTTLED
        assert kit.ok("login", login_args("clerk1", PASSWORD, 1), at("counter-1"))
        kit.clock.advance(minutes=5)


def test_the_delays_grow_after_the_third_wrong_password_and_are_capped(kit: HallKit) -> None:
    pc = at("counter-2")
    waits = []
    for _ in range(12):
        err = kit.err("login", login_args("clerk2", "guess", 2), pc)
        assert err.code == Err.BAD_CREDENTIALS
        waits.append(err.details.get("retry_after"))
        if waits[-1]:
            assert kit.err("login", login_args("clerk2", PASSWORD, 2), pc).code == Err.THROTTLED
            kit.clock.advance(seconds=waits[-1])
    assert waits == [None, None, 1, 2, 4, 8, 16, 32, 60, 60, 60, 60]
    assert kit.ok("login", login_args("clerk2", PASSWORD, 2), pc)
    started = kit.events("login.throttled")
    cleared = kit.events("login.throttle_cleared")
    assert [e["data"]["device"] for e in started] == ["counter-2"]
    assert [(e["data"]["why"], e["data"]["user"]) for e in cleared] == [("login", "clerk2")]


def test_a_supervisor_clears_a_pcs_wait_and_it_is_in_the_audit_log(kit: HallKit) -> None:
    pc = at("counter-2")
    for _ in range(6):
        kit.run("login", login_args("clerk2", "guess", 2), pc)
    assert kit.err("login", login_args("clerk2", PASSWORD, 2), pc).code == Err.THROTTLED
    assert registry.refusal("clear_throttle", Role.COUNTER, "clerk") == (
        Err.FORBIDDEN, "权限不足 / a clerk login may not run clear_throttle")
    boss = kit.login("super1", counter=None)
    res = kit.ok("clear_throttle", {"device": "counter-2", "user": "clerk2"}, boss)
    assert res["cleared"] == [{"device": "counter-2", "user": "clerk2"}]
    assert res["throttled"] == []
    assert kit.ok("login", login_args("clerk2", PASSWORD, 2), pc)
    (row,) = [e for e in kit.events("login.throttle_cleared")
              if e["data"]["why"] == "supervisor"]
    assert row["staff_id"] == boss.staff_id and row["data"]["device"] == "counter-2"
    assert kit.err("clear_throttle", {}, boss).code == Err.BAD_REQUEST


def test_the_throttle_survives_a_failed_write(kit: HallKit) -> None:
    pc = at("counter-2")
    for _ in range(3):
        kit.run("login", login_args("clerk2", "guess", 2), pc)
    with kit.unwritable():
        kit.run("issue", {"services": ["RS01"]}, kit.kiosk)
    kit.hall.recover()
    assert kit.err("login", login_args("clerk2", PASSWORD, 2), pc).code == Err.THROTTLED


# -- nothing a client types is kept without bound -----------------------------------------------


def test_made_up_user_names_do_not_stay_in_memory(kit: HallKit) -> None:
    pc = at("counter-1")
    for i in range(2000):
        kit.run("login", login_args(f"{i:06d}" + "x" * 30_000, "guess", None), pc)
    throttle = kit.hall.state.throttle
    assert len(throttle) <= Throttle.PER_DEVICE
    held = sum(len(k) for table in throttle._by_device.values() for k in table)
    assert held < 64 * 100, "long names are kept as short hashes"
    kit.clock.advance(minutes=16)
    kit.run("login", login_args("someone", "guess", None), pc)
    assert len(throttle) == 1, "entries are forgotten a while after their last failure"


def test_a_flood_of_made_up_names_does_not_wash_out_a_real_wait(kit: HallKit) -> None:
    pc = at("counter-2")
    for _ in range(5):
        kit.run("login", login_args("clerk2", "guess", 2), pc)
    for i in range(500):
        kit.run("login", login_args(f"nobody-{i}", "guess", None), pc)
    assert kit.err("login", login_args("clerk2", PASSWORD, 2), pc).code == Err.THROTTLED


@pytest.mark.parametrize("devices", [1, 100])
def test_the_throttle_table_is_bounded_whatever_the_devices(devices: int) -> None:
    import datetime as dt

    t = Throttle()
    now = dt.datetime(2026, 11, 26, 9, tzinfo=dt.UTC)
    for i in range(20_000):
        t.failed(f"pc-{i % devices}", f"user-{i}", now)
    assert len(t) <= min(Throttle.TOTAL, Throttle.PER_DEVICE * devices)


def test_logging_in_again_and_again_at_one_pc_holds_one_login(kit: HallKit) -> None:
    pc = at("supervisor-1")
    tokens = [kit.ok("login", login_args("super1", PASSWORD, None), pc)["token"]
              for _ in range(200)]
    assert len(kit.hall.state.sessions) == 1
    assert kit.hall.actor_for(tokens[-1], "supervisor-1", Role.COUNTER).staff_role \
        == "supervisor"
    with pytest.raises(HallError) as exc:
        kit.hall.actor_for(tokens[0], "supervisor-1", Role.COUNTER)
    assert exc.value.code == Err.UNAUTHENTICATED
    kit.login("clerk1", counter=1)  # other logins are untouched
    assert len(kit.hall.state.sessions) == 2
