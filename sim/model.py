"""The national model: civilians, militant cells and police on Kazakhstan's regional grid.

One step is one day. The agents are Mesa agents (``model.agents_by_type``), but their state lives
in the tables of one :class:`~sim.world.World` and each kind's daily rules run as array kernels
over all its agents (``sim.agents``); Python code runs only for rare events. The model builds the
world and schedules the day, as docs/ODD.md §3 describes it::

    levers → civilians → militants (today's attacks) → police (respond, investigate, raid, sweep) → record
"""

from __future__ import annotations

import datetime as dt

import mesa
import numpy as np
import pandas as pd

from sim.agents.civilians import Civilian, civilian_rates, civilians_decide, create_groups, perceive
from sim.agents.core import as_record
from sim.agents.militants import MilitantCell, MilitantCells, militant_rates, militants_act
from sim.agents.police import PoliceRates, PoliceUnit, create_units, police_act, police_rates, refresh_presence
from sim.geography import build_layout
from sim.levers import LeverPlan, Levers, PolicyChangeError
from sim.mesa_adapter import RegionalGrid
from sim.record import DAILY_COLUMNS, DailyTable, EventLog, record_day
from sim.scenario import Scenario
from sim.world import Streams, World

__all__ = ["DAILY_COLUMNS", "KazakhstanModel"]


class KazakhstanModel(mesa.Model):
    """Militancy and counter-terrorism policing in Kazakhstan, one step per day.

    Attributes:
        spec: the validated scenario (Mesa reserves ``scenario`` for its own Scenario class).
        world: all state of the run (tables, today's arrays, the event log, the daily table).
        layout: the regional layout (arrays shared by models at the same resolution).
        grid: the Mesa grid of in-country cells.
        levers: the lever plan: each family's daily values and reach.
    """

    #: Whether the daily civilian pass passes over grid cells where nothing can change (see
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
        params = scenario.parameters
        self.layout = layout = build_layout(scenario.scale.cell_degrees)
        self.grid = RegionalGrid(layout, random=self.random)
        neighbourhood = layout.neighbourhood(params.vision)
        streams = Streams(*self.rng.spawn(3))
        self.world = world = World(
            layout=layout,
            params=params,
            people_per_agent=scenario.scale.people_per_agent,
            start=scenario.period.start,
            neighbourhood=neighbourhood,
            people_near=neighbourhood.sum(layout.cell_population),
            streams=streams,
            civilians=create_groups(layout, scenario.scale.people_per_agent, params, self.rng),
            police=create_units(layout, params, self.rng),
            militants=MilitantCells(),
            police_layer=self.grid.police.data,
            daily=DailyTable(scenario.period.days),
            log=EventLog(),
        )
        Civilian.create_faces(self, len(world.civilians))
        PoliceUnit.create_faces(self, len(world.police))
        self._militant_faces: dict[int, MilitantCell] = {}
        self._faces_shown_for: np.ndarray | None = None
        n_cells = layout.n_cells
        for name in ("sympathisers_by_cell", "recruits_by_cell", "sympathisers_near", "militants_near",
                     "arrest_probability"):
            setattr(world, name, np.zeros(n_cells))
        world.arrest_level = np.full(n_cells, np.nan)
        world.patrol_multiplier = np.ones(n_cells)
        world.tip_multiplier = np.ones(n_cells)
        world.raids_allowed = np.zeros(n_cells, dtype=bool)
        world.hardship_today = world.civilians.hardship
        world.legitimacy_today = world.civilians.legitimacy
        n_regions = len(layout.regions)
        world.regional_excitation = np.zeros(n_regions)
        world.groups_by_region = np.bincount(world.civilians.region, minlength=n_regions)
        refresh_presence(world)
        self.levers = LeverPlan(scenario.levers, world, scenario.period.days)
        self._civilian_rates = as_record(civilian_rates(params))
        self._militant_rates = militant_rates(params, scenario.scale.people_per_agent)
        self._militant_record = as_record(self._militant_rates)
        self._police_rates: PoliceRates | None = None
        self._police_record: np.ndarray | None = None

    # --- the day (docs/ODD.md §3) ----------------------------------------------------------------
    @property
    def day(self) -> int:
        """Days simulated so far."""
        return self.world.day

    @property
    def date(self) -> dt.date:
        """The date of the next day to simulate."""
        return self.world.date

    def step(self) -> None:
        """Simulate one day."""
        world = self.world
        world.daily.start_day(world.day)
        self._apply_levers()
        civilians_decide(world, self._civilian_rates, self.skip_unchanged_cells)
        attacks = militants_act(world, self._militant_rates, self._militant_record)
        police_act(world, attacks, self._police_record)
        self._record()
        world.day += 1

    def run(self, days: int | None = None) -> None:
        """Simulate ``days`` days (default: the scenario's period)."""
        self.run_for(self.spec.period.days if days is None else days)  # Mesa's loop: one step per time unit

    def change_policy(self, levers: Levers) -> None:
        """Put ``levers`` in force from the next day to simulate on; the days simulated so far stay as they were.

        The scenario (``spec``) then holds ``levers``, so it describes the whole run: a scenario file written
        from it (``sim.scenario.scenario_toml``) replays the run exactly. A change during the run is
        therefore given as dated phases (``Levers.changed``).

        Raises:
            PolicyChangeError: ``levers`` would have acted differently on a day already simulated.
        """
        world = self.world
        plan = LeverPlan(levers, world, max(self.spec.period.days, world.day + 1))
        if not self.levers.agrees_until(plan, world.day):
            raise PolicyChangeError(
                f"the change would rewrite days already simulated (before {world.date}); "
                "a change during a run can only act from the next day on")
        self.levers = plan
        self.spec = self.spec.model_copy(update={"levers": levers})

    def _apply_levers(self) -> None:
        """Today's lever effects; what depends on them is recomputed only when they change."""
        world = self.world
        if not self.levers.apply(world):
            return
        if world.pressures_changed:
            perceive(world)
        if world.presence_changed:
            refresh_presence(world)
        if self._police_rates is None or self._police_rates.raid_threshold != world.raid_policy.intel_threshold:
            self._police_rates = police_rates(world.params, world.raid_policy.intel_threshold)
            self._police_record = as_record(self._police_rates)

    def _record(self) -> None:
        """Write the day's row, and show today's militant cells as Mesa agents."""
        record_day(self.world)
        living = self.world.militants.living
        if living is self._faces_shown_for:
            return  # no militant cell formed or dissolved today
        self._faces_shown_for = living
        alive = set(living.tolist())
        for index in [i for i in self._militant_faces if i not in alive]:
            self._militant_faces.pop(index).remove()
        for index in sorted(alive - self._militant_faces.keys()):
            self._militant_faces[index] = MilitantCell(self, index)

    # --- state the faces read ------------------------------------------------------------------
    @property
    def civilians(self):
        """The civilian groups' table."""
        return self.world.civilians

    @property
    def militants(self):
        """The militant cells' table."""
        return self.world.militants

    @property
    def police(self):
        """The police units' table."""
        return self.world.police

    @property
    def events(self) -> EventLog:
        """The events so far (typed, with their grid cells and coordinates)."""
        return self.world.log

    # --- outputs -------------------------------------------------------------------------------
    def daily_frame(self) -> pd.DataFrame:
        """One row per simulated day: people by state, militant cells, police actions, deaths."""
        return self.world.daily.frame(self.world.start, self.world.day)

    def events_frame(self) -> pd.DataFrame:
        """The simulated incidents, in the schema of ``seeds/incidents.csv``."""
        return self.world.log.frame()
