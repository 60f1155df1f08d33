"""`queue-server demo` (not yet built)."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="demo (not yet built)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print("queue-server demo: not yet built", file=sys.stderr)
    return 2
