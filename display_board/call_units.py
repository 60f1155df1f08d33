"""A call as a row of spoken units, and how a voice pack's clips cover it.

A call sentence ("请 A 零一二 号到 三 号窗口办理") is first cut into tokens: each
character of the template's own text, each letter, each digit of the ticket number and
each syllable of the window number ("十", "二"). A voice pack holds clips keyed by the text they
say; a clip may cover one token ("零") or a run of them ("号到三号窗口办理"). The
segmenter covers the call left to right with the longest clip it has at each point,
so a pack may be recorded at any unit size (docs/voice.md says which size to choose,
and why) and the same code joins all of them.

Unit sets decide which clips a pack is recorded with: where in a call a clip boundary
falls. The planner runs a unit set over every call a hall can make and lists the
distinct clips, which is the recording script of `display-board record-voice`.

Pure functions (no audio, no Tk), so the cutting is unit tested on its own.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from display_board.speech_text import (
    DEFAULT_TEMPLATE_EN,
    DEFAULT_TEMPLATE_ZH,
    counter_zh,
    ticket_en,
)

Kind = Literal["text", "letter", "digit", "window", "pause"]
Lang = Literal["zh", "en"]
UNIT_SETS = ("phrase", "compact", "word", "syllable")
_ZH_DIGITS = "零一二三四五六七八九"
_PAUSE_MARKS = "，。、；：！？,.;:!?"

# Natural gaps (seconds) put between two clips, by what meets at the join. Recorded
# clips are trimmed to the voice, so the join supplies the breath a speaker leaves:
# a short one after the letter, almost none inside the number, a clear one at a comma.
GAP_AFTER_LETTER = 0.06
GAP_AROUND_NUMBER = 0.03
GAP_DEFAULT = 0.02
GAP_AT_PAUSE_MARK = 0.18


@dataclass(frozen=True)
class Token:
    text: str
    kind: Kind


def _template_parts(template: str, fallback: str) -> list[tuple[str, str]]:
    """[(literal, field)] of a str.format template; a broken one gives the fallback's."""
    try:
        parts = [(lit, field or "") for lit, field, _spec, _conv in
                 string.Formatter().parse(template)]
        if all(f in ("", "number", "counter") for _l, f in parts) and any(
                f == "number" for _l, f in parts):
            return parts
    except ValueError:
        pass
    return _template_parts(fallback, fallback) if template != fallback else []


def _literal_tokens(text: str, lang: Lang) -> list[Token]:
    out: list[Token] = []
    if lang == "zh":
        for ch in text:
            if ch in _PAUSE_MARKS:
                out.append(Token(ch, "pause"))
            elif not ch.isspace():
                out.append(Token(ch, "text"))
        return out
    for word in text.replace(",", " , ").replace(".", " . ").split():
        out.append(Token(word, "pause") if word in _PAUSE_MARKS else Token(word, "text"))
    return out


def _number_tokens(number: str, lang: Lang) -> list[Token]:
    out: list[Token] = []
    for ch in number.strip().upper():
        if ch.isascii() and ch.isalpha():
            out.append(Token(ch, "letter"))
        elif ch.isascii() and ch.isdigit():
            out.append(Token(_ZH_DIGITS[int(ch)] if lang == "zh" else
                             ticket_en(ch), "digit"))
    return out


def call_tokens(number: str, counter: int, template: str = "", lang: Lang = "zh"
                ) -> list[Token]:
    """The call sentence as tokens, in the order the template says them."""
    fallback = DEFAULT_TEMPLATE_ZH if lang == "zh" else DEFAULT_TEMPLATE_EN
    out: list[Token] = []
    for literal, field in _template_parts(template or fallback, fallback):
        out += _literal_tokens(literal, lang)
        if field == "number":
            out += _number_tokens(number, lang)
        elif field == "counter" and lang == "zh":  # 十二: one token per syllable
            out += [Token(ch, "window") for ch in counter_zh(counter)]
        elif field == "counter":
            out.append(Token(str(counter), "window"))
    return out


def key_of(tokens: Sequence[Token], lang: Lang) -> str:
    """The text a clip covering these tokens is filed under in a pack's manifest."""
    words = [t.text for t in tokens if t.kind != "pause"]
    return ("" if lang == "zh" else " ").join(words)


def gap_between(left: Token, right: Token) -> float:
    """Seconds of silence where a clip ending in `left` meets one starting with `right`."""
    if left.kind == "pause" or right.kind == "pause":
        return GAP_AT_PAUSE_MARK
    if left.kind == "letter" and right.kind != "letter":
        return GAP_AFTER_LETTER
    if (left.kind == "digit") != (right.kind == "digit"):
        return GAP_AROUND_NUMBER
    if left.kind == "digit":
        return 0.0
    return GAP_DEFAULT


@dataclass(frozen=True)
class Piece:
    """One clip of a joined call: its key and the silence before it."""

    key: str
    gap_before: float


@dataclass(frozen=True)
class Cover:
    pieces: tuple[Piece, ...]
    missing: tuple[str, ...]  # texts of the tokens no clip says (empty: fully covered)

    @property
    def complete(self) -> bool:
        return not self.missing


MAX_SPAN = 16  # tokens; the longest phrase clip (号到十二号窗口办理) is 8


def cover(tokens: Sequence[Token], has: Callable[[str], bool], lang: Lang) -> Cover:
    """Cover tokens with the longest clips `has` knows, left to right."""
    pieces: list[Piece] = []
    missing: list[str] = []
    i, n = 0, len(tokens)
    previous: Token | None = None
    while i < n:
        if tokens[i].kind == "pause":
            previous = tokens[i]
            i += 1
            continue
        found = 0
        for j in range(min(n, i + MAX_SPAN), i, -1):
            if tokens[j - 1].kind == "pause":
                continue
            if has(key_of(tokens[i:j], lang)):
                found = j
                break
        if not found:
            missing.append(tokens[i].text)
            previous = tokens[i]
            i += 1
            continue
        gap = 0.0 if previous is None else gap_between(previous, tokens[i])
        pieces.append(Piece(key_of(tokens[i:found], lang), gap))
        previous = tokens[found - 1]
        i = found
    return Cover(tuple(pieces), tuple(missing))


def _boundaries(tokens: Sequence[Token], units: str) -> list[int]:
    """Indexes where a clip starts, for a unit set (see docs/voice.md)."""
    if units == "syllable":  # every token alone (a window number is one per syllable)
        return list(range(len(tokens)))
    starts = [0]
    first_digit = next((i for i, t in enumerate(tokens) if t.kind == "digit"), -1)
    for i in range(1, len(tokens)):
        a, b = tokens[i - 1], tokens[i]
        if units == "compact":
            # [请 + letter + first digit] [the other digits] [号到 + window + 号窗口办理]
            cut = (i - 1 == first_digit and b.kind == "digit") or (
                a.kind == "digit" and b.kind != "digit")
        elif units == "phrase":
            # [请 + letter] [the whole ticket number] [号到 + window + 号窗口办理]
            cut = (a.kind == "digit") != (b.kind == "digit")
        else:  # word: each digit alone, the letter alone, template words kept whole
            cut = a.kind != b.kind or a.kind in ("digit", "letter")
        if cut:
            starts.append(i)
    return starts


def split_units(tokens: Sequence[Token], units: str, lang: Lang) -> list[str]:
    """The clip keys a pack of `units` says this call with."""
    starts = _boundaries(tokens, units) + [len(tokens)]
    keys = [key_of(tokens[a:b], lang) for a, b in zip(starts, starts[1:], strict=False)]
    return [k for k in keys if k]


def plan_clips(units: str, letters: Iterable[str], windows: Iterable[int], *,
               digits: int = 3, template: str = "", lang: Lang = "zh") -> list[str]:
    """Every clip a pack of `units` needs for these letters, ticket numbers of `digits`
    digits and windows, in recording order (first use), without duplicates."""
    if units not in UNIT_SETS:
        raise ValueError(f"unknown unit set {units!r}; one of {', '.join(UNIT_SETS)}")
    seen: dict[str, None] = {}
    letters = [c for c in (ch.upper() for ch in letters) if "A" <= c <= "Z"]
    windows = list(windows)
    first = letters[0] if letters else "A"
    w1 = windows[0] if windows else 1
    calls = [(f"{letter}{'0' * (digits - 1)}1", w1) for letter in letters]
    if units in ("phrase", "compact"):  # every number (compact: every tail) once
        calls += [(f"{first}{n:0{digits}d}", w1) for n in range(10 ** digits)]
    if units == "compact":  # each letter with each first digit
        calls += [(f"{letter}{d}{'0' * (digits - 1)}", w1) for letter in letters
                  for d in range(10)]
    calls += [(f"{first}{'0' * (digits - 1)}1", w) for w in windows]
    if units in ("word", "syllable"):  # every digit once
        calls += [(f"{first}{str(d) * digits}", windows[0] if windows else 1)
                  for d in range(10)]
    for number, window in calls:
        for key in split_units(call_tokens(number, window, template, lang), units, lang):
            seen.setdefault(key, None)
    return list(seen)
