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
    """Named fonts created once and resized on every layout (never recreated)."""

    def __init__(self, root: tk.Misc,
                 sizes: dict[str, tuple[int, Literal["normal", "bold"]]]) -> None:
        """sizes: role -> (design pixel size, "bold" | "normal")."""
        family = tk_look.pick_family(root)
        self._design = dict(sizes)
        self._fonts = {role: tkfont.Font(root=root, family=family, size=-size, weight=weight)
                       for role, (size, weight) in sizes.items()}

    def __getitem__(self, role: str) -> tkfont.Font:
        return self._fonts[role]

    def scale(self, s: Scale) -> None:
        for role, (size, _weight) in self._design.items():
            self._fonts[role].configure(size=-s.px(size))

    def fitted(self, role: str, text: str, max_width: float, s: Scale) -> tkfont.Font:
        """The role's font, shrunk in place until text fits max_width (never clipped)."""
        f = self._fonts[role]
        size = s.px(self._design[role][0])
        f.configure(size=-size)
        width = f.measure(text)
        if width > max_width > 0:
            f.configure(size=-max(8, int(size * max_width / width)))
        return f
