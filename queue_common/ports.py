"""What the Tk apps need of a connection to the hall, as Protocols.

The real one is queue_common.connection.Connection; tests hand the views a small fake
(tests/support/fake_connection.py) or wrap the real one (to lose a reply on purpose),
and `display-board --preview` a fixed sample hall. Naming the few members the apps use
keeps them from reaching into the connection.

A view that registers a listener removes it when it is destroyed: the connection
outlives the login form, the caller and the dashboard, and a listener left behind
would run against dead widgets on every later event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

Listener = Callable[[str, dict[str, Any]], None]


class ReplyLike(Protocol):
    """The answer to one request (queue_common.connection.Reply)."""

    ok: bool
    result: dict[str, Any] | None
    error_code: str | None
    error_message: str | None
    details: dict[str, Any]
    request_id: str


class ClientConnection(Protocol):
    """Requests with callbacks on the Tk thread, the mirror, and event listeners."""

    online: bool

    @property
    def mirror(self) -> Any: ...  # queue_common.mirror.Mirror (docs/hall-state.md)

    def request(self, op: str, args: dict[str, Any] | None = None, *,
                callback: Callable[[Any], None] | None = None, timeout: float = 3.0,
                retries: int = 2, request_id: str | None = None) -> str: ...

    def add_listener(self, fn: Listener) -> None: ...

    def remove_listener(self, fn: Listener) -> None: ...


class StaffConnection(ClientConnection, Protocol):
    """A connection a clerk or supervisor logs in through (the caller, the dashboard)."""

    token: str | None

    def login(self, user: str, password: str, counter: int | None,
              callback: Callable[[Any], None] | None = None) -> str: ...

    def logout(self, callback: Callable[[Any], None] | None = None) -> str: ...
