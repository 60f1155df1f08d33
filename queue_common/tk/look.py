"""The hall's shared Tk look: font families by preference list, the palettes, and one
ttk style registry per Tk root in which each app defines its styles under its prefix.

Fonts are chosen from what the machine has (Windows: Microsoft YaHei; macOS: PingFang
SC; Linux: Noto Sans CJK / WenQuanYi) so Chinese never renders as boxes.

ttk styles are global to a Tk interpreter: when the supervisor's dashboard opened in
the caller's process configured "Action.TButton" or "." for itself, the caller's
buttons changed size for good. So an app never configures an unprefixed style: it
asks the registry for "Caller.Action.TButton" or "Dash.Action.TButton", and the
root style "." (the default font of unstyled ttk widgets) is set once, by the first
app on that root.
"""

from __future__ import annotations

import tkinter as tk
import weakref
from tkinter import font as tkfont
from tkinter import ttk
from typing import Any

CJK_FONTS = (
    "Microsoft YaHei",
    "Microsoft YaHei UI",
    "PingFang SC",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
)
MONO_DIGIT_FONTS = ("DejaVu Sans Mono", "Consolas", "Menlo", "Noto Sans Mono CJK SC")

# The hall palette: dark background, readable from 10 m (board, window screens, pad).
BG = "#0b1f3a"
PANEL = "#12305a"
FG = "#ffffff"
ACCENT = "#ffd400"  # the newest call
OK = "#2ecc71"
WARN = "#ff9f1a"
ALERT = "#ff4d4f"
MUTED = "#9fb3c8"
TAG_BG = "#b3261e"  # a label on the flashing banner (重呼): white on deep red in both phases

# Every (text, background) pair the hall screens draw (board, window screens, rating
# pad), the flashing phase included: the contrast test holds each to 4.5:1.
HALL_PAIRS = {
    **{f"{name} on background": (colour, BG) for name, colour in (
        ("white", FG), ("yellow", ACCENT), ("green", OK), ("orange", WARN),
        ("grey", MUTED))},
    **{f"{name} on panel": (colour, PANEL) for name, colour in (
        ("white", FG), ("yellow", ACCENT), ("green", OK), ("orange", WARN),
        ("grey", MUTED))},
    "flash: dark on yellow": (BG, ACCENT),
    "recall tag": (FG, TAG_BG),
}


def pick_family(root: tk.Misc, preferences: tuple[str, ...] = CJK_FONTS) -> str:
    """The first installed family of the preference list, else Tk's default."""
    available = set(tkfont.families(root))
    for family in preferences:
        if family in available:
            return family
    return tkfont.nametofont("TkDefaultFont", root).actual("family")


class StyleRegistry:
    """The ttk styles of one Tk root, each app's under its own prefix."""

    def __init__(self, root: tk.Misc) -> None:
        self.style = ttk.Style(root)
        if "clam" in self.style.theme_names():
            self.style.theme_use("clam")
        self.defined: dict[str, dict[str, Any]] = {}
        self.base_set_by: str | None = None

    def base(self, app: str, **options: Any) -> None:
        """The root style "." (unstyled ttk widgets): set by the first app only."""
        if self.base_set_by is None:
            self.style.configure(".", **options)
            self.base_set_by = app

    def define(self, prefix: str, name: str, *, state_map: dict[str, Any] | None = None,
               **options: Any) -> str:
        """Configure "<prefix>.<name>" (e.g. Caller + Action.TButton) and return its name."""
        if not prefix or "." in prefix:
            raise ValueError(f"a style prefix is one word, not {prefix!r}")
        full = f"{prefix}.{name}"
        self.style.configure(full, **options)
        if state_map:
            self.style.map(full, **state_map)
        self.defined[full] = dict(options)
        return full


def tk_root(widget: tk.Misc) -> tk.Misc:
    """The Tk instance widget belongs to: one style database and font set per interpreter."""
    root: tk.Misc = widget._root()  # type: ignore[attr-defined]
    return root


_registries: weakref.WeakKeyDictionary[tk.Misc, StyleRegistry] = weakref.WeakKeyDictionary()


def styles(widget: tk.Misc) -> StyleRegistry:
    """The style registry of widget's Tk root (made on first use)."""
    root = tk_root(widget)
    registry = _registries.get(root)
    if registry is None:
        registry = _registries[root] = StyleRegistry(root)
    return registry


def luminance(colour: str) -> float:
    """Relative luminance of #rrggbb (WCAG 2.1)."""
    value = colour.lstrip("#")
    channels = [int(value[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(fg: str, bg: str) -> float:
    """WCAG contrast ratio of two colours (1 .. 21); text needs >= 4.5."""
    a, b = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)
