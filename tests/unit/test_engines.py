"""A locally installed engine run as a command: espeak-ng's own command line stands in
for the licensed neural engine a hall would name in [announce] engine_command."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from display_board import audio
from display_board.engines import CommandEngine, EngineError, command_line
from display_board.settings import AnnounceSettings
from display_board.speaker import HallSpeaker

ESPEAK = shutil.which("espeak-ng")
pytestmark = pytest.mark.skipif(ESPEAK is None, reason="espeak-ng not installed")
COMMAND = "espeak-ng -v sit/cmn-latn-pinyin -w {wav} {text}"


def test_the_board_speaks_through_the_configured_command(tmp_path: Path) -> None:
    settings = AnnounceSettings(engine="command", engine_command=COMMAND, repeat=1,
                                chime=False)
    speaker = HallSpeaker(settings)
    try:
        clip = speaker.announcement("A012", 3)
    finally:
        speaker.close()
    assert clip.seconds > 1.5 and audio.peak(clip) > 8000
    assert str(speaker.voice_for("zh")).startswith("command:espeak-ng")


def test_a_sentence_is_an_argument_never_a_shell_command(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    argv = command_line("tts --out {wav} --text {text}", f"请A; touch {marker}", Path("o.wav"))
    assert argv == ["tts", "--out", "o.wav", "--text", f"请A; touch {marker}"]


@pytest.mark.parametrize(("command", "problem"), [
    ("", "empty"),
    ("espeak-ng {text}", "{wav}"),
    ("no-such-engine-here -w {wav} {text}", "not installed"),
    ('espeak-ng "unclosed -w {wav}', "not a valid command line"),
])
def test_a_bad_engine_command_is_refused_with_a_reason(command: str, problem: str) -> None:
    with pytest.raises(EngineError, match=problem):
        CommandEngine(AnnounceSettings(engine="command", engine_command=command))


def test_an_engine_that_fails_is_reported_not_silent() -> None:
    failing = f"{sys.executable} -c \"import sys; sys.exit('licence expired')\" {{wav}} {{text}}"
    engine = CommandEngine(AnnounceSettings(engine="command", engine_command=failing))
    try:
        with pytest.raises(EngineError, match="licence expired"):
            engine.sentence("A012", 3, "zh")
    finally:
        engine.close()
