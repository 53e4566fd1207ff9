"""Raids: special forces move on a militant cell once police intelligence reaches a threshold.

The policy says where and when raids may happen, the intelligence they need, the rules of
engagement (``lethality``: the share of members killed in an assault) and how far surrender is
offered (``surrender_offer``, 1 as in 2011). How militants respond is behaviour, in the registry:
``raid_surrender`` (surrender when offered) and ``raid_officer_risk`` (officers killed per member);
after a raid that kills someone, attacks nearby become likelier or rarer (``raid_retaliation``, §7.10).
The police carry raids out (``sim.agents.police.raid``); ODD §7.14 says which evidence the registry's
raid parameters rest on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from sim.levers.base import Control, LeverFamily, LeverSettings, Reach, phased, policy
from sim.schema import Probability

if TYPE_CHECKING:
    from sim.world import World


class RaidSettings(LeverSettings):
    """Raids by special forces on militant cells the police have located."""

    intel_threshold: float = policy(
        1.0, "intelligence police require before a raid (targeted arrests start at the registry's share of it)",
        "intelligence", gt=0.0, le=1000.0)
    lethality: Probability = policy(
        0.5, "rules of engagement: probability that each member is killed in an assault (no surrender)", "1")
    surrender_offer: float = policy(
        1.0, "how far surrender is offered, relative to 2011 practice (multiplies registry parameter "
             "raid_surrender; 0: never offered)", "1 (relative to 2011)", ge=0.0, le=5.0)


Settings = phased(RaidSettings)


class RaidPolicy(NamedTuple):
    """The raid policy in force today, with the militants' responses to it (surrender, risk to officers)."""

    intel_threshold: float
    lethality: float
    surrender: float
    security_risk: float


def daily(raids: RaidSettings, dates: np.ndarray, active: np.ndarray, parameters: Any) -> dict[str, np.ndarray]:
    """Whether raids may happen, the policy in force and what it means with the militants' responses."""
    ones = np.ones(len(dates))
    surrender = min(1.0, parameters.raid_surrender * raids.surrender_offer)
    return {"active": active, "intel_threshold": raids.intel_threshold * ones, "lethality": raids.lethality * ones,
            "surrender": surrender * ones, "security_risk": parameters.raid_officer_risk * ones}


def apply(world: World, today: Mapping[str, float], reach: Reach) -> None:
    """Raids are allowed today in the lever's grid cells, under today's policy."""
    world.raids_allowed = reach.cells if today["active"] else np.zeros(len(reach.cells), dtype=bool)
    world.raid_policy = RaidPolicy(*(today[name] for name in RaidPolicy._fields))


FAMILY = LeverFamily(
    name="raids",
    settings=Settings,
    daily=daily,
    apply=apply,
    controls=(
        Control("raid_threshold", "intel_threshold", "Raid: intelligence threshold", "slider", 0.1, 3.0, 0.1,
                "× a located cell"),
        Control("raid_lethality", "lethality", "Raid: lethality", "slider", 0.0, 1.0, 0.05, "share killed"),
    ),
    summary="special-forces raids on located militant cells",
)
