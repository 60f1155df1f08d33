"""A window: pause, resume, open, close, its matters, and its list of waiting citizens.

Operations as in queue_server.hall.visit: one function each, refusing before changing.
"""

from __future__ import annotations

import datetime as dt

from queue_common.protocol import Ev
from queue_server import args as schemas
from queue_server.domain import policy
from queue_server.errors import conflict, state_zh
from queue_server.hall import find
from queue_server.hall import transitions as tr
from queue_server.hall.changes import Actor, Changes, Reply
from queue_server.hall.state import HallState


def pause(s: HallState, ch: Changes, a: schemas.PauseArgs, actor: Actor,
          now: dt.datetime) -> Reply:
    c = find.staffed_counter(s, actor)
    if c.state != "idle":
        raise conflict("counter", c.state, f"{c.number}号窗口当前状态为{state_zh(c.state)}",
                       f"window {c.number} is {c.state}", counter=c.number)
    tr.set_counter(s, ch, c, "paused", now)
    c.pause_reason = a.reason
    tr.audit(s, ch, Ev.COUNTER_PAUSED, now, actor, counter=c,
             data={"reason": a.reason, "note": a.note[:200]})
    return ({"counter": s.views.counter(c)},
            [tr.event(s, Ev.COUNTER_PAUSED, now, counters=[c])])


def resume(s: HallState, ch: Changes, a: schemas.NoArgs, actor: Actor,
           now: dt.datetime) -> Reply:
    c = find.staffed_counter(s, actor)
    if c.state != "paused":
        raise conflict("counter", c.state, f"{c.number}号窗口未暂停",
                       f"window {c.number} is {c.state}, not paused", counter=c.number)
    tr.set_counter(s, ch, c, "idle", now)
    tr.audit(s, ch, Ev.COUNTER_RESUMED, now, actor, counter=c)
    return ({"counter": s.views.counter(c)},
            [tr.event(s, Ev.COUNTER_RESUMED, now, counters=[c])])


def open_counter(s: HallState, ch: Changes, a: schemas.CounterArgs, actor: Actor,
                 now: dt.datetime) -> Reply:
    c = find.own_window_arg(s, a.counter, actor)
    if c.state != "closed":
        raise conflict("counter", c.state, f"{c.number}号窗口已开放",
                       f"window {c.number} is already open", counter=c.number)
    tr.set_counter(s, ch, c, "idle", now)
    tr.audit(s, ch, Ev.COUNTER_OPENED, now, actor, counter=c)
    return ({"counter": s.views.counter(c)},
            [tr.event(s, Ev.COUNTER_OPENED, now, counters=[c])])


def close_counter(s: HallState, ch: Changes, a: schemas.CounterArgs, actor: Actor,
                  now: dt.datetime) -> Reply:
    """Closed: it calls nobody, and whoever waits for it goes back to their matters'
    queues, keeping their place."""
    c = find.own_window_arg(s, a.counter, actor)
    if c.state in ("calling", "serving") or c.ticket_id is not None:
        raise conflict("counter", c.state, f"{c.number}号窗口正在办理，不能关闭",
                       f"window {c.number} is {c.state}", counter=c.number)
    if c.state == "closed":
        raise conflict("counter", c.state, f"{c.number}号窗口已关闭",
                       f"window {c.number} is already closed", counter=c.number)
    tr.set_counter(s, ch, c, "closed", now)
    moved = tr.clear_transfers_to(s, ch, c)
    tr.audit(s, ch, Ev.COUNTER_CLOSED, now, actor, counter=c,
             data={"released": [t.id for t in moved]})
    return ({"counter": s.views.counter(c)},
            [tr.event(s, Ev.COUNTER_CLOSED, now, counters=[c], tickets=moved)])


def counter_services(s: HallState, ch: Changes, a: schemas.CounterServicesArgs,
                     actor: Actor, now: dt.datetime) -> Reply:
    """A supervisor sets the matters a window takes (e.g. opens cross-window help)."""
    c = find.own_window_arg(s, a.counter, actor)  # supervisors only (registry)
    services = find.known_services(s, a.services, "args.services")
    tr.set_services(s, ch, c, [x.code for x in services])
    tr.audit(s, ch, Ev.COUNTER_SERVICES, now, actor, counter=c, data={"services": c.services})
    return ({"counter": s.views.counter(c)},
            [tr.event(s, Ev.COUNTER_SERVICES, now, counters=[c])])


def queue_of(s: HallState, number: int) -> list[int]:
    """Ids of the waiting tickets window `number` may call, in the order call_next
    would call them: policy.call_order over the waiting index, the one ordering."""
    c = s.counters[number]
    order = policy.call_order(s.waiting.candidates(c.number), c.number, set(c.services),
                              transfer_first=s.credits.transfer_first)
    return [w.ticket_id for w in order]


def window_queue(s: HallState, ch: Changes, a: schemas.NoArgs, actor: Actor,
                 now: dt.datetime) -> Reply:
    c = find.staffed_counter(s, actor)
    return {"counter": c.number, "ticket_ids": queue_of(s, c.number)}, []
