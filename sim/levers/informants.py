"""Informant networks and community policing.

Selective repression needs denunciations (Kalyvas, K-kalyvasSum); conciliatory policing is
associated with less terrorism (Dugan & Chenoweth, K-dugan). The scenario says how much
community-policing ``effort`` there was (0: ordinary 2011 practice); how many more tips it brings
and how much legitimacy it restores per unit of effort are registry parameters
(``informant_yield``, ``community_legitimacy_gain``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.levers.base import Control, LeverFamily, LeverSettings, Reach, phased, policy

if TYPE_CHECKING:
    from sim.world import World


class InformantSettings(LeverSettings):
    """Community policing: more tips from civilians, fewer grievances against police."""

    effort: float = policy(
        0.0, "community-policing effort beyond 2011 practice (0: none; 1: one programme unit, e.g. informant "
             "handlers and liaison doubled)", "programme units", ge=0.0, le=100.0)


Settings = phased(InformantSettings)


def daily(informants: InformantSettings, dates: np.ndarray, active: np.ndarray,
          parameters: Any) -> dict[str, np.ndarray]:
    """The multiplier on tips (1 when off) and the legitimacy added (0 when off)."""
    effort = informants.effort
    return {"tip_multiplier": np.where(active, 1.0 + parameters.informant_yield * effort, 1.0),
            "legitimacy_gain": np.where(active, parameters.community_legitimacy_gain * effort, 0.0)}


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
    controls=(Control("community_policing", "effort", "Community policing effort", "slider", 0.0, 3.0, 0.25,
                      "programme units beyond 2011"),),
    summary="informant networks and community policing",
)
