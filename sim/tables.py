"""Tables for the terminal: a pandas DataFrame as a rich table."""

from __future__ import annotations

import pandas as pd
from rich.table import Table


def frame_table(frame: pd.DataFrame, title: str, columns: dict[str, str] | None = None) -> Table:
    """A rich table of a DataFrame: ``columns`` maps column names to short headers."""
    columns = columns or {str(c): str(c) for c in frame.columns}
    table = Table(title=title, title_justify="left", header_style="bold", pad_edge=False)
    for column, header in columns.items():
        numeric = pd.api.types.is_numeric_dtype(frame[column])
        table.add_column(header, justify="right" if numeric else "left", no_wrap=True, overflow="ellipsis",
                         max_width=None if numeric else 34)
    for _, row in frame[list(columns)].iterrows():
        table.add_row(*(row[c].strftime("%Y-%m-%d") if hasattr(row[c], "strftime") else str(row[c]) for c in columns))
    return table
