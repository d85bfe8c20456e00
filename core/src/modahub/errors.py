"""The root of modahub's error hierarchy: every error raised on purpose is a ``ModahubError``.

A caller (the CLI, a server, a plugin) catches this one base. Subclasses keep a standard base
too (``ValueError``, ``LookupError``...) so existing ``except`` clauses keep working. The class
attribute ``exit_code`` is what the CLI exits with: 2 for a mistake in the user's input, 1 for a
failure, 3 for a failed verification (a signature, a hash, the executor contract).
"""

from __future__ import annotations

from typing import ClassVar

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_VERIFICATION = 3


class ModahubError(Exception):
    """An error modahub raised on purpose: the message says what went wrong and how to fix it.

    ``hint``, when given, is the how-to-fix part kept apart (the CLI prints ``Error: message — hint``
    and puts both in its ``--json`` envelope).
    """

    exit_code: ClassVar[int] = EXIT_FAILURE

    def __init__(self, *args: object, hint: str | None = None) -> None:
        super().__init__(*args)
        self.hint = hint


class ModahubInputError(ModahubError, ValueError):
    """The user's input (a file, a parameter, a name) is wrong; fixing it fixes the error."""

    exit_code: ClassVar[int] = EXIT_USAGE


class ModahubVerificationError(ModahubError):
    """Something failed a check it must pass: a hash, a signature, the executor contract."""

    exit_code: ClassVar[int] = EXIT_VERIFICATION
