"""Informant networks and community policing.

Selective repression needs denunciations (Kalyvas, K-kalyvasSum); conciliatory policing is
associated with less terrorism (Dugan & Chenoweth, K-dugan). The lever multiplies the tips
civilians pass on and can restore some legitimacy.
"""

from __future__ import annotations

import datetime as dt

from sim.levers import is_active
from sim.scenario import InformantPolicy


def tip_multiplier(policy: InformantPolicy, date: dt.date) -> float:
    """Multiplier on the tip rate on ``date`` (1 when the lever is off)."""
    return policy.tip_multiplier if is_active(policy, date) else 1.0


def legitimacy_gain(policy: InformantPolicy, date: dt.date) -> float:
    """Legitimacy added by community policing on ``date``."""
    return policy.legitimacy_gain if is_active(policy, date) else 0.0
