"""The rating pad's five faces, drawn with Pillow (a colour emoji font is not on every
hall PC, and Tk draws no colour glyphs): from a broad smile to a frown.

Drawn at 4x and scaled down, so the curves are smooth on a 7" panel and a 13" one.
"""

from __future__ import annotations

from functools import lru_cache

from PIL import Image, ImageDraw

# level -> how much the mouth curves: +1 a broad smile, 0 straight, -1 a frown
MOUTH = {5: 1.0, 4: 0.55, 3: 0.0, 2: -0.5, 1: -1.0}
SUPERSAMPLE = 4


@lru_cache(maxsize=32)
def face(level: int, size: int, colour: str = "#ffffff", ink: str = "#1b2430") -> Image.Image:
    """A round face of `size` pixels for a rating level (5 very satisfied .. 1)."""
    s = size * SUPERSAMPLE
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    line = max(2, s // 18)
    draw.ellipse((line, line, s - line, s - line), fill=colour, outline=ink, width=line)
    eye_r = s // 14
    for cx in (s * 0.35, s * 0.65):
        cy = s * 0.38
        draw.ellipse((cx - eye_r, cy - eye_r, cx + eye_r, cy + eye_r), fill=ink)
    curve = MOUTH.get(level, 0.0)
    left, right, mid = s * 0.28, s * 0.72, s * 0.66
    if abs(curve) < 0.05:
        draw.line((left, mid, right, mid), fill=ink, width=line)
    else:
        depth = s * 0.16 * abs(curve)
        top = mid - depth if curve > 0 else mid - depth * 0.2
        box = (left, top - depth, right, top + depth)
        start, end = (20, 160) if curve > 0 else (200, 340)
        if curve < 0:
            box = (left, mid - depth * 0.2, right, mid + depth * 1.8)
        draw.arc(box, start, end, fill=ink, width=line)
    return img.resize((size, size), Image.Resampling.LANCZOS)
