"""Devices of a hall: add (make and trust a key pair), list, revoke.

The trusted-keys directory decides who may connect (the running server watches it and
re-reads it within a second, so a revoke needs no restart); the `device` table records
the same devices with their history for the supervisor and the audit.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from queue_common import paths
from queue_server import keys
from queue_server.store import admin


@dataclass(frozen=True)
class DeviceRow:
    """One device as `device list` shows it."""

    name: str
    role: str
    public_key: str
    trusted: bool
    created_at: dt.datetime | None
    revoked_at: dt.datetime | None


class DeviceError(Exception):
    """A device command that cannot be done (unknown name, already revoked ...)."""


@contextlib.contextmanager
def hall_database(data: Path) -> Iterator[Any]:
    """The hall's database (from config.toml), upgraded to head (queue_server.store.admin)."""
    from queue_server.config import load_config

    cfg = load_config(paths.config_file(data))
    with admin.hall_database(cfg.database_url(), cfg.database.synchronous) as engine:
        yield engine


def add_device(data: Path, name: str, role: str) -> keys.TrustedDevice:
    """Make NAME's key pair, trust it, record it; a name in use is refused."""
    keys.check_device_name(name)
    if (paths.trusted_keys_dir(data) / f"{name}.key").exists():
        raise DeviceError(f"设备已存在 / device {name} already exists")
    old_secret = paths.device_secret_key(data, name)
    if old_secret.exists():  # left over from a revoked device of the same name
        old_secret.unlink()
    device = keys.create_device_keys(data, name, role)
    with hall_database(data) as engine:
        admin.record_device(engine, device.name, device.role, device.public_key,
                            dt.datetime.now(dt.UTC))
    return device


def revoke_device(data: Path, name: str) -> None:
    """Stop trusting NAME: its public key leaves keys/trusted, its secret is deleted,
    and the logins made on it end (the running hall notices within seconds)."""
    keys.check_device_name(name)
    trusted = paths.trusted_keys_dir(data) / f"{name}.key"
    if not trusted.exists():
        raise DeviceError(f"没有受信任的设备 {name} / no trusted device named {name}")
    revoked_dir = keys.revoked_keys_dir(data)
    revoked_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    os.replace(trusted, revoked_dir / f"{name}.{stamp}.key")
    secret = paths.device_secret_key(data, name)
    if secret.exists():
        secret.unlink()
    with hall_database(data) as engine:
        admin.revoke_device(engine, name, dt.datetime.now(dt.UTC))


def list_devices(data: Path) -> list[DeviceRow]:
    """Every device the table or the trusted directory knows, trusted ones first."""
    trusted, _problems = keys.load_trusted(data)
    by_name = {d.name: d for d in trusted.values()}
    rows: dict[str, DeviceRow] = {}
    with hall_database(data) as engine:
        records = admin.device_records(engine)
    for rec in records:
        live = by_name.get(rec.name)
        rows[rec.name] = DeviceRow(rec.name, rec.role, rec.public_key,
                                   live is not None and live.public_key == rec.public_key,
                                   rec.created_at, rec.revoked_at)
    for name, dev in by_name.items():
        if name not in rows:
            rows[name] = DeviceRow(name, dev.role, dev.public_key, True, None, None)
    return sorted(rows.values(), key=lambda r: (not r.trusted, r.name))


def disagreements(data: Path) -> list[str]:
    """Where the device table and keys/trusted disagree (logged by `run` at start-up)."""
    out = []
    for row in list_devices(data):
        if row.created_at is None:
            out.append(f"device {row.name} is trusted but not in the device table")
        elif row.revoked_at is None and not row.trusted:
            out.append(f"device {row.name} is active in the table but its key is not "
                       "trusted (missing or different file in keys/trusted)")
        elif row.revoked_at is not None and row.trusted:
            out.append(f"device {row.name} was revoked but its key is trusted again")
    return out
