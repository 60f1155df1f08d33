"""Rewrite docs/protocol.md's appendices from a real server's exchanges.

    .venv/bin/python -m pytest tests/integration/test_wire_live.py -k every_operation
    .venv/bin/python -m tests.support.protocol_examples

The hall-day test writes every request/reply and the board's events to
artifacts/protocol-examples.json; this turns them into Appendix A (one exchange per
operation, then the error examples) and Appendix B (each event's data), so the
examples in the spec are what the server really says, never typed by hand.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "protocol.md"
EXAMPLES = REPO / "artifacts" / "protocol-examples.json"
OPS_ORDER = (
    "hello", "state", "login", "issue", "check_in", "ticket_status", "device_status",
    "window_queue", "call_next", "recall", "recent_calls", "start", "complete", "rate", "call",
    "no_show", "park", "unpark", "transfer", "pause", "resume", "stats", "clear_throttle",
    "counter_services",
    "cancel_ticket", "close_counter", "open_counter", "logout", "close_day",
)
ERRORS_ORDER = ("error FORBIDDEN", "error UNKNOWN_SERVICE", "error APPOINTMENT_INVALID")
HEAD_A = "## Appendix A. Example exchanges"
HEAD_B = "## Appendix B. Example event data"
INTRO_A = """Captured from a real server by `tests/integration/test_wire_live.py::test_a_hall_day_runs_every_operation` (it writes every exchange to
`artifacts/protocol-examples.json`; `python -m tests.support.protocol_examples` writes
these appendices from it). Lists are cut to two entries and `hall.settings` is elided,
nothing else is changed. Ids are the client's random hex; the login token is shown as
`<token>`."""
INTRO_B = """The `data` member of each event type as a board received it in the same run
(envelope as in section 8; lists cut to two entries)."""


def cut(value: Any) -> Any:
    """Lists to their first two entries, all the way down."""
    if isinstance(value, list):
        return [cut(v) for v in value[:2]]
    if isinstance(value, dict):
        return {k: cut(v) for k, v in value.items()}
    return value


def compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def exchange(name: str, example: dict[str, Any]) -> str:
    request = dict(example["request"])
    if request.get("token"):
        request["token"] = "<token>"
    reply = cut(example["reply"])
    result = reply.get("result")
    if isinstance(result, dict):
        if request.get("op") == "login" and result.get("token"):
            result["token"] = "<token>"
        hall = result.get("hall")
        if isinstance(hall, dict) and "settings" in hall:
            hall["settings"] = {"announce": {"…": "…"}}
    return (f"### {name} (device `{example['device']}`)\n\n```\nC: {compact(request)}\n"
            f"S: {compact(reply)}\n```\n")


def appendices(examples: dict[str, Any]) -> str:
    missing = [n for n in (*OPS_ORDER, *ERRORS_ORDER) if n not in examples]
    if missing:
        raise SystemExit(f"the examples file lacks {missing}: rerun the hall-day test")
    parts = [HEAD_A, "", INTRO_A, ""]
    parts += [exchange(n, examples[n]) for n in (*OPS_ORDER, *ERRORS_ORDER)]
    parts += [HEAD_B, "", INTRO_B, ""]
    events = sorted(k for k in examples if k.startswith("event "))
    parts += [f"- `{k.removeprefix('event ')}`: `{compact(cut(examples[k]))}`\n"
              for k in events]
    return "\n".join(parts).rstrip("\n") + "\n"


def main() -> int:
    examples = json.loads(EXAMPLES.read_text("utf-8"))
    text = DOC.read_text("utf-8")
    start = text.index(HEAD_A)
    DOC.write_text(text[:start] + appendices(examples), "utf-8")
    print(f"rewrote the appendices of {DOC.relative_to(REPO)} from {EXAMPLES.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
