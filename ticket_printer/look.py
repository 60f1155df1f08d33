"""The kiosk's fonts and colours: created once, resized for the screen and large-text mode.

Sizes are derived from the screen height (an em of ~1/40 of it), so the same kiosk
reads well on a 1280x1024 touch panel and a 1080p portrait totem; large-text mode for
elderly citizens is one factor applied to every font (STYLE.md 3.4).
"""

from __future__ import annotations

import tkinter as tk
from tkinter import font as tkfont

from queue_common import tk_look

BG = "#f2f5fa"          # light: a kiosk stands in a bright hall, dark screens glare
PANEL = "#ffffff"
INK = "#0b1f3a"
MUTED = "#52647a"
BRAND = "#12305a"       # top bar
BUTTON = "#1f5fae"      # department / matter buttons
BUTTON_ACTIVE = "#174a88"
CHOSEN = "#1e8e4e"      # a chosen matter
CONFIRM = "#e8590c"     # the one action that issues
CONFIRM_ACTIVE = "#c24a0a"
PRIORITY = "#0f7b6c"    # 绿色通道
DISABLED = "#b8c2cf"
ALERT = tk_look.ALERT
ACCENT = tk_look.ACCENT

LARGE_FACTOR = 1.4
# name -> (size in ems, bold)
_SPEC: dict[str, tuple[float, bool]] = {
    "top": (1.0, True),
    "title": (1.5, True),
    "button": (1.3, True),
    "body": (1.1, False),
    "small": (0.85, False),
    "confirm": (1.7, True),
    "number": (9.0, True),
    "huge": (3.0, True),
}


class KioskFonts:
    """Named Tk fonts shared by every kiosk widget; ``set_large`` resizes them in place."""

    def __init__(self, root: tk.Misc, large: bool = False,
                 size: tuple[int, int] | None = None) -> None:
        self.family = tk_look.pick_family(root)
        # The kiosk's window: the whole screen on a real kiosk, a part of it in the demo.
        self.width, self.height = size or (root.winfo_screenwidth(), root.winfo_screenheight())
        self.em = max(12, self.height // 40)
        self.large = large
        self.fonts = {name: tkfont.Font(root, family=self.family, size=-self._px(name),
                                        weight="bold" if bold else "normal")
                      for name, (_, bold) in _SPEC.items()}

    def _px(self, name: str) -> int:
        ems, _ = _SPEC[name]
        factor = LARGE_FACTOR if self.large and name != "number" else 1.0
        return max(10, round(ems * self.em * factor))

    def set_large(self, large: bool) -> None:
        self.large = large
        for name, fnt in self.fonts.items():
            fnt.configure(size=-self._px(name))

    def __getitem__(self, name: str) -> tkfont.Font:
        return self.fonts[name]

    def px(self, name: str) -> int:
        return self._px(name)
