"""The board's voice: the hall's voice pack when it has one, a speech engine for the rest.

A voice pack ([announce] pack) says a call by joining recorded clips (voice_pack,
call_units). What the pack cannot say — a letter nobody recorded, a window added after
the recording — is said by the speech engine instead, the whole sentence, because a
sentence in two voices is harder to follow than one robotic one; the board's health
then says which texts were missing, so the supervisor knows the pack needs a clip.

The speech engine is pyttsx3 (voice.Synth) unless [announce] engine = "command" names
a locally installed engine (engines.CommandEngine). Lives on the announcer's worker
thread, like the engines it holds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from display_board import audio
from display_board.call_units import Lang, call_tokens, cover
from display_board.settings import AnnounceSettings
from display_board.voice import assemble

if TYPE_CHECKING:
    from display_board.voice_pack import VoicePack

log = logging.getLogger(__name__)
REMEMBER_MISSING = 8  # texts named in the health message


class Engine(Protocol):
    """Says one call's sentence (voice.Synth, engines.CommandEngine)."""

    def sentence(self, number: str, counter: int, lang: str) -> audio.Clip: ...

    def configure(self, settings: AnnounceSettings) -> None: ...

    def voice_for(self, lang: str) -> Any: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class PackVoice:
    """What voice_for() answers for a language the pack says."""

    id: str
    name: str


def resolve_pack(setting: str, data: Path | None) -> Path | None:
    """[announce] pack as a folder: absolute, or relative to this PC's data dir."""
    if not setting.strip():
        return None
    path = Path(setting.strip()).expanduser()
    if not path.is_absolute() and data is not None:
        path = data / path
    return path


def default_engine(settings: AnnounceSettings) -> Engine:
    if settings.engine == "command":
        from display_board.engines import CommandEngine

        return CommandEngine(settings)
    from display_board.voice import Synth

    return Synth(settings)


class HallSpeaker:
    """Speaker (announcer.Speaker) over a voice pack and a speech engine."""

    def __init__(self, settings: AnnounceSettings, *, data: Path | None = None,
                 engine_factory: Callable[[AnnounceSettings], Engine] = default_engine
                 ) -> None:
        self._data = data
        self._engine_factory = engine_factory
        self._settings = settings
        self._engine: Engine | None = None
        self._engine_error = ""
        self.pack: VoicePack | None = None
        self.pack_error = ""
        self.missing: list[str] = []  # recent texts the pack lacked (newest last)
        self.last_join_ms = 0.0  # time to cut and join the last pack sentence (bench)
        self._load_pack(settings)
        try:
            self._engine = engine_factory(settings)
        except Exception as exc:  # no engine: a complete pack still speaks every call
            self._engine_error = str(exc)[:200]
            log.warning("speech engine unavailable: %s", exc)
        if self.pack is None and self._engine is None:
            raise RuntimeError(f"no voice pack and no speech engine: {self._engine_error}")

    @classmethod
    def factory(cls, data: Path | None) -> Callable[[AnnounceSettings], HallSpeaker]:
        """speaker_factory for the Announcer, with this PC's data dir for the pack path."""
        return lambda settings: cls(settings, data=data)

    def _load_pack(self, settings: AnnounceSettings) -> None:
        self.pack, self.pack_error, self.missing = None, "", []
        path = resolve_pack(settings.pack, self._data)
        if path is None:
            return
        # numpy only where a pack is used: a board speaking with the engine stays ~9 MB
        # smaller (bench/board.py RSS).
        from display_board.voice_pack import PackError, VoicePack

        try:
            self.pack = VoicePack(path)
            self._warm_up()
        except PackError as exc:
            self.pack, self.pack_error = None, str(exc)
            log.warning("voice pack not used: %s", exc)

    def _warm_up(self) -> None:
        """Join one call's clips now, so the first real call does not wait for the disk
        and numpy's first use (~15 ms on a busy PC, bench/board.py)."""
        from display_board.voice_pack import join, to_clip

        pack = self.pack
        assert pack is not None
        for lang in pack.manifest.languages():
            texts = [t for t in list(pack.manifest.table(lang))[:3] if pack.has(lang, t)]
            to_clip(join([(pack.signal(lang, t), 0.02) for t in texts], pack.rate), pack.rate)

    def configure(self, settings: AnnounceSettings) -> None:
        old, self._settings = self._settings, settings
        if settings.pack != old.pack:
            self._load_pack(settings)
        changed = (settings.engine, settings.engine_command) != (old.engine,
                                                                  old.engine_command)
        if self._engine is not None and not changed:
            self._engine.configure(settings)
            return
        if self._engine is not None:
            self._engine.close()
            self._engine = None
        try:
            self._engine = self._engine_factory(settings)
        except Exception as exc:  # the pack (if any) still speaks
            self._engine_error = str(exc)[:200]
            log.warning("speech engine unavailable: %s", exc)

    def voice_for(self, lang: str) -> Any:
        if self.pack is not None and lang in self.pack.manifest.languages():
            return PackVoice(f"pack:{self.pack.dir}", self.pack.manifest.name)
        return self._engine.voice_for(lang) if self._engine is not None else None

    @property
    def shortfall(self) -> str:
        """"" when the pack (if any) said everything; else what the health should say."""
        if self.pack_error:
            return f"语音包不可用，改用语音合成 / voice pack not used: {self.pack_error[:160]}"
        if self.missing:
            texts = "、".join(dict.fromkeys(self.missing))
            return (f"语音包缺少片段，已用语音合成代替 / the voice pack lacks clips, "
                    f"said by the speech engine: {texts}")
        return ""

    def _from_pack(self, number: str, counter: int, lang: Lang) -> audio.Clip | None:
        pack = self.pack
        if pack is None or lang not in pack.manifest.languages():
            return None
        from display_board.voice_pack import PackError, join, to_clip

        started = time.perf_counter()
        template = self._settings.template if lang == "zh" else self._settings.template_en
        found = cover(call_tokens(number, counter, template, lang), pack.says(lang), lang)
        if not found.complete:
            self._note_missing("".join(found.missing) if lang == "zh"
                               else " ".join(found.missing))
            return None
        try:
            signal = join([(pack.signal(lang, p.key), p.gap_before) for p in found.pieces],
                          pack.rate)
        except PackError as exc:  # a clip went missing or broke since the pack loaded
            log.warning("voice pack: %s", exc)
            self._note_missing(str(exc)[:60])
            return None
        self.last_join_ms = (time.perf_counter() - started) * 1000
        return to_clip(signal, pack.rate)

    def _note_missing(self, text: str) -> None:
        self.missing = [*self.missing, text][-REMEMBER_MISSING:]

    def sentence(self, number: str, counter: int, lang: Lang) -> audio.Clip:
        """One sentence, from the pack if it can say all of it, else from the engine."""
        clip = self._from_pack(number, counter, lang)
        if clip is not None:
            return clip
        if self._engine is None:
            raise RuntimeError(f"voice pack cannot say {number} to window {counter} "
                               f"and there is no speech engine: {self._engine_error}")
        return self._engine.sentence(number, counter, lang)

    def announcement(self, number: str, counter: int) -> audio.Clip:
        s = self._settings
        zh = self.sentence(number, counter, "zh")
        en = self.sentence(number, counter, "en") if s.english else None
        return assemble(zh, en, s)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
