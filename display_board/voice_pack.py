"""A voice pack: a folder of recorded clips plus manifest.toml, and the sound work on them.

    PACK_DIR/manifest.toml    name, sample rate, loudness, units, licence, [clips] and
                              [clips_en] (text -> file)
    PACK_DIR/clips/*.wav      one clip per text ("请A", "零一二", "号到三号窗口办理" ...)

The manifest maps each clip's text (call_units.key_of) to its file, so a pack can be
recorded at any unit size and checked against the calls a hall makes. Clips are read
when first needed and kept in a small cache: a phrase pack is ~1,100 clips (~35 MB),
more than a board should hold in memory, and reading three clips from the disk cache
takes well under a millisecond.

The signal helpers (trim, loudness, fades, joins) work on float32 numpy arrays in
[-1, 1]; audio.Clip (16-bit) is what leaves this module.
"""

from __future__ import annotations

import array
import json
import logging
import math
import sys
import threading
import tomllib
import wave
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from display_board import audio

log = logging.getLogger(__name__)

Signal = npt.NDArray[np.float32]
MANIFEST = "manifest.toml"
CLIP_DIR = "clips"
DEFAULT_RATE = 24000
DEFAULT_LOUDNESS_DBFS = -20.0  # RMS of the voiced part; leaves ~14 dB for peaks
FADE_SECONDS = 0.006  # raised-cosine fade at every clip edge: no click at a join
FRAME_SECONDS = 0.02  # level analysis frames
SILENCE_DBFS = -45.0  # a frame quieter than this is not voice
CLIP_LEVEL = 0.99  # |sample| at or above this is clipped (full scale is 1.0)
CACHE_CLIPS = 32  # ~10 calls' clips, ~3 MB


class PackError(Exception):
    """A pack that cannot be used: which file and what is wrong."""


@dataclass(frozen=True)
class Manifest:
    name: str = ""
    sample_rate: int = DEFAULT_RATE
    loudness_dbfs: float = DEFAULT_LOUDNESS_DBFS
    units: str = "phrase"
    licence: str = ""  # who recorded it and under which terms (docs/voice.md)
    template: str = ""  # the Chinese template the clips were planned for
    template_en: str = ""
    clips: dict[str, str] = field(default_factory=dict)  # Chinese text -> file (relative)
    clips_en: dict[str, str] = field(default_factory=dict)  # English text -> file

    def languages(self) -> tuple[str, ...]:
        return tuple(lang for lang in ("zh", "en") if self.table(lang))

    def table(self, lang: str) -> dict[str, str]:
        return self.clips if lang == "zh" else self.clips_en if lang == "en" else {}

    def entries(self) -> list[tuple[str, str, str]]:
        """(language, text, file) of every clip, Chinese first."""
        return [(lang, t, f) for lang in ("zh", "en") for t, f in self.table(lang).items()]


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string


def write_manifest(pack_dir: Path, manifest: Manifest) -> Path:
    """manifest.toml in pack_dir (written whole, then renamed: never half a manifest)."""
    lines = ["# Voice pack manifest (display-board record-voice / check-voice)",
             f"name = {_toml_string(manifest.name)}",
             f"sample_rate = {int(manifest.sample_rate)}",
             f"loudness_dbfs = {float(manifest.loudness_dbfs)}",
             f"units = {_toml_string(manifest.units)}",
             f"licence = {_toml_string(manifest.licence)}",
             f"template = {_toml_string(manifest.template)}",
             f"template_en = {_toml_string(manifest.template_en)}",
             "", "[clips]"]
    lines += [f"{_toml_string(text)} = {_toml_string(file)}"
              for text, file in manifest.clips.items()]
    lines += ["", "[clips_en]"]
    lines += [f"{_toml_string(text)} = {_toml_string(file)}"
              for text, file in manifest.clips_en.items()]
    pack_dir.mkdir(parents=True, exist_ok=True)
    path = pack_dir / MANIFEST
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n", "utf-8")
    tmp.replace(path)
    return path


def read_manifest(pack_dir: Path) -> Manifest:
    path = pack_dir / MANIFEST
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise PackError(f"{path}: no manifest (make one with display-board "
                        "record-voice)") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PackError(f"{path}: {exc}") from None
    base = Manifest()
    values: dict[str, Any] = {}
    for key in ("name", "units", "licence", "template", "template_en"):
        if key in raw:
            if not isinstance(raw[key], str):
                raise PackError(f"{path}: {key} must be text")
            values[key] = raw[key]
    rate = raw.get("sample_rate", base.sample_rate)
    if not isinstance(rate, int) or isinstance(rate, bool) or not 8000 <= rate <= 96000:
        raise PackError(f"{path}: sample_rate must be 8000..96000, got {rate!r}")
    loud = raw.get("loudness_dbfs", base.loudness_dbfs)
    if not isinstance(loud, int | float) or isinstance(loud, bool) or not -40 <= loud <= -6:
        raise PackError(f"{path}: loudness_dbfs must be -40..-6, got {loud!r}")
    tables: dict[str, dict[str, str]] = {}
    for name in ("clips", "clips_en"):
        clips = raw.get(name, {})
        if not isinstance(clips, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in clips.items()):
            raise PackError(f"{path}: [{name}] must map texts to file names")
        for text, file in clips.items():
            rel = Path(file)
            if rel.is_absolute() or ".." in rel.parts:
                raise PackError(f"{path}: clip {text!r}: {file!r} must be inside the pack")
        tables[name] = dict(clips)
    return replace(base, sample_rate=rate, loudness_dbfs=float(loud), clips=tables["clips"],
                   clips_en=tables["clips_en"], **values)


def clip_file_name(index: int, text: str, lang: str = "zh") -> str:
    """A file name for a clip: a number plus the text where it is safe in a path."""
    safe = "".join(ch for ch in text if ch.isalnum())[:24]
    return f"{CLIP_DIR}/{lang}-{index:04d}-{safe or 'clip'}.wav"


# ----------------------------------------------------------------- signals


def to_signal(clip: audio.Clip) -> Signal:
    data = np.frombuffer(clip.samples.tobytes(), dtype="<i2" if sys.byteorder == "little"
                         else ">i2")
    return (data.astype(np.float32) / 32768.0)


def to_clip(signal: Signal, rate: int) -> audio.Clip:
    pcm = np.clip(np.round(signal * 32767.0), -32768, 32767).astype(np.int16)
    out = array.array("h")
    out.frombytes(pcm.tobytes())
    return audio.Clip(rate, out)


def read_signal(path: Path, rate: int) -> Signal:
    """A WAV file as float32 mono at `rate` (raises OSError, EOFError or wave.Error)."""
    clip = audio.read_wav(path)
    return resample(to_signal(clip), clip.rate, rate)


def write_signal(path: Path, signal: Signal, rate: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    audio.write_wav(to_clip(signal, rate), tmp)
    tmp.replace(path)


def resample(signal: Signal, rate: int, to: int) -> Signal:
    if rate == to or signal.size == 0:
        return signal
    n = int(round(signal.size * to / rate))
    positions = np.arange(n, dtype=np.float64) * (rate / to)
    return np.interp(positions, np.arange(signal.size), signal).astype(np.float32)


def dbfs(value: float) -> float:
    return 20 * math.log10(value) if value > 1e-9 else -120.0


def frame_levels(signal: Signal, rate: int) -> npt.NDArray[np.float64]:
    """RMS level (dBFS) of each FRAME_SECONDS frame."""
    n = max(1, int(rate * FRAME_SECONDS))
    frames = signal.size // n
    if frames == 0:
        return np.array([dbfs(float(np.sqrt(np.mean(signal ** 2))))] if signal.size else [])
    blocks = signal[:frames * n].astype(np.float64).reshape(frames, n)
    rms = np.sqrt(np.mean(blocks ** 2, axis=1))
    return np.asarray(20 * np.log10(np.maximum(rms, 1e-9)))


def voiced_rms_dbfs(signal: Signal, rate: int) -> float:
    """Loudness of the voice: RMS over the frames louder than SILENCE_DBFS."""
    levels = frame_levels(signal, rate)
    voiced = levels[levels > SILENCE_DBFS]
    if voiced.size == 0:
        return -120.0
    power = np.mean(10 ** (voiced / 10))
    return float(10 * np.log10(power))


def peak(signal: Signal) -> float:
    return float(np.max(np.abs(signal))) if signal.size else 0.0


def trim_silence(signal: Signal, rate: int, keep: float = 0.03) -> Signal:
    """Cut the silence before and after the voice, keeping `keep` seconds of lead-in."""
    levels = frame_levels(signal, rate)
    loud = np.nonzero(levels > SILENCE_DBFS)[0]
    if loud.size == 0:
        return signal[:0]
    n = int(rate * FRAME_SECONDS)
    start = max(0, int(loud[0]) * n - int(keep * rate))
    end = min(signal.size, (int(loud[-1]) + 1) * n + int(keep * rate))
    return signal[start:end]


def normalise(signal: Signal, rate: int, target_dbfs: float) -> Signal:
    """Scale to target_dbfs voiced loudness, never past a -1 dBFS peak."""
    level = voiced_rms_dbfs(signal, rate)
    if level <= -119.0:
        return signal
    gain = 10 ** ((target_dbfs - level) / 20)
    top = peak(signal) * gain
    if top > 0.89:  # -1 dBFS
        gain *= 0.89 / top
    return (signal * gain).astype(np.float32)


def fade_edges(signal: Signal, rate: int, seconds: float = FADE_SECONDS) -> Signal:
    n = min(int(rate * seconds), signal.size // 2)
    if n <= 0:
        return signal
    out = signal.copy()
    ramp = (0.5 - 0.5 * np.cos(np.linspace(0, math.pi, n))).astype(np.float32)
    out[:n] *= ramp
    out[-n:] *= ramp[::-1]
    return out


def join(parts: list[tuple[Signal, float]], rate: int) -> Signal:
    """Clips with the silence before each; a zero gap is a FADE_SECONDS crossfade."""
    overlap = int(rate * FADE_SECONDS)
    total = sum(s.size + int(gap * rate) for s, gap in parts)
    out = np.zeros(total + overlap, dtype=np.float32)
    pos = 0
    for i, (sig, gap) in enumerate(parts):
        if i and gap <= 0:
            pos = max(0, pos - min(overlap, sig.size // 2))  # overlap-add the faded edges
        else:
            pos += int(gap * rate) if i else 0
        out[pos:pos + sig.size] += sig
        pos += sig.size
    return out[:pos]


# ----------------------------------------------------------------- the pack


class VoicePack:
    """A pack on disk: which texts it can say, and their clips, ready to join."""

    def __init__(self, pack_dir: Path) -> None:
        self.dir = pack_dir
        self.manifest = read_manifest(pack_dir)
        self.rate = self.manifest.sample_rate
        self._present = {(lang, text) for lang, text, file in self.manifest.entries()
                         if (pack_dir / file).is_file()}
        self._cache: OrderedDict[tuple[str, str], Signal] = OrderedDict()
        self._lock = threading.Lock()
        if not self._present:
            raise PackError(f"{pack_dir}: none of the manifest's clips is there")

    def has(self, lang: str, text: str) -> bool:
        return (lang, text) in self._present

    def says(self, lang: str) -> Callable[[str], bool]:
        """has() for one language (what call_units.cover asks)."""
        return lambda text: (lang, text) in self._present

    @property
    def absent(self) -> list[str]:
        """Texts the manifest lists whose file is missing."""
        return [t for lang, t, _f in self.manifest.entries() if (lang, t) not in self._present]

    def signal(self, lang: str, text: str) -> Signal:
        """The clip for text, trimmed, at the pack's loudness, with faded edges."""
        key = (lang, text)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        path = self.dir / self.manifest.table(lang)[text]
        try:
            raw = read_signal(path, self.rate)
        except (OSError, EOFError, wave.Error, ValueError) as exc:
            with self._lock:
                self._present.discard(key)
            raise PackError(f"{path}: {exc}") from None
        ready = fade_edges(normalise(trim_silence(raw, self.rate, keep=0.01), self.rate,
                                     self.manifest.loudness_dbfs), self.rate)
        with self._lock:
            self._cache[key] = ready
            while len(self._cache) > CACHE_CLIPS:
                self._cache.popitem(last=False)
        return ready
