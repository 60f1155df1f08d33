"""The wiring of one screen: mirror -> board_model -> view, call events -> announcer.

BoardApp renders what the server says and never decides anything, and never blocks the
Tk thread: the connection's I/O thread owns the sockets, the announcer's worker owns
pyttsx3 and the audio device. It also reports the voice's health to the supervisor
(device_status) and, for bench/board.py, traces repaints and announcements.
"""

from __future__ import annotations

import threading
import time
import tkinter as tk
from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import IO, Any

from display_board import messages  # noqa: F401  (registers the catalogue)
from display_board.announcer import Announcement, Announcer, Health
from display_board.audio import Player, SystemPlayer
from display_board.board_model import BoardView, CounterView, board_view, counter_view
from display_board.counter_screen import CounterScreen
from display_board.hall_board import HallBoard
from display_board.settings import announce_settings, board_settings
from queue_common.hall_time import issuing
from queue_common.ports import ClientConnection
from queue_common.protocol import Ev, Op

# How often the Tk thread drains the connection: a call waits at most this long before
# it is drawn (50 ms budget from commit to repaint). Each empty wake-up costs CPU: on
# the 2-core build VM a 1080p board idled at 1.9-2.2 % CPU with 10 ms, 2.0 % with 15,
# 1.4-1.5 % with 20 and 1.2-1.3 % with 25 ms, against a 2 % budget (bench/board.py).
PUMP_MS = 20
HEALTH_FIRST_MS = 3_000  # the first report, once the voice has started
# A silent board must reach the supervisor within 10 s of its first failed call; the
# check compares two strings and sends only on a change, so it can run often.
HEALTH_CHECK_MS = 2_000
HOURS_CHECK_MS = 15_000  # the banner turns at 08:30 within this
CLOCK_SLACK = timedelta(seconds=2)  # closer than this: trust this PC's own clock
CALL_EVENTS = frozenset({Ev.TICKET_CALLED, Ev.TICKET_RECALLED})


class BoardApp:
    """Connects a view (hall board or window screen) and the announcer to a connection."""

    def __init__(self, root: tk.Misc, source: ClientConnection, *, local: Mapping[str, Any] | None = None,
                 counter: int | None = None, mute: bool = False,
                 player: Player | None = None, speaker_factory: Any = None,
                 trace: IO[str] | None = None, data: Path | None = None) -> None:
        self.root = root
        self.source = source
        self.local = dict(local or {})
        self.counter = counter
        self._trace = trace
        self._trace_lock = threading.Lock()
        self._render_job: str | None = None
        self._stopped = False
        self.mute = mute
        self._reported: tuple[str, str] | None = None
        self._health_job: str | None = None
        self._hours_job: str | None = None
        self._issuing: str | None = None  # what the shown hall board says of issuing
        self._to_speak: list[tuple[str, Mapping[str, Any]]] = []
        self._clock_offset = timedelta(0)
        bs = board_settings(None, self.local)
        self.view: HallBoard | CounterScreen
        if counter is None:
            self.view = HallBoard(root, flash_seconds=bs.flash_seconds, now=self.hall_now)
        else:
            self.view = CounterScreen(root, flash_seconds=bs.flash_seconds, now=self.hall_now)
        self.view.on_painted = self._painted
        # Only the hall board speaks: eight window screens speaking at once would overlap.
        self.announcer: Announcer | None = None
        if counter is None:
            if speaker_factory is None:
                from display_board.speaker import HallSpeaker

                speaker_factory = HallSpeaker.factory(data)
            self.announcer = Announcer(announce_settings(None, self.local),
                                       speaker_factory=speaker_factory,
                                       player=player or SystemPlayer(), mute=mute)
        if trace is not None and self.announcer is not None:
            self.announcer.on_spoken = self._spoken
        source.add_listener(self.on_event)
        if source.mirror.ready:  # connected before the app was built (tests, bench)
            self.on_event("resync", source.mirror.state)
            self.view.set_online(bool(source.online))

    # ------------------------------------------------------------- clock
    def hall_now(self, tz: tzinfo | None) -> datetime:
        """The time the board shows: the server's clock where this PC's is off."""
        return datetime.now(tz) + self._clock_offset

    def _set_clock(self, server_now: object) -> None:
        """Follow the server's clock when this PC's differs by more than CLOCK_SLACK.

        Citizens read the board's clock against the hall's; a board PC without time
        sync must not show a different time from the kiosk's tickets.
        """
        try:
            server = datetime.fromisoformat(str(server_now))
            offset = server - datetime.now(server.tzinfo)
        except (TypeError, ValueError):
            return
        self._clock_offset = offset if abs(offset) > CLOCK_SLACK else timedelta(0)

    def start(self) -> None:
        if self.announcer is not None:
            self.announcer.start()
        self._health_job = self.root.after(HEALTH_FIRST_MS, self._report_health)
        if isinstance(self.view, HallBoard):
            self._hours_job = self.root.after(HOURS_CHECK_MS, self._watch_hours)

    def _watch_hours(self) -> None:
        """Repaint when the clock opens or ends issuing: no event does (hall.open is as
        of the snapshot), and the idle banner says which (from 08:30 / ended today)."""
        self._hours_job = self.root.after(HOURS_CHECK_MS, self._watch_hours)
        hall = (self.source.mirror.state or {}).get("hall") or {}
        if hall and issuing(hall, self.hall_now(None)) != self._issuing:
            self._schedule_render()

    # ------------------------------------------------------------- health (device_status)
    def _report_health(self) -> None:
        """Tell the supervisor when this screen's voice is broken, muted or fine again.

        Sent on a change only (and again after each resync: a restarted server may not
        have it), never blocking: request() returns at once.
        """
        self._health_job = self.root.after(HEALTH_CHECK_MS, self._report_health)
        health = self.announcer.health if self.announcer is not None else Health("ok", "")
        self.view.set_voice_fault(health.state == "error")  # shown offline too
        if not self.source.online:
            return
        report = (health.state, health.message)
        if report == self._reported:
            return
        self._reported = report
        details = {"screen": "hall" if self.counter is None else "counter",
                   "counter": self.counter, "voice": self.announcer is not None,
                   "muted": self.mute}
        self.source.request(Op.DEVICE_STATUS, {"state": health.state,
                                               "message": health.message,
                                               "details": details},
                            callback=self._on_reported)

    def _on_reported(self, reply: Any) -> None:
        if not getattr(reply, "ok", False):
            self._reported = None  # try again at the next check

    def stop(self) -> None:
        """Stop speaking and cancel the view's timers (before the window is destroyed)."""
        if self.announcer is not None:
            self.announcer.stop()
        self._stopped = True
        self.source.remove_listener(self.on_event)
        for job in (self._health_job, self._hours_job):
            if job is not None:
                self.root.after_cancel(job)
        self._health_job = self._hours_job = None
        if self._render_job is not None:
            self.root.after_cancel(self._render_job)
            self._render_job = None
        self.view.destroy()

    # ------------------------------------------------------------- events (Tk thread)
    def on_event(self, type_: str, data: dict[str, Any]) -> None:
        """Connection listener: runs on the Tk thread after the mirror applied the event."""
        if self._stopped:
            return
        if type_ == "connection":
            self.view.set_online(bool(data.get("online")))
            return
        # Calls are handed to the announcer after the repaint (render()): the screen
        # first, then the voice, whose synthesis would otherwise compete for the GIL.
        if type_ == "resync":
            self._apply_settings(data)
            self.view.set_online(True)
            self._reported = None  # a restarted server has no report from us yet
            self._set_clock(data.get("now"))
            self._to_speak.append(("snapshot", data))
        elif type_ in CALL_EVENTS and isinstance(data.get("call"), Mapping):
            self._to_speak.append(("call", data["call"]))
            if self._trace is not None:
                self._write_trace(f"event {time.perf_counter():.6f} {data['call'].get('number')}")
        self._schedule_render()

    def _speak_pending(self) -> None:
        pending, self._to_speak = self._to_speak, []
        if self.announcer is None:
            return
        for kind, data in pending:
            if kind == "call":
                self.announcer.offer_call(data)
            else:
                self.announcer.offer_snapshot(data.get("recent_calls") or [],
                                              str(data.get("now") or ""))

    def _apply_settings(self, snapshot: Mapping[str, Any]) -> None:
        bs = board_settings(snapshot, self.local)
        self.view.flash_seconds = bs.flash_seconds
        if self.announcer is not None:
            self.announcer.set_settings(announce_settings(snapshot, self.local))

    def _schedule_render(self) -> None:
        """Coalesce a burst of events into one repaint, right after the burst."""
        if self._render_job is None:
            self._render_job = self.root.after_idle(self.render)

    def render(self) -> None:
        self._render_job = None
        state = self.source.mirror.state
        if state:
            self._show(state)
        self._speak_pending()

    def _show(self, state: Mapping[str, Any]) -> None:
        if isinstance(self.view, HallBoard):
            bs = board_settings(state, self.local)
            view = board_view(state, notice=bs.notice, recent=bs.recent_calls,
                              now=self.hall_now(None))
            self._issuing = view.issuing
            self.view.show(view)
        else:
            assert self.counter is not None
            hall = state.get("hall") or {}
            self.view.show(counter_view(state, self.counter), str(hall.get("timezone") or ""))

    # ------------------------------------------------------------- bench/board.py trace
    def _painted(self, view: BoardView | CounterView | None) -> None:
        """One trace line per completed repaint: time, newest call (or "-")."""
        if self._trace is None:
            return
        call = None
        if view is not None:
            call = view.newest if isinstance(view, BoardView) else view.last_call
        what = f"{call.number} {call.counter}" if call is not None else "- -"
        self._write_trace(f"paint {time.perf_counter():.6f} {what}")

    def _spoken(self, item: Announcement, ready: float, finished: float) -> None:
        """From the announcer's worker: when the announcement's audio was ready."""
        speaker = self.announcer.speaker if self.announcer is not None else None
        join_ms = float(getattr(speaker, "last_join_ms", 0.0) or 0.0)
        self._write_trace(f"audio {ready:.6f} {item.number} {item.counter} "
                          f"{item.queued_at:.6f} {finished:.6f} {join_ms:.3f}")

    def _write_trace(self, line: str) -> None:
        assert self._trace is not None
        with self._trace_lock:
            self._trace.write(line + "\n")
            self._trace.flush()
