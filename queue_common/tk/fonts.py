"""One named-font system for every hall app: fonts made once, sized from the screen.

Each app describes its fonts as roles (`FontSpec`: a size in units, a weight, digits
or text, whether large-text mode enlarges it) and gets a FontSet. The unit is derived
from the screen the app draws on (`screen_unit`): the kiosk counts in ems of its
window's height, the board in design pixels of a 1920x1080 picture, the desk apps
(caller, pad, dashboard) in pixels of a 1080-line screen. Changing the unit or
large-text mode reconfigures the very same Tk fonts in place, so every widget using
them follows without being rebuilt (Thonny's Workbench._init_fonts / update_fonts).

Sizes are pixels (negative Tk sizes), so a picture does not depend on the PC's DPI.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Mapping
from dataclasses import dataclass
from tkinter import font as tkfont
from typing import Literal

from queue_common.tk.look import CJK_FONTS, MONO_DIGIT_FONTS, pick_family

Weight = Literal["normal", "bold"]
MIN_PX = 6
LARGE_FACTOR = 1.4  # the kiosk's 大字模式


@dataclass(frozen=True)
class FontSpec:
    size: float  # in the FontSet's unit
    weight: Weight = "normal"
    digits: bool = False  # the mono-digit family first, so ticket numbers line up
    large: bool = True  # grows in large-text mode


def screen_unit(length: int, design: int = 1080, *, low: float = 0.5,
                high: float = 4.0) -> float:
    """The size of one design pixel on a screen side `length` pixels long, drawn for
    `design` pixels (clamped to low..high)."""
    return max(low, min(high, length / design))


class FontSet:
    """Tk fonts by role, resized together; a role may be overridden to fit a text."""

    def __init__(self, root: tk.Misc, spec: Mapping[str, FontSpec], *, unit: float,
                 large: bool = False, large_factor: float = LARGE_FACTOR) -> None:
        self._root = root
        self.spec = dict(spec)
        self.unit = unit
        self.large = large
        self.large_factor = large_factor
        self.family = pick_family(root, CJK_FONTS)
        self.digit_family = pick_family(root, MONO_DIGIT_FONTS + CJK_FONTS)
        self._current = {role: self.design_px(role) for role in self.spec}
        self._fonts = {role: tkfont.Font(root=root, family=self._family_of(role),
                                         size=-self._current[role], weight=s.weight)
                       for role, s in self.spec.items()}
        # Measuring at another size needs a face loaded at that size (~0.5 ms each
        # through Xft): scratch fonts stay loaded and widths are remembered.
        self._scratch: dict[tuple[str, Weight, int], tkfont.Font] = {}
        self._widths: dict[tuple[str, Weight, str, int], int] = {}

    def _family_of(self, role: str) -> str:
        return self.digit_family if self.spec[role].digits else self.family

    # ---- sizes -----------------------------------------------------------------------

    def __getitem__(self, role: str) -> tkfont.Font:
        return self._fonts[role]

    def __contains__(self, role: object) -> bool:
        return role in self._fonts

    def design_px(self, role: str) -> int:
        """The role's size from the spec at the current unit and text mode."""
        s = self.spec[role]
        factor = self.large_factor if self.large and s.large else 1.0
        return max(MIN_PX, round(s.size * self.unit * factor))

    def px(self, role: str) -> int:
        """The role's current size in screen pixels (after any fit)."""
        return self._current[role]

    def set_px(self, role: str, px: int) -> None:
        """Override one role's size (a text made to fit its box)."""
        px = max(MIN_PX, px)
        if self._current[role] != px:  # reconfiguring re-measures every user: only on change
            self._current[role] = px
            self._fonts[role].configure(size=-px)

    def reset(self) -> None:
        for role in self.spec:
            self.set_px(role, self.design_px(role))

    def set_unit(self, unit: float) -> None:
        """A new screen size: every role back to its spec at the new unit."""
        self.unit = unit
        self.reset()

    def set_large(self, large: bool) -> None:
        self.large = large
        self.reset()

    # ---- fitting -----------------------------------------------------------------------

    def measure(self, role: str, text: str, px: int | None = None) -> int:
        """Width of text in the role's face at px (default: its current size)."""
        px = self._current[role] if px is None else px
        weight = self.spec[role].weight
        family = self._family_of(role)
        key = (family, weight, text, px)
        width = self._widths.get(key)
        if width is None and px == self._current[role]:
            width = self._widths[key] = int(self._fonts[role].measure(text))
        if width is None:
            scratch = self._scratch.get((family, weight, px))
            if scratch is None:
                scratch = self._scratch[(family, weight, px)] = tkfont.Font(
                    root=self._root, family=family, size=-px, weight=weight)
            if len(self._widths) > 2000:
                self._widths.clear()
            width = self._widths[key] = int(scratch.measure(text))
        return width

    def fitted(self, role: str, text: str, max_width: float,
               max_px: int | None = None) -> tkfont.Font:
        """The role's font at its design size, or smaller so every line of text fits."""
        size = self.design_px(role)
        if max_px is not None:
            size = min(size, max_px)
        width = max((self.measure(role, line, size) for line in text.splitlines() or [""]),
                    default=0)
        if width > max_width > 0:
            size = max(8, int(size * max_width / width))
        self.set_px(role, size)
        return self._fonts[role]
