"""Patrol intensity: ordinary police presence relative to the 2011 level.

Presence raises Epstein's estimated arrest probability (deterring open sympathy) and lowers the
attack hazard of cells nearby (deterrence; K-epsteinPM, Operation Motorman in K-ojp).
"""

from __future__ import annotations

import datetime as dt

from sim.levers import is_active
from sim.scenario import PatrolPolicy


def intensity(policy: PatrolPolicy, date: dt.date) -> float:
    """Multiplier on patrol officers on ``date`` (1 when the lever is off)."""
    return policy.intensity if is_active(policy, date) else 1.0
