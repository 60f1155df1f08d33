"""The shipped default hall (nine departments, nineteen matters, eight windows) as a
docs/hall-state.md snapshot, for screens checked without a server.

Built from the default config the way the server builds its snapshot, so a screen
test sees the real names (the longest ones included) and the real settings.
"""

from __future__ import annotations

from typing import Any

from queue_server.config import default_config_text, parse_config

NOW = "2026-11-26T10:12:05+08:00"


def default_snapshot(*, tickets: list[dict[str, Any]] | None = None,
                     counters: dict[int, dict[str, Any]] | None = None,
                     recent_calls: list[dict[str, Any]] | None = None,
                     waiting: dict[str, int] | None = None) -> dict[str, Any]:
    cfg = parse_config(default_config_text())
    by_service = waiting if waiting is not None else {
        s.code: (i * 7) % 13 + (12 if i == 0 else 0) for i, s in enumerate(cfg.services)}
    windows = []
    for c in cfg.counters:
        base = {"number": c.number, "name": c.name, "state": "idle",
                "services": cfg.service_codes_of(c), "clerk": None, "ticket_id": None,
                "pause_reason": None, "since": NOW}
        base.update((counters or {}).get(c.number, {}))
        windows.append(base)
    return {
        "epoch": "e1", "seq": 100, "business_day": "2026-11-26", "now": NOW,
        "hall": {"name": cfg.hall.name, "name_en": cfg.hall.name_en,
                 "notice": cfg.hall.notice, "timezone": cfg.hall.timezone, "open": True,
                 "opening": "00:00", "closing": "24:00", "day_closed": False,
                 "status_base_url": "http://192.168.1.10:5580",
                 "settings": cfg.settings()},
        "departments": [{"code": d.code, "name": d.name} for d in cfg.departments],
        "services": [{"code": s.code, "name": s.name, "department": s.department,
                      "prefix": s.prefix, "minutes": s.minutes, "general": s.general}
                     for s in cfg.services],
        "counters": windows,
        "tickets": tickets or [],
        "recent_calls": recent_calls or [],
        "waiting": {"total": sum(by_service.values()), "by_service": by_service},
        "estimates": {},
        "devices": {},
    }
