"""The conformance kit an integrator runs, run here against a real server."""

from __future__ import annotations

from pathlib import Path

from queue_common.endpoint import ServerEndpoint
from queue_server import conformance
from tests.support.live import live_hall


def test_the_server_passes_every_check_of_the_conformance_kit(tmp_path: Path) -> None:
    lines: list[str] = []
    with live_hall(tmp_path) as hall:
        setup = conformance.Setup(data=hall.data, server=ServerEndpoint(
            hall.host, hall.request_port, hall.event_port))
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
