"""The announcer speaks every call once, in order, never overlapping, never stale.

Speech is the real pyttsx3/espeak-ng synthesis; only the sound card is replaced by a
player that records what it was given and for how long it "played".
"""

from __future__ import annotations

import array
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from display_board import audio
from display_board.announcer import Announcement, Announcer
from display_board.settings import AnnounceSettings, announce_settings
from display_board.voice import (
    EN_PREFERENCES,
    ZH_PREFERENCES,
    Synth,
    VoiceInfo,
    choose_voice,
    say_to,
)

REPO = Path(__file__).resolve().parents[2]
T0 = datetime.fromisoformat("2026-11-26T09:30:00+08:00")


def call(ticket_id: int, number: str, counter: int, at: datetime,
         recall: bool = False, call_id: int | None = None) -> dict[str, object]:
    c: dict[str, object] = {"ticket_id": ticket_id, "number": number, "counter": counter,
                            "at": at.isoformat(), "recall": recall}
    if call_id is not None:
        c["id"] = call_id
    return c


class RecordingPlayer:
    """Stands in for the speakers: keeps each clip and the time it was playing."""

    def __init__(self, seconds: float = 0.05) -> None:
        self.seconds = seconds
        self.plays: list[tuple[float, float, audio.Clip]] = []
        self.release = threading.Event()
        self.release.set()

    def play(self, path: Path) -> None:
        start = time.monotonic()
        clip = audio.read_wav(path)
        self.release.wait(10)
        time.sleep(self.seconds)
        self.plays.append((start, time.monotonic(), clip))


class Heard:
    def __init__(self) -> None:
        self.items: list[Announcement] = []

    def __call__(self, item: Announcement, ready: float, finished: float) -> None:
        self.items.append(item)

    def wait_for(self, n: int, timeout: float = 20.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.items) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        return [f"{a.number}@{a.counter}" for a in self.items]


@pytest.fixture
def hall_voice() -> Iterator[tuple[Announcer, RecordingPlayer, Heard]]:
    player, heard = RecordingPlayer(), Heard()
    announcer = Announcer(AnnounceSettings(max_age_seconds=60), speaker_factory=Synth,
                          player=player, on_spoken=heard)
    announcer.start()
    yield announcer, player, heard
    announcer.stop()


def test_two_quick_calls_are_spoken_in_order_without_overlap(hall_voice) -> None:
    announcer, player, heard = hall_voice
    assert announcer.offer_call(call(1, "A001", 3, T0))
    assert announcer.offer_call(call(2, "B002", 5, T0 + timedelta(seconds=1)))
    assert heard.wait_for(2) == ["A001@3", "B002@5"]
    (s1, e1, first), (s2, e2, second) = player.plays
    assert e1 <= s2, "the second announcement started before the first ended"
    for clip in (first, second):
        # chime + the sentence twice: several seconds of sound, not a click or silence
        assert clip.seconds > 4.0
        assert audio.peak(clip) > 8000


def test_a_recall_is_announced_again_but_a_repeated_event_is_not(hall_voice) -> None:
    announcer, _player, heard = hall_voice
    first = call(7, "A007", 2, T0)
    assert announcer.offer_call(first)
    assert not announcer.offer_call(first)  # the same call seen again (e.g. in a snapshot)
    assert announcer.offer_call(call(7, "A007", 2, T0 + timedelta(seconds=40), recall=True))
    assert heard.wait_for(2) == ["A007@2", "A007@2"]
    assert [a.recall for a in heard.items] == [False, True]


def test_a_clerk_who_recalls_within_the_same_second_is_heard_twice(hall_voice) -> None:
    announcer, _player, heard = hall_voice
    assert announcer.offer_call(call(9, "A009", 4, T0, call_id=101))
    assert announcer.offer_call(call(9, "A009", 4, T0, recall=True, call_id=102))
    assert not announcer.offer_call(call(9, "A009", 4, T0, recall=True, call_id=102))
    assert heard.wait_for(2) == ["A009@4", "A009@4"]
    # A server that sends no id: the recall is still another call than the call.
    assert announcer.offer_call(call(10, "A010", 4, T0))
    assert announcer.offer_call(call(10, "A010", 4, T0, recall=True))
    assert heard.wait_for(4)[2:] == ["A010@4", "A010@4"]


def test_after_a_reconnect_only_fresh_unheard_calls_are_spoken(hall_voice) -> None:
    announcer, _player, heard = hall_voice
    announcer.offer_call(call(3, "A003", 1, T0))
    heard.wait_for(1)
    now = T0 + timedelta(minutes=5)
    recent = [  # newest first, as in the snapshot
        call(6, "A006", 4, now - timedelta(seconds=5)),
        call(5, "A005", 2, now - timedelta(seconds=20)),
        call(4, "A004", 8, now - timedelta(minutes=3)),  # older than max_age: stale
        call(3, "A003", 1, T0),  # already heard
    ]
    assert announcer.offer_snapshot(recent, now.isoformat()) == 2
    assert heard.wait_for(3) == ["A003@1", "A005@2", "A006@4"]
    # The stale call stays silent even if it shows up again later.
    assert announcer.offer_snapshot(recent, now.isoformat()) == 0


def test_a_burst_of_calls_is_queued_and_none_is_dropped(hall_voice) -> None:
    announcer, player, heard = hall_voice
    player.release.clear()  # the speakers are busy with the first call
    numbers = [f"A{n:03d}" for n in range(1, 11)]
    for i, number in enumerate(numbers):
        assert announcer.offer_call(call(i, number, i % 8 + 1, T0 + timedelta(seconds=i)))
    assert announcer.pending() >= 8  # offering returned at once while speech was held
    player.release.set()
    assert heard.wait_for(10, timeout=60) == [f"{n}@{i % 8 + 1}" for i, n in enumerate(numbers)]
    spans = [(s, e) for s, e, _ in player.plays]
    assert all(e1 <= s2 for (_, e1), (s2, _) in zip(spans, spans[1:], strict=False))


def test_muted_board_speaks_nothing() -> None:
    player, heard = RecordingPlayer(), Heard()
    announcer = Announcer(AnnounceSettings(), speaker_factory=Synth, player=player,
                          on_spoken=heard, mute=True)
    announcer.start()
    try:
        assert not announcer.offer_call(call(1, "A001", 1, T0))
        time.sleep(0.3)
        assert heard.items == [] and player.plays == []
    finally:
        announcer.stop()


def test_a_failing_announcement_does_not_silence_the_next() -> None:
    class Flaky:
        def __init__(self, settings: AnnounceSettings) -> None:
            self.real = Synth(settings)

        def announcement(self, number: str, counter: int) -> audio.Clip:
            if number == "A666":
                raise RuntimeError("engine hiccup")
            return self.real.announcement(number, counter)

        def configure(self, settings: AnnounceSettings) -> None:
            self.real.configure(settings)

        def close(self) -> None:
            self.real.close()

    player, heard = RecordingPlayer(), Heard()
    announcer = Announcer(AnnounceSettings(), speaker_factory=Flaky, player=player,
                          on_spoken=heard)
    announcer.start()
    try:
        announcer.offer_call(call(1, "A666", 1, T0))
        announcer.offer_call(call(2, "A002", 2, T0 + timedelta(seconds=1)))
        assert heard.wait_for(1) == ["A002@2"]
    finally:
        announcer.stop()


def test_malformed_calls_are_ignored(hall_voice) -> None:
    announcer, _player, _heard = hall_voice
    assert not announcer.offer_call({"number": "A001"})
    assert not announcer.offer_call({"ticket_id": "x", "number": "A1", "counter": 1})
    assert announcer.offer_snapshot([{"bogus": 1}, "nonsense"], "not a time") == 0  # type: ignore[list-item]


def test_repeat_chime_and_english_lengthen_the_announcement() -> None:
    results: dict[str, float] = {}

    def render() -> None:  # a Synth belongs to the thread that made it
        for name, settings in {"once": AnnounceSettings(repeat=1, chime=False),
                               "twice": AnnounceSettings(repeat=2, chime=False),
                               "chime": AnnounceSettings(repeat=2, chime=True),
                               "english": AnnounceSettings(repeat=2, chime=True,
                                                           english=True)}.items():
            synth = Synth(settings)
            results[name] = synth.announcement("A012", 3).seconds
            synth.close()

    worker = threading.Thread(target=render)
    worker.start()
    worker.join(60)
    assert 1.5 < results["once"] < results["twice"] < results["chime"] < results["english"]
    assert results["twice"] > 2 * results["once"] - 0.5


def test_hall_settings_come_from_the_snapshot_and_the_pc_may_override() -> None:
    snap = {"hall": {"settings": {"announce": {"repeat": 3, "english": True,
                                               "template": "请{number}号到{counter}号",
                                               "max_age_seconds": "soon"}}}}
    s = announce_settings(snap, {"announce": {"repeat": 1, "voice_zh": "Huihui"}})
    assert (s.repeat, s.english, s.voice_zh) == (1, True, "Huihui")
    assert s.template == "请{number}号到{counter}号"
    assert s.max_age_seconds == AnnounceSettings().max_age_seconds  # bad value ignored
    assert announce_settings(None).repeat == 2  # the default hall repeats twice
    assert announce_settings({"hall": {"settings": {"announce": {"repeat": 99}}}}).repeat == 5


ESPEAK = [VoiceInfo("sit/cmn", "Chinese (Mandarin, latin as English)", ("cmn",)),
          VoiceInfo("sit/cmn-latn-pinyin", "Chinese (Mandarin, latin as Pinyin)",
                    ("cmn-latn-pinyin",)),
          VoiceInfo("gmw/en-us", "English (America)", ("en-us",)),
          VoiceInfo("gmw/en", "English (Great Britain)", ("en-gb",))]
SAPI = [VoiceInfo(r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Speech\Voices\Tokens\TTS_MS_EN-US_ZIRA_11.0",
                  "Microsoft Zira Desktop - English (United States)", ()),
        VoiceInfo(r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Speech\Voices\Tokens\TTS_MS_ZH-CN_HUIHUI_11.0",
                  "Microsoft Huihui Desktop - Chinese (Simplified)", ())]


def test_voice_is_chosen_by_language_preferring_the_usable_mandarin() -> None:
    assert choose_voice(ESPEAK, ZH_PREFERENCES).id == "sit/cmn-latn-pinyin"  # type: ignore[union-attr]
    assert choose_voice(ESPEAK, EN_PREFERENCES).id == "gmw/en-us"  # type: ignore[union-attr]
    assert "HUIHUI" in choose_voice(SAPI, ZH_PREFERENCES).id  # type: ignore[union-attr]
    assert "ZIRA" in choose_voice(SAPI, EN_PREFERENCES).id  # type: ignore[union-attr]


def test_configured_voice_wins_and_an_unknown_one_falls_back() -> None:
    assert choose_voice(ESPEAK, ZH_PREFERENCES, "sit/cmn").id == "sit/cmn"  # type: ignore[union-attr]
    assert choose_voice(ESPEAK, ZH_PREFERENCES, "no-such-voice").id == \
        "sit/cmn-latn-pinyin"  # type: ignore[union-attr]
    assert choose_voice([], ZH_PREFERENCES) is None


def test_say_to_renders_a_speech_length_wav(tmp_path: Path, artifacts_dir: Path) -> None:
    out = tmp_path / "A012-3.wav"
    clip = say_to(out, "A012", 3, AnnounceSettings())
    shutil.copy(out, artifacts_dir / "announce-A012-3.wav")
    back = audio.read_wav(out)
    assert 4.0 < back.seconds < 20.0 and back.seconds == pytest.approx(clip.seconds)
    assert audio.peak(back) > 8000
    # Most of it is sound, not silence: RMS over the whole file well above the noise floor.
    rms = (sum(s * s for s in back.samples) / len(back.samples)) ** 0.5
    assert rms > 500


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox not installed")
def test_display_board_say_to_command_line(tmp_path: Path) -> None:
    out = tmp_path / "call.wav"
    done = subprocess.run(
        [sys.executable, "-m", "display_board.app", "--data", str(tmp_path), "--say-to",
         str(out), "--number", "B105", "--counter", "12"],
        cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "call.wav" in done.stdout
    stat = subprocess.run(["sox", str(out), "-n", "stat"], capture_output=True, text=True,
                          timeout=30).stderr
    figures = {line.split(":")[0].strip(): line.split(":")[1].strip()
               for line in stat.splitlines() if ":" in line}
    assert float(figures["Length (seconds)"]) > 4.0
    assert float(figures["RMS     amplitude"]) > 0.02


def test_say_to_without_a_number_is_refused_with_both_languages(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "display_board.app", "--data", str(tmp_path), "--say-to",
         str(tmp_path / "x.wav")], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "--number" in done.stderr and " / " in done.stderr
    assert not (tmp_path / "x.wav").exists()


def test_a_driver_that_never_reports_finished_is_not_waited_for_forever(tmp_path: Path) -> None:
    """SAPI5 writes the file synchronously and may send no finished-utterance."""
    from display_board.voice import _wait_for_audio

    wav = tmp_path / "speech.wav"
    audio.write_wav(audio.chime(), wav)
    start = time.monotonic()
    _wait_for_audio(threading.Event(), wav)
    assert time.monotonic() - start < 2.0


def test_a_file_still_being_written_is_waited_for_though_it_looks_complete(
        tmp_path: Path) -> None:
    """A driver that writes the WAV as it goes pauses mid-sentence on a busy PC; the
    header is already valid for what is written so far. The call must not be cut there."""
    from display_board.voice import _wait_for_audio

    wav = tmp_path / "speech.wav"
    clip = audio.chime()
    audio.write_wav(clip, wav)  # the first part: a readable, "complete" file
    finished = threading.Event()

    def rest_of_the_sentence() -> None:
        time.sleep(0.3)  # the synthesiser's thread was not scheduled for a while
        audio.write_wav(audio.join([clip, audio.silence(clip.rate, 1.0)]), wav)
        finished.set()

    writer = threading.Thread(target=rest_of_the_sentence)
    writer.start()
    _wait_for_audio(finished, wav)
    heard = audio.read_wav(wav).seconds  # what the board would play now
    writer.join()
    assert heard > clip.seconds + 0.9


def test_an_empty_rendering_is_rendered_again_not_announced_silent(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An engine that once gives a clip of no samples: the board renders again."""
    from display_board import voice

    synth = voice.Synth(AnnounceSettings(repeat=1, chime=False))
    runs: list[int] = []
    real_run = synth._engine.run

    def first_one_empty(job: Any, timeout: float = 60.0) -> Any:
        runs.append(1)
        result = real_run(job, timeout)
        if len(runs) == 1:  # what the engine gave the first time: no samples
            for wav in synth._tmp.glob("speech-*.wav"):  # the pyttsx3 path (SAPI5)
                audio.write_wav(audio.Clip(22050, array.array("h")), wav)
            if isinstance(result, audio.Clip):  # espeak-ng, driven directly
                return audio.Clip(result.rate, array.array("h"))
        return result

    monkeypatch.setattr(synth._engine, "run", first_one_empty)
    try:
        clip = synth.render("请A012号到3号窗口", "zh")
    finally:
        synth.close()
    assert len(runs) == 2
    assert clip.seconds > 1.0


def test_each_tuning_knob_reaches_the_speech_engine() -> None:
    """rate, word gap and the pause between the number's groups change what is heard
    (a knob that silently did nothing would make every bench/voice.py sweep a lie)."""
    seconds: dict[str, float] = {}

    def render() -> None:
        synth = Synth(AnnounceSettings())
        try:
            for name, kw in {"plain": {"rate": 200}, "slow": {"rate": 120},
                             "gaps": {"rate": 200, "word_gap": 15},
                             "groups": {"rate": 200, "group_pause": 0.5}}.items():
                synth.configure(AnnounceSettings(**kw))  # type: ignore[arg-type]
                seconds[name] = synth.sentence("A012", 3, "zh").seconds
        finally:
            synth.close()

    worker = threading.Thread(target=render)
    worker.start()
    worker.join(60)
    plain = seconds["plain"]
    assert seconds["slow"] > plain * 1.4
    assert seconds["gaps"] > plain + 0.5
    assert seconds["groups"] > plain + 0.8  # two pauses of 0.5 s, less the engine's own
