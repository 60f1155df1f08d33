"""The citizen's phone page in a real browser against a real `queue-server run`: it
follows the queue without a reload, reminds at the configured count, rates once, and
says plainly when the server is out of reach."""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import page_settings, shot
from tests.support.live import LiveHall, live_hall
from tests.tk.kiosk_support import open_all_day

pytestmark = pytest.mark.slow
REMIND_AHEAD = 2


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[LiveHall]:
    def prepare(data: Path) -> None:
        open_all_day(data)
        page_settings(data, wifi_name="Hall-Guest", remind_ahead=REMIND_AHEAD)

    with live_hall(tmp_path, prepare=prepare) as running:
        yield running


def _issue(kiosk: Any, n: int) -> list[dict[str, Any]]:
    return [kiosk.call("issue", {"services": ["RS01"]}).result["ticket"] for _ in range(n)]


def _open(browser: Any, hall: LiveHall, ticket: dict[str, Any]) -> None:
    browser.get(f"http://127.0.0.1:{hall.status_port}/t/{ticket['token']}")
    _until(browser, "return window.__status && window.__status.transport === 'sse'", 5)
    _until(browser, "return window.__status.updates >= 0", 5)


def _until(browser: Any, script: str, seconds: float) -> float:
    """Seconds until the script returns true (polled every 20 ms); fails after `seconds`."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        if browser.execute_script(script):
            return time.perf_counter() - t0
        time.sleep(0.02)
    raise AssertionError(f"not within {seconds} s: {script}")


def _state(browser: Any) -> str:
    return str(browser.execute_script("return document.getElementById('state').textContent"))


def _ahead(browser: Any) -> str:
    return str(browser.execute_script(
        "return document.getElementById('facts').getAttribute('data-ahead')"))


def test_the_page_follows_a_call_within_a_second_without_reloading(
        browser: Any, hall: LiveHall) -> None:
    kiosk = hall.connect("kiosk-1")
    tickets = _issue(kiosk, 5)
    mine = tickets[-1]
    clerk = hall.connect("counter-1", user="clerk1", counter=1)
    clerk.call("open_counter", {})
    _open(browser, hall, mine)
    assert _ahead(browser) == "4" and mine["number"] in browser.page_source
    browser.execute_script("window.__marker = 'same page'")
    shot(browser, "waiting")
    for left in (3, 2, 1):
        assert clerk.call("call_next", {}).ok
        took = _until(browser, f"return document.getElementById('facts')"
                               f".getAttribute('data-ahead') === '{left}'", 1.0)
        assert took < 1.0
        assert clerk.call("start", {}).ok and clerk.call("complete", {}).ok
    assert clerk.call("call_next", {}).ok  # the fourth; then mine
    assert clerk.call("start", {}).ok and clerk.call("complete", {}).ok
    assert clerk.call("call_next", {}).ok
    _until(browser, "return document.getElementById('state')"
                    ".getAttribute('data-state') === 'called'", 1.0)
    assert "请到" in _state(browser) and "1号" in _state(browser)
    assert browser.execute_script("return window.__marker") == "same page"  # no reload
    shot(browser, "called")


def test_the_reminder_fires_at_the_configured_count_and_again_when_called(
        browser: Any, hall: LiveHall) -> None:
    kiosk = hall.connect("kiosk-1")
    tickets = _issue(kiosk, REMIND_AHEAD + 2)
    mine = tickets[-1]  # REMIND_AHEAD + 1 ahead: no reminder yet
    clerk = hall.connect("counter-1", user="clerk1", counter=1)
    clerk.call("open_counter", {})
    _open(browser, hall, mine)
    browser.find_element("id", "alerts").click()  # the citizen turns reminders on
    assert _ahead(browser) == str(REMIND_AHEAD + 1)
    assert browser.execute_script("return window.__status.reminders.length") == 0
    assert clerk.call("call_next", {}).ok
    _until(browser, "return window.__status.reminders.length === 1", 1.0)
    near = browser.execute_script("return window.__status.reminders[0]")
    assert near["kind"] == "near" and near["sound"] is True
    banner = browser.find_element("id", "reminder")
    assert banner.is_displayed() and f"前面还有 {REMIND_AHEAD} 人" in banner.text
    shot(browser, "reminder-near")
    for _ in range(REMIND_AHEAD + 1):  # the ones ahead served; then mine is called
        assert clerk.call("start", {}).ok and clerk.call("complete", {}).ok
        assert clerk.call("call_next", {}).ok
    _until(browser, "return window.__status.reminders.length === 2", 1.0)
    called = browser.execute_script("return window.__status.reminders[1]")
    assert called["kind"] == "called"
    assert "请到 1号窗口 办理" in browser.find_element("id", "reminder").text
    shot(browser, "reminder-called")


def test_a_rating_on_the_phone_counts_once_and_the_pad_is_told(
        browser: Any, hall: LiveHall) -> None:
    kiosk = hall.connect("kiosk-1")
    (mine,) = _issue(kiosk, 1)
    clerk = hall.connect("counter-1", user="clerk1", counter=1)
    clerk.call("open_counter", {})
    _open(browser, hall, mine)
    assert clerk.call("call_next", {}).ok and clerk.call("start", {}).ok
    assert clerk.call("complete", {}).ok
    _until(browser, "return !document.getElementById('rate').classList.contains('hidden')", 2)
    browser.find_element("id", "large").click()  # large text, as an older citizen would
    browser.find_element("css selector", "[data-level='2']").click()
    browser.find_element("css selector", "[data-reason='等候时间太长']").click()
    browser.find_element("id", "rate-text").send_keys("叫号声音太小")
    shot(browser, "rating-form")
    browser.find_element("id", "rate-send").click()
    _until(browser, "return document.getElementById('rate').textContent"
                    ".indexOf('感谢') >= 0", 3)
    shot(browser, "rating-thanks")

    pad = hall.connect("counter-1")  # the window's pad, no login
    second = pad.call("rate", {"ticket_id": mine["id"], "level": 5})
    assert second.error_code == "CONFLICT" and "手机" in str(second.error_message)

    supervisor = hall.connect("supervisor-1", user="super1")
    report = supervisor.call("stats", {}).result
    totals = report["totals"]
    assert totals["rated"] == 1 and totals["rated_phone"] == 1
    assert totals["rated_pad"] == 0 and totals["bad"] == 1


def test_the_page_says_when_the_server_is_out_of_reach_and_recovers(
        browser: Any, hall: LiveHall) -> None:
    kiosk = hall.connect("kiosk-1")
    tickets = _issue(kiosk, 3)
    mine = tickets[-1]
    _open(browser, hall, mine)
    browser.find_element("id", "lang").click()  # English, to see that side too
    hall.stop()
    _until(browser, "return !document.getElementById('offline').classList.contains('hidden')",
           8)
    offline = browser.find_element("id", "offline").text
    assert "Cannot reach the server" in offline and "Hall-Guest" in offline
    shot(browser, "offline")
    hall.start()  # same ports, a new page epoch: the phone reconnects and resyncs
    clerk = hall.connect("counter-1", user="clerk1", counter=1)
    clerk.call("open_counter", {})
    assert clerk.call("call_next", {}).ok
    _until(browser, "return document.getElementById('offline').classList.contains('hidden')"
                    " && document.getElementById('facts').getAttribute('data-ahead') === '1'",
           10)
    shot(browser, "reconnected")


def test_the_hall_page_shows_counts_per_department_and_nothing_personal(
        browser: Any, hall: LiveHall) -> None:
    kiosk = hall.connect("kiosk-1")
    clerk = hall.connect("counter-1", user="clerk1", counter=1)
    clerk.call("open_counter", {})  # an open window: the hall has estimates
    tickets = _issue(kiosk, 3)
    browser.get(f"http://127.0.0.1:{hall.status_port}/")
    rows = browser.find_elements("css selector", "#rows tr")
    busy = [r for r in rows if r.find_element("class name", "waiting").text == "3"]
    assert len(busy) == 1 and "分钟" in busy[0].find_element("class name", "wait").text
    tickets += _issue(kiosk, 1)  # the page refreshes itself (every 5 s) from the feed
    _until(browser, "return Array.from(document.querySelectorAll('#rows td.waiting'))"
                    ".some(function (td) { return td.textContent === '4'; })", 7)
    text = browser.page_source
    assert all(t["number"] not in text and t["token"] not in text for t in tickets)
    shot(browser, "hall")
    browser.find_element("id", "lang").click()  # a visitor who reads English
    _until(browser, "return document.getElementById('h-waiting').textContent === 'Waiting'", 2)
    english = browser.find_element("id", "rows").text
    assert "Human Resources & Social Security" in english and "人社" not in english
    busy = [r for r in browser.find_elements("css selector", "#rows tr")
            if r.find_element("class name", "waiting").text == "4"]
    assert len(busy) == 1 and "min" in busy[0].find_element("class name", "wait").text
    assert "Zhangjiang" in browser.find_element("id", "hall").text
    shot(browser, "hall-en")
    browser.refresh()  # the choice of language is kept
    _until(browser, "return document.getElementById('h-waiting').textContent === 'Waiting'", 3)
    # the same page on the hall's public screen (a 1920x1080 panel, not a phone)
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False})
    browser.find_element("id", "lang").click()  # back to Chinese
    _until(browser, "return document.getElementById('h-waiting').textContent !== 'Waiting'", 3)
    table = browser.find_element("id", "rows").rect
    assert table["width"] <= 1920 and browser.execute_script(
        "return document.documentElement.scrollWidth") <= 1920  # nothing cut off at the side
    shot(browser, "hall-desktop")


def _wifi(browser: Any, on: bool) -> None:
    """The phone's network comes and goes (Chrome's own emulation, via CDP)."""
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": not on, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})


# Keeps every EventSource the page makes in window.__sources (installed before the
# page's own script runs), so a test can drop the stream as a sleeping phone's OS does.
_KEEP_SOURCES = """
(function () {
  var Real = window.EventSource;
  window.__sources = [];
  function Kept(url, options) {
    var source = new Real(url, options);
    window.__sources.push(source);
    return source;
  }
  Kept.prototype = Real.prototype;
  Kept.CONNECTING = 0; Kept.OPEN = 1; Kept.CLOSED = 2;
  window.EventSource = Kept;
})();
"""


def _sleep_and_wake(browser: Any, *, wifi_lost: bool, during: Any = None) -> None:
    """The phone sleeps: its stream is gone (closed by the test as the phone's OS
    would: Chrome's offline emulation leaves an open stream alone), and with
    `wifi_lost` the network too; `during` happens meanwhile; then it wakes (network
    back, the page visible again)."""
    if wifi_lost:
        _wifi(browser, False)
    browser.execute_script("window.__sources.forEach(function (s) { s.close(); })")
    if wifi_lost:
        _until(browser, "return !document.getElementById('offline').classList"
                        ".contains('hidden')", 8)
    if during is not None:
        during()
    if wifi_lost:
        _wifi(browser, True)
    browser.execute_script("document.dispatchEvent(new Event('visibilitychange'))")


def test_a_phone_that_slept_through_a_call_shows_it_on_waking_and_resumes_from_its_id(
        browser: Any, hall: LiveHall) -> None:
    kiosk = hall.connect("kiosk-1")
    tickets = _issue(kiosk, 4)
    mine = tickets[-1]
    clerk = hall.connect("counter-1", user="clerk1", counter=1)
    clerk.call("open_counter", {})
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _KEEP_SOURCES})
    _open(browser, hall, mine)
    assert _ahead(browser) == "3"
    status = "return window.__status"
    before = browser.execute_script(status)

    def called_while_asleep() -> None:
        assert clerk.call("call_next", {}).ok
        time.sleep(1.0)  # the page would have shown it by now, were it awake
        assert _ahead(browser) == "3"

    _sleep_and_wake(browser, wifi_lost=True, during=called_while_asleep)
    _until(browser, "return document.getElementById('offline').classList.contains('hidden')"
                    " && document.getElementById('facts').getAttribute('data-ahead') === '2'",
           10)
    woke = browser.execute_script(status)
    assert woke["opens"] > before["opens"] and woke["id"] != before["id"]
    assert woke["repeats"] == 0
    shot(browser, "woke")

    # asleep again, the Wi-Fi kept, nothing happens meanwhile: waking alone starts the
    # stream again, from the id it has, so the server sends nothing (a server that
    # ignored the id would send the state again)
    _sleep_and_wake(browser, wifi_lost=False)
    _until(browser, f"return window.__status.opens > {woke['opens']}", 5)
    time.sleep(1.0)  # what the server sends on a resumed stream comes at once
    again = browser.execute_script(status)
    assert again["repeats"] == 0 and again["id"] == woke["id"]
    newest = browser.execute_script("return window.__sources[window.__sources.length - 1].url")
    assert newest.endswith("/events?last=" + urllib.parse.quote(woke["id"], safe=""))
    assert _ahead(browser) == "2"
