"""Errors shown to users: one paragraph naming the file, the key or column, and the value.

Takes: where the problem is and what was expected. Gives: exceptions that the
CLI prints without a traceback and turns into a non-zero exit code. Anything
else that escapes is a bug in microsim, and the CLI says so.
"""

from __future__ import annotations

from pathlib import Path


class MicrosimError(Exception):
    """An error caused by input or environment, explained to the user."""

    exit_code = 2


class InputError(MicrosimError):
    """A problem in an input file: names the file, the key path or column, and the row."""

    def __init__(self, file: str | Path | None, message: str, *, key: str | None = None,
                 row: int | None = None, value: object = None, has_value: bool = False):
        self.file = str(file) if file is not None else None
        self.key = key
        self.row = row
        self.value = value
        self.has_value = has_value
        self.message = message
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.key:
            where.append(f"key '{self.key}'" if self.row is None else f"column '{self.key}'")
        if self.row is not None:
            where.append(f"row {self.row}")
        text = ": ".join([", ".join(where), self.message]) if where else self.message
        if self.has_value:
            text += f" (got {self.value!r})"
        return text


class RunError(MicrosimError):
    """A run could not start or finish (existing output, interrupted, scheduler unreachable)."""

    exit_code = 3


class ReportNotWritten(MicrosimError):
    """A run whose results are written and whole, but whose report could not be written:
    not bad input, and not a lost run (the message gives the command that writes the report)."""

    exit_code = 5


class Interrupted(RunError):
    """A run stopped by Ctrl-C or a signal; finished chunks are saved for --resume."""

    exit_code = 130


class NotBuiltError(MicrosimError):
    """A capability that is named in the documentation but not built in this version."""

    exit_code = 4
