"""Civilian groups: Epstein's citizens, extended with religiosity, radicalisation and informing.

One civilian agent stands for ``people_per_agent`` people who share a home cell, hardship,
risk aversion, religiosity and propensity to inform (a super-individual). Their state lives in
:class:`CivilianGroups` arrays; :class:`Civilian` is the Mesa agent that shows one row.

Stages of a group's free members: QUIET, SYMPATHISER (Epstein's "active": G - R P > T) and
RECRUIT (sympathisers drawn in by a militant cell nearby; cells recruit members from them).
Every person of a group is in exactly one compartment: free, in a cell, detained, imprisoned or
dead. Events move people between compartments and the group's size never changes, so people
are conserved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from numba import njit

from sim.agents.core import arrest_level, grievance
from sim.agents.face import ArrayFace, Column

if TYPE_CHECKING:
    from sim.geography import RegionalLayout

QUIET, SYMPATHISER, RECRUIT = 0, 1, 2
STAGE_NAMES = ("quiet", "sympathiser", "recruit")
WEST = ("Aktobe Region", "Atyrau Region", "Mangystau Region", "West Kazakhstan Region")


@dataclass(eq=False)
class CivilianGroups:
    """State of every civilian group, one array element per group.

    Attributes:
        size: people per group.
        cell: home cell index; groups are ordered by it.
        starts: the groups of cell c are ``starts[c]:starts[c + 1]``.
        region: region index.
        hardship: H in [0, 1].
        risk_aversion: R in [0, 1].
        religiosity: exposure to the religion law, in [0, 1].
        inform_propensity: readiness to pass tips to police, in [0, 1].
        stage: QUIET, SYMPATHISER or RECRUIT.
        free: people alive, at liberty and not in a cell.
        in_cells: members now in militant cells.
        detained: people held after a sweep.
        imprisoned: people convicted (cell members arrested in raids or sweeps).
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
    cells in proportion to cell population.
    """
    per_region = np.maximum(1, np.rint(layout.region_population / people_per_agent)).astype(np.int64)
    cells = []
    for index, count in enumerate(per_region):
        mine = np.flatnonzero(layout.cell_region == index)
        weights = layout.cell_population[mine] / layout.cell_population[mine].sum()
        cells.append(rng.choice(mine, size=count, p=weights))
    # Groups are ordered by home cell so the daily kernel accumulates per-cell totals in order.
    cell = np.sort(np.concatenate(cells)).astype(np.int32)
    n = len(cell)
    region = layout.cell_region[cell].astype(np.int64)
    west = np.isin(np.asarray(layout.regions)[region], WEST)
    hardship = np.clip(rng.random(n) + parameters.hardship_shift_west * west, 0.0, 1.0)
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


@njit(cache=True)
def neighbourhood_sum(indptr: np.ndarray, indices: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Sum of ``values`` over each cell's neighbourhood (CSR rows of the neighbourhood matrix)."""
    out = np.zeros(len(indptr) - 1)
    for cell in range(len(indptr) - 1):
        total = 0.0
        for k in range(indptr[cell], indptr[cell + 1]):
            total += values[indices[k]]
        out[cell] = total
    return out


@njit(cache=True)
def estimated_arrest_level(
    police_in_vision: float,
    sympathisers_in_vision: float,
    police_per_cop: float,
    sympathisers_per_active: float,
) -> float:
    """Epstein's round(C / A) in a cell, with officers and sympathisers converted to 'cops' and 'actives'.

    As in Epstein's model the deciding agent counts itself among the actives (the ``1 +``).
    """
    cops = police_in_vision / police_per_cop
    actives = 1.0 + sympathisers_in_vision / sympathisers_per_active
    return arrest_level(cops, actives)


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
    """One day of every civilian group, cell by cell (synchronous update).

    Detainees are released with ``release_probability`` each a day and backlash decays by
    ``backlash_decay``. Epstein's rule then sets QUIET/SYMPATHISER from G - R P > T with
    G = H (1 - L), H being today's ``hardship`` (levers included) plus backlash and L today's
    ``legitimacy`` of each group. A sympathising group whose cell has a militant cell within
    vision (``militants_near`` > 0) becomes RECRUIT with probability ``radicalisation_rate`` a
    day and stays so while the rule holds; when it no longer holds the group falls back to QUIET.

    The arrest probability of each cell (written to ``arrest_prob_by_cell``, with the rounded
    ratio it depends on in ``arrest_level_by_cell``) comes from ``officers_near`` and yesterday's
    sympathisers within vision (``sympathisers_near``, which the pass then replaces with
    today's), so every decision uses the state at the start of the day. ``rates`` holds, in order: threshold T, radicalisation rate, release probability,
    backlash decay, officers per 'cop', sympathisers per 'active', arrest constant k.

    With ``skip_unchanged``, a cell is passed over when the rule cannot decide anything new in
    it: its arrest level round(C / A) is yesterday's (on most days no cell's changes), ``changed`` is false (no event or lever touched its groups
    since the last visit), no militant cell is within vision (no radicalisation draw), and none
    of its groups has detainees or backlash (``changed`` stays true for such cells). Its groups'
    stages and its per-cell sums are then yesterday's, which is what the rule would give, and no
    random draw is skipped; so the results are identical to visiting every cell (tested).

    Writes, per cell, the free people who sympathise (recruits included) and who are recruits.
    ``totals`` gets free sympathisers (recruits excluded), free recruits, detained people and
    groups carrying backlash.
    """
    threshold, radicalisation_rate, release_probability, backlash_decay = rates[0], rates[1], rates[2], rates[3]
    # Seeding numba's generator from the model's stream each day keeps every draw a function of
    # (scenario, seed) in any process, without the cost of passing a Generator into numba. The
    # day's later kernels (cells, police) continue this stream.
    np.random.seed(seed)
    held = aggrieved = 0
    sums_changed = False
    for home in range(len(starts) - 1):
        level = estimated_arrest_level(officers_near[home], sympathisers_near[home], rates[4], rates[5])
        nearby = militants_near[home] > 0.0
        if skip_unchanged and not changed[home] and not nearby and level == arrest_level_by_cell[home]:
            continue
        p_arrest = 1.0 - np.exp(-rates[6] * level)
        arrest_level_by_cell[home] = level
        arrest_prob_by_cell[home] = p_arrest
        cell_open = cell_recruits = 0
        volatile = False
        for i in range(starts[home], starts[home + 1]):
            if detained[i] > 0:
                released = np.random.binomial(detained[i], release_probability)
                detained[i] -= released
                free[i] += released
                held += detained[i]
                volatile = True
            h = hardship[i]
            if backlash[i] > 0.0:
                backlash[i] *= backlash_decay
                if backlash[i] < 1e-4:
                    backlash[i] = 0.0
                h += backlash[i]
                aggrieved += 1
                volatile = True
            if grievance(min(h, 1.0), legitimacy[i]) - risk_aversion[i] * p_arrest <= threshold:
                if stage[i] != QUIET:
                    stage[i] = QUIET
                continue
            if stage[i] == QUIET:
                stage[i] = SYMPATHISER
            if stage[i] == SYMPATHISER and nearby and np.random.random() < radicalisation_rate:
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
            total = 0.0
            for k in range(indptr[c], indptr[c + 1]):
                total += sympathisers_by_cell[indices[k]]
            sympathisers_near[c] = total
    totals[0] = open_
    totals[1] = recruits
    totals[2] = held
    totals[3] = aggrieved


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


class Civilian(ArrayFace):
    """A civilian group, seen as a Mesa agent: a view onto one row of :class:`CivilianGroups`."""

    table = "civilians"
    hardship = Column("civilians", "hardship", float, "Hardship H.")
    risk_aversion = Column("civilians", "risk_aversion", float, "Risk aversion R.")
    religiosity = Column("civilians", "religiosity", float, "Exposure to the religion law.")
    inform_propensity = Column("civilians", "inform_propensity", float, "Readiness to inform police.")
    stage = Column("civilians", "stage", lambda v: STAGE_NAMES[int(v)], "``quiet``, ``sympathiser`` or ``recruit``.")

    @property
    def grievance(self) -> float:
        """Today's grievance G = H (1 - L), with the levers' and backlash's effects."""
        model, i = self.model, self.index
        hardship = min(model.hardship_today[i] + model.civilians.backlash[i], 1.0)
        return float(grievance(hardship, model.legitimacy_today[i]))

    @property
    def arrest_probability(self) -> float:
        """Today's estimated arrest probability P in the group's cell (Epstein)."""
        return float(self.model.arrest_probability[self.model.civilians.cell[self.index]])

    @property
    def people(self) -> dict[str, int]:
        """Where the group's people are: free, in cells, detained, imprisoned, dead."""
        groups = self.model.civilians
        return {name: int(getattr(groups, name)[self.index]) for name in ("free", "in_cells", "detained", "imprisoned", "dead")}
