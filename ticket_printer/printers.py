"""Ticket printers chosen in config [printer]: file, escpos or the OS's default printer.

Every printer takes the same TicketView and its rendered image and either prints it or
raises PrinterError with a reason the supervisor can act on (offline, no paper, failed).
Printing runs on the kiosk's print thread, never on the Tk thread: a thermal printer on
a serial line takes seconds, and a jammed one may never answer.

Config keys (all optional; docs/kiosk.md has examples):
    kind = "file" | "escpos" | "system"       (file: PNG in DATA/tickets/, demo default)
    width_mm = 80 | 58
    escpos: connection = "usb" | "network" | "serial" | "win32raw", profile, mode =
            "text" (printer's own GB18030 font + native QR) | "image" (the rendered PNG),
            host, port, usb_vendor, usb_product, serial_device, baudrate, printer_name
    system: printer_name (default printer when empty)
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from PIL import Image

from queue_common import paths
from ticket_printer.ticket import TicketView, text_lines, width_for_paper


class PrinterError(Exception):
    """The ticket did not come out. reason: offline | no_paper | failed | config."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class Printer(Protocol):
    kind: str
    width: int  # dots across

    def print_ticket(self, view: TicketView, image: Image.Image) -> str:
        """Print one ticket; returns where it went (a path, a device); raises PrinterError."""
        ...


class FilePrinter:
    """Saves each ticket as a PNG in DATA/tickets/ (the demo printer; also an audit trail)."""

    kind = "file"

    def __init__(self, directory: Path, width: int) -> None:
        self.directory = directory
        self.width = width

    def print_ticket(self, view: TicketView, image: Image.Image) -> str:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        name = f"{'TEST-' if view.test else ''}{view.number}-{stamp}.png"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            target = self.directory / name
            partial = target.with_suffix(".part")
            image.save(partial, format="PNG")
            os.replace(partial, target)  # never a half-written ticket file
        except OSError as exc:
            raise PrinterError("failed", f"无法保存号票 / cannot save ticket: {exc}") from exc
        return str(target)


class EscposPrinter:
    """A thermal printer through python-escpos (optional extra `pip install .[escpos]`)."""

    kind = "escpos"

    def __init__(self, settings: Mapping[str, Any], width: int, device: Any = None) -> None:
        self.settings = dict(settings)
        self.width = width
        self.mode = str(self.settings.get("mode", "text"))
        if self.mode not in ("text", "image"):
            raise PrinterError("config", f"[printer] mode 必须是 text 或 image / "
                                         f"must be text or image, not {self.mode!r}")
        self._device = device  # tests pass escpos.printer.Dummy
        self._lock = threading.Lock()

    def _open(self) -> Any:
        if self._device is not None:
            return self._device
        try:
            from escpos import printer as ep
        except ImportError as exc:
            raise PrinterError("config", "未安装 python-escpos / python-escpos is not "
                                         "installed: pip install .[escpos]") from exc
        s = self.settings
        profile = s.get("profile") or "default"
        if profile == "default":  # python-escpos' default profile knows no paper width
            profile = "RP-F10-58mm" if self.width < 576 else "TM-T20II"
        conn = s.get("connection", "network")
        try:
            if conn == "network":
                dev = ep.Network(str(s.get("host", "")), int(s.get("port", 9100)),
                                 timeout=float(s.get("timeout", 5)), profile=profile)
            elif conn == "usb":
                dev = ep.Usb(_usb_id(s["usb_vendor"]), _usb_id(s["usb_product"]),
                             profile=profile)
            elif conn == "serial":
                dev = ep.Serial(str(s.get("serial_device", "COM1" if sys.platform == "win32"
                                              else "/dev/ttyUSB0")),
                                baudrate=int(s.get("baudrate", 9600)), profile=profile)
            elif conn == "win32raw":
                dev = ep.Win32Raw(str(s.get("printer_name", "")), profile=profile)
            else:
                raise PrinterError("config", f"未知连接方式 / unknown connection {conn!r}")
        except PrinterError:
            raise
        except KeyError as exc:
            raise PrinterError("config", f"[printer] 缺少 / missing {exc.args[0]}") from exc
        except Exception as exc:  # escpos raises many types (USBNotFoundError, OSError ...)
            raise PrinterError("offline", f"打印机未连接 / printer not reachable: {exc}") from exc
        self._device = dev
        return dev

    def _check_paper(self, dev: Any) -> None:
        """Ask the printer where it can answer (network/USB/serial); Dummy cannot."""
        if not self.settings.get("check_status", True) or type(dev).__name__ == "Dummy":
            return
        try:
            online = dev.is_online()
            paper = dev.paper_status()  # 2 = adequate, 1 = near end, 0 = out
        except Exception:
            return  # printers that do not report status print anyway
        if online is False:
            raise PrinterError("offline", "打印机离线 / printer offline")
        if paper == 0:
            raise PrinterError("no_paper", "打印机缺纸 / printer out of paper")

    def print_ticket(self, view: TicketView, image: Image.Image) -> str:
        with self._lock:
            dev = self._open()
            self._check_paper(dev)
            try:
                if self.mode == "image":
                    dev.image(image.convert("1"), center=True)
                else:
                    self._print_text(dev, view)
                dev.cut()
            except PrinterError:
                raise
            except Exception as exc:
                self._device = None if type(dev).__name__ != "Dummy" else dev
                raise PrinterError("failed", f"打印失败 / print failed: {exc}") from exc
        return f"escpos:{self.settings.get('connection', 'network')}"

    def _print_text(self, dev: Any, view: TicketView) -> None:
        """Native text in the printer's GB18030 font, the number at 8x, and a native QR."""
        lines = text_lines(view)
        gb = "gb18030"
        dev._raw(b"\x1b\x40\x1c\x26")  # ESC @ reset, FS & Chinese character mode
        dev.set(align="center", bold=True, double_height=True, double_width=True)
        dev._raw((lines[0] + "\n").encode(gb, "replace"))
        number_at = lines.index(view.number)
        dev.set(align="center", bold=False, normal_textsize=True)
        for line in lines[1:number_at]:
            dev._raw((line + "\n").encode(gb, "replace"))
        dev.set(align="center", bold=True, custom_size=True, width=6, height=6)
        dev._raw((view.number + "\n").encode("ascii", "replace"))
        dev.set(align="center", bold=False, normal_textsize=True)
        for line in lines[number_at + 1:]:
            dev._raw((line + "\n").encode(gb, "replace"))
        if view.status_url:
            dev.qr(view.status_url, native=True, size=8, center=False)
        dev._raw(b"\n")


def _usb_id(value: Any) -> int:
    """USB ids as config gives them: an integer (0x0416 in TOML) or a hex string "0416"."""
    return value if isinstance(value, int) else int(str(value), 16)


class SystemPrinter:
    """The OS's printer: Windows GDI (pywin32) or the shell's print verb; elsewhere `lp`."""

    kind = "system"

    def __init__(self, settings: Mapping[str, Any], width: int) -> None:
        self.name = str(settings.get("printer_name", "") or "")
        self.width = width

    def print_ticket(self, view: TicketView, image: Image.Image) -> str:
        tmp = Path(tempfile.mkdtemp(prefix="ticket-")) / f"{view.number}.png"
        image.save(tmp)
        if sys.platform == "win32":
            return self._print_windows(tmp, image)
        lp = shutil.which("lp")
        if lp is None:
            raise PrinterError("config", "未找到 lp 命令 / no `lp` command (install CUPS)")
        cmd = [lp] + (["-d", self.name] if self.name else []) + [
            "-o", "fit-to-page", str(tmp)]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=15)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PrinterError("offline", f"打印命令失败 / lp failed: {exc}") from exc
        if done.returncode != 0:
            raise PrinterError("failed", f"打印失败 / lp: {done.stderr.strip()}")
        return done.stdout.strip() or "lp"

    def _print_windows(self, path: Path, image: Image.Image) -> str:
        try:
            import win32print  # type: ignore[import-untyped,unused-ignore]
            import win32ui  # type: ignore[import-untyped,unused-ignore]
            from PIL import ImageWin
        except ImportError:
            try:
                os.startfile(str(path), "print")  # type: ignore[attr-defined]
            except OSError as exc:
                raise PrinterError("offline", f"打印失败 / print failed: {exc}") from exc
            return "startfile"
        name = self.name or win32print.GetDefaultPrinter()
        try:
            dc = win32ui.CreateDC()
            dc.CreatePrinterDC(name)
            printable = dc.GetDeviceCaps(8)  # HORZRES: printable width in dots
            scale = printable / image.width
            dc.StartDoc("ticket")
            dc.StartPage()
            ImageWin.Dib(image.convert("RGB")).draw(
                dc.GetHandleOutput(), (0, 0, printable, int(image.height * scale)))
            dc.EndPage()
            dc.EndDoc()
            dc.DeleteDC()
        except Exception as exc:  # pywin32 raises pywintypes.error
            raise PrinterError("offline", f"打印失败 / print failed: {exc}") from exc
        return f"win32:{name}"


def make_printer(settings: Mapping[str, Any], data: Path, device: Any = None) -> Printer:
    """The printer named by config [printer] kind; bad settings raise PrinterError('config')."""
    kind = str(settings.get("kind", "file"))
    width = width_for_paper(int(settings.get("width_mm", 80)))
    if kind == "file":
        directory = Path(settings["directory"]) if settings.get("directory") else (
            paths.tickets_dir(data))
        return FilePrinter(directory, width)
    if kind == "escpos":
        sub = settings.get("escpos")
        merged = {**settings, **(sub if isinstance(sub, Mapping) else {})}
        return EscposPrinter(merged, width, device=device)
    if kind == "system":
        return SystemPrinter(settings, width)
    raise PrinterError("config", f"[printer] kind 必须是 file / escpos / system，不是 {kind!r}")
