"""What goes wrong in a real hall, done for real, and the state checked exact afterwards.

The server is a `queue-server run` process (tests/support/live.py); crashes are SIGKILL;
the network cut is a relay between one counter PC and the server that stops forwarding
(tests/e2e/relay.py); the unwritable database is the SQLite file made immutable
(`chattr +i`: root ignores file modes, not that flag) or a full disk (the server's
file-size limit lowered with prlimit). After each fault the hall's state is compared
with what was acknowledged before it.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import subprocess
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from counter_client import caller_state as cs
from queue_common.connection import Connection
from queue_common.protocol import Err
from tests.e2e.relay import HallRelay
from tests.e2e.support import AppProcess, db_rows, events_of, wait_until
from tests.support.live import LiveHall, live_hall
from tests.tk.board_display import private_display, screenshot
from tests.tk.test_counter_live import Desk, pump

pytestmark = [pytest.mark.tk, pytest.mark.slow]


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with private_display() as name:  # the largest: whichever module runs first sizes it
        yield name


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[LiveHall]:
    with live_hall(tmp_path) as running:
        yield running


def ok(reply: Any) -> dict[str, Any]:
    assert reply.ok, f"{reply.error_code}: {reply.error_message}"
    result: dict[str, Any] = reply.result
    return result


def issue(conn: Connection, *services: str) -> dict[str, Any]:
    ticket: dict[str, Any] = ok(conn.call("issue", {"services": list(services)}))["ticket"]
    return ticket


def server_ticket(conn: Connection, ticket_id: int) -> dict[str, Any]:
    found: dict[str, Any] = ok(conn.call("ticket_status", {"ticket_id": ticket_id}))["ticket"]
    return found


def hall_view(state: dict[str, Any]) -> dict[str, Any]:
    """What must agree between a mirror and the server: tickets, windows, waiting."""
    tickets = state["tickets"]
    counters = state["counters"]
    if isinstance(tickets, dict):
        tickets = list(tickets.values())
    if isinstance(counters, dict):
        counters = list(counters.values())
    return {
        "tickets": sorted((t["id"], t["number"], t["state"], t["counter"],
                           tuple((i["service"], i["state"]) for i in t["items"]))
                          for t in tickets),
        "counters": sorted((c["number"], c["state"], c["ticket_id"],
                            (c.get("clerk") or {}).get("user")) for c in counters),
        "waiting": state["waiting"]["total"],
    }


# -- the network between window 1 and the server is cut, then heals ----------------


def _window_1_behind_a_relay(hall: LiveHall, display: str) -> tuple[HallRelay, Desk]:
    """Window 1's caller reaches the server only through a TCP relay the test can cut."""
    relay = HallRelay(hall.host, hall.request_port, hall.event_port)
    through_relay = types.SimpleNamespace(
        data=hall.data, host="127.0.0.1", request_port=relay.requests.port,
        event_port=relay.events.port)
    return relay, Desk(through_relay, display, "counter-1")  # type: ignore[arg-type]


def test_a_cut_cable_shows_offline_sends_nothing_late_and_resyncs(
        hall: LiveHall, display: str, artifacts_dir: Path) -> None:
    relay, desk = _window_1_behind_a_relay(hall, display)
    try:
        kiosk = hall.connect("kiosk-1")
        window2 = hall.connect("counter-2", user="clerk2", counter=2)
        first, second = issue(kiosk, "RS01"), issue(kiosk, "RS02")
        caller = desk.login("clerk1", 1)
        assert pump(desk.root, lambda: caller.view.waiting_total == 2)

        # The cable is pulled. Within seconds the clerk sees it, with nothing to press.
        relay.cut()
        cut_at = time.monotonic()
        assert pump(desk.root, lambda: caller.banner.winfo_ismapped(), timeout=10)
        noticed = time.monotonic() - cut_at
        assert caller.enabled() == frozenset()
        desk.root.lift()
        screenshot(desk.root, display, artifacts_dir / "e2e_counter_offline.png")

        # The clerk presses F1 anyway, twice, and the button; none of it may arrive late.
        desk.press(cs.CALL_NEXT)
        caller.buttons[cs.CALL_NEXT].invoke()
        desk.press(cs.CALL_NEXT)
        # Meanwhile the hall goes on: window 2 takes the first citizen.
        assert ok(window2.call("call_next"))["ticket"]["id"] == first["id"]
        pump(desk.root, lambda: False, timeout=1.0)

        relay.heal()
        healed_at = time.monotonic()
        assert pump(desk.root, lambda: not caller.banner.winfo_ismapped(), timeout=10)
        resynced = time.monotonic() - healed_at
        # Back in sync: window 1 sees that window 2 took the first, the second still waits.
        assert pump(desk.root, lambda: [t.number for t in caller.view.waiting]
                    == [second["number"]], timeout=5), [t.number for t in caller.view.waiting]
        desk.wait_state("idle")
        assert cs.CALL_NEXT in caller.enabled()

        # Nothing pressed during the cut took effect afterwards.
        pump(desk.root, lambda: False, timeout=2.0)
        assert server_ticket(kiosk, second["id"])["state"] == "waiting"
        assert server_ticket(kiosk, first["id"])["counter"] == 2
        assert [e for e in events_of(hall.data, "ticket.called")
                if e["data"]["call"]["counter"] == 1] == []
        assert hall_view(desk.conn.mirror.state) == hall_view(ok(kiosk.call("state")))

        # And the window works again: F1 calls the second citizen, once.
        desk.press(cs.CALL_NEXT)
        desk.wait_state("calling", second["number"])
        print(f"offline shown {noticed:.1f} s after the cut; online {resynced:.1f} s after "
              f"the heal; {relay.requests.dropped_while_cut} connection attempts refused, "
              f"{relay.requests.discarded_bytes} held request bytes discarded")
    finally:
        desk.close()
        relay.stop()


def test_a_key_pressed_just_as_the_cable_is_cut_does_not_land_after_the_heal(
        hall: LiveHall, display: str) -> None:
    """The hardest case: F1 leaves the PC in the instant the cable goes, before the
    client can know. The clerk is told it did not go through; then it must not happen."""
    relay, desk = _window_1_behind_a_relay(hall, display)
    try:
        kiosk = hall.connect("kiosk-1")
        ticket = issue(kiosk, "RS01")
        caller = desk.login("clerk1", 1)
        assert pump(desk.root, lambda: caller.view.waiting_total == 1)
        relay.cut()
        desk.press(cs.CALL_NEXT)  # on its way into the dead cable
        # The screen says offline and the F1 is over (failed: the banner says so)...
        assert pump(desk.root, lambda: caller.banner.winfo_ismapped()
                    and not caller.gate.busy(), timeout=10)
        told = caller.message
        relay.heal()  # ...and that very moment the cable is back
        assert pump(desk.root, lambda: not caller.banner.winfo_ismapped(), timeout=10)
        pump(desk.root, lambda: False, timeout=2.0)
        state = server_ticket(kiosk, ticket["id"])["state"]
        assert (state, caller.view.counter_state) == ("waiting", "idle"), (
            f"the F1 pressed into the cut landed after the heal (clerk was told {told!r})")
    finally:
        desk.close()
        relay.stop()


# -- the database cannot be written -------------------------------------------------


def _immutable(paths: list[Path], on: bool) -> None:
    for path in paths:
        if path.exists():
            subprocess.run(["chattr", "+i" if on else "-i", str(path)], check=True,
                           capture_output=True)


def _chattr_works(directory: Path) -> str | None:
    """None if `chattr +i` makes a file here unwritable, else why not (to skip)."""
    if shutil.which("chattr") is None:
        return "chattr not installed (e2fsprogs)"
    probe = directory / "chattr-probe"
    probe.write_text("x")
    try:
        done = subprocess.run(["chattr", "+i", str(probe)], capture_output=True, text=True)
        if done.returncode != 0:
            return f"chattr +i not supported on this file system: {done.stderr.strip()}"
        try:
            probe.write_text("y")
        except OSError:
            return None
        return "an immutable file was still writable"
    finally:
        subprocess.run(["chattr", "-i", str(probe)], capture_output=True)
        probe.unlink()


@contextlib.contextmanager
def unwritable(hall: LiveHall, how: str) -> Iterator[None]:
    """The hall's database cannot be written while inside, by one of two real causes.

    "read-only file": the SQLite file and its write-ahead log made immutable (root
    ignores file modes, not `chattr +i`). "full disk": the running server may not
    write past the first KiB of any file (RLIMIT_FSIZE set on its process with
    prlimit), which is what a full disk looks like to SQLite; no root needed.
    """
    db = hall.data / "queue.sqlite3"
    if how == "read-only file":
        why = _chattr_works(hall.data)
        if why is not None:
            pytest.skip(f"cannot make the database file read-only: {why}")
        locked = [db, db.with_name(db.name + "-wal")]
        _immutable(locked, True)
        try:
            yield
        finally:
            _immutable(locked, False)
        return
    resource = pytest.importorskip("resource", reason="POSIX only: no file-size limits")
    if not hasattr(resource, "prlimit") or hall.proc is None:
        pytest.skip("no prlimit on this platform: cannot fill the disk for one process")
    old = resource.prlimit(hall.proc.pid, resource.RLIMIT_FSIZE,
                           (1024, resource.RLIM_INFINITY))
    try:
        yield
    finally:
        resource.prlimit(hall.proc.pid, resource.RLIMIT_FSIZE, old)


@pytest.mark.parametrize("how", ["read-only file", "full disk"])
def test_an_unwritable_database_refuses_cleanly_and_service_resumes(
        hall: LiveHall, how: str) -> None:
    kiosk = hall.connect("kiosk-1")
    clerk = hall.connect("counter-1", user="clerk1", counter=1)
    board = hall.connect("board-1")
    first = issue(kiosk, "RS01")
    called = ok(clerk.call("call_next"))["ticket"]
    assert called["id"] == first["id"]
    assert board.wait_until(
        lambda: (board.mirror.ticket(first["id"]) or {}).get("state") == "called", 5)
    before = hall_view(ok(kiosk.call("state")))
    seq_before = board.mirror.seq
    rows_before = {t: db_rows(hall.data, f"SELECT COUNT(*) AS n FROM {t}")[0]["n"]
                   for t in ("ticket", "ticket_item", "period", "event", "processed_request")}

    with unwritable(hall, how):
        refused = [kiosk.call("issue", {"services": ["RS02"]}),
                   clerk.call("start"),
                   clerk.call("recall"),
                   kiosk.call("issue", {"services": ["YB01", "RS01"]})]
        for reply in refused:
            assert (reply.ok, reply.error_code) == (False, Err.STORE_UNAVAILABLE), reply
            assert reply.error_message and " / " in reply.error_message  # 中文 / English
        # Reads still work, and nothing of the refused operations shows anywhere.
        assert hall_view(ok(kiosk.call("state"))) == before
        board.wait_until(lambda: False, 1.0)
        assert board.mirror.seq == seq_before and hall_view(board.mirror.state) == before
        assert hall.proc is not None and hall.proc.poll() is None, "the server died"

    # Writable again: the same operations go through, numbering continues without a gap.
    assert {t: db_rows(hall.data, f"SELECT COUNT(*) AS n FROM {t}")[0]["n"]
            for t in rows_before} == rows_before
    assert server_ticket(kiosk, first["id"])["recalls"] == 0  # the refused recall left no trace
    again = issue(kiosk, "RS02")
    assert again["number"] == first["number"][0] + f"{int(first['number'][1:]) + 1:03d}"
    ok(clerk.call("start"))
    ok(clerk.call("complete", {"done": None, "not_done": []}))
    assert server_ticket(kiosk, first["id"])["state"] == "done"
    assert board.wait_until(lambda: hall_view(board.mirror.state)
                            == hall_view(ok(kiosk.call("state"))), 5)


# -- kill -9 the server in the middle of a burst ------------------------------------

KIOSKS = 12
WINDOWS = (("clerk1", 1), ("clerk2", 2), ("clerk3", 3), ("super1", 4))
WATCHERS = ("board-1", "board-1", "counter-5", "counter-6")


class Burst:
    """20 clients, each its own Connection and thread, hammering one hall."""

    def __init__(self, hall: LiveHall) -> None:
        self.hall = hall
        self.stop = threading.Event()
        self.issued: list[dict[str, Any]] = []           # acknowledged issue replies
        self.acked: list[tuple[str, int, int]] = []      # (op, ticket id, window)
        self.lock = threading.Lock()
        Plan = tuple[str, str | None, int | None]  # device, clerk, window
        plan: list[Plan] = [("kiosk-1", None, None) for _ in range(KIOSKS)]
        plan += [(f"counter-{n}", user, n) for user, n in WINDOWS]
        plan += [(device, None, None) for device in WATCHERS]
        self.conns: list[Connection | None] = [None] * len(plan)
        self.roles = [("clerk" if user else "kiosk" if dev == "kiosk-1" else "watcher", n)
                      for dev, user, n in plan]

        def connect(i: int) -> None:
            dev, user, n = plan[i]
            self.conns[i] = hall.connect(dev, user=user, counter=n, wait=30)

        threads = [threading.Thread(target=connect, args=(i,)) for i in range(len(plan))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert all(c is not None for c in self.conns), "not every client connected"

    @property
    def clients(self) -> list[Connection]:
        return [c for c in self.conns if c is not None]

    def _kiosk(self, conn: Connection, seed: int) -> None:
        rnd = random.Random(seed)
        while not self.stop.is_set():
            matters = rnd.sample(["RS01", "RS02", "YB01", "YB02", "MZ02"], rnd.choice((1, 2)))
            reply = conn.call("issue", {"services": matters}, timeout=1.0, retries=1)
            if reply.ok and reply.result is not None:
                with self.lock:
                    self.issued.append(reply.result["ticket"])

    def _window(self, conn: Connection, window: int) -> None:
        while not self.stop.is_set():
            reply = conn.call("call_next", timeout=1.0, retries=1)
            if not reply.ok or reply.result is None:
                time.sleep(0.02)
                continue
            tid = int(reply.result["ticket"]["id"])
            with self.lock:
                self.acked.append(("call_next", tid, window))
            steps: list[tuple[str, dict[str, Any]]] = [
                ("start", {}), ("complete", {"done": None, "not_done": []})]
            for op, args in steps:
                if self.stop.is_set() or not conn.call(op, args, timeout=1.0,
                                                       retries=1).ok:
                    break
                with self.lock:
                    self.acked.append((op, tid, window))

    def run(self) -> list[threading.Thread]:
        workers = []
        for i, (conn, (role, window)) in enumerate(zip(self.clients, self.roles, strict=True)):
            if role == "kiosk":
                workers.append(threading.Thread(target=self._kiosk, args=(conn, i)))
            elif role == "clerk":
                assert window is not None
                workers.append(threading.Thread(target=self._window, args=(conn, window)))
        for w in workers:
            w.start()
        return workers


def test_kill_9_during_a_burst_from_20_clients_loses_nothing_acknowledged(
        hall: LiveHall) -> None:
    burst = Burst(hall)
    workers = burst.run()
    wait_until(lambda: len(burst.issued) >= 40 and sum(
        op == "call_next" for op, _t, _w in burst.acked) >= 8, 30, "the burst got going")
    hall.kill()  # mid-burst: requests in flight, replies unsent
    burst.stop.set()
    for w in workers:
        w.join(15)
    old_epoch = burst.clients[0].mirror.epoch
    hall.start()  # same ports, same database; READY when it returns

    def in_sync() -> bool:
        for conn in burst.clients:
            conn.poll(10_000)
        return all(c.online and c.mirror.epoch == hall.epoch for c in burst.clients)

    took = wait_until(in_sync, 10, "all 20 clients resynced")
    assert hall.epoch != old_epoch
    assert took <= 3.0, f"clients back in sync {took:.2f} s after the restart (> 3 s)"

    truth = ok(burst.clients[0].call("state"))
    for conn in burst.clients:  # every mirror is the server's state, not an old one
        conn.poll(10_000)
        assert hall_view(conn.mirror.state) == hall_view(truth), conn.device

    # Every acknowledged ticket is there, with its number; no number twice.
    rows = {r["id"]: r for r in db_rows(hall.data, "SELECT id, number, state FROM ticket")}
    for ticket in burst.issued:
        assert rows[ticket["id"]]["number"] == ticket["number"], "acknowledged ticket lost"
    numbers = [r["number"] for r in rows.values()]
    assert len(numbers) == len(set(numbers)), "a number was given twice"

    # Every acknowledged call happened at that window; no ticket went to two windows.
    called_at: dict[int, set[int]] = {}
    for e in events_of(hall.data, "ticket.called"):
        called_at.setdefault(e["ticket_id"], set()).add(e["data"]["call"]["counter"])
    for op, tid, window in burst.acked:
        assert window in called_at.get(tid, set()), f"acknowledged call of {tid} lost"
        if op == "complete":
            assert rows[tid]["state"] == "done", f"acknowledged completion of {tid} lost"
        if op == "start":
            assert rows[tid]["state"] in ("serving", "done")
    assert all(len(w) == 1 for w in called_at.values()), "a ticket was called at two windows"
    at_windows = [(c["ticket_id"], c["number"]) for c in truth["counters"] if c["ticket_id"]]
    assert len({t for t, _n in at_windows}) == len(at_windows), "a ticket at two windows"
    tickets = {t["id"]: t for t in truth["tickets"]}
    for tid, window in at_windows:
        assert tickets[tid]["counter"] == window

    # The hall goes on where it stopped: the next number is new.
    nxt = issue(burst.clients[0], "RS01")
    assert nxt["number"] not in numbers
    print(f"{len(burst.issued)} tickets and {len(burst.acked)} window operations "
          f"acknowledged before the kill; 20 clients in sync {took:.2f} s after READY")


# -- a board, a kiosk and a caller PC lose power mid-operation -----------------------


def _waiting_numbers(state: dict[str, Any]) -> list[str]:
    waiting = [t for t in state["tickets"] if t["state"] == "waiting"]
    return [t["number"] for t in sorted(waiting, key=lambda t: t["id"])]


def _window_row(texts: list[str], window: int) -> str:
    """The number the board shows for a window (its row: 1号, number, state)."""
    return texts[texts.index(f"{window}号") + 1] if f"{window}号" in texts else "?"


def test_killing_a_board_a_kiosk_and_a_caller_mid_operation_spares_the_rest(
        hall: LiveHall, display: str, tmp_path: Path, artifacts_dir: Path) -> None:
    server = f"{hall.host}:{hall.request_port}:{hall.event_port}"
    logs = tmp_path / "app-logs"
    board = AppProcess("board", hall.data, server, display, "board-1", log_dir=logs)
    kiosk = AppProcess("kiosk", hall.data, server, display, "kiosk-1", log_dir=logs)
    counter = AppProcess("counter", hall.data, server, display, "counter-1", counter=1,
                         user="clerk1", log_dir=logs)
    apps = (board, kiosk, counter)
    truth = hall.connect("supervisor-1")

    def state() -> dict[str, Any]:
        return ok(truth.call("state"))

    def everyone_shows_the_truth(*, skip: AppProcess | None = None) -> dict[str, Any]:
        """Wait until the running apps show what the server holds (asked afresh each
        time: a restarted caller's own login is part of the truth)."""
        seen: dict[str, Any] = {}

        def agree() -> bool:
            now = seen["now"] = state()
            waiting = _waiting_numbers(now)
            window1 = next(c for c in now["counters"] if c["number"] == 1)
            current = next((t["number"] for t in now["tickets"]
                            if t["id"] == window1["ticket_id"]), None)
            if counter is not skip:
                s = seen["counter"] = counter.state()
                if not (s.get("logged_in") and s["online"] and not s["busy"]
                        and s["waiting"] == waiting and s["state"] == window1["state"]
                        and (current is None or s["number"] == current)):
                    return False
            if board is not skip:
                s = seen["board"] = board.state()
                if not (s["online"] and f"共 {len(waiting)} 人等候" in s["texts"]
                        and _window_row(s["texts"], 1) == (current or "—")):
                    return False
            return True

        try:
            wait_until(agree, 10, "the apps show the server's state", step=0.1)
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {seen}") from None
        result: dict[str, Any] = seen["now"]
        return result

    def take_ticket(*matters: tuple[str, str]) -> str:
        for dept, matter in matters:
            kiosk.ask({"do": "choose", "dept": dept, "matter": matter})
        kiosk.ask({"do": "confirm"})
        shown = kiosk.wait_state(lambda s: s["shown"] is not None, 10, "a ticket shown")
        number: str = shown["shown"]
        return number

    try:
        for app in apps:
            app.start()
        kiosk.wait_state(lambda s: s["online"] and s["screen"] == "start", 20, "kiosk ready")
        first = take_ticket(("RS", "RS01"))
        everyone_shows_the_truth()

        # The kiosk dies the instant a citizen confirms two matters.
        for dept, matter in (("RS", "RS02"), ("YB", "YB01")):
            kiosk.ask({"do": "choose", "dept": dept, "matter": matter})
        kiosk.ask({"do": "confirm"})
        kiosk.kill()
        time.sleep(0.5)  # whatever was on the wire has landed
        tickets = state()["tickets"]
        lost_or_whole = [t for t in tickets if t["number"] != first]
        assert len(lost_or_whole) <= 1
        print(f"kiosk killed at confirm: {'issued whole' if lost_or_whole else 'not issued'}")
        for t in lost_or_whole:  # issued whole or not at all
            assert [i["service"] for i in t["items"]] == ["RS02", "YB01"]
        everyone_shows_the_truth(skip=kiosk)  # the board and window 1 carry on
        kiosk.start()
        kiosk.wait_state(lambda s: s["online"] and s["screen"] == "start" and s["chosen"] == [],
                         20, "the restarted kiosk starts clean")
        third = take_ticket(("RS", "RS01"))
        assert third not in [t["number"] for t in tickets]
        before_counter = everyone_shows_the_truth()

        # Window 1's PC dies the instant the clerk presses F1.
        assert counter.ask({"do": "press", "action": "call_next"})["pressed"]
        counter.kill()
        time.sleep(0.5)
        after = state()
        window1 = next(c for c in after["counters"] if c["number"] == 1)
        assert window1["state"] in ("idle", "calling")
        print(f"caller killed at F1: window 1 is {window1['state']}")
        if window1["state"] == "calling":  # it went through: the first in line, once
            assert window1["ticket_id"] == min(t["id"] for t in before_counter["tickets"])
        everyone_shows_the_truth(skip=counter)  # the board shows what really happened
        fourth = take_ticket(("YB", "YB02"))  # the kiosk carries on
        assert fourth not in (first, third)
        counter.start()  # the clerk restarts the caller; it logs in by itself
        everyone_shows_the_truth()
        if window1["state"] == "idle":
            counter.ask({"do": "press", "action": "call_next"})
            counter.wait_state(lambda s: s["state"] == "calling", 10, "F1 after restart")

        # The board dies in the middle of showing (and flashing) a new call.
        counter.ask({"do": "press", "action": "start"})
        counter.wait_state(lambda s: s["state"] == "serving" and not s["busy"], 10, "serving")
        counter.ask({"do": "press", "action": "complete"})
        counter.wait_state(lambda s: s["state"] == "idle" and not s["busy"], 10, "completed")
        counter.ask({"do": "press", "action": "call_next"})
        board.kill()
        counter.wait_state(lambda s: s["state"] == "calling" and not s["busy"], 10, "called")
        take_ticket(("RS", "RS03"))  # the rest of the hall does not notice
        board.start()
        now = everyone_shows_the_truth()
        board.ask({"do": "shot", "path": str(artifacts_dir / "e2e_board_restarted.png")})
        numbers = [t["number"] for t in now["tickets"]]
        assert len(numbers) == len(set(numbers))
    finally:
        for app in apps:
            app.close()
