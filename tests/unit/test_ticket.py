"""The printed ticket: readable, right-sized, and its QR code leads to the status page."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from queue_common import i18n
from queue_common.waits import wait_text
from ticket_printer.fonts import font
from ticket_printer.ticket import (
    WIDTH_58MM,
    WIDTH_80MM,
    TicketView,
    no_show_rule_text,
    render,
    text_lines,
    width_for_paper,
    wrap,
)

URL = "http://192.168.1.10:5580/t/Xy3kP0aQ9bVt2mNc8rLwq"


def _view(**kw: object) -> TicketView:
    base: dict[str, object] = dict(
        hall_name="浦东新区XX镇社区事务受理服务中心", number="A012",
        services=("社保卡申领", "医保关系转移接续"), issued_at=dt.datetime(2026, 11, 26, 9, 12),
        ahead=7, wait_seconds=840, status_url=URL, notice="请在休息区等候，留意大屏和语音叫号",
        no_show_rule=no_show_rule_text({"mode": "void"}))
    base.update(kw)
    return TicketView(**base)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _chinese() -> None:
    i18n.set_language("zh")


@pytest.mark.parametrize("width", [WIDTH_80MM, WIDTH_58MM])
def test_ticket_is_exactly_the_paper_width_and_its_qr_decodes_to_the_status_url(
        width: int, artifacts_dir: Path) -> None:
    img = render(_view(), width)
    assert img.width == width
    assert 2 * width > img.height > width  # a ticket, not a banner and not a scroll
    img.save(artifacts_dir / f"ticket_{width}px.png")
    codes = zxingcpp.read_barcodes(img)
    assert [c.text for c in codes] == [URL]


def test_number_is_the_biggest_ink_on_the_ticket() -> None:
    """The top third holds the number: its dark rows span more height than any text line."""
    img = render(_view(services=("社保卡申领",), status_url=None), WIDTH_80MM).point(
        lambda v: 255 if v > 128 else 0)
    rows = [any(img.getpixel((x, y)) == 0 for x in range(0, img.width, 2))
            for y in range(img.height)]
    runs, run = [], 0
    for dark in rows:
        run = run + 1 if dark else 0
        runs.append(run)
    tallest = max(runs)
    assert tallest > 100  # 168 px glyphs: digits ~120 px tall
    assert runs.index(tallest) < img.height // 2


def test_several_matters_each_get_a_line_and_priority_is_labelled() -> None:
    view = _view(services=("社保卡申领", "医保关系转移接续", "居住证签注"), kind="priority",
                 priority_label="70岁以上老人")
    lines = text_lines(view)
    assert "绿色通道 · 70岁以上老人" in lines
    assert any("社保卡申领" in ln and "居住证签注" in ln for ln in lines)
    assert "您前面还有 7 人在等待" in lines
    assert "预计等候约 14 分钟" in lines
    taller = render(view).height
    assert taller > render(_view(services=("社保卡申领",))).height


def test_wait_is_rounded_up_and_nobody_ahead_reads_naturally() -> None:
    assert wait_text(None, None, 241) == "预计等候约 5 分钟"  # a server with no range
    assert wait_text(None, None, 20) == "预计很快为您办理"
    assert "您前面没有人在等待" in text_lines(_view(ahead=0))
    i18n.set_language("en")
    assert "Estimated wait: about 14 min" in text_lines(_view())


def test_the_ticket_prints_the_halls_range() -> None:
    lines = text_lines(_view(wait_low=1200, wait_high=1800))
    assert "预计等候约 20-30 分钟" in lines
    i18n.set_language("en")
    assert "Estimated wait: about 20-30 min" in text_lines(_view(wait_low=1200,
                                                                 wait_high=1800))


def test_no_show_rule_follows_the_hall_config() -> None:
    assert "作废" in no_show_rule_text({"mode": "void"})
    text = no_show_rule_text({"mode": "requeue", "requeue_after": 5, "max_requeues": 2})
    assert "5 人之后" in text and "2 次" in text


def test_long_lines_wrap_inside_the_paper() -> None:
    fnt = font(22, False)
    long = "请在休息区等候，留意大屏和语音叫号。过号后请到咨询台，工作人员将为您重新安排。" * 2
    lines = wrap(long, fnt, 300)
    assert len(lines) > 3
    assert all(fnt.getlength(ln) <= 300 for ln in lines)
    assert "".join(lines) == long


def test_a_test_ticket_is_marked_as_not_valid() -> None:
    img = render(_view(test=True))
    assert isinstance(img, Image.Image)
    assert "测试票 · 非有效号码" in i18n.tr("kiosk.ticket.test")


def test_paper_width_maps_to_printer_dots() -> None:
    assert width_for_paper(80) == WIDTH_80MM == 576
    assert width_for_paper(58) == WIDTH_58MM == 384
