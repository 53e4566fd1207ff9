"""Every lever's setting on every day of a run, evaluated once so that a day only looks it up."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from sim.levers import informants, is_active, patrols, religion_law
from sim.scenario import Levers


@dataclass(frozen=True)
class LeverSchedule:
    """Per day of the run (index = day), the settings the model's daily rules read.

    Attributes:
        law_intensity: how far the religion law has taken effect, 0 to 1.
        law_hardship: hardship added per unit of religiosity.
        law_legitimacy: legitimacy withdrawn per unit of religiosity.
        legitimacy_gain: legitimacy added by community policing.
        patrol_intensity: multiplier on patrol officers.
        tip_multiplier: multiplier on informants' tips.
        raids_active: whether raids may happen.
        sweeps_active: whether attacks may trigger sweeps.
        changed: whether any setting differs from the day before (always true on day 0).
    """

    law_intensity: np.ndarray
    law_hardship: np.ndarray
    law_legitimacy: np.ndarray
    legitimacy_gain: np.ndarray
    patrol_intensity: np.ndarray
    tip_multiplier: np.ndarray
    raids_active: np.ndarray
    sweeps_active: np.ndarray
    changed: np.ndarray

    def __len__(self) -> int:
        return len(self.changed)


def lever_schedule(levers: Levers, start: dt.date, days: int) -> LeverSchedule:
    """The settings of ``levers`` on each of ``days`` days from ``start``."""
    dates = np.datetime64(start, "D") + np.arange(days)
    law_hardship, law_legitimacy = religion_law.effect(levers.religion_law, dates)
    settings = {
        "law_intensity": religion_law.intensity(levers.religion_law, dates),
        "law_hardship": law_hardship,
        "law_legitimacy": law_legitimacy,
        "legitimacy_gain": informants.legitimacy_gain(levers.informants, dates),
        "patrol_intensity": patrols.intensity(levers.patrols, dates),
        "tip_multiplier": informants.tip_multiplier(levers.informants, dates),
        "raids_active": is_active(levers.raids, dates),
        "sweeps_active": is_active(levers.sweeps, dates),
    }
    stacked = np.vstack([np.asarray(v, dtype=np.float64) for v in settings.values()])
    changed = np.ones(days, dtype=bool)
    changed[1:] = (stacked[:, 1:] != stacked[:, :-1]).any(axis=0)
    return LeverSchedule(**settings, changed=changed)
