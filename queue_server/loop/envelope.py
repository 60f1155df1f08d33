"""The request envelope of docs/protocol.md, checked before anything else happens.

Pure: bytes in, a Request or an EnvelopeError out (no sockets, no hall), so every kind
of malformed input is answered with a code by one small function that is easy to test.

Besides the envelope's own members, every decoded value of the request is walked once
(``check_text``): no string anywhere (keys included) may hold a lone UTF-16 surrogate
(JSON lets ``"\\ud800"`` through, and such a string cannot be encoded back to UTF-8 for
the reply, the event or the database), NUL or another C0 control character (tab, line
feed and carriage return are text), nor be longer than MAX_STRING_CHARS; nesting deeper
than MAX_DEPTH is refused. So an operation never meets text it cannot store or answer,
and bad text is BAD_REQUEST, refused before anything is applied (docs/protocol.md 12).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from queue_common import protocol as p
from queue_common.protocol import Err, ProtocolError

MAX_ID_CHARS = 64  # processed_request.request_id
MAX_TOKEN_CHARS = 128
MAX_STRING_CHARS = 1000  # any string in a request; the schemas set tighter ones per field
MAX_DEPTH = 16  # objects and arrays inside the envelope (the deepest op uses 4)
# The largest frame ZeroMQ reads at all (router maxmsgsize): frames between
# MAX_FRAME_BYTES and this are read and answered TOO_LARGE; larger ones make ZeroMQ
# drop the connection (the peer reconnects).
MAX_READ_BYTES = 8 * 1024 * 1024  # a megabyte of Chinese text, \u-escaped, fits
CURVE_OVERHEAD = 1024  # ZeroMQ counts the CURVE box (~33 bytes) in its size limit
# Lone surrogates, NUL and the C0 controls except tab, LF, CR.
BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


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


def text_problem(value: Any, where: str = "", depth: int = 0) -> tuple[str, str] | None:
    """(field, what is wrong) for the first bad string or too deep nesting, else None."""
    if isinstance(value, str):
        if len(value) > MAX_STRING_CHARS:
            return where or "$", f"longer than {MAX_STRING_CHARS} characters"
        bad = BAD_CHARS.search(value)
        if bad is not None:
            return where or "$", f"holds the character U+{ord(bad.group()):04X}"
        return None
    if isinstance(value, dict | list):
        if depth >= MAX_DEPTH:
            return where or "$", f"nested deeper than {MAX_DEPTH}"
        if isinstance(value, dict):
            for key, item in value.items():
                name = f"{where}.{key}" if where else str(key)
                found = text_problem(key, name, depth + 1) or text_problem(
                    item, name, depth + 1)
                if found is not None:
                    return found
        else:
            for i, item in enumerate(value):
                found = text_problem(item, f"{where}[{i}]", depth + 1)
                if found is not None:
                    return found
    return None


def _readable_id(msg: dict[str, Any]) -> str | None:
    """The request's id if it is usable, so even a refused request is answered by it."""
    rid = msg.get("id")
    if isinstance(rid, str) and 0 < len(rid) <= MAX_ID_CHARS and not BAD_CHARS.search(rid):
        return rid
    return None


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
    problem = text_problem(msg)
    if problem is not None:
        field, what = problem
        raise EnvelopeError(Err.BAD_REQUEST,
                            f"文本不合法 / bad text: {field[:80]} {what}",
                            {"field": field[:80]}, _readable_id(msg))

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


def request_id_of(body: list[bytes]) -> str | None:
    """The id of a request that will not be served (THROTTLED), if it can be read."""
    raw = body[-1] if body else b""
    if len(raw) > p.MAX_FRAME_BYTES:
        return None
    try:
        return _readable_id(p.decode(raw))
    except ProtocolError:
        return None
