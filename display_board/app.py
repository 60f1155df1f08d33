"""Entry point of the display_board desktop program (not yet built)."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    print("display_board: not yet built", file=sys.stderr)
    return 2
