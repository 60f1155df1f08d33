"""The business day: close of day, the midnight rollover, device health, the day's
statistics facts, the snapshot, and the `stats` report (read on a worker thread)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from queue_common.protocol import Ev
from queue_server import args as schemas
from queue_server.config import hhmm
from queue_server.errors import bad_request, conflict
from queue_server.hall import carry
from queue_server.hall import transitions as tr
from queue_server.hall.changes import SERVER, Actor, Changes, Event, Reply
from queue_server.hall.state import (
    FINISHED_HELD,
    FINISHED_HELD_MAX,
    PROCESSED_KEEP,
    HallState,
)
from queue_server.store import tables as T


def close_day(s: HallState, ch: Changes, a: schemas.NoArgs, actor: Actor,
              now: dt.datetime) -> Reply:
    """End of business: what still waits is recorded as not served, or kept for the
    next opening ([day] carry_over); no more tickets today."""
    if s.day_closed:
        raise conflict("business_day", "closed", "今天已结束营业",
                       "the business day is already closed")
    left = carry.due_at_end_of(s, s.day)
    kept, ended = carry.end_day(s, ch, left, now, actor, "close_day", at_closing=False)
    _write_day(s, ch, now, closed=True)
    s.day_closed = True
    tr.audit(s, ch, Ev.DAY_CLOSED, now, actor,
             data={"not_served": len(ended), "carried": len(kept)})
    return ({"business_day": s.day.isoformat(), "not_served": len(ended),
             "carried": len(kept)},
            [tr.event(s, Ev.DAY_CLOSED, now, tickets=left, business_day=s.day.isoformat())])


def _write_day(s: HallState, ch: Changes, now: dt.datetime, *, closed: bool) -> None:
    row = {"day": s.day, "opened_at": now, "closed_at": now if closed else None}
    if s.day_known:
        ch.batch.update(T.BUSINESS_DAY, s.day, {"day": s.day, "closed_at": row["closed_at"]})
    else:
        ch.batch.insert(T.BUSINESS_DAY, row)
        s.day_known = True


def rollover(s: HallState, ch: Changes, a: dict[str, Any], actor: Actor,
             now: dt.datetime) -> Reply:
    """The hall's own operation at a new business day: earlier days' queues closed,
    numbering restarts."""
    today = s.calendar.local_day(now)
    events: list[Event] = []
    stale = carry.stale(s, today)
    if stale:
        old_days = sorted({carry.queue_day(t) for t in stale})
        kept, ended = carry.end_day(s, ch, stale, now, SERVER, "rollover", at_closing=True)
        tr.audit(s, ch, Ev.DAY_CLOSED, now, SERVER, data={
            "not_served": len(ended), "carried": len(kept),
            "days": [d.isoformat() for d in old_days]})
        events.append(tr.event(s, Ev.DAY_CLOSED, now, tickets=stale,
                               business_day=old_days[-1].isoformat()))
    if today != s.day:
        # Idempotency replies outlive any client retry and a restart; then they go.
        ch.batch.prune_processed(now - PROCESSED_KEEP)
        s.processed.prune(now)
        s.processed.seen.new_day()
        s.day = today
        s.day_known = False
        s.day_closed = False
        s.seq_by_prefix.clear()
        # A ticket still open (kept for today, or still at a window) keeps its number:
        # the day's numbers go on after the largest open one of each letter, so an
        # open A041 never meets a new A041 on the board.
        for t in s.tickets.values():
            if not t.final:
                s.seq_by_prefix[t.prefix] = max(s.seq_by_prefix[t.prefix], t.seq)
        s.issued_by_service.clear()
        s.issued_today = 0
        s.recent_calls.clear()
        s.devices.clear()
        forget_finished(s, now)  # one served at 23:59 may still be rated after midnight
        s.settle_days()
    if not s.day_known:
        if not s.store.business_day_exists(today):
            _write_day(s, ch, now, closed=False)
        s.day_known = True
    return {}, events


def forget_finished(s: HallState, now: dt.datetime) -> None:
    """Finished tickets leave memory FINISHED_HELD after they ended (the newest
    FINISHED_HELD_MAX stay at most): the rating pad and a citizen's status look-up come
    within that, and the database keeps them for the statistics. Kept all day they were
    most of what grew with every operation (docs/design.md, "Memory over a day"). Also
    across midnight: a ticket served at 23:59 is still there to be rated at 00:00."""
    held = now - FINISHED_HELD
    finished = [t for t in s.tickets.values() if t.final]
    gone = [t for t in finished if t.closed_at is None or t.closed_at < held]
    left = len(finished) - len(gone)
    if left > FINISHED_HELD_MAX:
        kept = sorted((t for t in finished if t.closed_at is not None and t.closed_at >= held),
                      key=lambda t: (t.closed_at, t.id))
        gone += kept[:left - FINISHED_HELD_MAX]
    for t in gone:
        s.drop_ticket(t)
    if len(s.rated) > len(s.tickets):  # ids of tickets no longer held
        s.rated = {tid: src for tid, src in s.rated.items() if tid in s.tickets}


def open_kept(s: HallState, ch: Changes, a: dict[str, Any], actor: Actor,
              now: dt.datetime) -> Reply:
    """The hall's own operation at an opening that kept tickets waited for."""
    carry.open_kept(s, ch, now)
    return {}, []


def keep_facts(s: HallState, ch: Changes, a: dict[str, Any], actor: Actor,
               now: dt.datetime) -> Reply:
    """The hall's own operation: store finished days' statistics facts (stat_day), in
    the writer's unit of work like every other row (``a["days"]``: (day, version, JSON))."""
    ch.stat_days.extend(a["days"])
    return {}, []


def device_status(s: HallState, ch: Changes, a: schemas.DeviceStatusArgs, actor: Actor,
                  now: dt.datetime) -> Reply:
    """A kiosk or board reports its health (e.g. printer out of paper)."""
    device = {"name": actor.device, "role": actor.device_role, "state": a.state,
              "message": a.message[:200], "details": a.details, "at": s.views.time(now)}
    tr.audit(s, ch, Ev.DEVICE_STATUS, now, actor, data={"device": device})
    ch.after(lambda: s.devices.__setitem__(actor.device, device))
    return {"device": device}, [tr.event(s, Ev.DEVICE_STATUS, now, device=device)]


def report(s: HallState, ch: Changes, a: schemas.StatsArgs, actor: Actor,
           now: dt.datetime) -> Reply:
    """`stats`: figures from the stored periods and events (queue_server.stats), never
    from memory. Runs on a worker thread and only reads: facts it builds for finished
    days go into ``ch.stat_days`` for the writer to store (queue_server.hall.facade),
    and only once every earlier day's tickets are closed (their rows are final)."""
    from queue_server import stats

    try:
        day_from = dt.date.fromisoformat(a.from_ or s.day.isoformat())
        day_to = dt.date.fromisoformat(a.to or day_from.isoformat())
    except ValueError:
        raise bad_request("args.from", "日期格式应为 YYYY-MM-DD",
                          "dates are YYYY-MM-DD") from None
    by = a.by or stats.DIMENSIONS  # the schema allows only known dimensions
    final = s.settled_day == s.day  # read before the rows: earlier days are final

    unsettled = s.unsettled_days  # days with a kept ticket still open

    def keep(day: dt.date, version: int, text: str) -> None:
        if final and day not in unsettled:
            ch.stat_days.append((day, version, text))

    try:
        with s.store.reading() as conn:
            result: dict[str, Any] = stats.compute(
                conn, day_from, day_to, by, s.tz, today=s.day, keep=keep,
                closing=stats.closing_from_hours(s.config.hours))
    except ValueError as exc:
        raise bad_request("args.by", "统计参数错误", str(exc)) from None
    return result, []


def state(s: HallState, ch: Changes, a: schemas.NoArgs, actor: Actor,
          now: dt.datetime) -> Reply:
    """The whole hall (the loop answers `state` itself; the hall can too)."""
    return snapshot(s, now), []


def recent_calls(s: HallState, ch: Changes, a: schemas.NoArgs, actor: Actor,
                 now: dt.datetime) -> Reply:
    """The calls profile's catch-up: the day's latest calls, newest first (the loop
    answers it itself, with `calls_seq`)."""
    return {"calls": list(s.recent_calls)}, []


def snapshot(s: HallState, now: dt.datetime) -> dict[str, Any]:
    """The whole hall state (docs/hall-state.md), without epoch and seq."""
    hours = s.calendar.hours(s.day)
    v = s.views
    cfg = s.config
    return {
        "business_day": s.day.isoformat(),
        "now": v.time(now),
        "hall": {
            "name": cfg.hall.name, "name_en": cfg.hall.name_en,
            "notice": cfg.hall.notice, "timezone": cfg.hall.timezone,
            "open": s.is_open(now),
            "opening": hhmm(hours[0]) if hours else None,
            "closing": hhmm(hours[1]) if hours else None,
            "day_closed": s.day_closed,
            "status_base_url": cfg.server.status_base_url or "",
            "settings": cfg.settings(),
        },
        "departments": list(s.departments),
        "services": [x.view() for x in s.services.values() if x.active],
        "counters": [v.counter(c) for c in s.counters.values()],
        "tickets": [v.ticket(t) for t in s.tickets.values() if not t.final],
        "recent_calls": list(s.recent_calls),
        "waiting": s.waiting_view(),
        "estimates": s.estimates.new_ticket(s, now),
        "estimate_ranges": s.estimates.new_ticket_ranges(s, now),
        "estimates_at": s.views.time(s.estimates.computed_at(s, now)),
        "devices": dict(s.devices),
    }
