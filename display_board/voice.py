"""Speech synthesis: espeak-ng driven directly on Linux, pyttsx3 for the other engines.

pyttsx3 2.99 writes only the LAST `save_to_file` queued before a `runAndWait`, keeps the
save target so a later `say()` overwrites a file instead of playing, ignores unknown
voice ids silently and prints "Audio saved to ..." on stdout. So: exactly one
`save_to_file` per `runAndWait`, voice ids checked against the engine's own list, and
the WAV played by us (audio.SystemPlayer). One engine per process, created and used on
its own thread (SpeechEngine), never destroyed. With espeak-ng, pyttsx3 only finds and
initialises the library; the samples come from espeak-ng's callback (EspeakTap).

The voice is picked by language from a preference list (espeak-ng: `sit/cmn-latn-pinyin`,
because its `sit/cmn` reads Chinese characters as English-spelled pinyin; Windows SAPI5:
Huihui, Yaoyao, Kangkang ...), and the hall's config may name one explicitly.
"""

from __future__ import annotations

import array
import contextlib
import io
import logging
import queue
import tempfile
import threading
import wave
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from display_board import audio
from display_board.settings import AnnounceSettings
from display_board.speech_text import (
    announcement_en,
    announcement_zh,
    announcement_zh_groups,
)
from queue_common.wav_files import wait_for_wav

log = logging.getLogger(__name__)
T = TypeVar("T")
SYNTH_TIMEOUT = 15.0  # seconds for one sentence; espeak needs ~20 ms, SAPI5 ~100 ms
QUIET_SECONDS = 0.5  # see _wait_for_audio
RENDER_ATTEMPTS = 4
MIN_SENTENCE_SECONDS = 0.3  # a call sentence lasts ~2.8 s (A012 to window 3, espeak)
MIN_CLIP_SECONDS = 0.05  # one syllable ("A" of a voice pack cut from the engine)


@dataclass(frozen=True)
class Tuning:
    """How espeak-ng speaks a call, chosen with bench/voice.py (docs/voice.md)."""

    rate: int  # words per minute
    pitch: int  # 0-100
    word_gap: int  # 10 ms units between words
    group_pause: float  # seconds between 请+letter | digits | the rest
    variant: str  # an espeak-ng voice variant ("" = the plain voice)


ESPEAK_TUNING = Tuning(rate=0, pitch=-1, word_gap=-1, group_pause=0.0, variant="")
OTHER_TUNING = Tuning(rate=0, pitch=-1, word_gap=-1, group_pause=0.0, variant="")

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


def _read_clip(path: Path) -> audio.Clip | None:
    try:
        return audio.read_wav(path)
    except (OSError, EOFError, wave.Error):
        return None


def _wait_for_audio(finished: threading.Event, target: Path) -> None:
    """Until the engine says the utterance is done; else until the file has looked
    complete and unchanged for QUIET_SECONDS (a driver that sends no finished; see
    queue_common.wav_files: not sooner, or a pause of the writer cuts the sentence)."""
    if not wait_for_wav(target, SYNTH_TIMEOUT, QUIET_SECONDS, finished):
        log.warning("speech engine finished no audio in %ss", SYNTH_TIMEOUT)


def _voices_and_rate(engine: Any) -> tuple[list[VoiceInfo], int]:
    voices = [VoiceInfo(str(v.id), str(v.name or ""), _languages(v.languages))
              for v in engine.getProperty("voices")]
    return voices, int(engine.getProperty("rate") or 200)


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


class SpeechEngine:
    """The process's one pyttsx3 engine, on its own thread, never destroyed.

    pyttsx3 engines must not come and go: when an old espeak engine is garbage
    collected its driver calls espeak's process-wide SetSynthCallback(None) and silences
    the engine in use (seen in tests: "speech engine wrote no audio"). SAPI5 on Windows
    is a COM object that belongs to the thread that created it. So one thread creates
    the one engine and runs every synthesis job; callers wait for the result.
    """

    _instance: SpeechEngine | None = None
    _guard = threading.Lock()

    @classmethod
    def get(cls) -> SpeechEngine:
        with cls._guard:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[Callable[[Any], Any], Future[Any]]] = queue.Queue()
        self.finished = threading.Event()  # set by the engine when an utterance is done
        self.espeak: EspeakTap | None = None  # espeak-ng driven directly (see EspeakTap)
        threading.Thread(target=self._run, name="speech-engine", daemon=True).start()

    def run(self, job: Callable[[Any], T], timeout: float = 60.0) -> T:
        """job(engine) on the engine's thread; its result or its exception."""
        future: Future[T] = Future()
        self._jobs.put((job, future))
        return future.result(timeout)

    def _run(self) -> None:
        engine: Any = None
        error: BaseException | None = None
        try:
            import pyttsx3

            engine = pyttsx3.init()
            engine.connect("finished-utterance", lambda **_kw: self.finished.set())
            self.espeak = EspeakTap.attach(engine)
        except Exception as exc:  # no espeak-ng / SAPI5: every job reports it
            error = exc
        while True:
            job, future = self._jobs.get()
            if error is not None:
                future.set_exception(RuntimeError(f"no speech engine: {error}"))
                continue
            try:
                future.set_result(job(engine))
            except BaseException as exc:
                future.set_exception(exc)


def _engine_facts(engine: Any) -> tuple[list[VoiceInfo], int, bool, int]:
    """Voices, default rate, whether it is espeak-ng, and its default pitch."""
    voices, rate = _voices_and_rate(engine)
    driver = getattr(getattr(getattr(engine, "proxy", None), "_module", None), "__name__", "")
    espeak = str(driver).endswith(".espeak")
    pitch = int(engine.getProperty("pitch") or 50) if espeak else -1
    return voices, rate, espeak, pitch


ESPEAK_WORDGAP = 7  # espeak_PARAMETER espeakWORDGAP in speak_lib.h
ESPEAK_RATE = 22050  # the sample rate of espeak-ng's voices


class EspeakTap:
    """espeak-ng driven directly, its samples taken from its own callback.

    pyttsx3's espeak driver was seen to write now and then a complete WAV of no samples
    (in runs of several in a row on a busy machine: a silent call, or a voice pack that
    could not be cut): its command queue is pumped from espeak's callback thread and
    from the caller's at once, so one utterance's end can meet the next one's start.
    espeak-ng itself, asked here through the same library binding, gave audio for every
    one of 600 short clips in a row. pyttsx3 still finds the library, lists the voices
    and initialises espeak-ng; the synthesis goes around its queue.
    """

    def __init__(self) -> None:
        from pyttsx3.drivers import _espeak

        self._lib = _espeak
        self._chunks: list[bytes] = []
        self._done = threading.Event()
        self._callback = self._on_synth  # held: ctypes keeps only a weak hold on it
        _espeak.SetSynthCallback(self._callback)

    @classmethod
    def attach(cls, engine: Any) -> EspeakTap | None:
        driver = getattr(getattr(engine, "proxy", None), "_driver", None)
        if driver is None or not type(driver).__module__.endswith(".espeak"):
            return None
        return cls()

    def _on_synth(self, wav: Any, numsamples: int, events: Any) -> int:
        import ctypes

        if numsamples > 0:
            self._chunks.append(ctypes.string_at(wav, numsamples * ctypes.sizeof(ctypes.c_short)))
        i = 0
        while events[i].type != self._lib.EVENT_LIST_TERMINATED:
            if events[i].type == self._lib.EVENT_MSG_TERMINATED:
                self._done.set()
            i += 1
        return 0

    def synth(self, text: str, voice_id: str | None, rate: int, pitch: int, gap: int
              ) -> audio.Clip | None:
        """One utterance's samples; None when espeak-ng did not finish in time."""
        lib = self._lib
        if voice_id:
            lib.SetVoiceByName(voice_id.encode("utf-8"))
        lib.SetParameter(lib.RATE, int(rate), 0)
        lib.SetParameter(lib.PITCH, int(pitch), 0)
        lib.SetParameter(ESPEAK_WORDGAP, max(0, gap), 0)
        self._chunks.clear()
        self._done.clear()
        lib.Synth(text.encode("utf-8"), flags=lib.ENDPAUSE | lib.CHARS_UTF8)
        if not self._done.wait(SYNTH_TIMEOUT):
            log.warning("espeak-ng finished no audio in %ss", SYNTH_TIMEOUT)
            return None
        samples: array.array[int] = array.array("h")
        samples.frombytes(b"".join(self._chunks))
        return audio.Clip(ESPEAK_RATE, samples)



class Synth:
    """Renders sentences to WAV clips with the shared SpeechEngine."""

    def __init__(self, settings: AnnounceSettings) -> None:
        self._engine = SpeechEngine.get()
        (self._voices, self._default_rate, self._espeak,
         self._default_pitch) = self._engine.run(_engine_facts)
        self._tmp = Path(tempfile.mkdtemp(prefix="board-voice-"))
        self._settings = settings
        self._picked: dict[str, VoiceInfo | None] = {}
        self._variant = ""
        self._renders = 0
        self.configure(settings)

    def configure(self, settings: AnnounceSettings) -> None:
        """Apply new settings (voice overrides, rate) from a fresh snapshot."""
        self._settings = settings
        zh_voice, _, variant = settings.voice_zh.partition("+")  # espeak: voice+variant
        self._variant = variant.strip()
        self._picked = {
            "zh": choose_voice(self._voices, ZH_PREFERENCES, zh_voice),
            "en": choose_voice(self._voices, EN_PREFERENCES, settings.voice_en),
        }
        if self._picked["zh"] is None:
            log.warning("no Chinese voice installed: announcements will be unintelligible")

    def voice_for(self, lang: str) -> VoiceInfo | None:
        return self._picked.get(lang)

    @property
    def tuning(self) -> Tuning:
        """The settings' values, the tuned defaults where a setting says "default"."""
        base = ESPEAK_TUNING if self._espeak else OTHER_TUNING
        s = self._settings
        return Tuning(rate=s.rate or base.rate,
                      pitch=s.pitch if s.pitch >= 0 else base.pitch,
                      word_gap=s.word_gap if s.word_gap >= 0 else base.word_gap,
                      group_pause=s.group_pause if s.group_pause >= 0 else base.group_pause,
                      variant=self._variant or base.variant)

    def render(self, text: str, lang: str, *, min_seconds: float = MIN_SENTENCE_SECONDS
               ) -> audio.Clip:
        """One sentence to a clip (pyttsx3: one save_to_file per runAndWait, never say())."""
        voice = self._picked.get(lang)
        tuning = self.tuning
        rate = tuning.rate or self._default_rate
        voice_id = voice.id if voice is not None else None
        if voice_id and self._espeak and lang == "zh" and tuning.variant:
            voice_id = f"{voice_id}+{tuning.variant}"
        espeak, pitch = self._espeak, (tuning.pitch if lang == "zh" else -1)
        gap = tuning.word_gap if lang == "zh" else -1
        if espeak:
            # Speed and pitch as espeak-ng embedded commands in the text itself: set as
            # properties they were seen to reach the sentence after the next one now
            # and then (a call read at the previous settings); in the text they always
            # apply to it.
            text = (f"\x01{int(rate)}S\x01{pitch if pitch >= 0 else self._default_pitch}P"
                    + text)

        def job(engine: Any, target: Path) -> None:
            if voice_id is not None:
                engine.setProperty("voice", voice_id)
            engine.setProperty("rate", rate)
            with contextlib.redirect_stdout(io.StringIO()):  # "Audio saved to ..." noise
                self._engine.finished.clear()
                engine.save_to_file(text, str(target))
                engine.runAndWait()
                # espeak's RETRIEVAL mode synthesises on its own thread and pyttsx3's
                # runAndWait may return before the file is written: wait for the
                # engine's finished-utterance (sent after the file is closed), or for
                # a complete file where a driver (SAPI5) writes it synchronously.
                _wait_for_audio(self._engine.finished, target)

        tap = self._engine.espeak
        if tap is not None:
            return self._render_espeak(tap, text, voice_id, rate, pitch, gap, min_seconds)
        for _attempt in range(RENDER_ATTEMPTS):
            # A new file for every attempt: under load the driver has been seen to
            # synthesise the previous text again (its old settings) into the previous
            # file; a shared name made that the new sentence (a call read at the
            # previous call's rate, or worse, the previous call).
            self._renders += 1
            target = self._tmp / f"speech-{lang}-{self._renders}.wav"
            self._engine.run(lambda engine, target=target: job(engine, target))
            clip = _read_clip(target)
            for old in self._tmp.glob(f"speech-{lang}-*.wav"):
                old.unlink(missing_ok=True)
            if clip is not None and clip.seconds >= min_seconds:
                return clip
            # A complete WAV holding no samples has been seen from pyttsx3's drivers;
            # a silent call is worse than a late one.
            log.warning("speech engine wrote %s for %r (attempt %d of %d)",
                        "no file" if clip is None else f"{clip.seconds:.2f} s", text,
                        _attempt + 1, RENDER_ATTEMPTS)
        raise RuntimeError(f"speech engine wrote no audio for {text!r}")

    def _render_espeak(self, tap: EspeakTap, text: str, voice_id: str | None, rate: int,
                       pitch: int, gap: int, min_seconds: float) -> audio.Clip:
        pitch = pitch if pitch >= 0 else self._default_pitch
        for attempt in range(RENDER_ATTEMPTS):
            clip = self._engine.run(lambda _engine: tap.synth(text, voice_id, rate, pitch, gap))
            if clip is not None and clip.seconds >= min_seconds:
                return clip
            log.warning("espeak-ng gave %s for %r (attempt %d of %d)",
                        "nothing" if clip is None else f"{clip.seconds:.2f} s", text,
                        attempt + 1, RENDER_ATTEMPTS)
        raise RuntimeError(f"speech engine wrote no audio for {text!r}")

    def clip(self, text: str, lang: str) -> audio.Clip:
        """A short piece (a voice pack clip cut from this engine): one syllable is enough."""
        return self.render(text, lang, min_seconds=MIN_CLIP_SECONDS)

    def sentence(self, number: str, counter: int, lang: str) -> audio.Clip:
        """The call's sentence; in Chinese with the tuned pauses between its groups."""
        s = self._settings
        if lang != "zh":
            return self.render(announcement_en(number, counter, s.template_en), lang)
        pause = self.tuning.group_pause
        groups = announcement_zh_groups(number, counter, s.template) if pause > 0 else []
        if len(groups) < 2:
            return self.render(announcement_zh(number, counter, s.template), "zh")
        parts: list[audio.Clip] = []
        for i, text in enumerate(groups):
            clip = self.render(text, "zh", min_seconds=MIN_CLIP_SECONDS)
            if i:
                parts.append(audio.silence(clip.rate, pause))
            parts.append(clip)
        return audio.join(parts)

    def announcement(self, number: str, counter: int) -> audio.Clip:
        """Chime, the Chinese sentence `repeat` times, then English if configured."""
        zh = self.sentence(number, counter, "zh")
        en = self.sentence(number, counter, "en") if self._settings.english else None
        return assemble(zh, en, self._settings)

    def close(self) -> None:
        for f in self._tmp.glob("*"):
            f.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self._tmp.rmdir()


def assemble(zh: audio.Clip, en: audio.Clip | None, s: AnnounceSettings) -> audio.Clip:
    """One announcement as the hall hears it: chime, the Chinese sentence `repeat` times
    with a pause between, the English one if any, and a short ring-out."""
    parts: list[audio.Clip] = []
    if s.chime:
        parts += [audio.chime(zh.rate), audio.silence(zh.rate, 0.25)]
    for i in range(s.repeat):
        if i:
            parts.append(audio.silence(zh.rate, s.pause_seconds))
        parts.append(zh)
    if en is not None:
        parts += [audio.silence(zh.rate, s.pause_seconds), en]
    parts.append(audio.silence(zh.rate, 0.3))  # let the last syllable ring out
    return audio.join(parts)


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
