"""Speech synthesis through pyttsx3, used the one safe way (NOTES-platform.md).

pyttsx3 2.99 writes only the LAST `save_to_file` queued before a `runAndWait`, keeps the
save target so a later `say()` overwrites a file instead of playing, ignores unknown
voice ids silently and prints "Audio saved to ..." on stdout. So: exactly one
`save_to_file` per `runAndWait`, voice ids checked against the engine's own list, and
the WAV played by us (audio.SystemPlayer). One engine per Synth, used from ONE thread
(the announcer worker) only.

The voice is picked by language from a preference list (espeak-ng: `sit/cmn-latn-pinyin`,
because its `sit/cmn` reads Chinese characters as English-spelled pinyin; Windows SAPI5:
Huihui, Yaoyao, Kangkang ...), and the hall's config may name one explicitly.
"""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from display_board import audio
from display_board.settings import AnnounceSettings
from display_board.speech_text import announcement_en, announcement_zh

log = logging.getLogger(__name__)

# Best first. An entry matches a voice id exactly, the last part of an id, a word in
# the voice's name, or one of its languages.
ZH_PREFERENCES = ("sit/cmn-latn-pinyin", "cmn-latn-pinyin", "huihui", "yaoyao",
                  "kangkang", "xiaoxiao", "tingting", "zh-cn", "zh_cn", "zh-hans",
                  "chinese (simplified)", "mandarin", "chinese", "cmn", "zh")
EN_PREFERENCES = ("gmw/en-us", "en-us", "zira", "david", "hazel", "samantha",
                  "english (america)", "en-gb", "english", "en")


@dataclass(frozen=True)
class VoiceInfo:
    id: str
    name: str
    languages: tuple[str, ...]


def _languages(raw: Any) -> tuple[str, ...]:
    out: list[str] = []
    for lang in raw or ():
        if isinstance(lang, bytes):
            lang = lang.decode("ascii", "replace").lstrip("\x05")
        out.append(str(lang).lower())
    return tuple(out)


def choose_voice(voices: Sequence[VoiceInfo], preferences: Iterable[str],
                 override: str = "") -> VoiceInfo | None:
    """The configured voice if the engine has it, else the best by language preference."""
    if override:
        want = override.lower()
        for v in voices:
            if want in (v.id.lower(), v.name.lower()):
                return v
        log.warning("voice %r is not installed; choosing one by language", override)
    for pref in preferences:
        for v in voices:
            vid, name = v.id.lower(), v.name.lower()
            if (pref == vid or vid.endswith("/" + pref) or pref in v.languages
                    or (len(pref) > 3 and (pref in name or pref in vid))):
                return v
    return None


class Synth:
    """Renders sentences to WAV clips with pyttsx3 (one engine, one thread)."""

    def __init__(self, settings: AnnounceSettings) -> None:
        import pyttsx3

        self._engine: Any = pyttsx3.init()
        self._owner = threading.get_ident()
        self._voices = [VoiceInfo(str(v.id), str(v.name or ""), _languages(v.languages))
                        for v in self._engine.getProperty("voices")]
        self._default_rate = int(self._engine.getProperty("rate") or 200)
        self._tmp = Path(tempfile.mkdtemp(prefix="board-voice-"))
        self._settings = settings
        self._picked: dict[str, VoiceInfo | None] = {}
        self.configure(settings)

    def configure(self, settings: AnnounceSettings) -> None:
        """Apply new settings (voice overrides, rate) from a fresh snapshot."""
        self._settings = settings
        self._picked = {
            "zh": choose_voice(self._voices, ZH_PREFERENCES, settings.voice_zh),
            "en": choose_voice(self._voices, EN_PREFERENCES, settings.voice_en),
        }
        if self._picked["zh"] is None:
            log.warning("no Chinese voice installed: announcements will be unintelligible")

    def voice_for(self, lang: str) -> VoiceInfo | None:
        return self._picked.get(lang)

    def render(self, text: str, lang: str) -> audio.Clip:
        """One sentence to a clip: one save_to_file per runAndWait, never say()."""
        if threading.get_ident() != self._owner:
            raise RuntimeError("Synth used from a thread that did not create it")
        voice = self._picked.get(lang)
        if voice is not None:
            self._engine.setProperty("voice", voice.id)
        rate = self._settings.rate or self._default_rate
        self._engine.setProperty("rate", rate)
        target = self._tmp / f"speech-{lang}.wav"
        target.unlink(missing_ok=True)
        with contextlib.redirect_stdout(io.StringIO()):  # "Audio saved to ..." noise
            self._engine.save_to_file(text, str(target))
            self._engine.runAndWait()
        if not target.exists():
            raise RuntimeError(f"speech engine wrote no audio for {text!r}")
        return audio.read_wav(target)

    def announcement(self, number: str, counter: int) -> audio.Clip:
        """Chime, the Chinese sentence `repeat` times, then English if configured."""
        s = self._settings
        zh = self.render(announcement_zh(number, counter, s.template), "zh")
        parts: list[audio.Clip] = []
        if s.chime:
            parts += [audio.chime(zh.rate), audio.silence(zh.rate, 0.25)]
        for i in range(s.repeat):
            if i:
                parts.append(audio.silence(zh.rate, s.pause_seconds))
            parts.append(zh)
        if s.english:
            en = self.render(announcement_en(number, counter, s.template_en), "en")
            parts += [audio.silence(zh.rate, s.pause_seconds), en]
        parts.append(audio.silence(zh.rate, 0.3))  # let the last syllable ring out
        return audio.join(parts)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._engine.stop()
        for f in self._tmp.glob("*"):
            f.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self._tmp.rmdir()


def say_to(path: Path, number: str, counter: int, settings: AnnounceSettings) -> audio.Clip:
    """Render one announcement to a WAV file (speaker tests by installers, and tests)."""
    synth = Synth(settings)
    try:
        clip = synth.announcement(number, counter)
    finally:
        synth.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    audio.write_wav(clip, path)
    return clip
