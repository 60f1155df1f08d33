"""Scaling a fixed design to whatever screen the board gets (720p to 4K, portrait too).

Boards are drawn in design pixels (1920x1080 landscape, 1080x1920 portrait) and every
coordinate and font size goes through one Scale, so a 4K screen gets exactly the same
picture twice as sharp and a 1280x720 one two thirds as big. The fonts are a
queue_common.tk.fonts.FontSet whose unit is the Scale's factor (a design pixel).
"""

from __future__ import annotations

from dataclasses import dataclass

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
