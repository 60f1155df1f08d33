"""The window screen (窗口屏): one window's current number and state, above that window.

Drawn on a Canvas from a CounterView at a 1280x720 design scaled to the screen (small
LCDs over windows are often 1366x768 or a 640x360 strip). A new call or a recall of
this window flashes the number, like the hall board.
"""

from __future__ import annotations

import time
import tkinter as tk
from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Literal

from display_board import messages  # noqa: F401  (registers the catalogue)
from display_board.board_model import CounterView
from display_board.canvas_view import FLASH_PERIOD_MS, hall_zone
from display_board.layout import Fonts, Scale
from queue_common import tk_look as look
from queue_common.i18n import tr

DESIGN = (1280, 720)
FONT_SIZES: dict[str, tuple[int, Literal["normal", "bold"]]] = {
    "title": (64, "bold"),
    "clock": (44, "bold"),
    "number": (300, "bold"),
    "big_state": (150, "bold"),
    "headline": (56, "bold"),
    "clerk": (34, "normal"),
    "net": (22, "normal"),
}
BIG_STATE_KEYS = {"idle": "counter.welcome", "paused": "state.paused", "closed": "state.closed"}


class CounterScreen:
    """Draws CounterViews on a Canvas filling `master`."""

    def __init__(self, master: tk.Misc, *, flash_seconds: int = 10,
                 now: Callable[[tzinfo | None], datetime] | None = None) -> None:
        self.canvas = tk.Canvas(master, background=look.BG, highlightthickness=0,
                                borderwidth=0, width=640, height=360)
        self.canvas.pack(fill="both", expand=True)
        self.fonts = Fonts(master, FONT_SIZES)
        self.flash_seconds = flash_seconds
        self._now = now or (lambda tz: datetime.now(tz))
        self._zone: tzinfo | None = None
        self._scale = Scale.fit(640, 360, DESIGN)
        self._view: CounterView | None = None
        self._online: bool | None = None
        self._flash_key: tuple[int, int, str] | None = None
        self._flash_until = 0.0
        self._flash_on = False
        self._flash_job: str | None = None
        self._clock_job: str | None = None
        self._clock_text = ""
        self._size = (0, 0)
        self.paints = 0
        self.on_painted: Callable[[CounterView | None], None] | None = None
        self.canvas.bind("<Configure>", self._on_configure)
        self._draw()
        self._tick()

    @property
    def flashing(self) -> bool:
        return self._flash_job is not None

    def show(self, view: CounterView, timezone: str = "") -> None:
        first = self._view is None
        self._view = view
        self._zone = hall_zone(timezone)
        call = view.last_call
        if call is not None and call.key != self._flash_key:
            self._flash_key = call.key
            if not first and view.state == "calling":
                self._flash_until = time.monotonic() + self.flash_seconds
                if self._flash_job is None and self.flash_seconds > 0:
                    self._flash_on = True
                    self._flash_job = self.canvas.after(FLASH_PERIOD_MS, self._flash_step)
        self._draw()

    def set_online(self, online: bool) -> None:
        if online != self._online:
            self._online = online
            self._draw()

    def destroy(self) -> None:
        for job in (self._flash_job, self._clock_job):
            if job is not None:
                self.canvas.after_cancel(job)
        self._flash_job = self._clock_job = None
        self.canvas.destroy()

    def _on_configure(self, event: tk.Event[tk.Canvas]) -> None:
        if (event.width, event.height) != self._size:
            self._draw()

    def _text(self, x: float, y: float, text: str, font: str, fill: str = look.FG,
              anchor: str = "w", tags: str = "item") -> int:
        item: int = self.canvas.create_text(  # type: ignore[call-overload]
            x, y, text=text, font=self.fonts[font], fill=fill, anchor=anchor, tags=tags)
        return item

    def _draw(self) -> None:
        c = self.canvas
        w, h = c.winfo_width(), c.winfo_height()
        if w <= 1 or h <= 1:
            w, h = int(c.cget("width")), int(c.cget("height"))
        self._size = (w, h)
        s = self._scale = Scale.fit(w, h, DESIGN)
        self.fonts.scale(s)
        c.delete("all")
        c.create_rectangle(0, 0, w, s.y(130), fill=look.PANEL, width=0)
        c.create_rectangle(0, s.y(650), w, h, fill=look.PANEL, width=0)
        v = self._view
        title = v.title if v else tr("counter.title", number="")
        self.fonts.fitted("title", title, s.px(900), s)
        self._text(s.x(40), s.y(65), title, "title")
        self._text(s.x(1240), s.y(65), "", "clock", anchor="e", tags="clock")
        self._clock_text = ""
        self._update_clock()
        if v is not None:
            on = self._flash_on
            if v.ticket:
                c.create_rectangle(s.box(40, 150, 1240, 500), width=0, tags="flash_bg",
                                   fill=look.ACCENT if on else look.BG)
                colour = look.ACCENT if v.state == "calling" else look.FG
                self.fonts.fitted("number", v.ticket, s.px(1150), s)
                self._text(s.x(640), s.y(330), v.ticket, "number",
                           fill=look.BG if on else colour, anchor="center", tags="number")
            else:
                big = tr(BIG_STATE_KEYS.get(v.state, "state.closed"))
                self.fonts.fitted("big_state", big, s.px(1150), s)
                colour = look.WARN if v.state == "paused" else (
                    look.MUTED if v.state == "closed" else look.FG)
                self._text(s.x(640), s.y(330), big, "big_state", fill=colour, anchor="center")
            self.fonts.fitted("headline", v.headline, s.px(1200), s)
            self._text(s.x(640), s.y(575), v.headline, "headline",
                       fill=look.ACCENT if v.state == "calling" else look.FG, anchor="center")
            self._text(s.x(40), s.y(685), v.clerk, "clerk", fill=look.FG)
        if not self._online:
            text = tr("board.connecting") if self._online is None else tr("board.offline")
            self._text(s.x(1240), s.y(685), text, "net", fill=look.WARN, anchor="e")
        c.after_idle(self._painted)

    def _painted(self) -> None:
        self.paints += 1
        if self.on_painted is not None:
            self.on_painted(self._view)

    def _flash_step(self) -> None:
        if time.monotonic() >= self._flash_until:
            self._flash_on = False
            self._flash_job = None
        else:
            self._flash_on = not self._flash_on
            self._flash_job = self.canvas.after(FLASH_PERIOD_MS, self._flash_step)
        on = self._flash_on
        self.canvas.itemconfigure("flash_bg", fill=look.ACCENT if on else look.BG)
        self.canvas.itemconfigure("number", fill=look.BG if on else look.ACCENT)

    def _update_clock(self) -> None:
        text = self._now(self._zone).strftime("%H:%M")
        if text != self._clock_text or not self.canvas.find_withtag("clock"):
            self.canvas.itemconfigure("clock", text=text)
            self._clock_text = text

    def _tick(self) -> None:
        self._update_clock()
        ms = int(time.time() * 1000) % 1000
        self._clock_job = self.canvas.after(1000 - ms + 5, self._tick)
