"""The conformance kit an integrator runs, run here against a real server."""

from __future__ import annotations

from pathlib import Path

import pytest

from queue_common.endpoint import ServerEndpoint
from queue_server import cli, conformance
from tests.support.live import live_hall


def test_the_server_passes_every_check_of_the_conformance_kit(tmp_path: Path) -> None:
    lines: list[str] = []
    with live_hall(tmp_path) as hall:
        def crash_and_start_again() -> None:
            hall.kill()
            hall.start()

        setup = conformance.Setup(data=hall.data, server=ServerEndpoint(
            hall.host, hall.request_port, hall.event_port), restart=crash_and_start_again)
        passed = conformance.run(setup, echo=lines.append)
    assert passed, "\n".join(line for line in lines if not line.startswith("PASS"))
    assert lines[-1].startswith(f"{len(conformance.CHECKS)} passed, 0 failed"), lines[-1]


def test_the_kit_fails_a_server_that_does_not_answer(tmp_path: Path) -> None:
    """Not a kit that cannot fail: with the server gone every check that needs it fails."""
    with live_hall(tmp_path) as hall:
        setup = conformance.Setup(data=hall.data, server=ServerEndpoint(
            hall.host, hall.request_port, hall.event_port))
        hall.kill()
        lines: list[str] = []
        assert not conformance.run(setup, only="envelope: hello", echo=lines.append)
    assert lines[0].startswith("FAIL  envelope: hello"), lines


def test_a_restart_command_that_does_not_restart_fails_the_resync_check(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The command line's --restart-cmd is run; a server that kept its epoch (the command
    did nothing) is caught, and a failing command fails the check instead of hanging."""
    with live_hall(tmp_path) as hall:
        server = f"{hall.host}:{hall.request_port}:{hall.event_port}"
        base = ["conformance", "--data", str(hall.data), "--server", server]
        assert cli.main([*base, "--only", "restart: a mirror",
                         "--restart-cmd", "exit 0"]) == 1
        out = capsys.readouterr().out
        assert "FAIL  restart: a mirror resyncs on the new epoch" in out, out
        assert cli.main([*base, "--only", "restart: a retry", "--restart-cmd", "exit 3"]) == 1
        assert "--restart-cmd exited with 3" in capsys.readouterr().out
        assert cli.main([*base, "--only", "restart:"]) == 0
        assert capsys.readouterr().out.count("SKIP  restart:") == 3
