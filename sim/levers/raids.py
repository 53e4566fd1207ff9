"""Raids: special forces move on a cell once intelligence reaches the policy's threshold.

Outcomes follow the 2011 operations (seeds/incidents.csv): the Temir-district siege (2 officers,
9 suspects killed), Boraldai (2 officers, 5 militants), Kyzylorda (1 suspect). Members may
surrender; otherwise each is killed with ``lethality`` and the rest are arrested, and officers
die at ``security_risk`` per armed member.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.scenario import RaidPolicy


@dataclass(frozen=True)
class RaidOutcome:
    """What one raid did."""

    surrendered: bool
    militants_killed: int
    security_killed: int
    arrested: int


def conduct(rng: np.random.Generator, policy: RaidPolicy, members: int) -> RaidOutcome:
    """Draw the outcome of a raid on a cell of ``members`` members."""
    if rng.random() < policy.surrender:
        return RaidOutcome(True, 0, 0, members)
    killed = int(rng.binomial(members, policy.lethality))
    security = int(rng.poisson(policy.security_risk * members))
    return RaidOutcome(False, killed, security, members - killed)
