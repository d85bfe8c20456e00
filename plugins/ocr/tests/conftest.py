"""Fixtures of the ocr-image tests: held-out sentences rendered with the DejaVu fonts."""

from __future__ import annotations

import numpy as np
import pytest
from modahub_ocr.render import FONTS, render_text

SENTENCES = (
    "The river flooded the old mill after three days of rain.",
    "A new bridge will open to traffic next spring.",
    "The orchestra played the symphony without a conductor.",
    "Farmers expect a smaller wheat harvest this year.",
    "The museum bought a painting by a young artist.",
    "Two climbers reached the summit before the storm.",
)
"""Held-out sentences: written for these tests, never used to tune anything."""


@pytest.fixture(scope="session")
def sentences() -> tuple[str, ...]:
    return SENTENCES


@pytest.fixture(scope="session")
def rendered() -> list[np.ndarray]:
    """The held-out sentences in three fonts, two of them slightly rotated."""
    return [render_text(s, font=FONTS[i % 3], angle=(-3.0, 0.0, 4.0)[i % 3]) for i, s in enumerate(SENTENCES)]
