"""`queue-server device add NAME --role kiosk|board|counter | list | revoke NAME`.

`add` writes the device's secret certificate to DATA/keys/devices/NAME.key_secret (copy
it with DATA/keys/server.key to the device's PC); `revoke` takes effect on a running
server within about a second, without a restart.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from queue_common import paths
from queue_common.protocol import DEVICE_ROLES


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
    except (DeviceError, ValueError, ConfigError, OSError) as exc:
        print(f"queue-server device: {exc}", file=sys.stderr)
        return 1
    return 0
