"""Police units: patrols posted by population, special forces, and what the police do each day.

Patrol presence deters civilians from sympathising openly (Epstein's arrest probability) and
militant cells from attacking. Each day the police (:func:`police_act`) respond to the day's
attacks (a detention sweep may follow one), turn tips and attacks into intelligence on militant
cells, raid the cells they have located or make targeted arrests, and carry out the sweeps due
today. How they may act is the policy in force: ``sim.levers.raids`` and ``sim.levers.sweeps``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numba import njit

from sim.agents.civilians import QUIET, draw_people
from sim.faces import Column, PlacedFace
from sim.record import log_incident

if TYPE_CHECKING:
    from sim.agents.militants import Attack
    from sim.geography import RegionalLayout
    from sim.world import World

PATROL, SPECIAL = 0, 1
#: Where the special units were based: KNB "Arystan" (Almaty), MVD units in Astana and the
#: west (Arlan in Aktobe, K-EN63800, K-zakon, K-kt). More units cycle through these bases.
SPECIAL_BASES = ("Almaty City", "Astana City", "Aktobe Region")
NO_ACTION, RAID, TARGETED_ARRESTS = 0, 1, 2


@dataclass(eq=False)
class PoliceUnits:
    """State of every police unit.

    Attributes:
        kind: PATROL or SPECIAL.
        cell: base grid-cell index.
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
    """Allocate patrol units to regions by population, and base them in grid cells by population.

    Every grid cell is policed by the nearest unit of its region (its district); a unit's officers
    are posted across its district in proportion to population, so officer density follows
    population everywhere. Special units are based in ``SPECIAL_BASES``' centres and do not patrol.
    """
    officers = layout.region_population.sum() * parameters.police_per_100k / 1e5
    n_patrol = max(len(layout.regions), int(round(officers / parameters.patrol_unit_size)))
    per_region = np.maximum(1, largest_remainder(n_patrol, layout.region_population))
    patrol_cells = layout.place_by_population(rng, per_region)
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


def nearest_unit(units: PoliceUnits, candidates: np.ndarray, layout: RegionalLayout, grid_cell: int) -> int:
    """The candidate unit whose base is closest (grid distance) to ``grid_cell``."""
    offsets = layout.coords[units.cell[candidates]] - layout.coords[grid_cell]
    return int(candidates[np.argmin(np.abs(offsets).max(axis=1))])


def refresh_presence(world: World) -> None:
    """Patrol officers per grid cell (also in the Mesa grid's ``police`` layer) and within vision today."""
    world.patrol_officers = world.police.patrol_officers_by_cell()
    world.officers_total = int(world.police.strength.sum())
    coords = world.layout.coords
    world.police_layer[coords[:, 0], coords[:, 1]] = world.patrol_officers
    world.officers_near = world.neighbourhood.sum(world.patrol_officers * world.patrol_multiplier)
    world.presence_changed = False


def lose_officers(world: World, grid_cell: int, count: int, kind: int) -> int:
    """Officers of the nearest unit of ``kind`` killed near ``grid_cell``; returns how many died."""
    if count == 0:
        return 0
    units = world.police
    candidates = np.flatnonzero((units.kind == kind) & (units.strength >= 1))
    if len(candidates) == 0:
        return 0
    unit = nearest_unit(units, candidates, world.layout, grid_cell)
    count = int(min(count, units.strength[unit]))
    units.strength[unit] -= count
    units.killed[unit] += count
    world.officers_total -= count
    if kind == PATROL:
        refresh_presence(world)
    return count


@njit(cache=True)
def informing_near(
    homes: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    starts: np.ndarray,
    stage: np.ndarray,
    free: np.ndarray,
    inform_propensity: np.ndarray,
) -> np.ndarray:
    """For each of ``homes``, the quiet free people within vision weighted by their propensity to inform."""
    out = np.zeros(len(homes))
    for m in range(len(homes)):
        total = 0.0
        for k in range(indptr[homes[m]], indptr[homes[m] + 1]):
            c = indices[k]
            for i in range(starts[c], starts[c + 1]):
                if stage[i] == QUIET:
                    total += free[i] * inform_propensity[i]
        out[m] = total
    return out


class PoliceRates(NamedTuple):
    """The constants of the police's daily investigation."""

    intel_decay: float
    tip_rate: float
    raid_threshold: float
    arrest_intel_fraction: float
    arrest_rate: float


def police_rates(p, raid_threshold: float) -> PoliceRates:
    """The investigation's constants from the parameters and today's raid threshold (§7.13-7.15)."""
    return PoliceRates(
        intel_decay=float(np.exp(-1.0 / p.intel_decay_days)),
        tip_rate=float(p.tip_rate),
        raid_threshold=float(raid_threshold),
        arrest_intel_fraction=float(p.targeted_arrest_intel_fraction),
        arrest_rate=float(p.targeted_arrest_rate),
    )


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
    """Intelligence on every living militant cell, and what the police do about each today.

    Intelligence decays and grows with tips from the informing people within vision of the
    militant cell's home grid cell (``informing``, one entry per living militant cell). A militant
    cell whose home allows raids today (``raid_allowed``) and whose intelligence reaches the raid
    threshold is raided; otherwise, above ``arrest_intel_fraction`` of the threshold, targeted
    arrests happen with ``arrest_rate`` a day. ``tip_multiplier`` is per grid cell; ``rates`` is
    :class:`PoliceRates` as a record (``as_record``).

    Returns:
        NO_ACTION, RAID or TARGETED_ARRESTS for each living militant cell. Draws come from numba's
        generator, seeded for the day by ``civilian_day``.
    """
    r = rates[0]
    actions = np.zeros(len(living), dtype=np.int8)
    for k in range(len(living)):
        militant = living[k]
        grid_cell = home[militant]
        tips = r.tip_rate * tip_multiplier[grid_cell] * members[militant] * informing[k] / people_near[grid_cell]
        intel[militant] = intel[militant] * r.intel_decay + tips
        draw = np.random.random()
        if raid_allowed[grid_cell] and intel[militant] >= r.raid_threshold:
            actions[k] = RAID
        elif intel[militant] >= r.raid_threshold * r.arrest_intel_fraction and draw < r.arrest_rate:
            actions[k] = TARGETED_ARRESTS
    return actions


# --- the police's day --------------------------------------------------------------------------

def police_act(world: World, attacks: list[Attack], rates: np.ndarray) -> None:
    """The police's day: respond to today's attacks, investigate and act, carry out due sweeps (§7.13-7.16).

    ``rates`` is :func:`police_rates` as a record (``sim.agents.core.as_record``).
    """
    for attack in attacks:
        respond_to_attack(world, attack)
    investigate_and_act(world, rates)
    for region in world.sweeps_due.pop(world.day, ()):
        sweep(world, region)


def respond_to_attack(world: World, attack: Attack) -> None:
    """Where sweeps are in force, an attack is followed by a sweep of its region after 1 to ``max_delay_days``."""
    policy, rng = world.sweep_policy, world.streams.police
    if world.sweeps_active and world.sweep_regions[attack.region] and rng.random() < policy.probability:
        delay = int(rng.integers(1, policy.max_delay_days + 1))
        world.sweeps_due[world.day + delay].append(attack.region)


def investigate_and_act(world: World, rates: np.ndarray) -> None:
    """Update intelligence on every living militant cell, then raid or arrest in id order."""
    militants, groups, neighbourhood = world.militants, world.civilians, world.neighbourhood
    living = militants.living
    if len(living) == 0:
        return
    informing = informing_near(militants.home[living], neighbourhood.indptr, neighbourhood.indices, groups.starts,
                               groups.stage, groups.free, groups.inform_propensity)
    actions = investigate(living, militants.home, militants.members, militants.intel, informing, world.people_near,
                          world.tip_multiplier, world.raids_allowed, rates)
    for militant, action in zip(living.tolist(), actions.tolist(), strict=True):
        if action == RAID:
            raid(world, militant)
        elif action == TARGETED_ARRESTS:
            targeted_arrests(world, militant)


def raid(world: World, militant: int) -> None:
    """Special forces raid militant cell ``militant`` (§7.14): it surrenders, or members are killed or arrested."""
    militants, rng, policy = world.militants, world.streams.police, world.raid_policy
    members = int(militants.members[militant])
    if rng.random() < policy.surrender:
        killed, security_risk_deaths = 0, 0
    else:
        killed = int(rng.binomial(members, policy.lethality))
        security_risk_deaths = int(rng.poisson(policy.security_risk * members))
    home = int(militants.home[militant])
    security = lose_officers(world, home, security_risk_deaths, SPECIAL)
    removed = militants.remove_members(militant, members, rng)
    world.civilians.move(removed[:killed], "in_cells", "dead")
    world.civilians.move(removed[killed:], "in_cells", "imprisoned")
    militants.leader[militant] = False
    log_incident(world, home, "state", "raid", security=security, militant=killed, arrests=members - killed)
    if killed or security:  # a raid that ends without bloodshed neither provokes nor deters (§7.10)
        world.regional_excitation[militants.region[militant]] += world.params.raid_retaliation
    world.daily.add("raids", 1)
    world.daily.add("arrested", members - killed)
    militants.dissolve_if_empty(militant)


def targeted_arrests(world: World, militant: int) -> None:
    """Police arrest some members of militant cell ``militant`` they know of (§7.15)."""
    militants, rng = world.militants, world.streams.police
    count = int(rng.binomial(int(militants.members[militant]), world.params.targeted_arrest_share))
    if count == 0:
        return
    world.civilians.move(militants.remove_members(militant, count, rng), "in_cells", "imprisoned")
    militants.intel[militant] += world.params.attack_intel
    log_incident(world, int(militants.home[militant]), "state", "arrests", arrests=count)
    world.daily.add("arrest_operations", 1)
    world.daily.add("arrested", count)
    militants.dissolve_if_empty(militant)


def sweep(world: World, region: int) -> None:
    """A detention sweep in ``region`` (§7.16): members, radicals and uninvolved civilians are detained.

    ``size`` people are detained, of whom a share ``precision`` (binomially) are involved: members of
    militant cells first (taken one by one from random militant cells of the region), then recruits and
    sympathisers; the rest are quiet civilians, whose groups carry backlash.
    """
    militants, groups, rng, policy = world.militants, world.civilians, world.streams.police, world.sweep_policy
    in_region = [int(m) for m in militants.living if militants.region[m] == region]
    members = int(sum(militants.members[m] for m in in_region))
    involved = int(rng.binomial(policy.size, policy.precision))
    from_cells = min(involved, members)
    here = groups.region == region
    free = groups.free
    radicals = np.flatnonzero(here & (groups.stage != QUIET) & (free > 0))
    quiet = np.flatnonzero(here & (groups.stage == QUIET) & (free > 0))
    involved_groups = draw_people(rng, radicals, free, involved - from_cells)
    uninvolved = draw_people(rng, quiet, free, policy.size - involved)
    arrested = 0
    for _ in range(from_cells):
        candidates = [m for m in in_region if militants.members[m] > 0]
        if not candidates:
            break
        militant = candidates[int(rng.integers(len(candidates)))]
        taken = militants.remove_members(militant, 1, rng)
        groups.move(taken, "in_cells", "imprisoned")
        arrested += len(taken)
        militants.intel[militant] += world.params.attack_intel
    detainees = np.concatenate([involved_groups, uninvolved]).astype(np.int64)
    groups.move(detainees, "free", "detained")
    np.add.at(groups.backlash, uninvolved, world.params.backlash_per_detainee)
    np.minimum(groups.backlash, 1.0, out=groups.backlash)
    log_incident(world, int(world.layout.centre_cell[region]), "state", "sweep", arrests=arrested + len(detainees))
    world.daily.add("sweeps", 1)
    world.daily.add("arrested", arrested + len(detainees))
    world.daily.add("detained_uninvolved", len(uninvolved))
    for militant in in_region:
        militants.dissolve_if_empty(militant)


class PoliceUnit(PlacedFace):
    """A police unit, seen as a Mesa agent: a view onto one row of :class:`PoliceUnits`."""

    table = "police"
    kind = Column("kind", lambda v: "special" if v == SPECIAL else "patrol", "``patrol`` or ``special``.")
    strength = Column("strength", float, "Officers serving.")
