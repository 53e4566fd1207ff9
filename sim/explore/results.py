"""Summaries of an exploration: each design point's outcomes with intervals, and trade-off frontiers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.compare import mean_intervals
from sim.outcomes import BY_NAME


def point_summary(runs: pd.DataFrame, fields: list[str], outcome: str) -> pd.DataFrame:
    """Per base scenario and design point: an outcome's mean over runs, its 90 % interval and 5-95 % range.

    The mean's interval is a percentile bootstrap over the point's runs (independent replicates).

    Returns:
        Columns ``base, point, <fields>, mean, mean_low, mean_high, runs_low, runs_high, runs``.
    """
    keys = ["base", "point", *fields]
    grouped = runs.groupby(keys, sort=False)[outcome]
    out = mean_intervals(grouped)
    out["runs"] = grouped.count()
    quantiles = grouped.quantile([0.05, 0.95]).unstack()
    out["runs_low"], out["runs_high"] = quantiles[0.05], quantiles[0.95]
    out = out.reset_index()
    return out[[*keys, "mean", "mean_low", "mean_high", "runs_low", "runs_high", "runs"]]


def summaries(runs: pd.DataFrame, fields: list[str], outcomes: list[str]) -> pd.DataFrame:
    """Every design point with the mean and 90 % interval of each of ``outcomes`` (wide, for CSV and tables)."""
    table = None
    for outcome in outcomes:
        part = point_summary(runs, fields, outcome).rename(columns={
            "mean": outcome, "mean_low": f"{outcome}_low", "mean_high": f"{outcome}_high"})
        part = part.drop(columns=["runs_low", "runs_high"] + (["runs"] if table is not None else []))
        table = part if table is None else table.merge(part, on=["base", "point", *fields])
    return table if table is not None else pd.DataFrame()


def efficient(means: pd.DataFrame, x: str, y: str) -> pd.Series:
    """Whether each point is on the trade-off frontier: no other point is better in both outcomes.

    "Better" is lower for outcomes where higher is worse (attacks, people detained), higher where higher is
    better; an outcome without a direction counts lower as better.
    """
    sign = {name: -1.0 if BY_NAME[name].worse_if_higher is False else 1.0 for name in (x, y)}
    a = means[x].to_numpy(dtype=float) * sign[x]
    b = means[y].to_numpy(dtype=float) * sign[y]
    dominated = np.array([np.any((a <= a[i]) & (b <= b[i]) & ((a < a[i]) | (b < b[i]))) for i in range(len(a))])
    return pd.Series(~dominated, index=means.index)
