"""The kiosk's fonts and colours: created once, resized for the screen and large-text mode.

Sizes are derived from the window (an em of ~1/40 of its height, less on a portrait
panel), so the same kiosk reads well on a 1280x1024 touch panel and a 1080x1920
portrait totem; large-text mode for elderly citizens is one factor applied to every
font. The font system is the hall's one (queue_common.tk.fonts).
"""

from __future__ import annotations

import tkinter as tk

from queue_common.tk import look as tk_look
from queue_common.tk.fonts import FontSet, FontSpec

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

# role -> size in ems of the kiosk's window (an em is 1/40 of its height)
KIOSK_FONTS: dict[str, FontSpec] = {
    "top": FontSpec(1.0, "bold"),
    "title": FontSpec(1.5, "bold"),
    "button": FontSpec(1.3, "bold"),
    "body": FontSpec(1.1),
    "small": FontSpec(0.85),
    "confirm": FontSpec(1.7, "bold"),
    "number": FontSpec(9.0, "bold", large=False),
    "huge": FontSpec(3.0, "bold"),
}
EMS_PER_HEIGHT = 40


def kiosk_em(width: int, height: int) -> int:
    """One em of a kiosk of this size: 1/40 of its height, but a portrait panel is
    as narrow as a landscape one is short, so its em follows the shorter side."""
    return max(12, min(height // EMS_PER_HEIGHT, width * 10 // (EMS_PER_HEIGHT * 7)))


class KioskFonts(FontSet):
    """The kiosk's fonts (queue_common.tk.fonts.FontSet) and the window they are for;
    ``set_large`` resizes every font in place (大字模式, the number excepted)."""

    def __init__(self, root: tk.Misc, large: bool = False,
                 size: tuple[int, int] | None = None) -> None:
        # The kiosk's window: the whole screen on a real kiosk, a part of it in the demo.
        self.width, self.height = size or (root.winfo_screenwidth(), root.winfo_screenheight())
        self.em = kiosk_em(self.width, self.height)
        super().__init__(root, KIOSK_FONTS, unit=self.em, large=large)

    @property
    def portrait(self) -> bool:
        return self.height > self.width
