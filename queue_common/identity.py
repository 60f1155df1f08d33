"""A citizen's 身份证 number at the kiosk: checked, masked, and turned into a keyed hash.

What the hall may keep of an ID number is as little as its purpose needs (个人信息保护法:
minimum necessary). The kiosk reads the number from the card or a QR code, checks it
(GB 11643-1999: 17 digits, a check character, a real birth date), derives the age (the
70+ priority class) and shows it masked (3101**********1234). Then it forgets it: the
server gets only `id_hash`, an HMAC-SHA256 of the number under the hall's secret key
(keys/id_hash.key), enough to say "the same person took a number today" and to match a
booking whose import carried the same number, and useless without that key. The clear
number is never sent, stored or logged (docs/kiosk.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"  # the check character for sum(weights * digits) % 11
KEY_FILE = "id_hash.key"
_SHAPE = re.compile(r"^\d{17}[\dX]$")
_HASH = re.compile(r"^[0-9a-f]{64}$")


class InvalidIdNumber(ValueError):
    """Not a 身份证 number: `reason` is shape | check | birth (never the number itself)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid ID number ({reason})")
        self.reason = reason


@dataclass(frozen=True)
class IdNumber:
    """A checked 18-character 身份证 number. Its repr never shows the number."""

    number: str
    birth: dt.date

    def __repr__(self) -> str:
        return f"IdNumber({self.masked})"

    __str__ = __repr__

    @property
    def masked(self) -> str:
        """What a screen may show: 3101**********1234."""
        return masked(self.number)

    def age_on(self, day: dt.date) -> int:
        """Full years on `day` (a birthday on 29 February counts from 1 March)."""
        years = day.year - self.birth.year
        if (day.month, day.day) < (self.birth.month, self.birth.day):
            years -= 1
        return years


def check_character(first17: str) -> str:
    """GB 11643's check character of the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def parse_id_number(text: str, today: dt.date | None = None) -> IdNumber:
    """A checked ID number from what a reader delivered, else InvalidIdNumber."""
    number = text.strip().upper()
    if not _SHAPE.match(number):
        raise InvalidIdNumber("shape")
    if check_character(number[:17]) != number[17]:
        raise InvalidIdNumber("check")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdNumber("birth") from None
    if birth.year < 1900 or birth > (today or dt.date.today()):
        raise InvalidIdNumber("birth")
    return IdNumber(number, birth)


def looks_like_id_number(text: str) -> bool:
    """18 characters of the right shape (a reader's line may be an ID or a code)."""
    return bool(_SHAPE.match(text.strip().upper()))


def masked(number: str) -> str:
    """First four and last four characters, the rest as *: 3101**********1234."""
    number = number.strip()
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def id_hash(key: bytes, number: str) -> str:
    """The keyed hash the hall keeps instead of the number (64 hex characters)."""
    return hmac.new(key, number.strip().upper().encode("ascii"), hashlib.sha256).hexdigest()


def is_id_hash(value: str) -> bool:
    return bool(_HASH.match(value))


# -- the hall's key -------------------------------------------------------------------

def key_path(data: Path) -> Path:
    return data / "keys" / KEY_FILE


def make_key(data: Path) -> Path:
    """Create keys/id_hash.key (32 random bytes, hex) unless it exists; its path.

    Made once per hall by `queue-server init` and copied to every kiosk PC, like the
    server's public key: kiosks with different keys would hash the same card apart.
    """
    path = key_path(data)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(secrets.token_hex(32) + "\n", "ascii")
    if os.name != "nt":  # on Windows the data dir's ACL protects it
        path.chmod(0o600)
    return path


def load_key(data: Path) -> bytes | None:
    """The hall's key from keys/id_hash.key, or None when this PC has none (no identity
    features then: the kiosk still issues numbers)."""
    try:
        text = key_path(data).read_text("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        return None
    return key if len(key) >= 16 else None
