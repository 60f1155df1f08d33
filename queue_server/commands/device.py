"""`queue-server device add NAME --role kiosk|board|counter | list | revoke NAME`.

`add` writes the device's secret certificate to DATA/keys/devices/NAME.key_secret (copy
it with DATA/keys/server.key to the device's PC). On a running server both take effect
without a restart, and the command returns only once the server has applied them (it
writes DATA/keys/trusted.applied, queue_server.loop.trusted): after `add` the new key
is trusted, after `revoke` the device is refused on both sockets. If the server does not
confirm within 5 s the command says so and exits with status 3.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from queue_common import paths
from queue_common.protocol import DEVICE_ROLES

APPLY_TIMEOUT = 5.0


def register(sub: Any) -> None:
    p = sub.add_parser("device", help="devices and their keys (设备管理)")
    p.add_argument("--data", help="data dir (default: $QUEUE_DATA or the platform's)")
    dsub = p.add_subparsers(dest="device_command", metavar="ACTION", required=True)
    add = dsub.add_parser("add", help="make and trust a key pair for a new device")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=DEVICE_ROLES)
    add.add_argument("--data", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    lst = dsub.add_parser("list", help="list devices")
    lst.add_argument("--data", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    rev = dsub.add_parser("revoke", help="stop trusting a device (no restart needed)")
    rev.add_argument("name")
    rev.add_argument("--data", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from queue_server.config import ConfigError
    from queue_server.devices import DeviceError, add_device, list_devices, revoke_device

    data = paths.data_dir(args.data)
    try:
        if args.device_command == "add":
            device = add_device(data, args.name, args.role)
            print(f"已添加设备 / added device {device.name} ({device.role})")
            print(f"  secret certificate: {paths.device_secret_key(data, device.name)}")
            print(f"  server certificate: {paths.server_public_key(data)}")
        elif args.device_command == "revoke":
            revoke_device(data, args.name)
            print(f"已停用设备 / revoked device {args.name}")
        else:
            print(f"{'name':<16} {'role':<8} {'trusted':<8} {'revoked':<20} public key")
            for row in list_devices(data):
                revoked = row.revoked_at.strftime("%Y-%m-%d %H:%M") if row.revoked_at else ""
                print(f"{row.name:<16} {row.role:<8} {'yes' if row.trusted else 'no':<8} "
                      f"{revoked:<20} {row.public_key}")
            return 0
        return _wait_for_server(data)
    except (DeviceError, ValueError, ConfigError, OSError) as exc:
        print(f"queue-server device: {exc}", file=sys.stderr)
        return 1


def _wait_for_server(data: Path) -> int:
    """0 once the running server applied the change (or none runs), 3 if unconfirmed."""
    from queue_server.loop.trusted import wait_applied

    outcome = wait_applied(data, APPLY_TIMEOUT)
    if outcome == "applied":
        print("运行中的服务器已生效 / applied by the running server")
        return 0
    if outcome == "no-server":
        print("服务器未运行，启动时生效 / no server running: applies when it starts")
        return 0
    print(f"运行中的服务器 {APPLY_TIMEOUT:g} 秒内未确认 / the running server did not confirm "
          f"within {APPLY_TIMEOUT:g} s: see its log", file=sys.stderr)
    return 3
