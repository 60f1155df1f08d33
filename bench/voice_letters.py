"""The per-letter table of docs/voice.md from bench/voice.py results.

    .venv/bin/python bench/voice_letters.py bench/results/voice/letters-*.json

For each letter: its Mandarin name, how often each run's calls had it heard right, and
the verdict (mostly misheard: right in under half of all its calls).
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from queue_common.spoken_letters import READINGS  # noqa: E402


def main(paths: list[str]) -> int:
    runs = [(Path(p).stem, json.loads(Path(p).read_text("utf-8"))) for p in paths]
    right: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for name, data in runs:
        for call in data["calls"]:
            letter = "".join(c for c in call["number"] if c.isalpha())
            cell = right[letter][name]
            cell[1] += 1
            cell[0] += call["heard"]["letter"] == letter
    names = [name for name, _ in runs]
    print("| letter | read as | " + " | ".join(names) + " | all | verdict |")
    print("|---|---|" + "---|" * len(names) + "---|---|")
    for letter in sorted(right):
        cells = [right[letter][n] for n in names]
        ok, of = sum(c[0] for c in cells), sum(c[1] for c in cells)
        verdict = "misheard" if ok * 2 < of else ("right" if ok * 4 >= of * 3 else "so-so")
        chars, pinyin = READINGS[letter]
        print(f"| {letter} | {chars} {pinyin} | " + " | ".join(f"{a}/{b}" for a, b in cells)
              + f" | {ok}/{of} | {verdict} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
