"""Staff at the windows: login (the password checked off the writer), logout, and the
logins that end outside the hall (`staff disable`, `device revoke`, expiry).

The password check (scrypt, ~50 ms on purpose) runs on a worker thread
(``verify_login``): it reads the store and the throttle and changes nothing; the writer's
``login`` trusts its proof only if the staff row is unchanged, and counts a wrong
password itself, so throttling stays exact.

The CLI writes the database while the server runs; the hall keeps staff and sessions in
memory, so without a look back a disabled clerk could go on pausing a window until the
next restart. Every LOGIN_WATCH_EVERY the hall re-reads three small things (staff rows,
token hashes of open sessions, revoked device names; ``watch``) and ends, in one
transaction, each live session whose clerk was disabled, whose device was revoked, or
that the database no longer holds open (``end_logins``). The clerk's next request is
refused as UNAUTHENTICATED; the window forgets its clerk (counter.clerk_changed), except
after a mere expiry (the token was refused already; the window shows its clerk until
the next login there, as before). A window with a ticket keeps the ticket and its state
exactly as they are (another clerk logs in there and carries on); an empty window
closes as at a logout, so no estimate counts on it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import secrets
from typing import Any

from queue_common.protocol import Err, Ev
from queue_server import args as schemas
from queue_server.domain.visit import Counter
from queue_server.errors import HallError, bad_request, bilingual, conflict
from queue_server.hall import find
from queue_server.hall import transitions as tr
from queue_server.hall.changes import (
    Actor,
    Changes,
    Event,
    LoginProof,
    LoginSession,
    Reply,
)
from queue_server.hall.state import HallState
from queue_server.hall.views import StaffInfo
from queue_server.passwords import verify_password
from queue_server.store.hall_store import STORE_ERRORS

LOGIN_WATCH_EVERY = dt.timedelta(seconds=2)
log = logging.getLogger(__name__)


def hash_token(token: str) -> str:
    """How a login token is kept: only its hash is stored or held."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# -- the password check, on a worker thread -------------------------------------------------


def verify_login(s: HallState, user: object, password: object, now: dt.datetime,
                 device: str | None = None) -> LoginProof | None:
    """The slow part of a login (scrypt, and the clerk's day so far), made OUTSIDE the
    single writer: reads the store on its own connection and the throttle's entry,
    changes nothing. None if the arguments are not strings (the writer's login answers
    BAD_REQUEST). Given the device, a try that PC must wait with costs no scrypt."""
    if not isinstance(user, str) or not isinstance(password, str):
        return None
    if device is not None and s.throttle.delayed_until(device, user, now) is not None:
        return LoginProof(user, checked=False)  # THROTTLED anyway: spare the CPU
    try:
        row = s.store.staff_by_user(user)
    except STORE_ERRORS:
        return LoginProof(user, checked=False)  # the writer tries (and answers) itself
    if row is None or not row.active:
        return LoginProof(user, checked=True)
    ok = verify_password(password, row.password_hash)
    today = clerk_today(s, row.user) if ok else None
    return LoginProof(user, True, ok, row.id, row.password_hash, today)


def throttled(until: dt.datetime, now: dt.datetime) -> HallError:
    return HallError(Err.THROTTLED, bilingual("密码错误次数过多，请稍后再试",
                                              "too many wrong passwords, try again later"),
                     {"retry_after": max(1, math.ceil((until - now).total_seconds()))})


def clerk_today(s: HallState, user: str) -> dict[str, Any] | None:
    """The clerk's business day so far (served, average service seconds), from the
    stored periods by queue_server.stats, so the caller's 今日 line and the
    supervisor's report never disagree. None if the rows cannot be read now: a
    login must not fail for want of a figure. Reads only (today is never cached)."""
    from queue_server import stats

    try:
        with s.store.reading() as conn:
            report = stats.compute(conn, s.day, s.day, "clerk", s.tz, today=s.day,
                                   cache=False,
                                   closing=stats.closing_from_hours(s.config.hours))
    except STORE_ERRORS as exc:  # said, not kept with its traceback (its frames)
        log.warning("today's figures of %s not read: %s: %s", user, type(exc).__name__, exc)
        return None
    row = next((r for r in report["groups"]["clerk"] if r["key"] == user), None)
    if row is None:
        return {"served": 0, "average_service_seconds": None}
    mean = row.get("service_mean")
    return {"served": int(row["served"]),
            "average_service_seconds": float(mean) if mean is not None else None}


# -- the writer's operations ------------------------------------------------------------------


def login(s: HallState, ch: Changes, a: schemas.LoginArgs, actor: Actor, now: dt.datetime,
          proof: LoginProof | None = None) -> Reply:
    lg = s.config.login
    until = s.throttle.delayed_until(actor.device, a.user, now)
    if until is not None:
        raise throttled(until, now)
    counter = find.login_window(s, a.counter, actor)
    row = s.store.staff_by_user(a.user)
    trusted = (proof is not None and proof.checked and proof.user == a.user
               and row is not None and proof.staff_id == row.id
               and proof.password_hash == row.password_hash)
    if row is None or not row.active:
        good = False
    elif trusted and proof is not None:
        good = proof.ok
    else:
        good = verify_password(a.password, row.password_hash)
    if row is None or not good:
        e = s.throttle.failed(actor.device, a.user, now)
        retry = (max(1, math.ceil((e.until - now).total_seconds()))
                 if e.until is not None else None)
        tr.audit(s, ch, "login.failed", now, actor, counter=counter,
                 data={"user": a.user[:32], "failures": e.failures, "retry_after": retry})
        if e.failures == s.throttle.free:  # from now on this PC waits for this user
            tr.audit(s, ch, "login.throttled", now, actor, counter=counter,
                     data={"user": a.user[:32], "device": actor.device,
                           "failures": e.failures, "retry_after": retry})
        raise HallError(Err.BAD_CREDENTIALS, bilingual("用户名或密码错误",
                                                      "wrong user name or password"),
                        {"retry_after": retry} if retry is not None else None)
    staff = StaffInfo(row.id, row.user, row.name, row.badge, row.role, True)
    if counter is not None and counter.staff_id is not None \
            and counter.staff_id != staff.id and counter.ticket_id is not None:
        raise conflict("counter", counter.state, f"{counter.number}号窗口正在办理",
                       f"window {counter.number} is busy with another clerk",
                       counter=counter.number)
    # Nothing changes before this line: a refused login (apart from the wrong
    # password it counts and audits above) leaves the hall as it was.
    before = s.throttle.entry(actor.device, a.user, now)
    if before is not None:
        s.throttle.clear(actor.device, a.user)
        if before.failures >= s.throttle.free:
            tr.audit(s, ch, "login.throttle_cleared", now, actor, counter=counter,
                     data={"user": staff.user, "device": actor.device, "why": "login",
                           "failures": before.failures})
    s.staff[staff.id] = staff
    changed: list[Counter] = []
    counter_id = counter.id if counter is not None else None
    for session in s.sessions.values():
        if session.ended_at is None and (
                (counter is not None and session.counter_id == counter_id)  # one per window
                or (session.staff_id == staff.id and session.device == actor.device
                    and session.counter_id == counter_id)):  # a login again replaces it
            session.ended_at = now
            ch.session(session)
    if counter is not None:
        counter.staff_id = staff.id
        if counter.state == "closed":
            tr.set_counter(s, ch, counter, "idle", now)
        ch.counter(counter)
        changed.append(counter)
    token = secrets.token_urlsafe(32)
    session = LoginSession(hash_token(token), staff.id, actor.device,
                           counter.id if counter else None, now,
                           now + dt.timedelta(hours=lg.session_hours))
    ch.new_sessions[session.token_hash] = session
    s.sessions[session.token_hash] = session
    ch.after(lambda: drop_ended_sessions(s))
    tr.audit(s, ch, "login", now, actor, counter=counter,
             data={"user": staff.user, "staff_id": staff.id})
    result = {"token": token, "expires_at": s.views.time(session.expires_at),
              "staff": {"user": staff.user, "name": staff.name, "badge": staff.badge,
                        "role": staff.role},
              "counter": counter.number if counter else None,
              "today": proof.today if trusted and proof is not None
              else clerk_today(s, staff.user)}
    events = [tr.event(s, Ev.COUNTER_CLERK, now, counters=changed)] if changed else []
    return result, events


def logout(s: HallState, ch: Changes, a: schemas.NoArgs, actor: Actor,
           now: dt.datetime) -> Reply:
    if actor.staff_id is None:
        raise HallError(Err.UNAUTHENTICATED, bilingual("未登录", "not logged in"))
    c = s.counters.get(actor.counter) if actor.counter is not None else None
    if c is not None and c.ticket_id is not None and c.staff_id == actor.staff_id:
        t = s.tickets[c.ticket_id]
        raise conflict("counter", c.state, f"请先办结或转移{t.number}号",
                       f"finish or transfer ticket {t.number} first", counter=c.number)
    for session in s.sessions.values():
        if session.staff_id == actor.staff_id and session.device == actor.device \
                and session.ended_at is None:
            session.ended_at = now
            ch.session(session)
    ch.after(lambda: drop_ended_sessions(s))
    events: list[Event] = []
    if c is not None and c.staff_id == actor.staff_id:
        c.staff_id = None
        tr.set_counter(s, ch, c, "closed", now)
        tr.clear_transfers_to(s, ch, c)
        events.append(tr.event(s, Ev.COUNTER_CLERK, now, counters=[c]))
    tr.audit(s, ch, "logout", now, actor, counter=c)
    return {}, events


def clear_throttle(s: HallState, ch: Changes, a: schemas.ClearThrottleArgs, actor: Actor,
                   now: dt.datetime) -> Reply:
    """A supervisor lets a PC try a user again at once (one user at one PC, every user
    at one PC, or one user at every PC); audited. The answer lists what still waits."""
    if a.device is None and a.user is None:
        raise bad_request("args.device", "请指定设备或用户", "name the device, the user or both")
    cleared = s.throttle.clear(a.device, a.user)
    tr.audit(s, ch, "login.throttle_cleared", now, actor, data={
        "user": a.user[:32] if a.user is not None else None, "device": a.device,
        "why": "supervisor", "cleared": [{"device": d, "user": u[:32]} for d, u in cleared]})
    return ({"cleared": [{"device": d, "user": u} for d, u in cleared],
             "throttled": [{**e, "until": s.views.time(e["until"])}
                           for e in s.throttle.delaying(now)]}, [])


def drop_ended_sessions(s: HallState) -> None:
    for h in [h for h, session in s.sessions.items() if session.ended_at is not None]:
        del s.sessions[h]


def actor_for(s: HallState, token: str | None, device: str, device_role: str,
              now: dt.datetime) -> Actor:
    """The actor behind a request: token -> staff and window (UNAUTHENTICATED if bad)."""
    if not token:
        return Actor(device=device, device_role=device_role)
    session = s.sessions.get(hash_token(token))
    if session is None or session.ended_at is not None or session.expires_at <= now \
            or session.device != device:
        raise HallError(Err.UNAUTHENTICATED, bilingual(
            "登录已失效，请重新登录", "login expired or unknown, please log in again"))
    staff = s.staff.get(session.staff_id)
    if staff is None or not staff.active:
        raise HallError(Err.UNAUTHENTICATED, bilingual("账号已停用", "account disabled"))
    counter = s.numbers[session.counter_id] if session.counter_id is not None else None
    return Actor(device=device, device_role=device_role, staff_id=staff.id,
                 staff_role=staff.role, counter=counter)


# -- logins ended outside the hall -------------------------------------------------------------


def watch(s: HallState, now: dt.datetime) -> dict[str, str] | None:
    """Re-read staff, open sessions and revoked devices; the live sessions that must
    end (token hash -> why), {} if only a window lost its clerk, None if nothing is
    to do. Forgets expired sessions (nothing to write: they were refused already)."""
    try:
        facts = s.store.login_facts(now)
    except STORE_ERRORS as exc:
        log.warning("staff and logins not re-read (%s: %s); the next tick tries again",
                    type(exc).__name__, exc)
        return None
    for r in facts.staff:
        s.staff[r.id] = StaffInfo(r.id, r.user, r.name, r.badge, r.role, bool(r.active))
    ending: dict[str, str] = {}
    for session in list(s.sessions.values()):
        if session.ended_at is None and session.expires_at <= now:
            # Refused since it expired, nothing to write: memory forgets it. The
            # window shows its clerk until the next login there, as before.
            del s.sessions[session.token_hash]
            continue
        if session.ended_at is not None:
            continue
        staff = s.staff.get(session.staff_id)
        if staff is None or not staff.active:
            ending[session.token_hash] = "staff_disabled"
        elif session.device in facts.revoked_devices:
            ending[session.token_hash] = "device_revoked"
        elif session.token_hash not in facts.open_sessions:
            ending[session.token_hash] = "ended"
    orphaned = any(c.staff_id is not None and (c.staff_id not in s.staff
                                               or not s.staff[c.staff_id].active)
                   for c in s.counters.values())
    return ending if ending or orphaned else None


def end_logins(s: HallState, ch: Changes, a: dict[str, Any], actor: Actor,
               now: dt.datetime) -> Reply:
    """The hall's own operation (server actor, one transaction) after ``watch``: end the
    sessions it found (``a["ending"]``) and clear their windows' clerk."""
    ended: list[LoginSession] = []
    for token_hash, why in a["ending"].items():
        session = s.sessions.get(token_hash)
        if session is None or session.ended_at is not None:
            continue
        session.ended_at = now
        if why in ("staff_disabled", "device_revoked"):
            ch.session(session)  # the row may still be open (the CLI ends it too)
        # else: already ended in the database (by the CLI): memory follows
        ended.append(session)
        tr.audit(s, ch, "login.ended", now, Actor(device=session.device, device_role="counter",
                                                  staff_id=session.staff_id),
                 counter=s.counter_by_id.get(session.counter_id or -1),
                 data={"why": why, "staff_id": session.staff_id})
    ch.after(lambda: drop_ended_sessions(s))
    changed: list[Counter] = []
    for c in s.counters.values():
        if c.staff_id is None:
            continue
        staff = s.staff.get(c.staff_id)
        left = any(x.counter_id == c.id and x.staff_id == c.staff_id and x.ended_at is None
                   for x in s.sessions.values())
        lost = any(x.counter_id == c.id and x.staff_id == c.staff_id for x in ended)
        if (lost and not left) or staff is None or not staff.active:
            _clear_clerk(s, ch, c, now)
            changed.append(c)
    return {}, [tr.event(s, Ev.COUNTER_CLERK, now, counters=changed)] if changed else []


def _clear_clerk(s: HallState, ch: Changes, c: Counter, now: dt.datetime) -> None:
    """The window has no clerk any more; a ticket at it stays exactly as it is."""
    c.staff_id = None
    if c.ticket_id is None and c.state != "closed":
        tr.set_counter(s, ch, c, "closed", now)
        tr.clear_transfers_to(s, ch, c)
    else:
        ch.counter(c)

