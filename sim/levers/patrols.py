"""Patrol intensity: ordinary police presence relative to the 2011 level.

Presence raises Epstein's estimated arrest probability (deterring open sympathy) and lowers the
attack hazard of cells nearby (deterrence; K-epsteinPM, Operation Motorman in K-ojp).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from sim.levers import is_active
from sim.scenario import PatrolPolicy


def intensity(policy: PatrolPolicy, dates: dt.date | np.ndarray) -> np.ndarray:
    """Multiplier on patrol officers on each of ``dates`` (1 when the lever is off)."""
    return np.where(is_active(policy, dates), policy.intensity, 1.0)
