"""The comparison report's figures: monthly series as small multiples, and the effects of each counterfactual."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.compare import INTERVAL, Effect, effects_frame
from sim.outcomes import BY_NAME, OUTCOMES
from sim.report.style import (
    OBSERVED_COLOUR,
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

PERCENT = f"{INTERVAL}"
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _month_ticks(months: list[str]) -> tuple[list[int], list[str]]:
    """Tick positions and labels: every month for short periods, every third for a year."""
    every = 1 if len(months) <= 6 else 3
    positions = list(range(0, len(months), every))
    return positions, [MONTH_NAMES[int(months[i][5:7]) - 1] for i in positions]


def monthly_figure(summary: pd.DataFrame, observed: pd.Series | None, what: str, unit: str,
                   looks: dict[str, Look]) -> Figure:
    """One panel per scenario: mean per month, its 90 % interval and the 5-95 % range of single runs.

    Args:
        summary: :func:`sim.compare.monthly_summary` output.
        observed: the observed 2011 series by month (``YYYY-MM``), or None.
        what: what is counted, e.g. ``Attacks per month``.
        unit: its unit, e.g. ``attacks``.
        looks: each scenario's colour, line style and marker, the baseline first.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    scenarios = [name for name in looks if name in set(summary["scenario"])]
    columns = min(3, len(scenarios))
    rows = math.ceil(len(scenarios) / columns)
    figure, axes = new_figure(rows, columns, 1.0 + 2.0 * rows, sharex=True, sharey=True)
    axes = drop_unused(figure, axes, len(scenarios), columns)
    baseline = summary[summary["scenario"] == scenarios[0]]
    months = list(baseline["month"])
    x = np.arange(len(months))
    for index, (axis, name) in enumerate(zip(axes, scenarios, strict=True)):
        part = summary[summary["scenario"] == name]
        style = looks[name]
        axis.fill_between(x, part["runs_low"], part["runs_high"], color=style.colour, alpha=0.15, linewidth=0)
        axis.fill_between(x, part["mean_low"], part["mean_high"], color=style.colour, alpha=0.4, linewidth=0)
        axis.plot(x, part["mean"], color=style.colour, linestyle=style.line, marker=style.marker, markersize=3,
                  zorder=3)
        if index > 0:
            axis.plot(x, baseline["mean"], color=REFERENCE_COLOUR, linestyle=(0, (2, 2)), linewidth=1, zorder=2.5)
        if observed is not None:
            axis.plot(x, observed.reindex(months).to_numpy(), color=OBSERVED_COLOUR, marker="o", markersize=2.5,
                      linewidth=0.8)
        axis.set_title(wrap(name, 34 if columns > 1 else 80), color=style.colour)
        axis.set_ylim(bottom=0)
        plain_numbers(axis, "y")
        positions, labels = _month_ticks(months)
        axis.set_xticks(positions, labels)
        if index % columns == 0:
            axis.set_ylabel(unit_label(what, unit))
        if index >= len(scenarios) - columns:
            axis.set_xlabel(f"Month of {months[0][:4]}")
    grey = REFERENCE_COLOUR
    handles = [Line2D([], [], color=grey, marker="o", markersize=3, label="mean of the runs"),
               Patch(color=grey, alpha=0.55, label=f"{INTERVAL} interval of the mean"),
               Patch(color=grey, alpha=0.2, label="5-95 % range of single runs")]
    if len(scenarios) > 1:
        handles.append(Line2D([], [], color=grey, linestyle=(0, (2, 2)), label=f"baseline ({scenarios[0]}) mean"))
    if observed is not None:
        handles.append(Line2D([], [], color=OBSERVED_COLOUR, marker="o", markersize=2.5, linewidth=0.8,
                              label="observed 2011 (seed-documented incidents)"))
    figure.legend(handles=handles, loc="outside lower center", ncols=min(3, len(handles)), frameon=False)
    return figure


def headline_outcomes(effects: list[Effect]) -> list[str]:
    """The headline outcomes that have effects, in registry order."""
    present = {effect.outcome for effect in effects}
    return [outcome.name for outcome in OUTCOMES if outcome.headline and outcome.name in present]


def effects_figure(effects: list[Effect], looks: dict[str, Look]) -> Figure:
    """One panel per headline outcome: each counterfactual's mean effect, its 90 % interval and single-year range.

    Effects under the prior, when present, are drawn as open markers just below the posterior's.
    """
    from matplotlib.lines import Line2D

    frame = effects_frame(effects)
    shown = headline_outcomes(effects)
    scenarios = [name for name in looks if name in set(frame["scenario"])]
    columns = min(3, len(shown))
    rows = math.ceil(len(shown) / columns)
    names = [wrap(name, 20) for name in scenarios]
    lines = [name.count("\n") + 1 for name in names]
    height = 0.75 + rows * (0.9 + sum(0.16 * n + 0.16 for n in lines))
    # Each scenario's row is as tall as its wrapped name.
    edges = np.cumsum([0, *(n + 1 for n in lines)])
    y = -(edges[:-1] + edges[1:]) / 2
    figure, axes = new_figure(rows, columns, height, sharey=True)
    axes = drop_unused(figure, axes, len(shown), columns)
    has_prior = frame["prior_effect"].notna().any()
    for index, (axis, outcome) in enumerate(zip(axes, shown, strict=True)):
        part = frame[frame["outcome"] == outcome].set_index("scenario")
        values = ["effect", "low", "high", "spread_low", "spread_high", "prior_effect", "prior_low", "prior_high"]
        factor, unit = scaled(float(np.nanmax(np.abs(part[values].to_numpy(dtype=float)))), BY_NAME[outcome].unit)
        part = part.assign(**{column: part[column].astype(float) * factor for column in values})
        for position, name in zip(y, scenarios, strict=True):
            if name not in part.index:
                continue
            row, style = part.loc[name], looks[name]
            axis.plot([row["spread_low"], row["spread_high"]], [position, position], color=style.colour, linewidth=0.8)
            axis.plot([row["low"], row["high"]], [position, position], color=style.colour, linewidth=3,
                      solid_capstyle="butt")
            axis.plot([row["effect"]], [position], color=style.colour, marker=style.marker, markersize=5,
                      markeredgecolor="white", markeredgewidth=0.6)
            if has_prior and pd.notna(row["prior_effect"]):
                axis.plot([row["prior_low"], row["prior_high"]], [position - 0.6] * 2, color=style.colour,
                          linewidth=1.5, linestyle=(0, (2, 1)))
                axis.plot([row["prior_effect"]], [position - 0.6], marker=style.marker, markersize=5,
                          markerfacecolor="white", color=style.colour)
        axis.axvline(0, color=REFERENCE_COLOUR, linewidth=0.8)
        axis.set_title(wrap(BY_NAME[outcome].short, 26))
        axis.set_xlabel(unit_label("Change", unit))
        plain_numbers(axis, "x")
        axis.set_yticks(y, names)
        axis.set_ylim(-edges[-1] - 0.2, 0.2)
        axis.locator_params(axis="x", nbins=4)
        if index % columns == 0:
            axis.set_ylabel("Counterfactual")
    grey = REFERENCE_COLOUR
    handles = [Line2D([], [], color=grey, marker="o", linewidth=0, label="mean effect (counterfactual - baseline)"),
               Line2D([], [], color=grey, linewidth=3, label=f"{INTERVAL} interval of the mean effect"),
               Line2D([], [], color=grey, linewidth=0.8, label="5-95 % range of single-year effects")]
    if has_prior:
        handles.append(Line2D([], [], color=grey, marker="o", markerfacecolor="white", linestyle=(0, (2, 1)),
                              label="the same under the prior"))
    figure.legend(handles=handles, loc="outside lower center", ncols=2, frameon=False)
    return figure
