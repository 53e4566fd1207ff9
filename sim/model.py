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
from functools import lru_cache

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
    informing_near,
    neighbourhood_sum,
)
from sim.agents.militant_cell import MilitantCell, MilitantCells, cells_day, plan_attack
from sim.agents.police_unit import PATROL, RAID, TARGETED_ARRESTS, PoliceUnit, create_units, investigate, nearest_unit
from sim.events import COUNT_COLUMNS, EVENT_COLUMNS
from sim.geography import RegionalGrid, build_layout
from sim.levers import raids, region_mask, sweeps
from sim.levers.schedule import lever_schedule
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
COLUMN = {name: i for i, name in enumerate(DAILY_COLUMNS)}
_QUIET, _SYMPATHISERS, _RECRUITS, _DETAINED = (COLUMN[c] for c in ("quiet", "sympathisers", "recruits", "detained"))
_IN_CELLS, _IMPRISONED, _DEAD = (COLUMN[c] for c in ("in_cells", "imprisoned", "dead"))
_CELLS, _MEMBERS, _POLICE_OFFICERS = (COLUMN[c] for c in ("cells", "members", "police_officers"))
_BACKLASH_PEOPLE, _LAW_INTENSITY = COLUMN["backlash_people"], COLUMN["law_intensity"]


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

    #: Whether the daily civilian pass passes over cells where nothing can change (see
    #: ``civilian_day``); the results are identical either way, and tests compare the two.
    skip_unchanged_cells: bool = True

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
        Civilian.create_faces(self, len(self.civilians))
        PoliceUnit.create_faces(self, len(self.police))
        self._cell_faces: dict[int, MilitantCell] = {}

        self._indptr, self._indices = self.neighbours.indptr, self.neighbours.indices
        self._cell_people = neighbourhood_sum(self._indptr, self._indices, self.layout.cell_population)
        n_cells = self.layout.n_cells
        self._sympathisers = np.zeros(n_cells)
        self._recruits = np.zeros(n_cells)
        self._sympathisers_near = np.zeros(n_cells)
        self._kernel_totals = np.zeros(4)
        self.arrest_probability = np.zeros(n_cells)
        self._arrest_level = np.full(n_cells, np.nan)
        self._militants_near = np.zeros(n_cells)
        self._militants_seen: np.ndarray | None = None
        p = self.params
        self._civilian_rates = np.array(
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
        self._cell_rates = np.array(
            [
                p.cell_formation_rate,
                p.recruitment_rate,
                scenario.scale.people_per_agent,
                p.resource_gain,
                p.leaderless_resource_factor,
                p.attack_rate,
                p.deterrence,
                p.attack_cost,
            ]
        )
        raid_policy = scenario.levers.raids
        self._police_rates = np.array(
            [
                np.exp(-1.0 / p.intel_decay_days),
                p.tip_rate,
                raid_policy.intel_threshold,
                p.targeted_arrest_intel_fraction,
                p.targeted_arrest_rate,
            ]
        )
        self._contagion_decay = np.exp(-1.0 / p.contagion_decay_days)
        levers, regions = self.spec.levers, self.layout.regions
        self._lever_state: tuple | None = None
        self.hardship_today = self.civilians.hardship
        self.legitimacy_today = np.full(len(self.civilians), self.params.legitimacy)
        self._law_exposure = self.civilians.religiosity * region_mask(levers.religion_law, regions, self.civilians.region)
        self._community = region_mask(levers.informants, regions, self.civilians.region)
        self._patrolled = region_mask(levers.patrols, regions, self.layout.cell_region)
        self._informed_cells = region_mask(levers.informants, regions, self.layout.cell_region)
        self._raided_cells = region_mask(levers.raids, regions, self.layout.cell_region)
        self._no_raids = np.zeros(n_cells, dtype=bool)
        self._swept_regions = region_mask(levers.sweeps, regions, np.arange(len(regions)))
        self._patrol_intensity: float | None = None
        self._tip_multiplier = np.ones(n_cells)
        self._raids_allowed = self._no_raids
        self._sweeps_active = False
        self._schedule = lever_schedule(levers, self.start, scenario.period.days)
        self._set_patrol_officers()
        self._excitation = 1.0
        self._sweeps_due: dict[int, list[int]] = defaultdict(list)
        self._events: list[dict] = []
        days = scenario.period.days
        self._daily = np.zeros((days, len(DAILY_COLUMNS)), dtype=np.float64)
        self._row = self._daily[0]

    # --- the day --------------------------------------------------------------------------
    @property
    def date(self) -> dt.date:
        """The date of the next day to simulate."""
        return self.start + dt.timedelta(days=self.day)

    def step(self) -> None:
        """Simulate one day."""
        if self.day >= len(self._daily):
            self._daily = np.vstack([self._daily, np.zeros_like(self._daily)])
        self._row = self._daily[self.day]
        date = self.date
        self._apply_levers()
        self._civilians_decide()
        self._cells_act(date)
        self._police_investigate(date)
        for region in self._sweeps_due.pop(self.day, ()):
            self._sweep(date, region)
        self._excitation = 1.0 + (self._excitation - 1.0) * self._contagion_decay
        self._record()
        self.day += 1

    def run(self, days: int | None = None, progress=None) -> None:
        """Simulate ``days`` days (default: the scenario's period); ``progress(n)`` after each."""
        days = self.spec.period.days if days is None else days
        if progress is None:
            self.run_for(days)  # Mesa's own loop: one scheduled step per time unit
            return
        for _ in range(days):
            self.step()
            progress(1)

    def _set_patrol_officers(self) -> None:
        """Patrol officers per cell (kept in the grid's ``police`` layer too), and within vision today."""
        self._patrol_officers = self.police.patrol_officers_by_cell()
        self._officers_total = int(self.police.strength.sum())
        self.grid.police.data[self.layout.coords[:, 0], self.layout.coords[:, 1]] = self._patrol_officers
        intensity = 1.0 if self._patrol_intensity is None else self._patrol_intensity
        officers = self._patrol_officers * np.where(self._patrolled, intensity, 1.0)
        self._officers_near = neighbourhood_sum(self._indptr, self._indices, officers)

    def _apply_levers(self) -> None:
        """Today's lever settings; the arrays that depend on them are recomputed only when they change."""
        if self.day >= len(self._schedule):
            self._schedule = lever_schedule(self.spec.levers, self.start, 2 * self.day)
        schedule, day = self._schedule, self.day
        if not schedule.changed[day]:
            return
        law_hardship, law_legitimacy = schedule.law_hardship[day], schedule.law_legitimacy[day]
        gain = schedule.legitimacy_gain[day]
        state = (law_hardship, law_legitimacy, gain)
        if state != self._lever_state:
            self._lever_state = state
            self.hardship_today = self.civilians.hardship + law_hardship * self._law_exposure
            self.legitimacy_today = np.clip(
                self.params.legitimacy + gain * self._community - law_legitimacy * self._law_exposure, 0.0, 1.0
            )
            self.civilians.changed_cells[:] = True
        if schedule.patrol_intensity[day] != self._patrol_intensity:
            self._patrol_intensity = schedule.patrol_intensity[day]
            self._set_patrol_officers()
        self._tip_multiplier = np.where(self._informed_cells, schedule.tip_multiplier[day], 1.0)
        self._raids_allowed = self._raided_cells if schedule.raids_active[day] else self._no_raids
        self._sweeps_active = bool(schedule.sweeps_active[day])

    def _civilians_decide(self) -> None:
        groups = self.civilians
        living = self.militants.living
        if living is not self._militants_seen:
            self._militants_seen = living
            homes = np.bincount(self.militants.home[living], minlength=self.layout.n_cells).astype(np.float64)
            self._militants_near = neighbourhood_sum(self._indptr, self._indices, homes)
        civilian_day(
            int(self._civilians_rng.integers(2**31)),
            groups.starts,
            groups.changed_cells,
            self.skip_unchanged_cells,
            self.hardship_today,
            self.legitimacy_today,
            groups.risk_aversion,
            groups.stage,
            groups.free,
            groups.detained,
            groups.backlash,
            self._indptr,
            self._indices,
            self._officers_near,
            self._militants_near,
            self._civilian_rates,
            self._sympathisers_near,
            self._arrest_level,
            self.arrest_probability,
            self._sympathisers,
            self._recruits,
            self._kernel_totals,
        )

    # --- militant cells -------------------------------------------------------------------
    def _cells_act(self, date: dt.date) -> None:
        cells = self.militants
        living = cells.living
        new_homes, recruit_counts, attacks = cells_day(
            living,
            cells.home,
            cells.members,
            cells.leader,
            cells.capability,
            self._sympathisers,
            self._recruits,
            self._officers_near,
            self._cell_people,
            self._indptr,
            self._indices,
            self._cell_rates,
            self._excitation,
        )
        for home in new_homes.tolist():
            self._found_cell(home)
        for k in np.flatnonzero(recruit_counts).tolist():
            self._recruit(int(living[k]), int(recruit_counts[k]))
        for cell in living[attacks].tolist():
            if cells.alive[cell]:
                self._attack(date, cell)
        if len(cells.living):
            for cell in cells.living[cells.members[cells.living] > self.params.split_size].tolist():
                self._split(cell)

    def _found_cell(self, home: int) -> None:
        groups = self.civilians
        here = np.arange(groups.starts[home], groups.starts[home + 1])
        candidates = here[(groups.stage[here] != QUIET) & (groups.free[here] > 0)]
        if len(candidates) == 0:
            return
        members = draw_people(self._cells_rng, candidates, groups.free, self.params.initial_members).tolist()
        groups.move(members, "free", "in_cells")
        groups.stage[members] = RECRUIT
        index = self.militants.add(home, int(self.layout.cell_region[home]), members, self.day)
        self._cell_faces[index] = MilitantCell(self, index)

    def _recruit(self, cell: int, count: int) -> None:
        groups = self.civilians
        candidates = self._groups_near(int(self.militants.home[cell]))
        candidates = candidates[(groups.stage[candidates] == RECRUIT) & (groups.free[candidates] > 0)]
        if len(candidates) == 0:
            return
        joined = draw_people(self._cells_rng, candidates, groups.free, count).tolist()
        groups.move(joined, "free", "in_cells")
        self.militants.member_groups[cell].extend(joined)
        self.militants.members[cell] += len(joined)

    def _groups_near(self, home: int) -> np.ndarray:
        """The civilian groups whose home cell is within vision of ``home``."""
        starts = self.civilians.starts
        near = self._indices[self._indptr[home] : self._indptr[home + 1]]
        return np.concatenate([np.arange(starts[c], starts[c + 1]) for c in near])

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
        self._row[COLUMN["attacks"]] += 1
        policy = self.spec.levers.sweeps
        swept = self._sweeps_active and self._swept_regions[cells.region[cell]]
        if swept and self._police_rng.random() < policy.probability:
            delay = int(self._police_rng.integers(1, policy.max_delay_days + 1))
            self._sweeps_due[self.day + delay].append(int(cells.region[cell]))
        self._dissolve_if_empty(cell)

    def _kill_civilians(self, home: int, count: int) -> int:
        groups = self.civilians
        here = np.arange(groups.starts[home], groups.starts[home + 1])
        candidates = here[groups.free[here] > 0]
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
        self._officers_total -= count
        if not special:
            self._set_patrol_officers()
        return count

    # --- police ---------------------------------------------------------------------------
    def _police_investigate(self, date: dt.date) -> None:
        cells, groups = self.militants, self.civilians
        living = cells.living
        if len(living) == 0:
            return
        homes = cells.home[living]
        informing = informing_near(
            homes, self._indptr, self._indices, groups.starts, groups.stage, groups.free, groups.inform_propensity
        )
        actions = investigate(
            living,
            cells.home,
            cells.members,
            cells.intel,
            informing,
            self._cell_people,
            self._tip_multiplier,
            self._raids_allowed,
            self._police_rates,
        )
        for cell, action in zip(living.tolist(), actions.tolist(), strict=True):
            if action == RAID:
                self._raid(date, cell)
            elif action == TARGETED_ARRESTS:
                self._targeted_arrests(date, cell)

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
        self._row[COLUMN["raids"]] += 1
        self._row[COLUMN["arrested"]] += outcome.arrested
        self._dissolve_if_empty(cell)

    def _targeted_arrests(self, date: dt.date, cell: int) -> None:
        cells, rng = self.militants, self._police_rng
        count = int(rng.binomial(int(cells.members[cell]), self.params.targeted_arrest_share))
        if count == 0:
            return
        self.civilians.move(cells.remove_members(cell, count, rng), "in_cells", "imprisoned")
        cells.intel[cell] += self.params.attack_intel
        self._emit(date, int(cells.home[cell]), "state", "arrests", 0, 0, 0, 0, count)
        self._row[COLUMN["arrest_operations"]] += 1
        self._row[COLUMN["arrested"]] += count
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
        self._row[COLUMN["sweeps"]] += 1
        self._row[COLUMN["arrested"]] += arrested + len(detainees)
        self._row[COLUMN["detained_uninvolved"]] += len(uninvolved)
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
            self._row[COLUMN[column]] += value

    def _record(self) -> None:
        cells, groups, row = self.militants, self.civilians, self._row
        totals = groups.totals
        open_, recruits, detained, aggrieved = self._kernel_totals.tolist()
        if groups.moved_today:
            # Events after the daily kernel moved people out of the free pool: recount.
            quiet, open_, recruits, detained = groups.people_by_stage().tolist()
            groups.moved_today = False
        else:
            elsewhere = totals.get("in_cells", 0) + totals.get("imprisoned", 0) + totals.get("dead", 0)
            quiet = len(groups) * groups.size - elsewhere - detained - open_ - recruits
        row[_QUIET], row[_SYMPATHISERS], row[_RECRUITS], row[_DETAINED] = quiet, open_, recruits, detained
        row[_BACKLASH_PEOPLE] = aggrieved * groups.size
        row[_IN_CELLS] = totals.get("in_cells", 0)
        row[_IMPRISONED] = totals.get("imprisoned", 0)
        row[_DEAD] = totals.get("dead", 0)
        living = cells.living
        row[_CELLS] = len(living)
        row[_MEMBERS] = cells.members[living].sum()
        row[_POLICE_OFFICERS] = self._officers_total
        row[_LAW_INTENSITY] = self._schedule.law_intensity[self.day]

    # --- outputs --------------------------------------------------------------------------
    def daily_frame(self) -> pd.DataFrame:
        """One row per simulated day: people by state, cells, police actions, deaths."""
        table = self._daily[: self.day]
        columns: dict[str, object] = {"date": _date_strings(self.start, self.day)}
        for index, name in enumerate(DAILY_COLUMNS):
            columns[name] = table[:, index] if name == "law_intensity" else table[:, index].astype(np.int64)
        return pd.DataFrame(columns)

    def events_frame(self) -> pd.DataFrame:
        """The simulated incidents, in the schema of ``seeds/incidents.csv``."""
        events = self._events
        columns: dict[str, object] = {}
        for name in EVENT_COLUMNS:
            values = [event[name] for event in events]
            if name == "date":
                columns[name] = np.array(values, dtype="datetime64[ns]")
            elif name in COUNT_COLUMNS:
                columns[name] = np.array(values, dtype=np.int64)
            else:
                columns[name] = pd.array(values, dtype="str")
        return pd.DataFrame(columns)  # already in the schema's dtypes (tested against normalise_events)


@lru_cache(maxsize=16)
def _date_strings(start: dt.date, days: int) -> np.ndarray:
    return pd.date_range(start, periods=days, freq="D").strftime("%Y-%m-%d").to_numpy()
