"""Administering a hall's database beside the server: creating it, staff accounts,
devices, and ending logins (what `queue-server init`, `staff` and `device` write).

Each function is one transaction on an engine of its own. The running server notices
what these write within seconds (queue_server.hall.logins.watch): "end this clerk's
logins" and "end the logins made on this device" are written here, once, and the hall
follows them in memory.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, Connection, Engine, select, update

from queue_server.store import db, seed
from queue_server.store.tables import DEVICE, LOGIN_SESSION, STAFF

if TYPE_CHECKING:
    from queue_server.config import HallConfig


class AdminError(ValueError):
    """An administration step that cannot be done (a user that exists, none that does)."""


@dataclass(frozen=True)
class StaffRow:
    user: str
    name: str
    badge: str
    role: str
    active: bool


@dataclass(frozen=True)
class DeviceRecord:
    name: str
    role: str
    public_key: str
    created_at: dt.datetime | None
    revoked_at: dt.datetime | None


@contextlib.contextmanager
def hall_database(url: str, synchronous: str = "FULL") -> Iterator[Engine]:
    """An engine on the hall's database, upgraded to head, disposed afterwards."""
    engine = db.make_engine(url, synchronous=synchronous)
    try:
        db.upgrade_to_head(engine)
        yield engine
    finally:
        engine.dispose()


def create_hall(url: str, cfg: HallConfig, staff: Iterable[tuple[str, str, str, str, str]],
                now: dt.datetime, *, synchronous: str = "FULL",
                devices: Iterable[tuple[str, str, str]] = ()) -> None:
    """A hall's database from config: schema, matters and windows, the devices
    (name, role, public key) and staff (user, name, badge, role, password hash)."""
    with hall_database(url, synchronous) as engine, engine.begin() as conn:
        seed.sync_from_config(conn, cfg)
        seed.record_devices(conn, devices, now)
        for user, name, badge, role, password_hash in staff:
            seed.add_staff(conn, user, name, badge, role, password_hash, now)


def end_logins(conn: Connection, now: dt.datetime, *, staff_id: int | None = None,
               device: str | None = None) -> None:
    """End the open logins of one clerk, or made on one device (the one way to end
    logins from outside the running hall)."""
    s = LOGIN_SESSION
    where: list[ColumnElement[bool]] = [s.c.ended_at.is_(None)]
    if staff_id is not None:
        where.append(s.c.staff_id == staff_id)
    if device is not None:
        where.append(s.c.device == device)
    conn.execute(update(s).where(*where).values(ended_at=now))


# -- staff -------------------------------------------------------------------------------


def add_staff(engine: Engine, user: str, name: str, badge: str, role: str,
              password_hash: str, now: dt.datetime) -> None:
    with engine.begin() as conn:
        if conn.execute(select(STAFF.c.id).where(STAFF.c.user == user)).first():
            raise AdminError(f"用户已存在 / user {user} already exists")
        seed.add_staff(conn, user, name, badge, role, password_hash, now)


def disable_staff(engine: Engine, user: str, now: dt.datetime) -> None:
    """The account can no longer log in, and its open logins end."""
    with engine.begin() as conn:
        found = conn.execute(select(STAFF.c.id).where(STAFF.c.user == user)).first()
        if found is None:
            raise AdminError(f"没有该用户 / no user {user}")
        conn.execute(update(STAFF).where(STAFF.c.id == found[0]).values(active=False))
        end_logins(conn, now, staff_id=found[0])


def list_staff(engine: Engine) -> list[StaffRow]:
    with engine.connect() as conn:
        return [StaffRow(*r) for r in conn.execute(
            select(STAFF.c.user, STAFF.c.name, STAFF.c.badge, STAFF.c.role, STAFF.c.active)
            .order_by(STAFF.c.user))]


# -- devices -----------------------------------------------------------------------------


def record_device(engine: Engine, name: str, role: str, public_key: str,
                  now: dt.datetime) -> None:
    with engine.begin() as conn:
        seed.record_devices(conn, [(name, role, public_key)], now)


def revoke_device(engine: Engine, name: str, now: dt.datetime) -> None:
    """Out of service; the logins made on it end too, so a device re-added under the
    same name does not inherit them."""
    with engine.begin() as conn:
        conn.execute(update(DEVICE).where(DEVICE.c.name == name).values(
            active=False, revoked_at=now))
        end_logins(conn, now, device=name)


def device_records(engine: Engine) -> list[DeviceRecord]:
    with engine.connect() as conn:
        return [DeviceRecord(*r) for r in conn.execute(
            select(DEVICE.c.name, DEVICE.c.role, DEVICE.c.public_key, DEVICE.c.created_at,
                   DEVICE.c.revoked_at))]
