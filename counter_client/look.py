"""The desk look of counter-client: fonts and ttk styles of the caller, the rating pad
and the supervisor's dashboard, made once per Tk root and sized to the screen.

The caller sits beside the clerk's business system on an office screen, so it uses a
light desk palette; the rating pad faces the citizen and uses the hall palette with
very large text (queue_common.tk.look). Fonts are one queue_common.tk.fonts.FontSet
whose unit follows the screen's height (a 1080-line screen = 1), so a 4K desk screen
gets the same caller twice as big and a 1366x768 laptop a slightly smaller one.

Styles are registered under the app's prefix (queue_common.tk.look.StyleRegistry):
`caller_style("Action.TButton")` is "Caller.Action.TButton", the dashboard's are
"Dash.*", so opening the dashboard never resizes the caller's buttons.
"""

from __future__ import annotations

import tkinter as tk
import weakref
from dataclasses import dataclass
from tkinter import font as tkfont

from queue_common.tk import look as hall_look
from queue_common.tk.fonts import FontSet, FontSpec, screen_unit

DESK_BG = "#f4f6f9"
DESK_FG = "#1b2430"
NUMBER_FG = "#0b3d91"
MUTED_FG = "#4f5b69"  # secondary text on the desk background (>= 4.5:1)
DISABLED_FG = "#555b63"  # a button that cannot be pressed now (text stays legible)
BUTTON_BG = "#dcdad5"  # the clam theme's button, and its pressed shade
BUTTON_ACTIVE_BG = "#eeebe7"
INFO_FG = "#0b3d91"
ERROR_FG = "#b71c1c"
ONLINE_FG = "#1b5e20"
STATE_COLOURS = {
    "idle": "#1b5e20",
    "calling": "#b33c00",
    "serving": "#0b3d91",
    "paused": "#7b1fa2",
    "closed": "#545454",
    "unknown": "#545454",
}
OFFLINE_BG = "#c62828"
# The rating pad's five levels: white text on each (contrast >= 4.5:1) ...
LEVEL_COLOURS = {5: "#1b6e35", 4: "#2e7d32", 3: "#6b6a00", 2: "#b34700", 1: "#b71c1c"}
# ... and each level's name as a title on the pad's dark background.
LEVEL_TEXT = {5: "#5fd68a", 4: "#7ddc86", 3: "#e3e05a", 2: "#ffa561", 1: "#ff8a80"}

ALERT_BG, ALERT_FG = "#ffd9d6", "#a4000f"  # the dashboard's alert rows
CLOSED_FG = "#5f6b76"  # a closed window's row in the dashboard

CALLER = "Caller"
DASH = "Dash"

# Every (text, background) pair the desk apps draw, for the contrast test (the pad's
# own hall colours: queue_common.tk.look.HALL_PAIRS, LEVEL_* below).
PAIRS = {
    "text": (DESK_FG, DESK_BG), "number": (NUMBER_FG, DESK_BG), "muted": (MUTED_FG, DESK_BG),
    "info": (INFO_FG, DESK_BG), "error": (ERROR_FG, DESK_BG), "online": (ONLINE_FG, DESK_BG),
    "offline label": (OFFLINE_BG, DESK_BG), "offline banner": ("#ffffff", OFFLINE_BG),
    "button": (DESK_FG, BUTTON_BG), "button pressed": (DESK_FG, BUTTON_ACTIVE_BG),
    "button disabled": (DISABLED_FG, BUTTON_BG), "list": (DESK_FG, "#ffffff"),
    "list selected": ("#ffffff", "#4a6984"), "alert row": (ALERT_FG, ALERT_BG),
    "closed row": (CLOSED_FG, "#ffffff"),
    **{f"state {name}": (colour, DESK_BG) for name, colour in STATE_COLOURS.items()},
    **{f"level {n} button": ("#ffffff", colour) for n, colour in LEVEL_COLOURS.items()},
    **{f"level {n} title": (colour, hall_look.BG) for n, colour in LEVEL_TEXT.items()},
}

DESK_FONTS: dict[str, FontSpec] = {
    "base": FontSpec(15),
    "small": FontSpec(13),
    "bold": FontSpec(15, "bold"),
    "heading": FontSpec(16, "bold"),
    "value": FontSpec(24, "bold"),
    "number": FontSpec(64, "bold", digits=True),
    "number_compact": FontSpec(30, "bold", digits=True),
    "banner": FontSpec(17, "bold"),
}


@dataclass
class Fonts:
    """The desk FontSet's fonts by role, as attributes (the same Tk font objects)."""

    set: FontSet
    base: tkfont.Font
    small: tkfont.Font
    bold: tkfont.Font
    heading: tkfont.Font
    value: tkfont.Font
    number: tkfont.Font
    number_compact: tkfont.Font
    banner: tkfont.Font


def desk_unit(width: int, height: int) -> float:
    """The desk fonts' unit for a screen: 1.0 up to 1920x1080 (the design), growing with
    a bigger screen (2.0 at 3840x2160); smaller office screens keep the design size,
    which a 1366x768 laptop still holds (tests/tk/test_screen_sizes.py)."""
    return min(screen_unit(width, 1920, low=1.0, high=2.5),
               screen_unit(height, 1080, low=1.0, high=2.5))


_fonts: weakref.WeakKeyDictionary[tk.Misc, Fonts] = weakref.WeakKeyDictionary()


def make_fonts(root: tk.Misc, unit: float | None = None) -> Fonts:
    """The desk fonts of root's Tk (made once; `unit` resizes them for a screen)."""
    tk_root = hall_look.tk_root(root)
    fonts = _fonts.get(tk_root)
    if fonts is None:
        fontset = FontSet(tk_root, DESK_FONTS, unit=unit or desk_unit(
            tk_root.winfo_screenwidth(), tk_root.winfo_screenheight()))
        fonts = Fonts(fontset, **{role: fontset[role] for role in DESK_FONTS})
        _fonts[tk_root] = fonts
    elif unit is not None:
        fonts.set.set_unit(unit)
    return fonts


def caller_style(name: str) -> str:
    return f"{CALLER}.{name}"


def dash_style(name: str) -> str:
    return f"{DASH}.{name}"


def apply_styles(root: tk.Misc, fonts: Fonts) -> None:
    """The caller's (and login form's) styles, under the Caller prefix."""
    reg = hall_look.styles(root)
    reg.base(CALLER, font=fonts.base, background=DESK_BG, foreground=DESK_FG)
    disabled = {"foreground": [("disabled", DISABLED_FG)]}
    line = fonts.small.metrics("linespace")
    for name, options, state_map in (
            ("TButton", {"font": fonts.base, "padding": (8, 5)}, None),
            ("Action.TButton", {"font": fonts.bold, "padding": (6, 6)}, disabled),
            ("Small.TButton", {"font": fonts.small, "padding": (4, 2)}, None),
            ("Bar.TButton", {"font": fonts.bold, "padding": (7, 5)}, disabled),
            ("Treeview", {"font": fonts.small, "rowheight": round(line * 1.4)}, None),
            ("Treeview.Heading", {"font": fonts.small}, None),
            ("TCheckbutton", {"font": fonts.base}, None),
            ("TRadiobutton", {"font": fonts.base}, None),
            ("TLabel", {"font": fonts.base, "foreground": DESK_FG}, None),
            ("Muted.TLabel", {"foreground": MUTED_FG, "font": fonts.small}, None),
            ("Head.TLabel", {"font": fonts.bold}, None),
            ("Online.TLabel", {"foreground": ONLINE_FG, "font": fonts.small}, None),
            ("Offline.TLabel", {"foreground": OFFLINE_BG, "font": fonts.bold}, None),
            ("Error.TLabel", {"foreground": ERROR_FG, "font": fonts.small}, None),
            ("Info.TLabel", {"foreground": INFO_FG, "font": fonts.small}, None),
            ("Hint.TLabel", {"foreground": MUTED_FG, "font": fonts.small}, None)):
        reg.define(CALLER, name, state_map=state_map, **options)


def apply_dashboard_styles(root: tk.Misc, fonts: Fonts) -> None:
    """The dashboard's styles, under the Dash prefix (the caller's stay as they are)."""
    reg = hall_look.styles(root)
    reg.base(DASH, font=fonts.base, background=DESK_BG, foreground=DESK_FG)
    line = fonts.small.metrics("linespace")
    for name, options in (
            ("Treeview", {"font": fonts.small, "rowheight": round(line * 1.45)}),
            ("Treeview.Heading", {"font": fonts.small}),
            ("TNotebook", {}),
            ("TNotebook.Tab", {"font": fonts.bold, "padding": (14, 4)}),
            ("Sub.TNotebook", {}),
            ("Sub.TNotebook.Tab", {"font": fonts.base, "padding": (10, 3)}),
            ("TLabel", {"font": fonts.base}),
            ("Summary.TLabel", {"font": fonts.bold}),
            ("Heading.TLabel", {"font": fonts.heading}),
            ("Card.TLabel", {"font": fonts.small, "foreground": MUTED_FG}),
            ("CardValue.TLabel", {"font": fonts.value, "foreground": NUMBER_FG}),
            ("Note.TLabel", {"font": fonts.base, "foreground": MUTED_FG}),
            ("Error.TLabel", {"font": fonts.base, "foreground": ERROR_FG}),
            ("Status.TLabel", {"font": fonts.base, "foreground": ONLINE_FG}),
            ("TButton", {"font": fonts.base, "padding": (8, 3)}),
            ("Small.TButton", {"font": fonts.small, "padding": (4, 2)}),
            ("Action.TButton", {"font": fonts.bold, "padding": (8, 3)}),
            ("TCheckbutton", {"font": fonts.base}),
            ("TLabelframe", {}),
            ("TLabelframe.Label", {"font": fonts.bold})):
        reg.define(DASH, name, **options)
