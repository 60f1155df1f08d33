"""The citizen's status page: GET /t/<token> on the status port, a small mobile page.

The QR code on every ticket holds this URL. The page shows only what is printed on the
ticket anyway (number, matters) plus where the visit stands now (waiting with N ahead
and an estimated wait, called to window N, being served, done); never a name, phone or
ID number. Tokens are long random strings issued with the ticket, so numbers cannot be
enumerated: anything that does not look like a token gets the same friendly 404 as an
unknown one, without asking the hall.

It runs in its own threads (ThreadingHTTPServer) and only READS through ``lookup``,
which the server supplies (Server.status_lookup: one read-only `ticket_status` answered
by the loop between batches), so a slow phone never holds up the queue. It never
writes. A lookup that fails or times out shows "try again shortly" (503), not a 404.
"""

from __future__ import annotations

import html
import logging
import re
import threading
from collections.abc import Callable, Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from queue_common.i18n import tr
from queue_server import messages as _messages  # noqa: F401  (registers the texts)

log = logging.getLogger(__name__)

# What `lookup(token)` returns: the hall's `ticket_status` result (None = unknown token).
# Read keys (all optional except the ticket): {"ticket": Ticket (docs/hall-state.md),
# "ahead": int, "estimated_wait": seconds, "hall": {"name"}, "services": {code: name} or
# [{"code", "name"}] (as `issue` returns them),
# "counter_name": str}. A flat Ticket dict is accepted too.
Lookup = Callable[[str], Mapping[str, Any] | None]

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
REFRESH_SECONDS = 15
FINAL_STATES = frozenset({"done", "no_show", "cancelled", "not_served"})


class StatusServer:
    """A running status page; ``stop()`` shuts it down and joins its thread."""

    def __init__(self, httpd: ThreadingHTTPServer, thread: threading.Thread) -> None:
        self._httpd = httpd
        self._thread = thread
        address = httpd.server_address
        self.host: str = str(address[0])
        self.port: int = int(address[1])

    def url(self, token: str, host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}/t/{token}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def start_status_server(host: str, port: int, lookup: Lookup, *,
                        refresh_seconds: int = REFRESH_SECONDS, hall_name: str = "",
                        service_names: Mapping[str, str] | None = None) -> StatusServer:
    """Serve the status page on host:port (0 = any free port) in a daemon thread.

    hall_name and service_names (code -> name, from config) fill in what a lookup
    result does not carry itself.
    """
    names = dict(service_names or {})

    def lookup_with_names(token: str) -> Mapping[str, Any] | None:
        found = lookup(token)
        if not found:
            return found
        extra: dict[str, Any] = {}
        if hall_name and not isinstance(found.get("hall"), Mapping):
            extra["hall"] = {"name": hall_name}
        if names and not found.get("services"):
            extra["services"] = names
        return {**found, **extra} if extra else found

    class Handler(_StatusHandler):
        pass

    Handler.lookup = staticmethod(lookup_with_names)
    Handler.refresh_seconds = refresh_seconds
    httpd = ThreadingHTTPServer((host, port), Handler)
    httpd.daemon_threads = True
    # The poll interval is how long stop() waits for the accept loop to notice (a
    # shutdown is seen only between polls); ten idle wake-ups a second cost nothing.
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
                              name="status-page", daemon=True)
    thread.start()
    return StatusServer(httpd, thread)


class _StatusHandler(BaseHTTPRequestHandler):
    lookup: Callable[[str], Mapping[str, Any] | None]
    refresh_seconds: int = REFRESH_SECONDS
    server_version = "queue-status"
    sys_version = ""
    timeout = 10  # a phone that opens a connection and sends nothing is dropped

    def do_GET(self) -> None:  # noqa: N802  (http.server's naming)
        path = self.path.split("?", 1)[0]
        match = re.fullmatch(r"/t/([^/]+)/?", path)
        if match is None or not TOKEN_RE.match(match.group(1)):
            self._send(HTTPStatus.NOT_FOUND, _not_found_page())
            return
        try:
            found = type(self).lookup(match.group(1))
        except Exception:
            log.exception("status lookup failed")
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, _unavailable_page())
            return
        if not found:
            self._send(HTTPStatus.NOT_FOUND, _not_found_page())
            return
        self._send(HTTPStatus.OK, ticket_page(found, self.refresh_seconds))

    def do_HEAD(self) -> None:  # noqa: N802
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, "", body=False)

    def do_POST(self) -> None:  # noqa: N802
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, _page(tr("status.title"),
                                                        tr("status.read_only"), 0))

    do_PUT = do_DELETE = do_PATCH = do_POST  # noqa: N815

    def _send(self, status: HTTPStatus, page: str, *, body: bool = True) -> None:
        data = page.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")  # the token is in the URL
        self.send_header("X-Robots-Tag", "noindex")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
        self.end_headers()
        if body and data:
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        log.debug("status page: " + format, *args)  # no token in any INFO log


# ---- the pages ---------------------------------------------------------------------

_STYLE = """
body{margin:0;font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;
background:#f4f6f9;color:#0b1f3a}
main{max-width:28rem;margin:0 auto;padding:1.2rem}
h1{font-size:1.05rem;font-weight:600;margin:.2rem 0 1rem;color:#12305a}
.number{font-size:4.5rem;font-weight:800;letter-spacing:.05em;text-align:center;margin:.4rem 0}
.state{font-size:1.6rem;font-weight:700;text-align:center;padding:.8rem;border-radius:.6rem;
background:#12305a;color:#fff}
.state.called{background:#ffd400;color:#0b1f3a}
.state.final{background:#9fb3c8;color:#0b1f3a}
.facts{font-size:1.2rem;line-height:1.9;margin:1rem 0;padding:0;list-style:none}
.matters{color:#3a4b63}
.small{font-size:.85rem;color:#5b6b80;margin-top:1.5rem}
"""


def _page(title: str, body: str, refresh: int) -> str:
    meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh > 0 else ""
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"{meta}<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>")


def _not_found_page() -> str:
    body = (f"<h1>{html.escape(tr('status.title'))}</h1>"
            f"<p class=\"state final\">{html.escape(tr('status.not_found'))}</p>"
            f"<p class=\"small\">{html.escape(tr('status.not_found_hint'))}</p>")
    return _page(tr("status.title"), body, 0)


def _unavailable_page() -> str:
    body = (f"<h1>{html.escape(tr('status.title'))}</h1>"
            f"<p class=\"state final\">{html.escape(tr('status.unavailable'))}</p>")
    return _page(tr("status.title"), body, REFRESH_SECONDS)


def _counter_label(found: Mapping[str, Any], ticket: Mapping[str, Any]) -> str:
    name = found.get("counter_name")
    if isinstance(name, str) and name:
        return name
    return tr("status.counter", n=ticket.get("counter") or "?")


def state_text(found: Mapping[str, Any]) -> tuple[str, str]:
    """(css class, sentence) for where the visit stands."""
    ticket = _ticket(found)
    state = str(ticket.get("state", ""))
    if state == "waiting":
        return "", tr("status.waiting")
    if state == "called":
        return "called", tr("status.called", counter=_counter_label(found, ticket))
    if state == "serving":
        return "called", tr("status.serving", counter=_counter_label(found, ticket))
    if state == "parked":
        return "", tr("status.parked")
    if state in FINAL_STATES:
        return "final", tr(f"status.state.{state}")
    return "final", state


def _ticket(found: Mapping[str, Any]) -> Mapping[str, Any]:
    inner = found.get("ticket")
    return inner if isinstance(inner, Mapping) else found


def _matter_names(found: Mapping[str, Any], ticket: Mapping[str, Any]) -> list[str]:
    names = found.get("services")
    by_code: Mapping[str, Any] = names if isinstance(names, Mapping) else {}
    if isinstance(names, list):  # the shape `issue` returns: [{"code", "name"}, ...]
        by_code = {str(s.get("code")): s.get("name") for s in names if isinstance(s, Mapping)}
    out = []
    for item in ticket.get("items") or []:
        if isinstance(item, Mapping):
            code = str(item.get("service", ""))
            out.append(str(item.get("name") or by_code.get(code) or code))
    return out


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def ticket_page(found: Mapping[str, Any], refresh: int = REFRESH_SECONDS) -> str:
    """The page for one ticket; every value is escaped (names come from config)."""
    ticket = _ticket(found)
    esc = html.escape
    hall = found.get("hall")
    hall_name = hall.get("name", "") if isinstance(hall, Mapping) else ""
    css, sentence = state_text(found)
    facts: list[str] = []
    if ticket.get("state") == "waiting":
        ahead = _int(found.get("ahead"))
        if ahead is not None:
            facts.append(tr("status.ahead", n=ahead) if ahead > 0 else tr("status.ahead_none"))
        wait = _int(found.get("estimated_wait"))
        if wait is not None:
            facts.append(tr("status.wait", minutes=max(1, (wait + 59) // 60)))
    matters = "、".join(_matter_names(found, ticket))
    final = css == "final"
    body = (
        f"<h1>{esc(str(hall_name) or tr('status.title'))}</h1>"
        f'<div class="number">{esc(str(ticket.get("number", "")))}</div>'
        f'<p class="state {css}">{esc(sentence)}</p>'
        '<ul class="facts">' + "".join(f"<li>{esc(f)}</li>" for f in facts) +
        (f'<li class="matters">{esc(tr("status.matters"))}：{esc(matters)}</li>' if matters
         else "") + "</ul>"
        f'<p class="small">{esc(tr("status.final_note") if final else tr("status.refresh_note", s=refresh))}</p>')
    return _page(f"{ticket.get('number', '')} · {tr('status.title')}", body,
                 0 if final else refresh)
