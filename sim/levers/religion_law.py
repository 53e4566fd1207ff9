"""The October 2011 law "On Religious Activity and Religious Associations".

Re-registration, bans on unregistered worship and prayer rooms, and literature approval fell on
practising believers (domain notes §3; K-F18-1768, K-dziennik). The scenario says what the law was:
when it came into force, where, and its ``scope`` (the share of its provisions in force). How
strongly people responded is behaviour, in the parameter registry: the hardship it adds and the
legitimacy it withdraws per unit of religiosity (``law_hardship_effect``, ``law_legitimacy_effect``),
how many days before entry into force the response begins (``law_lead_days``: the Senate vote and
the signature came first) and how long it takes to reach full effect (``law_ramp_days``, §7.20).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field

from sim.levers.base import Control, LeverFamily, LeverSettings, Reach, phased, policy
from sim.schema import Date, Probability

if TYPE_CHECKING:
    from sim.world import World


class ReligionLawSettings(LeverSettings):
    """The October 2011 law on religious activity (re-registration, bans on unregistered worship)."""

    start: Date | None = Field(dt.date(2011, 10, 25), description="entry into force (§7.20)")
    scope: Probability = policy(
        1.0, "share of the law's provisions in force (1: the 2011 law; 0.5: re-registration without the bans)",
        "1 (share)")


Settings = phased(ReligionLawSettings)


def daily(law: ReligionLawSettings, dates: np.ndarray, active: np.ndarray, parameters: Any) -> dict[str, np.ndarray]:
    """How far people have responded to the law (0 to 1, times its scope), and the hardship and legitimacy it moves.

    The response begins ``law_lead_days`` before entry into force and grows linearly to full effect
    over ``law_ramp_days``; it ends with the law (``end``).
    """
    if law.start is None:
        response = active.astype(np.float64)
    else:
        onset = np.datetime64(law.start, "D") - np.timedelta64(int(round(parameters.law_lead_days)), "D")
        responding = law.enabled & (dates >= onset)
        if law.end is not None:
            responding &= dates <= np.datetime64(law.end, "D")
        elapsed = (dates - onset).astype(np.int64) + 1
        ramp = max(float(parameters.law_ramp_days), 1.0)
        response = np.where(responding, np.minimum(1.0, elapsed / ramp), 0.0)
    intensity = law.scope * response
    return {"intensity": intensity, "hardship": parameters.law_hardship_effect * intensity,
            "legitimacy": parameters.law_legitimacy_effect * intensity}


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
        Control("law_scope", "scope", "Religion law: scope", "slider", 0.0, 1.0, 0.25, "share of provisions"),
    ),
    summary="the October 2011 religion law: hardship up and legitimacy down for practising believers",
)
