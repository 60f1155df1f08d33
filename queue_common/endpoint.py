"""Where a desktop process finds the server and which keys it proves itself with.

A client PC's data dir holds config.toml (only its [client] section is read here: the
server's host and ports), the server's public certificate and the device's secret
certificate (docs/configuration.md). Nothing here touches sockets.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from queue_common import paths
from queue_common.protocol import DEFAULT_EVENT_PORT, DEFAULT_REQUEST_PORT


@dataclass(frozen=True)
class ServerEndpoint:
    """The server's host and its two ports (requests: ROUTER, events: PUB)."""

    host: str = "127.0.0.1"
    request_port: int = DEFAULT_REQUEST_PORT
    event_port: int = DEFAULT_EVENT_PORT

    @property
    def request_url(self) -> str:
        return f"tcp://{self._host()}:{self.request_port}"

    @property
    def event_url(self) -> str:
        return f"tcp://{self._host()}:{self.event_port}"

    def _host(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    @classmethod
    def parse(cls, text: str, default: ServerEndpoint | None = None) -> ServerEndpoint:
        """"HOST" (ports from default) or "HOST:REQUEST_PORT:EVENT_PORT"."""
        base = default or cls()
        parts = text.strip().rsplit(":", 2)
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
            host, req, ev = parts[0].strip("[]"), int(parts[1]), int(parts[2])
            for port in (req, ev):
                if not 0 < port < 65536:
                    raise ValueError(f"port out of range in {text!r}")
            return cls(host or base.host, req, ev)
        if not text.strip() or re.search(r"\s", text.strip()):
            raise ValueError(f"bad server address {text!r}: use HOST or HOST:REQ_PORT:EVENT_PORT")
        return cls(text.strip().strip("[]"), base.request_port, base.event_port)


@dataclass(frozen=True)
class ClientKeys:
    """A device's CURVE pair and the server's public key, all Z85 text."""

    public: str
    secret: str
    server_public: str

    @classmethod
    def from_data_dir(cls, data: Path, device: str) -> ClientKeys:
        """Read keys/devices/DEVICE.key_secret and keys/server.key."""
        public, secret = _read_pair(paths.device_secret_key(data, device))
        server_public, _ = _read_pair(paths.server_public_key(data))
        if secret is None:
            raise ValueError(f"{paths.device_secret_key(data, device)} holds no secret key")
        return cls(public, secret, server_public)


def _read_pair(path: Path) -> tuple[str, str | None]:
    """(public, secret or None) from a pyzmq-format certificate file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FileNotFoundError(f"key file {path} cannot be read: {exc}") from None
    found: dict[str, str] = {}
    for m in re.finditer(r'^\s+(public-key|secret-key)\s*=\s*"([^"]{40})"', text, re.M):
        found[m.group(1)] = m.group(2)
    if "public-key" not in found:
        raise ValueError(f"{path} holds no public key")
    return found["public-key"], found.get("secret-key")


def client_endpoint(data: Path, server: str | None = None) -> ServerEndpoint:
    """The endpoint from --server if given, else config.toml [client], else defaults."""
    section: dict[str, Any] = {}
    cfg = paths.config_file(data)
    if cfg.exists():
        try:
            with cfg.open("rb") as fh:
                loaded = tomllib.load(fh).get("client", {})
            section = loaded if isinstance(loaded, dict) else {}
        except (OSError, tomllib.TOMLDecodeError):
            section = {}
    base = ServerEndpoint(
        host=str(section.get("server", section.get("host", "127.0.0.1"))),
        request_port=int(section.get("request_port", DEFAULT_REQUEST_PORT)),
        event_port=int(section.get("event_port", DEFAULT_EVENT_PORT)),
    )
    return ServerEndpoint.parse(server, base) if server else base
