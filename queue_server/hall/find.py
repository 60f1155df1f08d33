"""Finding what an operation names (the window, the ticket, the matters) or refusing,
before anything changes: every refusal here is a HallError with its code and a
"中文 / English" message."""

from __future__ import annotations

from queue_common.protocol import Err
from queue_server.domain.visit import Counter, Ticket
from queue_server.errors import HallError, bad_request, bilingual, conflict, not_found
from queue_server.hall.changes import Actor
from queue_server.hall.state import HallState, ServiceInfo


def staffed_counter(s: HallState, actor: Actor) -> Counter:
    """The window this clerk is logged in at (calling needs one)."""
    if actor.staff_id is None:
        raise HallError(Err.UNAUTHENTICATED, bilingual("请先登录", "please log in first"))
    if actor.counter is None:
        raise conflict("counter", "unbound", "登录时未选择窗口",
                       "this login is not bound to a window")
    c = s.counters.get(actor.counter)
    if c is None:
        raise not_found("counter", actor.counter, "窗口不存在", "no such window")
    return c


def counter_arg(s: HallState, number: int | None, actor: Actor) -> Counter:
    """The window named (a supervisor's), else the clerk's own."""
    n = number if number is not None else actor.counter
    if n is None:
        raise bad_request("args.counter", "请指定窗口", "name the window")
    c = s.counters.get(n)
    if c is None:
        raise not_found("counter", n, f"{n}号窗口不存在", f"no window {n}")
    return c


def open_counter_arg(s: HallState, number: int | None, actor: Actor) -> Counter:
    """counter_arg, refusing a closed window (COUNTER_CLOSED)."""
    c = counter_arg(s, number, actor)
    if c.state == "closed":
        raise HallError(Err.COUNTER_CLOSED, bilingual(f"{c.number}号窗口未开放",
                                                     f"window {c.number} is closed"),
                        {"counter": c.number, "state": c.state})
    return c


def ready_to_call(c: Counter) -> None:
    """A window calls only when open and idle."""
    if c.state == "closed":
        raise HallError(Err.COUNTER_CLOSED, bilingual(f"{c.number}号窗口未开放",
                                                     f"window {c.number} is closed"),
                        {"counter": c.number, "state": c.state})
    if c.state != "idle":
        raise conflict("counter", c.state, f"{c.number}号窗口当前状态为{c.state}",
                       f"window {c.number} is {c.state}", counter=c.number)


def current_ticket(s: HallState, c: Counter, *states: str) -> Ticket:
    """The ticket at window c, which must be in one of states."""
    if c.ticket_id is None:
        raise conflict("counter", c.state, f"{c.number}号窗口当前没有号",
                       f"window {c.number} has no ticket", counter=c.number)
    t = s.tickets[c.ticket_id]
    require_state(t, *states)
    return t


def require_state(t: Ticket, *states: str) -> None:
    if t.state not in states:
        raise conflict("ticket", t.state, f"{t.number}号当前状态为{t.state}",
                       f"ticket {t.number} is {t.state}", ticket_id=t.id)


def ticket_arg(s: HallState, ticket_id: int) -> Ticket:
    t = s.tickets.get(ticket_id)
    if t is None:
        raise not_found("ticket", ticket_id, "号票不存在或不是今天的", "no such ticket today")
    return t


def ticket_by_token(s: HallState, token: str) -> Ticket:
    """The ticket a status-page token names (the token is the citizen's credential)."""
    found = next((x for x in s.tickets.values() if x.token == token), None)
    if found is None:
        raise not_found("ticket", "token", "号票不存在或不是今天的", "no such ticket today")
    return found


def known_services(s: HallState, codes: list[str], field_name: str) -> list[ServiceInfo]:
    """Active matters, each once, at least one."""
    if not codes:
        raise HallError(Err.NO_SERVICES, bilingual("请至少选择一项业务", "choose at least one matter"),
                        {"field": field_name})
    seen: set[str] = set()
    out: list[ServiceInfo] = []
    for code in codes:
        svc = s.services.get(code)
        if svc is None or not svc.active:
            raise HallError(Err.UNKNOWN_SERVICE, bilingual(f"未知业务 {code}",
                                                          f"unknown matter {code}"),
                            {"field": field_name, "service": code})
        if code in seen:
            raise HallError(Err.DUPLICATE_SERVICE, bilingual(f"业务 {code} 重复",
                                                            f"matter {code} given twice"),
                            {"field": field_name, "service": code})
        seen.add(code)
        out.append(svc)
    return out
