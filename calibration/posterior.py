"""Reading a shipped posterior sample (``calibration/results/posterior.csv``) with validation."""

from __future__ import annotations

import io
import math
from pathlib import Path

import pandas as pd

from sim.errors import DataError
from sim.parameters import BY_NAME
from sim.textfiles import UnreadableFile, read_text, safe_repr

WEIGHT_TOLERANCE = 1e-6


class PosteriorError(DataError):
    """A posterior file that cannot be used: names the file, the row (CSV line) and the column."""


def load_posterior(path: Path | str) -> pd.DataFrame:
    """Load and validate a posterior sample.

    The file is a CSV with columns ``particle, weight`` and then one column per calibrated
    parameter (names from ``sim.parameters``). Weights are non-negative and sum to 1; every
    value lies within the parameter's hard bounds.

    Returns:
        The table with ``particle`` as int and everything else as float.

    Raises:
        PosteriorError: naming the file, the line (1 = header) and the column at fault.
    """
    path = Path(path)
    try:
        text = read_text(path)
    except UnreadableFile as error:
        raise PosteriorError(path, None, None, f"posterior file {error.problem.removeprefix('file ')}") from None
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as error:
        raise PosteriorError(path, None, None, f"not a readable CSV ({str(error).strip()})") from None
    columns = list(frame.columns)
    if columns[:2] != ["particle", "weight"]:
        raise PosteriorError(path, 1, None, f"the first columns must be 'particle, weight' (got {columns[:2]})")
    names = columns[2:]
    if not names:
        raise PosteriorError(path, 1, None, "no parameter columns after 'particle, weight'")
    for name in names:
        if name not in BY_NAME:
            raise PosteriorError(path, 1, name, "not a parameter of the model (see sim/parameters.py)")
    if len(set(columns)) != len(columns):
        raise PosteriorError(path, 1, None, "duplicate column names")
    if frame.empty:
        raise PosteriorError(path, None, None, "no particles")
    out = pd.DataFrame(index=frame.index)
    for column in columns:
        values = []
        for i, text in enumerate(frame[column]):
            line = i + 2
            try:
                value = float(text)
            except ValueError:
                raise PosteriorError(path, line, column, f"not a number ({safe_repr(text)})") from None
            if not math.isfinite(value):
                raise PosteriorError(path, line, column, f"not a finite number ({safe_repr(text)})")
            if column == "particle" and value != int(value):
                raise PosteriorError(path, line, column, f"particle ids are integers (got {safe_repr(text)})")
            if column == "weight" and value < 0:
                raise PosteriorError(path, line, column, f"negative weight {value:g}")
            if column in BY_NAME:
                low, high = BY_NAME[column].bounds
                if not low <= value <= high:
                    raise PosteriorError(path, line, column, f"{value:g} is outside the hard bounds [{low:g}, {high:g}]")
            values.append(value)
        out[column] = values
    out["particle"] = out["particle"].astype("int64")
    total = float(out["weight"].sum())
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        raise PosteriorError(path, None, "weight", f"weights sum to {total:.8g}, not 1")
    return out.reset_index(drop=True)
