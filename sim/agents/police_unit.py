"""Police units: patrol units allocated by population, and special-forces units.

Patrol presence deters civilians from sympathising openly (Epstein's arrest probability) and
cells from attacking; investigation turns tips and attacks into intelligence on cells; special
units carry out raids (``sim.levers.raids``); detention sweeps are ``sim.levers.sweeps``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from sim.agents.face import ArrayFace, Column

if TYPE_CHECKING:
    from sim.geography import RegionalLayout

PATROL, SPECIAL = 0, 1
#: Where the special units were based: KNB "Arystan" (Almaty), MVD units in Astana and the
#: west (Arlan in Aktobe, K-EN63800, K-zakon, K-kt). More units cycle through these bases.
SPECIAL_BASES = ("Almaty City", "Astana City", "Aktobe Region")


@dataclass(eq=False)
class PoliceUnits:
    """State of every police unit.

    Attributes:
        kind: PATROL or SPECIAL.
        cell: base cell index.
        region: region index.
        strength: officers alive and serving.
        killed: officers killed.
        district: for every grid cell, the patrol unit that polices it.
        district_share: for every grid cell, its share of its district's population (the share
            of the unit's officers posted there).
    """

    kind: np.ndarray
    cell: np.ndarray
    region: np.ndarray
    strength: np.ndarray
    killed: np.ndarray
    district: np.ndarray
    district_share: np.ndarray

    def __len__(self) -> int:
        return len(self.cell)

    def patrol_officers_by_cell(self) -> np.ndarray:
        """Patrol officers posted in each grid cell."""
        return self.strength[self.district] * self.district_share


def largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` integers in proportion to ``weights`` (Hamilton's method)."""
    quota = total * weights / weights.sum()
    counts = np.floor(quota).astype(np.int64)
    remainder = total - counts.sum()
    counts[np.argsort(-(quota - counts), kind="stable")[:remainder]] += 1
    return counts


def create_units(layout: RegionalLayout, parameters, rng: np.random.Generator) -> PoliceUnits:
    """Allocate patrol units to regions by population, and base them in cells by population.

    Every cell is policed by the nearest unit of its region (its district); a unit's officers
    are posted across its district in proportion to population, so officer density follows
    population everywhere. Special units are based in ``SPECIAL_BASES``' centres and do not patrol.
    """
    officers = layout.region_population.sum() * parameters.police_per_100k / 1e5
    n_patrol = max(len(layout.regions), int(round(officers / parameters.patrol_unit_size)))
    per_region = np.maximum(1, largest_remainder(n_patrol, layout.region_population))
    cells = []
    for index, count in enumerate(per_region):
        mine = np.flatnonzero(layout.cell_region == index)
        weights = layout.cell_population[mine] / layout.cell_population[mine].sum()
        cells.append(rng.choice(mine, size=count, p=weights))
    patrol_cells = np.concatenate(cells)
    strength = np.full(len(patrol_cells), float(officers / len(patrol_cells)))
    bases = [layout.regions.index(SPECIAL_BASES[i % len(SPECIAL_BASES)]) for i in range(parameters.special_units)]
    special_cells = layout.centre_cell[bases] if bases else np.zeros(0, dtype=np.int64)
    cell = np.concatenate([patrol_cells, special_cells]).astype(np.int64)
    kind = np.concatenate([np.full(len(patrol_cells), PATROL), np.full(len(special_cells), SPECIAL)])
    strength = np.concatenate([strength, np.full(len(special_cells), float(parameters.special_unit_size))])
    region = layout.cell_region[cell].astype(np.int64)
    district = np.empty(layout.n_cells, dtype=np.int64)
    for index in range(len(layout.regions)):
        mine = np.flatnonzero(layout.cell_region == index)
        units = np.flatnonzero((region == index) & (kind == PATROL))
        distance = np.abs(layout.coords[mine][:, None, :] - layout.coords[cell[units]][None, :, :]).max(axis=2)
        district[mine] = units[np.argmin(distance, axis=1)]
    district_population = np.bincount(district, weights=layout.cell_population, minlength=len(cell))
    return PoliceUnits(
        kind=kind,
        cell=cell,
        region=region,
        strength=strength,
        killed=np.zeros(len(cell), dtype=np.int64),
        district=district,
        district_share=layout.cell_population / district_population[district],
    )


def nearest_unit(units: PoliceUnits, candidates: np.ndarray, layout: RegionalLayout, cell: int) -> int:
    """The candidate unit whose base is closest (grid distance) to ``cell``."""
    offsets = layout.coords[units.cell[candidates]] - layout.coords[cell]
    return int(candidates[np.argmin(np.abs(offsets).max(axis=1))])


NO_ACTION, RAID, TARGETED_ARRESTS = 0, 1, 2


@njit(cache=True)
def investigate(
    living: np.ndarray,
    home: np.ndarray,
    members: np.ndarray,
    intel: np.ndarray,
    informing: np.ndarray,
    people_near: np.ndarray,
    tip_multiplier: np.ndarray,
    raid_allowed: np.ndarray,
    rates: np.ndarray,
) -> np.ndarray:
    """Intelligence on every living cell, and what the police do about each today.

    Intelligence decays and grows with tips from the informing people within vision of the
    cell's home (``informing``, one entry per living cell). A cell whose home allows raids today
    (``raid_allowed``) and whose intelligence reaches the raid threshold is raided; otherwise,
    above ``targeted_arrest_intel_fraction`` of the threshold, targeted arrests happen with
    ``targeted_arrest_rate`` a day. ``tip_multiplier`` is per grid cell. ``rates`` holds, in
    order: intelligence decay factor, tip rate, raid threshold, arrest intel fraction, arrest rate.

    Returns:
        NO_ACTION, RAID or TARGETED_ARRESTS for each living cell. Draws come from numba's
        generator, seeded for the day by ``civilian_day``.
    """
    decay, tip_rate, threshold, arrest_fraction, arrest_rate = rates[0], rates[1], rates[2], rates[3], rates[4]
    actions = np.zeros(len(living), dtype=np.int8)
    for k in range(len(living)):
        cell = living[k]
        c = home[cell]
        intel[cell] = intel[cell] * decay + tip_rate * tip_multiplier[c] * members[cell] * informing[k] / people_near[c]
        draw = np.random.random()
        if raid_allowed[c] and intel[cell] >= threshold:
            actions[k] = RAID
        elif intel[cell] >= threshold * arrest_fraction and draw < arrest_rate:
            actions[k] = TARGETED_ARRESTS
    return actions


class PoliceUnit(ArrayFace):
    """A police unit, seen as a Mesa agent: a view onto one row of :class:`PoliceUnits`."""

    table = "police"
    kind = Column("police", "kind", lambda v: "special" if v == SPECIAL else "patrol", "``patrol`` or ``special``.")
    strength = Column("police", "strength", float, "Officers serving.")
