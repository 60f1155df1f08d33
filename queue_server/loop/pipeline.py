"""Batches applied in memory while earlier ones are still being committed.

The loop hands a batch of requests to ``run``: the hall applies it to its live state
(``prepare``) and the committer thread writes its rows; meanwhile the loop takes and
applies the next batch. A batch's replies and events leave (``release``) only when its
own commit has ended, in the order the batches were applied. A failed commit fails every
batch applied on top of it (the hall answers STORE_UNAVAILABLE for each), and once
nothing is in flight the hall is reloaded from the database and the committer reset.

What must see only committed state (a `state` snapshot, a status-page lookup, the hall's
tick) first calls ``settle``: every batch in flight is committed and released.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from queue_common.protocol import Err
from queue_server.loop.committer import MERGE_MAX, Committer

if TYPE_CHECKING:
    import zmq

    from queue_server.hall import Actor, Command, Outcome, Prepared

log = logging.getLogger(__name__)

SLOW_BATCH_SECONDS = 0.25  # a batch slower than this is logged (the loop waits on it)


class HallPort(Protocol):
    """What the loop needs of queue_server.hall.Hall (a fake in unit tests)."""

    def apply(self, op: str, args: dict[str, Any], actor: Actor,
              request_key: tuple[str, str] | None = None) -> Outcome: ...

    def prepare(self, commands: list[Command]) -> Prepared: ...

    def write(self, prepared: Sequence[Prepared]) -> None: ...

    def written(self, prepared: Prepared, error: BaseException | None) -> list[Outcome]: ...

    def recover(self) -> bool: ...

    def actor_for(self, token: str | None, device: str, device_role: str) -> Actor: ...

    def snapshot(self) -> dict[str, Any]: ...

    def recent_calls(self) -> list[dict[str, Any]]: ...

    def login_windows(self, device: str, device_role: str) -> list[int] | None: ...

    def tick(self) -> list[tuple[str, dict[str, Any]]]: ...


@dataclass
class Pending:
    """A decoded request on its way through the hall."""

    routing_id: bytes  # empty: the server's own operation (an alert), answered to nobody
    request_id: str
    op: str
    command: Command
    delimited: bool = False  # sent by a REQ socket: the reply carries the empty delimiter


@dataclass
class _Flight:
    """A prepared batch whose commit has not ended, with the requests it answers."""

    items: list[Pending]
    prepared: Prepared


Release = Callable[[list[Pending], list["Outcome"]], None]


class Pipeline:
    """The loop's batches between the hall and the committer; see the module docstring."""

    def __init__(self, hall: HallPort, ctx: zmq.Context[zmq.Socket[bytes]], name: str,
                 release: Release, refuse: Callable[[Pending, str, str], None], *,
                 group_commit: bool = True) -> None:
        self.hall = hall
        self._release = release
        self._refuse = refuse
        self.committer = Committer(  # without group commit each request commits alone
            hall.write, ctx, name, merge_max=MERGE_MAX if group_commit else 1)
        self._in_flight: deque[_Flight] = deque()
        self._store_failed = False  # a commit failed: recover once nothing is in flight
        self.stats = {"batches": 0, "batched_ops": 0}

    @property
    def wake(self) -> zmq.Socket[bytes]:
        """Readable when a commit has ended (the loop polls it)."""
        return self.committer.wake

    @property
    def recovering(self) -> bool:
        """A commit failed and the hall is not reloaded yet: apply nothing new."""
        return self._store_failed

    def run(self, pending: list[Pending]) -> None:
        """Apply the batch to the hall, then hand its rows to the committer; its replies
        and events wait for the commit (at once if nothing is written or in flight)."""
        if not pending:
            return
        self.stats["batches"] += 1
        self.stats["batched_ops"] += len(pending)
        started = time.monotonic()
        try:
            prepared = self.hall.prepare([item.command for item in pending])
        except Exception:
            log.exception("hall batch failed; nothing applied")
            for item in pending:
                self._refuse(item, Err.STORE_UNAVAILABLE,
                             "暂时无法保存，请重试 / the store is unavailable, nothing was applied")
            return
        took = time.monotonic() - started
        if took > SLOW_BATCH_SECONDS:
            log.warning("slow batch: %d ops took %.0f ms in the hall %s", len(pending),
                        took * 1000, _op_counts(pending))
        if prepared.failed_index is not None:  # a bug in one op: the others again
            self.settle()
            self.hall.recover()
            failed = pending[prepared.failed_index]
            self._release([failed], [prepared.outcomes[prepared.failed_index]])
            self.run([item for item in pending if item is not failed])
        elif prepared.rows is None and not self._in_flight:
            self._release(pending, prepared.outcomes)
        else:
            self._in_flight.append(_Flight(pending, prepared))
            self.committer.submit(prepared)

    def collect(self) -> None:
        """Answer every batch whose commit has ended, in order; recover after a failure
        once nothing is in flight."""
        self.committer.take_wakes()
        done = self.committer.done
        while done:
            prepared, error = done.popleft()
            flight = self._in_flight.popleft()
            assert flight.prepared is prepared, "the committer ended batches out of order"
            if error is not None:
                self._store_failed = True
            self._release(flight.items, self.hall.written(prepared, error))
        if self._store_failed and not self._in_flight:
            self._store_failed = False
            if not self.hall.recover():
                log.error("the hall could not be reloaded from the database; "
                          "every operation answers STORE_UNAVAILABLE until it can")
            self.committer.reset()

    def settle(self) -> None:
        """Wait until nothing is in flight: every reply and event of what was applied
        has left (the commit of a batch takes milliseconds)."""
        while self._in_flight or self._store_failed:
            self.committer.wake.poll(1000)
            self.collect()

    def close(self) -> None:
        self.committer.stop()


def _op_counts(items: list[Pending]) -> dict[str, int]:
    ops: dict[str, int] = {}
    for item in items:
        ops[item.op] = ops.get(item.op, 0) + 1
    return ops

