"""Optional speech engines besides pyttsx3: a locally installed engine run as a command.

A hall that licenses a neural Mandarin voice (docs/voice.md lists what to check in its
licence) usually gets a command-line synthesiser. `[announce] engine = "command"` and

    engine_command = "my-tts --voice zh-female --out {wav} --text {text}"

make the board run it for each sentence: {text} is the sentence, {wav} the file to
write. The command line is split with shlex rules (quote paths with spaces) and run
without a shell, so a sentence can never be read as a command. Never the default: the
default is the PC's own pyttsx3 voice; nothing here is installed with the board.
"""

from __future__ import annotations

import contextlib
import logging
import shlex
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

from display_board import audio
from display_board.settings import AnnounceSettings
from display_board.speech_text import announcement_en, announcement_zh

log = logging.getLogger(__name__)
COMMAND_TIMEOUT = 20.0  # seconds for one sentence


class EngineError(RuntimeError):
    pass


def command_line(template: str, text: str, wav: Path) -> list[str]:
    """The argv for one sentence; {text} and {wav} may stand anywhere in an argument."""
    try:
        parts = shlex.split(template, posix=True)
    except ValueError as exc:
        raise EngineError(f"engine_command is not a valid command line: {exc}") from None
    if not parts:
        raise EngineError("engine_command is empty")
    if not any("{wav}" in p for p in parts):
        raise EngineError("engine_command must name the output file as {wav}")
    return [p.replace("{wav}", str(wav)).replace("{text}", text) for p in parts]


class CommandEngine:
    """Engine (speaker.Engine) that runs engine_command once per sentence."""

    def __init__(self, settings: AnnounceSettings) -> None:
        self._settings = settings
        self._tmp = Path(tempfile.mkdtemp(prefix="board-engine-"))
        argv = command_line(settings.engine_command, "", self._tmp / "probe.wav")
        if shutil.which(argv[0]) is None:
            raise EngineError(f"engine_command: {argv[0]!r} is not installed")

    def configure(self, settings: AnnounceSettings) -> None:
        self._settings = settings

    def voice_for(self, lang: str) -> str:
        return f"command:{self._settings.engine_command.split()[0]}"

    def render(self, text: str, lang: str) -> audio.Clip:
        target = self._tmp / f"speech-{lang}.wav"
        target.unlink(missing_ok=True)
        argv = command_line(self._settings.engine_command, text, target)
        try:
            done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, timeout=COMMAND_TIMEOUT,
                                  check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EngineError(f"{argv[0]}: {exc}") from None
        if done.returncode != 0:
            last = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
            raise EngineError(f"{argv[0]} exit {done.returncode}: {last[0][:160]}")
        try:
            return audio.read_wav(target)
        except (OSError, EOFError, wave.Error, ValueError) as exc:
            raise EngineError(f"{argv[0]} wrote no readable WAV: {exc}") from None

    def sentence(self, number: str, counter: int, lang: str) -> audio.Clip:
        s = self._settings
        text = (announcement_zh(number, counter, s.template) if lang == "zh"
                else announcement_en(number, counter, s.template_en))
        return self.render(text, lang)

    def close(self) -> None:
        for f in self._tmp.glob("*"):
            f.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self._tmp.rmdir()
