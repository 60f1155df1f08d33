"""Domain errors of the hall: a protocol error code and a "中文 / English" message.

One exception type carries every refusal so the socket loop turns them into error
replies in one place; a refusal is raised before anything changes, so a refused
operation leaves the hall exactly as it was.
"""

from __future__ import annotations

from typing import Any

from queue_common.protocol import Err


class HallError(Exception):
    """An operation the hall refused; nothing was changed."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details: dict[str, Any] = details or {}

    def __repr__(self) -> str:
        return f"HallError({self.code!r}, {self.message!r}, {self.details!r})"


def bilingual(zh: str, en: str) -> str:
    """A message as every reply carries it: "中文 / English"."""
    return f"{zh} / {en}"


def bad_request(field: str, zh: str, en: str) -> HallError:
    return HallError(Err.BAD_REQUEST, f"{zh} / {en}", {"field": field})


# What a state is called in the Chinese half of a message: the code stays in `details`.
STATE_ZH: dict[str, str] = {
    # windows
    "closed": "未开放", "idle": "空闲", "calling": "呼叫中", "serving": "办理中",
    "paused": "暂停",
    # tickets and their matters
    "waiting": "等候中", "called": "已呼叫", "parked": "挂起", "done": "已办结",
    "no_show": "过号", "cancelled": "已取消", "not_served": "未办理",
    "pending": "待办理", "not_done": "未办结",
}


def state_zh(state: str) -> str:
    """A state's Chinese name (an unknown one as it is, never a mixed-language hole)."""
    return STATE_ZH.get(state, state)


def conflict(what: str, state: str, zh: str, en: str, **details: Any) -> HallError:
    """Wrong state: details name the object and the state it is in."""
    return HallError(Err.CONFLICT, f"{zh} / {en}", {"object": what, "state": state, **details})


def not_found(what: str, key: object, zh: str, en: str) -> HallError:
    return HallError(Err.NOT_FOUND, f"{zh} / {en}", {"object": what, "key": key})


def store_unavailable(exc: BaseException) -> HallError:
    return HallError(
        Err.STORE_UNAVAILABLE,
        "数据库暂时无法写入，操作未执行，请稍后重试 / "
        "The database cannot be written; nothing was applied, please retry",
        {"reason": type(exc).__name__})


class EarlierWriteFailed(Exception):
    """A batch applied on top of one whose write failed: dropped unwritten
    (queue_server.loop.committer); it answers STORE_UNAVAILABLE like the failed one."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(f"an earlier batch's write failed: {type(cause).__name__}")
        self.cause = cause
