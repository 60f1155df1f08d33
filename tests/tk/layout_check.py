"""Is everything on a screen readable: inside its window, and no text cut off?

`layout_problems(window)` walks every mapped widget of a window and reports, in words:
- a widget reaching outside the window, or outside the part of its parent that shows
  (a child of a fixed-size frame is clipped by it);
- a widget given less room than it asked for (Tk computes what a label or button needs
  for its text and font: less is a cut-off text);
- a line of text wider than the widget that holds it, measured with the widget's own
  font (`font.measure`), wrapped texts line by line as Tk wraps them;
- on a Canvas (the board), a text item reaching outside the canvas, and two text items
  overlapping each other.

The board draws a notice marquee that scrolls off on purpose: items tagged "notice" are
exempt from the inside-the-canvas rule.
"""

from __future__ import annotations

import contextlib
import re
import tkinter as tk
from collections.abc import Iterator
from tkinter import font as tkfont
from tkinter import ttk
from typing import Any

Box = tuple[int, int, int, int]
# An English word (or number): Tk breaks one wider than the wrap length in the middle.
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’.,:/&()-]*")
SLACK = 1  # px: Tk rounds, a one-pixel touch is not a cut


def _box(w: tk.Misc) -> Box:
    x, y = w.winfo_rootx(), w.winfo_rooty()
    return (x, y, x + w.winfo_width(), y + w.winfo_height())


def _inside(inner: Box, outer: Box) -> bool:
    return (inner[0] >= outer[0] - SLACK and inner[1] >= outer[1] - SLACK
            and inner[2] <= outer[2] + SLACK and inner[3] <= outer[3] + SLACK)


def _intersect(a: Box, b: Box) -> Box:
    return (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))


def _mapped_children(w: tk.Misc) -> Iterator[tk.Misc]:
    for child in w.winfo_children():
        if isinstance(child, tk.Toplevel | tk.Menu):
            continue  # a dialog is a window of its own
        if child.winfo_ismapped():
            yield child


def _font_of(w: tk.Misc) -> tkfont.Font | None:
    try:
        spec: Any = w.cget("font")
    except tk.TclError:
        spec = None
    if not spec and isinstance(w, ttk.Widget):
        style = str(w.cget("style") or w.winfo_class())
        spec = ttk.Style(w).lookup(style, "font") or ttk.Style(w).lookup(".", "font")
    if not spec:
        spec = "TkDefaultFont"
    # The widget's own font object: a copy (Font(font=...)) rounds pixel sizes to
    # points and measures differently.
    with contextlib.suppress(tk.TclError, RuntimeError):
        if str(spec) in tkfont.names(w):
            return tkfont.nametofont(str(spec), root=w)
    try:
        return tkfont.Font(root=w, font=spec)
    except tk.TclError:
        return None


def _text_of(w: tk.Misc) -> str:
    try:
        text = w.cget("text")
    except tk.TclError:
        return ""
    return str(text or "")


def _option(w: tk.Misc, name: str, default: int = 0) -> int:
    try:
        value = w.cget(name)
    except tk.TclError:
        return default
    try:
        return int(str(value).split()[0]) if str(value) else default
    except ValueError:
        return default


def _ttk_padding(w: tk.Misc) -> tuple[int, int, int, int]:
    style = str(w.cget("style") or w.winfo_class())
    pad: Any = None
    with contextlib.suppress(tk.TclError):
        pad = w.cget("padding")
    if not pad:
        pad = ttk.Style(w).lookup(style, "padding")
    parts = [int(float(str(p))) for p in (pad if isinstance(pad, tuple | list)
                                          else str(pad).split())] if pad else []
    if not parts:
        return (0, 0, 0, 0)
    left = parts[0]
    top = parts[1] if len(parts) > 1 else left
    right = parts[2] if len(parts) > 2 else left
    bottom = parts[3] if len(parts) > 3 else top
    return (left, top, right, bottom)


def _anchor(w: tk.Misc) -> str:
    with contextlib.suppress(tk.TclError):
        return str(w.cget("anchor") or "center")
    return "center"


def _text_room(w: tk.Misc) -> tuple[int, int]:
    """(width, height) the text can use. Padding may be eaten (a touch button with less
    margin is still readable), borders may not; text anchored to a side starts after
    that side's padding, so there the padding counts."""
    anchor = _anchor(w)
    if isinstance(w, ttk.Widget):
        left, top, right, bottom = _ttk_padding(w)
        edge = 2 * _option(w, "borderwidth")
        side = left if "w" in anchor else right if "e" in anchor else 0
        vert = top if "n" in anchor else bottom if "s" in anchor else 0
        return w.winfo_width() - edge - side, w.winfo_height() - edge - vert
    edge = 2 * (_option(w, "borderwidth") + _option(w, "highlightthickness"))
    side = _option(w, "padx") if ("w" in anchor or "e" in anchor) else 0
    vert = _option(w, "pady") if ("n" in anchor or "s" in anchor) else 0
    return w.winfo_width() - edge - side, w.winfo_height() - edge - vert


def _text_height(w: tk.Misc) -> int:
    """The height of the text itself: what Tk asked for less padding and borders."""
    if isinstance(w, ttk.Widget):
        _, top, _, bottom = _ttk_padding(w)
        return w.winfo_reqheight() - top - bottom - 2 * _option(w, "borderwidth")
    edge = 2 * (_option(w, "borderwidth") + _option(w, "highlightthickness"))
    return w.winfo_reqheight() - 2 * _option(w, "pady") - edge


def _line_widths(text: str, font: tkfont.Font, wrap: int) -> list[tuple[str, int]]:
    """Each shown line and its width, wrapped the way Tk wraps a label: greedily, at the
    last space of a line that no longer fits or, in Chinese (no spaces), between
    characters."""
    out: list[tuple[str, int]] = []
    for para in text.split("\n"):
        if wrap <= 0 or font.measure(para) <= wrap:
            out.append((para, font.measure(para)))
            continue
        line = ""
        for ch in para:
            if line and font.measure(line + ch) > wrap:
                cut = line.rfind(" ")
                if cut > 0 and ch != " ":
                    out.append((line[:cut], font.measure(line[:cut])))
                    line = line[cut + 1:] + ch
                else:
                    out.append((line.rstrip(), font.measure(line.rstrip())))
                    line = ch.lstrip()
            else:
                line += ch
        out.append((line, font.measure(line)))
    return out


def widget_problems(window: tk.Misc) -> list[str]:
    out: list[str] = []
    window.update_idletasks()
    win_box = _box(window)

    def visit(w: tk.Misc, shown: Box) -> None:
        box = _box(w)
        name = f"{w.winfo_class()} {w}"
        if not _inside(box, win_box):
            out.append(f"{name} reaches outside the window: {box} not in {win_box}")
        elif not _inside(box, shown):
            out.append(f"{name} is clipped by its parent: {box} not in {shown}")
        text = _text_of(w)
        framed = isinstance(w, tk.Frame | ttk.Frame | ttk.Labelframe | tk.LabelFrame)
        if text and not framed:
            room, room_h = _text_room(w)
            needs = _text_height(w)
            if needs > room_h + SLACK and not isinstance(w, ttk.Entry | tk.Entry):
                out.append(f"{name} {text!r} has {room_h} px of height for its text, "
                           f"needs {needs}")
            font = _font_of(w)
            if font is not None:
                wrap = _option(w, "wraplength")
                for line, width in _line_widths(text, font, wrap):
                    if width > room + SLACK:
                        out.append(f"{name}: {line!r} is {width} px wide, the widget has "
                                   f"{room} px")
                if wrap > 0:
                    for word in _WORD.findall(text):
                        if font.measure(word) > wrap:
                            out.append(f"{name}: the word {word!r} is broken in two "
                                       f"(wider than the {wrap} px it wraps at)")
        if isinstance(w, tk.Entry | ttk.Entry) and w.get():
            font = _font_of(w)
            if font is not None and font.measure(w.get()) > _text_room(w)[0] + SLACK:
                out.append(f"{name}: typed {w.get()!r} is wider than the entry")
        if isinstance(w, tk.Canvas):
            out.extend(canvas_problems(w))
        if isinstance(w, ttk.Treeview):
            out.extend(tree_problems(w))
        inner = _intersect(shown, box)
        for child in _mapped_children(w):
            visit(child, inner)

    for child in _mapped_children(window):
        visit(child, win_box)
    return out


def canvas_problems(canvas: tk.Canvas) -> list[str]:
    out: list[str] = []
    width, height = canvas.winfo_width(), canvas.winfo_height()
    texts = []
    for item in canvas.find_all():
        if canvas.type(item) != "text" or not canvas.itemcget(item, "text").strip():
            continue
        if canvas.itemcget(item, "state") == "hidden":
            continue
        bbox = canvas.bbox(item)
        if not bbox:
            continue
        tags = canvas.gettags(item)
        text = canvas.itemcget(item, "text")
        if "notice" in tags:
            continue  # the marquee scrolls across and off the screen on purpose
        x0, y0, x1, y1 = bbox
        if x0 < -SLACK or y0 < -SLACK or x1 > width + SLACK or y1 > height + SLACK:
            out.append(f"canvas text {text!r} at {bbox} reaches outside {width}x{height}")
        texts.append((text, _ink_box(canvas, item, bbox)))
    for i, (text_a, a) in enumerate(texts):
        for text_b, b in texts[i + 1:]:
            if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                out.append(f"canvas texts overlap: {text_a!r} {a} and {text_b!r} {b}")
    return out


def _ink_box(canvas: tk.Canvas, item: int, bbox: tuple[int, int, int, int]) -> Box:
    """A text item's box without the font's empty leading above and below the glyphs."""
    spec = canvas.itemcget(item, "font")
    font = (tkfont.nametofont(spec, root=canvas) if spec in tkfont.names(canvas)
            else tkfont.Font(root=canvas, font=spec))
    lines = max(1, canvas.itemcget(item, "text").count("\n") + 1)
    ascent, descent = font.metrics("ascent"), font.metrics("descent")
    trim = int(min(ascent, descent) * 0.5) if lines == 1 else 0
    x0, y0, x1, y1 = bbox
    return (x0 + 1, y0 + trim, x1 - 1, y1 - trim)


def tree_problems(tree: ttk.Treeview) -> list[str]:
    """A cell's text wider than its column (the list shows it cut)."""
    out: list[str] = []
    font = _font_of(tree)
    if font is None:
        return out
    columns = list(tree.cget("columns"))
    for index, column in enumerate(columns):
        room = int(tree.column(column, "width")) - 8
        heading = str(tree.heading(column, "text"))
        if heading and font.measure(heading) > room + SLACK:
            out.append(f"{tree} heading {heading!r} is wider than its column ({room} px)")
        for iid in tree.get_children():
            values = tree.item(iid, "values")
            if index < len(values) and font.measure(str(values[index])) > room + SLACK:
                out.append(f"{tree} cell {values[index]!r} is wider than column "
                           f"{column!r} ({room} px)")
    return out


def layout_problems(window: tk.Misc) -> list[str]:
    """Everything wrong with what window shows now (empty: all fits)."""
    return widget_problems(window)
