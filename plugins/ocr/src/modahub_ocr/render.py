"""Sentences rendered as images with the system's DejaVu fonts (Debian: fonts-dejavu-core), for tests,
benchmarks and demos of ocr-image."""

from __future__ import annotations

from pathlib import Path

import numpy as np

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = ("DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif-Italic.ttf")


def font_path(name: str) -> Path:
    """The path of a DejaVu font file; a clear error when the fonts are not installed."""
    path = FONT_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"font {path} not found; install it with 'apt-get install fonts-dejavu-core'")
    return path


def render_text(
    text: str,
    *,
    size: int = 28,
    font: str = "DejaVuSans.ttf",
    angle: float = 0.0,
    ink: tuple[int, int, int] = (0, 0, 0),
    paper: tuple[int, int, int] = (255, 255, 255),
    width: int | None = None,
) -> np.ndarray:
    """``text`` drawn in ``ink`` on ``paper`` with a margin of one font size, as an H×W×3 uint8 image.

    ``width``: wrap into lines of at most this many pixels (default: one line); ``angle``: degrees
    counter-clockwise, the corners filled with ``paper``.
    """
    from PIL import Image, ImageDraw, ImageFont

    face = ImageFont.truetype(str(font_path(font)), size)
    lines = _wrap(text, face, width) if width else [text]
    boxes = [face.getbbox(line) for line in lines]
    step = int(size * 1.3)
    w = max(r - left for left, _, r, _ in boxes) + 2 * size
    h = step * (len(lines) - 1) + boxes[-1][3] - boxes[0][1] + 2 * size
    image = Image.new("RGB", (w, h), paper)
    draw = ImageDraw.Draw(image)
    for n, (line, (left, _, _, _)) in enumerate(zip(lines, boxes, strict=True)):
        draw.text((size - left, size - boxes[0][1] + n * step), line, fill=ink, font=face)
    if angle:
        image = image.rotate(angle, expand=True, fillcolor=paper, resample=Image.Resampling.BICUBIC)
    return np.asarray(image)


def _wrap(text: str, face: object, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and face.getlength(f"{lines[-1]} {word}") <= width:  # type: ignore[attr-defined]
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]
