"""The citizen's phone page: GET /t/<token> on the status port, live over the hall Wi-Fi.

The QR code on every ticket holds this URL. The page shows only what is printed on the
ticket anyway (number, matters) plus where the visit stands now (waiting with N ahead
and an estimated wait, called to window N, being served, done); never a name, phone or
ID number. Tokens are long random strings issued with the ticket, so numbers cannot be
enumerated: anything that does not look like a token gets the same friendly 404 as an
unknown one, without asking the hall. docs/status-page.md is the whole story.

It runs on aiohttp in its OWN thread with its own asyncio loop: thousands of phones
cost the request loop (ZeroMQ) nothing but one batched lookup per change. The page
learns of changes from the loop's change feed (queue_server.loop.lookups), refreshes
every watched ticket in one lookup (at most every REFRESH_GAP, and every
PERIODIC_SECONDS anyway, as estimates age), and pushes what changed:

- ``/t/<token>/events``: Server-Sent Events; each event's id is ``<page epoch>.<version>``,
  so a phone that slept, or a page that restarted, resumes with Last-Event-ID and gets
  the current state at once if it missed anything;
- ``/t/<token>/poll?last=<id>``: the long-poll fallback (answers when the state moves
  past ``last``, or after LONG_POLL_SECONDS);
- ``POST /t/<token>/rate``: the citizen's 好差评 (the token is the only credential; the
  hall's rule, queue_server.hall.visit.rate, decides; rate-limited per token);
- ``/``: the hall page, waiting counts and a waiting-time figure per department.

Bounded: at most ``max_connections`` connections (fewer if the process's file limit
is lower, keeping ``fd_reserve`` descriptors for ZeroMQ, the database and the keys;
at the limit a newcomer takes the place of the connection quiet the longest, _Gate);
a connection with no request under way is closed after ``idle_seconds``; a stream
ends after ``stream_seconds`` (the phone reconnects); a write a phone does not take
within WRITE_TIMEOUT drops that phone.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import html
import json
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Protocol

from aiohttp import web

from queue_common import waits
from queue_common.i18n import tr, tr_in
from queue_server import fd_limits
from queue_server import messages as _messages  # noqa: F401  (registers the texts)

log = logging.getLogger(__name__)

# What a lookup returns: the hall's `ticket_status` result (None = unknown token).
# Read keys (all optional except the ticket): {"ticket": Ticket (docs/hall-state.md),
# "ahead": int, "estimated_wait": seconds, "rated": source | None, "hall": {"name"},
# "services": {code: name} or [{"code", "name"}], "counter_name": str}.
Lookup = Callable[[str], Mapping[str, Any] | None]

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
REFRESH_SECONDS = 15  # the no-script page reloads itself this often
FINAL_STATES = frozenset({"done", "no_show", "cancelled", "not_served"})
REFRESH_GAP = 0.15  # seconds between two refreshes: changes in a burst coalesce ...
REFRESH_SHARE = 3  # ... and at least this many times the loop's own work for the last
# refresh: however many phones watch, refreshing never takes more than about a quarter
# of the loop's time. The loop's work, not the wall time of the lookup: under load a
# lookup mostly waits for the loop's turn, and pausing for a multiple of that wait made
# phones see a call seconds late while the loop had time to spare.
PERIODIC_SECONDS = 5.0  # a refresh even without a change (estimates move with time)
PING_SECONDS = 10.0  # a stream sends a ping this often: the phone knows it is live
LONG_POLL_SECONDS = 25.0
WRITE_TIMEOUT = 5.0
LOOKUP_CHUNK = 500  # tokens per lookup: one turn of the loop for a hall's phones (300
# watched tickets cost the loop about 7 ms, bench/phones.py); each chunk waits for a turn
# of its own, so small chunks multiplied the page's lag under load
HALL_REREAD_SECONDS = 60.0
KEEP_UNWATCHED = 120.0  # seconds a view is kept after its last phone left (resume)
TRACE_ENV = "QUEUE_STATUS_TRACE"  # a file: the page appends what each note and refresh
# did when (wall times, one JSON object a line), for bench/phones.py's per-call breakdown


@dataclass(frozen=True)
class Statuses:
    """A batched lookup's answer: each token's `ticket_status` (None = unknown), the
    hall's own time answering it (what the refresher paces itself by: not the time
    the request waited for the loop's turn), and the hall's event seq it is as of
    (every change up to it is in the results; None where the backend cannot say)."""

    results: dict[str, Mapping[str, Any] | None]
    work_seconds: float
    seq: int | None = None


class PageBackend(Protocol):
    """What the page needs of the hall (the loop's Lookups, or a fake in tests)."""

    def statuses(self, tokens: list[str]) -> Statuses: ...

    def hall(self) -> Mapping[str, Any] | None: ...

    def rate(self, token: str, level: int | None, reason: str | None,
             text: str | None) -> Mapping[str, Any]: ...

    def watch(self, on_change: Callable[[dict[str, Any]], None],
              stop: threading.Event) -> None: ...


class LookupBackend:
    """A plain lookup(token) function as a backend (no hall page, ratings or feed)."""

    def __init__(self, lookup: Lookup) -> None:
        self._lookup = lookup

    def statuses(self, tokens: list[str]) -> Statuses:
        began = time.perf_counter()  # the lookup is all the work there is
        results = {t: self._lookup(t) for t in tokens}
        return Statuses(results, time.perf_counter() - began)

    def hall(self) -> Mapping[str, Any] | None:
        return None

    def rate(self, token: str, level: int | None, reason: str | None,
             text: str | None) -> Mapping[str, Any]:
        return {"error": {"code": "UNAVAILABLE", "message": tr("status.rate_unavailable")}}

    def watch(self, on_change: Callable[[dict[str, Any]], None],
              stop: threading.Event) -> None:
        return None


class LoopBackend:
    """The running server's request loop, through queue_server.loop.lookups."""

    def __init__(self, lookups: Any) -> None:
        self._lookups = lookups
        self._ask = lookups.asker()

    def statuses(self, tokens: list[str]) -> Statuses:
        out: dict[str, Mapping[str, Any] | None] = {}
        work = 0.0
        seq: int | None = None
        for i in range(0, len(tokens), LOOKUP_CHUNK):  # one chunk at a time, in turn
            chunk = tokens[i:i + LOOKUP_CHUNK]
            answer = self._ask(json.dumps({"kind": "status", "tokens": chunk}).encode())
            results = answer.get("results") if isinstance(answer, dict) else None
            if not isinstance(results, dict):
                raise TimeoutError("no answer from the request loop")
            out.update({t: r if isinstance(r, dict) else None for t, r in results.items()})
            spent = answer.get("work")
            work += float(spent) if isinstance(spent, (int, float)) else 0.0
            as_of = answer.get("seq")
            if isinstance(as_of, int) and not isinstance(as_of, bool):  # the oldest
                seq = as_of if seq is None else min(seq, as_of)  # chunk's: all are as new
        return Statuses(out, work, seq)

    def hall(self) -> Mapping[str, Any] | None:
        answer = self._ask(b'{"kind": "hall"}')
        return answer if isinstance(answer, dict) else None

    def rate(self, token: str, level: int | None, reason: str | None,
             text: str | None) -> Mapping[str, Any]:
        answer = self._ask(json.dumps({"kind": "rate", "token": token, "level": level,
                                       "reason": reason, "text": text}).encode())
        return answer if isinstance(answer, dict) else {"error": {"code": "INTERNAL"}}

    def watch(self, on_change: Callable[[dict[str, Any]], None],
              stop: threading.Event) -> None:
        self._lookups.watch_changes(on_change, stop)


@dataclass
class PageOptions:
    """[status_page] and what the page shows that a lookup does not carry."""

    hall_name: str = ""
    service_names: dict[str, str] = field(default_factory=dict)
    wifi_name: str = ""
    remind_ahead: int = 3
    reasons: list[str] = field(default_factory=list)
    reasons_en: list[str] = field(default_factory=list)
    max_connections: int = 2000
    idle_seconds: float = 20.0
    stream_seconds: int = 300
    rate_per_minute: int = 6
    waits_per_ticket: int = 3
    fd_reserve: int = 256
    periodic_seconds: float = PERIODIC_SECONDS

    @classmethod
    def from_config(cls, config: Any) -> PageOptions:
        page = config.status_page
        return cls(hall_name=config.hall.name,
                   service_names={s.code: s.name for s in config.services},
                   wifi_name=page.wifi_name, remind_ahead=page.remind_ahead,
                   reasons=list(config.rating.reasons),
                   reasons_en=list(config.rating.reasons_en),
                   max_connections=page.max_connections, idle_seconds=page.idle_seconds,
                   stream_seconds=page.stream_seconds,
                   rate_per_minute=page.rate_per_minute,
                   waits_per_ticket=page.waits_per_ticket, fd_reserve=page.fd_reserve)


# ---- what a phone is shown ---------------------------------------------------------


def wait_text(seconds: int | None, lang: str, low: int | None = None,
              high: int | None = None) -> str | None:
    """The estimate as the citizen reads it, worded as on the ticket and the kiosk
    (queue_common.waits): the range when the hall gives one, else the point."""
    return waits.wait_text(low, high, seconds, lang=lang)


def _to_minute(seconds: int | None) -> int | None:
    """A wait to the minute, as shown: a wait that only ages sends the phone nothing."""
    return None if seconds is None else max(60, (seconds + 59) // 60 * 60)


def _ticket(found: Mapping[str, Any]) -> Mapping[str, Any]:
    inner = found.get("ticket")
    return inner if isinstance(inner, Mapping) else found


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _counter_label(found: Mapping[str, Any], ticket: Mapping[str, Any], lang: str) -> str:
    name = found.get("counter_name")
    if isinstance(name, str) and name and lang == "zh":
        return name
    return tr_in(lang, "status.counter", n=ticket.get("counter") or "?")


def state_text(found: Mapping[str, Any], lang: str | None = None) -> tuple[str, str]:
    """(css class, sentence) for where the visit stands."""
    from queue_common.i18n import language

    lang = lang or language()
    ticket = _ticket(found)
    state = str(ticket.get("state", ""))
    if state == "waiting":
        kept = ticket.get("carried_to")
        if isinstance(kept, str) and kept:
            return "", tr_in(lang, "status.kept", day=kept)
        return "", tr_in(lang, "status.waiting")
    if state == "called":
        return "called", tr_in(lang, "status.called",
                               counter=_counter_label(found, ticket, lang))
    if state == "serving":
        return "called", tr_in(lang, "status.serving",
                               counter=_counter_label(found, ticket, lang))
    if state == "parked":
        return "", tr_in(lang, "status.parked")
    if state in FINAL_STATES:
        return "final", tr_in(lang, f"status.state.{state}")
    return "final", state


def _matter_names(found: Mapping[str, Any], ticket: Mapping[str, Any],
                  names: Mapping[str, str]) -> list[str]:
    given = found.get("services")
    by_code: Mapping[str, Any] = given if isinstance(given, Mapping) else names
    if isinstance(given, list):  # the shape `issue` returns: [{"code", "name"}, ...]
        by_code = {str(s.get("code")): s.get("name") for s in given if isinstance(s, Mapping)}
    out = []
    for item in ticket.get("items") or []:
        if isinstance(item, Mapping):
            code = str(item.get("service", ""))
            out.append(str(item.get("name") or by_code.get(code) or names.get(code) or code))
    return out


def view_of(found: Mapping[str, Any], opts: PageOptions) -> dict[str, Any]:
    """Everything a phone shows, in both languages, as plain data (no version yet)."""
    ticket = _ticket(found)
    state = str(ticket.get("state", ""))
    ahead = _int(found.get("ahead")) if state == "waiting" else None
    waiting = state == "waiting"
    wait = _to_minute(_int(found.get("estimated_wait")) if waiting else None)
    low = _to_minute(_int(found.get("estimated_wait_low")) if waiting else None)
    high = _to_minute(_int(found.get("estimated_wait_high")) if waiting else None)
    hall = found.get("hall")
    hall_name = (hall.get("name", "") if isinstance(hall, Mapping) else "") or opts.hall_name
    served = any(isinstance(i, Mapping) and i.get("state") in ("done", "not_done")
                 for i in ticket.get("items") or [])
    rated = found.get("rated")
    out: dict[str, Any] = {
        "number": str(ticket.get("number", "")), "state": state,
        "counter": _int(ticket.get("counter")), "ahead": ahead, "wait_seconds": wait,
        "wait_range": [low, high],
        "hall": str(hall_name), "matters": "、".join(_matter_names(found, ticket,
                                                                opts.service_names)),
        "final": state in FINAL_STATES, "calls": _int(ticket.get("recalls")) or 0,
        "rate": {"open": state in FINAL_STATES and served and not rated,
                 "done": rated if isinstance(rated, str) else None},
    }
    for lang in ("zh", "en"):
        css, sentence = state_text(found, lang)
        facts = []
        if ahead is not None:
            facts.append(tr_in(lang, "status.ahead", n=ahead) if ahead > 0
                         else tr_in(lang, "status.ahead_none"))
        w = wait_text(wait, lang, low, high)
        if w:
            facts.append(w)
        out[lang] = {"sentence": sentence, "facts": facts}
        out["css"] = css
    return out


def _same(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    strip = ("v",)
    if a is None or b is None:
        return a is b
    return {k: v for k, v in a.items() if k not in strip} == {
        k: v for k, v in b.items() if k not in strip}


# ---- the hub: watched tickets, their versions, the refresher ------------------------


class Hub:
    """Lives on the page's event loop: which tokens are watched, their last view."""

    def __init__(self, backend: PageBackend, opts: PageOptions,
                 pool: ThreadPoolExecutor) -> None:
        self.backend = backend
        self.opts = opts
        self.pool = pool
        self.epoch = secrets.token_hex(4)
        self.version = 0
        self.watchers: collections.Counter[str] = collections.Counter()
        # each ticket's live waits (streams, long polls), oldest first: their transports
        self.waits: dict[str, collections.deque[asyncio.Transport]] = {}
        self.views: dict[str, dict[str, Any] | None] = {}
        self.changed = asyncio.Event()
        self.dirty = asyncio.Event()
        self.reachable = True
        self.hall_data: dict[str, Any] | None = None
        self.hall_read_at = 0.0
        self.last_change = 0.0  # monotonic time the newest change was seen
        self.update_lags: collections.deque[float] = collections.deque(maxlen=10_000)
        self.writes: dict[str, collections.deque[float]] = {}
        self.idle_since: dict[str, float] = {}  # unwatched tokens whose view is kept
        self.trace = Trace(os.environ.get(TRACE_ENV) or None)
        # the hall's event seq: the newest the feed told of, and the one the last full
        # refresh is as of (None: the backend does not say; every note then refreshes)
        self.heard_seq: int | None = None
        self.fresh_seq: int | None = None

    def ident(self, view: Mapping[str, Any] | None) -> str:
        return f"{self.epoch}.{view.get('v', 0) if view else 0}"

    def on_change(self, data: dict[str, Any]) -> None:
        """A note of the loop's change feed (called on the page's loop): a change, or
        a heartbeat with the hall's current seq.

        The phones are refreshed when the note's seq is past what the last refresh
        was as of. So a note whose change an earlier refresh already carried costs
        nothing, and a note the feed dropped is noticed at the next note or heartbeat
        (the loop beats every second), not at the periodic refresh."""
        self.trace.note(data)
        seq = _int(data.get("seq"))
        heard = self.heard_seq
        if seq is not None:
            self.heard_seq = seq if heard is None else max(heard, seq)
        if not data.get("beat"):
            self.last_change = time.monotonic()
            if self.hall_data is not None:
                for key in ("waiting", "estimates"):
                    if isinstance(data.get(key), dict):
                        self.hall_data[key] = data[key]
        fresh = self.fresh_seq
        if data.get("beat"):  # past the last refresh, or past every note heard (dropped)
            stale = seq is not None and any(
                known is not None and seq > known for known in (fresh, heard))
        else:  # a change the last refresh did not carry (or the backend does not say)
            stale = seq is None or fresh is None or seq > fresh
        if stale:
            self.dirty.set()

    async def lookup(self, tokens: list[str]) -> Statuses:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, self.backend.statuses, tokens)

    def _store(self, token: str, found: Mapping[str, Any] | None) -> bool:
        view = view_of(found, self.opts) if found else None
        old = self.views.get(token)
        if token in self.views and _same(old, view):
            return False
        if view is not None:
            self.version += 1
            view["v"] = self.version
        self.views[token] = view
        return True

    async def view(self, token: str) -> dict[str, Any] | None:
        """The current view (looked up now unless a watcher keeps it fresh)."""
        if token not in self.views or not self.watchers[token]:
            await self._look(token)
        return self.views.get(token)

    async def open(self, token: str) -> dict[str, Any] | None:
        """Watch the token and return its current view. A phone that reconnects gets
        the same version if nothing changed meanwhile (its view is kept a while after
        its last watcher left), so a resumed stream or poll sends nothing new."""
        fresh = bool(self.watchers[token]) and token in self.views
        self.watch(token)
        if not fresh:
            await self._look(token)
        return self.views.get(token)

    async def _look(self, token: str) -> None:
        found = (await self.lookup([token])).results.get(token)
        self.reachable = True
        if self._store(token, found):
            self._wake()

    def watch(self, token: str) -> None:
        self.watchers[token] += 1
        self.idle_since.pop(token, None)

    def hold(self, token: str, transport: asyncio.Transport | None) -> None:
        """A live wait on the ticket begins: past opts.waits_per_ticket, the oldest of
        that ticket's waits is ended (aborted: its phone, if it is one, reconnects and
        gets in again), so connections made with one ticket's token can never hold
        every place of the page (each costs its sender a reconnection instead)."""
        if transport is None:
            return
        held = self.waits.setdefault(token, collections.deque())
        while len(held) >= self.opts.waits_per_ticket:
            held.popleft().abort()
        held.append(transport)

    def release(self, token: str, transport: asyncio.Transport | None) -> None:
        held = self.waits.get(token)
        if held is None or transport is None:
            return
        with contextlib.suppress(ValueError):
            held.remove(transport)
        if not held:
            del self.waits[token]

    def unwatch(self, token: str) -> None:
        self.watchers[token] -= 1
        if self.watchers[token] <= 0:
            del self.watchers[token]
            self.idle_since[token] = time.monotonic()

    def _forget_idle(self) -> None:
        """Views nobody watched for KEEP_UNWATCHED seconds are dropped."""
        now = time.monotonic()
        for token in [t for t, at in self.idle_since.items() if now - at > KEEP_UNWATCHED]:
            del self.idle_since[token]
            self.views.pop(token, None)

    def _wake(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()

    async def refresher(self) -> None:
        """Refresh every watched ticket when the hall changed (or periodically)."""
        while True:
            cause = "periodic"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.dirty.wait(), self.opts.periodic_seconds)
                cause = "change"
            self.dirty.clear()
            self._forget_idle()
            seen = self.last_change
            tokens = list(self.watchers)
            step = self.trace.refresh(len(tokens), cause)
            work = 0.0
            if tokens:
                try:
                    answer = await self.lookup(tokens)
                    self.reachable = True
                except Exception as exc:
                    log.warning("status refresh failed: %s", exc)
                    self.reachable = False
                    answer = Statuses({}, 0.0)  # it cost the loop nothing
                found = answer.results
                work = answer.work_seconds
                step.update(looked=time.time(), seq=answer.seq)
                if answer.seq is not None and len(found) == len(tokens) and all(
                        t in found for t in self.watchers):  # none joined meanwhile
                    self.fresh_seq = answer.seq
                    if self.heard_seq is not None and self.heard_seq <= answer.seq:
                        self.dirty.clear()  # every change heard of meanwhile is in it
                moved = 0
                for token in tokens:
                    if token in found and token in self.watchers:
                        moved += self._store(token, found[token])
                step["moved"] = moved
                if moved:
                    if seen:
                        self.update_lags.append(time.monotonic() - seen)
                    self._wake()
                    step["woke"] = time.time()
            pause = max(REFRESH_GAP, REFRESH_SHARE * work)
            self.trace.done(step, work=work, pause=pause)
            await asyncio.sleep(pause)

    def allow_write(self, token: str) -> bool:
        """Per token: at most rate_per_minute writes in any minute."""
        now = time.monotonic()
        times = self.writes.setdefault(token, collections.deque())
        while times and now - times[0] > 60:
            times.popleft()
        if len(times) >= self.opts.rate_per_minute:
            return False
        times.append(now)
        if len(self.writes) > 10_000:  # forget quiet tokens
            for t in [t for t, q in self.writes.items() if not q or now - q[-1] > 60]:
                del self.writes[t]
        return True

    async def hall(self) -> dict[str, Any] | None:
        now = time.monotonic()
        if self.hall_data is None or now - self.hall_read_at > HALL_REREAD_SECONDS:
            loop = asyncio.get_running_loop()
            try:
                got = await loop.run_in_executor(self.pool, self.backend.hall)
            except Exception as exc:
                log.warning("hall lookup failed: %s", exc)
                got = None
            if got is not None:
                self.hall_data = dict(got)
                self.hall_read_at = now
        return self.hall_data


class Trace:
    """What the page did when, for the bench (off unless a file is named): each note
    of the change feed as heard, and each refresh (began, lookup answered, phones
    woken, its pause after). Kept in memory and appended to the file once per
    refresh (one small write each 0.15 s at most), not once per note."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.lines: list[str] = []

    def note(self, data: Mapping[str, Any]) -> None:
        if self.path:
            self.lines.append(json.dumps({"k": "note", "seq": data.get("seq"),
                                          "at": data.get("at"), "got": time.time(),
                                          "beat": bool(data.get("beat"))}))

    def refresh(self, tokens: int, cause: str) -> dict[str, Any]:
        return ({"k": "refresh", "began": time.time(), "tokens": tokens, "cause": cause}
                if self.path else {})

    def done(self, step: dict[str, Any], **more: Any) -> None:
        if not self.path:
            return
        step.update(more)
        self.lines.append(json.dumps(step))
        try:
            with open(self.path, "a", encoding="utf-8") as out:
                out.write("".join(line + "\n" for line in self.lines))
        except OSError as exc:
            log.warning("status trace not written: %s", exc)
            self.path = None
        self.lines.clear()


def department_rows(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per department: people waiting and the new-ticket estimate (seconds, the mean
    over its matters that have one). Counts only: nothing about anyone."""
    services = [s for s in data.get("services") or [] if isinstance(s, Mapping)]
    waiting = (data.get("waiting") or {}).get("by_service") or {}
    estimates = data.get("estimates") or {}
    names_en = data.get("departments_en") or {}
    rows = []
    for dept in data.get("departments") or []:
        codes = [str(s.get("code")) for s in services if s.get("department") == dept.get("code")]
        if not codes:
            continue
        waits = [estimates[c] for c in codes if isinstance(estimates.get(c), int)]
        rows.append({"code": dept.get("code"), "name": dept.get("name"),
                     "name_en": names_en.get(dept.get("code")) or dept.get("name"),
                     "waiting": sum(int(waiting.get(c, 0)) for c in codes),
                     "wait_seconds": round(sum(waits) / len(waits)) if waits else None})
    return rows


# ---- the server ----------------------------------------------------------------------


class StatusServer:
    """A running status page; ``stop()`` shuts it down and joins its thread."""

    def __init__(self, host: str, port: int, thread: threading.Thread,
                 loop: asyncio.AbstractEventLoop, hub: Hub, stopping: threading.Event,
                 done: asyncio.Future[None], max_connections: int) -> None:
        self.host = host
        self.port = port
        self._thread = thread
        self._loop = loop
        self.hub = hub
        self._stopping = stopping
        self._done = done
        self.max_connections = max_connections

    def url(self, token: str, host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}/t/{token}"

    def stop(self) -> None:
        self._stopping.set()
        if not self._done.done():
            self._loop.call_soon_threadsafe(self._done.set_result, None)
        self._thread.join(timeout=5)


def start_status_server(host: str, port: int, backend: PageBackend | Lookup, *,
                        refresh_seconds: int = REFRESH_SECONDS, hall_name: str = "",
                        service_names: Mapping[str, str] | None = None,
                        options: PageOptions | None = None) -> StatusServer:
    """Serve the page on host:port (0 = any free port) in its own thread and loop.

    backend: the loop's PageBackend, or a plain lookup(token) (no ratings, no feed).
    hall_name and service_names fill in what a lookup result does not carry itself.
    """
    opts = options or PageOptions()
    if hall_name:
        opts.hall_name = hall_name
    if service_names:
        opts.service_names = dict(service_names)
    real: PageBackend = LookupBackend(backend) if callable(backend) else backend
    limit = fd_limits.connection_budget(opts.max_connections, opts.fd_reserve)
    started: dict[str, Any] = {}
    ready = threading.Event()
    stopping = threading.Event()

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(_serve(host, port, real, opts, refresh_seconds, limit,
                                           started, ready, stopping))
        except BaseException as exc:  # noqa: BLE001  (handed to the starting thread)
            started.setdefault("error", exc)
            ready.set()
        finally:
            loop.close()

    thread = threading.Thread(target=run, name="status-page", daemon=True)
    thread.start()
    ready.wait(10)
    if "error" in started:
        thread.join(timeout=5)
        error = started["error"]
        raise error if isinstance(error, OSError) else OSError(str(error))
    return StatusServer(host, started["port"], thread, started["loop"], started["hub"],
                        stopping, started["done"], limit)


async def _serve(host: str, port: int, backend: PageBackend, opts: PageOptions,
                 refresh_seconds: int, limit: int, started: dict[str, Any],
                 ready: threading.Event, stopping: threading.Event) -> None:
    loop = asyncio.get_running_loop()
    pool = ThreadPoolExecutor(2, thread_name_prefix="status-lookup")
    hub = Hub(backend, opts, pool)
    app = _app(hub, opts, refresh_seconds)
    runner = web.AppRunner(app, access_log=None, keepalive_timeout=opts.idle_seconds,
                           handler_cancellation=True, shutdown_timeout=0.5)
    await runner.setup()
    server = runner.server
    assert server is not None
    busy = _busy_reply()
    gate = app[GATE]
    gate.attach(server, limit)

    def factory() -> asyncio.BaseProtocol:
        if gate.full() and not gate.evict():
            return _Refuse(busy)
        return gate.accept(server)

    listener = await loop.create_server(factory, host, port, backlog=512)
    sweeper = asyncio.ensure_future(_sweep(gate, opts.idle_seconds))
    refresher = asyncio.ensure_future(hub.refresher())
    def changed(data: dict[str, Any]) -> None:  # on the feed's thread
        loop.call_soon_threadsafe(hub.on_change, data)

    backend.watch(changed, stopping)
    done: asyncio.Future[None] = loop.create_future()
    sock = listener.sockets[0].getsockname()
    started.update(port=int(sock[1]), loop=loop, hub=hub, done=done)
    ready.set()
    try:
        await done
    finally:
        for task in (sweeper, refresher):
            task.cancel()
        await asyncio.gather(sweeper, refresher, return_exceptions=True)
        listener.close()
        for handler, transport in list(server._connections.items()):  # noqa: SLF001
            handler.force_close()
            transport.close()
        await runner.cleanup()
        pool.shutdown(wait=False, cancel_futures=True)


class _Refuse(asyncio.Protocol):
    """Over the connection limit: one short 503 and close (the phone retries)."""

    def __init__(self, reply: bytes) -> None:
        self._reply = reply

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(self._reply)
        transport.close()


def _busy_reply() -> bytes:
    body = tr("status.busy").encode("utf-8")
    return (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Retry-After: 2\r\nConnection: close\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\n\r\n" + body)


class _Gate:
    """The page's connections: how many are open, which have no request under way (and
    since when), and which to drop.

    At the limit a new connection takes the place of the one that has gone longest
    without a request under way (it connected and sent nothing, or half a request, or a
    header a byte at a time, or it kept its connection open after its answer): the page
    stays reachable for real phones however many such connections are held, and the one
    dropped costs its sender only a reconnection. Only when every connection is in the
    middle of a request (a live stream, a long poll) is the newcomer refused with a 503.

    Dropping is transport.abort(), never close(): close() waits until what is still
    buffered for the peer is sent, and a peer that asks and never reads never takes it,
    so the connection kept its descriptor and its place for good.
    """

    def __init__(self) -> None:
        self.server: Any = None
        self.limit = 0
        self.active: dict[Any, int] = {}  # handler -> requests under way
        self.quiet: dict[Any, float] = {}  # handler -> since when no request is under
        # way, the longest quiet first
        self.dropped: set[Any] = set()  # aborted, not yet gone from aiohttp's table
        self.born: dict[Any, float] = {}  # accepted, connection not yet made (asyncio
        # accepts a whole backlog before the first of them is connected)

    def attach(self, server: Any, limit: int) -> None:
        self.server = server
        self.limit = limit
        made = server.connection_made

        def connection_made(handler: Any, transport: Any) -> None:
            """Born until made, never after: a connection made and already gone
            again by the next accept (the fourth stream of one ticket, ended at
            once) was counted as still to come, and under load the page refused
            newcomers for seconds with places free."""
            self.born.pop(handler, None)
            made(handler, transport)

        server.connection_made = connection_made

    def _live(self) -> dict[Any, Any]:
        live: dict[Any, Any] = self.server._connections  # noqa: SLF001  (aiohttp's table)
        return live

    def full(self) -> bool:
        live = self._live()
        if self.dropped:
            self.dropped = {h for h in self.dropped if h in live}
        if self.born:  # (a connection never made: gone after 5 s)
            now = time.monotonic()
            self.born = {h: t for h, t in self.born.items() if now - t < 5.0}
        return len(live) - len(self.dropped) + len(self.born) >= self.limit

    def accept(self, server: Any) -> asyncio.BaseProtocol:
        """A new connection's handler, counted from now."""
        handler: asyncio.BaseProtocol = server()
        self.born[handler] = time.monotonic()
        return handler

    def begin(self, handler: Any) -> None:
        self.active[handler] = self.active.get(handler, 0) + 1
        self.quiet.pop(handler, None)

    def end(self, handler: Any) -> None:
        self.active[handler] -= 1
        if self.active[handler] <= 0:
            del self.active[handler]
            self.quiet[handler] = time.monotonic()  # now the newest quiet one

    def evict(self) -> bool:
        """Drop the connection quiet the longest; False if every one is mid-request."""
        live = self._live()
        self.notice(live, time.monotonic())
        for handler in self.quiet:  # the longest quiet first
            transport = live.get(handler)
            if transport is not None and handler not in self.dropped:
                self.drop(handler, transport)
                return True
        return False

    def notice(self, live: dict[Any, Any], now: float) -> None:
        """Connections not yet seen quiet (no request so far) are quiet from now."""
        if len(self.quiet) + len(self.active) < len(live):
            for handler in live:
                if handler not in self.active and handler not in self.quiet:
                    self.quiet[handler] = now

    def drop(self, handler: Any, transport: Any) -> None:
        self.dropped.add(handler)
        self.quiet.pop(handler, None)
        transport.abort()

    def sweep(self, idle: float) -> None:
        """Drop what has been quiet for `idle` seconds; forget connections gone."""
        live = self._live()
        now = time.monotonic()
        for handler in [h for h in self.quiet if h not in live]:
            del self.quiet[handler]
        self.notice(live, now)
        for handler, since in list(self.quiet.items()):
            if now - since <= idle:
                break  # the rest have been quiet for less
            self.drop(handler, live[handler])


GATE = web.AppKey("gate", _Gate)


async def _sweep(gate: _Gate, idle: float) -> None:
    """Close connections with no request under way for `idle` seconds (a phone that
    connects and sends nothing, or half a request, holds no descriptor for long)."""
    while True:
        await asyncio.sleep(min(1.0, idle / 4))
        gate.sweep(idle)


# ---- routes ------------------------------------------------------------------------


def _headers(kind: str = "text/html; charset=utf-8") -> dict[str, str]:
    return {
        "Content-Type": kind, "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",  # the token is in the URL
        "X-Robots-Tag": "noindex", "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; script-src 'self'; "
                                   "style-src 'self' 'unsafe-inline'; connect-src 'self'; "
                                   "img-src 'self' data:",
    }


def _html(status: int, page: str) -> web.Response:
    return web.Response(status=status, body=page.encode("utf-8"), headers=_headers())


def _json(status: int, data: Any) -> web.Response:
    return web.Response(status=status, body=json.dumps(data, ensure_ascii=False).encode(),
                        headers=_headers("application/json; charset=utf-8"))


def _asset(name: str) -> bytes:
    return resources.files("queue_server").joinpath("status_assets", name).read_bytes()


def _app(hub: Hub, opts: PageOptions, refresh_seconds: int) -> web.Application:
    @web.middleware
    async def track(request: web.Request, handler: Any) -> web.StreamResponse:
        gate = request.app[GATE]
        gate.begin(request.protocol)
        try:
            response: web.StreamResponse = await handler(request)
            return response
        finally:
            gate.end(request.protocol)

    app = web.Application(middlewares=[track], client_max_size=16 * 1024)
    app[GATE] = _Gate()
    assets = {"page.js": _asset("page.js"), "hall.js": _asset("hall.js")}

    def token_of(request: web.Request) -> str | None:
        token = request.match_info.get("token", "")
        return token if TOKEN_RE.match(token) else None

    async def ticket(request: web.Request) -> web.StreamResponse:
        token = token_of(request)
        if token is None:
            return _html(404, _not_found_page())
        try:
            view = await hub.view(token)
        except Exception:
            log.exception("status lookup failed")
            return _html(503, _unavailable_page())
        if view is None:
            return _html(404, _not_found_page())
        return _html(200, ticket_page(view, hub.ident(view), opts, refresh_seconds))

    async def events(request: web.Request) -> web.StreamResponse:
        token = token_of(request)
        if token is None:
            return _json(404, {"error": "not_found"})
        try:
            try:
                view = await hub.open(token)
            except Exception:
                return _json(503, {"error": "unavailable"})
            if view is None:
                return _json(404, {"error": "not_found"})
            resp = web.StreamResponse(headers=_headers("text/event-stream; charset=utf-8"))
            resp.headers["X-Accel-Buffering"] = "no"
            await resp.prepare(request)
            last = request.headers.get("Last-Event-ID") or request.query.get("last", "")
            hub.hold(token, request.transport)
            # the phone left, or stopped reading: it reconnects when it can
            with contextlib.suppress(ConnectionError, TimeoutError):
                await _stream(resp, hub, token, last, opts.stream_seconds)
            return resp
        finally:
            hub.release(token, request.transport)
            hub.unwatch(token)

    async def _stream(resp: web.StreamResponse, hub: Hub, token: str, last: str,
                      seconds: float) -> None:
        """Send the view whenever its version moves; a ping every PING_SECONDS."""
        sent = last
        await _write(resp, b"retry: 1500\n\n")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            woke = hub.changed  # taken BEFORE the view: a change while we write wakes us
            view = hub.views.get(token)
            ident = hub.ident(view)
            if view is None:
                await _write(resp, b"event: gone\ndata: {}\n\n")
                return
            if ident != sent:
                data = json.dumps(_wire(view, hub), ensure_ascii=False)
                await _write(resp, f"id: {ident}\nevent: status\ndata: {data}\n\n".encode())
                sent = ident
            try:
                await asyncio.wait_for(woke.wait(), PING_SECONDS)
            except TimeoutError:
                await _write(resp, f"event: ping\ndata: {int(hub.reachable)}\n\n".encode())

    async def poll(request: web.Request) -> web.StreamResponse:
        token = token_of(request)
        if token is None:
            return _json(404, {"error": "not_found"})
        last = request.query.get("last", "")
        try:
            try:
                view = await hub.open(token)
            except Exception:
                return _json(503, {"error": "unavailable"})
            hub.hold(token, request.transport)
            deadline = time.monotonic() + LONG_POLL_SECONDS
            while view is not None and hub.ident(view) == last:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                woke = hub.changed
                view = hub.views.get(token)
                if view is None or hub.ident(view) != last:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(woke.wait(), min(left, PING_SECONDS))
                view = hub.views.get(token)
            if view is None:
                return _json(404, {"error": "not_found"})
            return _json(200, {"id": hub.ident(view), "view": _wire(view, hub)})
        finally:
            hub.release(token, request.transport)
            hub.unwatch(token)

    async def rate(request: web.Request) -> web.StreamResponse:
        token = token_of(request)
        if token is None:
            return _json(404, {"error": "not_found"})
        if not hub.allow_write(token):
            return _json(429, _message("status.rate_slow_down"))
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError):
            return _json(400, _message("status.rate_bad"))
        if not isinstance(body, dict):
            return _json(400, _message("status.rate_bad"))
        level, reason, text = body.get("level"), body.get("reason"), body.get("text")
        if not (isinstance(level, int) and 1 <= level <= 5) or not (
                reason is None or isinstance(reason, str)) or not (
                text is None or isinstance(text, str)):
            return _json(400, _message("status.rate_bad"))
        if reason is not None and reason not in opts.reasons:
            return _json(400, _message("status.rate_bad"))
        loop = asyncio.get_running_loop()
        try:
            answer = await loop.run_in_executor(hub.pool, hub.backend.rate, token, level,
                                                reason, (text or "")[:300] or None)
        except Exception:
            log.exception("phone rating failed")
            return _json(503, _message("status.unavailable"))
        hub.dirty.set()
        error = answer.get("error")
        if isinstance(error, Mapping):
            code = str(error.get("code"))
            status = {"CONFLICT": 409, "NOT_FOUND": 404, "BAD_REQUEST": 400}.get(code, 503)
            zh, _, en = str(error.get("message") or "").partition(" / ")
            return _json(status, {"code": code, "zh": zh, "en": en or zh,
                                  "source": (error.get("details") or {}).get("source")})
        return _json(200, {"ok": True, **_message("status.rate_thanks")})

    async def hall_page(request: web.Request) -> web.StreamResponse:
        data = await hub.hall()
        return _html(200, hall_page_html(data, opts))

    async def hall_json(request: web.Request) -> web.StreamResponse:
        data = await hub.hall()
        if data is None:
            return _json(503, {"error": "unavailable"})
        return _json(200, {"rows": department_rows(data),
                           "wait_text": {lang: {str(r["code"]): wait_text(r["wait_seconds"], lang)
                                                for r in department_rows(data)}
                                         for lang in ("zh", "en")}})

    async def asset(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in assets:
            return _json(404, {"error": "not_found"})
        resp = web.Response(body=assets[name],
                            headers=_headers("text/javascript; charset=utf-8"))
        resp.headers["Cache-Control"] = "max-age=300"
        return resp

    async def not_allowed(request: web.Request) -> web.StreamResponse:
        return _html(405, _page(tr("status.title"), html.escape(tr("status.read_only"))))

    async def not_found(request: web.Request) -> web.StreamResponse:
        return _html(404, _not_found_page())

    app.router.add_get("/", hall_page)
    app.router.add_get("/hall.json", hall_json)
    app.router.add_get("/static/{name}", asset)
    app.router.add_get("/t/{token}", ticket)
    app.router.add_get("/t/{token}/", ticket)
    app.router.add_get("/t/{token}/events", events)
    app.router.add_get("/t/{token}/poll", poll)
    app.router.add_post("/t/{token}/rate", rate)
    app.router.add_route("*", "/t/{token}", not_allowed)
    app.router.add_route("*", "/{tail:.*}", not_found)
    return app


async def _write(resp: web.StreamResponse, data: bytes) -> None:
    """A write the phone must take within WRITE_TIMEOUT (a stalled phone is dropped)."""
    await asyncio.wait_for(resp.write(data), WRITE_TIMEOUT)


def _wire(view: Mapping[str, Any], hub: Hub) -> dict[str, Any]:
    return {**view, "reachable": hub.reachable}


def _message(key: str) -> dict[str, str]:
    return {"zh": tr_in("zh", key), "en": tr_in("en", key)}


# ---- the pages -----------------------------------------------------------------------

_STYLE = """
body{margin:0;font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;
background:#f4f6f9;color:#0b1f3a;font-size:17px}
body.large{font-size:23px}
main{max-width:28rem;margin:0 auto;padding:1rem}
h1{font-size:1.05em;font-weight:600;margin:.2rem 0 .8rem;color:#12305a}
.tools{display:flex;gap:.4rem;justify-content:flex-end;margin-bottom:.4rem}
.tools button{font-size:.85em;padding:.35em .7em;border:1px solid #9fb3c8;border-radius:.4em;
background:#fff;color:#12305a}
.number{font-size:4.2em;font-weight:800;letter-spacing:.05em;text-align:center;margin:.2rem 0}
.state{font-size:1.5em;font-weight:700;text-align:center;padding:.7em;border-radius:.6rem;
background:#12305a;color:#fff;margin:.4rem 0}
.state.called{background:#ffd400;color:#0b1f3a}
.state.final{background:#9fb3c8;color:#0b1f3a}
.facts{font-size:1.2em;line-height:1.8;margin:.8rem 0;padding:0;list-style:none}
.matters{color:#3a4b63}
.banner{padding:.8em;border-radius:.5rem;margin:.5rem 0;font-weight:700;font-size:1.1em}
.offline{background:#b00020;color:#fff}
.offline span{display:block}
.offline #wifi,.offline #last{font-weight:400;font-size:.9em;margin-top:.2em}
.remind{background:#ff7a00;color:#fff;font-size:1.3em}
.hidden{display:none}
.rate{background:#fff;border-radius:.6rem;padding:.8em;margin-top:.8rem}
.levels{display:grid;grid-template-columns:1fr;gap:.4rem}
.levels button,.reasons button,.send{font-size:1.05em;padding:.6em;border-radius:.5em;
border:1px solid #9fb3c8;background:#f4f6f9;color:#0b1f3a;text-align:left}
.levels button.on,.reasons button.on{background:#12305a;color:#fff}
.reasons{display:flex;flex-wrap:wrap;gap:.4rem;margin:.6rem 0}
textarea{width:100%;box-sizing:border-box;font-size:1em;margin:.4rem 0}
.send{background:#12305a;color:#fff;text-align:center;width:100%}
.small{font-size:.85em;color:#5b6b80;margin-top:1.2rem}
table{width:100%;border-collapse:collapse;font-size:1.05em}
td,th{padding:.5em .3em;border-bottom:1px solid #d5dde6;text-align:left}
td.n{text-align:right;font-weight:700}
#h-waiting{text-align:right}
@media (min-width:1000px){main.wide{max-width:92vw;font-size:min(2vw,2.8vh)}
main.wide .tools button{font-size:.6em}}
"""


WIDE_CLASS = ' class="wide"'


def _page(title: str, body: str, *, refresh: int = 0, script: str = "",
          data: Mapping[str, Any] | None = None, wide: bool = False) -> str:
    """A whole page; `wide`: on a screen wider than a phone's (the hall's public
    screen) it fills the screen in letters big enough to read from across the hall."""
    meta = (f'<noscript><meta http-equiv="refresh" content="{refresh}"></noscript>'
            if refresh > 0 else "")
    blob = ""
    if data is not None:  # a data block, not a script: CSP allows it, nothing runs
        text = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
        blob = f'<script type="application/json" id="init">{text}</script>'
    js = f'<script src="/static/{script}" defer></script>' if script else ""
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"{meta}<title>{html.escape(title)}</title><style>{_STYLE}</style>{js}</head>"
        f"<body><main{WIDE_CLASS if wide else ''}>{body}</main>{blob}</body></html>")


def _not_found_page() -> str:
    body = (f"<h1>{html.escape(tr('status.title'))}</h1>"
            f"<p class=\"state final\">{html.escape(tr('status.not_found'))}</p>"
            f"<p class=\"small\">{html.escape(tr('status.not_found_hint'))}</p>")
    return _page(tr("status.title"), body)


def _unavailable_page() -> str:
    body = (f"<h1>{html.escape(tr('status.title'))}</h1>"
            f"<p class=\"state final\">{html.escape(tr('status.unavailable'))}</p>")
    return _page(tr("status.title"), body, refresh=REFRESH_SECONDS)


# The page's own texts, both languages, for its script (keys of queue_server.messages).
PAGE_TEXTS = (
    "status.title", "status.offline", "status.offline_wifi", "status.last_update",
    "status.remind_near", "status.remind_called", "status.large", "status.normal",
    "status.lang", "status.enable_alerts", "status.alerts_on", "status.rate_title",
    "status.rate_reason", "status.rate_text", "status.rate_send", "status.rate_thanks",
    "status.rate_done", "status.matters", "status.live_note", "status.final_note",
    "status.rate_pick_reason", "status.level.5", "status.level.4", "status.level.3",
    "status.level.2", "status.level.1", "status.unavailable", "status.rate_failed",
)


HALL_TEXTS = ("status.hall_department", "status.hall_waiting", "status.hall_wait",
              "status.hall_note", "status.offline")


def page_texts() -> dict[str, list[str]]:
    return {k: [tr_in("zh", k), tr_in("en", k)] for k in PAGE_TEXTS}


def ticket_page(view: Mapping[str, Any], ident: str, opts: PageOptions,
                refresh: int = REFRESH_SECONDS) -> str:
    """The page for one ticket as the server renders it (the script then keeps it
    live); every value is escaped (names come from config)."""
    esc = html.escape
    zh = view.get("zh") or {}
    final = bool(view.get("final"))
    wifi = (f'<span id="wifi">{esc(tr("status.offline_wifi", wifi=opts.wifi_name))}</span>'
            if opts.wifi_name else '<span id="wifi"></span>')
    body = (
        '<div class="tools"><button id="lang" type="button">English</button>'
        f'<button id="large" type="button">{esc(tr("status.large"))}</button></div>'
        f'<h1 id="hall">{esc(str(view.get("hall") or tr("status.title")))}</h1>'
        f'<div id="offline" class="banner offline hidden"><span id="offline-text">'
        f'{esc(tr("status.offline"))}</span> {wifi} <span id="last"></span></div>'
        '<div id="reminder" class="banner remind hidden" role="alert"></div>'
        f'<div class="number" id="number">{esc(str(view.get("number", "")))}</div>'
        f'<p class="state {esc(str(view.get("css", "")))}" id="state">'
        f'{esc(str(zh.get("sentence", "")))}</p>'
        '<ul class="facts" id="facts">' + "".join(
            f"<li>{esc(f)}</li>" for f in zh.get("facts") or []) + "</ul>"
        + (f'<p class="matters" id="matters">{esc(tr("status.matters"))}：'
           f'{esc(str(view.get("matters")))}</p>' if view.get("matters") else
           '<p class="matters" id="matters"></p>')
        + '<button id="alerts" type="button" class="send">'
        f'{esc(tr("status.enable_alerts"))}</button>'
        '<section id="rate" class="rate hidden"></section>'
        f'<p class="small" id="note">{esc(tr("status.final_note") if final else tr("status.live_note"))}</p>')
    data = {"token_path": "", "id": ident, "view": view, "texts": page_texts(),
            "remind_ahead": opts.remind_ahead, "wifi": opts.wifi_name,
            "reasons": [[r, (opts.reasons_en[i] if i < len(opts.reasons_en) else r)]
                        for i, r in enumerate(opts.reasons)]}
    return _page(f"{view.get('number', '')} · {tr('status.title')}", body,
                 refresh=0 if final else refresh, script="page.js", data=data)


def hall_page_html(data: Mapping[str, Any] | None, opts: PageOptions) -> str:
    """The hall page: people waiting and a waiting-time figure per department, in
    Chinese as served; the script switches it to English and keeps it current."""
    esc = html.escape
    rows = department_rows(data) if data else []
    hall = (data or {}).get("hall") or {}
    name = str(hall.get("name") or opts.hall_name or tr("status.hall_title"))
    table = "".join(
        f'<tr data-code="{esc(str(r["code"]))}"><td>{esc(str(r["name"]))}</td>'
        f'<td class="n waiting">{r["waiting"]}</td>'
        f'<td class="wait">{esc(wait_text(r["wait_seconds"], "zh") or "—")}</td></tr>'
        for r in rows)
    body = ('<div class="tools"><button id="lang" type="button">English</button></div>'
            f'<h1 id="hall">{esc(name)}</h1>'
            f'<div id="offline" class="banner offline hidden">{esc(tr("status.offline"))}</div>'
            f'<table><thead><tr><th id="h-dept">{esc(tr("status.hall_department"))}</th>'
            f'<th id="h-waiting">{esc(tr("status.hall_waiting"))}</th>'
            f'<th id="h-wait">{esc(tr("status.hall_wait"))}</th></tr></thead>'
            f'<tbody id="rows">{table}</tbody></table>'
            f'<p class="small" id="note">{esc(tr("status.hall_note"))}</p>'
            + ("" if data else f'<p class="state final">{esc(tr("status.unavailable"))}</p>'))
    init = {"texts": {k: [tr_in("zh", k), tr_in("en", k)] for k in HALL_TEXTS},
            "hall": [name, str(hall.get("name_en") or name)]}
    return _page(name, body, refresh=REFRESH_SECONDS, script="hall.js", data=init, wide=True)
