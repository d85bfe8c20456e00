"""The words that tie digit images and digit sounds to the text space."""

from __future__ import annotations

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
ANCHOR_TEMPLATES = ("{word}", "{digit}", "the number {word}", "the digit {word}")
"""Texts averaged into each digit's training target (the anchor)."""


def anchor_texts(digit: int) -> list[str]:
    """The texts whose mean embedding is the training target of ``digit``."""
    return [t.format(word=DIGIT_WORDS[digit], digit=digit) for t in ANCHOR_TEMPLATES]
