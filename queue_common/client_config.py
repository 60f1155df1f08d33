"""The sections of config.toml the desktop apps read, typed and validated (msgspec).

One definition for the server and the clients: queue_server.config builds the whole
hall's config out of these sections (and sends the hall-wide ones to every screen in
the snapshot's `hall.settings`), and a client PC whose config.toml holds only
`[client]` plus its own `[printer]`, `[reader]` or `[announce]` override reads it with
`load_client_config` without the server's stack (no SQLAlchemy, no hall rules).

A misspelt key is an error, not a silent default (`forbid_unknown_fields`); a client
ignores the server's own sections (`[server]`, `[database]`, `[[service]]` ...) so the
server PC's own file works for a kiosk or board running on it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import msgspec
import msgspec.inspect


class ConfigError(Exception):
    """A config that cannot be used: which file, which key, what is wrong."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        super().__init__(f"{file}: {key}: {problem}" if key else f"{file}: {problem}")
        self.file = file
        self.key = key
        self.problem = problem


class Section(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of every section: a misspelt key is an error, not a silent default."""


class HallSection(Section):
    name: str = "社区事务受理服务中心"
    name_en: str = "Community Affairs Acceptance Centre"
    notice: str = "请在休息区等候，留意大屏和语音叫号。"
    timezone: str = "Asia/Shanghai"


class ClientSection(Section):
    """Where a desktop app on another PC finds the server."""

    server: str = "127.0.0.1"
    request_port: int = 5555
    event_port: int = 5556
    status_port: int = 5580


class AnnounceSection(Section):
    template: str = "请{number}号到{counter}号窗口办理"
    template_en: str = "Number {number}, please go to window {counter}"
    repeat: int = 2
    chime: bool = True
    voice_zh: str = ""
    voice_en: str = ""
    english: bool = False
    max_age_seconds: int = 60
    rate: int = 0  # words per minute; 0 and -1: the tuned default (docs/voice.md)
    pitch: int = -1
    word_gap: int = -1
    group_pause: float = -1.0
    pause_seconds: float = 0.6  # silence between repeats
    # The voice (display_board/settings.py AnnounceSettings; docs/voice.md)
    pack: str = ""
    engine: Literal["", "command"] = ""
    engine_command: str = ""


class BoardSection(Section):
    notice: str = ""
    recent_calls: int = 6
    flash_seconds: int = 10


ElderlyRule = Literal["off", "offer", "apply"]


class KioskSection(Section):
    idle_seconds: int = 30
    max_services: int = 5
    priority_classes: list[str] = msgspec.field(
        default_factory=lambda: ["elderly", "disabled", "military", "pregnant"])
    large_text: bool = False
    # An ID card read at the kiosk gives the age: from `elderly_age` on, the citizen is
    # offered the `elderly_class` priority class ("offer"), given it ("apply"), or not.
    elderly_age: int = 70
    elderly_class: str = "elderly"
    elderly_priority: ElderlyRule = "offer"


ReaderKind = Literal["none", "keyboard", "serial"]


class ReaderSection(Section):
    """This kiosk's 身份证 and QR readers (a per-PC setting: each kiosk has its own).

    "keyboard": a HID keyboard-wedge reader types what it read and Enter into the
    kiosk; "serial": a reader on a COM port (Windows `COM4`, Linux `/dev/ttyUSB0`)
    sends one line per read.
    """

    id_card: ReaderKind = "keyboard"
    id_card_port: str = ""
    id_card_baudrate: int = 9600
    qr: ReaderKind = "keyboard"
    qr_port: str = ""
    qr_baudrate: int = 9600


class EscposSection(Section):
    connection: Literal["network", "usb", "serial", "win32raw"] = "network"
    host: str = "192.168.1.50"
    port: int = 9100
    usb_vendor: int = 0
    usb_product: int = 0
    serial_device: str = "COM3"
    baudrate: int = 9600
    printer_name: str = ""
    profile: str = "default"
    mode: Literal["text", "image"] = "text"  # printer's GB18030 font + native QR, or raster


class PrinterSection(Section):
    kind: Literal["file", "escpos", "system"] = "file"
    width_mm: int = 80
    printer_name: str = ""  # system: the OS printer by name (empty: the default printer)
    escpos: EscposSection = msgspec.field(default_factory=EscposSection)


def default_reasons() -> list[str]:
    return ["等候时间太长", "办理时间太长", "服务态度不好", "一次告知不清", "材料要求不合理", "其他"]


def default_reasons_en() -> list[str]:
    return ["Waited too long", "Took too long", "Unfriendly service",
            "Not told everything at once", "Unreasonable paperwork", "Other"]


class RatingSection(Section):
    timeout_seconds: int = 30
    reasons: list[str] = msgspec.field(default_factory=default_reasons)
    # Shown on an English pad in place of the reason at the same place (the rating
    # records the reason of `reasons`, so reports stay in one language).
    reasons_en: list[str] = msgspec.field(default_factory=default_reasons_en)
    voice_prompt: bool = True  # the pad says "请您对本次服务进行评价" when it asks


def default_hotkeys() -> dict[str, str]:
    """The F-keys of real callers: F7 parks or calls back, F8 pauses or resumes."""
    return {"call_next": "F1", "recall": "F2", "start": "F3", "complete": "F4",
            "no_show": "F5", "transfer": "F6", "park_toggle": "F7", "pause_toggle": "F8"}


# Also bindable on their own, as some callers have separate 挂起/回呼/暂停/恢复 keys.
HOTKEY_ACTIONS = frozenset(
    {*default_hotkeys(), "park", "unpark", "pause", "resume", "rate"})


class CounterClientSection(Section):
    always_on_top: bool = True
    hotkeys: dict[str, str] = msgspec.field(default_factory=default_hotkeys)


class AlertsSection(Section):
    queue_length: int = 10
    wait_minutes: int = 30
    pause_minutes: int = 30
    rating_bad_per_day: int = 3


class ClientConfig(msgspec.Struct, kw_only=True):
    """What a desktop app reads of its PC's config.toml (other sections are the server's)."""

    hall: HallSection = msgspec.field(default_factory=HallSection)
    client: ClientSection = msgspec.field(default_factory=ClientSection)
    announce: AnnounceSection = msgspec.field(default_factory=AnnounceSection)
    board: BoardSection = msgspec.field(default_factory=BoardSection)
    kiosk: KioskSection = msgspec.field(default_factory=KioskSection)
    reader: ReaderSection = msgspec.field(default_factory=ReaderSection)
    printer: PrinterSection = msgspec.field(default_factory=PrinterSection)
    rating: RatingSection = msgspec.field(default_factory=RatingSection)
    counter_client: CounterClientSection = msgspec.field(default_factory=CounterClientSection)
    alerts: AlertsSection = msgspec.field(default_factory=AlertsSection)


Fail = Callable[[str, str], None]


def check_client_sections(cfg: Any, fail: Fail) -> None:
    """Cross-field rules of the client sections (msgspec types cannot say them).

    `cfg` is a ClientConfig or the server's whole HallConfig (same section names).
    """
    for key in ("request_port", "event_port", "status_port"):
        port = getattr(cfg.client, key)
        if not 1 <= port <= 65535:
            fail(f"client.{key}", f"port must be 1..65535, got {port}")
    ports = [cfg.client.request_port, cfg.client.event_port, cfg.client.status_port]
    if len(set(ports)) != 3:
        fail("client", f"request, event and status ports must differ, got {ports}")
    if cfg.kiosk.max_services < 1:
        fail("kiosk.max_services", "must be at least 1")
    if not 0 < cfg.kiosk.elderly_age <= 120:
        fail("kiosk.elderly_age", "must be 1..120")
    if cfg.announce.repeat < 1 or cfg.announce.repeat > 5:
        fail("announce.repeat", "must be 1..5")
    for key in ("template", "template_en"):
        tpl = getattr(cfg.announce, key)
        try:
            tpl.format(number="A001", counter=1)
        except (KeyError, IndexError, ValueError) as exc:
            fail(f"announce.{key}", f"only {{number}} and {{counter}} may be used ({exc})")
    if cfg.rating.timeout_seconds < 5:
        fail("rating.timeout_seconds", "must be at least 5")
    if not cfg.rating.reasons:
        fail("rating.reasons", "at least one reason is needed for 差评")
    if cfg.rating.reasons_en and len(cfg.rating.reasons_en) != len(cfg.rating.reasons):
        fail("rating.reasons_en", "needs one English text per reason, in the same order "
             "(or none)")
    check_hotkeys(cfg.counter_client.hotkeys, fail)
    if cfg.printer.width_mm not in (58, 80):
        fail("printer.width_mm", "must be 58 or 80")
    for kind, port in ((cfg.reader.id_card, cfg.reader.id_card_port),
                       (cfg.reader.qr, cfg.reader.qr_port)):
        if kind == "serial" and not port.strip():
            fail("reader", "a serial reader needs its port (e.g. id_card_port = \"COM4\")")


def check_hotkeys(hotkeys: dict[str, str], fail: Fail) -> None:
    import re

    key_re = re.compile(r"^(F([1-9]|1[0-2])|[A-Za-z0-9]|(Control|Alt|Shift)-[A-Za-z0-9F]+)$")
    seen: dict[str, str] = {}
    for action, key in hotkeys.items():
        if action not in HOTKEY_ACTIONS:
            fail(f"counter_client.hotkeys.{action}",
                 f"unknown action; known: {', '.join(sorted(HOTKEY_ACTIONS))}")
        if not key_re.match(key):
            fail(f"counter_client.hotkeys.{action}", f"not a key name: {key!r}")
        if key in seen:
            fail(f"counter_client.hotkeys.{action}", f"{key} is already used by {seen[key]}")
        seen[key] = action


def from_validation(file: str, exc: msgspec.ValidationError, root: type) -> ConfigError:
    """Turn msgspec's "problem - at `$.a.b[2]`" into (key 'a.b[2]', problem)."""
    msg = str(exc)
    key = ""
    if " - at `$" in msg:
        msg, _, at = msg.rpartition(" - at `$")
        key = at.rstrip("`").lstrip(".")
    if msg.startswith("Object contains unknown field "):
        field = msg.removeprefix("Object contains unknown field ").strip("`")
        key = f"{key}.{field}" if key else field
        msg = "unknown key (misspelt?)"
    if msg.startswith("Invalid enum value"):
        allowed = allowed_values(root, key)
        if allowed:
            msg += f"; allowed: {', '.join(allowed)}"
    if msg.startswith("Object missing required field "):
        field = msg.removeprefix("Object missing required field ").strip("`")
        msg = f"missing required key {field!r}"
    return ConfigError(file, key, msg[0].lower() + msg[1:] if msg else "invalid")


def allowed_values(root: type, key: str) -> list[str]:
    """The Literal choices of a dotted key such as 'no_show.mode' (for error messages)."""
    tp: Any = root
    for part in key.split("."):
        if not (isinstance(tp, type) and issubclass(tp, msgspec.Struct)):
            return []
        info = {f.encode_name: f.type for f in msgspec.inspect.type_info(tp).fields}  # type: ignore[attr-defined]
        ti = info.get(part)
        if ti is None:
            return []
        tp = getattr(ti, "cls", ti)
    if isinstance(tp, msgspec.inspect.LiteralType):
        return [str(v) for v in tp.values]
    return []


def parse_client_config(text: str, file: str = "config.toml") -> ClientConfig:
    """Validate a client PC's config.toml text (the server's sections are skipped)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(file, "", f"not valid TOML: {exc}") from None
    mine = {k: v for k, v in raw.items() if k in ClientConfig.__struct_fields__}
    try:
        cfg = msgspec.convert(mine, ClientConfig, strict=True)
    except msgspec.ValidationError as exc:
        raise from_validation(file, exc, ClientConfig) from None

    def fail(key: str, problem: str) -> None:
        raise ConfigError(file, key, problem)

    check_client_sections(cfg, fail)
    return cfg


def load_client_config(path: Path) -> ClientConfig:
    """This PC's config.toml, or every default when there is none."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return ClientConfig()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), "", f"cannot read: {exc}") from None
    return parse_client_config(text, str(path))
