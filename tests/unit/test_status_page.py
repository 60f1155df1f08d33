"""The citizen's status page: the right ticket, nothing personal, nothing guessable."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from queue_common import i18n
from queue_server.status_page import Statuses, StatusServer, start_status_server

TOKEN = "Q3kz9fWm2LpXa7RtVb0NcYe"


def _ticket(state: str = "waiting", counter: int | None = None) -> dict[str, Any]:
    return {"id": 12, "number": "A012", "token": TOKEN, "kind": "normal", "state": state,
            "counter": counter, "items": [{"service": "RS01", "state": "pending"},
                                          {"service": "YB02", "state": "pending"}]}


class FakeHall:
    """Stands in for the server's lookup: tokens -> ticket_status results."""

    def __init__(self) -> None:
        self.results: dict[str, Mapping[str, Any]] = {}
        self.calls: list[str] = []
        self.fail = False
        self.delay = 0.0

    def lookup(self, token: str) -> Mapping[str, Any] | None:
        self.calls.append(token)
        if self.delay:
            time.sleep(self.delay)
        if self.fail:
            raise RuntimeError("server loop did not answer")
        return self.results.get(token)


@pytest.fixture
def hall() -> FakeHall:
    i18n.set_language("zh")
    return FakeHall()


@pytest.fixture
def page(hall: FakeHall) -> Iterator[StatusServer]:
    server = start_status_server("127.0.0.1", 0, hall.lookup)
    yield server
    server.stop()


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode("utf-8")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8")


def test_waiting_ticket_shows_number_people_ahead_and_wait(page: StatusServer,
                                                           hall: FakeHall) -> None:
    hall.results[TOKEN] = {"ticket": _ticket(), "ahead": 4, "estimated_wait": 610,
                           "hall": {"name": "XX镇社区事务受理服务中心"},
                           "services": {"RS01": "社保卡申领", "YB02": "医保报销"}}
    status, body = _get(page.url(TOKEN))
    assert status == 200
    assert "A012" in body and "等候中" in body
    assert "您前面还有 4 人在等待" in body and "预计等候约 11 分钟" in body
    assert "社保卡申领、医保报销" in body
    assert 'http-equiv="refresh"' in body


def test_called_ticket_names_the_window_and_done_stops_refreshing(page: StatusServer,
                                                                 hall: FakeHall) -> None:
    hall.results[TOKEN] = {"ticket": _ticket("called", 3),
                           "services": [{"code": "RS01", "name": "社保卡申领"}]}
    body = _get(page.url(TOKEN))[1]
    assert "请到 3号窗口 办理" in body and "社保卡申领、YB02" in body
    hall.results[TOKEN] = {"ticket": _ticket("done", 3)}
    body = _get(page.url(TOKEN))[1]
    assert "已办结" in body and 'http-equiv="refresh"' not in body


def test_unknown_and_malformed_tokens_get_a_friendly_404(page: StatusServer,
                                                         hall: FakeHall) -> None:
    status, body = _get(page.url("N0tAT1cketTokenAtAllxx"))
    assert status == 404 and "未找到该号票" in body
    for bad in ("A012", "../../etc/passwd", "x" * 200, "%3Cscript%3E" * 3):
        assert _get(page.url(bad))[0] == 404
    assert _get(f"http://127.0.0.1:{page.port}/nothing/here")[0] == 404
    assert hall.calls == ["N0tAT1cketTokenAtAllxx"]  # short/odd tokens never reach the hall


def test_a_failing_lookup_says_try_again_not_not_found(page: StatusServer,
                                                       hall: FakeHall) -> None:
    hall.fail = True
    status, body = _get(page.url(TOKEN))
    assert status == 503 and "稍后再试" in body


def test_page_never_writes(page: StatusServer, hall: FakeHall) -> None:
    hall.results[TOKEN] = {"ticket": _ticket()}
    req = urllib.request.Request(page.url(TOKEN), data=b"state=done", method="POST")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=5)
    assert err.value.code == 405
    assert hall.calls == []


def test_names_from_config_are_escaped(page: StatusServer, hall: FakeHall) -> None:
    hall.results[TOKEN] = {"ticket": _ticket(), "services": {"RS01": "<script>x</script>"}}
    body = _get(page.url(TOKEN))[1]
    assert "<script>x" not in body and "&lt;script&gt;" in body


def test_a_slow_phone_does_not_hold_up_other_phones(page: StatusServer,
                                                    hall: FakeHall) -> None:
    """One lookup stuck for 1.5 s; another page still answers at once (own threads)."""
    hall.results[TOKEN] = {"ticket": _ticket()}
    hall.delay = 1.5
    slow = threading.Thread(target=_get, args=(page.url(TOKEN),))
    slow.start()
    time.sleep(0.1)
    hall.delay = 0.0
    t0 = time.perf_counter()
    assert _get(page.url(TOKEN))[0] == 200
    assert time.perf_counter() - t0 < 1.0
    slow.join()


def test_stop_frees_the_port(hall: FakeHall) -> None:
    server = start_status_server("127.0.0.1", 0, hall.lookup)
    port = server.port
    server.stop()
    again = start_status_server("127.0.0.1", port, hall.lookup)
    again.stop()


def test_hall_and_matter_names_come_from_config_when_the_lookup_lacks_them(
        hall: FakeHall) -> None:
    server = start_status_server("127.0.0.1", 0, hall.lookup, hall_name="张江镇社区事务受理服务中心",
                                 service_names={"RS01": "社保卡申领", "YB02": "医保报销"})
    try:
        hall.results[TOKEN] = {"ticket": _ticket(), "ahead": 0}
        body = _get(server.url(TOKEN))[1]
        assert "张江镇社区事务受理服务中心" in body and "社保卡申领、医保报销" in body
        assert "您前面没有人在等待" in body
    finally:
        server.stop()


# -- the live page: versions, long-poll, ratings, limits (a fake backend) -------------


class FakeBackend:
    """The loop's side of the page: statuses, ratings and the change feed."""

    def __init__(self) -> None:
        self.results: dict[str, Mapping[str, Any]] = {}
        self.rated: list[tuple[str, int | None]] = []
        self.on_change: Any = None
        self.seq = 0  # the hall's event seq the answers are as of
        self.asked: list[list[str]] = []  # every statuses() call's tokens
        self.work = 0.001  # what each answer says it cost the loop (the page pauses 3x)

    def statuses(self, tokens: list[str]) -> Statuses:
        self.asked.append(list(tokens))
        return Statuses({t: self.results.get(t) for t in tokens}, work_seconds=self.work,
                        seq=self.seq)

    def hall(self) -> Mapping[str, Any] | None:
        return {"waiting": {"total": 2, "by_service": {"RS01": 2}}, "estimates": {"RS01": 600},
                "departments": [{"code": "RS", "name": "人社"}],
                "services": [{"code": "RS01", "department": "RS"}], "hall": {"name": "大厅"}}

    def rate(self, token: str, level: int | None, reason: str | None,
             text: str | None) -> Mapping[str, Any]:
        if any(t == token for t, _ in self.rated):
            return {"error": {"code": "CONFLICT", "message": "已经评价过了（手机） / already rated "
                              "(the phone)", "details": {"source": "phone"}}}
        self.rated.append((token, level))
        return {"result": {"rating": {"level": level}}}

    def watch(self, on_change: Any, stop: threading.Event) -> None:
        self.on_change = on_change


def _json(url: str, data: bytes | None = None) -> tuple[int, Any]:
    import json

    req = urllib.request.Request(url, data=data, method="POST" if data else "GET",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


@pytest.fixture
def live() -> Iterator[tuple[StatusServer, FakeBackend]]:
    from queue_server.status_page import PageOptions

    backend = FakeBackend()
    server = start_status_server("127.0.0.1", 0, backend, options=PageOptions(
        reasons=["等候时间太长"], rate_per_minute=4, max_connections=20, fd_reserve=16,
        periodic_seconds=60))
    yield server, backend
    server.stop()


def test_a_long_poll_answers_at_once_when_behind_and_on_the_next_change(
        live: tuple[StatusServer, FakeBackend]) -> None:
    page, backend = live
    backend.results[TOKEN] = {"ticket": _ticket(), "ahead": 3}
    status, first = _json(page.url(TOKEN) + "/poll?last=")
    assert status == 200 and first["view"]["ahead"] == 3
    answer: dict[str, Any] = {}
    waiting = threading.Thread(target=lambda: answer.update(
        got=_json(page.url(TOKEN) + f"/poll?last={first['id']}")))
    waiting.start()
    time.sleep(0.3)
    assert waiting.is_alive()  # nothing new: the poll waits
    backend.results[TOKEN] = {"ticket": _ticket(), "ahead": 2}
    backend.on_change({"waiting": {"total": 2}})  # the loop's change feed
    waiting.join(5)
    status, second = answer["got"]
    assert second["view"]["ahead"] == 2 and second["id"] != first["id"]
    assert second["id"].split(".")[0] == first["id"].split(".")[0]  # same page epoch


def test_a_phone_rates_once_politely_and_is_rate_limited(
        live: tuple[StatusServer, FakeBackend]) -> None:
    page, backend = live
    url = page.url(TOKEN) + "/rate"
    assert _json(url, b'{"level": 7}')[0] == 400
    assert _json(url, b'{"level": 1, "reason": "not a configured reason"}')[0] == 400
    status, body = _json(url, b'{"level": 2, "reason": "\\u7b49\\u5019\\u65f6\\u95f4\\u592a\\u957f"}')
    assert status == 200 and body["zh"] == "感谢您的评价"
    assert backend.rated == [(TOKEN, 2)]
    status, body = _json(url, b'{"level": 5}')
    assert status == 409 and body["source"] == "phone" and "已经评价过了" in body["zh"]
    status, body = _json(url, b'{"level": 5}')  # the fifth write in a minute
    assert status == 429 and "频繁" in body["zh"]


def test_when_every_place_is_a_live_stream_a_new_phone_gets_a_quick_503(
        live: tuple[StatusServer, FakeBackend]) -> None:
    import socket

    page, backend = live
    held = []
    try:
        for i in range(page.max_connections):  # each a citizen of their own
            token = f"{TOKEN}{i:03d}"
            backend.results[token] = {"ticket": _ticket(), "ahead": 3}
            s = socket.create_connection(("127.0.0.1", page.port), timeout=5)
            s.sendall(f"GET /t/{token}/events HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            assert s.recv(100).startswith(b"HTTP/1.1 200")  # a stream under way
            held.append(s)
        extra = socket.create_connection(("127.0.0.1", page.port), timeout=5)
        extra.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert extra.recv(100).startswith(b"HTTP/1.1 503")
        extra.close()
    finally:
        for s in held:
            s.close()


def test_streams_opened_with_one_ticket_cannot_fill_the_page(
        live: tuple[StatusServer, FakeBackend]) -> None:
    """Every place taken by live streams of ONE ticket, none of them read: a fourth
    ends the oldest, so a citizen with another ticket still gets in at once, and three
    of that ticket's streams (a family's three phones) live on."""
    import socket

    page, backend = live
    backend.results[TOKEN] = {"ticket": _ticket(), "ahead": 3}
    other = f"{TOKEN}X"
    backend.results[other] = {"ticket": _ticket(), "ahead": 1}
    held = []

    def alive(s: socket.socket) -> bool:
        s.settimeout(0)
        try:
            while True:
                if s.recv(65536) == b"":
                    return False
        except BlockingIOError:
            return True
        except OSError:
            return False

    try:
        for _ in range(page.max_connections):
            s = socket.create_connection(("127.0.0.1", page.port), timeout=5)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
            s.sendall(f"GET /t/{TOKEN}/events HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            held.append(s)

        def answered(s: socket.socket) -> bool:  # a reply head or the end, left unread
            s.settimeout(0)
            try:
                s.recv(1, socket.MSG_PEEK)
                return True
            except BlockingIOError:
                return False
            except OSError:
                return True

        deadline = time.monotonic() + 10  # the page has taken every stream in hand
        while not all(answered(s) for s in held) and time.monotonic() < deadline:
            time.sleep(0.05)
        status, body = _get(page.url(other))
        assert status == 200 and "A012" in body, body[:300]
        time.sleep(0.3)
        living = [i for i, s in enumerate(held) if alive(s)]
        # three live on, and they are among the last to come: the page ends the oldest
        # by when it took each stream in hand, and it looks tickets up two at a time,
        # so neighbours may be taken in hand in either order
        assert len(living) == 3 and min(living) >= len(held) - 6, living
    finally:
        for s in held:
            s.close()


def test_over_the_connection_limit_a_phone_takes_the_place_of_one_that_sent_nothing(
        live: tuple[StatusServer, FakeBackend]) -> None:
    import socket

    page, backend = live
    backend.results[TOKEN] = {"ticket": _ticket(), "ahead": 3}
    held = [socket.create_connection(("127.0.0.1", page.port)) for _ in range(page.max_connections)]
    try:
        time.sleep(0.2)
        status, body = _get(page.url(TOKEN))
        assert status == 200 and "A012" in body
        time.sleep(0.2)

        def closed(s: socket.socket) -> bool:
            s.settimeout(0)
            try:
                return s.recv(100) == b""
            except BlockingIOError:
                return False

        # the first to connect (quiet the longest), and only it
        assert [closed(s) for s in held] == [True] + [False] * (len(held) - 1)
    finally:
        for s in held:
            s.close()


def test_the_hall_page_counts_per_department(live: tuple[StatusServer, FakeBackend]) -> None:
    page, _backend = live
    status, body = _get(f"http://127.0.0.1:{page.port}/")
    assert status == 200 and "人社" in body and "预计等候约 10 分钟" in body
    status, data = _json(f"http://127.0.0.1:{page.port}/hall.json")
    # no English name configured: the English page shows the Chinese one
    assert data["rows"] == [{"code": "RS", "name": "人社", "name_en": "人社", "waiting": 2,
                             "wait_seconds": 600}]


def _watching(page: StatusServer, backend: FakeBackend, token: str) -> tuple[
        threading.Thread, dict[str, Any], str]:
    """A phone long-polling its ticket with the current id: (thread, its answer, id),
    once the page watches it (it looked the ticket up)."""
    status, first = _json(page.url(token) + "/poll?last=")
    assert status == 200
    asked = len(backend.asked)
    answer: dict[str, Any] = {}
    waiting = threading.Thread(target=lambda: answer.update(
        got=_json(page.url(token) + f"/poll?last={first['id']}")))
    waiting.start()
    assert _until(lambda: len(backend.asked) > asked)
    return waiting, answer, first["id"]


def _until(predicate: Any, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_a_call_whose_feed_note_was_dropped_reaches_the_phone_at_the_next_heartbeat(
        live: tuple[StatusServer, FakeBackend]) -> None:
    page, backend = live  # periodic refresh every 60 s: only the feed can refresh
    backend.results[TOKEN] = {"ticket": _ticket(), "ahead": 3}
    backend.seq = 7
    waiting, answer, _first = _watching(page, backend, TOKEN)
    asked = len(backend.asked)
    backend.on_change({"seq": 7})  # a change: the refresh is as of seq 7
    assert _until(lambda: len(backend.asked) > asked)
    asked = len(backend.asked)
    backend.on_change({"seq": 7, "beat": True})  # a heartbeat, nothing new
    time.sleep(0.4)
    assert len(backend.asked) == asked and waiting.is_alive()
    backend.results[TOKEN] = {"ticket": _ticket(), "ahead": 2}  # a call ...
    backend.seq = 8  # ... whose note never reached the page
    backend.on_change({"seq": 8, "beat": True})  # the next heartbeat says seq 8
    waiting.join(5)
    status, second = answer["got"]
    assert status == 200 and second["view"]["ahead"] == 2


def test_a_late_note_of_a_change_already_refreshed_asks_the_hall_nothing(
        live: tuple[StatusServer, FakeBackend]) -> None:
    page, backend = live
    backend.results[TOKEN] = {"ticket": _ticket(), "ahead": 3}
    backend.seq = 12
    waiting, answer, _first = _watching(page, backend, TOKEN)
    asked = len(backend.asked)
    backend.on_change({"seq": 12})
    assert _until(lambda: len(backend.asked) > asked)
    asked = len(backend.asked)
    backend.on_change({"seq": 11})  # that refresh (as of 12) already carried it
    time.sleep(0.4)
    assert len(backend.asked) == asked
    backend.results[TOKEN] = {"ticket": _ticket(), "ahead": 1}
    backend.seq = 13
    backend.on_change({"seq": 13})  # a new change is refreshed as before
    waiting.join(5)
    assert answer["got"][1]["view"]["ahead"] == 1


def test_a_call_during_the_pause_after_a_costly_refresh_is_refreshed_when_it_ends(
        live: tuple[StatusServer, FakeBackend]) -> None:
    page, backend = live  # periodic refresh every 60 s: only the feed can refresh
    backend.results[TOKEN] = {"ticket": _ticket(), "ahead": 3}
    backend.work = 0.5  # the loop says each refresh cost it 0.5 s: the page pauses 1.5 s
    waiting, answer, _first = _watching(page, backend, TOKEN)
    asked = len(backend.asked)
    backend.seq = 1
    backend.on_change({"seq": 1})
    assert _until(lambda: len(backend.asked) > asked)  # refreshed; now in its pause
    asked = len(backend.asked)
    backend.results[TOKEN] = {"ticket": _ticket(), "ahead": 2}
    backend.seq = 2
    backend.on_change({"seq": 2})  # the call, during the pause
    time.sleep(0.5)
    assert len(backend.asked) == asked and waiting.is_alive()  # the pause holds
    waiting.join(10)  # ... and ends: refreshed then, not at the periodic refresh
    assert answer["got"][1]["view"]["ahead"] == 2

def test_a_citizen_kept_for_the_next_opening_reads_so_on_the_phone() -> None:
    from queue_server.status_page import PageOptions, view_of

    kept = view_of({"ticket": {**_ticket(), "carried_to": "2026-11-27"}, "ahead": 0},
                   PageOptions())
    assert kept["zh"]["sentence"] == "本号已为您保留至 2026-11-27，开门后优先办理"
    assert "2026-11-27" in kept["en"]["sentence"]
    plain = view_of({"ticket": _ticket(), "ahead": 0}, PageOptions())
    assert plain["zh"]["sentence"] == "等候中"


def test_a_connection_made_and_gone_between_two_newcomers_frees_its_place() -> None:
    """Two phones connect in one go (accepted together); the first's stream is ended
    at once (a family's fourth phone) before anyone else connects: its place is free
    again, not counted as a connection still to come."""
    from queue_server.status_page import _Gate

    class Server:  # what the gate sees of aiohttp's: the table and its two hooks
        def __init__(self) -> None:
            self._connections: dict[object, object] = {}

        def __call__(self) -> object:
            return object()

        def connection_made(self, handler: object, transport: object) -> None:
            self._connections[handler] = transport

    server = Server()
    gate = _Gate()
    gate.attach(server, limit=2)
    first, second = gate.accept(server), gate.accept(server)
    assert gate.full()  # two on their way
    server.connection_made(first, "transport")
    del server._connections[first]  # made, then lost before the next newcomer
    assert not gate.full()
    server.connection_made(second, "transport")
    assert not gate.full() and len(server._connections) == 1
