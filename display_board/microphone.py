"""Microphones for `display-board record-voice`, chosen by what this PC has.

- sounddevice (the `recording` extra: pip install 'yichuang-queue[recording]'), which
  works the same on Windows, macOS and Linux;
- a recording command: `arecord` (ALSA, Linux) or `sox -d` (any OS with SoX);
- WAV files played in as the microphone (--mic files:DIR), for tests and for clips a
  studio recorded elsewhere.

Each yields mono float32 blocks of BLOCK_SECONDS until it is closed or runs dry.
Only subprocess and the standard library here: no POSIX-only calls.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from display_board.voice_pack import Signal, read_signal

BLOCK_SECONDS = 0.05


class MicrophoneError(RuntimeError):
    pass


class Microphone(Protocol):
    rate: int
    name: str

    def blocks(self) -> Iterator[Signal]:
        """Blocks of one take, from now until the caller stops iterating."""
        ...


class SoundDeviceMicrophone:
    def __init__(self, rate: int) -> None:
        try:
            import sounddevice
        except ImportError as exc:  # also: PortAudio library missing
            raise MicrophoneError(f"sounddevice is not installed ({exc})") from None
        self._sd: Any = sounddevice
        self.rate = rate
        self.name = "sounddevice"

    def blocks(self) -> Iterator[Signal]:
        n = int(self.rate * BLOCK_SECONDS)
        try:
            with self._sd.InputStream(samplerate=self.rate, channels=1,
                                      dtype="float32") as stream:
                while True:
                    data, _overflowed = stream.read(n)
                    yield np.asarray(data, dtype=np.float32).reshape(-1)
        except self._sd.PortAudioError as exc:
            raise MicrophoneError(f"microphone: {exc}") from None


def command_for(tool: str, rate: int) -> list[str]:
    """A command writing raw 16-bit mono PCM at `rate` from the default input to stdout."""
    if tool == "arecord":
        return ["arecord", "-q", "-t", "raw", "-f", "S16_LE", "-c", "1", "-r", str(rate)]
    if tool == "sox":
        return ["sox", "-q", "-d", "-t", "raw", "-b", "16", "-e", "signed-integer",
                "-L", "-c", "1", "-r", str(rate), "-"]
    raise MicrophoneError(f"unknown recording command {tool!r}")


class CommandMicrophone:
    def __init__(self, argv: list[str], rate: int) -> None:
        if shutil.which(argv[0]) is None:
            raise MicrophoneError(f"{argv[0]} is not installed")
        self._argv = argv
        self.rate = rate
        self.name = argv[0]

    def blocks(self) -> Iterator[Signal]:
        n = int(self.rate * BLOCK_SECONDS) * 2
        proc = subprocess.Popen(self._argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL)
        assert proc.stdout is not None
        try:
            while True:
                raw = proc.stdout.read(n)
                if len(raw) < 2:
                    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                    raise MicrophoneError(f"{self.name} stopped: {err.strip()[-160:]}")
                pcm = np.frombuffer(raw[:len(raw) // 2 * 2], dtype="<i2")
                yield pcm.astype(np.float32) / 32768.0
        finally:
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(2)
            if proc.poll() is None:
                proc.kill()


class WavFilesMicrophone:
    """Each take plays the next WAV file of a folder (sorted by name) as the input."""

    def __init__(self, folder: Path, rate: int) -> None:
        self._files = sorted(p for p in folder.glob("*.wav") if p.is_file())
        if not self._files:
            raise MicrophoneError(f"no WAV files in {folder}")
        self.rate = rate
        self.name = f"files:{folder}"
        self.takes = 0

    def blocks(self) -> Iterator[Signal]:
        if self.takes >= len(self._files):
            raise MicrophoneError("no more WAV files to play in as the microphone")
        signal = read_signal(self._files[self.takes], self.rate)
        self.takes += 1
        n = int(self.rate * BLOCK_SECONDS)
        for start in range(0, signal.size, n):
            yield signal[start:start + n]


def open_microphone(spec: str, rate: int) -> Microphone:
    """--mic: auto | sounddevice | arecord | sox | files:DIR."""
    if spec.startswith("files:"):
        return WavFilesMicrophone(Path(spec.removeprefix("files:")), rate)
    if spec == "sounddevice":
        return SoundDeviceMicrophone(rate)
    if spec in ("arecord", "sox"):
        return CommandMicrophone(command_for(spec, rate), rate)
    if spec != "auto":
        raise MicrophoneError(f"--mic must be auto, sounddevice, arecord, sox or files:DIR, "
                              f"got {spec!r}")
    errors = []
    for choice in ("sounddevice", *(("arecord",) if sys.platform.startswith("linux") else ()),
                   "sox"):
        try:
            return open_microphone(choice, rate)
        except MicrophoneError as exc:
            errors.append(str(exc))
    raise MicrophoneError("no microphone: " + "; ".join(errors))
