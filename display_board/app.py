"""`display-board`: the hall board (综合屏) or one window's screen (--counter N), with voice.

    display-board [--server HOST[:REQ:EV]] [--data DIR] [--device board-1] [--counter N]
                  [--fullscreen] [--geometry WxH+X+Y] [--lang zh|en] [--mute] [--preview]
    display-board --say-to FILE.wav --number A012 --counter 3
    display-board record-voice PACK_DIR [--mic auto|sounddevice|arecord|sox|files:DIR]
    display-board check-voice PACK_DIR [--letters ABC] [--windows 30]

The command line only: the screen itself is board_app.BoardApp.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import re
import sys
import tkinter as tk
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from display_board import messages  # noqa: F401  (registers the catalogue)
from display_board.board_app import PUMP_MS, BoardApp
from display_board.settings import (
    AnnounceSettings,
    announce_settings,
    read_local_config,
)
from queue_common import i18n, paths
from queue_common.i18n import tr
from queue_common.tk.stopping import run_until_stopped

log = logging.getLogger(__name__)

GEOMETRY = re.compile(r"^\d+x\d+([+-]-?\d+[+-]-?\d+)?$")


def both(key: str, **kwargs: object) -> str:
    """"中文 / English" for messages on stderr (read by installers of either language)."""
    lang = i18n.language()
    try:
        i18n.set_language("zh")
        zh = tr(key, **kwargs)
        i18n.set_language("en")
        en = tr(key, **kwargs)
    finally:
        i18n.set_language(lang)
    return f"{zh} / {en}"


class PreviewSource:
    """A fixed sample hall (`--preview`), for checking a screen without a server."""

    online = True

    def __init__(self) -> None:
        from display_board.sample_state import sample_state
        from queue_common.mirror import Mirror

        self._mirror = Mirror()
        self._mirror.load(sample_state())

    @property
    def mirror(self) -> Any:
        return self._mirror

    def add_listener(self, fn: Any) -> None:
        self._fn = fn

    def remove_listener(self, fn: Any) -> None:
        self._fn = None

    def request(self, op: str, args: dict[str, Any] | None = None, *,
                callback: Any = None, timeout: float = 3.0, retries: int = 2,
                request_id: str | None = None) -> str:
        return ""  # no server to tell


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="display-board", description=both("app.description"))
    ap.add_argument("--server", help="HOST or HOST:REQUEST_PORT:EVENT_PORT "
                    "(default: config.toml [client])")
    ap.add_argument("--data", help="data dir with config.toml and keys (default: $QUEUE_DATA "
                    "or the platform's data dir)")
    ap.add_argument("--device", default="board-1", help="device key name (default board-1)")
    ap.add_argument("--counter", type=int, metavar="N",
                    help="show window N's screen instead of the hall board")
    ap.add_argument("--fullscreen", action="store_true",
                    help="fill the screen, no cursor (F11 toggles)")
    ap.add_argument("--geometry", metavar="WxH+X+Y",
                    help="window size and place, e.g. 1920x1080+1920+0 for a second screen")
    ap.add_argument("--lang", choices=i18n.LANGS, help="zh (default) or en")
    ap.add_argument("--mute", action="store_true", help="show calls without speaking them")
    ap.add_argument("--preview", action="store_true",
                    help="draw a sample hall without a server (layout check)")
    ap.add_argument("--say-to", metavar="FILE.wav",
                    help="render one announcement to a WAV file and exit")
    ap.add_argument("--number", help="ticket number for --say-to, e.g. A012")
    ap.add_argument("--trace-paint", metavar="FILE", help=argparse.SUPPRESS)  # bench/board.py
    return ap


def say_to(args: argparse.Namespace, settings: AnnounceSettings, data: Path | None) -> int:
    """One announcement to a WAV, with the pack and engine this PC would use."""
    if not args.number or args.counter is None:
        print(both("app.say_to_args"), file=sys.stderr)
        return 2
    from display_board import audio
    from display_board.speaker import HallSpeaker

    speaker = HallSpeaker(settings, data=data)
    try:
        clip = speaker.announcement(args.number, args.counter)
    finally:
        speaker.close()
    if speaker.shortfall:
        print(speaker.shortfall, file=sys.stderr)
    path = Path(args.say_to)
    path.parent.mkdir(parents=True, exist_ok=True)
    audio.write_wav(clip, path)
    print(both("app.say_to_done", path=args.say_to, seconds=clip.seconds))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("record-voice", "check-voice"):
        from display_board.voice_cli import main as voice_main

        return voice_main(argv)
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    i18n.set_language(args.lang)
    if args.geometry and not GEOMETRY.match(args.geometry):
        print(both("app.bad_geometry"), file=sys.stderr)
        return 2
    data = paths.data_dir(args.data)
    local = read_local_config(data)
    if args.say_to:
        return say_to(args, announce_settings(None, local), data)

    source: Any
    if args.preview:
        source = PreviewSource()
    else:
        from queue_common.connection import Connection

        try:
            source = Connection.from_data_dir(data, args.device, args.server)
        except OSError as exc:  # no key files: this PC was never set up as a board
            print(both("app.no_key", device=args.device, error=exc), file=sys.stderr)
            return 1
        except ValueError as exc:  # a bad --server or [client] section
            print(both("app.connect_failed", error=exc), file=sys.stderr)
            return 1
    if sys.platform == "win32":  # draw at the screen's real pixels (4K), not bitmap-scaled
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.windll.shcore.SetProcessDpiAwareness(2)
    root = tk.Tk(className="DisplayBoard")
    root.title(tr("counter.title", number=args.counter) if args.counter is not None
               else "display-board")
    root.configure(background="black")
    root.geometry(args.geometry or ("640x360" if args.counter is not None else "1280x720"))
    if args.fullscreen:
        root.attributes("-fullscreen", True)
        with contextlib.suppress(tk.TclError):
            root.configure(cursor="none")
    root.bind("<F11>", lambda _e: root.attributes(
        "-fullscreen", not root.attributes("-fullscreen")))
    trace = open(args.trace_paint, "a", encoding="utf-8") if args.trace_paint else None  # noqa: SIM115
    app = BoardApp(root, source, local=local, counter=args.counter, mute=args.mute,
                   trace=trace, data=data)
    app.start()
    try:
        if args.preview:
            source.online = True
            app.view.set_online(True)
            app.render()
        else:
            source.start()
            source.attach_tk(root, interval_ms=PUMP_MS)
        run_until_stopped(root)
    finally:
        app.stop()
        if not args.preview:
            source.stop()
        if trace is not None:
            trace.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
