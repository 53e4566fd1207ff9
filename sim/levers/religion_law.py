"""The October 2011 law "On Religious Activity and Religious Associations".

Re-registration, bans on unregistered worship and prayer rooms, and literature approval fell on
practising believers (domain notes §3; K-F18-1768, K-dziennik): the law raises their hardship
and lowers the legitimacy they grant the state, in proportion to their religiosity, phased in
over ``ramp_days`` from its entry into force as re-registration and closures took effect (§7.20).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated

import numpy as np
from pydantic import Field

from sim.levers.base import Control, LeverFamily, LeverSettings, Reach, phased
from sim.schema import MAX_DAYS, Date, Probability

if TYPE_CHECKING:
    from sim.world import World


class ReligionLawSettings(LeverSettings):
    """The October 2011 law on religious activity (re-registration, bans on unregistered worship)."""

    start: Date | None = Field(dt.date(2011, 10, 25), description="entry into force; the ramp starts here (§7.20)")
    hardship_increase: Probability = Field(
        0.25, description="hardship added at full intensity per unit of religiosity")
    legitimacy_drop: Probability = Field(
        0.15, description="legitimacy withdrawn at full intensity per unit of religiosity")
    ramp_days: Annotated[float, Field(ge=0.0, le=MAX_DAYS)] = Field(
        30.0, description="days from entry into force to full intensity (linear)")


Settings = phased(ReligionLawSettings)


def daily(law: ReligionLawSettings, dates: np.ndarray, active: np.ndarray) -> dict[str, np.ndarray]:
    """How far the law has taken effect (0 to 1), and the hardship and legitimacy it moves per unit of religiosity."""
    if law.ramp_days <= 0 or law.start is None:
        intensity = active.astype(np.float64)
    else:
        elapsed = (dates - np.datetime64(law.start, "D")).astype(np.int64) + 1
        intensity = np.where(active, np.minimum(1.0, elapsed / law.ramp_days), 0.0)
    return {"intensity": intensity, "hardship": law.hardship_increase * intensity,
            "legitimacy": law.legitimacy_drop * intensity}


def apply(world: World, today: Mapping[str, float], reach: Reach) -> None:
    """Exposed groups (religiosity, in the law's regions) feel today's hardship and lose legitimacy."""
    exposure = reach.memo.get("exposure")
    if exposure is None:
        exposure = reach.memo["exposure"] = world.civilians.religiosity * reach.groups
    world.hardship_pressure["religion_law"] = today["hardship"] * exposure
    world.legitimacy_loss["religion_law"] = today["legitimacy"] * exposure
    world.law_intensity = today["intensity"]
    world.pressures_changed = True


FAMILY = LeverFamily(
    name="religion_law",
    settings=Settings,
    daily=daily,
    apply=apply,
    controls=(
        Control("religion_law", "enabled", "Religion law", "switch"),
        Control("law_date", "start", "Religion law in force from", "date"),
    ),
    summary="the October 2011 religion law: hardship up and legitimacy down for practising believers",
)
