"""A hall records and checks its own voice pack; WAV files stand in for the microphone."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from display_board import audio
from display_board.microphone import MicrophoneError, WavFilesMicrophone, open_microphone
from display_board.voice_pack import (
    Manifest,
    read_manifest,
    read_signal,
    voiced_rms_dbfs,
    write_manifest,
    write_signal,
)
from display_board.voice_tools import (
    Console,
    check_pack,
    meter_line,
    new_manifest,
    record_pack,
    record_take,
)

RATE = 16000


def voice_like(seconds: float = 0.6, level: float = 0.3, lead: float = 0.3,
               tail: float = 1.2, square: bool = False) -> np.ndarray:
    """A take as a microphone gives it: room quiet, a voiced stretch, quiet again."""
    t = np.arange(int(seconds * RATE)) / RATE
    wave_ = np.sin(2 * math.pi * 220 * t) * (0.6 + 0.4 * np.sin(2 * math.pi * 3 * t))
    if square:
        wave_ = np.sign(wave_)
    noise = np.random.default_rng(1).normal(0, 0.0005, int((lead + tail) * RATE))
    voiced = (level * wave_).astype(np.float32)
    return np.concatenate([noise[:int(lead * RATE)], voiced, noise[int(lead * RATE):]]
                          ).astype(np.float32)


def takes(folder: Path, *signals: np.ndarray) -> Path:
    for i, s in enumerate(signals, 1):
        write_signal(folder / f"{i:03d}.wav", s, RATE)
    return folder


class Speakers:
    def __init__(self) -> None:
        self.played: list[float] = []

    def play(self, path: Path) -> None:
        self.played.append(audio.read_wav(path).seconds)


class Script:
    """The staff member at the keyboard: answers in order, and what they were shown."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.shown: list[str] = []
        self.meter: list[str] = []

    def console(self) -> Console:
        return Console(ask=lambda prompt: self.answers.pop(0), show=self.shown.append,
                       meter=self.meter.append)


def three_clip_manifest() -> Manifest:
    return Manifest(name="test", units="phrase", sample_rate=RATE,
                    clips={"请A": "clips/zh-0001-请A.wav", "零零一": "clips/zh-0002-零零一.wav",
                           "号到一号窗口办理": "clips/zh-0003-window1.wav"})


def test_a_take_ends_when_the_speaker_falls_silent() -> None:
    folder = takes(Path(__import__("tempfile").mkdtemp()), voice_like(tail=3.0))
    mic = WavFilesMicrophone(folder, RATE)
    levels: list[float] = []
    take = record_take(mic, levels.append)
    assert 0.3 + 0.6 + 0.75 < take.size / RATE < 0.3 + 0.6 + 1.0  # not the 3 s of quiet
    assert max(levels) > -20 and min(levels) < -50


def test_staff_record_every_clip_redo_a_clipped_one_and_hear_each_back(tmp_path: Path) -> None:
    mic_dir = takes(tmp_path / "mic", voice_like(), voice_like(level=1.0, square=True),
                    voice_like(level=0.05), voice_like())
    pack = tmp_path / "pack"
    script = Script("", "",       # clip 1: record, keep
                    "", "r",      # clip 2: record (it clips), record again
                    "p", "",      # hear the second take again, keep it
                    "", "")       # clip 3: record, keep
    speakers = Speakers()
    recorded, left = record_pack(pack, three_clip_manifest(), WavFilesMicrophone(mic_dir, RATE),
                                 speakers, script.console())
    assert (recorded, left) == (3, 0)
    assert any("请说：请A" in line for line in script.shown)
    assert any("削波" in line for line in script.shown)  # the clipped take was pointed out
    assert len(speakers.played) == 5  # each take played back, the redone one twice
    assert script.meter and script.meter[0].startswith("\r  [")
    manifest = read_manifest(pack)
    for file in manifest.clips.values():
        clip = read_signal(pack / file, RATE)
        assert clip.size / RATE < 0.3 + 0.6 + 1.2  # silence trimmed
        assert voiced_rms_dbfs(clip, RATE) == pytest.approx(manifest.loudness_dbfs, abs=1.5)
    _, findings = check_pack(pack)
    assert findings == []


def test_a_later_sitting_records_only_what_is_missing_and_q_stops(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    m = three_clip_manifest()
    write_manifest(pack, m)
    write_signal(pack / m.clips["请A"], voice_like(), RATE)
    script = Script("", "", "q")
    recorded, left = record_pack(pack, m, WavFilesMicrophone(
        takes(tmp_path / "mic", voice_like()), RATE), Speakers(), script.console())
    assert (recorded, left) == (1, 1)
    assert [s for s in script.shown if "请说" in s] == ["[1/2] 请说：零零一",
                                                       "[2/2] 请说：号到一号窗口办理"]


def test_check_voice_finds_missing_clipped_quiet_and_silent_clips(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    m = Manifest(units="word", sample_rate=RATE, clips={
        "请": "clips/1.wav", "A": "clips/2.wav", "零": "clips/3.wav", "一": "clips/4.wav",
        "号到": "clips/5.wav", "号窗口办理": "clips/6.wav"}, template="请{number}号到{counter}号窗口办理")
    write_manifest(pack, m)
    write_signal(pack / "clips/1.wav", voice_like(), RATE)
    write_signal(pack / "clips/2.wav", voice_like(level=1.0, square=True), RATE)
    write_signal(pack / "clips/3.wav", voice_like(level=0.012), RATE)
    write_signal(pack / "clips/4.wav", np.zeros(RATE, dtype=np.float32), RATE)
    write_signal(pack / "clips/6.wav", voice_like(), RATE)
    _, findings = check_pack(pack, letters="AB", windows=[1])
    got = {(f.text, f.problem) for f in findings}
    assert {("A", "clipped"), ("零", "too_quiet"), ("一", "silent"), ("号到", "missing"),
            ("B", "not_covered")} <= got
    assert ("请", "silent") not in got and ("号窗口办理", "missing") not in got


def test_check_voice_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    from display_board.app import main

    pack = tmp_path / "pack"
    m = three_clip_manifest()
    write_manifest(pack, m)
    for file in m.clips.values():
        write_signal(pack / file, voice_like(), RATE)
    assert main(["check-voice", str(pack), "--letters", "A", "--windows", "1",
                 "--data", str(tmp_path)]) == 1
    out = capsys.readouterr().out  # A001-A999 need 999 more number clips
    assert "零零二" in out and "问题" in out and "problems" in out
    (pack / m.clips["请A"]).unlink()
    assert main(["check-voice", str(pack), "--letters", "A", "--windows", "1",
                 "--data", str(tmp_path)]) == 1
    assert "缺少：请A" in capsys.readouterr().out
    assert main(["check-voice", str(tmp_path / "nowhere"), "--data", str(tmp_path)]) == 2
    assert "manifest" in capsys.readouterr().err


def test_record_voice_on_the_command_line_with_wav_files_as_the_microphone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from display_board.app import main

    answers = ["", "", "", ""]  # two clips recorded and kept; then stdin ends

    def typed(_prompt: str = "") -> str:
        if not answers:
            raise EOFError
        return answers.pop(0)

    monkeypatch.setattr("builtins.input", typed)
    monkeypatch.setattr(audio, "SystemPlayer", Speakers)
    mic = takes(tmp_path / "mic", voice_like(), voice_like())
    pack = tmp_path / "pack"
    code = main(["record-voice", str(pack), "--mic", f"files:{mic}", "--units", "word",
                 "--letters", "A", "--windows", "1", "--rate", str(RATE),
                 "--data", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    manifest = read_manifest(pack)
    assert list(manifest.clips)[:2] == ["请", "A"] and manifest.units == "word"
    assert (pack / manifest.clips["请"]).is_file() and (pack / manifest.clips["A"]).is_file()
    assert "本次录制 2 段" in out


def test_new_pack_scripts_and_microphone_choices() -> None:
    m = new_manifest(name="", units="phrase", letters="AB", windows=[1, 2], digits=3,
                     template="请{number}号到{counter}号窗口办理",
                     template_en="Number {number}, please go to window {counter}.",
                     english=True, rate=RATE, licence="")
    assert len(m.clips) == 2 + 1000 + 2 and len(m.clips_en) == 2 + 1000 + 2
    assert m.languages() == ("zh", "en")
    with pytest.raises(MicrophoneError):
        open_microphone("telepathy", RATE)
    with pytest.raises(MicrophoneError):
        open_microphone(f"files:{Path(__import__('tempfile').mkdtemp())}", RATE)
    assert meter_line(-60).count("█") == 0 and meter_line(0).count("·") == 0


def run_of(*words: float, pause: float = 0.4) -> np.ndarray:
    """Clips said one after another: voiced stretches of these lengths, short pauses."""
    quiet = np.zeros(int(pause * RATE), dtype=np.float32)
    parts: list[np.ndarray] = [np.zeros(int(0.3 * RATE), dtype=np.float32)]
    for seconds in words:
        parts += [voice_like(seconds, lead=0.0, tail=0.0), quiet]
    parts.append(np.zeros(int(1.6 * RATE), dtype=np.float32))
    return np.concatenate(parts)


def test_ten_numbers_said_in_one_take_are_cut_into_ten_clips(tmp_path: Path) -> None:
    """A phrase pack's 1,000 numbers in runs of ten: a sitting, not a week."""
    m = new_manifest(name="", units="phrase", letters="A", windows=[1], digits=3,
                     template="请{number}号到{counter}号窗口办理", template_en="",
                     english=False, rate=RATE, licence="")
    digits = [(t, f) for t, f in m.clips.items() if len(t) == 3 and "窗" not in t]
    numbers = Manifest(units="phrase", sample_rate=RATE, clips=dict(sorted(digits)[:10]))
    lengths = [0.5, 0.6, 0.7, 0.5, 0.55, 0.65, 0.6, 0.5, 0.7, 0.6]
    mic = WavFilesMicrophone(takes(tmp_path / "mic", run_of(*lengths[:9]),  # one left out
                                   run_of(*lengths)), RATE)
    script = Script("", "", "", "")  # record; (too few) record again; keep
    recorded, left = record_pack(tmp_path / "pack", numbers, mic, Speakers(),
                                 script.console(), run=10)
    assert (recorded, left) == (10, 0)
    assert any("没能分出 10 段" in line for line in script.shown)
    assert any(" / ".join(numbers.clips) in line for line in script.shown)
    got = [read_signal(tmp_path / "pack" / f, RATE).size / RATE
           for f in numbers.clips.values()]
    for seconds, want in zip(got, lengths, strict=True):
        assert want <= seconds <= want + 0.1  # each clip is its own number, trimmed
