"""Scenario discovery with PRIM (EMA Workbench's): boxes of the input space where a condition mostly holds.

PRIM (Friedman and Fisher 1999; Bryant and Lempert 2010) peels the space of inputs (here lever settings
and parameters) a little at a time, keeping the box whose cases most often meet the condition. Each box
on its peeling trajectory has a **coverage** (share of all cases of interest inside it), a **density**
(share of the cases inside it that are of interest) and a **mass** (share of all cases inside it); we keep
the box of highest coverage whose density reaches ``min_density`` among those that restrict at least one
dimension, and say which dimensions it restricts,
with Bryant and Lempert's quasi-p value for each restriction.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.errors import KazsimInputError

DEFAULT_MIN_DENSITY = 0.8
DEFAULT_PEEL_ALPHA = 0.05
DEFAULT_MASS_MIN = 0.05


class DiscoveryError(KazsimInputError):
    """Discovery that cannot run as asked (no case of interest, nothing varies, bad settings)."""


@dataclass(frozen=True)
class Box:
    """The chosen box and the trajectory it was chosen from.

    Attributes:
        trajectory: one row per box peeled or pasted: ``coverage, density, mass, res_dim, n, k``.
        chosen: the chosen box's row in ``trajectory``.
        limits: one row per dimension: ``low, high`` (the box), ``full_low, full_high`` (the explored range),
            ``restricts`` (the box narrows it) and ``quasi_p`` (for restricting dimensions).
    """

    trajectory: pd.DataFrame
    chosen: int
    limits: pd.DataFrame

    @property
    def stats(self) -> pd.Series:
        """Coverage, density, mass, restricted dimensions, cases in the box and cases of interest in it."""
        return self.trajectory.loc[self.chosen, ["coverage", "density", "mass", "res_dim", "n", "k"]]

    @property
    def restricting(self) -> list[str]:
        """The dimensions the box restricts, most significant (lowest quasi-p) first."""
        return list(self.limits[self.limits["restricts"]].sort_values("quasi_p").index)


def _check(value: float, name: str, low: float, high: float) -> None:
    if not low < value <= high:
        raise DiscoveryError(f"{name} must be in ({low:g}, {high:g}], not {value:g}")


def find_box(x: pd.DataFrame, y: np.ndarray, min_density: float = DEFAULT_MIN_DENSITY,
             peel_alpha: float = DEFAULT_PEEL_ALPHA, mass_min: float = DEFAULT_MASS_MIN) -> Box:
    """Run PRIM on the cases ``x`` (one column per dimension) with ``y`` true for the cases of interest.

    Raises:
        DiscoveryError: no case of interest, no case without it, no dimension that varies, or settings out of range.
    """
    _check(min_density, "--min-density", 0.0, 1.0)
    _check(peel_alpha, "--peel-alpha", 0.0, 0.5)
    _check(mass_min, "--mass-min", 0.0, 0.5)
    y = np.asarray(y, dtype=bool)
    hits = int(y.sum())
    if hits == 0 or hits == len(y):
        raise DiscoveryError(f"the condition holds in {hits} of {len(y)} cases: there is no box to find "
                             "(PRIM needs cases where it holds and cases where it does not)")
    varying = [column for column in x.columns if x[column].nunique() > 1]
    if not varying:
        raise DiscoveryError("no lever setting or parameter varies across the cases; explore a design "
                             "(kazsim explore) or draw parameters from a posterior")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the workbench warns of optional parts (ipyparallel) it does not need here
        from ema_workbench.analysis import prim

        # Integer columns fail in the workbench with pandas 3 (a peel writes 2.5 into an int64 column): floats.
        inputs = x[varying].astype(float).reset_index(drop=True)
        search = prim.Prim(inputs, y.astype(int), peel_alpha=peel_alpha, mass_min=mass_min)
        box = search.find_box()
    trajectory = box.peeling_trajectory[["coverage", "density", "mass", "res_dim", "n", "k"]].astype(float)
    # A box that restricts nothing says nothing: when the condition already holds in min_density of all cases,
    # the whole space would otherwise be "found".
    dense = trajectory[(trajectory["density"] >= min_density) & (trajectory["res_dim"] > 0)]
    chosen = int(dense["coverage"].idxmax()) if len(dense) else int(trajectory["density"].idxmax())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, table = box.inspect(chosen, style="data")[0]
    limits = pd.DataFrame(index=list(x.columns))
    full = box.box_lims[0]
    lims = box.box_lims[chosen]
    limits["low"] = [float(lims[c].iloc[0]) if c in varying else float(x[c].min()) for c in x.columns]
    limits["high"] = [float(lims[c].iloc[1]) if c in varying else float(x[c].max()) for c in x.columns]
    limits["full_low"] = [float(full[c].iloc[0]) if c in varying else float(x[c].min()) for c in x.columns]
    limits["full_high"] = [float(full[c].iloc[1]) if c in varying else float(x[c].max()) for c in x.columns]
    limits["restricts"] = (limits["low"] > limits["full_low"]) | (limits["high"] < limits["full_high"])
    quasi = table.iloc[:, 2:].min(axis=1, skipna=True) if len(table) else pd.Series(dtype=float)
    limits["quasi_p"] = [float(quasi.get(c, np.nan)) for c in x.columns]
    return Box(trajectory.reset_index(drop=True), chosen, limits)
