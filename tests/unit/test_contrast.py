"""Every text on every screen of the hall is readable: WCAG contrast of at least 4.5:1.

Each app names the (text, background) pairs it draws, every state included (pressed,
disabled, the board's flashing phase), in its look module; a colour changed there is
checked here.
"""

from __future__ import annotations

import pytest

from counter_client import look as desk
from queue_common.tk import look as hall
from queue_common.tk.look import contrast
from ticket_printer import look as kiosk

PALETTES = {"hall screens": hall.HALL_PAIRS, "desk apps": desk.PAIRS, "kiosk": kiosk.PAIRS}
ALL_PAIRS = [(f"{where}: {name}", fg, bg) for where, pairs in PALETTES.items()
             for name, (fg, bg) in pairs.items()]


def test_every_text_is_readable_on_its_background() -> None:
    unreadable = [f"{name}: {fg} on {bg} is {contrast(fg, bg):.2f}:1"
                  for name, fg, bg in ALL_PAIRS if contrast(fg, bg) < 4.5]
    assert len(ALL_PAIRS) > 50 and unreadable == []


def test_the_contrast_measure_is_the_wcag_one() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    # The board's old 重呼 tag: orange on the flashing yellow banner.
    assert contrast(hall.WARN, hall.ACCENT) < 1.5
