"""Policy levers: dated interventions, one module per family.

Each lever is switched on by ``enabled`` and acts from ``start`` to ``end`` (both optional).
Lever functions take one date or an array of dates (``datetime64[D]``) and answer for each;
``sim.levers.schedule`` evaluates them once for every day of a run.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from sim.scenario import Lever


def as_days(dates: dt.date | np.ndarray) -> np.ndarray:
    """Dates as ``datetime64[D]`` (a 0-d array for one date)."""
    return np.asarray(dates, dtype="datetime64[D]")


def is_active(lever: Lever, dates: dt.date | np.ndarray) -> np.ndarray:
    """Whether a lever acts on each of ``dates``."""
    days = as_days(dates)
    active = np.full(days.shape, lever.enabled)
    if lever.start is not None:
        active &= days >= np.datetime64(lever.start, "D")
    if lever.end is not None:
        active &= days <= np.datetime64(lever.end, "D")
    return active


def region_mask(lever: Lever, regions: tuple[str, ...], region_index: np.ndarray) -> np.ndarray:
    """Per element of ``region_index``, whether the lever reaches that region."""
    if lever.regions is None:
        return np.ones(len(region_index), dtype=bool)
    chosen = np.array([name in lever.regions for name in regions])
    return chosen[region_index]
