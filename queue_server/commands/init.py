"""`queue-server init [--data DIR] [--demo] [--force] [--status-url URL]`: make a data dir.

Writes config.toml (a realistic Shanghai centre), the database migrated to head with
departments, matters and windows from that config, every device key of a one-machine
hall, and with --demo the demo staff. An existing hall is never overwritten without
--force; with --force the old database is kept beside the new one as a backup.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import socket
import sys
from pathlib import Path
from typing import Any

from queue_common import identity, paths
from queue_server import keys
from queue_server.config import ConfigError, default_config_text, load_config, parse_config
from queue_server.passwords import hash_password
from queue_server.store import admin

# The devices of a one-machine hall (the demo, and a first real install).
DEVICES: tuple[tuple[str, str], ...] = (
    ("kiosk-1", "kiosk"), ("board-1", "board"), ("board-2", "board"),
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
_STATUS_LINE = re.compile(r'(?m)^status_base_url\s*=\s*"[^"\n]*"')


def register(sub: Any) -> None:
    p = sub.add_parser("init", help="make a data dir: config, database, keys (初始化)")
    p.add_argument("--data", help="data dir (default: $QUEUE_DATA or the platform's)")
    p.add_argument("--demo", action="store_true", help="add demo staff (password demo1234)")
    p.add_argument("--force", action="store_true",
                   help="overwrite an existing hall (the old database is kept as a backup)")
    p.add_argument("--status-url", metavar="URL",
                   help="start of the citizen status URL in tickets' QR codes, an address "
                        "phones in the hall reach, e.g. http://192.168.1.10:5580 "
                        "(stored as [server] status_base_url)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    data = paths.data_dir(args.data)
    text = default_config_text()
    if args.status_url:
        text = with_status_url(text, args.status_url)
    try:
        init_data_dir(data, demo=args.demo, force=args.force, config_text=text)
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
    if not args.status_url:
        print(status_url_hint(paths.config_file(data)))
    return 0


def with_status_url(config_text: str, url: str) -> str:
    """The config text with [server] status_base_url = url (validated when loaded)."""
    line = f"status_base_url = {json.dumps(url.strip())}"  # a JSON string is a TOML string
    out, n = _STATUS_LINE.subn(lambda _: line, config_text, count=1)
    if n != 1:
        raise ConfigError("config.toml", "server.status_base_url", "no such line to set")
    return out


def status_url_hint(config_path: Path) -> str:
    """Why the status URL matters and how to set it: without a LAN address there, a
    citizen's phone scanning the ticket's QR code reaches nothing."""
    guess = lan_address()
    example = f"http://{guess or '192.168.1.10'}:5580"
    return (f"提示：票面二维码需要手机能访问的局域网地址，请在 {config_path} 的 [server] 中设置 "
            f'status_base_url = "{example}"（或用 init --status-url {example}）。\n'
            f"hint: the QR code on tickets needs an address phones in the hall can reach: set "
            f'[server] status_base_url = "{example}" in {config_path} '
            f"(or pass --status-url {example} to init)"
            + ("" if guess else "; use this PC's LAN address"))


def lan_address() -> str | None:
    """This PC's address on the LAN (the route to a documentation address; no packet is
    sent), or None when there is no network."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))
            addr = str(s.getsockname()[0])
    except OSError:
        return None
    return None if addr.startswith(("127.", "0.")) else addr


def init_data_dir(data: Path, *, demo: bool = False, force: bool = False,
                  config_text: str | None = None) -> None:
    """Create config.toml, keys and a migrated, seeded database in data."""
    cfg_path = paths.config_file(data)
    text = config_text or default_config_text()
    parse_config(text, str(cfg_path))  # refused before anything is written
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
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(cfg_path)
    cfg = load_config(cfg_path)  # the file we wrote must itself validate

    trusted = _make_keys(data)
    identity.make_key(data)  # the 身份证 hash key: copied to each kiosk with its device key
    staff = ([(user, name, badge, role, hash_password(DEMO_PASSWORD))
              for user, name, badge, role in DEMO_STAFF] if demo else [])
    admin.create_hall(cfg.database_url(), cfg, staff, now,
                      synchronous=cfg.database.synchronous, devices=trusted)
    for sub in (paths.tickets_dir(data), paths.logs_dir(data)):
        sub.mkdir(exist_ok=True)


def _make_keys(data: Path) -> list[tuple[str, str, str]]:
    """The CURVE keys of every device (queue_server.keys); (name, role, key) for the table."""
    made = keys.create_hall_keys(data, DEVICES)
    return [(d.name, d.role, d.public_key) for d in made]
