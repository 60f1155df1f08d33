"""A realistic mid-morning hall state (docs/hall-state.md shape) for previews and tests.

`display-board --preview` draws it so an installer can check a screen's layout and
fonts without a server; the view tests use it as the "before" picture.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")

DEPARTMENTS = [("RS", "人社"), ("YB", "医保"), ("MZ", "民政"), ("ZJ", "住建"),
               ("JZ", "公安居住证"), ("CL", "残联"), ("WJ", "卫健"), ("GJJ", "住房公积金"),
               ("GH", "工会")]
SERVICES = [("RS01", "社保卡申领补换", "RS", "A"), ("RS02", "就业失业登记", "RS", "A"),
            ("YB01", "医保参保登记", "YB", "B"), ("YB02", "医疗费用报销", "YB", "B"),
            ("MZ01", "最低生活保障申请", "MZ", "C"), ("ZJ01", "廉租住房申请", "ZJ", "D"),
            ("JZ01", "居住证办理", "JZ", "E"), ("CL01", "残疾人证办理", "CL", "F"),
            ("WJ01", "生育登记", "WJ", "G"), ("GJJ01", "公积金提取", "GJJ", "H"),
            ("GH01", "职工互助保障", "GH", "J")]
CLERKS = [("clerk1", "张敏", "0101"), ("clerk2", "李强", "0102"), ("clerk3", "王磊", "0103"),
          ("clerk4", "赵丽", "0104"), ("clerk5", "孙伟", "0105")]


def iso(t: datetime) -> str:
    return t.isoformat(timespec="seconds")


def sample_state(now: datetime | None = None, *, notice: str | None = None) -> dict[str, Any]:
    """Eight windows (serving, calling, paused for lunch, idle, closed), a queue of 17."""
    now = now or datetime.now(TZ).replace(microsecond=0)
    tickets: list[dict[str, Any]] = []
    counters: list[dict[str, Any]] = []

    def ticket(tid: int, number: str, state: str, counter: int | None, service: str,
               minutes_ago: int) -> dict[str, Any]:
        t = {"id": tid, "number": number, "token": f"tok{tid}", "kind": "normal",
             "state": state, "issued_at": iso(now - timedelta(minutes=minutes_ago + 20)),
             "called_at": iso(now - timedelta(minutes=minutes_ago)) if counter else None,
             "counter": counter, "transfer_to_counter": None, "recalls": 0, "no_shows": 0,
             "items": [{"service": service, "state": "pending"}]}
        tickets.append(t)
        return t

    plan = [  # window, state, ticket number, minutes since call, pause reason
        (1, "serving", "A008", 6, None), (2, "serving", "B004", 3, None),
        (3, "calling", "A012", 0, None), (4, "paused", "", 0, "lunch"),
        (5, "serving", "C002", 9, None), (6, "idle", "", 0, None),
        (7, "closed", "", 0, None), (8, "calling", "E003", 1, None)]
    for i, (number, state, tnum, ago, reason) in enumerate(plan):
        tid = None
        if tnum:
            t = ticket(800 + number, tnum, "called" if state == "calling" else "serving",
                       number, "RS01", ago)
            tid = t["id"]
        clerk = None
        if state != "closed":
            user, name, badge = CLERKS[i % len(CLERKS)]
            clerk = {"user": user, "name": name, "badge": badge}
        counters.append({"number": number, "name": f"{number}号综合窗口", "state": state,
                         "services": [s[0] for s in SERVICES], "clerk": clerk,
                         "ticket_id": tid, "pause_reason": reason,
                         "since": iso(now - timedelta(minutes=ago))})
    for k in range(17):
        code, _name, _dept, prefix = SERVICES[k % 5 if k < 12 else k % len(SERVICES)]
        ticket(900 + k, f"{prefix}{20 + k:03d}", "waiting", None, code, 0)
    calls = [("A012", 803, 3, 0), ("E003", 808, 8, 1), ("B004", 802, 2, 3),
             ("A008", 801, 1, 6), ("C002", 805, 5, 9), ("A007", 790, 4, 12),
             ("B003", 791, 2, 15), ("A006", 792, 1, 18)]
    recent = [{"ticket_id": tid, "number": num, "counter": ctr,
               "at": iso(now - timedelta(minutes=ago)), "recall": False}
              for num, tid, ctr, ago in calls]
    by_service: dict[str, int] = {}
    for t in tickets:
        if t["state"] == "waiting":
            code = t["items"][0]["service"]
            by_service[code] = by_service.get(code, 0) + 1
    return {
        "epoch": "preview", "seq": 1, "business_day": now.date().isoformat(), "now": iso(now),
        "hall": {"name": "浦东新区张江镇社区事务受理服务中心",
                 "name_en": "Zhangjiang Community Affairs Acceptance Centre",
                 "notice": notice if notice is not None else
                 "请在休息区等候，留意大屏和语音叫号。过号请到取号机重新登记。",
                 "timezone": "Asia/Shanghai", "open": True, "opening": "08:30",
                 "closing": "16:30", "settings": {}},
        "departments": [{"code": c, "name": n} for c, n in DEPARTMENTS],
        "services": [{"code": c, "name": n, "department": d, "prefix": p, "minutes": 10,
                      "general": d not in ("CL",)} for c, n, d, p in SERVICES],
        "counters": counters, "tickets": tickets, "recent_calls": recent,
        "waiting": {"total": 17, "by_service": by_service},
        "estimates": {code: 600 for code in by_service},
    }
