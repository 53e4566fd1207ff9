"""The October 2011 law "On Religious Activity and Religious Associations".

Re-registration, bans on unregistered worship and prayer rooms, and literature approval fell on
practising believers (domain notes §3; K-F18-1768, K-dziennik): the model raises their hardship
and lowers the legitimacy they grant the state, in proportion to their religiosity, phased in
over ``ramp_days`` as re-registration and closures took effect.
"""

from __future__ import annotations

import datetime as dt

from sim.levers import is_active
from sim.scenario import ReligionLaw


def intensity(law: ReligionLaw, date: dt.date) -> float:
    """How far the law has taken effect on ``date``, from 0 (not in force) to 1."""
    if not is_active(law, date):
        return 0.0
    if law.ramp_days <= 0 or law.start is None:
        return 1.0
    return min(1.0, ((date - law.start).days + 1) / law.ramp_days)


def effect(law: ReligionLaw, date: dt.date) -> tuple[float, float]:
    """Hardship added and legitimacy withdrawn per unit of religiosity on ``date``."""
    strength = intensity(law, date)
    return law.hardship_increase * strength, law.legitimacy_drop * strength
