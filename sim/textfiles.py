"""Reading the text files users hand to kazsim, whatever bytes they hold.

Scenario files, seed tables and posterior samples are read through :func:`read_text`, which
turns every way a file can be unreadable (missing, a folder, too large, binary, UTF-16, not
UTF-8) into one :class:`UnreadableFileError` error naming the file and what is wrong with it.
"""

from __future__ import annotations

import codecs
import datetime as dt
from pathlib import Path

from sim.errors import KazsimInputError

#: Larger input files are refused before they are read: every kazsim input is a few kilobytes.
MAX_TEXT_BYTES = 5_000_000

_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


class UnreadableFileError(KazsimInputError):
    """A file that cannot be read as UTF-8 text."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


def safe_repr(value: object, limit: int = 80) -> str:
    """``repr(value)`` for an error message: short, and safe for integers of any size."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"an integer of {value.bit_length()} bits"
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def decode_text(data: bytes, path: Path | str) -> str:
    """Decode a file's bytes as UTF-8 (a UTF-8 byte-order mark is dropped).

    Raises:
        UnreadableFileError: the bytes are UTF-16/32, binary, or not valid UTF-8.
    """
    for bom, encoding in _WIDE_BOMS:
        if data.startswith(bom):
            raise UnreadableFileError(path, f"is {encoding} text; save it as UTF-8")
    if b"\x00" in data:
        raise UnreadableFileError(path, f"holds a NUL byte at offset {data.index(b'\x00')}: a binary file, not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnreadableFileError(
            path, f"is not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start}); save it as UTF-8"
        ) from None
    return text.removeprefix("\ufeff")


def read_text(path: Path | str, max_bytes: int = MAX_TEXT_BYTES) -> str:
    """The text of a UTF-8 file of at most ``max_bytes`` bytes.

    Raises:
        UnreadableFileError: the file is missing, not a regular file, unreadable, too large or not UTF-8 text.
    """
    path = Path(path)
    try:
        if not path.exists():
            raise UnreadableFileError(path, "file not found")
        if not path.is_file():
            raise UnreadableFileError(path, "is not a regular file")
        size = path.stat().st_size
        if size > max_bytes:
            raise UnreadableFileError(path, f"is {size:,} bytes; expected a text file of at most {max_bytes:,} bytes")
        data = path.read_bytes()
    except OSError as error:
        raise UnreadableFileError(path, f"cannot be read ({error.strerror or error})") from None
    return decode_text(data, path)
