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
MUTED = "#52647a"       # secondary text, and grey buttons (white text on it)
MUTED_ACTIVE = "#3f4e60"
BRAND = "#12305a"       # top bar
BUTTON = "#1f5fae"      # department / matter buttons
BUTTON_ACTIVE = "#174a88"
CHOSEN = "#177a41"      # a chosen matter
CHOSEN_ACTIVE = "#136b3a"
CONFIRM = "#c2410c"     # the one action that issues
CONFIRM_ACTIVE = "#9f3a08"
PRIORITY = "#0f7b6c"    # 绿色通道
PRIORITY_ACTIVE = "#0c6658"
DISABLED = "#c9d1dc"    # a button that cannot be pressed now ...
DISABLED_FG = "#3d4a5a"  # ... and its text, still readable
ALERT = tk_look.ALERT
ALERT_INK = "#b3261e"   # an error message on the light background
ACCENT = tk_look.ACCENT
TEXT_ON_BUTTONS = "#ffffff"

# Every (text, background) pair the kiosk draws, for the contrast test.
PAIRS = {
    "ink on background": (INK, BG), "ink on panel": (INK, PANEL),
    "muted on background": (MUTED, BG), "muted on panel": (MUTED, PANEL),
    "priority on panel": (PRIORITY, PANEL), "alert on background": (ALERT_INK, BG),
    "alert on panel": (ALERT_INK, PANEL), "printed on panel": (CHOSEN, PANEL),
    "white on top bar": (TEXT_ON_BUTTONS, BRAND),
    **{f"white on {name}": (TEXT_ON_BUTTONS, colour) for name, colour in (
        ("button", BUTTON), ("button pressed", BUTTON_ACTIVE), ("chosen", CHOSEN),
        ("chosen pressed", CHOSEN_ACTIVE), ("confirm", CONFIRM),
        ("confirm pressed", CONFIRM_ACTIVE), ("priority", PRIORITY),
        ("priority pressed", PRIORITY_ACTIVE), ("grey button", MUTED),
        ("grey pressed", MUTED_ACTIVE))},
    "disabled button": (DISABLED_FG, DISABLED),
}

# role -> size in ems of the kiosk's window (an em is 1/40 of its height)
KIOSK_FONTS: dict[str, FontSpec] = {
    "hall": FontSpec(1.0, "bold"),
    "top": FontSpec(1.0, "bold"),
    "title": FontSpec(1.5, "bold"),
    "button": FontSpec(1.3, "bold"),
    "tile": FontSpec(1.3, "bold"),
    "key": FontSpec(1.5, "bold"),
    "body": FontSpec(1.1),
    "small": FontSpec(0.85),
    "confirm": FontSpec(1.7, "bold"),
    "number": FontSpec(9.0, "bold", large=False),
    "entry": FontSpec(2.6, "bold"),
    "huge": FontSpec(3.0, "bold"),
}
EMS_PER_HEIGHT = 40


def kiosk_em(width: int, height: int) -> int:
    """One em of a kiosk of this size: 1/40 of its height, but a portrait panel is
    as narrow as a landscape one is short, so its em follows the shorter side."""
    return max(12, min(height // EMS_PER_HEIGHT, width * 10 // (EMS_PER_HEIGHT * 7)))


class KioskFonts(FontSet):
    """The kiosk's fonts (queue_common.tk.fonts.FontSet) and the window they are for.

    ``set_large`` resizes every font in place (大字模式, the number excepted);
    ``set_fit`` shrinks them all by a factor when a screen would not fit otherwise.
    """

    def __init__(self, root: tk.Misc, large: bool = False,
                 size: tuple[int, int] | None = None) -> None:
        # The kiosk's window: the whole screen on a real kiosk, a part of it in the demo.
        self.width, self.height = size or (root.winfo_screenwidth(), root.winfo_screenheight())
        self.em = kiosk_em(self.width, self.height)
        self.fit = 1.0
        super().__init__(root, KIOSK_FONTS, unit=self.em, large=large)

    @property
    def portrait(self) -> bool:
        return self.height > self.width

    def set_fit(self, factor: float) -> None:
        self.fit = factor
        self.set_unit(self.em * factor)

    def pad(self) -> int:
        """Padding inside a touch target."""
        return max(4, round(self.em * self.fit * 0.5))

    def gap(self) -> int:
        """Space between touch targets."""
        return max(4, round(self.em * self.fit * 0.45))
