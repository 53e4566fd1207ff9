"""Civilian groups: Epstein's citizens, extended with religiosity, radicalisation and informing.

One civilian agent stands for ``people_per_agent`` people who share a home grid cell, hardship,
risk aversion, religiosity and propensity to inform (a super-individual). Their state lives in
:class:`CivilianGroups` arrays; :class:`Civilian` is the Mesa agent that shows one row.

Stages of a group's free members: QUIET, SYMPATHISER (Epstein's "active": G - R P > T) and
RECRUIT (sympathisers drawn in by a militant cell nearby; cells recruit members from them).
Every person of a group is in exactly one compartment: free, in a militant cell, detained,
imprisoned or dead. Events move people between compartments and the group's size never changes,
so people are conserved.

The day of the civilians (:func:`civilians_decide`): release detainees, let backlash decay, and
apply Epstein's rule to every group in one compiled pass (:func:`civilian_day`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numba import njit

from sim.agents.core import estimated_arrest_level, grievance
from sim.faces import Column, PlacedFace
from sim.geography import WESTERN_REGIONS, total_near

if TYPE_CHECKING:
    from sim.geography import RegionalLayout
    from sim.world import World

QUIET, SYMPATHISER, RECRUIT = 0, 1, 2
STAGE_NAMES = ("quiet", "sympathiser", "recruit")


@dataclass(eq=False)
class CivilianGroups:
    """State of every civilian group, one array element per group.

    Attributes:
        size: people per group.
        cell: home grid-cell index; groups are ordered by it.
        starts: the groups of grid cell c are ``starts[c]:starts[c + 1]``.
        region: region index.
        hardship: H in [0, 1].
        legitimacy: L each group grants the state before levers act (lower in the west).
        risk_aversion: R in [0, 1].
        religiosity: exposure to the religion law, in [0, 1].
        inform_propensity: readiness to pass tips to police, in [0, 1].
        stage: QUIET, SYMPATHISER or RECRUIT.
        free: people alive, at liberty and not in a militant cell.
        in_cells: members now in militant cells.
        detained: people held after a sweep.
        imprisoned: people convicted (members arrested in raids or sweeps).
        dead: people killed.
        backlash: hardship added by detentions of the group's uninvolved members (decays).
        changed_cells: per grid cell, whether its groups changed since the daily pass last
            visited it (``move`` marks them; the pass clears them).
    """

    size: int
    cell: np.ndarray
    starts: np.ndarray
    region: np.ndarray
    hardship: np.ndarray
    legitimacy: np.ndarray
    risk_aversion: np.ndarray
    religiosity: np.ndarray
    inform_propensity: np.ndarray
    stage: np.ndarray
    free: np.ndarray
    in_cells: np.ndarray
    detained: np.ndarray
    imprisoned: np.ndarray
    dead: np.ndarray
    backlash: np.ndarray
    changed_cells: np.ndarray
    totals: dict[str, int] = field(default_factory=dict)
    moved_today: bool = False

    def __len__(self) -> int:
        return len(self.cell)

    def move(self, groups: np.ndarray | list[int], source: str, target: str) -> None:
        """Move one person per entry of ``groups`` (repeats allowed) between compartments.

        This and the daily kernel (which releases detainees) are the only places people change
        compartment, so the national totals of the event-driven compartments are kept here.
        """
        if len(groups) == 0:
            return
        np.subtract.at(getattr(self, source), groups, 1)
        np.add.at(getattr(self, target), groups, 1)
        self.changed_cells[self.cell[groups]] = True
        self.totals[source] = self.totals.get(source, 0) - len(groups)
        self.totals[target] = self.totals.get(target, 0) + len(groups)
        self.moved_today = True

    def in_grid_cell(self, cell: int) -> np.ndarray:
        """The groups whose home is grid cell ``cell``."""
        return np.arange(self.starts[cell], self.starts[cell + 1])

    def people_by_stage(self) -> np.ndarray:
        """Free people in each stage (QUIET, SYMPATHISER, RECRUIT), then detained people."""
        return _count_people(self.stage, self.free, self.detained)


@njit(cache=True)
def _count_people(stage: np.ndarray, free: np.ndarray, detained: np.ndarray) -> np.ndarray:
    counts = np.zeros(4, dtype=np.int64)
    for i in range(len(stage)):
        counts[stage[i]] += free[i]
        counts[3] += detained[i]
    return counts


def create_groups(
    layout: RegionalLayout, people_per_agent: int, parameters, rng: np.random.Generator
) -> CivilianGroups:
    """Place civilian groups by population and draw their attributes.

    Each region gets ``max(1, round(population / people_per_agent))`` groups, placed in its
    grid cells in proportion to their population.
    """
    per_region = np.maximum(1, np.rint(layout.region_population / people_per_agent)).astype(np.int64)
    # Groups are ordered by home cell so the daily kernel accumulates per-cell totals in order.
    cell = np.sort(layout.place_by_population(rng, per_region)).astype(np.int32)
    n = len(cell)
    region = layout.cell_region[cell].astype(np.int64)
    west = np.isin(np.asarray(layout.regions)[region], WESTERN_REGIONS)
    hardship = np.clip(rng.random(n) + parameters.hardship_shift_west * west, 0.0, 1.0)
    legitimacy = np.clip(parameters.legitimacy - parameters.legitimacy_gap_west * west, 0.0, 1.0)
    mean, concentration = parameters.religiosity_mean, parameters.religiosity_concentration
    religiosity = rng.beta(max(mean * concentration, 1e-3), max((1 - mean) * concentration, 1e-3), size=n)
    inform = np.clip(rng.random(n) * 2 * parameters.inform_propensity_mean, 0.0, 1.0)
    zeros = np.zeros(n, dtype=np.int32)
    return CivilianGroups(
        size=people_per_agent,
        cell=cell,
        starts=np.searchsorted(cell, np.arange(layout.n_cells + 1)).astype(np.int64),
        region=region,
        hardship=hardship,
        legitimacy=legitimacy,
        risk_aversion=rng.random(n),
        religiosity=religiosity,
        inform_propensity=inform,
        stage=np.zeros(n, dtype=np.int8),
        free=np.full(n, people_per_agent, dtype=np.int32),
        in_cells=zeros.copy(),
        detained=zeros.copy(),
        imprisoned=zeros.copy(),
        dead=zeros.copy(),
        backlash=np.zeros(n),
        changed_cells=np.ones(layout.n_cells, dtype=bool),
    )


def draw_people(rng: np.random.Generator, candidates: np.ndarray, free: np.ndarray, count: int) -> np.ndarray:
    """``count`` people drawn without replacement from the free people of ``candidates``.

    Returns one group index per person drawn (fewer when fewer people are free), so no group
    ever gives more people than it has.
    """
    available = free[candidates].astype(np.int64)
    count = min(int(count), int(available.sum()))
    if count <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.repeat(candidates, rng.multivariate_hypergeometric(available, count))


class CivilianRates(NamedTuple):
    """The constants of the civilians' daily rule."""

    threshold: float
    radicalisation_rate: float
    release_probability: float
    backlash_decay: float
    officers_per_cop: float
    sympathisers_per_active: float
    arrest_constant: float


def civilian_rates(p) -> CivilianRates:
    """The daily rule's constants from the parameters (§7.2-7.5, 7.16-7.17 of docs/ODD.md)."""
    return CivilianRates(
        threshold=float(p.activation_threshold),
        radicalisation_rate=float(p.radicalisation_rate),
        release_probability=1.0 / p.detention_days,
        backlash_decay=float(np.exp(-1.0 / p.backlash_decay_days)),
        officers_per_cop=float(p.police_per_agent_equivalent),
        sympathisers_per_active=float(p.sympathiser_per_agent_equivalent),
        arrest_constant=float(p.arrest_constant),
    )


@njit(cache=True)
def civilian_day(
    seed: int,
    starts: np.ndarray,
    changed: np.ndarray,
    skip_unchanged: bool,
    hardship: np.ndarray,
    legitimacy: np.ndarray,
    risk_aversion: np.ndarray,
    stage: np.ndarray,
    free: np.ndarray,
    detained: np.ndarray,
    backlash: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    officers_near: np.ndarray,
    militants_near: np.ndarray,
    rates: np.ndarray,
    sympathisers_near: np.ndarray,
    arrest_level_by_cell: np.ndarray,
    arrest_prob_by_cell: np.ndarray,
    sympathisers_by_cell: np.ndarray,
    recruits_by_cell: np.ndarray,
    totals: np.ndarray,
) -> None:
    """One day of every civilian group, grid cell by grid cell (synchronous update).

    Detainees are released with ``release_probability`` each a day and backlash decays by
    ``backlash_decay``. Epstein's rule then sets QUIET/SYMPATHISER from G - R P > T with
    G = H (1 - L), H being today's ``hardship`` (levers included) plus backlash and L today's
    ``legitimacy`` of each group. A sympathising group whose grid cell has a militant cell within
    vision (``militants_near`` > 0) becomes RECRUIT with probability ``radicalisation_rate`` a
    day and stays so while the rule holds; when it no longer holds the group falls back to QUIET.

    The arrest probability of each grid cell (written to ``arrest_prob_by_cell``, with the rounded
    ratio it depends on in ``arrest_level_by_cell``) comes from ``officers_near`` and yesterday's
    sympathisers within vision (``sympathisers_near``, which the pass then replaces with today's),
    so every decision uses the state at the start of the day.

    With ``skip_unchanged``, a grid cell is passed over when the rule cannot decide anything new
    in it: its arrest level round(C / A) is yesterday's, ``changed`` is false (no event or lever
    touched its groups since the last visit), no militant cell is within vision (no
    radicalisation draw), and none of its groups has detainees or backlash (``changed`` stays true
    for such grid cells). Its groups' stages and its per-cell sums are then yesterday's, which is
    what the rule would give, and no random draw is skipped; so the results are identical to
    visiting every grid cell (tested).

    Writes, per grid cell, the free people who sympathise (recruits included) and who are recruits.
    ``totals`` gets free sympathisers (recruits excluded), free recruits, detained people and
    groups carrying backlash. ``rates`` is :class:`CivilianRates` as a record (``as_record``).
    """
    r = rates[0]
    # Seeding numba's generator from the model's stream each day keeps every draw a function of
    # (scenario, seed) in any process, without the cost of passing a Generator into numba. The
    # day's later kernels (militants, police) continue this stream.
    np.random.seed(seed)
    held = aggrieved = 0
    sums_changed = False
    for home in range(len(starts) - 1):
        level = estimated_arrest_level(officers_near[home], sympathisers_near[home], r.officers_per_cop,
                                       r.sympathisers_per_active)
        nearby = militants_near[home] > 0.0
        if skip_unchanged and not changed[home] and not nearby and level == arrest_level_by_cell[home]:
            continue
        p_arrest = 1.0 - np.exp(-r.arrest_constant * level)
        arrest_level_by_cell[home] = level
        arrest_prob_by_cell[home] = p_arrest
        cell_open = cell_recruits = 0
        volatile = False
        for i in range(starts[home], starts[home + 1]):
            if detained[i] > 0:
                released = np.random.binomial(detained[i], r.release_probability)
                detained[i] -= released
                free[i] += released
                held += detained[i]
                volatile = True
            h = hardship[i]
            if backlash[i] > 0.0:
                backlash[i] *= r.backlash_decay
                if backlash[i] < 1e-4:
                    backlash[i] = 0.0
                h += backlash[i]
                aggrieved += 1
                volatile = True
            if grievance(min(h, 1.0), legitimacy[i]) - risk_aversion[i] * p_arrest <= r.threshold:
                if stage[i] != QUIET:
                    stage[i] = QUIET
                continue
            if stage[i] == QUIET:
                stage[i] = SYMPATHISER
            if stage[i] == SYMPATHISER and nearby and np.random.random() < r.radicalisation_rate:
                stage[i] = RECRUIT
            cell_open += free[i]
            if stage[i] == RECRUIT:
                cell_recruits += free[i]
        sums_changed |= sympathisers_by_cell[home] != cell_open
        sympathisers_by_cell[home] = cell_open
        recruits_by_cell[home] = cell_recruits
        changed[home] = volatile
    open_ = recruits = 0.0
    for c in range(len(starts) - 1):
        open_ += sympathisers_by_cell[c] - recruits_by_cell[c]
        recruits += recruits_by_cell[c]
    if sums_changed or not skip_unchanged:
        for c in range(len(indptr) - 1):
            sympathisers_near[c] = total_near(indptr, indices, sympathisers_by_cell, c)
    totals[0] = open_
    totals[1] = recruits
    totals[2] = held
    totals[3] = aggrieved


# --- the civilians' day ----------------------------------------------------------------------

def _total(contributions: dict[str, np.ndarray]) -> np.ndarray | float:
    if len(contributions) == 1:  # the usual case: no addition, no new array
        return next(iter(contributions.values()))
    return sum(contributions.values(), 0.0)


def perceive(world: World) -> None:
    """Today's hardship and legitimacy of every group, from the pressures levers put on them (§7.1).

    Also each region's mean grievance G = H (1 - L) under today's pressures (backlash aside), which
    militant cells watch for sudden rises (the trigger of §7.10).
    """
    groups = world.civilians
    world.hardship_today = groups.hardship + _total(world.hardship_pressure)
    legitimacy = groups.legitimacy + _total(world.legitimacy_gain) - _total(world.legitimacy_loss)
    world.legitimacy_today = np.clip(legitimacy, 0.0, 1.0)
    groups.changed_cells[:] = True
    world.pressures_changed = False
    grievance_sum = np.bincount(groups.region, weights=np.minimum(world.hardship_today, 1.0) *
                                (1.0 - world.legitimacy_today), minlength=len(world.layout.regions))
    world.grievance_by_region = grievance_sum / np.maximum(world.groups_by_region, 1)


def civilians_decide(world: World, rates: np.ndarray, skip_unchanged: bool = True) -> None:
    """The civilians' day: Epstein's rule for every group (§7.2-7.6).

    Militant cells within vision are recounted first if cells formed or dissolved since yesterday.
    ``rates`` is :func:`civilian_rates` as a record (``sim.agents.core.as_record``).
    """
    groups, neighbourhood = world.civilians, world.neighbourhood
    living = world.militants.living
    if living is not world.militants_seen:
        world.militants_seen = living
        homes = np.bincount(world.militants.home[living], minlength=world.n_cells).astype(np.float64)
        world.militants_near = neighbourhood.sum(homes)
    civilian_day(
        int(world.streams.civilians.integers(2**31)),
        groups.starts,
        groups.changed_cells,
        skip_unchanged,
        world.hardship_today,
        world.legitimacy_today,
        groups.risk_aversion,
        groups.stage,
        groups.free,
        groups.detained,
        groups.backlash,
        neighbourhood.indptr,
        neighbourhood.indices,
        world.officers_near,
        world.militants_near,
        rates,
        world.sympathisers_near,
        world.arrest_level,
        world.arrest_probability,
        world.sympathisers_by_cell,
        world.recruits_by_cell,
        world.civilian_totals,
    )


class Civilian(PlacedFace):
    """A civilian group, seen as a Mesa agent: a view onto one row of :class:`CivilianGroups`."""

    table = "civilians"
    hardship = Column("hardship", float, "Hardship H.")
    risk_aversion = Column("risk_aversion", float, "Risk aversion R.")
    religiosity = Column("religiosity", float, "Exposure to the religion law.")
    inform_propensity = Column("inform_propensity", float, "Readiness to inform police.")
    stage = Column("stage", lambda v: STAGE_NAMES[int(v)], "``quiet``, ``sympathiser`` or ``recruit``.")

    @property
    def grievance(self) -> float:
        """Today's grievance G = H (1 - L), with the levers' and backlash's effects."""
        world, i = self.model.world, self.index
        hardship = min(world.hardship_today[i] + world.civilians.backlash[i], 1.0)
        return float(grievance(hardship, world.legitimacy_today[i]))

    @property
    def arrest_probability(self) -> float:
        """Today's estimated arrest probability P in the group's grid cell (Epstein)."""
        world = self.model.world
        return float(world.arrest_probability[world.civilians.cell[self.index]])

    @property
    def people(self) -> dict[str, int]:
        """Where the group's people are: free, in militant cells, detained, imprisoned, dead."""
        groups = self.rows
        return {name: int(getattr(groups, name)[self.index])
                for name in ("free", "in_cells", "detained", "imprisoned", "dead")}
