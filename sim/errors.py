"""Errors that users cause with their input, reported without a traceback (exit status 2)."""

from __future__ import annotations

from pathlib import Path


class KazsimInputError(Exception):
    """Bad input: a file, field or value the user can fix."""


class DataError(KazsimInputError):
    """A data file that does not load: names the file, the line and the column."""

    def __init__(self, path: Path | str, line: int | None, column: str | None, message: str) -> None:
        self.path = Path(path)
        self.line = line
        self.column = column
        self.message = message
        where = str(self.path)
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {message}")
