"""The writer thread: commits prepared batches in order while the loop prepares the next.

Why: a durable commit waits for the disk (fsync: ~0.3 ms on this machine's SSD when
quiet, several ms when the disk is busy, more on a hall PC's disk under Windows), and
writing the rows is mostly SQLite's C code, which releases the GIL. With the commit on
this thread the request loop decodes and applies the next batches meanwhile, and every
batch submitted during a commit is written in the next transaction, together (the group
commit moves here: one wait for the disk however many batches).

Nothing is answered early: the loop holds a batch's replies and events until this
thread reports its write ended (``done`` + a wake-up on an inproc socket), and batches
end in the order they were submitted. After a failed write every later batch is
refused without writing (it was applied on top of the failed one in memory) until the
loop, having recovered the hall from the database, calls ``reset``.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import zmq

from queue_server.errors import EarlierWriteFailed

if TYPE_CHECKING:
    from queue_server.hall import Prepared

log = logging.getLogger(__name__)

_RESET = object()
_NOTHING = object()
SLOW_WRITE_SECONDS = 0.25
MERGE_MAX = 64  # batches in one transaction at most


class Committer:
    """One writer thread; see the module docstring. Used by one loop thread."""

    def __init__(self, write: Callable[[Sequence[Prepared]], None],
                 ctx: zmq.Context[zmq.Socket[bytes]], name: str,
                 merge_max: int = MERGE_MAX) -> None:
        """merge_max: batches per transaction at most (1: each batch commits alone)."""
        self._write = write
        self._merge_max = max(1, merge_max)
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        # (batch, the error that stopped its write or None), appended in submit order.
        self.done: deque[tuple[Prepared, BaseException | None]] = deque()
        self.stats = {"transactions": 0, "batches": 0, "write_seconds": 0.0}
        url = f"inproc://committer-{name}"
        self.wake = ctx.socket(zmq.PAIR)  # the loop polls this one
        self.wake.linger = 0
        self.wake.bind(url)
        self._notify = ctx.socket(zmq.PAIR)  # only the writer thread sends on it
        self._notify.linger = 0
        self._notify.connect(url)
        self._thread = threading.Thread(target=self._run, name="committer", daemon=True)
        self._thread.start()

    def submit(self, prepared: Prepared) -> None:
        """Write it after every batch submitted before (rows None: just keep its place)."""
        self._queue.put(prepared)

    def reset(self) -> None:
        """The hall has recovered: batches submitted from now on are written again."""
        self._queue.put(_RESET)

    def take_wakes(self) -> None:
        """Empty the wake-up socket (the loop then reads ``done``)."""
        while True:
            try:
                self.wake.recv(zmq.NOBLOCK)
            except zmq.Again:
                return

    def stop(self) -> None:
        """Finish what was submitted, then end the thread and close the sockets."""
        self._queue.put(None)
        self._thread.join(30)
        self.wake.close(linger=0)

    def _run(self) -> None:
        failed: BaseException | None = None
        try:
            while True:
                first = self._queue.get()
                if first is None:
                    return
                if first is _RESET:
                    failed = None
                    continue
                # Everything submitted meanwhile goes into the same transaction: the
                # loop, no longer waiting for the disk, submits many small batches.
                group: list[Prepared] = [first]  # type: ignore[list-item]
                end: object = _NOTHING
                while len(group) < self._merge_max:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is None or item is _RESET:
                        end = item
                        break
                    group.append(item)  # type: ignore[arg-type]
                failed = self._commit(group, failed)
                if end is None:
                    return
                if end is _RESET:
                    failed = None
        finally:
            self._notify.close(linger=0)

    def _commit(self, group: list[Prepared], failed: BaseException | None
                ) -> BaseException | None:
        """Write the group (unless an earlier write failed), report each batch of it;
        the failure that stops later writes, if any."""
        error: BaseException | None = None if failed is None else EarlierWriteFailed(failed)
        if error is None and any(prepared.rows is not None for prepared in group):
            started = time.monotonic()
            try:
                self._write(group)
            except BaseException as exc:  # reported; nothing of the group was written
                error = failed = exc
            took = time.monotonic() - started
            self.stats["transactions"] += 1
            self.stats["batches"] += len(group)
            self.stats["write_seconds"] += took
            if took > SLOW_WRITE_SECONDS:  # every reply of the group waited on it
                log.warning("slow commit: %.0f ms (the disk?)", took * 1000)
        for prepared in group:
            self.done.append((prepared, error))
        # Again: the loop has a thousand wake-ups to read already.
        with contextlib.suppress(zmq.Again):
            self._notify.send(b"", zmq.NOBLOCK)
        return failed
