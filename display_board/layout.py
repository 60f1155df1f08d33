"""Scaling a fixed design to whatever screen the board gets (720p to 4K, portrait too).

Boards are drawn in design pixels (1920x1080 landscape, 1080x1920 portrait) and every
coordinate and font size goes through one Scale, so a 4K screen gets exactly the same
picture twice as sharp and a 1280x720 one two thirds as big. Fonts are sized in pixels
(negative Tk sizes) so the result does not depend on the PC's DPI setting.
"""

from __future__ import annotations

import tkinter as tk
from dataclasses import dataclass
from tkinter import font as tkfont
from typing import Literal

from queue_common import tk_look

LANDSCAPE = (1920, 1080)
PORTRAIT = (1080, 1920)


@dataclass(frozen=True)
class Scale:
    """Design -> screen: uniform factor, centred (letterboxed) in the real canvas."""

    design_w: int
    design_h: int
    factor: float
    dx: float
    dy: float

    @classmethod
    def fit(cls, width: int, height: int, design: tuple[int, int] | None = None) -> Scale:
        """Portrait design on a taller-than-wide screen, landscape otherwise."""
        dw, dh = design or (PORTRAIT if height > width else LANDSCAPE)
        width, height = max(width, 1), max(height, 1)
        f = min(width / dw, height / dh)
        return cls(dw, dh, f, (width - dw * f) / 2, (height - dh * f) / 2)

    @property
    def portrait(self) -> bool:
        return self.design_h > self.design_w

    def x(self, v: float) -> float:
        return self.dx + v * self.factor

    def y(self, v: float) -> float:
        return self.dy + v * self.factor

    def px(self, v: float) -> int:
        """A length (font size, line width) in screen pixels, at least 1."""
        return max(1, round(v * self.factor))

    def box(self, x0: float, y0: float, x1: float, y1: float
            ) -> tuple[float, float, float, float]:
        return (self.x(x0), self.y(y0), self.x(x1), self.y(y1))


class Fonts:
    """Named fonts created once and resized only when the size really changes.

    Reconfiguring a Tk font makes every item drawn with it re-measure itself, so sizes
    are tracked and text is measured with separate scratch fonts.
    """

    def __init__(self, root: tk.Misc,
                 sizes: dict[str, tuple[int, Literal["normal", "bold"]]]) -> None:
        """sizes: role -> (design pixel size, "bold" | "normal")."""
        family = tk_look.pick_family(root)
        self._design = dict(sizes)
        self._fonts = {role: tkfont.Font(root=root, family=family, size=-size, weight=weight)
                       for role, (size, weight) in sizes.items()}
        self._current = {role: size for role, (size, _w) in sizes.items()}
        self._root = root
        self._family = family
        # Measuring needs the face loaded at that size (~0.5 ms through Xft): one scratch
        # font per (weight, size) stays loaded, and widths are remembered.
        self._scratch: dict[tuple[str, int], tkfont.Font] = {}
        self._widths: dict[tuple[str, str, int], int] = {}

    def __getitem__(self, role: str) -> tkfont.Font:
        return self._fonts[role]

    def size(self, role: str) -> int:
        """The role's current size in screen pixels."""
        return self._current[role]

    def set_size(self, role: str, px: int) -> None:
        px = max(6, px)
        if self._current[role] != px:
            self._current[role] = px
            self._fonts[role].configure(size=-px)

    def scale(self, s: Scale) -> None:
        for role, (size, _weight) in self._design.items():
            self.set_size(role, s.px(size))

    def measure(self, role: str, text: str, px: int) -> int:
        """Width of text in the role's face at px pixels (the role's font is untouched)."""
        weight = self._design[role][1]
        key = (weight, text, px)
        width = self._widths.get(key)
        if width is None:
            scratch = self._scratch.get((weight, px))
            if scratch is None:
                scratch = self._scratch[(weight, px)] = tkfont.Font(
                    root=self._root, family=self._family, size=-px, weight=weight)
            if len(self._widths) > 2000:
                self._widths.clear()
            width = self._widths[key] = scratch.measure(text)
        return width

    def fitted(self, role: str, text: str, max_width: float, s: Scale,
               max_px: int | None = None) -> tkfont.Font:
        """The role's font at its design size, or smaller so text fits max_width."""
        size = s.px(self._design[role][0])
        if max_px is not None:
            size = min(size, max_px)
        width = self.measure(role, text, size)
        if width > max_width > 0:
            size = max(8, int(size * max_width / width))
        self.set_size(role, size)
        return self._fonts[role]
