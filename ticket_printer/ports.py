"""What the kiosk needs of the outside, as Protocols (the real ones: queue_common.connection).

Naming the few members the kiosk uses keeps it honest (no reaching into the connection)
and lets tests wrap the real connection, e.g. to lose a reply on purpose.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class ReplyLike(Protocol):
    ok: bool
    result: dict[str, Any] | None
    error_code: str | None
    error_message: str | None
    request_id: str


class ConnectionLike(Protocol):
    """The members of queue_common.connection.Connection the kiosk uses."""

    online: bool
    mirror: Any

    def request(self, op: str, args: dict[str, Any] | None = None, *,
                callback: Callable[[Any], None] | None = None, timeout: float = 3.0,
                retries: int = 2, request_id: str | None = None) -> str: ...

    def add_listener(self, fn: Callable[[str, dict[str, Any]], None]) -> None: ...
