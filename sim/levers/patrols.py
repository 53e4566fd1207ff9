"""Patrol intensity: ordinary police presence relative to the 2011 level.

Presence raises Epstein's estimated arrest probability (deterring open sympathy) and lowers the
attack hazard of militant cells nearby (deterrence; K-epsteinPM, Operation Motorman in K-ojp).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.levers.base import Control, LeverFamily, LeverSettings, Reach, phased, policy

if TYPE_CHECKING:
    from sim.world import World


class PatrolSettings(LeverSettings):
    """Intensity of ordinary patrols (1 = the 2011 level)."""

    intensity: float = policy(1.0, "multiplier on patrol officers (1 = the 2011 level)", "1 (relative to 2011)",
                              ge=0.0, le=100.0)


Settings = phased(PatrolSettings)


def daily(patrols: PatrolSettings, dates: np.ndarray, active: np.ndarray,
          parameters: Any) -> dict[str, np.ndarray]:
    """The multiplier on patrol officers (1 when the lever is off)."""
    return {"intensity": np.where(active, patrols.intensity, 1.0)}


def apply(world: World, today: Mapping[str, float], reach: Reach) -> None:
    """Patrol officers in the lever's grid cells are multiplied by today's intensity."""
    world.patrol_multiplier = np.where(reach.cells, today["intensity"], 1.0)
    world.presence_changed = True


FAMILY = LeverFamily(
    name="patrols",
    settings=Settings,
    daily=daily,
    apply=apply,
    controls=(Control("patrol_intensity", "intensity", "Patrol intensity", "slider", 0.0, 3.0, 0.1, "× 2011"),),
    summary="ordinary police presence relative to the 2011 level",
)
