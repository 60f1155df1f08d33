"""The window screen (窗口屏): one window's current number and state, above that window.

Drawn on a Canvas from a CounterView at a 1280x720 design scaled to the screen (small
LCDs over windows are often 1366x768 or a 640x360 strip). A new call or a recall of
this window flashes the number, like the hall board. The canvas, scaling, timers and
offline state are canvas_view.CanvasView's; this module draws.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from datetime import datetime, tzinfo

from display_board import messages  # noqa: F401  (registers the catalogue)
from display_board.board_model import CounterView
from display_board.canvas_view import CanvasView
from queue_common.hall_time import hall_zone
from queue_common.i18n import tr
from queue_common.tk import look
from queue_common.tk.fonts import FontSpec

FONT_SIZES: dict[str, FontSpec] = {
    "title": FontSpec(64, "bold"),
    "clock": FontSpec(44, "bold"),
    "number": FontSpec(300, "bold"),
    "big_state": FontSpec(150, "bold"),
    "headline": FontSpec(56, "bold"),
    "clerk": FontSpec(34, "normal"),
    "net": FontSpec(22, "normal"),
}
BIG_STATE_KEYS = {"idle": "counter.welcome", "paused": "state.paused", "closed": "state.closed"}


class CounterScreen(CanvasView[CounterView]):
    """Draws CounterViews on a Canvas filling `master`."""

    DESIGN = (1280, 720)

    def __init__(self, master: tk.Misc, *, flash_seconds: int = 10,
                 now: Callable[[tzinfo | None], datetime] | None = None) -> None:
        super().__init__(master, FONT_SIZES, size=(640, 360), flash_seconds=flash_seconds,
                         now=now)
        self._clock_text = ""
        self._start()

    def show(self, view: CounterView, timezone: str = "") -> None:
        """Render a new view; a new call of this window (or a recall) starts the flash."""
        first = self._view is None
        self._view = view
        self._zone = hall_zone(timezone)
        call = view.last_call
        if (call is not None and self._new_call(call.key)
                and not first and view.state == "calling"):
            self._start_flash()
        self._layout()

    def _layout(self) -> None:
        """The whole screen, drawn anew on every change (it has a dozen items)."""
        w, h = self._fit()
        s, c = self._scale, self.canvas
        c.delete("all")
        c.create_rectangle(0, 0, w, s.y(130), fill=look.PANEL, width=0)
        c.create_rectangle(0, s.y(650), w, h, fill=look.PANEL, width=0)
        v = self._view
        title = v.title if v else tr("counter.title", number="")
        self.fonts.fitted("title", title, s.px(900))
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
                self.fonts.fitted("number", v.ticket, s.px(1150))
                self._text(s.x(640), s.y(330), v.ticket, "number",
                           fill=look.BG if on else colour, anchor="center", tags="number")
            else:
                big = tr(BIG_STATE_KEYS.get(v.state, "state.closed"))
                self.fonts.fitted("big_state", big, s.px(1150))
                colour = look.WARN if v.state == "paused" else (
                    look.MUTED if v.state == "closed" else look.FG)
                self._text(s.x(640), s.y(330), big, "big_state", fill=colour, anchor="center")
            self.fonts.fitted("headline", v.headline, s.px(1200))
            self._text(s.x(640), s.y(575), v.headline, "headline",
                       fill=look.ACCENT if v.state == "calling" else look.FG, anchor="center")
            self._text(s.x(40), s.y(685), v.clerk, "clerk", fill=look.FG)
        net = self._net_text()
        if net:
            self._text(s.x(1240), s.y(685), net, "net", fill=look.WARN, anchor="e")
        c.after_idle(self._painted)

    def _draw_net(self) -> None:
        self._layout()  # the indicator is drawn with the rest

    def _paint_flash(self) -> None:
        on = self._flash_on
        self.canvas.itemconfigure("flash_bg", fill=look.ACCENT if on else look.BG)
        self.canvas.itemconfigure("number", fill=look.BG if on else look.ACCENT)

    def _update_clock(self) -> None:
        text = self._now(self._zone).strftime("%H:%M")
        if text != self._clock_text or not self.canvas.find_withtag("clock"):
            self.canvas.itemconfigure("clock", text=text)
            self._clock_text = text
