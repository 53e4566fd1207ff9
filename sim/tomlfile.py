"""Writing TOML: the subset scenario files use (tables, arrays of tables, text, numbers, booleans, dates, lists).

Python reads TOML (``tomllib``) but does not write it. The writer emits each table's plain values first, then
its sub-tables as ``[a.b]`` and lists of tables as ``[[a.b]]``, so that ``tomllib.loads(dumps(table))`` gives
``table`` back (``None`` values are left out: TOML has no null).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def dumps(table: Mapping[str, Any]) -> str:
    """``table`` as TOML text.

    Raises:
        ValueError: a value TOML cannot hold (NaN, infinity, a time of day, an unknown type).
    """
    lines: list[str] = []
    _table(table, (), lines)
    return "\n".join(lines).lstrip("\n") + "\n"


def dotted_keys(table: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Dotted names of a (read) table's values, e.g. ``parameters.legitimacy``; an array is one value."""
    keys = []
    for key, value in table.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        keys.extend(dotted_keys(value, name) if isinstance(value, Mapping) and value else [name])
    return keys


def single_writers(origins: Mapping[str, Any], overridden: Iterable[str] = ()) -> dict[str, Any]:
    """The one file that writes each value and each whole table, where a single file does.

    Args:
        origins: each dotted value name and the file it is written in.
        overridden: dotted names given on the command line, which no file writes.

    Returns:
        Every dotted name and table prefix (``period`` for ``period.end``) all of whose values come
        from the same file, with that file; a table written by two files, or overridden in part, is left out.
    """
    writers: dict[str, set[Any]] = {}
    for key, origin in [*origins.items(), *((key, None) for key in overridden)]:
        parts = key.split(".")
        for end in range(1, len(parts) + 1):
            writers.setdefault(".".join(parts[:end]), set()).add(origin)
    return {name: next(iter(files)) for name, files in writers.items() if len(files) == 1 and None not in files}


def _is_table_list(value: Any) -> bool:
    return isinstance(value, list | tuple) and bool(value) and all(isinstance(item, Mapping) for item in value)


def _table(table: Mapping[str, Any], path: tuple[str, ...], lines: list[str]) -> None:
    plain = {k: v for k, v in table.items() if v is not None and not isinstance(v, Mapping) and not _is_table_list(v)}
    for key, value in plain.items():
        lines.append(f"{_key(key)} = {_value(value)}")
    for key, value in table.items():
        if isinstance(value, Mapping):
            lines += ["", f"[{_dotted((*path, key))}]"]
            _table(value, (*path, key), lines)
    for key, value in table.items():
        if _is_table_list(value):
            for item in value:
                lines += ["", f"[[{_dotted((*path, key))}]]"]
                _table(item, (*path, key), lines)


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(_key(part) for part in path)


def _key(key: str) -> str:
    return key if BARE_KEY.fullmatch(key) else '"' + "".join(_escaped(c) for c in key) + '"'


def _string(text: str) -> str:
    """A basic string; text with line breaks as a multi-line one, which keeps them as they are."""
    multiline = "\n" in text
    escaped = "".join("\n" if c == "\n" and multiline else _escaped(c) for c in text)
    return f'"""\n{escaped}"""' if multiline else f'"{escaped}"'


def _escaped(c: str) -> str:
    return ESCAPES.get(c, f"\\u{ord(c):04x}" if ord(c) < 0x20 or ord(c) == 0x7F else c)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"TOML scenario files hold finite numbers only (got {value})")
        return repr(value)  # the shortest text that reads back as the same float
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, dt.datetime):
        raise ValueError(f"a time of day cannot be written here (got {value})")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    raise ValueError(f"cannot write {type(value).__name__} as TOML")
