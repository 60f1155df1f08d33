"""CJK font files for Pillow, chosen by a preference list (Pillow needs files, not families).

Tk picks families by name (queue_common.tk.look); Pillow needs a font FILE, so the same
preference (Microsoft YaHei on Windows, PingFang on macOS, Noto / WenQuanYi on Linux)
is expressed as paths. A ticket printed in boxes is worse than no ticket, so when no
CJK file is found the caller is told (``CJKFontMissing``) instead of getting tofu.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont


class CJKFontMissing(RuntimeError):
    """No font able to draw Chinese was found on this machine."""


def _windows_fonts() -> Path:
    return Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"


# (path, face index for .ttc collections). Bold first: thermal paper prints thin
# strokes faintly, so the regular face is only a fallback.
def _candidates(bold: bool) -> list[tuple[Path, int]]:
    win = _windows_fonts()
    noto = Path("/usr/share/fonts/opentype/noto")
    noto_file = "NotoSansCJK-Bold.ttc" if bold else "NotoSansCJK-Regular.ttc"
    return [
        (win / ("msyhbd.ttc" if bold else "msyh.ttc"), 0),   # Microsoft YaHei
        (win / "msyh.ttc", 0),
        (win / "simhei.ttf", 0),
        (Path("/System/Library/Fonts/PingFang.ttc"), 0),
        (noto / noto_file, 2),                                # index 2 = Noto Sans CJK SC
        (noto / "NotoSansCJK-Regular.ttc", 2),
        (Path("/usr/share/fonts/opentype/noto/NotoSansCJKsc-Bold.otf"), 0),
        (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), 0),
        (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), 0),
        (Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"), 0),
    ]


@lru_cache(maxsize=4)
def cjk_font_file(bold: bool = True) -> tuple[str, int]:
    """The first installed CJK font file (path, ttc index); $QUEUE_TICKET_FONT overrides."""
    override = os.environ.get("QUEUE_TICKET_FONT")
    if override and Path(override).is_file():
        return override, 0
    for path, index in _candidates(bold):
        if path.is_file():
            return str(path), index
    raise CJKFontMissing(
        "未找到中文字体（请安装微软雅黑或 Noto Sans CJK）/ "
        "no Chinese font found (install Microsoft YaHei or Noto Sans CJK)")


@lru_cache(maxsize=64)
def font(size: int, bold: bool = True) -> ImageFont.FreeTypeFont:
    """A loaded font of the given pixel size; cached because loading a .ttc costs ~5 ms."""
    path, index = cjk_font_file(bold)
    # BASIC layout: Chinese and digits need no shaping, and it is several times faster
    # than raqm for the huge number.
    return ImageFont.truetype(path, size, index=index, layout_engine=ImageFont.Layout.BASIC)
