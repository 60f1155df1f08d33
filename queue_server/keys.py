"""CURVE certificates of a hall: the server's pair, each device's pair, the trusted set.

The "ironhouse" layout of ZeroMQ's CURVE guide (queue_common.paths): the server's secret certificate
never leaves the server; a device's secret certificate lives in ``keys/devices`` (copied
to the device's PC); the server trusts exactly the public certificates in
``keys/trusted``. A trusted certificate carries the device's role in its metadata, so the
trusted directory alone says who may connect and what they may do. Revoked public
certificates move to ``keys/revoked`` (kept for the audit trail, never trusted).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import zmq

from queue_common import paths
from queue_common.protocol import DEVICE_ROLES

DEVICE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class TrustedDevice:
    """A device the server lets in: its name, role and Z85 public key."""

    name: str
    role: str
    public_key: str


class KeyFileError(Exception):
    """A certificate file that cannot be read or does not hold what it must."""


def revoked_keys_dir(data: Path) -> Path:
    return paths.keys_dir(data) / "revoked"


def check_device_name(name: str) -> str:
    """Device names become file names: letters, digits, '-', '_', '.' only."""
    if not DEVICE_NAME.match(name):
        raise ValueError(f"bad device name {name!r}: use letters, digits, '-', '_', '.'")
    return name


def _write_cert(path: Path, public: str, secret: str | None, metadata: dict[str, str]) -> None:
    """Write a pyzmq-format certificate (readable by zmq.auth.load_certificate)."""
    lines = [f"#   ZeroMQ CURVE {'Secret' if secret else 'Public'} Certificate",
             f"#   Generated {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}"
             " by queue-server", "", "metadata"]
    lines += [f'    {k} = "{v}"' for k, v in metadata.items()]
    lines += ["curve", f'    public-key = "{public}"']
    if secret:
        lines.append(f'    secret-key = "{secret}"')
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if secret:
        with contextlib.suppress(OSError):  # Windows: the data dir's ACLs apply
            os.chmod(tmp, 0o600)
    os.replace(tmp, path)


_FIELD = re.compile(r'^\s+([A-Za-z0-9_-]+)\s*=\s*"?([^"]*)"?\s*$')


def read_cert(path: Path) -> tuple[str, str | None, dict[str, str]]:
    """(public key, secret key or None, metadata) from a certificate file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"{path}: {exc}") from None
    section = ""
    metadata: dict[str, str] = {}
    public: str | None = None
    secret: str | None = None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            section = line.strip()
            continue
        m = _FIELD.match(line)
        if not m:
            continue
        key, value = m.group(1), m.group(2)
        if section == "metadata":
            metadata[key] = value
        elif section == "curve" and key == "public-key":
            public = value
        elif section == "curve" and key == "secret-key":
            secret = value
    if public is None or len(public) != 40:
        raise KeyFileError(f"{path}: no 40-character Z85 public key")
    if secret is not None and len(secret) != 40:
        raise KeyFileError(f"{path}: the secret key is not 40 Z85 characters")
    return public, secret, metadata


def create_server_keys(data: Path) -> None:
    """Make the server's certificate pair unless it exists (keys are never replaced)."""
    if paths.server_secret_key(data).exists():
        return
    public, secret = (k.decode("ascii") for k in zmq.curve_keypair())
    _write_cert(paths.server_secret_key(data), public, secret, {"role": "server"})
    _write_cert(paths.server_public_key(data), public, None, {"role": "server"})


def create_device_keys(data: Path, name: str, role: str) -> TrustedDevice:
    """Make a device's pair, trust its public key; an existing trusted device is kept."""
    check_device_name(name)
    if role not in DEVICE_ROLES:
        raise ValueError(f"device role must be one of {DEVICE_ROLES}, not {role!r}")
    trusted = paths.trusted_keys_dir(data) / f"{name}.key"
    if trusted.exists():
        public, _, meta = read_cert(trusted)
        return TrustedDevice(name, meta.get("role", ""), public)
    public, secret = (k.decode("ascii") for k in zmq.curve_keypair())
    meta = {"device": name, "role": role}
    _write_cert(paths.device_secret_key(data, name), public, secret, meta)
    _write_cert(trusted, public, None, meta)
    return TrustedDevice(name, role, public)


def create_hall_keys(data: Path, devices: Iterable[tuple[str, str]]) -> list[TrustedDevice]:
    """Server pair plus one pair per (name, role): what `init` needs for a one-PC hall."""
    paths.trusted_keys_dir(data).mkdir(parents=True, exist_ok=True)
    paths.device_secret_key(data, "x").parent.mkdir(parents=True, exist_ok=True)
    create_server_keys(data)
    return [create_device_keys(data, name, role) for name, role in devices]


def load_trusted(data: Path) -> tuple[dict[str, TrustedDevice], list[str]]:
    """Trusted devices by Z85 public key, and a problem per file that could not be used.

    The caller MUST look at the problems: a key file that fails to load would otherwise
    silently lock a device out (ZeroMQ's authenticator only logs a bad file).
    """
    devices: dict[str, TrustedDevice] = {}
    problems: list[str] = []
    folder = paths.trusted_keys_dir(data)
    if not folder.is_dir():
        return devices, [f"{folder}: trusted-keys directory missing"]
    for path in sorted(folder.glob("*.key")):
        name = path.stem
        try:
            public, secret, meta = read_cert(path)
        except KeyFileError as exc:
            problems.append(str(exc))
            continue
        role = meta.get("role", "")
        if secret is not None:
            problems.append(f"{path}: a secret key does not belong in the trusted directory")
        if role not in DEVICE_ROLES:
            problems.append(f"{path}: role {role!r} is not one of {DEVICE_ROLES}")
            continue
        if public in devices:
            problems.append(f"{path}: same key as device {devices[public].name}")
            continue
        devices[public] = TrustedDevice(name, role, public)
    return devices, problems


def trusted_signature(data: Path) -> tuple[tuple[str, int, int], ...]:
    """Cheap fingerprint of the trusted directory; it changes when a device is added or revoked."""
    folder = paths.trusted_keys_dir(data)
    try:
        entries = [(p.name, p.stat().st_mtime_ns, p.stat().st_size)
                   for p in folder.glob("*.key")]
    except OSError:
        return ()
    return tuple(sorted(entries))
