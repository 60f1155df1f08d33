"""The citizen's status page of a real `queue-server run` (tests/unit/test_status_page.py
has the page itself on a fake hall)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.test_status_page import _get


@pytest.mark.slow
def test_a_running_halls_page_follows_the_ticket_from_waiting_to_done(tmp_path: Any) -> None:
    """Real `queue-server run`: issue two, call and finish the first, read both pages."""
    from tests.support.live import live_hall
    from tests.tk.kiosk_support import open_all_day

    with live_hall(tmp_path, prepare=open_all_day) as hall:
        kiosk = hall.connect("kiosk-1")
        first = kiosk.call("issue", {"services": ["RS01", "YB02"]}).result["ticket"]  # type: ignore[index]
        second = kiosk.call("issue", {"services": ["RS01"]}).result["ticket"]  # type: ignore[index]

        def page_of(ticket: dict[str, Any]) -> str:
            status, body = _get(f"http://127.0.0.1:{hall.status_port}/t/{ticket['token']}")
            assert status == 200, (status, body, hall.log()[-2000:])
            return body

        body = page_of(second)
        assert second["number"] in body and "您前面还有 1 人在等待" in body
        assert "社保卡申领补换" in body and "社区事务受理服务中心" in body
        clerk = hall.connect("counter-1", user="clerk1", counter=1)
        clerk.call("open_counter", {})
        assert clerk.call("call_next", {}).ok
        assert "请到 1号窗口 办理" in page_of(first)
        assert clerk.call("start", {}).ok
        assert clerk.call("complete", {"done": ["RS01", "YB02"]}).ok
        done = page_of(first)
        assert "已办结" in done and 'http-equiv="refresh"' not in done
        assert "您前面没有人在等待" in page_of(second)
        assert _get(f"http://127.0.0.1:{hall.status_port}/t/{'x' * 16}")[0] == 404
