"""Where a hall's data lives: `--data`, else $QUEUE_DATA, else the platform's data dir.

Layout of a data dir (docs/configuration.md):
    config.toml              the hall's configuration
    queue.sqlite3            the default database
    keys/server.key          the server's public certificate (clients need it)
    keys/server.key_secret   the server's secret certificate (server only)
    keys/trusted/NAME.key    public keys of trusted devices (server side)
    keys/devices/NAME.key_secret  a device's secret certificate (client side)
    tickets/                 PNG tickets from the `file` printer
    logs/                    process logs
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "yichuang-queue"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def data_dir(arg: str | os.PathLike[str] | None = None) -> Path:
    """Resolve the data dir from a CLI argument, $QUEUE_DATA, or the platform default."""
    if arg:
        return Path(arg).expanduser().resolve()
    env = os.environ.get("QUEUE_DATA")
    if env:
        return Path(env).expanduser().resolve()
    return default_data_dir()


def config_file(data: Path) -> Path:
    return data / "config.toml"


def keys_dir(data: Path) -> Path:
    return data / "keys"


def server_public_key(data: Path) -> Path:
    return data / "keys" / "server.key"


def server_secret_key(data: Path) -> Path:
    return data / "keys" / "server.key_secret"


def trusted_keys_dir(data: Path) -> Path:
    return data / "keys" / "trusted"


def device_secret_key(data: Path, device: str) -> Path:
    return data / "keys" / "devices" / f"{device}.key_secret"


def tickets_dir(data: Path) -> Path:
    return data / "tickets"


def logs_dir(data: Path) -> Path:
    return data / "logs"
