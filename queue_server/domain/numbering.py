"""Ticket numbers (A012, Y003): a letter prefix and a per-prefix sequence of the day.

The prefix is the first matter's letter (one prefix per department by default), unless
the hall gives appointment or priority tickets their own ([numbering]
appointment_prefix, priority_prefix), so the hall can see the kind at a glance. The
sequence restarts every business day; numbers are never reused within one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Number:
    prefix: str
    seq: int
    text: str  # what is printed and announced: prefix + zero-padded seq


def next_number(kind: str, first_service_prefix: str, seq_by_prefix: Mapping[str, int], *,
                digits: int, appointment_prefix: str = "", priority_prefix: str = "") -> Number:
    """The number of the next ticket of `kind` ("normal", "priority", "appointment")."""
    prefix = (appointment_prefix if kind == "appointment" and appointment_prefix
              else priority_prefix if kind == "priority" and priority_prefix
              else first_service_prefix)
    seq = seq_by_prefix.get(prefix, 0) + 1
    return Number(prefix, seq, f"{prefix}{seq:0{digits}d}")
