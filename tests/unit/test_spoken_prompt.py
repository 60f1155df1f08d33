"""The rating pad's spoken prompt: rendered for real once, and silent when it cannot be."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import threading
import wave
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from queue_common.spoken_prompt import PromptVoice, pick_voice

ROOT = Path(__file__).resolve().parents[2]


class FakeEngine:
    def __init__(self) -> None:
        self.said: list[str] = []
        self.props: dict[str, Any] = {"voices": [
            SimpleNamespace(id="gmw/en-us", name="English (America)", languages=["en-us"]),
            SimpleNamespace(id="sit/cmn", name="Chinese (Mandarin)", languages=["cmn"])]}

    def getProperty(self, name: str) -> Any:  # noqa: N802  (pyttsx3's API)
        return self.props.get(name)

    def setProperty(self, name: str, value: Any) -> None:  # noqa: N802
        self.props[name] = value

    def say(self, text: str) -> None:
        self.said.append(text)

    def save_to_file(self, text: str, path: str) -> None:
        _write_wav(Path(path))
        self.said.append(f"file:{text}")

    def runAndWait(self) -> None:  # noqa: N802
        pass


def _write_wav(path: Path, frames: int = 800) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x01\x00" * frames)


class LateEngine(FakeEngine):
    """espeak under load: the file's header is final only a moment after runAndWait."""

    def save_to_file(self, text: str, path: str) -> None:
        Path(path).write_bytes(b"RIFF")  # begun, not finished
        threading.Timer(0.3, _write_wav, (Path(path),)).start()
        self.said.append(f"file:{text}")


def test_a_render_waits_for_the_file_to_be_finished(tmp_path: Path) -> None:
    voice = PromptVoice(LateEngine)
    wav = tmp_path / "p.wav"
    assert voice.render("请您对本次服务进行评价", wav, timeout=5)
    with wave.open(str(wav), "rb") as w:
        assert w.getnframes() == 800


def test_a_chinese_voice_is_chosen_when_installed() -> None:
    assert pick_voice(FakeEngine()) == "sit/cmn"


def test_the_prompt_is_spoken_on_the_voices_own_thread(tmp_path: Path) -> None:
    engine = FakeEngine()
    voice = PromptVoice(lambda: engine)
    voice.say("请您对本次服务进行评价")
    assert voice.render("请您对本次服务进行评价", tmp_path / "p.wav")
    assert engine.said[-1] == "file:请您对本次服务进行评价"
    assert engine.props["voice"] == "sit/cmn"


def test_no_speech_engine_leaves_the_pad_silent_not_broken(tmp_path: Path) -> None:
    def broken() -> Any:
        raise RuntimeError("no espeak")

    voice = PromptVoice(broken)
    assert not voice.render("请您对本次服务进行评价", tmp_path / "p.wav", timeout=5)
    assert voice.failed is not None and "no espeak" in voice.failed
    voice.say("again")  # no thread, no error


@pytest.mark.slow
def test_the_prompt_renders_as_real_speech(tmp_path: Path) -> None:
    """In a process of its own: an espeak engine must not live beside the board tests'."""
    if shutil.which("sox") is None:
        pytest.skip("sox not installed")
    pytest.importorskip("pyttsx3")
    wav = tmp_path / "prompt.wav"
    # exit 2: no engine on this machine (skip); 1: the engine is there and failed (fail)
    code = ("import sys; from pathlib import Path; from queue_common.spoken_prompt import "
            "PromptVoice; v = PromptVoice(); ok = v.render('请您对本次服务进行评价', "
            "Path(sys.argv[1]), timeout=60); print(v.failed or '', file=sys.stderr); "
            "sys.exit(0 if ok else 2 if (v.failed or '').startswith('no speech engine') "
            "else 1)")
    done = subprocess.run([sys.executable, "-c", code, str(wav)], cwd=ROOT, timeout=90,
                          capture_output=True, text=True)
    if done.returncode == 2:
        pytest.skip(f"no speech engine here: {done.stderr[-300:]}")
    assert done.returncode == 0, f"the prompt was not rendered: {done.stderr[-300:]}"
    stat = subprocess.run(["sox", str(wav), "-n", "stat"], capture_output=True, text=True,
                          timeout=30).stderr
    seconds = float(re.search(r"Length \(seconds\):\s+([\d.]+)", stat).group(1))  # type: ignore[union-attr]
    rms = float(re.search(r"RMS\s+amplitude:\s+([\d.]+)", stat).group(1))  # type: ignore[union-attr]
    assert seconds > 1.0 and rms > 0.01, stat
