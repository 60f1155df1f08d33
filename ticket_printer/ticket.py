"""The printed ticket (号票): what it says and how it is drawn with Pillow.

One image for every printer kind, drawn at the printer's dot width (80 mm paper =
576 dots, 58 mm = 384 dots at 203 dpi) so what the citizen photographs on screen,
what the file printer saves and what the thermal printer prints are the same ticket.
Sizes scale with the width; the number is the biggest thing on the paper.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache

import qrcode
from PIL import Image, ImageDraw, ImageFont

from queue_common.i18n import tr
from queue_common.waits import wait_text
from ticket_printer import messages as _messages  # noqa: F401  (registers the texts)
from ticket_printer.fonts import font

WIDTH_80MM = 576
WIDTH_58MM = 384
QR_MASK = 2


def width_for_paper(width_mm: int) -> int:
    """Printable dots across for a paper roll (203 dpi heads; 58 mm rolls print 48 mm)."""
    return WIDTH_58MM if width_mm <= 58 else WIDTH_80MM


@dataclass(frozen=True)
class TicketView:
    """Everything printed on a ticket; built only from a server-confirmed reply."""

    hall_name: str
    number: str
    services: tuple[str, ...]          # matter names, in the order chosen
    issued_at: dt.datetime
    ahead: int | None = None
    wait_seconds: int | None = None   # the point estimate (servers before the range)
    wait_low: int | None = None        # the range the hall prints, seconds
    wait_high: int | None = None
    kind: str = "normal"               # normal | priority | appointment
    priority_label: str | None = None  # e.g. 70岁以上老人
    appointment_slot: str | None = None
    late_slot: str | None = None       # checked in after the slot: queued as a walk-in
    status_url: str | None = None
    wifi_name: str = ""                # [status_page] wifi_name: the Wi-Fi the QR needs
    notice: str = ""
    no_show_rule: str = ""
    test: bool = False                 # --print-test: marked as not a valid number
    extra: dict[str, str] = field(default_factory=dict)


def slot_text(view: TicketView) -> str | None:
    """The booking line: its slot, or why an appointment became an ordinary ticket."""
    if view.appointment_slot:
        return tr("kiosk.ticket.slot", slot=view.appointment_slot)
    if view.late_slot:
        return tr("kiosk.ticket.late_slot", slot=view.late_slot)
    return None


def ahead_text(ahead: int | None) -> str | None:
    if ahead is None:
        return None
    return tr("kiosk.ticket.ahead_none") if ahead <= 0 else tr("kiosk.ticket.ahead", n=ahead)


def wait_line(view: TicketView) -> str | None:
    """The wait printed on the ticket: the hall's range, said by queue_common.waits."""
    return wait_text(view.wait_low, view.wait_high, view.wait_seconds)


def kind_text(view: TicketView) -> str | None:
    if view.kind == "priority":
        label = tr("kiosk.ticket.kind.priority")
        return f"{label} · {view.priority_label}" if view.priority_label else label
    if view.kind == "appointment":
        return tr("kiosk.ticket.kind.appointment")
    return None


def wrap(text: str, fnt: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Break text into lines no wider than width; CJK breaks anywhere, Latin at spaces."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        if fnt.getlength(paragraph) <= width:
            lines.append(paragraph)  # the usual case: one measurement
            continue
        line = ""
        for ch in paragraph:
            trial = line + ch
            if fnt.getlength(trial) <= width or not line:
                line = trial
                continue
            cut = line.rfind(" ")
            if ch != " " and cut > 0 and line[cut + 1:].isascii() and ch.isascii():
                lines.append(line[:cut])
                line = line[cut + 1:] + ch
            else:
                lines.append(line.rstrip())
                line = ch.lstrip()
        lines.append(line)
    return lines


@lru_cache(maxsize=16)
def qr_image(url: str, box: int) -> Image.Image:
    """A QR code of url scaled to about box pixels, with the quiet zone scanners need.

    Cached: the kiosk screen and the printer draw the same code for the same ticket.
    The mask is fixed instead of searched (qrcode's search of all 8 masks costs ~15 ms
    and only trims contrast artefacts that phone decoders read through anyway). Callers
    must not modify the returned image.
    """
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4,
                         box_size=1, mask_pattern=QR_MASK)
    code.add_data(url)
    code.make(fit=True)
    img: Image.Image = code.make_image(fill_color="black", back_color="white").get_image()
    img = img.convert("L")
    scale = max(1, box // img.width)
    return img.resize((img.width * scale, img.height * scale), Image.Resampling.NEAREST)


@dataclass(frozen=True)
class _Step:
    y: int
    height: int
    line: str = ""
    fnt: ImageFont.FreeTypeFont | None = None
    invert: bool = False
    top: int = 0                       # glyph offset so the line box is tight
    image: Image.Image | None = None   # a picture (the QR code) instead of text
    rule: bool = False


class _Layout:
    """A top-to-bottom list of draw steps measured first, so the paper is cut to fit."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.margin = max(12, width // 24)
        self.y = self.margin
        self.steps: list[_Step] = []

    def text(self, text: str, size: int, *, bold: bool = True, gap: int = 10,
             invert: bool = False) -> None:
        fnt = font(size, bold)
        inner = self.width - 2 * self.margin - (size if invert else 0)
        # Tight line boxes from the glyphs' real extent: fonts reserve a tall ascent,
        # which would leave a hole above the huge number.
        top, bottom = fnt.getbbox("A0国")[1], fnt.getbbox("A0国")[3] + size // 10
        pad = size // 5 if invert else 0
        for line in wrap(text, fnt, inner):
            height = int(bottom - top) + 2 * pad
            self.steps.append(_Step(self.y, height, line, fnt, invert, int(top) - pad))
            self.y += height + gap

    def rule(self, gap: int = 10) -> None:
        self.y += gap // 2
        self.steps.append(_Step(self.y, 2, rule=True))
        self.y += 2 + gap

    def image(self, img: Image.Image, gap: int = 6) -> None:
        self.steps.append(_Step(self.y, img.height, image=img))
        self.y += img.height + gap

    def draw(self) -> Image.Image:
        height = self.y + self.margin * 2  # white tail so the cutter never clips text
        img = Image.new("L", (self.width, height), 255)
        pen = ImageDraw.Draw(img)
        for step in self.steps:
            y = step.y
            if step.rule:
                pen.line([(self.margin, y), (self.width - self.margin, y)], fill=0, width=2)
            elif step.image is not None:
                img.paste(step.image, ((self.width - step.image.width) // 2, y))
            elif step.fnt is not None:
                length = step.fnt.getlength(step.line)
                x = (self.width - length) / 2
                if step.invert:
                    side = step.fnt.size // 2
                    pen.rectangle([x - side, y, x + length + side, y + step.height], fill=0)
                pen.text((x, y - step.top), step.line, font=step.fnt,
                         fill=255 if step.invert else 0)
        return img


def render(view: TicketView, width: int = WIDTH_80MM) -> Image.Image:
    """Draw the ticket as a grayscale image exactly `width` dots across."""
    s = width / WIDTH_80MM
    lay = _Layout(width)
    lay.text(view.hall_name, round(30 * s))
    if view.test:
        lay.text(tr("kiosk.ticket.test"), round(24 * s), invert=True)
    lay.rule()
    label = kind_text(view)
    if label:
        lay.text(label, round(30 * s), invert=True, gap=round(24 * s))
    lay.text(view.number, round(168 * s), gap=round(20 * s))
    lay.text(tr("kiosk.ticket.matters"), round(22 * s), bold=False, gap=8)
    for name in view.services:
        lay.text(name, round(30 * s), gap=8)
    slot = slot_text(view)
    if slot:
        lay.text(slot, round(24 * s))
    lay.rule()
    ahead = ahead_text(view.ahead)
    if ahead:
        lay.text(ahead, round(32 * s))
    wait = wait_line(view)
    if wait:
        lay.text(wait, round(26 * s), bold=False)
    issued = view.issued_at.strftime("%Y-%m-%d %H:%M")
    lay.text(tr("kiosk.ticket.issued_at", time=issued), round(22 * s), bold=False)
    if view.status_url:
        lay.image(qr_image(view.status_url, round(232 * s)), gap=0)
        lay.text(tr("kiosk.ticket.scan"), round(20 * s), bold=False)
        if view.wifi_name:
            lay.text(wifi_text(view.wifi_name), round(20 * s), bold=False)
    lay.rule()
    if view.notice:
        lay.text(view.notice, round(22 * s), bold=False)
    if view.no_show_rule:
        lay.text(view.no_show_rule, round(20 * s), bold=False)
    return lay.draw()


def text_lines(view: TicketView) -> list[str]:
    """The ticket as plain lines (for printers that print native text, and for logs)."""
    lines = [view.hall_name]
    label = kind_text(view)
    if label:
        lines.append(label)
    lines += [view.number, tr("kiosk.ticket.matters") + tr("kiosk.colon") + tr("kiosk.list_sep").join(view.services)]
    slot = slot_text(view)
    if slot:
        lines.append(slot)
    for extra in (ahead_text(view.ahead), wait_line(view)):
        if extra:
            lines.append(extra)
    lines.append(tr("kiosk.ticket.issued_at", time=view.issued_at.strftime("%Y-%m-%d %H:%M")))
    if view.status_url and view.wifi_name:
        lines.append(wifi_text(view.wifi_name))
    lines += [t for t in (view.notice, view.no_show_rule) if t]
    return lines


def wifi_text(name: str) -> str:
    """Phones reach the status page over the hall's Wi-Fi only: which one to join."""
    return tr("kiosk.ticket.wifi", name=name)


def no_show_rule_text(no_show: dict[str, object] | None) -> str:
    """The 过号 sentence for the hall's configured rule (void or re-queue after N)."""
    if not no_show:
        return tr("kiosk.noshow.generic")
    after, times = no_show.get("requeue_after"), no_show.get("max_requeues")
    if no_show.get("mode") == "requeue" and isinstance(after, int) and isinstance(times, int):
        return tr("kiosk.noshow.requeue", n=after, times=times)
    if no_show.get("mode") == "void":
        return tr("kiosk.noshow.void")
    return tr("kiosk.noshow.generic")
