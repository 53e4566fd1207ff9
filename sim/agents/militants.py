"""Militant cells: small groups that form, recruit, build capability, attack, split and dissolve.

Cells are few (tens at most), so their state lives in small arrays of a growing capacity; each
living cell is shown by a :class:`MilitantCell` Mesa agent. The day's draws for all cells run in
one compiled pass (:func:`militant_cells_day`); only the rare events it returns (formation, recruitment,
attack, split) run Python code, in :func:`militants_act`, which returns the day's attacks for
the police to respond to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numba import njit

from sim.agents.civilians import QUIET, RECRUIT, draw_people
from sim.agents.police import PATROL, lose_officers
from sim.faces import Column, PlacedFace
from sim.geography import total_near
from sim.record import log_incident

if TYPE_CHECKING:
    from sim.world import World

ATTACK_KINDS = ("armed_attack", "bombing", "suicide_bombing")


@dataclass(eq=False)
class MilitantCells:
    """State of every militant cell that ever existed (index = militant-cell id).

    Attributes:
        alive: whether the cell still exists.
        home: home grid-cell index.
        region: region index of the home grid cell.
        members: members at liberty.
        leader: whether the founding leader (the first member) is alive and free; a leaderless
            cell gains resources more slowly (``leaderless_resource_factor``).
        capability: weapons, money and skills, in attack-cost units.
        intel: police intelligence on the cell (a raid needs the policy's threshold).
        founded: day the cell formed.
        member_groups: civilian group each member came from (to return people when they die
            or are arrested).
    """

    alive: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    home: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    region: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    members: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    leader: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    capability: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float64))
    intel: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float64))
    founded: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    member_groups: list[list[int]] = field(default_factory=list)
    _living: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.alive)

    @property
    def living(self) -> np.ndarray:
        """Ids of the militant cells that exist."""
        if self._living is None:
            self._living = np.flatnonzero(self.alive)
        return self._living

    def add(self, home: int, region: int, groups: list[int], day: int) -> int:
        """Register a new militant cell whose members come from ``groups``; returns its id."""
        for name, value in (
            ("alive", True),
            ("home", home),
            ("region", region),
            ("members", len(groups)),
            ("leader", True),
            ("capability", 0.0),
            ("intel", 0.0),
            ("founded", day),
        ):
            setattr(self, name, np.append(getattr(self, name), value))
        self.member_groups.append(list(groups))
        self._living = None
        return len(self.alive) - 1

    def remove_members(self, militant: int, count: int, rng: np.random.Generator) -> list[int]:
        """Take ``count`` random members out of militant cell ``militant``; returns their civilian groups."""
        pool = self.member_groups[militant]
        count = min(count, len(pool))
        if count <= 0:
            return []
        chosen = sorted(rng.choice(len(pool), size=count, replace=False).tolist(), reverse=True)
        # The leader is the first member; a cell that loses it stays leaderless.
        if self.leader[militant] and chosen[-1] == 0:
            self.leader[militant] = False
        removed = [pool.pop(i) for i in chosen]
        self.members[militant] = len(pool)
        return removed

    def dissolve_if_empty(self, militant: int) -> None:
        """A militant cell without members is gone."""
        if self.members[militant] == 0 and self.alive[militant]:
            self.alive[militant] = False
            self._living = None


class MilitantRates(NamedTuple):
    """The constants of the militant cells' daily draws."""

    formation_rate: float
    recruitment_rate: float
    people_per_group: float
    resource_gain: float
    leaderless_factor: float
    attack_rate: float
    deterrence: float
    attack_cost: float
    excitation_decay: float
    trigger_strength: float
    trigger_memory_days: float
    contagion_jump_local: float
    contagion_jump_national: float


def militant_rates(p, people_per_agent: int) -> MilitantRates:
    """The daily draws' constants from the parameters (§7.7-7.10 of docs/ODD.md)."""
    return MilitantRates(
        formation_rate=float(p.cell_formation_rate),
        recruitment_rate=float(p.recruitment_rate),
        people_per_group=float(people_per_agent),
        resource_gain=float(p.resource_gain),
        leaderless_factor=float(p.leaderless_resource_factor),
        attack_rate=float(p.attack_rate),
        deterrence=float(p.deterrence),
        attack_cost=float(p.attack_cost),
        excitation_decay=float(np.exp(-1.0 / p.contagion_decay_days)),
        trigger_strength=float(p.trigger_strength),
        trigger_memory_days=float(p.trigger_memory_days),
        contagion_jump_local=float(p.contagion_jump_local),
        contagion_jump_national=float(p.contagion_jump_national),
    )


@njit(cache=True)
def militant_cells_day(
    living: np.ndarray,
    home: np.ndarray,
    region: np.ndarray,
    members: np.ndarray,
    leader: np.ndarray,
    capability: np.ndarray,
    sympathisers_by_cell: np.ndarray,
    recruits_by_cell: np.ndarray,
    officers_near: np.ndarray,
    people_near: np.ndarray,
    indptr: np.ndarray,
    indices: np.ndarray,
    rates: np.ndarray,
    national_excitation: float,
    regional_excitation: np.ndarray,
    shock_by_region: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The day's draws for militant cells: formations, recruitment, capability and attacks.

    Capability grows in place with the members at the start of the day. A capable cell attacks
    with the daily hazard ``attack_rate`` × contagion × deterrence × trigger (§7.10): contagion is
    max(0, 1 + national + regional excitation), deterrence exp(-deterrence × police per 1000 people
    within vision), trigger 1 + ``trigger_strength`` × the recent rise of its region's mean grievance
    (in units of 0.01, ``shock_by_region``). ``rates`` is :class:`MilitantRates` as a record (``as_record``).

    Returns:
        The home grid cells of the militant cells to found today, the recruits each living cell
        is to draw, and whether each living cell attacks. Drawn from numba's generator, seeded
        for the day by ``civilian_day``.
    """
    r = rates[0]
    total = sympathisers_by_cell.sum()
    founded = np.random.poisson(r.formation_rate * total) if total > 0 else 0
    new_homes = np.zeros(founded, dtype=np.int64)
    if founded > 0:
        new_homes[:] = np.searchsorted(np.cumsum(sympathisers_by_cell), np.random.random(founded) * total, side="right")
    recruit_counts = np.zeros(len(living), dtype=np.int64)
    attacks = np.zeros(len(living), dtype=np.bool_)
    for k in range(len(living)):
        militant = living[k]
        grid_cell = home[militant]
        recruits_near = total_near(indptr, indices, recruits_by_cell, grid_cell)
        recruit_counts[k] = np.random.poisson(r.recruitment_rate * min(1.0, recruits_near / r.people_per_group))
        gain = 1.0 if leader[militant] else r.leaderless_factor
        capability[militant] += r.resource_gain * gain * members[militant]
        police_per_1000 = officers_near[grid_cell] / people_near[grid_cell] * 1000.0
        contagion = max(0.0, 1.0 + national_excitation + regional_excitation[region[militant]])
        trigger = 1.0 + r.trigger_strength * shock_by_region[region[militant]]
        hazard = r.attack_rate * contagion * trigger * np.exp(-r.deterrence * police_per_1000)
        draw = np.random.random()
        attacks[k] = capability[militant] >= r.attack_cost and members[militant] > 0 and draw < hazard
    return new_homes, recruit_counts, attacks


@dataclass(frozen=True)
class AttackOutcome:
    """What one attack did."""

    kind: str
    deaths_security: int
    deaths_civilian: int
    deaths_militant: int
    injured: int


@dataclass(frozen=True)
class Attack:
    """An attack of today, as the police learn of it: which militant cell, from which region."""

    militant: int
    region: int


def severity(rng: np.random.Generator, alpha: float, maximum: int) -> int:
    """Deaths in a lethal attack: a discrete power law P(k) ~ k^-alpha, k >= 1, capped."""
    draw = (1.0 - rng.random()) ** (-1.0 / (alpha - 1.0))
    return int(min(np.floor(draw), maximum))


def plan_attack(rng: np.random.Generator, parameters, members: int) -> AttackOutcome:
    """Choose an attack's kind and draw its casualties by category.

    Suicide bombers always die; armed attackers die with ``attacker_death_share``. Victims of
    lethal attacks follow the heavy-tailed severity law and are security personnel with
    ``police_target_share``, civilians otherwise.
    """
    u = rng.random()
    if u < parameters.suicide_share:
        kind = "suicide_bombing"
    elif u < parameters.suicide_share + (1 - parameters.suicide_share) * parameters.bombing_share:
        kind = "bombing"
    else:
        kind = "armed_attack"
    victims = 0
    if rng.random() < parameters.lethal_attack_share:
        victims = severity(rng, parameters.severity_alpha, parameters.severity_max)
    security = int(rng.binomial(victims, parameters.police_target_share))
    attackers = 1 if kind == "suicide_bombing" else int(rng.random() < parameters.attacker_death_share)
    injured = int(rng.poisson(parameters.injuries_per_death * (victims + attackers) + 0.5))
    return AttackOutcome(kind, security, victims - security, min(attackers, members), injured)


# --- the militants' day ----------------------------------------------------------------------

def militants_act(world: World, rates: MilitantRates, record: np.ndarray) -> list[Attack]:
    """The militants' day: draws, then formations, recruitment, attacks and splits (§7.7-7.12).

    Args:
        world: the run's state.
        rates: the militant cells' constants; ``record`` is the same as a record for the kernel.

    Returns:
        Today's attacks, in the order they happened.
    """
    militants, neighbourhood = world.militants, world.neighbourhood
    living = militants.living
    shock = grievance_shock(world, rates)
    new_homes, recruit_counts, attacks = militant_cells_day(
        living,
        militants.home,
        militants.region,
        militants.members,
        militants.leader,
        militants.capability,
        world.sympathisers_by_cell,
        world.recruits_by_cell,
        world.officers_near,
        world.people_near,
        neighbourhood.indptr,
        neighbourhood.indices,
        record,
        world.national_excitation,
        world.regional_excitation,
        shock,
    )
    for home in new_homes.tolist():
        found_militant_cell(world, home)
    for k in np.flatnonzero(recruit_counts).tolist():
        recruit(world, int(living[k]), int(recruit_counts[k]))
    today = [attack(world, militant) for militant in living[attacks].tolist() if militants.alive[militant]]
    if len(militants.living):
        for militant in militants.living[militants.members[militants.living] > world.params.split_size].tolist():
            split(world, militant)
    # Today's hazards were drawn before any attack, so today's jumps act from tomorrow, after one decay.
    world.national_excitation *= rates.excitation_decay
    world.regional_excitation *= rates.excitation_decay
    return today


def grievance_shock(world: World, rates: MilitantRates) -> np.ndarray:
    """Per region, how far mean grievance has risen above its running mean, in units of 0.01 (§7.10).

    The running mean follows grievance with time scale ``trigger_memory_days``, so a sudden rise (a
    law coming into force) counts for weeks, a lasting level not at all.
    """
    current = world.grievance_by_region
    if world.grievance_memory is None:
        world.grievance_memory = current.copy()
    shock = np.maximum(current - world.grievance_memory, 0.0) / 0.01
    world.grievance_memory = world.grievance_memory + (current - world.grievance_memory) / rates.trigger_memory_days
    return shock


def found_militant_cell(world: World, home: int) -> None:
    """A new militant cell of ``initial_members`` forms from the sympathisers of grid cell ``home``."""
    groups = world.civilians
    here = groups.in_grid_cell(home)
    candidates = here[(groups.stage[here] != QUIET) & (groups.free[here] > 0)]
    if len(candidates) == 0:
        return
    members = draw_people(world.streams.militants, candidates, groups.free, world.params.initial_members).tolist()
    groups.move(members, "free", "in_cells")
    groups.stage[members] = RECRUIT
    world.militants.add(home, int(world.layout.cell_region[home]), members, world.day)


def recruit(world: World, militant: int, count: int) -> None:
    """Militant cell ``militant`` draws up to ``count`` members from the recruits within vision of its home."""
    groups = world.civilians
    near = world.neighbourhood.of(int(world.militants.home[militant]))
    candidates = np.concatenate([groups.in_grid_cell(c) for c in near])
    candidates = candidates[(groups.stage[candidates] == RECRUIT) & (groups.free[candidates] > 0)]
    if len(candidates) == 0:
        return
    joined = draw_people(world.streams.militants, candidates, groups.free, count).tolist()
    groups.move(joined, "free", "in_cells")
    world.militants.member_groups[militant].extend(joined)
    world.militants.members[militant] += len(joined)


def split(world: World, militant: int) -> None:
    """Half the members leave to found a leaderless militant cell nearby, taking half the capability."""
    militants, rng = world.militants, world.streams.militants
    leaving = militants.remove_members(militant, int(militants.members[militant]) // 2, rng)
    new_home = int(rng.choice(world.neighbourhood.of(int(militants.home[militant]))))
    index = militants.add(new_home, int(world.layout.cell_region[new_home]), leaving, world.day)
    militants.leader[index] = False
    militants.capability[index] = militants.capability[militant] / 2
    militants.capability[militant] /= 2


def attack(world: World, militant: int) -> Attack:
    """Militant cell ``militant`` attacks near its home: casualties, spent capability, intelligence, contagion."""
    militants, p, rng = world.militants, world.params, world.streams.militants
    outcome = plan_attack(rng, p, int(militants.members[militant]))
    home = int(militants.home[militant])
    civilian = _kill_civilians(world, home, outcome.deaths_civilian)
    security = lose_officers(world, home, outcome.deaths_security, PATROL)
    world.civilians.move(militants.remove_members(militant, outcome.deaths_militant, rng), "in_cells", "dead")
    militants.capability[militant] = max(0.0, militants.capability[militant] - p.attack_cost)
    militants.intel[militant] += p.attack_intel
    world.national_excitation += p.contagion_jump_national
    world.regional_excitation[militants.region[militant]] += p.contagion_jump_local
    log_incident(world, home, "militant", outcome.kind, security=security, civilian=civilian,
                 militant=outcome.deaths_militant, injured=outcome.injured)
    world.daily.add("attacks", 1)
    region = int(militants.region[militant])
    militants.dissolve_if_empty(militant)
    return Attack(militant, region)


def _kill_civilians(world: World, home: int, count: int) -> int:
    groups = world.civilians
    here = groups.in_grid_cell(home)
    candidates = here[groups.free[here] > 0]
    if count == 0 or len(candidates) == 0:
        return 0
    victims = draw_people(world.streams.militants, candidates, groups.free, count)
    groups.move(victims, "free", "dead")
    return len(victims)


class MilitantCell(PlacedFace):
    """A militant cell, seen as a Mesa agent: a view onto one row of :class:`MilitantCells`."""

    table, cell_array = "militants", "home"
    members = Column("members", int, "Members at liberty.")
    leader = Column("leader", bool, "Whether the founding leader is alive and free.")
    capability = Column("capability", float, "Resources for attacks, in attack-cost units.")
    intel = Column("intel", float, "What the police know (1 = enough for a raid at the default policy).")

    @property
    def detected(self) -> bool:
        """Whether police intelligence has reached today's raid threshold."""
        return self.intel >= self.model.world.raid_policy.intel_threshold
