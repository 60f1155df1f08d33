"""Scoring a recogniser's transcript of a call: was the letter, the number, the window right?

The recogniser writes what it heard in its own way: 请A012号到3号窗口办理, 請 A 零一二
號到三號窗口辦理, 请诶零一二号… Both sides are brought to one canonical form before
comparing: traditional characters simplified (only those a call uses), full-width
forms narrowed, Chinese digits of the ticket number and the window made Arabic, a
letter's Mandarin name (queue_common.spoken_letters), or characters that sound the
same without tones (息 for C's xī: a listener hears the sound, not the character),
read as the letter. Nothing else is forgiven: a digit heard as another stays wrong.

Pure functions (tests/unit/test_voice_score.py).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from queue_common.spoken_letters import READINGS

_TRADITIONAL = str.maketrans({"請": "请", "號": "号", "辦": "办", "窗": "窗", "門": "门",
                              "兩": "两", "個": "个", "處": "处", "裏": "里", "這": "这",
                              "為": "为", "點": "点", "們": "们", "後": "后"})
_ZH_DIGIT = {"零": "0", "〇": "0", "洞": "0", "一": "1", "幺": "1", "二": "2", "两": "2",
             "三": "3", "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}
_READING_TO_LETTER = sorted(((name, letter) for letter, (name, _py) in READINGS.items()),
                            key=lambda p: -len(p[0]))
_PUNCT = re.compile(r"[\s,，。．.、!！?？:：;；\"'“”‘’()（）\-—~…]+")


def canonical(text: str) -> str:
    """Narrow, simplified, upper case, no punctuation or spaces."""
    text = unicodedata.normalize("NFKC", text).translate(_TRADITIONAL).upper()
    return _PUNCT.sub("", text)


def _window_number(text: str) -> str:
    """'十二' -> '12', '3' -> '3', '三十' -> '30', '' when not a number."""
    if text.isdigit():
        return str(int(text))
    if not text or any(ch not in _ZH_DIGIT and ch != "十" for ch in text):
        return ""
    if "十" not in text:
        return "".join(_ZH_DIGIT[ch] for ch in text).lstrip("0") or "0"
    tens, _, units = text.partition("十")
    value = (int(_ZH_DIGIT[tens]) if tens else 1) * 10 + (int(_ZH_DIGIT[units]) if units
                                                          else 0)
    return str(value)


@dataclass(frozen=True)
class Heard:
    letter: str  # "" when none was heard
    digits: str
    window: str
    text: str  # the canonical transcript


_DIGIT_CHARS = "0123456789" + "".join(_ZH_DIGIT)
_AFTER_LETTER = re.compile(
    rf"(?P<digits>[{_DIGIT_CHARS}]{{2,5}})号?(?:.*?到(?P<window>[0-9]+|[零一二两三四五六七八九十]+)"
    r"号?窗)?")


def toneless(pinyin: str) -> str:
    """'ài chǐ' -> 'ai chi'."""
    plain = unicodedata.normalize("NFKD", pinyin)
    return " ".join("".join(c for c in plain if c.isascii()).lower().split())


_LETTER_BY_SOUND: dict[str, str] = {}
for _letter, (_name, _py) in READINGS.items():
    _LETTER_BY_SOUND[toneless(_py)] = _letter
_LETTER_BY_SOUND.update({"zei": "Z", "da bo liu": "W"})  # shorter ways halls say them


def letter_of(part: str, pinyin: Mapping[str, str] | None) -> str:
    """The letter a stretch of transcript says: a Latin letter, a letter's Mandarin
    name, or any characters that sound like it (pinyin without tones)."""
    latin = "".join(c for c in part if "A" <= c <= "Z")
    if latin and len(latin) == len(part):
        return latin
    for name, letter in _READING_TO_LETTER:
        if part == name:
            return letter
    if pinyin:
        by_char = {canonical(ch) or ch: py for ch, py in pinyin.items()}
        sound = " ".join(by_char.get(ch, ch).lower() for ch in part)
        return _LETTER_BY_SOUND.get(toneless(sound), "")
    return ""


def heard(transcript: str, pinyin: Mapping[str, str] | None = None) -> Heard:
    """The call a transcript says, as far as it can be read. `pinyin` maps characters
    of the transcript to their toneless pinyin (the recogniser's side gives it)."""
    text = canonical(transcript)
    start = text.find("请") + 1  # 0 when there is no 请
    match = _AFTER_LETTER.search(text, start)
    if match is None:
        return Heard("", "", "", text)
    letter = letter_of(text[start:match.start()], pinyin)
    digits = "".join(_ZH_DIGIT.get(c, c) for c in match["digits"])
    window = _window_number(match["window"]) if match["window"] else ""
    return Heard(letter, digits, window, text)


def reference(number: str, counter: int) -> str:
    """The canonical form of a correctly heard default-template call."""
    return f"请{number.upper()}号到{counter}号窗口办理"


def as_reference_form(transcript: str, pinyin: Mapping[str, str] | None = None) -> str:
    """A transcript in the reference's form (digits Arabic, letters Latin) for the CER."""
    got = heard(transcript, pinyin)
    text = got.text
    start = text.find("请") + 1
    digits_at = _AFTER_LETTER.search(text, start)
    if got.letter and digits_at is not None:  # the letter's name written as the letter
        text = text[:start] + got.letter + text[digits_at.start():]
    if got.digits:
        text = re.sub(r"[0-9零〇洞一幺二两三四五六七八九]{2,5}", got.digits, text, count=1)
    if got.window:
        text = re.sub(r"到([0-9]+|[零一二两三四五六七八九十]+)号?窗",
                      f"到{got.window}号窗", text, count=1)
    return text


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def char_error_rate(ref: str, hyp: str) -> float:
    return edit_distance(ref, hyp) / max(1, len(ref))


@dataclass(frozen=True)
class Score:
    number: str
    counter: int
    transcript: str
    heard: Heard
    cer: float

    @property
    def letter_right(self) -> bool:
        return self.heard.letter == "".join(c for c in self.number if c.isalpha())

    @property
    def fully_right(self) -> bool:
        digits = "".join(c for c in self.number if c.isdigit())
        return (self.letter_right and self.heard.digits == digits
                and self.heard.window == str(self.counter))


def score(number: str, counter: int, transcript: str,
          pinyin: Mapping[str, str] | None = None) -> Score:
    ref = reference(number, counter)
    return Score(number, counter, transcript, heard(transcript, pinyin),
                 char_error_rate(ref, as_reference_form(transcript, pinyin)))
