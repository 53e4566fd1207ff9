"""Militant cells: small groups that recruit, build capability, attack, split and dissolve.

Cells are few (tens at most), so their state lives in small arrays of a growing capacity and
each living cell has a :class:`MilitantCell` Mesa agent, created when it forms and removed
when it dissolves. The daily draws for all cells run in one compiled pass (:func:`cells_day`);
only the rare events it returns (formation, recruitment, attack, split) run Python code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit

from sim.agents.face import ArrayFace, Column

ATTACK_KINDS = ("armed_attack", "bombing", "suicide_bombing")


@dataclass(eq=False)
class MilitantCells:
    """State of every cell that ever existed (index = cell id).

    Attributes:
        alive: whether the cell still exists.
        home: home grid-cell index.
        region: region index of the home cell.
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

    def __len__(self) -> int:
        return len(self.alive)

    _living: np.ndarray | None = None

    @property
    def living(self) -> np.ndarray:
        """Ids of the cells that exist."""
        if self._living is None:
            self._living = np.flatnonzero(self.alive)
        return self._living

    def dissolve(self, cell: int) -> None:
        """Mark a cell as gone."""
        self.alive[cell] = False
        self._living = None

    def add(self, home: int, region: int, groups: list[int], day: int) -> int:
        """Register a new cell whose members come from ``groups``; returns its id."""
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

    def remove_members(self, cell: int, count: int, rng: np.random.Generator) -> list[int]:
        """Take ``count`` random members out of a cell; returns their civilian groups."""
        pool = self.member_groups[cell]
        count = min(count, len(pool))
        if count <= 0:
            return []
        chosen = sorted(rng.choice(len(pool), size=count, replace=False).tolist(), reverse=True)
        # The leader is the first member; a cell that loses it stays leaderless.
        if self.leader[cell] and chosen[-1] == 0:
            self.leader[cell] = False
        removed = [pool.pop(i) for i in chosen]
        self.members[cell] = len(pool)
        return removed


@njit(cache=True)
def cells_day(
    living: np.ndarray,
    home: np.ndarray,
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
    excitation: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The day's draws for militant cells: formations, recruitment, capability and attacks.

    ``rates`` holds, in order: cell formation rate, recruitment rate, people per civilian group,
    resource gain, leaderless resource factor, attack rate, deterrence, attack cost.
    Capability grows in place with the members at the start of the day.

    Returns:
        The home grid cells of the cells to found today, the recruits each living cell is to
        draw, and whether each living cell attacks. Drawn from numba's generator, seeded for
        the day by ``civilian_day``.
    """
    formation_rate, recruitment_rate, group_size, resource_gain = rates[0], rates[1], rates[2], rates[3]
    leaderless_factor, attack_rate, deterrence, attack_cost = rates[4], rates[5], rates[6], rates[7]
    total = sympathisers_by_cell.sum()
    founded = np.random.poisson(formation_rate * total) if total > 0 else 0
    new_homes = np.zeros(founded, dtype=np.int64)
    if founded > 0:
        new_homes[:] = np.searchsorted(np.cumsum(sympathisers_by_cell), np.random.random(founded) * total, side="right")
    recruit_counts = np.zeros(len(living), dtype=np.int64)
    attacks = np.zeros(len(living), dtype=np.bool_)
    for k in range(len(living)):
        cell = living[k]
        c = home[cell]
        recruits_near = 0.0
        for j in range(indptr[c], indptr[c + 1]):
            recruits_near += recruits_by_cell[indices[j]]
        recruit_counts[k] = np.random.poisson(recruitment_rate * min(1.0, recruits_near / group_size))
        gain = 1.0 if leader[cell] else leaderless_factor
        capability[cell] += resource_gain * gain * members[cell]
        police_per_1000 = officers_near[c] / people_near[c] * 1000.0
        hazard = attack_rate * excitation * np.exp(-deterrence * police_per_1000)
        draw = np.random.random()
        attacks[k] = capability[cell] >= attack_cost and members[cell] > 0 and draw < hazard
    return new_homes, recruit_counts, attacks


@dataclass(frozen=True)
class AttackOutcome:
    """What one attack did."""

    kind: str
    deaths_security: int
    deaths_civilian: int
    deaths_militant: int
    injured: int


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


class MilitantCell(ArrayFace):
    """A militant cell, seen as a Mesa agent: a view onto one row of :class:`MilitantCells`."""

    table, cell_array = "militants", "home"
    members = Column("militants", "members", int, "Members at liberty.")
    leader = Column("militants", "leader", bool, "Whether the founding leader is alive and free.")
    capability = Column("militants", "capability", float, "Resources for attacks, in attack-cost units.")
    intel = Column("militants", "intel", float, "What the police know (1 = enough for a raid at the default policy).")

    @property
    def detected(self) -> bool:
        """Whether police intelligence has reached the raid threshold."""
        return self.intel >= self.model.spec.levers.raids.intel_threshold
