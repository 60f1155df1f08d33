"""What the hall board and the window screen share: a scaled Canvas that flashes and ticks.

A CanvasView owns the Canvas filling its master, the fonts, the design-to-screen Scale
(refitted on every resize), the flash timer of a new call, the clock timer, the
offline/connecting state and the repaint count. What is drawn where is the subclass's:
it implements

    _layout()        draw everything anew at the canvas's size (startup, resize)
    _paint_flash()   show the current flash phase (self._flash_on)
    _update_clock()  show the time (called on every tick, once a second on the second)
    _draw_net()      show or hide the offline indicator (text from _net_text())

and calls _start() at the end of its __init__, once its own fields exist.

Only the Tk thread calls this module; nothing here waits: the timers are Tk `after` jobs.
"""

from __future__ import annotations

import time
import tkinter as tk
from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Generic, TypeVar

from display_board import messages  # noqa: F401  (registers the catalogue)
from display_board.layout import Scale
from queue_common.i18n import tr
from queue_common.tk import look
from queue_common.tk.fonts import FontSet, FontSpec

FLASH_PERIOD_MS = 500

V = TypeVar("V")


class CanvasView(Generic[V]):
    """A view of V drawn on a Canvas filling `master`, scaled from a fixed design."""

    #: Design size; None picks 1920x1080 or, on a taller-than-wide screen, 1080x1920.
    DESIGN: tuple[int, int] | None = None

    def __init__(self, master: tk.Misc, font_sizes: dict[str, FontSpec], *,
                 size: tuple[int, int], flash_seconds: int,
                 now: Callable[[tzinfo | None], datetime] | None) -> None:
        """size: the canvas's requested size until the window manager gives it one."""
        self.canvas = tk.Canvas(master, background=look.BG, highlightthickness=0,
                                borderwidth=0, width=size[0], height=size[1])
        self.canvas.pack(fill="both", expand=True)
        self._scale = Scale.fit(*size, self.DESIGN)
        self.fonts = FontSet(master, font_sizes, unit=self._scale.factor)
        self.flash_seconds = flash_seconds
        self._now = now or (lambda tz: datetime.now(tz))
        self._zone: tzinfo | None = None
        self._size = (0, 0)
        self._view: V | None = None
        self._online: bool | None = None  # None: still connecting
        self._voice_fault = False  # the board's voice failed: calls are not heard
        self._flash_key: tuple[int, int, str] | None = None
        self._flash_until = 0.0
        self._flash_on = False
        self._flash_job: str | None = None
        self._clock_job: str | None = None
        self.paints = 0  # completed repaints (tests, bench)
        self.on_painted: Callable[[V | None], None] | None = None

    def _start(self) -> None:
        """First drawing, then follow resizes and start the clock."""
        self.canvas.bind("<Configure>", self._on_configure)
        self._layout()
        self._tick()

    # ----------------------------------------------------------------- public API
    @property
    def flashing(self) -> bool:
        return self._flash_job is not None

    @property
    def scale(self) -> Scale:
        return self._scale

    def set_voice_fault(self, fault: bool) -> None:
        """Show or hide the small "voice failed" indicator (beside the offline one)."""
        if fault != self._voice_fault:
            self._voice_fault = fault
            self._draw_net()

    def set_online(self, online: bool) -> None:
        """Show or hide the discreet offline indicator."""
        if online != self._online:
            self._online = online
            self._draw_net()

    def destroy(self) -> None:
        for job in (self._flash_job, self._clock_job):
            if job is not None:
                self.canvas.after_cancel(job)
        self._flash_job = self._clock_job = None
        self.canvas.destroy()

    # ----------------------------------------------------------------- size and scale
    def _on_configure(self, event: tk.Event[tk.Canvas]) -> None:
        if (event.width, event.height) != self._size:
            self._layout()

    def _fit(self) -> tuple[int, int]:
        """Fit the design (and the fonts) to the canvas's current size; that size."""
        w, h = self.canvas.winfo_width(), self.canvas.winfo_height()
        if w <= 1 or h <= 1:  # not mapped yet: the requested size
            w, h = int(self.canvas.cget("width")), int(self.canvas.cget("height"))
        self._size = (w, h)
        self._scale = Scale.fit(w, h, self.DESIGN)
        self.fonts.set_unit(self._scale.factor)
        return w, h

    # ----------------------------------------------------------------- drawing
    def _text(self, x: float, y: float, text: str, font: str, fill: str = look.FG,
              anchor: str = "w", tags: str = "") -> int:
        item: int = self.canvas.create_text(  # type: ignore[call-overload]
            x, y, text=text, font=self.fonts[font], fill=fill, anchor=anchor, tags=tags)
        return item

    def _painted(self) -> None:
        """Scheduled (after_idle) at the end of each repaint."""
        self.paints += 1
        if self.on_painted is not None:
            self.on_painted(self._view)

    def _net_text(self) -> str:
        """The indicator's text: offline and/or voice failed; "" while all is well."""
        parts = [] if self._online else [
            tr("board.connecting") if self._online is None else tr("board.offline")]
        if self._voice_fault:
            parts.append(tr("board.voice_fault"))
        return "  ".join(parts)

    # ----------------------------------------------------------------- flash
    def _new_call(self, key: tuple[int, int, str] | None) -> bool:
        """True once for each call not seen before (a recall is a new call)."""
        if key is None or key == self._flash_key:
            return False
        self._flash_key = key
        return True

    def _start_flash(self) -> None:
        """Flash for flash_seconds from now (a flash under way just lasts longer)."""
        self._flash_until = time.monotonic() + self.flash_seconds
        if self._flash_job is None and self.flash_seconds > 0:
            self._flash_on = True
            self._flash_job = self.canvas.after(FLASH_PERIOD_MS, self._flash_step)

    def _flash_step(self) -> None:
        if time.monotonic() >= self._flash_until:
            self._flash_on = False
            self._flash_job = None
        else:
            self._flash_on = not self._flash_on
            self._flash_job = self.canvas.after(FLASH_PERIOD_MS, self._flash_step)
        self._paint_flash()

    # ----------------------------------------------------------------- clock
    def _tick(self) -> None:
        self._update_clock()
        ms = int(time.time() * 1000) % 1000
        self._clock_job = self.canvas.after(1000 - ms + 5, self._tick)

    # ----------------------------------------------------------------- the subclass's
    def _layout(self) -> None:
        raise NotImplementedError

    def _paint_flash(self) -> None:
        raise NotImplementedError

    def _update_clock(self) -> None:
        raise NotImplementedError

    def _draw_net(self) -> None:
        raise NotImplementedError
