"""Bring the database's departments, matters and windows in line with config.toml.

Run by `init` and at every hall start-up. Config is the authority on what exists
(codes, names, prefixes, expected minutes); the database keeps what the hall changed at
run time: a window's current matters (a supervisor's `counter_services`) are seeded only
when the window is new. A matter removed from config becomes inactive, never deleted,
because old tickets and statistics still refer to it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import Connection, insert, select, update

from queue_server.store.tables import COUNTER, COUNTER_SERVICE, DEPARTMENT, DEVICE, SERVICE, STAFF

if TYPE_CHECKING:
    from queue_server.config import HallConfig


def sync_from_config(conn: Connection, cfg: HallConfig) -> None:
    """Upsert departments, matters and windows from cfg (one transaction: the caller's)."""
    dept_t, svc_t, ctr_t, cs_t = DEPARTMENT, SERVICE, COUNTER, COUNTER_SERVICE
    depts = {code: id_ for id_, code in conn.execute(select(dept_t.c.id, dept_t.c.code))}
    for d in cfg.departments:
        if d.code in depts:
            conn.execute(update(dept_t).where(dept_t.c.id == depts[d.code]).values(name=d.name))
        else:
            depts[d.code] = conn.execute(
                insert(dept_t).values(code=d.code, name=d.name)).inserted_primary_key[0]  # type: ignore[index]
    svcs = {code: id_ for id_, code in conn.execute(select(svc_t.c.id, svc_t.c.code))}
    for s in cfg.services:
        values = dict(name=s.name, department_id=depts[s.department], prefix=s.prefix,
                      minutes=float(s.minutes), general=s.general, active=True,
                      daily_quota=s.quota or None)
        if s.code in svcs:
            conn.execute(update(svc_t).where(svc_t.c.id == svcs[s.code]).values(**values))
        else:
            svcs[s.code] = conn.execute(
                insert(svc_t).values(code=s.code, **values)).inserted_primary_key[0]  # type: ignore[index]
    configured = {s.code for s in cfg.services}
    gone = [id_ for code, id_ in svcs.items() if code not in configured]
    if gone:
        conn.execute(update(svc_t).where(svc_t.c.id.in_(gone)).values(active=False))
    ctrs = {n: id_ for id_, n in conn.execute(select(ctr_t.c.id, ctr_t.c.number))}
    for c in cfg.counters:
        name = c.name or f"{c.number}号窗口"
        if c.number in ctrs:
            conn.execute(update(ctr_t).where(ctr_t.c.id == ctrs[c.number]).values(name=name))
            continue
        cid = conn.execute(insert(ctr_t).values(
            number=c.number, name=name, state="closed")).inserted_primary_key[0]  # type: ignore[index]
        ctrs[c.number] = cid
        rows = [{"counter_id": cid, "service_id": svcs[code]}
                for code in cfg.service_codes_of(c)]
        if rows:
            conn.execute(insert(cs_t), rows)


def add_staff(conn: Connection, user: str, name: str, badge: str, role: str,
              password_hash: str, now: dt.datetime) -> int:
    """Insert one staff account; returns its id."""
    t = STAFF
    pk = conn.execute(insert(t).values(
        user=user, name=name, badge=badge, role=role, password_hash=password_hash,
        active=True, created_at=now)).inserted_primary_key[0]  # type: ignore[index]
    return int(pk)


def record_devices(conn: Connection, devices: Iterable[tuple[str, str, str]],
                   now: dt.datetime) -> None:
    """Record trusted devices (name, role, Z85 public key); existing names are updated."""
    t = DEVICE
    known = {name for (name,) in conn.execute(select(t.c.name))}
    for name, role, key in devices:
        if name in known:
            conn.execute(update(t).where(t.c.name == name).values(
                role=role, public_key=key, active=True, revoked_at=None))
        else:
            conn.execute(insert(t).values(name=name, role=role, public_key=key,
                                          active=True, created_at=now))
