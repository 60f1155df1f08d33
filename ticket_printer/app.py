"""Entry point of the ticket_printer desktop program (not yet built)."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    print("ticket_printer: not yet built", file=sys.stderr)
    return 2
