"""Printers: file PNGs land whole in DATA/tickets, escpos bytes carry the number and a QR."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from escpos.printer import Dummy
from PIL import Image

from queue_common import i18n
from ticket_printer.printers import (
    EscposPrinter,
    FilePrinter,
    PrinterError,
    SystemPrinter,
    make_printer,
)
from ticket_printer.ticket import TicketView, render

URL = "http://127.0.0.1:5580/t/AbCdEf0123456789xyz"
QR_STORE = b"\x1d(k"  # GS ( k: the native QR store/print function


def _view() -> TicketView:
    i18n.set_language("zh")
    return TicketView(hall_name="XX镇社区事务受理服务中心", number="B037",
                      services=("医保报销", "居住证签注"), issued_at=dt.datetime(2026, 11, 26, 10, 1),
                      ahead=3, wait_seconds=600, status_url=URL, notice="请留意叫号")


def test_file_printer_writes_a_whole_png_into_the_tickets_dir(tmp_path: Path) -> None:
    printer = make_printer({"kind": "file"}, tmp_path)
    assert isinstance(printer, FilePrinter)
    view = _view()
    where = Path(printer.print_ticket(view, render(view, printer.width)))
    assert where.parent == tmp_path / "tickets" and where.name.startswith("B037-")
    assert list(where.parent.glob("*.part")) == []
    with Image.open(where) as img:
        assert [c.text for c in zxingcpp.read_barcodes(img)] == [URL]


def test_file_printer_on_an_unwritable_dir_raises_printer_error(tmp_path: Path) -> None:
    blocker = tmp_path / "tickets"
    blocker.write_text("not a dir")
    printer = FilePrinter(blocker, 576)
    with pytest.raises(PrinterError) as err:
        printer.print_ticket(_view(), render(_view()))
    assert err.value.reason == "failed"


def test_escpos_text_mode_sends_number_chinese_and_a_native_qr() -> None:
    dummy = Dummy(profile="TM-T20II")
    printer = make_printer({"kind": "escpos", "width_mm": 80, "escpos": {"mode": "text"}},
                           Path("."), device=dummy)
    view = _view()
    printer.print_ticket(view, render(view))
    out: bytes = dummy.output
    assert b"B037" in out
    assert "医保报销".encode("gb18030") in out
    assert "您前面还有 3 人在等待".encode("gb18030") in out
    assert QR_STORE in out and URL.encode() in out
    assert out.rstrip().endswith(b"\x1dVA\x03") or b"\x1dV" in out  # cut


def test_escpos_image_mode_sends_a_raster_of_the_rendered_ticket() -> None:
    dummy = Dummy(profile="TM-T20II")
    printer = EscposPrinter({"mode": "image"}, 576, device=dummy)
    view = _view()
    printer.print_ticket(view, render(view))
    assert b"\x1dv0" in dummy.output  # GS v 0: raster bit image
    assert len(dummy.output) > 576 // 8 * 500


class _Offline(Dummy):  # type: ignore[misc]
    def is_online(self) -> bool:
        return False

    def paper_status(self) -> int:
        return 2


class _NoPaper(Dummy):  # type: ignore[misc]
    def is_online(self) -> bool:
        return True

    def paper_status(self) -> int:
        return 0


@pytest.mark.parametrize(("device", "reason"), [(_Offline, "offline"), (_NoPaper, "no_paper")])
def test_a_printer_that_reports_trouble_raises_with_the_reason(device: Any, reason: str) -> None:
    dev = device(profile="TM-T20II")
    printer = EscposPrinter({"mode": "text"}, 576, device=dev)
    with pytest.raises(PrinterError) as err:
        printer.print_ticket(_view(), render(_view()))
    assert err.value.reason == reason
    assert b"B037" not in dev.output


def test_unreachable_network_printer_is_offline() -> None:
    printer = EscposPrinter({"connection": "network", "host": "127.0.0.1", "port": 9,
                             "timeout": 0.5}, 576)
    with pytest.raises(PrinterError) as err:
        printer.print_ticket(_view(), render(_view()))
    assert err.value.reason in ("offline", "failed")


def test_bad_printer_config_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(PrinterError) as err:
        make_printer({"kind": "laser"}, tmp_path)
    assert err.value.reason == "config"
    with pytest.raises(PrinterError):
        make_printer({"kind": "escpos", "mode": "fancy"}, tmp_path)


def test_system_printer_without_lp_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    import ticket_printer.printers as mod

    monkeypatch.setattr(mod.shutil, "which", lambda name: None)
    monkeypatch.setattr(mod.sys, "platform", "linux")
    with pytest.raises(PrinterError) as err:
        SystemPrinter({}, 576).print_ticket(_view(), render(_view()))
    assert err.value.reason == "config"


def test_print_test_prints_a_marked_sample_through_the_configured_printer(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ticket_printer.app import main

    assert main(["--data", str(tmp_path), "--print-test"]) == 0
    (png,) = (tmp_path / "tickets").glob("TEST-*.png")
    assert "test ticket printed" in capsys.readouterr().out
    with Image.open(png) as img:
        assert img.width == 576


def test_print_test_on_a_broken_printer_config_fails_with_a_message(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ticket_printer.app import main

    (tmp_path / "config.toml").write_text('[printer]\nkind = "laser"\n', "utf-8")
    assert main(["--data", str(tmp_path), "--print-test"]) == 1
    assert "printer.kind" in capsys.readouterr().err


def test_config_toml_printer_section_reaches_the_escpos_printer(tmp_path: Path) -> None:
    from queue_server.config import parse_config
    from ticket_printer.app import printer_settings

    cfg = parse_config('[printer]\nkind = "escpos"\nwidth_mm = 58\n[printer.escpos]\n'
                       'connection = "usb"\nusb_vendor = 0x0416\nusb_product = 0x5011\n'
                       'mode = "image"\n', "", require_hall=False)
    dummy = Dummy(profile="RP-F10-58mm")
    printer = make_printer(printer_settings(cfg), tmp_path, device=dummy)
    assert isinstance(printer, EscposPrinter)
    assert printer.width == 384 and printer.mode == "image"
    assert printer.settings["usb_vendor"] == 0x0416
    view = _view()
    printer.print_ticket(view, render(view, printer.width))
    assert b"\x1dv0" in dummy.output


def test_system_printer_takes_its_name_from_config() -> None:
    from queue_server.config import parse_config
    from ticket_printer.app import printer_settings

    cfg = parse_config('[printer]\nkind = "system"\nprinter_name = "Kiosk-80"\n', "",
                       require_hall=False)
    printer = make_printer(printer_settings(cfg), Path("."))
    assert isinstance(printer, SystemPrinter) and printer.name == "Kiosk-80"
