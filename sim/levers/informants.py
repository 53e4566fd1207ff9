"""Informant networks and community policing.

Selective repression needs denunciations (Kalyvas, K-kalyvasSum); conciliatory policing is
associated with less terrorism (Dugan & Chenoweth, K-dugan). The lever multiplies the tips
civilians pass on and can restore some legitimacy.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from sim.levers import is_active
from sim.scenario import InformantPolicy


def tip_multiplier(policy: InformantPolicy, dates: dt.date | np.ndarray) -> np.ndarray:
    """Multiplier on the tip rate on each of ``dates`` (1 when the lever is off)."""
    return np.where(is_active(policy, dates), policy.tip_multiplier, 1.0)


def legitimacy_gain(policy: InformantPolicy, dates: dt.date | np.ndarray) -> np.ndarray:
    """Legitimacy added by community policing on each of ``dates``."""
    return np.where(is_active(policy, dates), policy.legitimacy_gain, 0.0)
