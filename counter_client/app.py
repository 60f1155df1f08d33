"""Entry point of the counter_client desktop program (not yet built)."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    print("counter_client: not yet built", file=sys.stderr)
    return 2
