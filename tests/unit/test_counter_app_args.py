"""counter-client's command line: what a hall PC's shortcut may say."""

from __future__ import annotations

from pathlib import Path

import pytest

from counter_client.app import main, parse_args
from queue_common import i18n


def test_defaults_and_flags() -> None:
    args = parse_args([])
    assert (args.device, args.counter, args.rating_pad, args.supervisor) == (
        "counter-1", None, False, False)
    args = parse_args(["--device", "counter-3", "--counter", "3", "--lang", "en",
                       "--rating-pad", "--server", "10.0.0.5:5555:5556"])
    assert (args.device, args.counter, args.lang, args.rating_pad, args.server) == (
        "counter-3", 3, "en", True, "10.0.0.5:5555:5556")


@pytest.mark.parametrize("argv", [["--rating-pad"], ["--counter", "0"], ["--lang", "fr"]])
def test_bad_command_lines_are_refused(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        parse_args(argv)
    assert exc.value.code == 2


def test_missing_device_key_is_said_not_a_traceback(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    try:
        assert main(["--data", str(tmp_path), "--device", "counter-9", "--lang", "en"]) == 2
    finally:
        i18n.set_language("zh")  # the language is process-wide; leave it as found
    err = capsys.readouterr().err
    assert "counter-9" in err and "device add" in err


def test_demo_launcher_arguments_are_understood() -> None:
    # queue-server demo places two callers beside the board this way
    args = parse_args(["--device", "counter-2", "--counter", "2", "--user", "clerk2",
                       "--geometry", "768x216+1152+256"])
    assert (args.user, args.geometry) == ("clerk2", "768x216+1152+256")
    with pytest.raises(SystemExit):
        parse_args(["--geometry", "big"])
