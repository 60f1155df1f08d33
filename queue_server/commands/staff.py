"""`queue-server staff add USER --role clerk|supervisor|admin --name NAME [--badge B]`,
`staff list`, `staff disable USER`.

The password is read from stdin (one line, for scripts) or asked twice at a prompt; it is
never a command-line argument (argv is visible to every user of the PC and lands in shell
history). It is stored as a salted scrypt hash (queue_server.passwords).
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys
from typing import Any

from queue_common import paths
from queue_common.protocol import STAFF_ROLES

MIN_PASSWORD = 8


def register(sub: Any) -> None:
    p = sub.add_parser("staff", help="staff accounts (人员管理)")
    p.add_argument("--data", help="data dir (default: $QUEUE_DATA or the platform's)")
    ssub = p.add_subparsers(dest="staff_command", metavar="ACTION", required=True)
    add = ssub.add_parser("add", help="add a staff account (password from stdin or prompt)")
    add.add_argument("user")
    add.add_argument("--role", required=True, choices=STAFF_ROLES)
    add.add_argument("--name", required=True, help="full name shown at the window")
    add.add_argument("--badge", default="", help="工号, shown on the window screen")
    lst = ssub.add_parser("list", help="list staff accounts")
    dis = ssub.add_parser("disable", help="disable an account and end its logins")
    dis.add_argument("user")
    for sp in (add, lst, dis):
        sp.add_argument("--data", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("密码 / password: ")
        if getpass.getpass("再输一次 / again: ") != first:
            raise ValueError("两次密码不一致 / the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def run(args: argparse.Namespace) -> int:
    from queue_server.config import ConfigError
    from queue_server.devices import hall_database
    from queue_server.passwords import hash_password
    from queue_server.store import admin

    data = paths.data_dir(args.data)
    now = dt.datetime.now(dt.UTC)
    try:
        with hall_database(data) as engine:
            if args.staff_command == "add":
                user = args.user.strip()
                if not user or len(user) > 32:
                    raise ValueError("用户名需 1-32 个字符 / user must be 1-32 characters")
                password = _read_password()
                if len(password) < MIN_PASSWORD:
                    raise ValueError(f"密码至少 {MIN_PASSWORD} 位 / password needs "
                                     f"at least {MIN_PASSWORD} characters")
                admin.add_staff(engine, user, args.name, args.badge, args.role,
                                hash_password(password), now)
                print(f"已添加 / added {user} ({args.role}) {args.name}")
            elif args.staff_command == "disable":
                admin.disable_staff(engine, args.user, now)
                print(f"已停用 / disabled {args.user}")
            else:
                print(f"{'user':<12} {'role':<11} {'badge':<6} {'active':<7} name")
                for r in admin.list_staff(engine):
                    print(f"{r.user:<12} {r.role:<11} {r.badge:<6} "
                          f"{'yes' if r.active else 'no':<7} {r.name}")
    except (ConfigError, OSError) as exc:
        print(f"queue-server staff: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"queue-server staff: {exc}", file=sys.stderr)
        return 1
    return 0
