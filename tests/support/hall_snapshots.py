"""Small builders of docs/hall-state.md shapes for client tests that need no server."""

from __future__ import annotations

from typing import Any

SERVICES = [
    {"code": "RS01", "name": "社保卡申领", "department": "RS", "prefix": "A", "minutes": 8,
     "general": True},
    {"code": "YB02", "name": "医保登记", "department": "YB", "prefix": "B", "minutes": 5,
     "general": True},
    {"code": "ZJ03", "name": "住房公积金提取", "department": "ZJ", "prefix": "C",
     "minutes": 12, "general": False},
]


def counter(number: int, state: str = "idle", *, services: list[str] | None = None,
            ticket_id: int | None = None, pause_reason: str | None = None,
            clerk: dict[str, str] | None = None) -> dict[str, Any]:
    return {"number": number, "name": f"{number}号窗口", "state": state,
            "services": services if services is not None else ["RS01", "YB02"],
            "clerk": clerk if clerk is not None else {"user": "clerk1", "name": "张敏",
                                                       "badge": "0101"},
            "ticket_id": ticket_id, "pause_reason": pause_reason,
            "since": "2026-11-26T09:10:00+08:00"}


def ticket(ticket_id: int, number: str, services: list[str], *, state: str = "waiting",
           issued_at: str = "2026-11-26T09:00:00+08:00", kind: str = "normal",
           counter: int | None = None, called_at: str | None = None,
           transfer_to_counter: int | None = None, recalls: int = 0,
           item_states: dict[str, str] | None = None,
           priority_class: str | None = None,
           item_counters: dict[str, int | None] | None = None) -> dict[str, Any]:
    """A Ticket; its pending matters are at its window while it is called / served /
    parked there, unless item_counters says otherwise (a matter left for another window)."""
    states = item_states or {}
    at_window = counter if state in ("called", "serving", "parked") else None

    def item_counter(s: str) -> int | None:
        if item_counters is not None and s in item_counters:
            return item_counters[s]
        return at_window if states.get(s, "pending") == "pending" else None

    return {"id": ticket_id, "number": number, "token": f"tok{ticket_id}", "kind": kind,
            "priority_class": priority_class, "state": state, "issued_at": issued_at,
            "called_at": called_at, "counter": counter,
            "transfer_to_counter": transfer_to_counter, "recalls": recalls, "no_shows": 0,
            "items": [{"service": s, "state": states.get(s, "pending"), "counter": item_counter(s)}
                      for s in services]}


def snapshot(counters: list[dict[str, Any]], tickets: list[dict[str, Any]],
             *, settings: dict[str, Any] | None = None, seq: int = 10) -> dict[str, Any]:
    by_service: dict[str, int] = {}
    for t in tickets:
        if t["state"] == "waiting":
            for item in t["items"]:
                if item["state"] == "pending":
                    by_service[item["service"]] = by_service.get(item["service"], 0) + 1
    return {"epoch": "e1", "seq": seq, "business_day": "2026-11-26",
            "now": "2026-11-26T09:12:05+08:00",
            "hall": {"name": "测试镇社区事务受理服务中心", "notice": "", "timezone": "Asia/Shanghai",
                     "open": True, "opening": "08:30", "closing": "16:30",
                     "settings": settings or {}},
            "departments": [], "services": SERVICES, "counters": counters,
            "tickets": tickets, "recent_calls": [],
            "waiting": {"total": sum(1 for t in tickets if t["state"] == "waiting"),
                        "by_service": by_service},
            "estimates": {}}
