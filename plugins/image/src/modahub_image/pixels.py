"""Turn any H×W×C uint8 image of a digit into the 8×8 ink grid of scikit-learn's digits (numpy only).

Steps: grey levels (alpha composited over white), ink made bright on a dark background (the
border decides the polarity), the ink's bounding box cropped and centred in a square, then
area-averaged down (or up) to 8×8 with values in [0, 1].
"""

from __future__ import annotations

import numpy as np

from modahub.documents import Document
from modahub.executors import ExecutorError

GRID = 8
_INK = 0.2  # fraction of the brightest ink that counts for the bounding box


def to_grey(pixels: np.ndarray) -> np.ndarray:
    """H×W×C uint8 (C = 1, 3 or 4) → H×W float in [0, 1]."""
    x = pixels.astype(np.float32) / 255.0
    channels = x.shape[2]
    if channels == 1:
        return x[..., 0]
    grey = x[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    if channels == 4:
        alpha = x[..., 3]
        grey = grey * alpha + (1.0 - alpha)
    return grey


def _border(grey: np.ndarray) -> np.ndarray:
    return np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])


def ink(grey: np.ndarray) -> np.ndarray:
    """Ink intensity in [0, 1] on a zero background, whatever the image's polarity."""
    if np.median(_border(grey)) > 0.5:
        grey = 1.0 - grey
    level = np.clip(grey - np.median(_border(grey)), 0.0, None)
    peak = float(level.max())
    return level / peak if peak > 0 else level


def _area_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) weights averaging the input cells each output cell covers (works both ways)."""
    edges = np.linspace(0.0, n_in, n_out + 1)
    lo, hi = edges[:-1, None], edges[1:, None]
    cells = np.arange(n_in)[None, :]
    overlap = np.clip(np.minimum(hi, cells + 1) - np.maximum(lo, cells), 0.0, None)
    return (overlap / (hi - lo)).astype(np.float32)


def centred_square(level: np.ndarray) -> np.ndarray:
    """Crop to the ink's bounding box and pad the shorter side to a centred square."""
    rows, cols = np.nonzero(level >= _INK)
    if rows.size:
        level = level[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    h, w = level.shape
    side = max(h, w)
    out = np.zeros((side, side), dtype=np.float32)
    top, left = (side - h) // 2, (side - w) // 2
    out[top : top + h, left : left + w] = level
    return out


def digit_grid(pixels: np.ndarray) -> np.ndarray:
    """The 8×8 ink grid of one H×W×C uint8 image, flattened to 64 float32 values in [0, 1]."""
    square = centred_square(ink(to_grey(pixels)))
    side = square.shape[0]
    m = _area_matrix(side, GRID)
    return (m @ square @ m.T).reshape(-1).astype(np.float32)


def document_pixels(executor: str, index: int, doc: Document, *, min_side: int = 4) -> np.ndarray:
    """The H×W×C uint8 pixels of an image document (read from its uri if needed), checked."""
    try:
        pixels = doc.payload.load().pixels
    except (OSError, ValueError, ImportError) as exc:
        raise ExecutorError(f"{executor}: document {index} (id {doc.id!r}): cannot load its image: {exc}") from None
    if not isinstance(pixels, np.ndarray) or pixels.ndim != 3 or pixels.shape[2] not in (1, 3, 4) or pixels.dtype != np.uint8:
        shape = list(pixels.shape) if isinstance(pixels, np.ndarray) else type(pixels).__name__
        raise ExecutorError(
            f"{executor}: document {index} (id {doc.id!r}) has pixels {shape}; expected an H×W×C uint8 array "
            "with C in 1, 3, 4 (add a channel axis to a greyscale image: pixels[..., None])"
        )
    if min(pixels.shape[:2]) < min_side:
        raise ExecutorError(
            f"{executor}: document {index} (id {doc.id!r}) is {pixels.shape[0]}×{pixels.shape[1]} pixels; "
            f"this encoder needs at least {min_side}×{min_side}"
        )
    return pixels
