"""Raids: special forces move on a militant cell once police intelligence reaches a threshold.

The policy says where and when raids may happen and how they go: the intelligence needed, the
chance the cell surrenders, the lethality of the assault and the risk to officers. The police
carry raids out (``sim.agents.police.raid``). The 2011 operations (seeds/incidents.csv): the
Temir-district siege (2 officers, 9 suspects killed), Boraldai (2 officers, 5 militants),
Kyzylorda (1 suspect).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, NamedTuple

import numpy as np
from pydantic import Field

from sim.levers.base import Control, LeverFamily, LeverSettings, Reach, phased
from sim.schema import Probability

if TYPE_CHECKING:
    from sim.world import World


class RaidSettings(LeverSettings):
    """Raids by special forces on militant cells the police have located."""

    intel_threshold: Annotated[float, Field(gt=0.0, le=1000.0)] = Field(
        1.0, description="intelligence needed for a raid; half of it allows targeted arrests")
    lethality: Probability = Field(
        0.5, description="probability that each member is killed in a raid without surrender")
    surrender: Probability = Field(
        0.2, description="probability that the whole cell surrenders (all arrested, no deaths)")
    security_risk: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        0.15, description="mean officers killed per member of the raided cell (Poisson)")


Settings = phased(RaidSettings)


class RaidPolicy(NamedTuple):
    """The raid policy in force today."""

    intel_threshold: float
    lethality: float
    surrender: float
    security_risk: float


def daily(raids: RaidSettings, dates: np.ndarray, active: np.ndarray) -> dict[str, np.ndarray]:
    """Whether raids may happen, and the policy in force."""
    ones = np.ones(len(dates))
    return {"active": active, **{name: getattr(raids, name) * ones for name in RaidPolicy._fields}}


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
