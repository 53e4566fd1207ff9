"""Epstein (2002) civil violence, Model 1: the docking configuration of kazsim.

This model reproduces, rule for rule, Mesa's reference implementation
``mesa.examples.advanced.epstein_civil_violence`` (Mesa 3.5.1), so that kazsim's shared core
(:mod:`sim.agents.core`) can be docked against it (``tests/test_epstein_docking.py``).

Semantics copied from the reference:

* Torus of ``width x height`` cells, at most one agent per cell. Each cell independently holds a
  citizen with probability ``citizen_density``, a cop with probability ``cop_density``, else
  nothing. Citizens draw hardship H and risk aversion R from U(0, 1) and start quiet.
* One step is one random-sequential activation of *all* agents, citizens and cops mixed, in a
  fresh uniformly random order (the reference's ``agents.shuffle_do("step")``).
* Both kinds look at the Von Neumann neighbourhood (Manhattan radius, torus distance, centre
  excluded) of radius ``cop_vision``. Citizens too use ``cop_vision``: that is a known deviation
  of the reference, kept here so the two dock; ``citizen_vision`` is unused, as there.
* A citizen with a jail sentence > 0 decrements it and does nothing else. Otherwise it counts
  cops C and active citizens A in vision (A starts at 1: itself), estimates
  P = 1 - exp(-k rint(C / A)) (half-to-even), turns active if G - R P > T with G = H (1 - L),
  else quiet, and then moves to a uniformly random empty cell in vision, if any.
* A cop picks one uniformly random *active* citizen in vision, if any, gives it a sentence
  drawn from U{0, ..., max_jail_term} and state "arrested", then moves like a citizen.
* Jailed citizens stay on their cell and keep occupying it. A citizen stays "arrested" until its
  next activation with a zero sentence (a zero sentence releases it at its next activation).
* Counts are taken after the whole activation sweep, by citizen state (active, quiet, arrested),
  exactly as the reference's ``_update_counts`` + ``DataCollector`` do.

Design. All state lives in the arrays of a :class:`Lattice` (kind, state, jail sentence,
hardship, risk aversion, positions, and a flat occupancy grid holding an agent index or -1).
One compiled kernel (:mod:`sim.epstein.kernel`) performs the whole activation sweep. The Mesa
agents :class:`Citizen` and :class:`Cop` are read-only faces (``sim.faces``) onto its rows,
registered with the model (``model.agents_by_type``) for inspection and visualisation; they
carry no step logic.

No Mesa grid is kept: a ``discrete_space`` grid would have to be updated from Python after
every move (hundreds of moves per step) and its first-step neighbourhood memoisation alone costs
more than the whole kernel, which would defeat the point of the array kernel (~100x faster than
the reference). Faces expose ``position`` (x, y) instead, and :meth:`EpsteinModel.grid_codes`
returns the whole lattice as one array for plotting.

The random streams differ from the reference (numpy ``Generator`` vs stdlib ``random``), so
docking is statistical, not bit-for-bit.

Output. :meth:`EpsteinModel.daily_frame` has one row per *completed* step (step 1 is dated
``period.start``). The initial condition (the reference's DataCollector row 0: every citizen
quiet, none jailed) is deterministic and carries no information, so it is not a row; it is
available as :attr:`EpsteinModel.initial_counts`. To dock, compare against the reference's
rows 1..n.
"""

from __future__ import annotations

import datetime as dt

import mesa
import numpy as np
import pandas as pd

from sim.agents.core import grievance
from sim.epstein.kernel import (
    ACTIVE,
    ARRESTED,
    CITIZEN,
    COP,
    COP_CELL,
    COP_CODE,
    EMPTY_CELL,
    EMPTY_CODE,
    NO_STATE,
    OTHER_CITIZEN_CELL,
    QUIET,
    STATE_NAMES,
    Lattice,
    activation_sweep,
    epstein_rules,
    von_neumann_torus,
)
from sim.events import empty_events
from sim.faces import Column, Face
from sim.record import EventLog
from sim.scenario import Scenario

DAILY_COLUMNS = ("date", "step", "active", "quiet", "jailed")


class LatticeFace(Face):
    """An agent of the Epstein model: a view onto one row of the :class:`Lattice`."""

    table = "lattice"

    @property
    def position(self) -> tuple[int, int]:
        """Grid cell (x, y)."""
        lattice = self.rows
        return int(lattice.pos_x[self.index]), int(lattice.pos_y[self.index])


class Citizen(LatticeFace):
    """A citizen: hardship, risk aversion, grievance, state and jail sentence."""

    state = Column("state", lambda v: STATE_NAMES[int(v)], "``active``, ``quiet`` or ``arrested``.")
    hardship = Column("hardship", float, "Perceived hardship H ~ U(0, 1).")
    risk_aversion = Column("risk_aversion", float, "Risk aversion R ~ U(0, 1).")
    jail_sentence = Column("jail", int, "Remaining jail steps (0 when free or about to be released).")

    @property
    def grievance(self) -> float:
        """G = H (1 - L)."""
        return float(grievance(self.rows.hardship[self.index], self.model.settings.legitimacy))


class Cop(LatticeFace):
    """A cop: arrests one random active citizen in vision each step, then moves."""


class EpsteinModel(mesa.Model):
    """Epstein (2002) Model 1 on arrays with a numba kernel; docks with Mesa's reference model.

    Args:
        scenario: a scenario whose ``epstein`` table gives the settings.
        rng: seed; defaults to ``scenario.seed``.
    """

    def __init__(self, scenario: Scenario, rng: int | None = None) -> None:
        super().__init__(rng=scenario.seed if rng is None else rng)
        #: The validated kazsim scenario. ``model.scenario`` stays Mesa's own ``Scenario`` (Mesa
        #: sets ``scenario.model`` on it, which a frozen kazsim scenario refuses, and SolaraViz
        #: expects a Mesa one).
        self.spec = scenario
        self.settings = s = scenario.epstein
        self.width, self.height = s.width, s.height
        n_cells = s.width * s.height

        # Placement in cell order (x major), as the reference's loop over grid.all_cells.
        u = self.rng.random(n_cells)
        cell_kind = np.full(n_cells, -1, dtype=np.int64)
        cell_kind[u < s.citizen_density + s.cop_density] = COP
        cell_kind[u < s.citizen_density] = CITIZEN
        cells = np.flatnonzero(cell_kind >= 0)
        n_agents = cells.size
        kind = cell_kind[cells].astype(np.int8)
        is_citizen = kind == CITIZEN
        occupancy = np.full(n_cells, -1, dtype=np.int64)
        occupancy[cells] = np.arange(n_agents)
        self.lattice = lattice = Lattice(
            kind=kind,
            state=np.where(is_citizen, QUIET, NO_STATE).astype(np.int8),
            jail=np.zeros(n_agents, dtype=np.int64),
            hardship=np.zeros(n_agents),
            risk_aversion=np.zeros(n_agents),
            pos_x=(cells // s.height).astype(np.int64),
            pos_y=(cells % s.height).astype(np.int64),
            occupancy=occupancy,
        )
        n_citizens = int(is_citizen.sum())
        lattice.hardship[is_citizen] = self.rng.random(n_citizens)
        lattice.risk_aversion[is_citizen] = self.rng.random(n_citizens)
        self.n_citizens = n_citizens
        self.n_cops = n_agents - n_citizens

        self.radius = s.cop_vision
        self._torus = von_neumann_torus(s.width, s.height, self.radius)
        self._rules = epstein_rules(s)
        cell_codes = np.full(n_cells, EMPTY_CELL, dtype=np.int8)
        cell_codes[cells] = np.where(is_citizen, OTHER_CITIZEN_CELL, COP_CELL)
        self._codes = np.pad(cell_codes.reshape(s.width, s.height), self.radius, mode="wrap").ravel()
        self._order = np.arange(n_agents, dtype=np.int64)
        self._empties = np.empty(self._torus.off_flat.size, dtype=np.int64)
        self._targets = np.empty(self._torus.off_flat.size, dtype=np.int64)

        for index in range(n_agents):
            (Citizen if is_citizen[index] else Cop)(self, index)

        self.initial_counts = self._counts()
        self.events = EventLog()  # Model 1 has no incidents
        self._records: list[tuple[int, int, int, int]] = []
        self.running = scenario.period.days > 0

    @property
    def day(self) -> int:
        """Steps simulated so far (one step is one day)."""
        return self.steps

    @property
    def date(self) -> dt.date:
        """The date of the next step."""
        return self.spec.period.start + dt.timedelta(days=self.steps)

    def _counts(self) -> tuple[int, int, int]:
        """(active, quiet, arrested) citizens, as the reference's ``_update_counts``."""
        counts = np.bincount(self.lattice.state, minlength=4)
        return int(counts[ACTIVE]), int(counts[QUIET]), int(counts[ARRESTED])

    def step(self) -> None:
        """One day: a random-sequential activation of all agents, then the counts."""
        activation_sweep(self.rng, self._order, self.lattice, self._codes, self._torus, self._rules, self._empties,
                         self._targets)
        self._records.append((self.steps, *self._counts()))
        if self.steps >= self.spec.period.days:
            self.running = False

    def run(self, steps: int | None = None) -> pd.DataFrame:
        """Run ``steps`` steps (default: the rest of the scenario period) and return :meth:`daily_frame`."""
        remaining = self.spec.period.days - self.steps if steps is None else steps
        self.run_for(max(remaining, 0))  # Mesa's loop: one step per time unit
        return self.daily_frame()

    def daily_frame(self) -> pd.DataFrame:
        """One row per completed step: ``date, step, active, quiet, jailed`` (step 1 is ``period.start``)."""
        records = np.array(self._records, dtype=np.int64).reshape(-1, 4)
        start = self.spec.period.start
        dates = [start + dt.timedelta(days=int(step) - 1) for step in records[:, 0]]
        return pd.DataFrame(
            {
                "date": pd.to_datetime(pd.Series(dates, dtype="object")).astype("datetime64[ns]"),
                "step": records[:, 0],
                "active": records[:, 1],
                "quiet": records[:, 2],
                "jailed": records[:, 3],
            },
            columns=list(DAILY_COLUMNS),
        )

    def events_frame(self) -> pd.DataFrame:
        """Model 1 emits no incidents: an empty event table in the shared schema."""
        return empty_events()

    def grid_codes(self) -> np.ndarray:
        """The lattice as a ``(width, height)`` array of codes: 0 empty, 1 active, 2 quiet, 3 jailed, 4 cop."""
        lattice = self.lattice
        codes = np.full(self.width * self.height, EMPTY_CODE, dtype=np.int8)
        occupied = lattice.occupancy >= 0
        agents = lattice.occupancy[occupied]
        codes[occupied] = np.where(lattice.kind[agents] == COP, COP_CODE, lattice.state[agents])
        return codes.reshape(self.width, self.height)
