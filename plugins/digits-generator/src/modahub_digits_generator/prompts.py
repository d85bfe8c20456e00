"""Which digit a prompt asks for: '7', 'seven', 'a handwritten seven', 'sevens'."""

from __future__ import annotations

import re

from modahub.executors import ExecutorError

_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_DIGITS = {**{w: i for i, w in enumerate(_WORDS)}, **{str(i): i for i in range(10)}, "nought": 0, "naught": 0}


def _digit_of(token: str) -> int | None:
    for candidate in (token, token.removesuffix("s"), token.removesuffix("es")):
        if candidate in _DIGITS:
            return _DIGITS[candidate]
    return None


def parse_digit(prompt: str) -> int:
    """The one digit (0-9) that ``prompt`` names, as a numeral or an English word."""
    found = {d for token in re.findall(r"[a-z0-9]+", prompt.casefold()) if (d := _digit_of(token)) is not None}
    if not found:
        raise ExecutorError(
            f"digits-generator: prompt {prompt!r} names no digit; ask for one digit, e.g. 'a seven', '7' or 'seven'"
        )
    if len(found) > 1:
        raise ExecutorError(
            f"digits-generator: prompt {prompt!r} names several digits ({', '.join(map(str, sorted(found)))}); "
            "ask for one digit per prompt and pass several prompts"
        )
    return found.pop()
