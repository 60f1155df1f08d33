"""The command lines of `display-board record-voice` and `display-board check-voice`.

    display-board record-voice PACK_DIR [--mic auto|sounddevice|arecord|sox|files:DIR]
        [--units phrase|word|syllable] [--letters ABCDE] [--windows 30] [--english]
        [--name TEXT] [--licence TEXT] [--again] [--data DIR]
    display-board check-voice PACK_DIR [--letters ABCDE] [--windows 30] [--data DIR]

A new pack's script (which clips to record) comes from the hall: the letters, windows
and templates of config.toml in --data when it has them, else the options' defaults.
check-voice exits 1 when it found a problem, so an installer's script can stop on it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from display_board import messages  # noqa: F401  (registers the catalogue)
from display_board.call_units import UNIT_SETS
from display_board.settings import announce_settings, read_local_config
from display_board.voice_pack import DEFAULT_RATE, PackError
from queue_common import i18n, paths

DEFAULT_WINDOWS = 30
ALL_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def hall_letters_and_windows(local: dict[str, Any]) -> tuple[str, list[int]]:
    """The prefixes and window numbers of a full hall config.toml ("" and [] if none)."""
    letters: list[str] = []
    services = local.get("service")
    for s in services if isinstance(services, list) else []:
        prefix = s.get("prefix") if isinstance(s, dict) else None
        if isinstance(prefix, str) and prefix not in letters:
            letters.append(prefix)
    numbering = local.get("numbering")
    if isinstance(numbering, dict):
        for key in ("priority_prefix", "appointment_prefix"):
            prefix = numbering.get(key)
            if isinstance(prefix, str) and prefix and prefix not in letters:
                letters.append(prefix)
    counters = local.get("counter")
    windows = sorted({int(c["number"]) for c in (counters if isinstance(counters, list)
                                                 else [])
                      if isinstance(c, dict) and isinstance(c.get("number"), int)})
    return "".join(letters), windows


def build_parser(command: str) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog=f"display-board {command}")
    ap.add_argument("pack", metavar="PACK_DIR", help="the voice pack's folder")
    ap.add_argument("--data", help="data dir whose config.toml names the hall's letters "
                    "and windows (default: $QUEUE_DATA or the platform's)")
    ap.add_argument("--letters", help="ticket letters to cover, e.g. ABCDEY (default: the "
                    "hall's prefixes, else A-Z)")
    ap.add_argument("--windows", type=int, metavar="N",
                    help=f"cover windows 1..N (default: the hall's windows, else "
                         f"1..{DEFAULT_WINDOWS})")
    ap.add_argument("--digits", type=int, default=3, help="digits of a ticket number")
    ap.add_argument("--lang", choices=i18n.LANGS, help="zh (default) or en")
    if command == "record-voice":
        ap.add_argument("--mic", default="auto",
                        help="auto | sounddevice | arecord | sox | files:DIR (WAV files "
                             "played in as the microphone)")
        ap.add_argument("--units", choices=UNIT_SETS, default="phrase",
                        help="clip size of a new pack (docs/voice.md; default phrase)")
        ap.add_argument("--english", action="store_true",
                        help="also record the English sentence's clips")
        ap.add_argument("--name", default="", help="who speaks, where, when")
        ap.add_argument("--licence", default="",
                        help="the terms the clips may be used under (docs/voice.md)")
        ap.add_argument("--rate", type=int, default=DEFAULT_RATE, help="sample rate, Hz")
        ap.add_argument("--again", action="store_true",
                        help="record every clip again, not only the missing ones")
        ap.add_argument("--run", type=int, default=1, metavar="N",
                        help="N clips per take, said in turn with a short pause and cut "
                             "apart (10 makes a phrase pack a sitting of about an hour)")
    return ap


def _scope(args: argparse.Namespace, local: dict[str, Any]) -> tuple[str, list[int]]:
    letters, windows = hall_letters_and_windows(local)
    if args.letters:
        letters = "".join(c for c in args.letters.upper() if "A" <= c <= "Z")
    if args.windows:
        windows = list(range(1, args.windows + 1))
    return letters or ALL_LETTERS, windows or list(range(1, DEFAULT_WINDOWS + 1))


def check(args: argparse.Namespace, local: dict[str, Any]) -> int:
    from display_board.app import both
    from display_board.voice_tools import check_pack, finding_line

    letters, windows = _scope(args, local)
    pack = Path(args.pack)
    try:
        manifest, findings = check_pack(pack, letters=letters, windows=windows,
                                        digits=args.digits)
    except PackError as exc:
        print(both("voice.bad_pack", error=exc), file=sys.stderr)
        return 2
    for f in findings:
        print(finding_line(f))
    count = len(manifest.entries())
    if findings:
        print(both("voice.check.bad", path=pack, count=count, problems=len(findings)))
        return 1
    print(both("voice.check.ok", path=pack, count=count))
    return 0


def record(args: argparse.Namespace, local: dict[str, Any]) -> int:
    from display_board.app import both
    from display_board.audio import SystemPlayer
    from display_board.microphone import MicrophoneError, open_microphone
    from display_board.voice_tools import Console, manifest_for, new_manifest, record_pack
    from queue_common.i18n import tr

    letters, windows = _scope(args, local)
    settings = announce_settings(None, local)
    pack = Path(args.pack)
    try:
        manifest = manifest_for(pack, lambda: new_manifest(
            name=args.name, units=args.units, letters=letters, windows=windows,
            digits=args.digits, template=settings.template,
            template_en=settings.template_en, english=args.english, rate=args.rate,
            licence=args.licence))
        mic = open_microphone(args.mic, manifest.sample_rate)
    except (PackError, MicrophoneError, ValueError) as exc:
        print(both("voice.bad_pack", error=exc), file=sys.stderr)
        return 2

    def ask(prompt: str) -> str:
        try:
            return input(prompt)
        except EOFError:  # the end of a piped script: stop, keeping what was recorded
            return "q"

    recorded, left = record_pack(pack, manifest, mic, SystemPlayer(), Console(ask=ask),
                                 again=args.again, run=max(1, min(args.run, 20)))
    print(tr("voice.rec.done", recorded=recorded, left=left, path=pack))
    return 0


def main(argv: Sequence[str]) -> int:
    command, rest = argv[0], list(argv[1:])
    args = build_parser(command).parse_args(rest)
    i18n.set_language(args.lang)
    local = read_local_config(paths.data_dir(args.data))
    return check(args, local) if command == "check-voice" else record(args, local)
