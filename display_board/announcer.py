"""The announcer: every call and recall spoken once, in order, never overlapping.

Calls are put on an unbounded queue by the Tk thread (cheap, never blocks) and a single
worker thread renders and plays them one after another, so speech can never stall the
board and two announcements can never overlap. Nothing is dropped from the queue.

What is NOT spoken (the hall's voice rules, docs/voice.md):
- the same call seen twice (a live event and then the snapshot after a resync): a call
  is identified by (ticket, window, time); a recall has its own time, so it speaks again;
- after a reconnect or a start-up, calls older than `max_age_seconds`: a hall does not
  want ten stale numbers read out when the network comes back.
"""

from __future__ import annotations

import logging
import queue
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from display_board import audio
from display_board.settings import AnnounceSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Announcement:
    """One call or recall to speak (a Call of docs/hall-state.md)."""

    ticket_id: int
    number: str
    counter: int
    at: str
    recall: bool = False
    queued_at: float = 0.0  # time.perf_counter() when offered (for the latency bench)
    call_id: int | None = None

    @property
    def key(self) -> tuple[object, ...]:
        """What makes two offers the same call: its id (a recall in the same second as
        the call is another call, and must be spoken); a server that sends no id is
        told apart by ticket, window, second and kind."""
        if self.call_id is not None:
            return ("id", self.call_id)
        return (self.ticket_id, self.counter, self.at, self.recall)

    @classmethod
    def from_call(cls, call: Mapping[str, Any]) -> Announcement | None:
        """None for a malformed call (bad data never crashes the board)."""
        try:
            return cls(ticket_id=int(call["ticket_id"]), number=str(call["number"]),
                       counter=int(call["counter"]), at=str(call.get("at") or ""),
                       recall=bool(call.get("recall", False)),
                       queued_at=time.perf_counter(),
                       call_id=None if call.get("id") is None else int(call["id"]))
        except (KeyError, TypeError, ValueError):
            log.warning("ignoring malformed call %r", call)
            return None


class Health(NamedTuple):
    """The voice's state for the supervisor: ok | warning | error, "中文 / English"."""

    state: str
    message: str


class Speaker(Protocol):
    """Turns an announcement into a clip (pyttsx3 in production); worker thread only."""

    def announcement(self, number: str, counter: int) -> audio.Clip: ...

    def configure(self, settings: AnnounceSettings) -> None: ...

    def close(self) -> None: ...


def _age_seconds(at: str, now: str) -> float | None:
    try:
        return (datetime.fromisoformat(now) - datetime.fromisoformat(at)).total_seconds()
    except (TypeError, ValueError):
        return None


class Announcer:
    """Queue + one worker thread; offer_* are called on the Tk thread and return at once."""

    _STOP = object()

    def __init__(self, settings: AnnounceSettings, *,
                 speaker_factory: Callable[[AnnounceSettings], Speaker],
                 player: audio.Player, mute: bool = False,
                 on_spoken: Callable[[Announcement, float, float], None] | None = None,
                 remember: int = 500) -> None:
        """speaker_factory runs IN the worker (pyttsx3 engines belong to one thread).

        on_spoken(announcement, ready_at, finished_at) is called from the worker after
        each playback, with perf_counter times (used by tests and the bench).
        """
        self._settings = settings
        self._speaker_factory = speaker_factory
        self._player = player
        self._mute = mute
        self.on_spoken = on_spoken
        self._queue: queue.Queue[object] = queue.Queue()
        self._heard: OrderedDict[tuple[int, int, str], None] = OrderedDict()
        self._remember = remember
        self._lock = threading.Lock()
        self._settings_changed = threading.Event()
        self._thread: threading.Thread | None = None
        self._health = Health("ok", "")
        self.speaker: Speaker | None = None

    @property
    def settings(self) -> AnnounceSettings:
        return self._settings

    def set_settings(self, settings: AnnounceSettings) -> None:
        """New hall settings (after a snapshot); the worker picks them up before the next call."""
        if settings != self._settings:
            self._settings = settings
            self._settings_changed.set()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="announcer", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Finish the current announcement, drop the rest, end the worker."""
        if self._thread is None:
            return
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._queue.put(self._STOP)
        self._thread.join(timeout)
        self._thread = None

    def pending(self) -> int:
        return self._queue.qsize()

    def offer_call(self, call: Mapping[str, Any]) -> bool:
        """A live ticket.called / ticket.recalled: speak it unless already heard."""
        item = Announcement.from_call(call)
        return item is not None and self._enqueue(item)

    def offer_snapshot(self, recent_calls: Iterable[Mapping[str, Any]], now: str) -> int:
        """After a (re)sync: speak only calls not heard yet and younger than max_age.

        `now` is the snapshot's server time, so a board PC with a wrong clock still
        judges age correctly. Oldest first, so the hall hears them in call order.
        """
        max_age = self._settings.max_age_seconds
        fresh: list[Announcement] = []
        for call in recent_calls:
            item = Announcement.from_call(call)
            if item is None:
                continue
            age = _age_seconds(item.at, now)
            if age is None or age > max_age:
                self._mark_heard(item)  # stale: never speak it later either
                continue
            fresh.append(item)
        fresh.sort(key=lambda a: a.at)
        return sum(1 for item in fresh if self._enqueue(item))

    def _mark_heard(self, item: Announcement) -> bool:
        """Remember item; False if it was already known."""
        with self._lock:
            if item.key in self._heard:
                return False
            self._heard[item.key] = None
            while len(self._heard) > self._remember:
                self._heard.popitem(last=False)
            return True

    def _enqueue(self, item: Announcement) -> bool:
        if not self._mark_heard(item) or self._mute:
            return False
        self._queue.put(item)
        return True

    @property
    def health(self) -> Health:
        """How the voice is (read by the Tk thread for the device_status report)."""
        return self._health

    def _check_health(self, speaker: Speaker | None) -> None:
        """error: the hall does not hear (or cannot understand) calls; warning: it hears
        them, but not as configured (the pack lacked clips; the engine said those)."""
        if self._mute:
            self._health = Health("ok", "静音 / muted")
        elif speaker is None:
            self._health = Health("error", "语音引擎不可用，叫号无声 / no speech engine: "
                                  "calls are silent")
        elif getattr(speaker, "voice_for", lambda _lang: True)("zh") is None:
            self._health = Health("error", "未安装中文语音，叫号听不懂 / no Chinese voice "
                                  "installed: calls cannot be understood")
        elif error := str(getattr(self._player, "last_error", "")):
            self._health = Health("error", f"音频播放失败，叫号无声 / audio playback failed, "
                                  f"calls are silent: {error}")
        elif getattr(self._player, "available", True) is False:
            self._health = Health("error", "没有音频播放器，叫号无声 / no audio player: "
                                  "calls are silent")
        elif shortfall := str(getattr(speaker, "shortfall", "")):
            self._health = Health("warning", shortfall)
        else:
            self._health = Health("ok", "")

    def _run(self) -> None:
        speaker: Speaker | None = None
        try:
            speaker = self._speaker_factory(self._settings)
        except Exception:  # no speech engine: the board still works, silently
            log.exception("speech engine unavailable; calls will not be spoken")
        self.speaker = speaker  # read by the bench trace (join time of a voice pack)
        self._check_health(speaker)
        tmp = Path(tempfile.mkdtemp(prefix="board-announce-"))
        n = 0
        try:
            while True:
                item = self._queue.get()
                if item is self._STOP:
                    return
                assert isinstance(item, Announcement)
                if speaker is None:
                    continue
                if self._settings_changed.is_set():
                    self._settings_changed.clear()
                    speaker.configure(self._settings)
                try:
                    clip = speaker.announcement(item.number, item.counter)
                    n += 1
                    path = tmp / f"call-{n % 4}.wav"
                    audio.write_wav(clip, path)
                    ready = time.perf_counter()
                    self._player.play(path)
                    finished = time.perf_counter()
                except Exception as exc:
                    log.exception("could not announce %s", item.number)
                    self._health = Health("error", f"叫号语音失败 / announcement failed: "
                                          f"{str(exc)[:120]}")
                    continue
                self._check_health(speaker)
                if self.on_spoken is not None:
                    self.on_spoken(item, ready, finished)
        finally:
            if speaker is not None:
                speaker.close()
            for f in tmp.glob("*"):
                f.unlink(missing_ok=True)
            tmp.rmdir()
