"""The national model: civilians, militant cells and police on Kazakhstan's regional grid.

One step is one day. The agents are Mesa agents (``model.agents_by_type``), but their state
lives in arrays and each day's rules run as array kernels over all agents at once; Python code
runs only for rare events (a cell forms, attacks, splits, is raided; a sweep).

Order of a day: levers → civilians decide (Epstein's rule) → cells form, recruit, build
capability and attack → police gather intelligence, arrest, raid, sweep → detainees released,
backlash and contagion decay → the day is recorded.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import mesa
import numpy as np
import pandas as pd

from sim.agents.civilian import (
    QUIET,
    RECRUIT,
    Civilian,
    civilian_day,
    create_groups,
    draw_people,
    neighbourhood_sum,
)
from sim.agents.militant_cell import MilitantCell, MilitantCells, plan_attack
from sim.agents.police_unit import PATROL, PoliceUnit, create_units, nearest_unit
from sim.events import EVENT_COLUMNS, normalise_events
from sim.geography import RegionalGrid, build_layout
from sim.levers import informants, patrols, raids, religion_law, sweeps
from sim.levers import is_active, region_mask
from sim.scenario import Scenario

DAILY_COLUMNS = (
    "quiet",
    "sympathisers",
    "recruits",
    "in_cells",
    "detained",
    "imprisoned",
    "dead",
    "cells",
    "members",
    "attacks",
    "raids",
    "sweeps",
    "arrest_operations",
    "arrested",
    "detained_uninvolved",
    "deaths_security",
    "deaths_civilian",
    "deaths_militant",
    "deaths_unknown",
    "police_officers",
    "backlash_people",
    "law_intensity",
)


class KazakhstanModel(mesa.Model):
    """Militancy and counter-terrorism policing in Kazakhstan, one step per day.

    Attributes:
        spec: the validated scenario (Mesa reserves ``scenario`` for its own Scenario class).
        layout: the regional layout (arrays shared by models at the same resolution).
        grid: the Mesa grid of in-country cells.
        civilians: civilian group state; faces are ``Civilian`` agents.
        militants: militant cell state; faces are ``MilitantCell`` agents.
        police: police unit state; faces are ``PoliceUnit`` agents.
        hardship_today: each group's hardship with today's lever effects (backlash aside).
        legitimacy_today: the legitimacy each group grants the state today.
        arrest_probability: Epstein's estimated arrest probability in each cell today.
        day: days simulated so far.
    """

    def __init__(self, scenario: Scenario, rng: int | None = None) -> None:
        """Build the model.

        Args:
            scenario: what to simulate.
            rng: seed; defaults to the scenario's.
        """
        super().__init__(rng=scenario.seed if rng is None else rng)
        self.spec = scenario
        self.params = scenario.parameters
        self.start = scenario.period.start
        self.day = 0
        self.layout = build_layout(scenario.scale.cell_degrees)
        self.grid = RegionalGrid(self.layout, random=self.random)
        self.neighbours = self.layout.neighbourhood(self.params.vision)
        civilians_rng, cells_rng, police_rng = self.rng.spawn(3)
        self._civilians_rng, self._cells_rng, self._police_rng = civilians_rng, cells_rng, police_rng

        self.civilians = create_groups(self.layout, scenario.scale.people_per_agent, self.params, self.rng)
        self.police = create_units(self.layout, self.params, self.rng)
        self.militants = MilitantCells()
        for index in range(len(self.civilians)):
            Civilian(self, index)
        for index in range(len(self.police)):
            PoliceUnit(self, index)
        self._cell_faces: dict[int, MilitantCell] = {}

        self._set_patrol_officers()
        self._indptr, self._indices = self.neighbours.indptr, self.neighbours.indices
        self._cell_people = neighbourhood_sum(self._indptr, self._indices, self.layout.cell_population)
        n_cells = self.layout.n_cells
        self._sympathisers = np.zeros(n_cells)
        self._recruits = np.zeros(n_cells)
        self._informing = np.zeros(n_cells)
        self._people = np.zeros(5, dtype=np.int64)
        self._near = np.zeros((4, n_cells))
        self.arrest_probability = np.zeros(n_cells)
        self._officers_seen: np.ndarray | None = None
        self._officers_near: np.ndarray | None = None
        levers, regions = self.spec.levers, self.layout.regions
        self._lever_state: tuple | None = None
        self.hardship_today = self.civilians.hardship
        self.legitimacy_today = np.full(len(self.civilians), self.params.legitimacy)
        self._law_exposure = self.civilians.religiosity * region_mask(levers.religion_law, regions, self.civilians.region)
        self._community = region_mask(levers.informants, regions, self.civilians.region)
        self._patrolled = region_mask(levers.patrols, regions, self.layout.cell_region)
        self._informed_cells = region_mask(levers.informants, regions, self.layout.cell_region)
        self._raided_cells = region_mask(levers.raids, regions, self.layout.cell_region)
        self._swept_regions = region_mask(levers.sweeps, regions, np.arange(len(regions)))
        self._excitation = 1.0
        self._sweeps_due: dict[int, list[int]] = defaultdict(list)
        self._events: list[dict] = []
        self._today: dict[str, int] = {}
        days = scenario.period.days
        self._daily = np.zeros((days, len(DAILY_COLUMNS)), dtype=np.float64)
        self._column = {name: i for i, name in enumerate(DAILY_COLUMNS)}

    # --- the day --------------------------------------------------------------------------
    @property
    def date(self) -> dt.date:
        """The date of the next day to simulate."""
        return self.start + dt.timedelta(days=self.day)

    def step(self) -> None:
        """Simulate one day."""
        if self.day >= len(self._daily):
            self._daily = np.vstack([self._daily, np.zeros_like(self._daily)])
        date = self.date
        self._today = dict.fromkeys(DAILY_COLUMNS, 0)
        self._apply_levers(date)
        officers = self._patrol_officers * np.where(self._patrolled, patrols.intensity(self.spec.levers.patrols, date), 1.0)
        self._civilians_decide(date, officers)
        self._cells_act(date, officers)
        self._police_investigate(date)
        for region in self._sweeps_due.pop(self.day, []):
            self._sweep(date, region)
        p = self.params
        self._excitation = 1.0 + (self._excitation - 1.0) * np.exp(-1.0 / p.contagion_decay_days)
        self._record()
        self.day += 1

    def run(self, days: int | None = None, progress=None) -> None:
        """Simulate ``days`` days (default: the scenario's period); ``progress(n)`` after each."""
        for _ in range(self.spec.period.days if days is None else days):
            self.step()
            if progress is not None:
                progress(1)

    def _set_patrol_officers(self) -> None:
        """Patrol officers per cell, kept in the grid's ``police`` layer too."""
        self._patrol_officers = self.police.patrol_officers_by_cell()
        self.grid.police.data[self.layout.coords[:, 0], self.layout.coords[:, 1]] = self._patrol_officers

    def _apply_levers(self, date: dt.date) -> None:
        """Today's hardship and legitimacy of each group; recomputed only when a lever changes."""
        levers = self.spec.levers
        law_hardship, law_legitimacy = religion_law.effect(levers.religion_law, date)
        gain = informants.legitimacy_gain(levers.informants, date)
        state = (law_hardship, law_legitimacy, gain)
        if state == self._lever_state:
            return
        self._lever_state = state
        self.hardship_today = self.civilians.hardship + law_hardship * self._law_exposure
        self.legitimacy_today = np.clip(
            self.params.legitimacy + gain * self._community - law_legitimacy * self._law_exposure, 0.0, 1.0
        )

    def _civilians_decide(self, date: dt.date, officers: np.ndarray) -> None:
        groups, p = self.civilians, self.params
        if self._officers_near is None or not np.array_equal(self._officers_seen, officers):
            self._officers_seen = officers
            self._officers_near = neighbourhood_sum(self._indptr, self._indices, officers)
        homes = np.bincount(self.militants.home[self.militants.living], minlength=self.layout.n_cells)
        rates = np.array(
            [
                p.activation_threshold,
                p.radicalisation_rate,
                1.0 / p.detention_days,
                np.exp(-1.0 / p.backlash_decay_days),
                p.police_per_agent_equivalent,
                p.sympathiser_per_agent_equivalent,
                p.arrest_constant,
            ]
        )
        civilian_day(
            int(self._civilians_rng.integers(2**31)),
            groups.starts,
            self.hardship_today,
            self.legitimacy_today,
            groups.risk_aversion,
            groups.inform_propensity,
            groups.stage,
            groups.free,
            groups.detained,
            groups.backlash,
            self._indptr,
            self._indices,
            self._officers_near,
            homes.astype(np.float64),
            rates,
            self._sympathisers,
            self._recruits,
            self._informing,
            self._near,
            self.arrest_probability,
            self._people,
        )

    # --- militant cells -------------------------------------------------------------------
    def _cells_act(self, date: dt.date, officers: np.ndarray) -> None:
        rng, p, cells = self._cells_rng, self.params, self.militants
        total = self._sympathisers.sum()
        for _ in range(rng.poisson(p.cell_formation_rate * total)):
            self._found_cell(int(rng.choice(self.layout.n_cells, p=self._sympathisers / total)))

        living = cells.living
        if len(living) == 0:
            return
        groups = self.civilians
        recruits_near = self._near[1]
        pull = np.minimum(1.0, recruits_near[cells.home[living]] / groups.size)
        for cell, count in zip(living, rng.poisson(p.recruitment_rate * pull), strict=True):
            if count:
                self._recruit(cell, count)

        gain = np.where(cells.leader[living], 1.0, p.leaderless_resource_factor)
        cells.capability[living] += p.resource_gain * gain * cells.members[living]
        police_per_1000 = self._officers_near[cells.home[living]] / self._cell_people[cells.home[living]] * 1000
        hazard = p.attack_rate * self._excitation * np.exp(-p.deterrence * police_per_1000)
        capable = (cells.capability[living] >= p.attack_cost) & (cells.members[living] > 0)
        for cell in living[capable & (rng.random(len(living)) < hazard)]:
            self._attack(date, int(cell))

        for cell in cells.living[cells.members[cells.living] > p.split_size]:
            self._split(int(cell))

    def _found_cell(self, home: int) -> None:
        groups = self.civilians
        candidates = np.flatnonzero((groups.cell == home) & (groups.stage != QUIET) & (groups.free > 0))
        if len(candidates) == 0:
            return
        members = draw_people(self._cells_rng, candidates, groups.free, self.params.initial_members).tolist()
        groups.move(members, "free", "in_cells")
        groups.stage[members] = RECRUIT
        index = self.militants.add(home, int(self.layout.cell_region[home]), members, self.day)
        self._cell_faces[index] = MilitantCell(self, index)

    def _recruit(self, cell: int, count: int) -> None:
        groups = self.civilians
        near = self.neighbours[self.militants.home[cell]].indices
        candidates = np.flatnonzero(np.isin(groups.cell, near) & (groups.stage == RECRUIT) & (groups.free > 0))
        if len(candidates) == 0:
            return
        joined = draw_people(self._cells_rng, candidates, groups.free, count).tolist()
        groups.move(joined, "free", "in_cells")
        self.militants.member_groups[cell].extend(joined)
        self.militants.members[cell] += len(joined)

    def _split(self, cell: int) -> None:
        cells, rng = self.militants, self._cells_rng
        leaving = cells.remove_members(cell, int(cells.members[cell]) // 2, rng)
        home = int(cells.home[cell])
        near = self.neighbours[home].indices
        new_home = int(rng.choice(near))
        index = cells.add(new_home, int(self.layout.cell_region[new_home]), leaving, self.day)
        cells.leader[index] = False
        cells.capability[index] = cells.capability[cell] / 2
        cells.capability[cell] /= 2
        self._cell_faces[index] = MilitantCell(self, index)

    def _dissolve_if_empty(self, cell: int) -> None:
        if self.militants.members[cell] == 0 and self.militants.alive[cell]:
            self.militants.dissolve(cell)
            self._cell_faces.pop(cell).remove()

    def _attack(self, date: dt.date, cell: int) -> None:
        cells, p, rng = self.militants, self.params, self._cells_rng
        outcome = plan_attack(rng, p, int(cells.members[cell]))
        home = int(cells.home[cell])
        civilian = self._kill_civilians(home, outcome.deaths_civilian)
        security = self._kill_officers(home, outcome.deaths_security, special=False)
        self.civilians.move(cells.remove_members(cell, outcome.deaths_militant, rng), "in_cells", "dead")
        cells.capability[cell] = max(0.0, cells.capability[cell] - p.attack_cost)
        cells.intel[cell] += p.attack_intel
        self._excitation += p.contagion_jump
        self._emit(date, home, "militant", outcome.kind, security, civilian, outcome.deaths_militant, outcome.injured, 0)
        self._today["attacks"] += 1
        policy = self.spec.levers.sweeps
        swept = is_active(policy, date) and self._swept_regions[cells.region[cell]]
        if swept and self._police_rng.random() < policy.probability:
            delay = int(self._police_rng.integers(1, policy.max_delay_days + 1))
            self._sweeps_due[self.day + delay].append(int(cells.region[cell]))
        self._dissolve_if_empty(cell)

    def _kill_civilians(self, home: int, count: int) -> int:
        groups = self.civilians
        candidates = np.flatnonzero((groups.cell == home) & (groups.free > 0))
        if count == 0 or len(candidates) == 0:
            return 0
        victims = draw_people(self._cells_rng, candidates, groups.free, count)
        groups.move(victims, "free", "dead")
        return len(victims)

    def _kill_officers(self, cell: int, count: int, special: bool) -> int:
        if count == 0:
            return 0
        units = self.police
        kind = 1 if special else PATROL
        candidates = np.flatnonzero((units.kind == kind) & (units.strength >= 1))
        if len(candidates) == 0:
            return 0
        unit = nearest_unit(units, candidates, self.layout, cell)
        count = int(min(count, units.strength[unit]))
        units.strength[unit] -= count
        units.killed[unit] += count
        if not special:
            self._set_patrol_officers()
        return count

    # --- police ---------------------------------------------------------------------------
    def _police_investigate(self, date: dt.date) -> None:
        cells, p, rng = self.militants, self.params, self._police_rng
        living = cells.living
        if len(living) == 0:
            return
        informing = self._near[2]
        share = informing[cells.home[living]] / self._cell_people[cells.home[living]]
        tips = np.where(
            self._informed_cells[cells.home[living]], informants.tip_multiplier(self.spec.levers.informants, date), 1.0
        )
        cells.intel[living] = cells.intel[living] * np.exp(-1.0 / p.intel_decay_days) + (
            p.tip_rate * tips * cells.members[living] * share
        )
        policy = self.spec.levers.raids
        draws = rng.random(len(living))
        for cell, draw in zip(living, draws, strict=True):
            raid_here = is_active(policy, date) and self._raided_cells[cells.home[cell]]
            if raid_here and cells.intel[cell] >= policy.intel_threshold:
                self._raid(date, int(cell))
            elif cells.intel[cell] >= policy.intel_threshold * p.targeted_arrest_intel_fraction and (
                draw < p.targeted_arrest_rate
            ):
                self._targeted_arrests(date, int(cell))

    def _raid(self, date: dt.date, cell: int) -> None:
        cells, rng = self.militants, self._police_rng
        members = int(cells.members[cell])
        outcome = raids.conduct(rng, self.spec.levers.raids, members)
        home = int(cells.home[cell])
        security = self._kill_officers(home, outcome.security_killed, special=True)
        removed = cells.remove_members(cell, members, rng)
        self.civilians.move(removed[: outcome.militants_killed], "in_cells", "dead")
        self.civilians.move(removed[outcome.militants_killed :], "in_cells", "imprisoned")
        cells.leader[cell] = False
        self._emit(date, home, "state", "raid", security, 0, outcome.militants_killed, 0, outcome.arrested)
        self._today["raids"] += 1
        self._today["arrested"] += outcome.arrested
        self._dissolve_if_empty(cell)

    def _targeted_arrests(self, date: dt.date, cell: int) -> None:
        cells, rng = self.militants, self._police_rng
        count = int(rng.binomial(int(cells.members[cell]), self.params.targeted_arrest_share))
        if count == 0:
            return
        self.civilians.move(cells.remove_members(cell, count, rng), "in_cells", "imprisoned")
        cells.intel[cell] += self.params.attack_intel
        self._emit(date, int(cells.home[cell]), "state", "arrests", 0, 0, 0, 0, count)
        self._today["arrest_operations"] += 1
        self._today["arrested"] += count
        self._dissolve_if_empty(cell)

    def _sweep(self, date: dt.date, region: int) -> None:
        cells, groups, rng = self.militants, self.civilians, self._police_rng
        policy = self.spec.levers.sweeps
        in_region = [int(c) for c in cells.living if cells.region[c] == region]
        members = int(sum(cells.members[c] for c in in_region))
        from_cells, outcome = sweeps.conduct(rng, policy, groups, region, members)
        arrested = 0
        for _ in range(from_cells):
            candidates = [c for c in in_region if cells.members[c] > 0]
            if not candidates:
                break
            cell = candidates[int(rng.integers(len(candidates)))]
            taken = cells.remove_members(cell, 1, rng)
            groups.move(taken, "in_cells", "imprisoned")
            arrested += len(taken)
            cells.intel[cell] += self.params.attack_intel
        detainees = np.concatenate([outcome.involved_groups, outcome.uninvolved_groups]).astype(np.int64)
        groups.move(detainees, "free", "detained")
        uninvolved = outcome.uninvolved_groups
        np.add.at(groups.backlash, uninvolved, self.params.backlash_per_detainee)
        np.minimum(groups.backlash, 1.0, out=groups.backlash)
        home = int(self.layout.centre_cell[region])
        self._emit(date, home, "state", "sweep", 0, 0, 0, 0, arrested + len(detainees))
        self._today["sweeps"] += 1
        self._today["arrested"] += arrested + len(detainees)
        self._today["detained_uninvolved"] += len(uninvolved)
        for cell in in_region:
            self._dissolve_if_empty(cell)

    # --- bookkeeping ----------------------------------------------------------------------
    def _emit(self, date, cell, initiator, kind, security, civilian, militant, injured, arrests) -> None:
        region = int(self.layout.cell_region[cell])
        lon, lat = self.layout.cell_lonlat(cell)
        centre = self.layout.admin_centres[region] if self.layout.is_centre[cell] else None
        self._events.append(
            {
                "id": f"sim-{len(self._events) + 1:05d}",
                "date": date,
                "date_precision": "day",
                "place": centre or f"{lat:.2f}N {lon:.2f}E",
                "region": self.layout.regions[region],
                "initiator": initiator,
                "kind": kind,
                "deaths_security": security,
                "deaths_civilian": civilian,
                "deaths_militant": militant,
                "deaths_unknown": 0,
                "injured": injured,
                "arrests": arrests,
                "sources": "simulation",
                "evidence": "",
                "notes": f"grid cell {tuple(int(v) for v in self.layout.coords[cell])}",
            }
        )
        for column, value in (
            ("deaths_security", security),
            ("deaths_civilian", civilian),
            ("deaths_militant", militant),
        ):
            self._today[column] += value

    def _record(self) -> None:
        cells, groups, today = self.militants, self.civilians, self._today
        people = self._people
        if groups.moved_today:
            # Events after the daily kernel moved people out of the free pool: recount.
            people = np.concatenate([groups.people_by_stage(), [groups.detained.sum()], people[4:]])
            groups.moved_today = False
        living = cells.living
        today.update(
            quiet=people[0],
            sympathisers=people[1],
            recruits=people[2],
            in_cells=groups.totals.get("in_cells", 0),
            detained=people[3],
            imprisoned=groups.totals.get("imprisoned", 0),
            dead=groups.totals.get("dead", 0),
            backlash_people=people[4] * groups.size,
            cells=len(living),
            members=int(cells.members[living].sum()),
            police_officers=int(self.police.strength.sum()),
            law_intensity=religion_law.intensity(self.spec.levers.religion_law, self.date),
        )
        self._daily[self.day] = [today[c] for c in DAILY_COLUMNS]

    # --- outputs --------------------------------------------------------------------------
    def daily_frame(self) -> pd.DataFrame:
        """One row per simulated day: people by state, cells, police actions, deaths."""
        frame = pd.DataFrame(self._daily[: self.day], columns=list(DAILY_COLUMNS))
        integer = [c for c in DAILY_COLUMNS if c != "law_intensity"]
        frame[integer] = frame[integer].astype(np.int64)
        frame.insert(0, "date", pd.date_range(self.start, periods=self.day, freq="D").strftime("%Y-%m-%d"))
        return frame

    def events_frame(self) -> pd.DataFrame:
        """The simulated incidents, in the schema of ``seeds/incidents.csv``."""
        return normalise_events(pd.DataFrame(self._events, columns=list(EVENT_COLUMNS)))
