"""What the caller and the rating pad need from queue_common.connection.Connection.

A Protocol, so the views are typed against the contract in TEAM.md rather than one
implementation, and a test can hand them the real connection or a small fake alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class MirrorLike(Protocol):
    state: dict[str, Any]
    seq: int


class ClientConnection(Protocol):
    mirror: Any  # MirrorLike: .state (docs/hall-state.md shape) and .seq
    online: bool
    token: str | None

    def request(self, op: str, args: dict[str, Any] | None = None, *,
                callback: Callable[[Any], None] | None = None, timeout: float = 3.0,
                retries: int = 2) -> str: ...

    def add_listener(self, fn: Callable[[str, dict[str, Any]], None]) -> None: ...
