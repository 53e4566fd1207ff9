"""The October 2011 law "On Religious Activity and Religious Associations".

Re-registration, bans on unregistered worship and prayer rooms, and literature approval fell on
practising believers (domain notes §3; K-F18-1768, K-dziennik): the model raises their hardship
and lowers the legitimacy they grant the state, in proportion to their religiosity, phased in
over ``ramp_days`` as re-registration and closures took effect.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from sim.levers import as_days, is_active
from sim.scenario import ReligionLaw


def intensity(law: ReligionLaw, dates: dt.date | np.ndarray) -> np.ndarray:
    """How far the law has taken effect on each of ``dates``, from 0 (not in force) to 1."""
    active = is_active(law, dates)
    if law.ramp_days <= 0 or law.start is None:
        return active.astype(np.float64)
    elapsed = (as_days(dates) - np.datetime64(law.start, "D")).astype(np.int64) + 1
    return np.where(active, np.minimum(1.0, elapsed / law.ramp_days), 0.0)


def effect(law: ReligionLaw, dates: dt.date | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hardship added and legitimacy withdrawn per unit of religiosity on each of ``dates``."""
    strength = intensity(law, dates)
    return law.hardship_increase * strength, law.legitimacy_drop * strength
