"""The request envelope of docs/protocol.md, checked before anything else happens.

Pure: bytes in, a Request or an EnvelopeError out (no sockets, no hall), so every kind
of malformed input is answered with a code by one small function that is easy to test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from queue_common import protocol as p
from queue_common.protocol import Err, ProtocolError

MAX_ID_CHARS = 64  # processed_request.request_id
MAX_TOKEN_CHARS = 128


@dataclass(frozen=True)
class Request:
    """A well-formed request: known op, version 1, id, token (or None), args object."""

    request_id: str
    op: str
    token: str | None
    args: dict[str, Any]


class EnvelopeError(ProtocolError):
    """A request that breaks the envelope; request_id is set when it could be read."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None,
                 request_id: str | None = None) -> None:
        super().__init__(code, message, details)
        self.request_id = request_id


def parse_request(body: list[bytes]) -> Request:
    """Check the frames after the ROUTER identity (an empty REQ delimiter is tolerated)."""
    if len(body) == 2 and not body[0]:
        body = body[1:]
    if len(body) != p.MAX_FRAMES:
        raise EnvelopeError(Err.BAD_REQUEST,
                            f"一个请求只能有一帧 / expected 1 frame, got {len(body)}")
    raw = body[0]
    if len(raw) > p.MAX_FRAME_BYTES:
        raise EnvelopeError(Err.TOO_LARGE, "请求过大 / request too large",
                            {"limit": p.MAX_FRAME_BYTES})
    try:
        msg = p.decode(raw)
    except ProtocolError as exc:
        raise EnvelopeError(Err.BAD_REQUEST, f"请求不是 JSON 对象 / {exc.message}") from None
    rid = msg.get("id")
    if not isinstance(rid, str) or not 0 < len(rid) <= MAX_ID_CHARS:
        raise EnvelopeError(Err.BAD_REQUEST,
                            f"id 必须是 1-{MAX_ID_CHARS} 个字符 / "
                            f"id must be a string of 1-{MAX_ID_CHARS} characters",
                            {"field": "id"})

    def fail(code: str, message: str, details: dict[str, Any]) -> EnvelopeError:
        return EnvelopeError(code, message, details, rid)

    version = msg.get("v")
    if not isinstance(version, int) or isinstance(version, bool):
        raise fail(Err.BAD_REQUEST, "缺少版本 / v must be an integer", {"field": "v"})
    if version != p.VERSION:
        raise fail(Err.UNSUPPORTED_VERSION, f"不支持的版本 / unsupported version {version}",
                   {"supported": [p.VERSION]})
    op = msg.get("op")
    if not isinstance(op, str):
        raise fail(Err.BAD_REQUEST, "缺少操作 / op must be a string", {"field": "op"})
    if op not in p.ALL_OPS:
        raise fail(Err.UNKNOWN_OP, f"未知操作 / unknown op {op[:40]!r}", {"op": op[:40]})
    token = msg.get("token")
    if token is not None and (not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS):
        raise fail(Err.BAD_REQUEST, "令牌格式错误 / token must be a string or null",
                   {"field": "token"})
    args = msg.get("args", {})
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise fail(Err.BAD_REQUEST, "args 必须是对象 / args must be an object",
                   {"field": "args"})
    return Request(rid, op, token or None, args)
