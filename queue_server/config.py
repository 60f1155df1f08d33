"""The hall's configuration (config.toml): typed, validated, and refused when wrong.

Loading checks types and every cross-reference (a matter's department, a window's
matters, prefixes, hours, ports, the timezone) and fails with the file, the key and the
problem, so a bad config never starts a half-working server. Every section has a
default, so a client PC's config.toml may hold only [client] (plus [printer] or
[announce] overrides); the server additionally needs matters and windows
(``require_hall``).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
import zoneinfo
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import msgspec

from queue_common.client_config import (
    AlertsSection,
    AnnounceSection,
    BoardSection,
    ClientSection,
    ConfigError,
    CounterClientSection,
    HallSection,
    KioskSection,
    PrinterSection,
    RatingSection,
    ReaderSection,
    Section,
    check_client_sections,
    from_validation,
)

__all__ = ["ConfigError", "HallConfig", "HallSection", "load_config", "parse_config",
           "round_the_clock"]

from queue_common.spoken_letters import warn_misheard_prefixes

DEFAULT_CONFIG_NAME = "default_config.toml"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS_RE = re.compile(
    r"^([01]\d|2[0-3]):([0-5]\d)-(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$")
# A day that ends at midnight (`...-24:00`) closes at the last instant of the day.
END_OF_DAY = dt.time.max
_CODE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,15}$")
_STATUS_URL_RE = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
NO_SHOW_WORD = "过号"
_Section = Section  # the client sections' base (queue_common.client_config)


class HoursSection(_Section):
    mon: str = "08:30-16:30"
    tue: str = "08:30-16:30"
    wed: str = "08:30-16:30"
    thu: str = "08:30-16:30"
    fri: str = "08:30-16:30"
    sat: str = "08:30-11:30"
    sun: str = "08:30-11:30"
    holiday: str = "08:30-11:30"
    holidays: list[dt.date] = msgspec.field(default_factory=list)
    closed_dates: list[dt.date] = msgspec.field(default_factory=list)

    def for_day(self, day: dt.date) -> tuple[dt.time, dt.time] | None:
        """Opening and closing time on day, or None when the hall stays shut."""
        if day in self.closed_dates:
            return None
        spec = self.holiday if day in self.holidays else getattr(self, WEEKDAYS[day.weekday()])
        return parse_hours(spec)


def parse_hours(spec: str) -> tuple[dt.time, dt.time] | None:
    """'08:30-16:30' -> (08:30, 16:30); '00:00-24:00' -> (00:00, END_OF_DAY), open
    until midnight; 'closed' -> None; ValueError otherwise."""
    if spec.strip().lower() == "closed":
        return None
    m = _HOURS_RE.match(spec.strip())
    if not m:
        raise ValueError(f"expected 'HH:MM-HH:MM' or 'closed', got {spec!r}")
    start = dt.time(int(m[1]), int(m[2]))
    end = END_OF_DAY if m[5] else dt.time(int(m[3]), int(m[4]))
    if end <= start:
        raise ValueError(f"closing time must be after opening time in {spec!r}")
    return start, end


def hhmm(t: dt.time) -> str:
    """An opening or closing time as config writes it (END_OF_DAY is '24:00')."""
    return "24:00" if t == END_OF_DAY else t.strftime("%H:%M")


class ServerSection(_Section):
    host: str = "0.0.0.0"
    request_port: int = 5555
    event_port: int = 5556
    status_port: int = 5580
    status_base_url: str = ""


class StatusPageSection(_Section):
    """The citizen's phone page (docs/status-page.md): what it says and what it bears."""

    wifi_name: str = ""  # the hall Wi-Fi phones must join; printed on the ticket when set
    remind_ahead: int = 3  # remind the citizen when this many (or fewer) are ahead
    max_connections: int = 2000  # phones' connections at once (then a newcomer
    # replaces the one quiet the longest, or is refused if all are mid-request)
    idle_seconds: float = 20.0  # a connection with no request under way is closed after
    stream_seconds: int = 300  # a live stream ends after this; the phone reconnects
    rate_per_minute: int = 6  # writes (ratings) per ticket token per minute
    waits_per_ticket: int = 3  # live waits (streams, long polls) per ticket at once; a
    # newer one ends the oldest (so connections of one ticket cannot fill the page)
    fd_reserve: int = 256  # file descriptors kept for ZeroMQ, the database and keys


class DatabaseSection(_Section):
    url: str = ""
    synchronous: Literal["OFF", "NORMAL", "FULL", "EXTRA"] = "FULL"


class NumberingSection(_Section):
    digits: int = 3
    priority_prefix: str = ""
    appointment_prefix: str = "Y"


class PriorityClass(_Section):
    name: str
    name_en: str = ""
    credit_minutes: float = 30.0


def _default_classes() -> dict[str, PriorityClass]:
    return {
        "elderly": PriorityClass(name="70岁以上老人", name_en="Aged 70 and over"),
        "disabled": PriorityClass(name="残疾人", name_en="Person with disabilities"),
        "military": PriorityClass(name="军人（依法优先）", name_en="Military (priority by law)"),
        "pregnant": PriorityClass(name="孕妇", name_en="Pregnant woman"),
    }


class PolicySection(_Section):
    transfer_first: bool = True
    appointment_credit_minutes: float = 15.0
    priority_classes: dict[str, PriorityClass] = msgspec.field(default_factory=_default_classes)


class NoShowSection(_Section):
    mode: Literal["void", "requeue"] = "requeue"
    requeue_after: int = 3
    max_requeues: int = 1


class DaySection(_Section):
    """What becomes of tickets still waiting when a business day ends (docs/policy.md,
    "End of the day")."""

    # not_served: they end as not served (the citizen takes a new ticket next time);
    # next_opening: they wait on, once, for the next opening, ahead of that day's
    # newcomers by carry_credit_minutes
    carry_over: Literal["not_served", "next_opening"] = "not_served"
    carry_credit_minutes: float = 60.0


class AppointmentsSection(_Section):
    """When a booking's check-in gives an appointment ticket (docs/policy.md)."""

    early_minutes: int = 30  # check-in opens this long before the slot starts
    late_minutes: int = 15  # ... and stays open this long after the slot ends
    late: Literal["walk_in", "refuse"] = "walk_in"  # later: an ordinary ticket, or none


class QuotaSection(_Section):
    enabled: bool = False  # Shanghai: 不得限号 during opening hours
    daily_total: int = 0


class LoginSection(_Section):
    session_hours: float = 12.0
    max_failures: int = 3  # wrong passwords in a row at one PC before it must wait
    lockout_seconds: int = 60  # the longest wait (1, 2, 4 ... s, at most this)


class SecuritySection(_Section):
    """Which window a counter PC may log a clerk in at (docs/configuration.md)."""

    counter_any_window: bool = False  # True: any counter PC at any window (old behaviour)
    # device name -> window number, for PCs not named `counter-N`
    counter_windows: dict[str, int] = msgspec.field(default_factory=dict)


class DepartmentConfig(_Section):
    code: str
    name: str
    name_en: str = ""


class ServiceConfig(_Section):
    code: str
    name: str
    department: str
    prefix: str
    minutes: float
    name_en: str = ""
    general: bool = True
    quota: int = 0  # per day, used only when [quota] enabled; 0 = no cap


class CounterConfig(_Section):
    number: int
    name: str = ""
    general: bool = True
    services: list[str] = msgspec.field(default_factory=list)


class HallConfig(_Section):
    """The whole config.toml. ``path`` is where it was read from (not a TOML key)."""

    hall: HallSection = msgspec.field(default_factory=HallSection)
    hours: HoursSection = msgspec.field(default_factory=HoursSection)
    server: ServerSection = msgspec.field(default_factory=ServerSection)
    status_page: StatusPageSection = msgspec.field(default_factory=StatusPageSection)
    database: DatabaseSection = msgspec.field(default_factory=DatabaseSection)
    numbering: NumberingSection = msgspec.field(default_factory=NumberingSection)
    policy: PolicySection = msgspec.field(default_factory=PolicySection)
    no_show: NoShowSection = msgspec.field(default_factory=NoShowSection)
    day: DaySection = msgspec.field(default_factory=DaySection)
    appointments: AppointmentsSection = msgspec.field(default_factory=AppointmentsSection)
    quota: QuotaSection = msgspec.field(default_factory=QuotaSection)
    login: LoginSection = msgspec.field(default_factory=LoginSection)
    security: SecuritySection = msgspec.field(default_factory=SecuritySection)
    departments: list[DepartmentConfig] = msgspec.field(default_factory=list, name="department")
    services: list[ServiceConfig] = msgspec.field(default_factory=list, name="service")
    counters: list[CounterConfig] = msgspec.field(default_factory=list, name="counter")
    announce: AnnounceSection = msgspec.field(default_factory=AnnounceSection)
    board: BoardSection = msgspec.field(default_factory=BoardSection)
    kiosk: KioskSection = msgspec.field(default_factory=KioskSection)
    reader: ReaderSection = msgspec.field(default_factory=ReaderSection)
    printer: PrinterSection = msgspec.field(default_factory=PrinterSection)
    rating: RatingSection = msgspec.field(default_factory=RatingSection)
    counter_client: CounterClientSection = msgspec.field(default_factory=CounterClientSection)
    alerts: AlertsSection = msgspec.field(default_factory=AlertsSection)
    client: ClientSection = msgspec.field(default_factory=ClientSection)
    path: str = msgspec.field(default="", name="__path__")

    # -- derived views the hall and the apps use ------------------------------------

    @property
    def data_dir(self) -> Path:
        """The directory config.toml lives in (the data dir)."""
        return Path(self.path).resolve().parent if self.path else Path.cwd()

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.hall.timezone)

    def database_url(self) -> str:
        """[database] url, or the SQLite file in the data dir."""
        if self.database.url:
            return self.database.url
        return f"sqlite:///{(self.data_dir / 'queue.sqlite3').as_posix()}"

    def service_codes_of(self, counter: CounterConfig) -> list[str]:
        """Matters a window takes: every general matter if general, plus its own list."""
        codes = [s.code for s in self.services if counter.general and s.general]
        codes += [c for c in counter.services if c not in codes]
        return codes

    def settings(self) -> dict[str, Any]:
        """Hall-wide settings the apps need (snapshot hall.settings), as plain data."""
        out: dict[str, Any] = msgspec.to_builtins({
            "announce": self.announce, "board": self.board, "kiosk": self.kiosk,
            "rating": self.rating, "counter_client": self.counter_client,
            "alerts": self.alerts})
        out["priority_classes"] = {
            code: {"name": pc.name, "name_en": pc.name_en}
            for code, pc in self.policy.priority_classes.items()}
        out["no_show"] = msgspec.to_builtins(self.no_show)
        out["day"] = {"carry_over": self.day.carry_over}  # the dashboard's close-day text
        out["status_page"] = {"wifi_name": self.status_page.wifi_name}  # the ticket prints it
        # English names of departments and matters (the stored ones are Chinese only):
        # an English screen shows these, else the Chinese name.
        out["names_en"] = {
            "departments": {d.code: d.name_en for d in self.departments if d.name_en},
            "services": {s.code: s.name_en for s in self.services if s.name_en}}
        return out


def default_config_text() -> str:
    """The shipped realistic default (a Shanghai centre), as TOML text."""
    return (resources.files("queue_server") / DEFAULT_CONFIG_NAME).read_text("utf-8")


def round_the_clock(text: str) -> str:
    """The same config text with the hall open 00:00-24:00 every day.

    For the demo hall and the tests, which run at any hour; a real hall keeps its
    published hours.
    """
    return re.sub(r'(?m)^(mon|tue|wed|thu|fri|sat|sun|holiday)\s*=\s*"[^"]*"',
                  lambda m: f'{m.group(1)} = "00:00-24:00"', text)


def load_config(path: str | Path, *, require_hall: bool = True) -> HallConfig:
    """Read and validate config.toml; ConfigError names file, key and problem."""
    p = Path(path)
    try:
        text = p.read_text("utf-8")
    except FileNotFoundError:
        raise ConfigError(str(p), "", "file not found (run `queue-server init`)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(p), "", f"cannot read: {exc}") from None
    return parse_config(text, str(p), require_hall=require_hall)


def parse_config(text: str, file: str = "config.toml", *,
                 require_hall: bool = True) -> HallConfig:
    """Validate TOML text as a hall config (see load_config)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(file, "", f"not valid TOML: {exc}") from None
    if "__path__" in raw:
        raise ConfigError(file, "__path__", "reserved key")
    raw["__path__"] = str(Path(file).resolve()) if file else ""
    try:
        cfg = msgspec.convert(raw, HallConfig, strict=True)
    except msgspec.ValidationError as exc:
        raise from_validation(file, exc, HallConfig) from None
    _check(cfg, file, require_hall)
    warn_misheard_prefixes(file, [s.prefix for s in cfg.services] + [
        cfg.numbering.priority_prefix, cfg.numbering.appointment_prefix])
    return cfg


def _check(cfg: HallConfig, file: str, require_hall: bool) -> None:  # noqa: C901
    """Cross-field rules msgspec types cannot express."""

    def fail(key: str, problem: str) -> None:
        raise ConfigError(file, key, problem)

    try:
        zoneinfo.ZoneInfo(cfg.hall.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        fail("hall.timezone", f"unknown timezone {cfg.hall.timezone!r}")
    for day in (*WEEKDAYS, "holiday"):
        try:
            parse_hours(getattr(cfg.hours, day))
        except ValueError as exc:
            fail(f"hours.{day}", str(exc))
    sec = cfg.server
    for key in ("request_port", "event_port", "status_port"):
        port = getattr(sec, key)
        if not 1 <= port <= 65535:
            fail(f"server.{key}", f"port must be 1..65535, got {port}")
    ports = [sec.request_port, sec.event_port, sec.status_port]
    if len(set(ports)) != 3:
        fail("server", f"request, event and status ports must differ, got {ports}")
    check_client_sections(cfg, fail)
    if not 3 <= cfg.numbering.digits <= 5:
        fail("numbering.digits", "must be 3..5")
    for key in ("priority_prefix", "appointment_prefix"):
        pre = getattr(cfg.numbering, key)
        if pre and not _is_prefix(pre):
            fail(f"numbering.{key}", f"must be one capital letter A-Z or empty, got {pre!r}")
    if not 0 <= cfg.day.carry_credit_minutes <= 1440:
        fail("day.carry_credit_minutes", "must be 0..1440")
    if cfg.policy.appointment_credit_minutes < 0:
        fail("policy.appointment_credit_minutes", "must not be negative")
    for code, pc in cfg.policy.priority_classes.items():
        if not _CODE_RE.match(code):
            fail(f"policy.priority_classes.{code}", "class code must be a short identifier")
        if not 0 <= pc.credit_minutes <= 240:
            fail(f"policy.priority_classes.{code}.credit_minutes", "must be 0..240")
    if cfg.no_show.requeue_after < 0:
        fail("no_show.requeue_after", "must not be negative")
    if cfg.no_show.max_requeues < 0:
        fail("no_show.max_requeues", "must not be negative")
    for key in ("early_minutes", "late_minutes"):
        if not 0 <= getattr(cfg.appointments, key) <= 24 * 60:
            fail(f"appointments.{key}", "must be 0..1440 minutes")
    if NO_SHOW_WORD in cfg.hall.notice:
        fail("hall.notice", f"must not state the {NO_SHOW_WORD} rule: the ticket prints it "
             "from [no_show] (mode, requeue_after, max_requeues), and the two would "
             "contradict each other; remove that sentence from the notice")
    page = cfg.status_page
    if not 0 <= page.remind_ahead <= 50:
        fail("status_page.remind_ahead", "must be 0..50")
    if not 10 <= page.max_connections <= 100_000:
        fail("status_page.max_connections", "must be 10..100000")
    if not 1 <= page.idle_seconds <= 600:
        fail("status_page.idle_seconds", "must be 1..600")
    if not 10 <= page.stream_seconds <= 3600:
        fail("status_page.stream_seconds", "must be 10..3600")
    if not 1 <= page.waits_per_ticket <= 100:
        fail("status_page.waits_per_ticket", "must be 1..100")
    if not 1 <= page.rate_per_minute <= 600:
        fail("status_page.rate_per_minute", "must be 1..600")
    if not 16 <= page.fd_reserve <= 10_000:
        fail("status_page.fd_reserve", "must be 16..10000")
    if len(page.wifi_name) > 64:
        fail("status_page.wifi_name", "must be at most 64 characters")
    base = cfg.server.status_base_url
    if base and not _STATUS_URL_RE.match(base):
        fail("server.status_base_url", f"must be empty or http(s)://HOST[:PORT], got {base!r}")
    if cfg.quota.daily_total < 0:
        fail("quota.daily_total", "must not be negative")
    if cfg.login.session_hours <= 0:
        fail("login.session_hours", "must be positive")
    if cfg.login.max_failures < 1:
        fail("login.max_failures", "must be at least 1")
    if not 1 <= cfg.login.lockout_seconds <= 3600:
        fail("login.lockout_seconds", "must be 1..3600")

    dept_codes: set[str] = set()
    for i, d in enumerate(cfg.departments):
        if not _CODE_RE.match(d.code):
            fail(f"department[{i}].code", f"must be a short code like 'RS', got {d.code!r}")
        if d.code in dept_codes:
            fail(f"department[{i}].code", f"duplicate department {d.code!r}")
        if not d.name.strip():
            fail(f"department[{i}].name", "must not be empty")
        dept_codes.add(d.code)
    svc_codes: set[str] = set()
    for i, s in enumerate(cfg.services):
        if not _CODE_RE.match(s.code):
            fail(f"service[{i}].code", f"must be a short code like 'RS01', got {s.code!r}")
        if s.code in svc_codes:
            fail(f"service[{i}].code", f"duplicate matter {s.code!r}")
        svc_codes.add(s.code)
        if not s.name.strip():
            fail(f"service[{i}].name", "must not be empty")
        if s.department not in dept_codes:
            fail(f"service[{i}].department", f"unknown department {s.department!r}")
        if not _is_prefix(s.prefix):
            fail(f"service[{i}].prefix", f"must be one capital letter A-Z, got {s.prefix!r}")
        if not 0 < s.minutes <= 480:
            fail(f"service[{i}].minutes", f"must be between 0 and 480, got {s.minutes}")
        if s.quota < 0:
            fail(f"service[{i}].quota", "must not be negative")
    numbers: set[int] = set()
    for i, c in enumerate(cfg.counters):
        if not 1 <= c.number <= 999:
            fail(f"counter[{i}].number", f"must be 1..999, got {c.number}")
        if c.number in numbers:
            fail(f"counter[{i}].number", f"duplicate window number {c.number}")
        numbers.add(c.number)
        for j, code in enumerate(c.services):
            if code not in svc_codes:
                fail(f"counter[{i}].services[{j}]", f"unknown matter {code!r}")
        if not cfg.service_codes_of(c):
            fail(f"counter[{i}]", "window takes no matter (general = false and no services)")
    for device, number in cfg.security.counter_windows.items():
        if number not in numbers:
            fail(f"security.counter_windows.{device}", f"no window {number}")
    if require_hall:
        if not cfg.services:
            fail("service", "at least one [[service]] is needed")
        if not cfg.counters:
            fail("counter", "at least one [[counter]] is needed")
        served = {code for c in cfg.counters for code in cfg.service_codes_of(c)}
        for i, s in enumerate(cfg.services):
            if s.code not in served:
                fail(f"service[{i}]", f"no window takes matter {s.code!r}")
    for i, code in enumerate(cfg.kiosk.priority_classes):
        if code not in cfg.policy.priority_classes:
            fail(f"kiosk.priority_classes[{i}]", f"unknown priority class {code!r}")
    if cfg.kiosk.elderly_class not in cfg.policy.priority_classes:
        fail("kiosk.elderly_class", f"unknown priority class {cfg.kiosk.elderly_class!r}")


def _is_prefix(s: str) -> bool:
    return len(s) == 1 and "A" <= s <= "Z"
