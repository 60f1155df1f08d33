"""Finding what an operation names (the window, the ticket, the matters) or refusing,
before anything changes: every refusal here is a HallError with its code and a
"中文 / English" message."""

from __future__ import annotations

import re

from queue_common.protocol import SUPERVISOR_ROLES, Err
from queue_server.domain.visit import Counter, Ticket
from queue_server.errors import HallError, bad_request, bilingual, conflict, not_found, state_zh
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


def own_window_arg(s: HallState, number: int | None, actor: Actor) -> Counter:
    """The window an operation acts ON (open, close ...): the clerk's own window, any
    window for a supervisor. A clerk naming another window is refused (WRONG_WINDOW):
    a counter PC's login is trusted with its own window only."""
    c = counter_arg(s, number, actor)
    if actor.staff_role not in SUPERVISOR_ROLES and c.number != actor.counter:
        raise wrong_window(c.number, actor.counter, "login")
    return c


def wrong_window(number: int, yours: int | None, why: str) -> HallError:
    """WRONG_WINDOW: the login (why "login") or the device ("device") belongs to
    another window than the one named."""
    if why == "device":
        zh = (f"此电脑不能登录{number}号窗口" if yours is None
              else f"此电脑属于{yours}号窗口，不能登录{number}号窗口")
        en = (f"this PC may not log in at window {number}" if yours is None
              else f"this PC belongs to window {yours}, not window {number}")
    else:
        zh = (f"只能操作本窗口（{yours}号），不能操作{number}号窗口" if yours is not None
              else f"未绑定窗口的登录不能操作{number}号窗口")
        en = (f"a clerk acts on their own window ({yours}) only, not window {number}"
              if yours is not None else f"a login without a window may not act on window {number}")
    return HallError(Err.WRONG_WINDOW, bilingual(zh, en),
                     {"counter": number, "yours": yours, "why": why})


_COUNTER_DEVICE = re.compile(r"^counter-(\d+)$")


def window_of_device(s: HallState, device: str) -> int | None:
    """The window a counter PC belongs to: config [security] counter_windows, else the
    number in its name `counter-N` (how `queue-server init` and `device add` name
    them); None if neither says."""
    mapped = s.config.security.counter_windows.get(device)
    if mapped is not None:
        return mapped
    m = _COUNTER_DEVICE.match(device)
    return int(m[1]) if m else None


def login_window(s: HallState, number: int | None, actor: Actor) -> Counter | None:
    """The window a login names, if the device may log in there: a counter PC logs in
    at its own window only, unless config [security] counter_any_window (WRONG_WINDOW)."""
    if number is None:
        return None
    c = counter_arg(s, number, actor)
    if not s.config.security.counter_any_window:
        mine = window_of_device(s, actor.device)
        if mine != c.number:
            raise wrong_window(c.number, mine, "device")
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
        raise conflict("counter", c.state, f"{c.number}号窗口当前状态为{state_zh(c.state)}",
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
        raise conflict("ticket", t.state, f"{t.number}号当前状态为{state_zh(t.state)}",
                       f"ticket {t.number} is {t.state}", ticket_id=t.id)


def ticket_arg(s: HallState, ticket_id: int) -> Ticket:
    t = s.tickets.get(ticket_id)
    if t is None:
        raise not_found("ticket", ticket_id, "号票不存在或不是今天的", "no such ticket today")
    return t


def ticket_by_token(s: HallState, token: str) -> Ticket:
    """The ticket a status-page token names (the token is the citizen's credential)."""
    found = s.tickets.get(s.by_token.get(token, -1))
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
