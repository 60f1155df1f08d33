"""A running hall ends logins the CLI took away (`staff disable`, `device revoke`)
within seconds, without a restart: a real `queue-server run`, real clients."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from queue_common.connection import Connection, Reply
from tests.integration.test_wire_cli import cli
from tests.support.live import live_hall

NOTICED_WITHIN = 5.0


def first_refusal(probe: Callable[[], Reply], seconds: float) -> tuple[Reply, float]:
    """Ask again and again until the hall answers UNAUTHENTICATED; the reply and when."""
    started = time.monotonic()
    while True:
        reply = probe()
        took = time.monotonic() - started
        if reply.error_code == "UNAUTHENTICATED" or took > seconds:
            return reply, took
        time.sleep(0.1)


def window_clerk(board: Connection, number: int) -> object:
    return board.mirror.state["counters"][number]["clerk"]


def test_a_clerk_disabled_with_the_cli_is_refused_within_seconds(tmp_path: Path) -> None:
    with live_hall(tmp_path) as hall:
        board = hall.connect("board-1")
        clerk = hall.connect("counter-1", user="clerk1", counter=1)
        kiosk = hall.connect("kiosk-1")
        assert kiosk.call("issue", {"services": [_first_service(board)]}).ok
        called = clerk.call("call_next")
        assert called.ok, called.error_message
        ticket_id = called.result["ticket"]["id"] if called.result else None
        # Before: the clerk may ask; a resume of a window that is not paused is a
        # CONFLICT (logged in, wrong state), which is what the probe tells apart.
        assert clerk.call("resume").error_code == "CONFLICT"
        done = cli("staff", "disable", "clerk1", "--data", str(hall.data))
        assert done.returncode == 0, done.stderr
        reply, took = first_refusal(lambda: clerk.call("resume"), NOTICED_WITHIN + 2)
        assert reply.error_code == "UNAUTHENTICATED", hall.log()
        assert took <= NOTICED_WITHIN, f"refused only after {took:.1f} s"
        assert clerk.call("pause", {"reason": "lunch"}).error_code == "UNAUTHENTICATED"
        assert board.wait_until(lambda: window_clerk(board, 1) is None, 5)
        window = board.mirror.state["counters"][1]
        assert window["ticket_id"] == ticket_id and window["state"] == "calling", \
            "the citizen called to window 1 is left there"
        again = clerk.call("login", {"user": "clerk1", "password": "demo1234", "counter": 1})
        assert again.error_code == "BAD_CREDENTIALS"


def test_a_revoked_device_takes_its_logins_with_it(tmp_path: Path) -> None:
    with live_hall(tmp_path) as hall:
        board = hall.connect("board-1")
        old = hall.connect("counter-2", user="clerk2", counter=2)
        token = old.token
        assert board.wait_until(lambda: window_clerk(board, 2) is not None, 5)
        assert cli("device", "revoke", "counter-2", "--data", str(hall.data)).returncode == 0
        assert board.wait_until(lambda: window_clerk(board, 2) is None, NOTICED_WITHIN), \
            hall.log()
        # The PC is set up again under the same name: the old login is not revived.
        added = cli("device", "add", "counter-2", "--role", "counter", "--data", str(hall.data))
        assert added.returncode == 0, added.stderr
        new = hall.connect("counter-2")
        new.token = token
        assert new.call("pause", {"reason": "lunch"}).error_code == "UNAUTHENTICATED"


def _first_service(board: Connection) -> str:
    return str(board.mirror.state["services"][0]["code"])


def test_wrong_passwords_slow_only_the_pc_that_typed_them(tmp_path: Path) -> None:
    with live_hall(tmp_path) as hall:
        hostile = hall.connect("counter-3")
        codes = [hostile.call("login", {"user": "clerk3", "password": f"wrong-{i}",
                                        "counter": 3}).error_code for i in range(3)]
        assert codes == ["BAD_CREDENTIALS"] * 3
        right = hostile.call("login", {"user": "clerk3", "password": "demo1234", "counter": 3})
        assert right.error_code == "THROTTLED" and right.details.get("retry_after", 0) > 0
        own = hall.connect("counter-4")  # the same clerk at another PC is not held up
        mine = own.call("login", {"user": "clerk3", "password": "demo1234", "counter": 4})
        assert mine.ok, mine.error_message
        other = hall.connect("counter-2", user="clerk2", counter=2)
        assert other.token is not None, "another clerk is not held up"
        # A window belongs to its PC: counter-3 cannot log anybody in at window 2.
        wrong = hostile.call("login", {"user": "clerk2", "password": "demo1234", "counter": 2})
        assert wrong.error_code == "WRONG_WINDOW"
        boss = hall.connect("supervisor-1", user="super1", counter=None)
        cleared = boss.call("clear_throttle", {"device": "counter-3", "user": "clerk3"})
        assert cleared.ok and cleared.result is not None, cleared.error_message
        assert cleared.result["cleared"] == [{"device": "counter-3", "user": "clerk3"}]
        again = hostile.call("login", {"user": "clerk3", "password": "demo1234", "counter": 3})
        assert again.ok, again.error_message
        assert other.call("clear_throttle", {"device": "counter-3"}).error_code == "FORBIDDEN"
