"""The World: all state of one national run, shared by the agent kinds and the levers.

The model builds one :class:`World`; each day the levers write today's pressures and policies
into it, then civilians, militant cells and police read and update it through their own step
functions (``sim.agents``), and the day is recorded. It is plain data: the rules live with their
owners, not here.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.geography import Neighbourhood, RegionalLayout
from sim.record import DailyTable, EventLog

if TYPE_CHECKING:
    from sim.agents.civilians import CivilianGroups
    from sim.agents.militants import MilitantCells
    from sim.agents.police import PoliceUnits


@dataclass(frozen=True)
class Streams:
    """The run's random streams, one per agent kind (spawned from the model's generator).

    The daily kernels draw from numba's generator, seeded each day from ``civilians``.
    """

    civilians: np.random.Generator
    militants: np.random.Generator
    police: np.random.Generator


@dataclass(eq=False)
class World:
    """State of one national run.

    Attributes:
        layout: the regional layout (shared by runs at the same resolution).
        params: the behavioural parameters (``sim.parameters``).
        people_per_agent: people per civilian group.
        start: the first simulated date.
        day: days simulated so far (the index of today).
        neighbourhood: the grid cells within vision of each grid cell.
        people_near: people living within vision of each grid cell.
        streams: the random streams.
        civilians: civilian groups (``sim.agents.civilians``).
        militants: militant cells (``sim.agents.militants``).
        police: police units (``sim.agents.police``).
        hardship_pressure: per lever family, the hardship it adds to each group today (the religion law).
        legitimacy_gain: per lever family, the legitimacy it adds for each group today (community policing).
        legitimacy_loss: per lever family, the legitimacy it withdraws from each group today (the religion law).
        pressures_changed: whether a lever changed the pressures today (civilians then re-perceive).
        law_intensity: how far the religion law has taken effect today, 0 to 1 (recorded daily).
        patrol_multiplier: per grid cell, multiplier on posted patrol officers today.
        presence_changed: whether police presence must be recomputed today.
        tip_multiplier: per grid cell, multiplier on informants' tips today.
        raids_allowed: per grid cell, whether raids may happen there today.
        raid_policy: today's raid settings (``sim.levers.raids``).
        sweeps_active: whether attacks may trigger sweeps today.
        sweep_regions: per region, whether sweeps reach it.
        sweep_policy: today's sweep settings (``sim.levers.sweeps``).
        hardship_today: per group, the hardship H in force today (levers included, backlash aside).
        legitimacy_today: per group, the legitimacy L each group grants the state today.
        arrest_probability: per grid cell, Epstein's estimated arrest probability today.
        arrest_level: per grid cell, the rounded C/A ratio it depends on.
        sympathisers_by_cell: per grid cell, free people who sympathise (recruits included).
        recruits_by_cell: per grid cell, free recruits.
        sympathisers_near: per grid cell, sympathisers within vision (yesterday's until the pass).
        militants_near: per grid cell, militant cells within vision.
        militants_seen: the living-cell array ``militants_near`` was computed from.
        civilian_totals: free sympathisers, free recruits, detained people, groups with backlash.
        patrol_officers: per grid cell, patrol officers posted there.
        officers_near: per grid cell, patrol officers within vision (with today's multiplier).
        officers_total: officers alive and serving.
        police_layer: the Mesa grid's ``police`` layer (raster), kept equal to ``patrol_officers``.
        national_excitation: national attack-hazard excitation (contagion), 0 at rest.
        regional_excitation: per region, attack-hazard excitation (contagion, raids), 0 at rest.
        grievance_by_region: per region, the mean grievance of its groups under today's pressures.
        grievance_memory: per region, the running mean of that grievance (``trigger_memory_days``).
        groups_by_region: per region, its number of civilian groups.
        sweeps_due: sweeps scheduled, by day and region.
        log: the events so far.
        daily: the daily table.
    """

    layout: RegionalLayout
    params: Any
    people_per_agent: int
    start: dt.date
    neighbourhood: Neighbourhood
    people_near: np.ndarray
    streams: Streams
    civilians: CivilianGroups
    militants: MilitantCells
    police: PoliceUnits
    police_layer: np.ndarray
    daily: DailyTable
    day: int = 0
    hardship_pressure: dict[str, np.ndarray] = field(default_factory=dict)
    legitimacy_gain: dict[str, np.ndarray] = field(default_factory=dict)
    legitimacy_loss: dict[str, np.ndarray] = field(default_factory=dict)
    pressures_changed: bool = False
    law_intensity: float = 0.0
    patrol_multiplier: np.ndarray | None = None
    presence_changed: bool = False
    tip_multiplier: np.ndarray | None = None
    raids_allowed: np.ndarray | None = None
    raid_policy: Any = None
    sweeps_active: bool = False
    sweep_regions: np.ndarray | None = None
    sweep_policy: Any = None
    hardship_today: np.ndarray | None = None
    legitimacy_today: np.ndarray | None = None
    arrest_probability: np.ndarray | None = None
    arrest_level: np.ndarray | None = None
    sympathisers_by_cell: np.ndarray | None = None
    recruits_by_cell: np.ndarray | None = None
    sympathisers_near: np.ndarray | None = None
    militants_near: np.ndarray | None = None
    militants_seen: np.ndarray | None = None
    civilian_totals: np.ndarray = field(default_factory=lambda: np.zeros(4))
    patrol_officers: np.ndarray | None = None
    officers_near: np.ndarray | None = None
    officers_total: int = 0
    national_excitation: float = 0.0
    regional_excitation: np.ndarray | None = None
    grievance_by_region: np.ndarray | None = None
    grievance_memory: np.ndarray | None = None
    groups_by_region: np.ndarray | None = None
    sweeps_due: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    log: EventLog = field(default_factory=EventLog)

    @property
    def n_cells(self) -> int:
        """Grid cells in the country."""
        return self.layout.n_cells

    @property
    def date(self) -> dt.date:
        """Today's date."""
        return self.start + dt.timedelta(days=self.day)
