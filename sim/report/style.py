"""The look every report figure shares: a colour-blind-safe palette with line styles, sizes, labels and export.

Colours are Okabe and Ito's palette (distinguishable with the common colour-vision deficiencies);
every scenario also has its own line style and marker, so figures read in grey print too. Figures
use matplotlib's constrained layout, which keeps titles, tick labels and legends from overlapping.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Okabe-Ito colours, the baseline's first (black is kept for observed data).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442")
LINE_STYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 1)), (0, (8, 2)))
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
OBSERVED_COLOUR = "black"
REFERENCE_COLOUR = "#666666"
#: Width of a figure in inches: a page's text width.
PAGE_WIDTH = 7.2
RC = {
    "font.size": 8.5, "axes.titlesize": 9, "axes.labelsize": 8.5, "xtick.labelsize": 8, "ytick.labelsize": 8,
    "legend.fontsize": 8, "axes.spines.top": False, "axes.spines.right": False, "svg.fonttype": "none",
    "svg.hashsalt": "kazsim", "figure.dpi": 100,
}


@dataclass(frozen=True)
class Look:
    """How one scenario is drawn everywhere in a report."""

    colour: str
    line: object
    marker: str


def look(index: int) -> Look:
    """The colour, line style and marker of the ``index``-th scenario (the baseline is 0)."""
    return Look(PALETTE[index % len(PALETTE)], LINE_STYLES[index % len(LINE_STYLES)], MARKERS[index % len(MARKERS)])


def looks(names: Sequence[str]) -> dict[str, Look]:
    """Each scenario's look, in the order given."""
    return {name: look(i) for i, name in enumerate(names)}


@contextmanager
def report_style() -> Iterator[None]:
    """matplotlib on its file-only backend with the report's sizes."""
    import matplotlib

    matplotlib.use("Agg")
    with matplotlib.rc_context(RC):
        yield


def new_figure(rows: int, columns: int, height: float, **kwargs) -> tuple[Figure, list[Axes]]:
    """A page-wide figure of ``rows`` × ``columns`` panels in constrained layout; the panels as a flat list."""
    import matplotlib.pyplot as plt
    import numpy as np

    figure, axes = plt.subplots(rows, columns, figsize=(PAGE_WIDTH, height), layout="constrained", squeeze=False,
                                **kwargs)
    return figure, list(np.ravel(axes))


def drop_unused(figure: Figure, axes: list[Axes], used: int, columns: int) -> list[Axes]:
    """Remove the panels after the first ``used``; panels left at the bottom of a column get x tick labels back."""
    for axis in axes[used:]:
        figure.delaxes(axis)
    for index in range(max(0, used - columns), used):
        axis = axes[index]
        axis.xaxis.set_tick_params(labelbottom=True)
    return axes[:used]


def unit_label(text: str, unit: str) -> str:
    """An axis label with its unit: ``Change in attacks (attacks)``."""
    return f"{text} ({unit})"


def scaled(largest: float, unit: str) -> tuple[float, str]:
    """A factor and unit that keep tick labels short: values of 100,000 or more are shown in thousands."""
    if largest >= 100_000:
        return 1e-3, f"thousand {unit}"
    return 1.0, unit


def plain_numbers(axis: Axes, which: str = "both") -> None:
    """Tick labels as plain numbers with thousands separators: no offset or scientific notation above the axis."""
    from matplotlib.ticker import FuncFormatter

    formatter = FuncFormatter(lambda value, _: f"{value:,.10g}" if abs(value) < 1e15 else f"{value:.3g}")
    if which in ("x", "both"):
        axis.xaxis.set_major_formatter(formatter)
    if which in ("y", "both"):
        axis.yaxis.set_major_formatter(formatter)


def wrap(text: str, width: int) -> str:
    """Text broken into lines of at most ``width`` characters (identifiers broken after underscores)."""
    if " " not in text and len(text) > width:
        pieces, line = [], ""
        for part in text.replace("_", "_\n").split("\n"):
            if line and len(line) + len(part) > width:
                pieces.append(line)
                line = ""
            line += part
        return "\n".join([*pieces, line])
    return "\n".join(textwrap.wrap(text, width)) or text


def export(figure: Figure) -> tuple[bytes, bytes]:
    """A figure as PNG (200 dpi) and SVG (text kept as text), then closed."""
    import matplotlib.pyplot as plt

    png, svg = io.BytesIO(), io.BytesIO()
    figure.savefig(png, format="png", dpi=200, metadata={"Software": None})
    figure.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(figure)
    return png.getvalue(), svg.getvalue()
