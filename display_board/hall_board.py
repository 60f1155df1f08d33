"""The hall board (综合屏): one Canvas drawn from a BoardView, scaled to any screen.

Landscape (1920x1080 design) and portrait (1080x1920) layouts share every drawing
routine; only the regions differ. High contrast (queue_common.tk.look palette: white and yellow on
dark blue), numbers at least ~48 design px so they read from 10 m on a 55" screen.

Only the Tk thread calls this module. Updates are cheap: `show()` redraws the dynamic
items (a few dozen), the clock ticks once a second on the second, the newest call
flashes for `flash_seconds` and then stops (no timer runs on an idle board except the
clock, and the notice marquee when the notice is too long to fit). The canvas, scaling,
timers and offline state are canvas_view.CanvasView's; this module draws.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo

from display_board import messages  # noqa: F401  (registers the catalogue)
from display_board.board_model import BoardView, CallRow, WindowRow
from display_board.canvas_view import CanvasView
from queue_common.hall_time import hall_zone
from queue_common.i18n import tr
from queue_common.tk import look
from queue_common.tk.fonts import FontSpec

Box = tuple[float, float, float, float]

# Readable from 10 m on a 55" 1080p screen: about 1 cm of character per 3 m of
# distance (signage practice), i.e. at least 54 px per character there. The window
# list and the last calls keep that size (design pixels, so 108 px on 4K and 36 px on
# a 720p screen of the same distance class); the banner's call is bigger still.
READABLE_PX = 54

FONT_SIZES: dict[str, FontSpec] = {  # design px, weight
    "title": FontSpec(46, "bold"),
    "clock": FontSpec(64, "bold"),
    "date": FontSpec(34, "normal"),
    "banner": FontSpec(132, "bold"),  # portrait: up to 0.36 of the banner's height
    "banner_tag": FontSpec(36, "bold"),
    "head": FontSpec(32, "normal"),
    "row": FontSpec(60, "bold"),
    "row_state": FontSpec(60, "bold"),
    "recent": FontSpec(READABLE_PX, "bold"),
    "group": FontSpec(34, "normal"),
    "group_n": FontSpec(36, "bold"),
    "notice": FontSpec(38, "normal"),
    "net": FontSpec(22, "normal"),
}

STATE_COLOURS = {
    "calling": look.ACCENT,
    "serving": look.OK,
    "idle": look.FG,
    "paused": look.WARN,
    "closed": look.MUTED,
}


@dataclass(frozen=True)
class Regions:
    """Design-pixel boxes of one orientation."""

    header: Box
    banner: Box
    table: Box
    recent: Box
    waiting: Box
    footer: Box


LANDSCAPE_REGIONS = Regions(
    header=(0, 0, 1920, 112), banner=(30, 124, 1236, 340), table=(30, 356, 1236, 988),
    recent=(1262, 124, 1890, 636), waiting=(1262, 652, 1890, 988), footer=(0, 1004, 1920, 1080))
PORTRAIT_REGIONS = Regions(
    header=(0, 0, 1080, 176), banner=(30, 188, 1050, 500), table=(30, 516, 1050, 1240),
    recent=(30, 1260, 610, 1836), waiting=(630, 1260, 1050, 1836), footer=(0, 1852, 1080, 1920))
ROW_PITCH = 1.3  # row height / character height: the list's line spacing
HEAD_H = 52

MARQUEE_MS = 40
MARQUEE_DESIGN_PX_PER_S = 110  # an elderly reader's pace


def _idle_banner(view: BoardView | None) -> str:
    """The banner with no call yet: issuing open, not yet (from HH:MM), or ended."""
    if view is None or view.issuing == "open":
        return tr("board.no_call")
    if view.issuing == "not_yet" and view.opening:
        return tr("board.not_yet", opening=view.opening)
    return tr("board.hall_closed")


class HallBoard(CanvasView[BoardView]):
    """Draws BoardViews on a Canvas filling `master`; call show() with each new view."""

    def __init__(self, master: tk.Misc, *, flash_seconds: int = 10,
                 now: Callable[[tzinfo | None], datetime] | None = None) -> None:
        super().__init__(master, FONT_SIZES, size=(960, 540), flash_seconds=flash_seconds,
                         now=now)
        self.master = master
        self._regions = LANDSCAPE_REGIONS
        self._marquee_job: str | None = None
        self._notice_text = ""
        self._clock_text = self._date_text = ""
        self._slots: dict[str, tuple[int, tuple[object, ...]]] = {}
        self._touched: set[str] = set()
        self._start()

    # ----------------------------------------------------------------- public API
    def show(self, view: BoardView) -> None:
        """Render a new view; a call not seen before (or a recall) starts the flash."""
        first = self._view is None
        self._view = view
        self._zone = hall_zone(view.timezone)
        newest = view.newest
        if (newest is not None and self._new_call(newest.key)
                and (not first or self._is_recent(newest))):
            self._start_flash()
        self._draw_dynamic()
        self._draw_notice()
        self._update_clock()

    def destroy(self) -> None:
        if self._marquee_job is not None:
            self.canvas.after_cancel(self._marquee_job)
            self._marquee_job = None
        super().destroy()

    # ----------------------------------------------------------------- layout
    def _layout(self) -> None:
        w, h = self._fit()
        self._regions = PORTRAIT_REGIONS if self._scale.portrait else LANDSCAPE_REGIONS
        c = self.canvas
        c.delete("all")
        self._slots.clear()
        s, r = self._scale, self._regions
        c.create_rectangle(s.box(*r.header), fill=look.PANEL, width=0)
        c.create_rectangle(0, s.y(r.footer[1]), w, h, fill=look.PANEL, width=0)
        for box in (r.table, r.recent, r.waiting):
            c.create_rectangle(s.box(*box), outline=look.PANEL, width=s.px(3))
        c.create_rectangle(s.box(*r.banner), fill=look.PANEL, width=0, tags="banner_bg")
        self._notice_text = ""
        self._draw_dynamic()
        self._draw_notice()
        self._draw_net()
        self._update_clock(force=True)

    # ----------------------------------------------------------------- drawing
    def _put_text(self, key: str, x: float, y: float, text: str, font: str,
                  fill: str = look.FG, anchor: str = "w", tags: str = "") -> int:
        """Create or update the text item `key`; unchanged items are not touched.

        A repaint after a call changes a handful of texts; recreating the board's ~80
        items each time would cost ~20 ms of the Tk thread at 1080p.
        """
        self._touched.add(key)
        spec = (round(x, 1), round(y, 1), text, font, fill, anchor)
        slot = self._slots.get(key)
        if slot is None:
            item = self._text(x, y, text, font, fill, anchor, f"dyn {tags}".strip())
            self._slots[key] = (item, spec)
            return item
        item, old = slot
        if old != spec:
            c = self.canvas
            if old[:2] != spec[:2]:
                c.coords(item, x, y)
            c.itemconfigure(item, text=text, font=self.fonts[font], fill=fill,
                            anchor=anchor)
            self._slots[key] = (item, spec)
        return item

    def _put_rect(self, key: str, box: tuple[float, float, float, float], fill: str,
                  lower: bool = True) -> None:
        """lower: behind every dynamic text (stripes); else on top (the recall tag's pill,
        its text drawn after it)."""
        self._touched.add(key)
        spec = (*(round(v, 1) for v in box), fill)
        slot = self._slots.get(key)
        if slot is None:
            item = self.canvas.create_rectangle(box, fill=fill, width=0, tags="dyn")
            if lower:
                self.canvas.tag_lower(item, "dyn")  # stripes stay behind the row texts
            self._slots[key] = (item, spec)
        elif slot[1] != spec:
            self.canvas.coords(slot[0], *box)
            self.canvas.itemconfigure(slot[0], fill=fill)
            self._slots[key] = (slot[0], spec)

    def _draw_dynamic(self) -> None:
        s, r = self._scale, self._regions
        self._touched = set()
        view = self._view
        # Header: hall name (left, or centred on top in portrait).
        name = view.hall_name if view else ""
        hx0, hy0, hx1, _ = r.header
        if s.portrait:
            self.fonts.fitted("title", name, s.px(hx1 - hx0 - 60))
            self._put_text("title", s.x((hx0 + hx1) / 2), s.y(hy0 + 52), name, "title",
                           anchor="center")
        else:
            self.fonts.fitted("title", name, s.px(1150))
            self._put_text("title", s.x(hx0 + 40), s.y(hy0 + 56), name, "title")
        self._draw_banner(view.newest if view else None, view)
        self._draw_table(view.windows if view else ())
        self._draw_recent(view.recent if view else ())
        self._draw_waiting(view)
        for key in [k for k in self._slots if k not in self._touched]:
            self.canvas.delete(self._slots.pop(key)[0])
        self.canvas.after_idle(self._painted)

    def _draw_banner(self, call: CallRow | None, view: BoardView | None) -> None:
        s = self._scale
        x0, y0, x1, y1 = self._regions.banner
        width = s.px(x1 - x0 - 60)
        cx, cy = s.x((x0 + x1) / 2), s.y((y0 + y1) / 2)
        if call is None:
            text = _idle_banner(view)
            self.fonts.fitted("banner", text, width, max_px=s.px(64))
            self._put_text("banner", cx, cy, text, "banner", fill=look.FG, anchor="center",
                           tags="banner_text")
        else:
            key = "board.call_portrait" if s.portrait else "board.call"
            text = tr(key, number=call.number, counter=call.counter)
            left = s.x(x0 + 30)
            if call.recall:
                # 重呼 on its own deep-red pill at the banner's left, the call beside it:
                # white on red reads on the dark banner and the flashing yellow one
                # alike (orange on yellow was 1.4:1).
                tag = tr("board.recall_tag")
                pad = s.px(10)
                tag_w = self.fonts.measure("banner_tag", tag)
                tag_h = self.fonts["banner_tag"].metrics("linespace")
                bx, by = s.x(x0 + 16), s.y(y0 + 14)
                self._put_rect("banner_tag_bg", (bx, by, bx + tag_w + 2 * pad,
                                                 by + tag_h + pad), look.TAG_BG, lower=False)
                self._put_text("banner_tag", bx + pad, by + (tag_h + pad) / 2, tag,
                               "banner_tag", fill=look.FG, tags="banner_tag")
                left = bx + tag_w + 2 * pad + s.px(20)
            right = s.x(x1 - 30)
            # Portrait: two lines, as big as the banner's height allows.
            self.fonts.fitted("banner", text, right - left,
                              max_px=s.px((y1 - y0) * 0.36) if s.portrait else None)
            item = self._put_text("banner", (left + right) / 2, cy + s.px(6), text, "banner",
                                  fill=look.ACCENT, anchor="center", tags="banner_text")
            self.canvas.itemconfigure(item, justify="center")
        self._paint_flash()

    def _table_columns(self, x0: float, x1: float) -> tuple[float, float, float]:
        w = x1 - x0
        return (x0 + 0.04 * w, x0 + 0.30 * w, x0 + 0.64 * w)

    def _draw_table(self, rows: tuple[WindowRow, ...]) -> None:
        s = self._scale
        x0, y0, x1, y1 = self._regions.table
        body_top = y0 + HEAD_H
        avail = y1 - body_top - 8
        n = max(1, len(rows))
        # One column of rows while they stay readable (READABLE_PX), else two side by side.
        blocks = 1 if n * READABLE_PX * ROW_PITCH <= avail else 2
        per_block = -(-n // blocks)
        row_h = min(FONT_SIZES["row"].size * ROW_PITCH, avail / per_block)
        block_w = (x1 - x0) / blocks
        px = s.px(min(FONT_SIZES["row"].size, row_h / ROW_PITCH))
        self.fonts.set_px("row", px)
        # The widest state ("Lunch break", "系统维护") must fit its column: only the
        # state column shrinks, numbers and tickets stay as big as the rows allow.
        widest = max((self.fonts.measure("row", r.state_text, px) for r in rows), default=0)
        room = s.px(0.34 * block_w)
        self.fonts.set_px("row_state", px if widest <= room else int(px * room / widest))
        for b in range(blocks):
            bx0 = x0 + b * block_w
            cols = self._table_columns(bx0, bx0 + block_w)
            for k, (col, key) in enumerate(zip(cols, ("board.col_counter", "board.col_ticket",
                                                      "board.col_state"), strict=True)):
                self._put_text(f"thead{b}.{k}", s.x(col), s.y(y0 + HEAD_H / 2), tr(key),
                               "head", fill=look.MUTED)
        for i, row in enumerate(rows):
            b, j = divmod(i, per_block)
            bx0 = x0 + b * block_w
            top = body_top + j * row_h
            if j % 2 == 0:
                self._put_rect(f"stripe{i}", s.box(bx0 + 4, top, bx0 + block_w - 4,
                                                   top + row_h), look.PANEL)
            cols = self._table_columns(bx0, bx0 + block_w)
            mid = s.y(top + row_h / 2)
            colour = STATE_COLOURS.get(row.state, look.FG)
            dim = row.state == "closed"
            self._put_text(f"row{i}.n", s.x(cols[0]), mid,
                           tr("board.counter_cell", number=row.number), "row",
                           fill=look.MUTED if dim else look.FG)
            self._put_text(f"row{i}.t", s.x(cols[1]), mid, row.ticket or "—", "row",
                           fill=look.ACCENT if row.ticket else look.MUTED)
            self._put_text(f"row{i}.s", s.x(cols[2]), mid, row.state_text, "row_state",
                           fill=colour)

    def _draw_recent(self, calls: tuple[CallRow, ...]) -> None:
        s = self._scale
        x0, y0, x1, y1 = self._regions.recent
        self._put_text("recent.title", s.x(x0 + 24), s.y(y0 + 30), tr("board.recent_title"),
                       "head", fill=look.MUTED)
        top = y0 + 64
        # As many calls as fit at the readable size (the newest first).
        shown = calls[:max(1, int((y1 - top - 8) // (READABLE_PX * ROW_PITCH)))]
        row_h = min(READABLE_PX * 1.4, (y1 - top - 8) / max(1, len(shown)))
        if not shown:
            self.fonts.set_px("recent", s.px(READABLE_PX))
            self._put_text("recent.none", s.x(x0 + 24), s.y(top + 34),
                           tr("board.recent_none"), "group", fill=look.MUTED)
            return
        targets = ["→ " + tr("board.to_counter", counter=c.counter) for c in shown]
        widest = max(self.fonts.measure("recent", f"{c.number}  {t}", s.px(READABLE_PX))
                     for c, t in zip(shown, targets, strict=True))
        room = s.px(x1 - x0 - 48)
        self.fonts.set_px("recent", s.px(READABLE_PX) if widest <= room
                          else int(s.px(READABLE_PX) * room / widest))
        for i, (call, target) in enumerate(zip(shown, targets, strict=True)):
            mid = s.y(top + i * row_h + row_h / 2)
            self._put_text(f"recent{i}.n", s.x(x0 + 24), mid, call.number, "recent")
            self._put_text(f"recent{i}.c", s.x(x1 - 24), mid, target, "recent", anchor="e")

    def _draw_waiting(self, view: BoardView | None) -> None:
        s = self._scale
        x0, y0, x1, y1 = self._regions.waiting
        self._put_text("waiting.title", s.x(x0 + 24), s.y(y0 + 30),
                       tr("board.waiting_title"), "head", fill=look.MUTED)
        if view is None:
            return
        self._put_text("waiting.total", s.x(x1 - 24), s.y(y0 + 30),
                       tr("board.waiting_total", count=view.waiting_total), "head",
                       fill=look.ACCENT, anchor="e")
        groups = view.groups
        cols = 2 if len(groups) > 5 and x1 - x0 >= 560 else 1
        per_col = max(1, -(-len(groups) // cols))
        top = y0 + 64
        row_h = min(64.0, (y1 - top - 8) / per_col)
        size = max(18, min(FONT_SIZES["group"].size, int(row_h * 0.62)))
        col_w = (x1 - x0) / cols
        # The longest name (an English department name) must fit beside its count.
        count_w = self.fonts.measure("group_n", "000", s.px(size + 2))
        room = s.px(col_w - 48) - count_w - s.px(16)
        widest = max((self.fonts.measure("group", g.name, s.px(size)) for g in groups),
                     default=0)
        scale = min(1.0, room / widest) if widest else 1.0
        self.fonts.set_px("group", int(s.px(size) * scale))
        self.fonts.set_px("group_n", s.px(size + 2))
        for i, g in enumerate(groups):
            col, j = divmod(i, per_col)
            cx0 = x0 + col * col_w
            mid = s.y(top + j * row_h + row_h / 2)
            self._put_text(f"group{i}.n", s.x(cx0 + 24), mid, g.name, "group")
            self._put_text(f"group{i}.c", s.x(cx0 + col_w - 24), mid, str(g.waiting),
                           "group_n", fill=look.ACCENT if g.waiting else look.MUTED,
                           anchor="e")

    # ----------------------------------------------------------------- flash
    def _is_recent(self, call: CallRow) -> bool:
        """On the first view (start-up) only a call of the last flash period flashes."""
        try:
            at = datetime.fromisoformat(call.at)
            return (self._now(at.tzinfo) - at).total_seconds() < self.flash_seconds
        except (TypeError, ValueError):
            return False

    def _paint_flash(self) -> None:
        """Yellow panel with dark text, then dark panel with yellow text, alternating."""
        on = self._flash_on and self._view is not None and self._view.newest is not None
        self.canvas.itemconfigure("banner_bg", fill=look.ACCENT if on else look.PANEL)
        if self._view is not None and self._view.newest is not None:
            self.canvas.itemconfigure("banner_text", fill=look.BG if on else look.ACCENT)

    # ----------------------------------------------------------------- clock, notice, net
    def _update_clock(self, force: bool = False) -> None:
        c, s, r = self.canvas, self._scale, self._regions
        now = self._now(self._zone)
        clock = now.strftime("%H:%M:%S")
        date = (tr("board.date", y=now.year, m=now.month, d=now.day) + "  "
                + tr(f"weekday.{now.weekday()}"))
        if force or not c.find_withtag("clock"):
            self._clock_text, self._date_text = clock, date
            c.delete("clock", "date")
            hx0, hy0, hx1, hy1 = r.header
            if s.portrait:
                self._text(s.x(hx1 - 40), s.y(hy0 + 126), clock, "clock", anchor="e",
                           tags="clock")
                self._text(s.x(hx0 + 40), s.y(hy0 + 126), date, "date", tags="date")
            else:
                self._text(s.x(hx1 - 40), s.y(hy0 + 56), clock, "clock", anchor="e",
                           tags="clock")
                clock_w = self.fonts["clock"].measure("00:00:00")
                self._text(s.x(hx1 - 40 - 36) - clock_w, s.y(hy0 + 58), date, "date",
                           anchor="e", tags="date")
            return
        if clock != self._clock_text:
            c.itemconfigure("clock", text=clock)
        if date != self._date_text:
            c.itemconfigure("date", text=date)
        self._clock_text, self._date_text = clock, date

    def _draw_notice(self) -> None:
        text = self._view.notice if self._view else ""
        if text == self._notice_text and self.canvas.find_withtag("notice"):
            return
        self._notice_text = text
        c, s = self.canvas, self._scale
        c.delete("notice")
        if self._marquee_job is not None:
            c.after_cancel(self._marquee_job)
            self._marquee_job = None
        fx0, fy0, fx1, fy1 = self._regions.footer
        mid = s.y((fy0 + fy1) / 2)
        width = self.fonts["notice"].measure(text)
        if width <= s.px(fx1 - fx0 - 60):
            self._text(s.x((fx0 + fx1) / 2), mid, text, "notice", anchor="center",
                       tags="notice")
            return
        # Too long to fit: start readable at the left margin, scroll right to left, and
        # come back in from the right edge once it has left the screen.
        self._text(s.x(fx0 + 30), mid, text, "notice", tags="notice")
        self._marquee_job = c.after(MARQUEE_MS, self._marquee_step)

    def _marquee_step(self) -> None:
        c = self.canvas
        step = max(1, round(MARQUEE_DESIGN_PX_PER_S * MARQUEE_MS / 1000 * self._scale.factor))
        c.move("notice", -step, 0)
        bbox = c.bbox("notice")
        if bbox and bbox[2] < 0:
            c.move("notice", self._size[0] - bbox[0], 0)
        self._marquee_job = c.after(MARQUEE_MS, self._marquee_step)

    def _draw_net(self) -> None:
        c, s, r = self.canvas, self._scale, self._regions
        c.delete("net")
        text = self._net_text()
        if not text:
            return
        hx0, hy0, hx1, hy1 = r.header
        if s.portrait:
            self._text(s.x((hx0 + hx1) / 2), s.y(hy1 - 14), text, "net", fill=look.WARN,
                       anchor="center", tags="net")
        else:
            self._text(s.x(hx1 - 40), s.y(hy1 - 12), text, "net", fill=look.WARN,
                       anchor="e", tags="net")
