"""Policy levers: dated interventions, one module per family.

Each lever is switched on by ``enabled`` and acts from ``start`` to ``end`` (both optional).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from sim.scenario import Lever


def is_active(lever: Lever, date: dt.date) -> bool:
    """Whether a lever acts on ``date``."""
    if not lever.enabled:
        return False
    if lever.start is not None and date < lever.start:
        return False
    return lever.end is None or date <= lever.end


def region_mask(lever: Lever, regions: tuple[str, ...], region_index: np.ndarray) -> np.ndarray:
    """Per element of ``region_index``, whether the lever reaches that region."""
    if lever.regions is None:
        return np.ones(len(region_index), dtype=bool)
    chosen = np.array([name in lever.regions for name in regions])
    return chosen[region_index]
