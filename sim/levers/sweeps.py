"""Detention sweeps: many people detained in a region after an attack there.

A sweep detains ``size`` people, of whom a share ``precision`` are involved (cell members first,
then recruits and sympathisers); the rest are uninvolved civilians. Detaining the uninvolved
raises local hardship (backlash: internment in Northern Ireland, K-ojp; indiscriminate
repression, K-dugan, K-lyall2015). The 2011 Atyrau sweeps detained about 40 (S2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.agents.civilian import QUIET, CivilianGroups, draw_people
from sim.scenario import SweepPolicy


@dataclass(frozen=True)
class SweepOutcome:
    """Whom one sweep detained."""

    involved: int
    uninvolved_groups: np.ndarray
    involved_groups: np.ndarray


def conduct(
    rng: np.random.Generator, policy: SweepPolicy, groups: CivilianGroups, region: int, members_in_region: int
) -> tuple[int, SweepOutcome]:
    """Draw who a sweep in ``region`` detains.

    Returns:
        The number of cell members to arrest (taken by the caller from the region's cells), and
        the civilian groups of the other detainees, one entry per person.
    """
    involved = int(rng.binomial(policy.size, policy.precision))
    from_cells = min(involved, members_in_region)
    in_region = groups.region == region
    free = groups.free
    radical = np.flatnonzero(in_region & (groups.stage != QUIET) & (free > 0))
    quiet = np.flatnonzero(in_region & (groups.stage == QUIET) & (free > 0))
    involved_groups = draw_people(rng, radical, free, involved - from_cells)
    uninvolved_groups = draw_people(rng, quiet, free, policy.size - involved)
    return from_cells, SweepOutcome(involved, uninvolved_groups, involved_groups)

