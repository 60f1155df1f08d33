"""One citizen at the kiosk: what they chose, the issue request, and the ticket confirmed.

Pure (no Tk, no sockets) so the kiosk's behaviour is tested without a screen. The kiosk
holds no queue rules: the matters come from the mirrored hall state, numbers, people
ahead and waits come from the server's reply, and a ticket exists for the citizen only
once the server confirmed it.

The request id is made once per confirmed choice and reused by every retry (also after a
timeout, when the citizen presses "try again"), so the server's de-duplication turns
any number of attempts into at most one ticket.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from queue_common import protocol as p
from queue_common.hall_view import department_names, localised, service_names, settings_of
from queue_common.i18n import language, tr
from queue_common.identity import id_hash, parse_id_number
from ticket_printer.ticket import TicketView, no_show_rule_text

MAX_SERVICES_DEFAULT = 5


@dataclass(frozen=True)
class Matter:
    code: str
    name: str
    department: str
    waiting: int = 0


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    matters: tuple[Matter, ...]

    @property
    def waiting(self) -> int:
        return sum(m.waiting for m in self.matters)


def departments(state: Mapping[str, Any]) -> list[Department]:
    """Departments with their matters, in config order, from a hall snapshot."""
    waiting = (state.get("waiting") or {}).get("by_service") or {}
    names = service_names(state)
    by_dept: dict[str, list[Matter]] = {}
    for s in state.get("services") or []:
        if s.get("active", True) is False:
            continue
        code = str(s["code"])
        by_dept.setdefault(str(s.get("department", "")), []).append(
            Matter(code, names.get(code, code), str(s.get("department", "")),
                   int(waiting.get(code, 0))))
    dept_names = department_names(state)
    out = [Department(str(d["code"]), dept_names.get(str(d["code"]), str(d["code"])),
                      tuple(by_dept.pop(str(d["code"]), [])))
           for d in state.get("departments") or []]
    out += [Department(code, code, tuple(ms)) for code, ms in by_dept.items()]
    return [d for d in out if d.matters]


def priority_classes(state: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(code, label) of the 绿色通道 classes the kiosk offers, as config orders them."""
    settings = settings_of(state)
    known = settings.get("priority_classes") or {}
    offered = (settings.get("kiosk") or {}).get("priority_classes")
    out = []
    for code in offered if isinstance(offered, list) else list(known):
        info = known.get(code)
        label = localised(info) if isinstance(info, Mapping) else tr(f"kiosk.priority.{code}")
        out.append((str(code), label))
    return out


def split_message(message: str | None) -> str:
    """Server messages are "中文 / English": show the half in the kiosk's language."""
    if not message:
        return ""
    if " / " not in message:
        return message
    zh, en = message.split(" / ", 1)
    return en if language() == "en" else zh


@dataclass
class Choice:
    """The matters chosen so far (in the order tapped) and the 绿色通道 class if any."""

    matters: list[Matter] = field(default_factory=list)
    priority_class: str | None = None
    max_services: int = MAX_SERVICES_DEFAULT

    def has(self, code: str) -> bool:
        return any(m.code == code for m in self.matters)

    def toggle(self, matter: Matter) -> bool:
        """Add or remove a matter; False when the ticket is already full."""
        if self.has(matter.code):
            self.remove(matter.code)
            return True
        if len(self.matters) >= self.max_services:
            return False
        self.matters.append(matter)
        return True

    def remove(self, code: str) -> None:
        self.matters = [m for m in self.matters if m.code != code]

    def clear(self) -> None:
        self.matters.clear()
        self.priority_class = None

    @property
    def full(self) -> bool:
        return len(self.matters) >= self.max_services


@dataclass
class Attempt:
    """One issue / check_in request; retries reuse ``request_id`` (never two tickets)."""

    op: str
    args: dict[str, Any]
    request_id: str = field(default_factory=p.new_request_id)
    started: float = 0.0  # perf_counter at the touch, for the latency figure


@dataclass(frozen=True)
class CardHolder:
    """The citizen whose 身份证 was read, as the kiosk keeps them: masked, an age, the
    hall's keyed hash. The number itself is not kept (queue_common.identity)."""

    masked: str
    age: int
    id_hash: str


def card_holder(text: str, key: bytes, today: dt.date) -> CardHolder:
    """From a reader's line; InvalidIdNumber when it is not a valid 身份证 number."""
    card = parse_id_number(text, today)
    return CardHolder(card.masked, card.age_on(today), id_hash(key, card.number))


@dataclass(frozen=True)
class ElderlyRule:
    """What the hall does for a card holder of `age` and over: offer or apply `code`."""

    action: str  # "offer" | "apply"
    code: str
    label: str
    age: int


def elderly_rule(state: Mapping[str, Any], holder: CardHolder) -> ElderlyRule | None:
    """The hall's [kiosk] elderly rule when it applies to this card holder, else None."""
    kiosk = settings_of(state).get("kiosk") or {}
    action = str(kiosk.get("elderly_priority", "off"))
    age = kiosk.get("elderly_age")
    code = kiosk.get("elderly_class")
    if action not in ("offer", "apply") or not isinstance(age, int) or holder.age < age:
        return None
    label = dict(priority_classes(state)).get(str(code))
    return None if label is None else ElderlyRule(action, str(code), label, age)


def issue_attempt(choice: Choice, holder: CardHolder | None = None) -> Attempt:
    args: dict[str, Any] = {"services": [m.code for m in choice.matters]}
    if choice.priority_class:
        args["priority_class"] = choice.priority_class
    if holder is not None:
        args["id_hash"] = holder.id_hash
    return Attempt(p.Op.ISSUE, args)


def check_in_attempt(code: str, holder: CardHolder | None = None) -> Attempt:
    """A booking's check-in by its code, or by the card of whoever booked it."""
    if holder is not None and not code:
        return Attempt(p.Op.CHECK_IN, {"id_hash": holder.id_hash})
    return Attempt(p.Op.CHECK_IN, {"code": code.strip()})


def _parse_time(value: Any, fallback: dt.datetime) -> dt.datetime:
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            pass
    return fallback


def status_url(result: Mapping[str, Any], ticket: Mapping[str, Any],
               base: str | None) -> str | None:
    """The URL in the QR code: the server's if it sent one, else base + /t/<token>."""
    url = result.get("status_url") or ticket.get("status_url")
    if isinstance(url, str) and url:
        return url
    token = ticket.get("token")
    if not token or not base:
        return None
    return p.status_url(base, str(token))


def ticket_view(result: Mapping[str, Any], state: Mapping[str, Any], *,
                status_base: str | None, now: dt.datetime | None = None) -> TicketView:
    """The ticket to show and print, built from a CONFIRMED issue / check_in result."""
    ticket = result.get("ticket") if isinstance(result.get("ticket"), Mapping) else result
    assert isinstance(ticket, Mapping)
    names = service_names(state)
    services = tuple(names.get(str(i.get("service")), str(i.get("service")))
                     for i in ticket.get("items") or [])
    hall = state.get("hall") or {}
    settings = settings_of(state)
    kind = str(ticket.get("kind") or "normal")
    label = None
    pclass = ticket.get("priority_class") or result.get("priority_class")
    if kind == "priority" and pclass:
        label = dict(priority_classes(state)).get(str(pclass), str(pclass))
    ahead = result.get("ahead", ticket.get("ahead"))
    wait = result.get("estimated_wait", result.get("wait_seconds", ticket.get("estimated_wait")))
    low, high = result.get("estimated_wait_low"), result.get("estimated_wait_high")
    slot = late = None
    appointment = result.get("appointment")
    if isinstance(appointment, Mapping):
        slot = appointment.get("slot") or None
    late_booking = result.get("late_appointment")
    if isinstance(late_booking, Mapping):
        late = late_booking.get("slot") or None
    notice = str(hall.get("notice") or "") or tr("kiosk.ticket.default_notice")
    issued = _parse_time(ticket.get("issued_at"), now or dt.datetime.now())
    return TicketView(
        hall_name=str(hall.get("name") or ""),
        number=str(ticket["number"]),
        services=services,
        issued_at=issued,
        ahead=ahead if isinstance(ahead, int) else None,
        wait_seconds=wait if isinstance(wait, int) else None,
        wait_low=low if isinstance(low, int) else None,
        wait_high=high if isinstance(high, int) else None,
        kind=kind,
        priority_label=label,
        appointment_slot=str(slot) if slot else None,
        late_slot=str(late) if late else None,
        status_url=status_url(result, ticket, status_base),
        wifi_name=str((settings.get("status_page") or {}).get("wifi_name") or ""),
        notice=notice,
        no_show_rule=no_show_rule_text(settings.get("no_show")),
    )


def sample_view(hall_name: str = "") -> TicketView:
    """The --print-test ticket: clearly marked, never a real number."""
    return TicketView(
        hall_name=hall_name or "社区事务受理服务中心", number="A000",
        services=("社保卡申领", "医保参保登记"), issued_at=dt.datetime.now(), ahead=0,
        wait_seconds=0, status_url="http://127.0.0.1:5580/t/print-test-0000000000",
        notice=tr("kiosk.ticket.default_notice"), no_show_rule=tr("kiosk.noshow.generic"),
        test=True)
