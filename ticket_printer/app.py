"""`ticket-printer`: the self-service kiosk (取号机).

    ticket-printer [--server HOST[:REQ:EV]] [--data DIR] [--device NAME] [--fullscreen]
                   [--lang zh|en] [--print-test]

The data dir holds the device key (keys/devices/NAME.key_secret), the server's public
key and a config.toml whose [client] says where the server is and whose [printer] says
how tickets are printed. `--print-test` prints a marked sample ticket through the
configured printer and exits (no server needed): the first thing to do when a printer
is installed.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import tkinter as tk
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from queue_common import i18n, identity, paths
from queue_common.client_config import ClientConfig, ConfigError, load_client_config
from queue_common.tk.stopping import run_until_stopped
from ticket_printer import messages as _messages  # noqa: F401  (registers the texts)
from ticket_printer.printers import Printer, PrinterError, make_printer
from ticket_printer.readers import SerialReader
from ticket_printer.session import sample_view
from ticket_printer.ticket import render

log = logging.getLogger("ticket_printer")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="ticket-printer",
                                 description="自助取号机 · self-service ticket kiosk")
    ap.add_argument("--server", help="HOST or HOST:REQUEST_PORT:EVENT_PORT (default: [client])")
    ap.add_argument("--data", help="data dir with keys and config.toml")
    ap.add_argument("--device", default="kiosk-1", help="this kiosk's device name")
    ap.add_argument("--fullscreen", action="store_true", help="full screen (the real kiosk)")
    ap.add_argument("--geometry", help="window WIDTHxHEIGHT[+X+Y] (demo: a part of the screen)")
    ap.add_argument("--lang", choices=i18n.LANGS, help="zh (default) or en")
    ap.add_argument("--print-test", action="store_true",
                    help="print a sample ticket on the configured printer and exit")
    return ap


def local_config(data: Path) -> ClientConfig:
    """This PC's config.toml ([client], [printer], [reader]); defaults when there is none."""
    return load_client_config(paths.config_file(data))


def printer_settings(cfg: ClientConfig) -> dict[str, Any]:
    settings: dict[str, Any] = msgspec.to_builtins(cfg.printer)
    return settings


def print_test(printer: Printer, hall_name: str) -> int:
    view = sample_view(hall_name)
    try:
        where = printer.print_ticket(view, render(view, printer.width))
    except PrinterError as exc:
        print(f"ticket-printer: {exc.message}", file=sys.stderr)
        return 1
    print(f"测试票已打印 / test ticket printed: {where}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    i18n.set_language(args.lang)
    data = paths.data_dir(args.data)
    try:
        cfg = local_config(data)
        printer = make_printer(printer_settings(cfg), data)
    except ConfigError as exc:
        print(f"ticket-printer: {exc}", file=sys.stderr)
        return 1
    except PrinterError as exc:
        print(f"ticket-printer: {exc.message}", file=sys.stderr)
        return 1
    if args.print_test:
        return print_test(printer, cfg.hall.name)
    return run_kiosk(args, data, cfg, printer)


def window_size(args: argparse.Namespace, root: tk.Tk) -> tuple[int, int]:
    """The kiosk's drawing area: the screen, or what --geometry asks for (the demo)."""
    screen = (root.winfo_screenwidth(), root.winfo_screenheight())
    if args.fullscreen or not args.geometry:
        return screen if args.fullscreen else (1280, 800)
    match = re.match(r"^(\d+)x(\d+)", args.geometry)
    return (int(match.group(1)), int(match.group(2))) if match else screen


def serial_readers(cfg: ClientConfig) -> list[SerialReader]:
    """This kiosk's serial readers ([reader] id_card / qr = "serial", with their ports)."""
    r = cfg.reader
    out = []
    if r.id_card == "serial":
        out.append(SerialReader("id_card", r.id_card_port, r.id_card_baudrate))
    if r.qr == "serial":
        out.append(SerialReader("qr", r.qr_port, r.qr_baudrate))
    return out


def run_kiosk(args: argparse.Namespace, data: Path, cfg: ClientConfig, printer: Printer) -> int:
    from queue_common.connection import Connection
    from ticket_printer.kiosk import Kiosk
    from ticket_printer.print_worker import PrintWorker

    try:
        conn = Connection.from_data_dir(data, args.device, args.server)
    except (OSError, ValueError) as exc:
        print(f"ticket-printer: {exc}", file=sys.stderr)
        return 1
    root = tk.Tk(className="ticket-printer")
    root.title("自助取号 · Kiosk")
    if args.fullscreen:
        # The geometry too: without a window manager (a kiosk session) -fullscreen alone
        # leaves the window at its natural size.
        root.geometry(f"{root.winfo_screenwidth()}x{root.winfo_screenheight()}+0+0")
        root.attributes("-fullscreen", True)
        root.config(cursor="none")  # a touch screen: no mouse pointer
    else:
        root.geometry(args.geometry or "1280x800")
    worker = PrintWorker(printer)
    # The server's [server] status_base_url wins (it comes in the snapshot and in every
    # ticket's status_url); this is what a kiosk prints when the hall has none.
    base = f"http://{conn.endpoint.host}:{cfg.client.status_port}"
    readers = serial_readers(cfg)
    kiosk = Kiosk(root, conn, worker, status_base=base, device=args.device,
                  large=cfg.kiosk.large_text, size=window_size(args, root),
                  readers=readers, wedge="keyboard" in (cfg.reader.id_card, cfg.reader.qr),
                  id_key=identity.load_key(data))
    conn.attach_tk(root, interval_ms=10)
    conn.start()
    root.protocol("WM_DELETE_WINDOW", root.destroy)
    try:
        run_until_stopped(root)
    finally:
        conn.stop()
        worker.stop()
    del kiosk  # its window is gone with the mainloop
    return 0


if __name__ == "__main__":
    sys.exit(main())
