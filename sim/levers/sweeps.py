"""Detention sweeps: many people detained in a region after an attack there.

A sweep detains ``size`` people, of whom a share ``precision`` are involved (militant cell
members first, then recruits and sympathisers); the rest are uninvolved civilians. Detaining the
uninvolved raises local hardship (backlash: internment in Northern Ireland, K-ojp; indiscriminate
repression, K-dugan, K-lyall2015); the sweep observed in 2011 is in docs/ODD.md's table of patterns. The police
decide on and carry out sweeps (``sim.agents.police``); this is the policy they follow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from sim.levers.base import Control, LeverFamily, LeverSettings, Reach, phased, policy
from sim.schema import Probability

if TYPE_CHECKING:
    from sim.world import World


class SweepSettings(LeverSettings):
    """Detention sweeps in a region after an attack there."""

    probability: Probability = policy(0.5, "probability that an attack triggers a sweep in its region", "1")
    size: int = policy(40, "people detained per sweep", "people", ge=0, le=100_000)
    precision: Probability = policy(
        0.15, "probability that a detainee is involved (cell member, else recruit or sympathiser): how targeted "
              "the sweep is", "1")
    max_delay_days: int = policy(14, "the sweep follows the attack after U{1, …, max_delay_days} days", "days",
                                 ge=1, le=365)


Settings = phased(SweepSettings)


class SweepPolicy(NamedTuple):
    """The sweep policy in force today."""

    probability: float
    size: int
    precision: float
    max_delay_days: int


def daily(sweeps: SweepSettings, dates: np.ndarray, active: np.ndarray,
          parameters: Any) -> dict[str, np.ndarray]:
    """Whether attacks may trigger sweeps, and the policy in force."""
    ones = np.ones(len(dates))
    return {"active": active, **{name: getattr(sweeps, name) * ones for name in SweepPolicy._fields}}


def apply(world: World, today: Mapping[str, float], reach: Reach) -> None:
    """Attacks may trigger sweeps today in the lever's regions, under today's policy."""
    world.sweeps_active = bool(today["active"])
    world.sweep_regions = reach.regions
    world.sweep_policy = SweepPolicy(today["probability"], int(today["size"]), today["precision"],
                                     int(today["max_delay_days"]))


FAMILY = LeverFamily(
    name="sweeps",
    settings=Settings,
    daily=daily,
    apply=apply,
    controls=(
        Control("sweeps", "enabled", "Detention sweeps after attacks", "switch"),
        Control("sweep_size", "size", "Sweep: people detained", "slider", 0, 200, 5, "people"),
        Control("sweep_precision", "precision", "Sweep: precision", "slider", 0.0, 1.0, 0.05, "share involved"),
    ),
    summary="detention sweeps in a region after an attack there",
)
