"""What the voice is given to say: ticket numbers and window numbers written out.

Pure text functions (no pyttsx3, no Tk) so the hall's way of speaking a call is unit
tested on its own. The hall rule (docs/voice.md): letters are read as letters,
ticket digits one by one ("A012" -> "A 零一二", never 零十二), the window number as a
number ("12" -> 十二). TTS engines guess wrong on raw "A012" (espeak-ng says 零十二), so
the text is normalised before it reaches them.
"""

from __future__ import annotations

DEFAULT_TEMPLATE_ZH = "请{number}号到{counter}号窗口办理"
DEFAULT_TEMPLATE_EN = "Number {number}, please go to window {counter}."

_ZH_DIGITS = "零一二三四五六七八九"
_EN_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
              "nine")


def _split_ticket(number: str) -> tuple[list[str], list[str]]:
    """Letters and digits of a ticket number in order; anything else is dropped."""
    letters: list[str] = []
    digits: list[str] = []
    for ch in number.strip().upper():
        if ch.isascii() and ch.isalpha():
            letters.append(ch)
        elif ch.isascii() and ch.isdigit():
            digits.append(ch)
    return letters, digits


def ticket_zh(number: str) -> str:
    """'A012' -> 'A 零一二': letters spaced, each digit as its own Chinese digit."""
    parts: list[str] = []
    word: list[str] = []
    for ch in number.strip().upper():
        if ch.isascii() and ch.isdigit():
            word.append(_ZH_DIGITS[int(ch)])
        elif ch.isascii() and ch.isalpha():
            if word:
                parts.append("".join(word))
                word = []
            parts.append(ch)
    if word:
        parts.append("".join(word))
    return " ".join(parts)


def ticket_en(number: str) -> str:
    """'A012' -> 'A, zero one two' (the comma makes English voices say the letter)."""
    letters, digits = _split_ticket(number)
    spoken_digits = " ".join(_EN_DIGITS[int(d)] for d in digits)
    if letters and digits:
        return f"{' '.join(letters)}, {spoken_digits}"
    return " ".join(letters) or spoken_digits


def counter_zh(counter: int) -> str:
    """A window number as a Chinese number: 3 -> 三, 10 -> 十, 12 -> 十二, 105 -> 一百零五."""
    if counter < 0:
        return "负" + counter_zh(-counter)
    if counter < 10:
        return _ZH_DIGITS[counter]
    if counter < 20:
        return "十" + (_ZH_DIGITS[counter % 10] if counter % 10 else "")
    if counter >= 10000:
        return "".join(_ZH_DIGITS[int(d)] for d in str(counter))
    units = ((1000, "千"), (100, "百"), (10, "十"), (1, ""))
    out: list[str] = []
    pending_zero = False
    for value, name in units:
        digit = (counter // value) % 10
        if digit == 0:
            if out:
                pending_zero = True
            continue
        if pending_zero:
            out.append("零")
            pending_zero = False
        out.append(_ZH_DIGITS[digit] + name)
    return "".join(out)


def counter_en(counter: int) -> str:
    """English voices read a plain integer as a number ("12" -> twelve)."""
    return str(counter)


def _fill(template: str, fallback: str, number: str, counter: str) -> str:
    try:
        return template.format(number=number, counter=counter)
    except (KeyError, IndexError, ValueError):
        # A broken template in config.toml must not silence the hall: use the default.
        return fallback.format(number=number, counter=counter)


def announcement_zh(number: str, counter: int, template: str = DEFAULT_TEMPLATE_ZH) -> str:
    """The Chinese sentence for one call, spaced so the letter and digits stand apart."""
    return _fill(template or DEFAULT_TEMPLATE_ZH, DEFAULT_TEMPLATE_ZH,
                 f" {ticket_zh(number)} ", f" {counter_zh(counter)} ").strip()


def announcement_en(number: str, counter: int, template: str = DEFAULT_TEMPLATE_EN) -> str:
    """The English sentence for one call."""
    return _fill(template or DEFAULT_TEMPLATE_EN, DEFAULT_TEMPLATE_EN,
                 ticket_en(number), counter_en(counter)).strip()


def announcement_zh_groups(number: str, counter: int,
                           template: str = DEFAULT_TEMPLATE_ZH) -> list[str]:
    """The Chinese sentence in three groups said with a pause between: everything up
    to the letter ("请 A"), the digits ("零一二"), the rest ("号到 三 号窗口办理").

    A listener needs the letter and the number apart; the speech engine's own pauses
    between words are too short to hear in a hall (bench/voice.py).
    """
    letters, digits = _split_ticket(number)
    mark = "\x00"
    whole = _fill(template or DEFAULT_TEMPLATE_ZH, DEFAULT_TEMPLATE_ZH, mark,
                  f" {counter_zh(counter)} ")
    if whole.count(mark) != 1 or not digits:
        return [announcement_zh(number, counter, template)]
    before, after = whole.split(mark)
    head = " ".join(x for x in (before.strip(), " ".join(letters)) if x)
    groups = [head, "".join(_ZH_DIGITS[int(d)] for d in digits), after.strip()]
    return [g for g in groups if g]
