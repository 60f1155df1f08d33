"""`display-board record-voice` and `check-voice`: a hall makes and checks its own pack.

record-voice walks a staff member through every clip of the pack's script: it shows the
text, records a take from the microphone with a level meter, stops after the speaker
falls silent, trims the silence, normalises the loudness, plays the take back and keeps
it or records it again. Clips already recorded are skipped, so a long script can be
done over several sittings. check-voice lists every clip that is missing, clipped, too
quiet or silent, and every call of the hall's letters and windows the pack cannot say.

Terminal text only (no Tk): it runs on the board PC with a headset plugged in, or on
any PC, and the pack folder is copied to the board afterwards.
"""

from __future__ import annotations

import tempfile
import wave
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from display_board import (
    audio,
    messages,  # noqa: F401  (registers the catalogue)
)
from display_board.call_units import (
    UNIT_SETS,
    Lang,
    call_tokens,
    cover,
    plan_clips,
    split_units,
)
from display_board.microphone import Microphone, MicrophoneError
from display_board.voice_pack import (
    CLIP_LEVEL,
    FRAME_SECONDS,
    SILENCE_DBFS,
    Manifest,
    PackError,
    Signal,
    clip_file_name,
    dbfs,
    frame_levels,
    normalise,
    peak,
    read_manifest,
    read_signal,
    trim_silence,
    voiced_rms_dbfs,
    write_manifest,
    write_signal,
)
from queue_common.i18n import tr

VOICE_START_DBFS = -38.0  # a block this loud means the speaker has started
END_SILENCE_SECONDS = 0.8  # the take ends after this much quiet once speech began
MAX_TAKE_SECONDS = 12.0  # per clip
RUN_END_SILENCE_SECONDS = 1.5  # a run of clips ends after a longer quiet
RUN_PAUSE_SECONDS = 0.12  # the shortest pause a run is cut at
WAIT_FOR_VOICE_SECONDS = 8.0
TOO_QUIET_DBFS = -36.0  # voiced loudness of the raw take: speak closer to the microphone
CLIPPED_RUN = 3  # this many samples in a row at full scale: the take is distorted
MIN_VOICE_SECONDS = 0.06
METER_WIDTH = 30


# ----------------------------------------------------------------- a take


def meter_line(level_dbfs: float) -> str:
    """A level meter for the terminal: -60 dBFS empty, 0 dBFS full."""
    filled = int(round(max(0.0, min(1.0, (level_dbfs + 60) / 60)) * METER_WIDTH))
    bar = "█" * filled + "·" * (METER_WIDTH - filled)
    return f"\r  [{bar}] {level_dbfs:6.1f} dBFS"


def record_take(mic: Microphone, meter: Callable[[float], None], *,
                end_silence: float = END_SILENCE_SECONDS,
                limit: float = MAX_TAKE_SECONDS) -> Signal:
    """One take: from now until end_silence seconds after the voice (or the limits)."""
    blocks: list[Signal] = []
    started = False
    quiet = 0.0
    seconds = 0.0
    for block in mic.blocks():
        blocks.append(block)
        level = dbfs(float(np.sqrt(np.mean(block.astype(np.float64) ** 2)))
                     if block.size else 0.0)
        meter(level)
        seconds += block.size / mic.rate
        if level >= VOICE_START_DBFS:
            started, quiet = True, 0.0
        elif started:
            quiet += block.size / mic.rate
        if (started and quiet >= end_silence) or seconds >= limit or (
                not started and seconds >= WAIT_FOR_VOICE_SECONDS):
            break
    return np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)


# ----------------------------------------------------------------- checking


@dataclass(frozen=True)
class Finding:
    text: str
    problem: str  # missing | unreadable | silent | too_quiet | clipped | not_covered
    detail: str = ""


def longest_full_scale_run(signal: Signal) -> int:
    hot = np.abs(signal) >= CLIP_LEVEL
    if not hot.any():
        return 0
    edges = np.diff(np.concatenate(([0], hot.astype(np.int8), [0])))
    starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    return int(np.max(ends - starts))


def take_problems(signal: Signal, rate: int) -> list[tuple[str, str]]:
    """(problem, detail) of one raw recording; [] when it is usable."""
    voiced = trim_silence(signal, rate, keep=0.0)
    if voiced.size < int(MIN_VOICE_SECONDS * rate):
        return [("silent", f"{dbfs(peak(signal)):.0f} dBFS peak")]
    out: list[tuple[str, str]] = []
    level = voiced_rms_dbfs(signal, rate)
    if level < TOO_QUIET_DBFS:
        out.append(("too_quiet", f"{level:.0f} dBFS"))
    run = longest_full_scale_run(signal)
    if run >= CLIPPED_RUN:
        out.append(("clipped", f"{run} samples at full scale"))
    return out


def check_pack(pack_dir: Path, *, letters: Iterable[str] = (), windows: Iterable[int] = (),
               digits: int = 3, langs: Iterable[Lang] = ()) -> tuple[Manifest, list[Finding]]:
    """Every problem of the pack's clips, then the calls it cannot say (PackError if
    there is no readable manifest)."""
    manifest = read_manifest(pack_dir)
    findings: list[Finding] = []
    present: set[tuple[str, str]] = set()
    for lang, text, file in manifest.entries():
        path = pack_dir / file
        if not path.is_file():
            findings.append(Finding(text, "missing", file))
            continue
        try:
            signal = read_signal(path, manifest.sample_rate)
        except (OSError, EOFError, wave.Error, ValueError) as exc:
            findings.append(Finding(text, "unreadable", str(exc)[:80]))
            continue
        problems = take_problems(signal, manifest.sample_rate)
        findings += [Finding(text, p, d) for p, d in problems]
        if not any(p == "silent" for p, _d in problems):
            present.add((lang, text))
    letters, windows = list(letters), list(windows)
    wanted: tuple[Lang, ...] = tuple(langs) or tuple(
        lg for lg in ("zh", "en") if lg in manifest.languages())
    for lang in wanted:
        template = manifest.template if lang == "zh" else manifest.template_en
        def says(text: str, lg: str = lang) -> bool:
            return (lg, text) in present

        lacking: dict[str, str] = {}  # missing text -> the first call that needs it
        for letter in letters:
            for window in windows or [1]:
                for n in range(10 ** digits) if manifest.units == "phrase" else (1,):
                    number = f"{letter}{n:0{digits}d}"
                    tokens = call_tokens(number, window, template, lang)
                    if cover(tokens, says, lang).complete:
                        continue
                    units = manifest.units if manifest.units in UNIT_SETS else "syllable"
                    for text in split_units(tokens, units, lang):
                        if not says(text):  # the clip of the pack's own size to record
                            lacking.setdefault(text, f"{number} → {window}")
                    if window != (windows or [1])[0]:
                        break  # every number was tried at the first window
        findings += [Finding(text, "not_covered", f"{lang}: {call}")
                     for text, call in lacking.items()]
    return manifest, findings


def finding_line(f: Finding) -> str:
    return tr(f"voice.problem.{f.problem}", text=f.text, detail=f.detail)


# ----------------------------------------------------------------- recording


class Console:
    """What the recording tool needs of a terminal (tests give a scripted one)."""

    def __init__(self, ask: Callable[[str], str] = input,
                 show: Callable[[str], None] = print,
                 meter: Callable[[str], None] | None = None) -> None:
        self.ask = ask
        self.show = show
        self.meter = meter or (lambda line: print(line, end="", flush=True))


def new_manifest(*, name: str, units: str, letters: str, windows: Iterable[int],
                 digits: int, template: str, template_en: str, english: bool,
                 rate: int, licence: str) -> Manifest:
    """The recording script of a new pack: every clip its unit set needs."""
    windows = list(windows)
    zh = plan_clips(units, letters, windows, digits=digits, template=template, lang="zh")
    en = plan_clips(units, letters, windows, digits=digits, template=template_en,
                    lang="en") if english else []
    return Manifest(name=name, sample_rate=rate, units=units, licence=licence,
                    template=template, template_en=template_en,
                    clips={t: clip_file_name(i, t) for i, t in enumerate(zh, 1)},
                    clips_en={t: clip_file_name(i, t, "en") for i, t in enumerate(en, 1)})


def split_run(signal: Signal, rate: int, n: int) -> list[Signal] | None:
    """A take of n clips said one after another, cut at its n-1 longest pauses; None
    when it has fewer than n-1 pauses of RUN_PAUSE_SECONDS (said too fast, or a clip
    was left out)."""
    if n == 1:
        return [trim_silence(signal, rate)]
    levels = frame_levels(signal, rate)
    voiced = np.nonzero(levels > SILENCE_DBFS)[0]
    if voiced.size == 0:
        return None
    frame = int(rate * FRAME_SECONDS)
    quiet_runs: list[tuple[int, int]] = []  # (frames, first frame) inside the voice
    run_start = -1
    for i in range(int(voiced[0]), int(voiced[-1]) + 1):
        if levels[i] <= SILENCE_DBFS:
            run_start = i if run_start < 0 else run_start
        elif run_start >= 0:
            quiet_runs.append((i - run_start, run_start))
            run_start = -1
    longest = sorted(quiet_runs, reverse=True)[:n - 1]
    if len(longest) < n - 1 or longest[-1][0] * FRAME_SECONDS < RUN_PAUSE_SECONDS:
        return None
    cuts = sorted((first + length // 2) * frame for length, first in longest)
    edges = [0, *cuts, signal.size]
    return [trim_silence(signal[a:b], rate) for a, b in zip(edges, edges[1:], strict=False)]


def record_pack(pack_dir: Path, manifest: Manifest, mic: Microphone, player: audio.Player,
                console: Console, *, again: bool = False, run: int = 1) -> tuple[int, int]:
    """Walk through every clip not recorded yet (all with again), `run` clips per take
    (said one after another with a short pause, then cut apart); (recorded, left)."""
    write_manifest(pack_dir, manifest)
    todo = [(t, f) for _lang, t, f in manifest.entries()
            if again or not (pack_dir / f).is_file()]
    batches = [todo[i:i + max(1, run)] for i in range(0, len(todo), max(1, run))]
    recorded = done = 0
    tmp = Path(tempfile.mkdtemp(prefix="record-voice-"))
    try:
        for batch in batches:
            texts = " / ".join(t for t, _f in batch)
            console.show(tr("voice.rec.say", i=done + 1 if len(batch) == 1 else
                            f"{done + 1}-{done + len(batch)}", n=len(todo), text=texts))
            done += len(batch)
            answer = console.ask(tr("voice.rec.ready") if len(batch) == 1
                                 else tr("voice.rec.ready_run")).strip().lower()
            if answer == "q":
                break
            if answer == "s":
                continue
            while True:
                try:
                    raw = record_take(mic, lambda lv: console.meter(meter_line(lv)),
                                      end_silence=END_SILENCE_SECONDS if len(batch) == 1
                                      else RUN_END_SILENCE_SECONDS,
                                      limit=MAX_TAKE_SECONDS * len(batch))
                except MicrophoneError as exc:
                    console.show("")
                    console.show(tr("voice.rec.mic_failed", error=exc))
                    return recorded, len(todo) - recorded
                console.show("")
                pieces = split_run(raw, mic.rate, len(batch))
                if pieces is None:
                    console.show("  " + tr("voice.rec.not_split", n=len(batch)))
                    if console.ask(tr("voice.rec.again")).strip().lower() == "q":
                        return recorded, len(todo) - recorded
                    continue
                for (text, _f), piece in zip(batch, pieces, strict=True):
                    for problem, detail in take_problems(piece, mic.rate):
                        console.show("  " + tr(f"voice.problem.{problem}", text=text,
                                               detail=detail))
                takes = [normalise(piece, mic.rate, manifest.loudness_dbfs)
                         for piece in pieces]
                preview = tmp / "take.wav"
                write_signal(preview, np.concatenate(takes), mic.rate)
                player.play(preview)
                answer = console.ask(tr("voice.rec.keep")).strip().lower()
                while answer == "p":  # hear it again
                    player.play(preview)
                    answer = console.ask(tr("voice.rec.keep")).strip().lower()
                if answer == "r":
                    continue
                if answer == "q":
                    return recorded, len(todo) - recorded
                if answer == "s":
                    break
                for (_text, file), take in zip(batch, takes, strict=True):
                    write_signal(pack_dir / file, take, mic.rate)
                recorded += len(batch)
                break
    finally:
        for f in tmp.glob("*"):
            f.unlink(missing_ok=True)
        tmp.rmdir()
    left = sum(1 for _l, _t, f in manifest.entries() if not (pack_dir / f).is_file())
    return recorded, left


def manifest_for(pack_dir: Path, make: Callable[[], Manifest]) -> Manifest:
    """The pack's manifest, or a new one when the folder has none yet."""
    try:
        return read_manifest(pack_dir)
    except PackError:
        if (pack_dir / "manifest.toml").exists():
            raise
        return make()


def cut_pack(pack_dir: Path, manifest: Manifest,
             render: Callable[[str, Lang], audio.Clip], *, only_missing: bool = True) -> int:
    """Fill a pack with clips spoken by an engine (a test pack, or a pack cut from a
    licensed voice); each is trimmed and normalised as a recorded take would be.
    Returns how many clips were written."""
    from display_board.voice_pack import resample, to_signal

    write_manifest(pack_dir, manifest)
    made = 0
    for lang, text, file in manifest.entries():
        if only_missing and (pack_dir / file).is_file():
            continue
        clip = render(text, "zh" if lang == "zh" else "en")
        signal = resample(to_signal(clip), clip.rate, manifest.sample_rate)
        take = normalise(trim_silence(signal, manifest.sample_rate), manifest.sample_rate,
                         manifest.loudness_dbfs)
        write_signal(pack_dir / file, take, manifest.sample_rate)
        made += 1
    return made
