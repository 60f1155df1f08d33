"""Hostile devices against a real `queue-server run` on free loopback ports.

Every test here talks to the server with tests.hostile.raw (plain pyzmq), as a device
whose key the hall trusts: the attacker of docs/security.md.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import zmq

from tests.hostile.raw import RawDevice, RawFeed
from tests.support.live import DEMO_PASSWORD, LiveHall, live_hall


class Hall:
    """A live hall and the raw devices opened on it (closed at the end)."""

    def __init__(self, live: LiveHall) -> None:
        self.live = live
        self.ctx: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        self._opened: list[RawDevice | RawFeed] = []

    def device(self, name: str, *, kind: int = zmq.DEALER, user: str | None = None,
               counter: int | None = None) -> RawDevice:
        dev = RawDevice(self.ctx, self.live.data, name, self.live.endpoint.request_url,
                        kind=kind)
        self._opened.append(dev)
        if user is not None:
            dev.login(user, DEMO_PASSWORD, counter)
        return dev

    def feed(self, name: str) -> RawFeed:
        feed = RawFeed(self.ctx, self.live.data, name, self.live.endpoint.event_url)
        self._opened.append(feed)
        return feed

    def alive(self) -> bool:
        return self.live.proc is not None and self.live.proc.poll() is None

    def close(self) -> None:
        for sock in self._opened:
            sock.close()
        self.ctx.term()


@pytest.fixture(scope="module")
def unthrottled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hall]:
    """A hall that never throttles (the fuzzers send nothing but bad requests)."""
    with live_hall(tmp_path_factory.mktemp("hostile"),
                   extra_args=("--refusal-burst", "0")) as live:
        hall = Hall(live)
        try:
            yield hall
        finally:
            hall.close()


@pytest.fixture
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hall]:
    """A hall of its own, with the default limits."""
    with live_hall(tmp_path_factory.mktemp("hostile1")) as live:
        h = Hall(live)
        try:
            yield h
        finally:
            h.close()
