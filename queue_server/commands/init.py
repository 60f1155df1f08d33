"""`queue-server init [--data DIR] [--demo] [--force]`: make a hall's data dir.

Writes config.toml (a realistic Shanghai centre), the database migrated to head with
departments, matters and windows from that config, every device key of a one-machine
hall, and with --demo the demo staff. An existing hall is never overwritten without
--force; with --force the old database is kept beside the new one as a backup.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from queue_common import paths
from queue_server import keys
from queue_server.config import ConfigError, default_config_text, load_config
from queue_server.passwords import hash_password
from queue_server.store import db, seed

# TEAM.md: the devices of a one-machine hall.
DEVICES: tuple[tuple[str, str], ...] = (
    ("kiosk-1", "kiosk"), ("board-1", "board"),
    *((f"counter-{i}", "counter") for i in range(1, 9)),
    ("supervisor-1", "counter"),
)
DEMO_PASSWORD = "demo1234"
# (user, name, badge, role)
DEMO_STAFF: tuple[tuple[str, str, str, str], ...] = (
    ("clerk1", "张敏", "0101", "clerk"),
    ("clerk2", "李强", "0102", "clerk"),
    ("clerk3", "王磊", "0103", "clerk"),
    ("super1", "陈静", "0201", "supervisor"),
    ("admin", "系统管理员", "0001", "admin"),
)
SQLITE_NAME = "queue.sqlite3"


def register(sub: Any) -> None:
    p = sub.add_parser("init", help="make a data dir: config, database, keys (初始化)")
    p.add_argument("--data", help="data dir (default: $QUEUE_DATA or the platform's)")
    p.add_argument("--demo", action="store_true", help="add demo staff (password demo1234)")
    p.add_argument("--force", action="store_true",
                   help="overwrite an existing hall (the old database is kept as a backup)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    data = paths.data_dir(args.data)
    try:
        init_data_dir(data, demo=args.demo, force=args.force)
    except FileExistsError as exc:
        print(f"queue-server init: {exc}", file=sys.stderr)
        return 1
    except ConfigError as exc:
        print(f"queue-server init: bad config: {exc}", file=sys.stderr)
        return 1
    print(f"数据目录 / data dir: {data}")
    if args.demo:
        users = ", ".join(u for u, *_ in DEMO_STAFF)
        print(f"演示账号 / demo staff: {users} (password {DEMO_PASSWORD})")
    return 0


def init_data_dir(data: Path, *, demo: bool = False, force: bool = False,
                  config_text: str | None = None) -> None:
    """Create config.toml, keys and a migrated, seeded database in data."""
    cfg_path = paths.config_file(data)
    db_path = data / SQLITE_NAME
    existing = [p for p in (cfg_path, db_path) if p.exists()]
    if existing and not force:
        names = ", ".join(str(p) for p in existing)
        raise FileExistsError(f"{names} already exist(s); use --force to start a new hall")
    data.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    if db_path.exists():
        backup = db_path.with_name(f"{SQLITE_NAME}.bak-{now:%Y%m%d%H%M%S}")
        db_path.replace(backup)
        for extra in ("-wal", "-shm"):
            side = db_path.with_name(SQLITE_NAME + extra)
            if side.exists():
                side.replace(backup.with_name(backup.name + extra))
    tmp = cfg_path.with_suffix(".toml.tmp")
    tmp.write_text(config_text or default_config_text(), encoding="utf-8")
    tmp.replace(cfg_path)
    cfg = load_config(cfg_path)  # the file we wrote must itself validate

    trusted = _make_keys(data)
    engine = db.make_engine(cfg.database_url(), synchronous=cfg.database.synchronous)
    try:
        db.upgrade_to_head(engine)
        with engine.begin() as conn:
            seed.sync_from_config(conn, cfg)
            seed.record_devices(conn, trusted, now)
            if demo:
                for user, name, badge, role in DEMO_STAFF:
                    seed.add_staff(conn, user, name, badge, role,
                                   hash_password(DEMO_PASSWORD), now)
    finally:
        engine.dispose()
    for sub in (paths.tickets_dir(data), paths.logs_dir(data)):
        sub.mkdir(exist_ok=True)


def _make_keys(data: Path) -> list[tuple[str, str, str]]:
    """The CURVE keys of every device (queue_server.keys); (name, role, key) for the table."""
    made = keys.create_hall_keys(data, DEVICES)
    return [(d.name, d.role, d.public_key) for d in made]
