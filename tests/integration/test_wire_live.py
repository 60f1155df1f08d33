"""The wire against a real `queue-server run` process: a hall day, roles, concurrency.

Every test starts the server as a subprocess on OS-chosen loopback ports (tests/support/
live.py) and talks to it only through the client Connection or raw CURVE sockets.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zmq

from queue_common import protocol as p
from queue_common.connection import Connection, Reply
from queue_common.endpoint import ClientKeys
from queue_server import schema
from tests.support.live import DEMO_PASSWORD, LiveHall, live_hall
from tests.support.schema_check import validate_event_data, validate_exchange

pytestmark = pytest.mark.slow


def ticket_of(reply: Reply) -> dict[str, Any]:
    assert reply.ok, f"{reply.error_code}: {reply.error_message} {reply.details}"
    result = reply.result or {}
    ticket = result.get("ticket", result)
    assert isinstance(ticket, dict) and "id" in ticket, result
    return ticket


def general_services(conn: Connection) -> list[str]:
    return [s["code"] for s in conn.mirror.state["services"] if s.get("general")]


def add_clerks(data: Path, count: int) -> None:
    """Extra clerk accounts w1..wN (demo password) so every window can be staffed."""
    import datetime as dt

    from queue_server.devices import hall_database
    from queue_server.passwords import hash_password
    from queue_server.store import admin

    digest = hash_password(DEMO_PASSWORD)
    with hall_database(data) as engine:
        for i in range(1, count + 1):
            admin.add_staff(engine, f"w{i}", f"窗口{i}", f"08{i:02d}", "clerk", digest,
                            dt.datetime.now(dt.UTC))


BOOKING = "YY20261126001"


def add_booking(data: Path) -> None:
    """Today's booking (the city's export format), so the kiosk can check it in."""
    import datetime as dt
    import subprocess
    import sys
    import zoneinfo

    today = dt.datetime.now(zoneinfo.ZoneInfo("Asia/Shanghai")).date().isoformat()
    export = data / "bookings.csv"
    export.write_text("预约码,姓名,手机尾号,办理事项,预约日期,预约时段\n"
                      f"{BOOKING},张*明,1234,RS01,{today},00:00-23:59\n", "utf-8")
    done = subprocess.run([sys.executable, "-m", "queue_server.cli", "appointments",
                           "--data", str(data), "import", str(export)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[LiveHall]:
    def prepare(data: Path) -> None:
        add_clerks(data, 8)
        add_booking(data)

    with live_hall(tmp_path, prepare=prepare) as running:
        yield running


def test_a_hall_day_runs_every_operation(hall: LiveHall, artifacts_dir: Path) -> None:
    examples: dict[str, Any] = {}

    def record(conn: Connection, op: str, args: dict[str, Any] | None,
               key: str | None = None) -> Reply:
        token = "<token>" if conn.token and op != "login" else None
        reply = conn.call(op, args or {})
        request = {"v": 1, "id": reply.request_id, "op": op, "token": token,
                   "args": args or {}}
        if reply.ok:
            answer: dict[str, Any] = {"v": 1, "id": reply.request_id, "ok": True,
                                      "result": reply.result}
        else:
            answer = {"v": 1, "id": reply.request_id, "ok": False, "error": {
                "code": reply.error_code, "message": reply.error_message,
                "details": reply.details}}
        # The first exchange of each op: later ones (a second call_next) would show a
        # reply out of step with the exchanges printed before it (Appendix A).
        examples.setdefault(key or op, {"device": conn.device, "request": request,
                                        "reply": answer})
        return reply

    def ok(conn: Connection, op: str, args: dict[str, Any] | None = None) -> Reply:
        reply = record(conn, op, args)
        assert reply.ok, f"{op}: {reply.error_code} {reply.error_message} {reply.details}"
        return reply

    kiosk = hall.connect("kiosk-1")
    board = hall.connect("board-1")
    clerk = hall.connect("counter-1")
    boss = hall.connect("supervisor-1", user="super1", counter=None)
    services = general_services(kiosk)
    board.add_listener(lambda type_, data: examples.setdefault(f"event {type_}", data)
                       if type_ not in ("resync", "connection") else None)
    ok(clerk, "login", {"user": "clerk1", "password": DEMO_PASSWORD, "counter": 1})
    assert record(kiosk, "call_next", {}, "error FORBIDDEN").error_code == p.Err.FORBIDDEN
    assert record(kiosk, "issue", {"services": ["XX99"]}, "error UNKNOWN_SERVICE"
                  ).error_code == p.Err.UNKNOWN_SERVICE
    assert ok(kiosk, "hello").result["role"] == "kiosk"  # type: ignore[index]
    assert ok(board, "state").result["epoch"] == hall.epoch  # type: ignore[index]

    first = ticket_of(ok(kiosk, "issue", {"services": services[:2]}))
    second = ticket_of(ok(kiosk, "issue", {"services": [services[0]],
                                           "priority_class": "elderly"}))
    third = ticket_of(ok(kiosk, "issue", {"services": [services[0]]}))
    fourth = ticket_of(ok(kiosk, "issue", {"services": [services[0]]}))
    assert len({first["number"], second["number"], third["number"], fourth["number"]}) == 4
    booked = ticket_of(ok(kiosk, "check_in", {"code": BOOKING}))
    assert booked["kind"] == "appointment"
    assert record(kiosk, "check_in", {"code": BOOKING}, "error APPOINTMENT_INVALID"
                  ).error_code == p.Err.APPOINTMENT_INVALID, "a booking is used once"
    ok(board, "ticket_status", {"ticket_id": first["id"]})
    ok(kiosk, "device_status", {"state": "warning", "message": "纸快用完 / paper low"})

    listed = ok(clerk, "window_queue").result or {}
    assert listed["counter"] == 1 and listed["epoch"] == hall.epoch
    assert listed["seq"] == (board.call("hello").result or {}).get("seq"), \
        "nothing happened since: the list is as of the last event"
    called = ticket_of(ok(clerk, "call_next"))
    assert called["id"] == listed["ticket_ids"][0], "the list's head is what call_next calls"
    assert board.wait_until(
        lambda: board.mirror.state["recent_calls"][:1]
        and board.mirror.state["recent_calls"][0]["ticket_id"] == called["id"], 3), \
        "the board hears the call"
    ok(clerk, "recall")
    recent = ok(board, "recent_calls").result or {}
    assert [c["recall"] for c in recent["calls"][:2]] == [True, False]
    ok(clerk, "start")
    ok(clerk, "complete", {})
    ok(clerk, "rate", {"ticket_id": called["id"], "level": 5})
    ticket_of(ok(clerk, "call", {"ticket_id": fourth["id"]}))
    ok(clerk, "no_show")
    ticket_of(ok(clerk, "call_next"))
    ok(clerk, "start")
    ok(clerk, "park", {"reason": "取材料 / fetching a document"})
    parked = [t for t in clerk.call("state").result["tickets"]  # type: ignore[index]
              if t["state"] == "parked"]
    assert parked
    ok(clerk, "unpark", {"ticket_id": parked[0]["id"]})
    own = clerk.mirror.state["counters"][1]["services"]
    elsewhere = [s["code"] for s in clerk.mirror.state["services"] if s["code"] not in own]
    ok(clerk, "transfer", {"service": elsewhere[0]})  # a matter window 1 does not take
    ok(clerk, "pause", {"reason": "lunch"})
    ok(clerk, "resume")
    ok(boss, "stats", {})
    ok(boss, "clear_throttle", {"device": "counter-2"})
    ok(boss, "counter_services", {"counter": 2, "services": services[:3]})
    remaining = [t for t in boss.call("state").result["tickets"]  # type: ignore[index]
                 if t["state"] == "waiting"]
    ok(boss, "cancel_ticket", {"ticket_id": remaining[0]["id"], "reason": "重复取号 / duplicate"})
    ok(clerk, "close_counter", {})
    ok(clerk, "open_counter", {})
    ok(clerk, "logout")
    assert clerk.token is None
    ok(boss, "close_day")
    assert board.wait_until(
        lambda: board.mirror.seq == (board.call("hello").result or {}).get("seq"), 3)
    for type_ in ("ticket.issued", "ticket.called", "ticket.completed", "counter.paused",
                  "rating.recorded", "day.closed", "device.status"):
        assert f"event {type_}" in examples, f"the board heard no {type_}"
    (artifacts_dir / "protocol-examples.json").write_text(
        json.dumps(examples, ensure_ascii=False, indent=1, default=str), "utf-8")
    doc = schema.document()  # every real exchange and event agrees with the schema
    for key, example in examples.items():
        if key.startswith("event "):
            validate_event_data(doc, key.removeprefix("event "), example)
        else:
            validate_exchange(doc, example["request"]["op"], example["request"],
                              example["reply"])


def test_each_device_may_do_only_its_own_work(hall: LiveHall) -> None:
    kiosk = hall.connect("kiosk-1")
    board = hall.connect("board-1")
    idle_counter = hall.connect("counter-3")
    clerk = hall.connect("counter-1", user="clerk1", counter=1)
    services = general_services(kiosk)
    assert kiosk.call("call_next").error_code == p.Err.FORBIDDEN, "a kiosk cannot call"
    assert board.call("issue", {"services": services[:1]}).error_code == p.Err.FORBIDDEN
    assert idle_counter.call("call_next").error_code == p.Err.UNAUTHENTICATED
    assert clerk.call("close_day").error_code == p.Err.FORBIDDEN, "clerks are not supervisors"
    assert clerk.call("stats", {}).error_code == p.Err.FORBIDDEN
    stolen = idle_counter.call("call_next", request_id=None)
    assert not stolen.ok
    # a token copied to another counter PC is worthless there
    raw = hall.connect("counter-2")
    raw.token = clerk.token
    assert raw.call("call_next").error_code == p.Err.UNAUTHENTICATED
    wrong = hall.connect("counter-4").call(
        "login", {"user": "clerk2", "password": "wrong-password", "counter": 4})
    assert wrong.error_code == p.Err.BAD_CREDENTIALS


def test_many_windows_pressing_next_at_once_never_call_one_ticket_twice(
        hall: LiveHall) -> None:
    kiosk = hall.connect("kiosk-1")
    services = general_services(kiosk)
    issued = [ticket_of(kiosk.call("issue", {"services": [services[i % 2]]}))["id"]
              for i in range(60)]
    clerks = [hall.connect(f"counter-{n}", user=f"w{n}", counter=n) for n in range(1, 9)]
    called: list[list[int]] = [[] for _ in clerks]
    barrier = threading.Barrier(len(clerks))

    def window(i: int) -> None:
        conn = clerks[i]
        barrier.wait()
        while True:
            reply = conn.call("call_next")
            if reply.error_code == p.Err.QUEUE_EMPTY:
                return
            called[i].append(ticket_of(reply)["id"])
            assert conn.call("start").ok
            assert conn.call("complete", {}).ok

    threads = [threading.Thread(target=window, args=(i,)) for i in range(len(clerks))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    everything = [tid for calls in called for tid in calls]
    assert len(everything) == len(set(everything)), "a ticket was called twice"
    assert sorted(everything) == sorted(issued), "every ticket was called exactly once"
    assert sum(1 for calls in called if calls) > 1, "several windows took part"


def _raw_dealer(ctx: zmq.Context[zmq.Socket[bytes]], hall: LiveHall,
                device: str) -> zmq.Socket[bytes]:
    keys = ClientKeys.from_data_dir(hall.data, device)
    s = ctx.socket(zmq.DEALER)
    s.linger = 0
    s.curve_serverkey = keys.server_public.encode()
    s.curve_publickey = keys.public.encode()
    s.curve_secretkey = keys.secret.encode()
    s.connect(hall.endpoint.request_url)
    return s


def test_a_lost_reply_retried_gives_one_ticket_even_across_a_restart(hall: LiveHall) -> None:
    kiosk = hall.connect("kiosk-1")
    services = general_services(kiosk)
    request = p.request("issue", {"services": services[:1]}, request_id="kiosk-retry-0001")
    ctx = zmq.Context()
    try:
        lost = _raw_dealer(ctx, hall, "kiosk-1")
        lost.send(p.encode(request))
        assert lost.poll(5000)
        first = p.decode(lost.recv())
        lost.close()  # the kiosk "never saw" this reply
    finally:
        ctx.destroy(linger=0)
    again = kiosk.call("issue", {"services": services[:1]}, request_id="kiosk-retry-0001")
    assert again.ok and again.result == first["result"]
    hall.restart()
    assert kiosk.wait_until(lambda: kiosk.online and kiosk.mirror.epoch == hall.epoch, 5)
    after = kiosk.call("issue", {"services": services[:1]}, request_id="kiosk-retry-0001")
    assert after.ok and after.result == first["result"], "the kept reply survives a restart"
    state = kiosk.call("state").result or {}
    assert [t["id"] for t in state["tickets"]] == [ticket_of(again)["id"]]


def test_kill_9_mid_load_loses_no_acknowledged_operation(hall: LiveHall) -> None:
    kiosk = hall.connect("kiosk-1")
    board = hall.connect("board-1")
    clerk = hall.connect("counter-1", user="w1", counter=1)
    services = general_services(kiosk)
    issued: list[dict[str, Any]] = []
    served: list[tuple[str, int]] = []  # (acknowledged op, ticket id)
    stop = threading.Event()

    def kiosk_issues() -> None:
        while not stop.is_set():
            reply = kiosk.call("issue", {"services": services[:1]}, timeout=1.5, retries=0)
            if reply.ok:
                issued.append(ticket_of(reply))

    def window_serves() -> None:
        while not stop.is_set():
            reply = clerk.call("call_next", timeout=1.5, retries=0)
            if not reply.ok:
                continue
            tid = ticket_of(reply)["id"]
            served.append(("call_next", tid))
            for op in ("start", "complete"):
                if stop.is_set() or not clerk.call(op, {}, timeout=1.5, retries=0).ok:
                    break
                served.append((op, tid))

    workers = [threading.Thread(target=kiosk_issues), threading.Thread(target=window_serves)]
    for w in workers:
        w.start()
    assert kiosk.wait_until(lambda: len(issued) >= 30 and len(served) >= 10, 30)
    hall.kill()
    stop.set()
    for w in workers:
        w.join(10)
    old_epoch = board.mirror.epoch
    hall.start()  # returns once the new server says READY
    restarted = time.monotonic()
    assert board.wait_until(lambda: board.mirror.epoch not in (None, old_epoch)
                            and board.online, 3.0), "the board resynced within 3 s"
    resynced_in = time.monotonic() - restarted
    after: dict[int, dict[str, Any]] = {}
    for ticket in issued:
        status = board.call("ticket_status", {"ticket_id": ticket["id"]})
        after[ticket["id"]] = ticket_of(status)
        assert after[ticket["id"]]["number"] == ticket["number"], "acknowledged ticket lost"
    expected = {"call_next": {"called", "serving", "done"}, "start": {"serving", "done"},
                "complete": {"done"}}
    for op, tid in served:
        assert after[tid]["state"] in expected[op], f"acknowledged {op} of {tid} lost"
    numbers = [t["number"] for t in after.values()]
    assert len(numbers) == len(set(numbers)), "a number was given twice"
    nxt = ticket_of(kiosk.call("issue", {"services": services[:1]}))
    assert nxt["number"] not in numbers, "numbering continues after the crash"
    print(f"board resynced {resynced_in:.2f} s after the restarted server was ready")


def test_graceful_stop_finishes_and_exits_cleanly(hall: LiveHall) -> None:
    kiosk = hall.connect("kiosk-1")
    t = ticket_of(kiosk.call("issue", {"services": general_services(kiosk)[:1]}))
    assert hall.stop() == 0
    hall.start()
    board = hall.connect("board-1")
    assert t["id"] in board.mirror.state["tickets"]


def test_revoking_a_device_cuts_it_off_without_restart(hall: LiveHall) -> None:
    import subprocess
    import sys
    import time

    board = hall.connect("board-1")
    kiosk = hall.connect("kiosk-1")
    epoch = hall.epoch
    done = subprocess.run([sys.executable, "-m", "queue_server.cli", "device", "revoke",
                           "board-1", "--data", str(hall.data)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert board.wait_until(lambda: not board.online, 8), "the revoked board goes offline"
    assert board.call("state", timeout=2).ok is False
    time.sleep(1.0)
    assert kiosk.online and kiosk.call("hello").result["epoch"] == epoch  # type: ignore[index]


def test_citizen_status_page_answers_from_the_running_hall(hall: LiveHall) -> None:
    kiosk = hall.connect("kiosk-1")
    ticket = ticket_of(kiosk.call("issue", {"services": general_services(kiosk)[:1]}))
    token = ticket.get("token")
    assert token, "issue gives the ticket's status token"
    url = f"http://127.0.0.1:{hall.status_port}/t/{token}"
    with urllib.request.urlopen(url, timeout=10) as page:
        body = page.read().decode("utf-8")
    assert ticket["number"] in body


def test_a_stale_login_does_not_lock_the_clerk_out(hall: LiveHall) -> None:
    clerk = hall.connect("counter-1", user="clerk1", counter=1)
    assert clerk.token is not None
    clerk.token = clerk.token[:-4] + "xxxx"  # expired or ended: the server forgot it
    assert clerk.call("call_next").error_code == p.Err.UNAUTHENTICATED
    assert clerk.call("state").ok, "reads need no login, a stale token does not block them"
    again = clerk.call("login", {"user": "clerk1", "password": DEMO_PASSWORD, "counter": 1})
    assert again.ok and clerk.token == (again.result or {})["token"]
    assert clerk.call("pause", {"reason": "lunch"}).ok


def test_a_device_added_while_serving_connects_without_restart(hall: LiveHall) -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "queue_server.cli", "device", "add",
                           "kiosk-9", "--role", "kiosk", "--data", str(hall.data)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    kiosk = hall.connect("kiosk-9")  # the server re-reads keys/trusted within a second
    hello = kiosk.call("hello").result or {}
    assert hello["device"] == "kiosk-9" and hello["role"] == "kiosk"
    assert hello["epoch"] == hall.epoch, "no restart happened"
