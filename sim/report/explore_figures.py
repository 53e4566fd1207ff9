"""An exploration's figures: outcome surfaces over the varied fields, and trade-off frontiers between two outcomes."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.compare import INTERVAL
from sim.explore import Exploration, efficient
from sim.explore.design import field_label
from sim.outcomes import BY_NAME
from sim.report.style import (
    LINE_STYLES,
    MARKERS,
    REFERENCE_COLOUR,
    Look,
    drop_unused,
    new_figure,
    plain_numbers,
    scaled,
    unit_label,
    wrap,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Most levels of a second field drawn as separate lines.
MAX_LINES = 6


def _sequential(count: int) -> list[str]:
    """``count`` colours of viridis (perceptually even, readable with colour-vision deficiencies), light ends cut."""
    from matplotlib import colormaps

    return [colormaps["viridis"](x) for x in np.linspace(0.05, 0.85, max(count, 1))]


def _outcome_axis(outcome: str, values: np.ndarray) -> tuple[float, str]:
    factor, unit = scaled(float(np.nanmax(np.abs(values))) if len(values) else 0.0, BY_NAME[outcome].unit)
    return factor, unit_label(BY_NAME[outcome].short, unit)


def _band(axis, x, part: pd.DataFrame, factor: float, colour, line, marker: str, label: str | None,
          single: bool) -> None:
    """A mean line with its interval band; the 5-95 % range of runs too when it is the panel's only line."""
    if single:
        axis.fill_between(x, part["runs_low"] * factor, part["runs_high"] * factor, color=colour, alpha=0.12,
                          linewidth=0)
    axis.fill_between(x, part["mean_low"] * factor, part["mean_high"] * factor, color=colour,
                      alpha=0.35 if single else 0.18, linewidth=0)
    axis.plot(x, part["mean"] * factor, color=colour, linestyle=line, marker=marker, markersize=3.5, label=label)


def surface_figure(exploration: Exploration, outcomes: list[str], base: str, looks: dict[str, Look]) -> Figure:
    """Each outcome over the first varied field: mean, its 90 % interval and the 5-95 % range of single runs.

    With one field, one line per base scenario; with two, one line per level of the second field (for ``base``).
    """
    fields = [f.field for f in exploration.fields]
    columns = min(3, len(outcomes))
    rows = math.ceil(len(outcomes) / columns)
    figure, axes = new_figure(rows, columns, 0.9 + 2.1 * rows, sharex=True)
    axes = drop_unused(figure, axes, len(outcomes), columns)
    for index, (axis, outcome) in enumerate(zip(axes, outcomes, strict=True)):
        summary = exploration.summary(outcome).sort_values(fields)
        factor, label = _outcome_axis(outcome, summary[["runs_high", "mean_high"]].to_numpy(dtype=float))
        if len(fields) == 1:
            for name in exploration.bases:
                part = summary[summary["base"] == name]
                style = looks[name]
                _band(axis, part[fields[0]], part, factor, style.colour, style.line, style.marker,
                      name if len(exploration.bases) > 1 else None, len(exploration.bases) == 1)
        else:
            part = summary[summary["base"] == base]
            levels = sorted(part[fields[1]].unique())
            if len(levels) > MAX_LINES:
                levels = [levels[int(i)] for i in np.linspace(0, len(levels) - 1, MAX_LINES).round()]
            for level, colour, line, marker in zip(levels, _sequential(len(levels)), LINE_STYLES, MARKERS,
                                                   strict=False):
                at_level = part[part[fields[1]] == level]
                _band(axis, at_level[fields[0]], at_level, factor, colour, line, marker, f"{level:g}",
                      len(levels) == 1)
        axis.set_title(wrap(BY_NAME[outcome].short, 30))
        axis.set_ylabel(wrap(label, 30))
        plain_numbers(axis)
        if index >= len(outcomes) - columns:
            axis.set_xlabel(wrap(field_label(fields[0]), 34))
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:
        title = wrap(field_label(fields[1]), 40) if len(fields) > 1 else "scenario"
        figure.legend(handles, labels, loc="outside lower center", title=title, frameon=False,
                      ncols=min(len(labels), 6))
    return figure


def scatter_figure(exploration: Exploration, outcome: str, looks: dict[str, Look]) -> Figure:
    """An outcome's mean at every design point against each varied field (Latin hypercube designs)."""
    fields = [f.field for f in exploration.fields]
    summary = exploration.summary(outcome)
    factor, label = _outcome_axis(outcome, summary["mean_high"].to_numpy(dtype=float))
    columns = min(3, len(fields))
    rows = math.ceil(len(fields) / columns)
    figure, axes = new_figure(rows, columns, 0.9 + 2.0 * rows, sharey=True)
    axes = drop_unused(figure, axes, len(fields), columns)
    for index, (axis, field) in enumerate(zip(axes, fields, strict=True)):
        for name in exploration.bases:
            part, style = summary[summary["base"] == name], looks[name]
            axis.errorbar(part[field], part["mean"] * factor, yerr=[(part["mean"] - part["mean_low"]) * factor,
                                                                    (part["mean_high"] - part["mean"]) * factor],
                          fmt=style.marker, color=style.colour, markersize=3.5, elinewidth=0.7, label=name)
        axis.set_xlabel(wrap(field_label(field), 30))
        plain_numbers(axis)
        if index % columns == 0:
            axis.set_ylabel(wrap(label, 30))
    figure.suptitle(f"{BY_NAME[outcome].short}: mean per design point with its {INTERVAL} interval")
    if len(exploration.bases) > 1:
        handles, labels = axes[0].get_legend_handles_labels()
        figure.legend(handles, labels, loc="outside lower center", ncols=min(3, len(labels)), frameon=False)
    return figure


def frontier_figure(exploration: Exploration, x: str, y: str, looks: dict[str, Look]) -> Figure:
    """Every design point's mean of two outcomes with 90 % intervals, coloured by the first field; the frontier joined.

    A point is on the frontier when no other point of the same base scenario is better in both outcomes.
    """
    import matplotlib as mpl

    field = exploration.fields[0].field
    sx, sy = exploration.summary(x), exploration.summary(y)
    keys = ["base", "point", *[f.field for f in exploration.fields]]
    both = sx.merge(sy, on=keys, suffixes=("_x", "_y"))
    fx, x_label = _outcome_axis(x, both["mean_high_x"].to_numpy(dtype=float))
    fy, y_label = _outcome_axis(y, both["mean_high_y"].to_numpy(dtype=float))
    figure, (axis,) = new_figure(1, 1, 4.2)
    values = both[field].to_numpy(dtype=float)
    norm = mpl.colors.Normalize(vmin=values.min(), vmax=values.max() if values.max() > values.min() else
                                values.min() + 1)
    cmap = mpl.colormaps["viridis"]
    for name in exploration.bases:
        part = both[both["base"] == name]
        style = looks[name]
        axis.errorbar(part["mean_x"] * fx, part["mean_y"] * fy,
                      xerr=[(part["mean_x"] - part["mean_low_x"]) * fx, (part["mean_high_x"] - part["mean_x"]) * fx],
                      yerr=[(part["mean_y"] - part["mean_low_y"]) * fy, (part["mean_high_y"] - part["mean_y"]) * fy],
                      fmt="none", ecolor=REFERENCE_COLOUR, elinewidth=0.6, alpha=0.7, zorder=1)
        axis.scatter(part["mean_x"] * fx, part["mean_y"] * fy, c=part[field], cmap=cmap, norm=norm,
                     marker=style.marker, s=28, edgecolors="black", linewidths=0.4, zorder=3,
                     label=f"{name} (design points)")
        front = part[efficient(part.rename(columns={"mean_x": x, "mean_y": y}), x, y).to_numpy()].sort_values("mean_x")
        axis.plot(front["mean_x"] * fx, front["mean_y"] * fy, color=style.colour, linestyle=style.line, linewidth=1.2,
                  zorder=2, label=f"{name}: frontier (no point better in both)")
    axis.set_xlabel(x_label)
    axis.set_ylabel(y_label)
    plain_numbers(axis)
    colourbar = figure.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=axis)
    colourbar.set_label(wrap(field_label(field), 40))
    figure.legend(loc="outside lower center", ncols=1, frameon=False)
    return figure
