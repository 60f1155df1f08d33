"""Fonts and ttk styles of the caller and the rating pad, created once per root.

The caller sits beside the clerk's business system on an office screen, so it uses a
light desk palette; the rating pad faces the citizen and uses the hall palette with
very large text (tk_look).
"""

from __future__ import annotations

import tkinter as tk
from dataclasses import dataclass
from tkinter import font as tkfont
from tkinter import ttk
from typing import Literal

from queue_common import tk_look

DESK_BG = "#f4f6f9"
DESK_FG = "#1b2430"
NUMBER_FG = "#0b3d91"
STATE_COLOURS = {
    "idle": "#2e7d32",
    "calling": "#e65100",
    "serving": "#0b3d91",
    "paused": "#8e24aa",
    "closed": "#616161",
    "unknown": "#616161",
}
OFFLINE_BG = "#c62828"
LEVEL_COLOURS = {5: "#1b8e3e", 4: "#43a047", 3: "#9e9d24", 2: "#ef6c00", 1: "#c62828"}


@dataclass
class Fonts:
    base: tkfont.Font
    small: tkfont.Font
    bold: tkfont.Font
    number: tkfont.Font
    number_compact: tkfont.Font
    banner: tkfont.Font
    pad_title: tkfont.Font
    pad_number: tkfont.Font
    pad_button: tkfont.Font


def make_fonts(root: tk.Misc, scale: float = 1.0) -> Fonts:
    """Named fonts from the machine's CJK family (never boxes for Chinese)."""
    family = tk_look.pick_family(root)
    digits = tk_look.pick_family(root, tk_look.MONO_DIGIT_FONTS + tk_look.CJK_FONTS)

    def f(size: float, weight: Literal["normal", "bold"] = "normal",
          fam: str = family) -> tkfont.Font:
        return tkfont.Font(root=root, family=fam, size=-round(size * scale), weight=weight)

    return Fonts(base=f(15), small=f(13), bold=f(15, "bold"), number=f(64, "bold", digits),
                 number_compact=f(30, "bold", digits), banner=f(17, "bold"),
                 pad_title=f(34, "bold"), pad_number=f(72, "bold", digits),
                 pad_button=f(30, "bold"))


def apply_styles(root: tk.Misc, fonts: Fonts) -> None:
    style = ttk.Style(root)
    if "clam" in style.theme_names():
        style.theme_use("clam")
    style.configure(".", font=fonts.base, background=DESK_BG, foreground=DESK_FG)
    style.configure("TButton", padding=(8, 5))
    style.configure("Action.TButton", font=fonts.bold, padding=(6, 6))
    style.configure("Small.TButton", font=fonts.small, padding=(4, 2))
    style.configure("Bar.TButton", font=fonts.bold, padding=(7, 5))
    style.map("Bar.TButton", foreground=[("disabled", "#9aa3ad")])
    style.configure("Treeview", font=fonts.small, rowheight=round(fonts.small.metrics("linespace") * 1.4))
    style.configure("Treeview.Heading", font=fonts.small)
    style.configure("TCheckbutton", font=fonts.base)
    style.configure("TRadiobutton", font=fonts.base)
    style.configure("Muted.TLabel", foreground="#5f6b7a", font=fonts.small)
    style.configure("Head.TLabel", font=fonts.bold)
    style.configure("Online.TLabel", foreground="#2e7d32", font=fonts.small)
    style.configure("Offline.TLabel", foreground=OFFLINE_BG, font=fonts.bold)
    style.configure("Error.TLabel", foreground=OFFLINE_BG, font=fonts.small)
    style.configure("Info.TLabel", foreground="#0b3d91", font=fonts.small)
    style.map("Action.TButton", foreground=[("disabled", "#9aa3ad")])
