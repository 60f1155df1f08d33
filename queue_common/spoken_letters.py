"""How Mandarin speakers read the Latin letters of ticket numbers, and which are misheard.

A hall reads "A012" as 诶 零一二: the letter by its everyday Mandarin name. Some names
are easily taken for a digit or for nothing at all in a noisy hall: E's 伊 is 一 (E245
is heard as 1245), W's 达不溜 ends in 六, R's 阿尔 and L's 艾勒 are two syllables that
are not a word. bench/voice.py measures it: each letter's calls transcribed by an
offline recogniser, the letters mostly got wrong listed below. The config check warns
when a matter's prefix is one of them (docs/voice.md has the table and the figures).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

log = logging.getLogger("queue_server.config")
_warned: set[tuple[str, str]] = set()

# Letter -> (the Mandarin name as characters, its pinyin), as halls say them.
READINGS: dict[str, tuple[str, str]] = {
    "A": ("诶", "ēi"), "B": ("比", "bǐ"), "C": ("西", "xī"), "D": ("迪", "dí"),
    "E": ("伊", "yī"), "F": ("艾弗", "ài fú"), "G": ("吉", "jí"), "H": ("艾尺", "ài chǐ"),
    "I": ("艾", "ài"), "J": ("杰", "jié"), "K": ("开", "kāi"), "L": ("艾勒", "ài lè"),
    "M": ("艾姆", "ài mǔ"), "N": ("恩", "ēn"), "O": ("欧", "ōu"), "P": ("批", "pī"),
    "Q": ("丘", "qiū"), "R": ("阿尔", "ā ěr"), "S": ("艾丝", "ài sī"), "T": ("提", "tí"),
    "U": ("优", "yōu"), "V": ("维", "wéi"), "W": ("达不溜", "dá bù liū"),
    "X": ("艾克斯", "ài kè sī"), "Y": ("歪", "wāi"), "Z": ("贼德", "zéi dé"),
}

# Mostly misheard in bench/voice.py's letter measurement (docs/voice.md, "Letters").
MISHEARD = frozenset("ELRW")
# Heard right in at least 3 of 4 calls there: the letters to choose.
WELL_HEARD = "ABDFGHKMNOPQSTUVZ"


def misheard_prefixes(prefixes: Iterable[str]) -> list[str]:
    """The prefixes (in the order given, each once) that listeners often mishear."""
    out: list[str] = []
    for p in prefixes:
        letter = p.strip().upper()
        if letter in MISHEARD and letter not in out:
            out.append(letter)
    return out


def warn_misheard_prefixes(file: str, prefixes: Iterable[str]) -> list[str]:
    """Log (once per file and letters) which ticket prefixes listeners often mishear."""
    letters = misheard_prefixes(p for p in prefixes if p)
    key = (file, "".join(letters))
    if letters and key not in _warned:
        _warned.add(key)
        names = "、".join(f"{c}（{READINGS[c][0]}）" for c in letters)
        log.warning("%s: 号码前缀 %s 在叫号语音中容易听错，建议改用 %s / ticket prefix %s "
                    "is often misheard when called aloud; prefer %s (docs/voice.md)", file,
                    names, "、".join(WELL_HEARD), ", ".join(letters), ", ".join(WELL_HEARD))
    return letters
