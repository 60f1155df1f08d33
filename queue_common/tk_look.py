"""The shared Tk look: font choice by preference list and the hall palette.

Fonts are chosen from what the machine has (Windows: Microsoft YaHei; macOS: PingFang
SC; Linux: Noto Sans CJK / WenQuanYi) so Chinese never renders as boxes.
"""

from __future__ import annotations

import tkinter as tk
from tkinter import font as tkfont

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

# High-contrast palette for a hall (dark background, readable from 10 m).
BG = "#0b1f3a"
PANEL = "#12305a"
FG = "#ffffff"
ACCENT = "#ffd400"  # the newest call
OK = "#2ecc71"
WARN = "#ff9f1a"
ALERT = "#ff4d4f"
MUTED = "#9fb3c8"


def pick_family(root: tk.Misc, preferences: tuple[str, ...] = CJK_FONTS) -> str:
    """The first installed family of the preference list, else Tk's default."""
    available = set(tkfont.families(root))
    for family in preferences:
        if family in available:
            return family
    return tkfont.nametofont("TkDefaultFont", root).actual("family")
