"""WAV plumbing for announcements: a generated chime, joining clips, and playing a file.

The chime is synthesised with the standard library (no binary assets to ship or lose).
Joining chime + speech + pauses into ONE file means one announcement is one playback,
so two announcements can never overlap. Playback is blocking and belongs to the
announcer's worker thread, never to the Tk thread.
"""

from __future__ import annotations

import array
import functools
import logging
import math
import shutil
import subprocess
import sys
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

SAMPLE_WIDTH = 2  # 16-bit PCM everywhere


@dataclass(frozen=True)
class Clip:
    """Mono 16-bit PCM samples at one rate."""

    rate: int
    samples: array.array[int]

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate if self.rate else 0.0


@functools.lru_cache(maxsize=4)
def chime(rate: int = 22050, volume: float = 0.45) -> Clip:
    """A soft two-tone "ding-dong" (E5 then C5, ~0.9 s) announcing a call.

    Cached: computing it takes ~20 ms of pure Python, which would otherwise hold the
    GIL against the board's repaint on every call.
    """
    out = array.array("h")
    for freq, seconds in ((659.25, 0.42), (523.25, 0.55)):
        n = int(rate * seconds)
        for i in range(n):
            t = i / rate
            # Fast attack, exponential decay, plus a quiet octave for a bell-like tone.
            envelope = min(1.0, i / (0.01 * rate)) * math.exp(-4.0 * t)
            value = math.sin(2 * math.pi * freq * t) + 0.3 * math.sin(4 * math.pi * freq * t)
            out.append(int(32767 * volume * envelope * value / 1.3))
    return Clip(rate, out)


def silence(rate: int, seconds: float) -> Clip:
    return Clip(rate, array.array("h", bytes(2 * int(rate * seconds))))


def read_wav(path: Path) -> Clip:
    """Read a PCM WAV as mono 16-bit (stereo is mixed down, 8-bit widened)."""
    with wave.open(str(path), "rb") as wav:
        rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
        raw = wav.readframes(wav.getnframes())
    if width == 1:
        samples = array.array("h", ((b - 128) << 8 for b in raw))
    elif width == 2:
        samples = array.array("h")
        samples.frombytes(raw)
        if sys.byteorder == "big":
            samples.byteswap()
    else:
        raise ValueError(f"{path}: unsupported sample width {width}")
    if channels > 1:
        samples = array.array("h", (
            sum(samples[i:i + channels]) // channels
            for i in range(0, len(samples), channels)))
    return Clip(rate, samples)


def resample(clip: Clip, rate: int) -> Clip:
    """Linear resampling, good enough for joining speech voices of different rates."""
    if clip.rate == rate or not clip.samples:
        return Clip(rate, clip.samples)
    ratio = clip.rate / rate
    n = int(len(clip.samples) / ratio)
    src = clip.samples
    last = len(src) - 1
    out = array.array("h", bytes(2 * n))
    for i in range(n):
        pos = i * ratio
        j = int(pos)
        frac = pos - j
        a = src[min(j, last)]
        b = src[min(j + 1, last)]
        out[i] = int(a + (b - a) * frac)
    return Clip(rate, out)


def join(clips: list[Clip]) -> Clip:
    """Concatenate clips at the first clip's rate."""
    if not clips:
        return Clip(22050, array.array("h"))
    rate = clips[0].rate
    out = array.array("h")
    for clip in clips:
        out.extend(resample(clip, rate).samples)
    return Clip(rate, out)


def write_wav(clip: Clip, path: Path) -> None:
    samples = clip.samples
    if sys.byteorder == "big":
        samples = array.array("h", samples)
        samples.byteswap()
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(SAMPLE_WIDTH)
        wav.setframerate(clip.rate)
        wav.writeframes(samples.tobytes())


def peak(clip: Clip) -> int:
    """Largest absolute sample (0 = silence)."""
    return max((abs(s) for s in clip.samples), default=0)


class Player(Protocol):
    """Plays one WAV file to the end (blocking); called from the announcer worker."""

    def play(self, path: Path) -> None: ...


class SystemPlayer:
    """winsound on Windows, afplay on macOS, paplay or aplay on Linux.

    pyttsx3's own playback fails silently without aplay, so the
    board plays its rendered WAV itself and logs once when no player exists.
    """

    def __init__(self, command: list[str] | None = None) -> None:
        """command: a player to run with the WAV's path appended (default: found)."""
        self._command: list[str] | None = command
        self._warned = False
        self.last_error = ""  # the last playback failure, for the board's health report
        if command is None and sys.platform != "win32":
            for cmd in (["aplay", "-q"], ["paplay"], ["afplay"]):
                if shutil.which(cmd[0]):
                    self._command = cmd
                    break

    @property
    def available(self) -> bool:
        return sys.platform == "win32" or self._command is not None

    def play(self, path: Path) -> None:
        if sys.platform == "win32" and self._command is None:
            import winsound

            winsound.PlaySound(str(path), winsound.SND_FILENAME)
            return
        if self._command is None:
            self.last_error = "no audio player (aplay/paplay/afplay)"
            if not self._warned:
                log.warning("no audio player found (paplay/aplay/afplay): calls are silent")
                self._warned = True
            return
        try:
            done = subprocess.run([*self._command, str(path)], check=False, timeout=120,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.warning("audio playback failed: %s", exc)
            self.last_error = str(exc)[:200]
            return
        if done.returncode == 0:
            self.last_error = ""
            return
        lines = done.stderr.decode(errors="replace").strip().splitlines()
        self.last_error = (lines[-1] if lines else f"{self._command[0]} exit "
                           f"{done.returncode}")[:200]
        if not self._warned:
            log.warning("%s failed: %s", self._command[0], self.last_error)
            self._warned = True
