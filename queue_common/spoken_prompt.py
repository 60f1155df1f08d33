"""A short fixed sentence spoken on a desk device: the rating pad's 请您对本次服务进行评价.

The hall board has its own announcer (calls, chimes, repeats); a pad only needs one
sentence now and then, so this is the smallest thing that says it: one pyttsx3 engine
on a thread of its own (SAPI5 on Windows plays it itself, espeak on Linux too), made
on first use and kept for the life of the process (an espeak engine that is garbage
collected silences the others). It is optional: without pyttsx3, a voice or a sound
device the pad works silently, and says why once in its log.

Never called on the Tk thread's time: `say` only queues the sentence.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from queue_common.wav_files import wait_for_wav

log = logging.getLogger(__name__)

# A voice whose id, name or languages contain one of these speaks Chinese.
QUIET_SECONDS = 0.3  # a rendered file unchanged this long is written (wav_files)
ZH_VOICES = ("cmn", "huihui", "yaoyao", "kangkang", "xiaoxiao", "tingting", "zh")


def pick_voice(engine: Any, wanted: tuple[str, ...] = ZH_VOICES) -> str | None:
    """The id of the first installed voice matching `wanted` (best first)."""
    voices = list(engine.getProperty("voices") or [])
    for want in wanted:
        for voice in voices:
            langs = " ".join(str(x).lower() for x in (voice.languages or []))
            if want in str(voice.id).lower() or want in str(voice.name or "").lower() \
                    or want in langs:
                return str(voice.id)
    return None


class PromptVoice:
    """Speaks queued sentences one after the other; the newest wins when it falls behind."""

    def __init__(self, engine_factory: Callable[[], Any] | None = None) -> None:
        self._factory = engine_factory
        self._jobs: queue.Queue[tuple[str, Path | None, threading.Event | None]] = (
            queue.Queue())
        self._thread: threading.Thread | None = None
        self.failed: str | None = None  # why there is no voice (logged once)

    def say(self, text: str) -> None:
        """Speak text soon (never waits)."""
        if self.failed is None:
            self._start()
            self._jobs.put((text, None, None))

    def render(self, text: str, path: Path, timeout: float = 20.0) -> bool:
        """Write text as a WAV file (installers and tests check the voice this way)."""
        self._start()
        done = threading.Event()
        self._jobs.put((text, path, done))
        deadline = time.monotonic() + timeout
        while not done.wait(0.05):  # an engine that failed to start answers no job
            if self.failed is not None or time.monotonic() > deadline:
                return False
        # espeak's driver may still be finishing the file when runAndWait returns (seen
        # under load: a WAV whose header did not yet say how long it is)
        written = wait_for_wav(path, max(0.0, deadline - time.monotonic()), QUIET_SECONDS)
        return written and self.failed is None

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="prompt-voice", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            if self._factory is not None:
                engine = self._factory()
            else:
                import pyttsx3

                engine = pyttsx3.init()
            voice = pick_voice(engine)
            if voice is not None:
                engine.setProperty("voice", voice)
        except Exception as exc:  # no pyttsx3, no driver: the pad stays silent
            self._fail(f"no speech engine: {exc}")
            return
        while True:
            text, path, done = self._jobs.get()
            while path is None and not self._jobs.empty():  # fell behind: say the newest
                text, path, done = self._jobs.get()
            try:
                if path is None:
                    engine.say(text)
                else:
                    engine.save_to_file(text, str(path))
                engine.runAndWait()
            except Exception as exc:
                self._fail(f"speaking failed: {exc}")
            finally:
                if done is not None:
                    done.set()

    def _fail(self, why: str) -> None:
        if self.failed is None:
            log.warning("voice prompt off: %s", why)
        self.failed = why
        while not self._jobs.empty():  # release anyone waiting on a render
            _text, _path, done = self._jobs.get()
            if done is not None:
                done.set()


_shared: PromptVoice | None = None


def prompt_voice() -> PromptVoice:
    """The process's one prompt voice (see the module docstring)."""
    global _shared
    if _shared is None:
        _shared = PromptVoice()
    return _shared
