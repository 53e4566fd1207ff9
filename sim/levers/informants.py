"""Informant networks and community policing.

Selective repression needs denunciations (Kalyvas, K-kalyvasSum); conciliatory policing is
associated with less terrorism (Dugan & Chenoweth, K-dugan). The lever multiplies the tips
civilians pass on and can restore some legitimacy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated

import numpy as np
from pydantic import Field

from sim.levers.base import Control, LeverFamily, LeverSettings, Reach, phased
from sim.schema import Probability

if TYPE_CHECKING:
    from sim.world import World


class InformantSettings(LeverSettings):
    """Community policing: more tips from civilians, fewer grievances against police."""

    tip_multiplier: Annotated[float, Field(ge=0.0, le=1000.0)] = Field(
        1.0, description="multiplier on the tip term of intelligence")
    legitimacy_gain: Probability = Field(0.0, description="legitimacy added to every group reached")


Settings = phased(InformantSettings)


def daily(informants: InformantSettings, dates: np.ndarray, active: np.ndarray) -> dict[str, np.ndarray]:
    """The multiplier on tips (1 when off) and the legitimacy added (0 when off)."""
    return {"tip_multiplier": np.where(active, informants.tip_multiplier, 1.0),
            "legitimacy_gain": np.where(active, informants.legitimacy_gain, 0.0)}


def apply(world: World, today: Mapping[str, float], reach: Reach) -> None:
    """Tips in the lever's grid cells are multiplied, and its groups grant the state more legitimacy."""
    world.tip_multiplier = np.where(reach.cells, today["tip_multiplier"], 1.0)
    world.legitimacy_gain["informants"] = today["legitimacy_gain"] * reach.groups
    world.pressures_changed = True


FAMILY = LeverFamily(
    name="informants",
    settings=Settings,
    daily=daily,
    apply=apply,
    controls=(Control("tip_multiplier", "tip_multiplier", "Informant tip multiplier", "slider", 0.0, 5.0, 0.1,
                      "× 2011"),),
    summary="informant networks and community policing",
)
