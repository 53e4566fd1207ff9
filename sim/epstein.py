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

Design. All state lives in numpy arrays (kind, state, jail sentence, hardship, risk aversion,
positions, and a flat occupancy grid holding an agent index or -1). One ``@njit(cache=True)``
kernel performs the whole activation sweep, calling the shared numba core functions and drawing
all randomness from the model's numpy ``Generator`` ``self.rng`` (numba consumes the same
bit-generator stream, so a run is reproducible from ``scenario.seed``). The Von Neumann offsets
are computed once. The Mesa agents :class:`Citizen` and :class:`Cop` are thin read-only *faces*
onto array rows, registered with the model (``model.agents_by_type``) for inspection and
visualisation; they carry no step logic.

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
from numba import njit

from sim.agents.core import arrest_probability, goes_active, grievance
from sim.events import empty_events
from sim.scenario import Scenario

#: Agent kinds in ``EpsteinModel.kind``.
CITIZEN, COP = 0, 1
#: Citizen states in ``EpsteinModel.state``: the codes of the reference's ``CitizenState``.
#: Cops hold ``NO_STATE``.
NO_STATE, ACTIVE, QUIET, ARRESTED = 0, 1, 2, 3
STATE_NAMES = {ACTIVE: "active", QUIET: "quiet", ARRESTED: "arrested"}
#: Codes of :meth:`EpsteinModel.grid_codes`.
EMPTY_CODE, ACTIVE_CODE, QUIET_CODE, JAILED_CODE, COP_CODE = 0, 1, 2, 3, 4
DAILY_COLUMNS = ("date", "step", "active", "quiet", "jailed")
# Cell codes of the kernel's padded lattice.
EMPTY_CELL, COP_CELL, ACTIVE_CELL, OTHER_CITIZEN_CELL = 0, 1, 2, 3


def von_neumann_offsets(radius: int, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Offsets (dx, dy) of a torus Von Neumann neighbourhood, one per distinct cell, centre excluded.

    The cells within Manhattan distance ``radius``; when the diamond wraps onto itself on a
    small torus each cell is kept once (at its shortest offset) and cells that wrap onto the
    centre are dropped, as Mesa's breadth-first neighbourhood does.
    """
    diamond = sorted(
        ((dx, dy) for dx in range(-radius, radius + 1) for dy in range(-(radius - abs(dx)), radius - abs(dx) + 1)),
        key=lambda d: (abs(d[0]) + abs(d[1]), d),
    )
    seen = {(0, 0)}
    kept = []
    for dx, dy in diamond:
        key = (dx % width, dy % height)
        if key not in seen:
            seen.add(key)
            kept.append((dx, dy))
    return np.array([d[0] for d in kept], dtype=np.int64), np.array([d[1] for d in kept], dtype=np.int64)


_TWO53 = 9007199254740992  # 2**53


@njit(cache=True)
def _randbelow(rng, m):
    """Uniform integer in ``[0, m)`` from the Generator's 53-bit doubles, exact (rejection).

    ``rng.random()`` is (next 64-bit draw >> 11) / 2**53, so ``k`` below is 53 uniform bits.
    numba's ``Generator.integers`` costs ~110 ns a call; this costs ~10 ns.
    """
    limit = _TWO53 - _TWO53 % m
    while True:
        k = np.int64(rng.random() * _TWO53)
        if k < limit:
            return k % m


@njit(cache=True)
def _set_code(codes, x, y, value, width, height, radius):
    """Write a cell's code into the padded code grid, halo copies included."""
    padded_height = height + 2 * radius
    for px in range((x + radius) % width, width + 2 * radius, width):
        for py in range((y + radius) % height, padded_height, height):
            codes[px * padded_height + py] = value


@njit(cache=True)
def _step_kernel(
    rng,
    order,
    kind,
    state,
    jail,
    hardship,
    risk_aversion,
    pos_x,
    pos_y,
    occupancy,
    codes,
    width,
    height,
    radius,
    off_x,
    off_y,
    off_flat,
    legitimacy,
    threshold,
    constant,
    max_jail_term,
    movement,
    empties,
    targets,
):
    """One random-sequential activation of every agent (the reference's ``shuffle_do("step")``).

    ``codes`` is the lattice padded by ``radius`` on every side (periodic halo), one byte a
    cell: empty, cop, active citizen, other citizen. A neighbourhood scan is then a branch-free
    pass over ``off_flat`` with no wrap-around arithmetic; ``empties``/``targets`` collect the
    offset indices of empty cells and active citizens in vision.
    """
    n = order.shape[0]
    padded_height = height + 2 * radius
    # Fresh uniform order: Fisher-Yates on the previous permutation.
    for i in range(n - 1, 0, -1):
        j = _randbelow(rng, i + 1)
        tmp = order[i]
        order[i] = order[j]
        order[j] = tmp
    n_offsets = off_flat.shape[0]
    for i in range(n):
        a = order[i]
        is_cop = kind[a] == COP
        if not is_cop and jail[a] > 0:
            jail[a] -= 1
            continue
        x = pos_x[a]
        y = pos_y[a]
        base = (x + radius) * padded_height + (y + radius)
        cops = 0
        actives = 1  # the citizen counts herself
        n_empty = 0
        n_targets = 0
        if is_cop:
            for o in range(n_offsets):
                code = codes[base + off_flat[o]]
                empties[n_empty] = o
                n_empty += code == EMPTY_CELL
                targets[n_targets] = o
                n_targets += code == ACTIVE_CELL
            if n_targets > 0:
                o = targets[_randbelow(rng, n_targets)]
                tx = (x + off_x[o]) % width
                ty = (y + off_y[o]) % height
                arrestee = occupancy[tx * height + ty]
                jail[arrestee] = _randbelow(rng, max_jail_term + 1)
                state[arrestee] = ARRESTED
                _set_code(codes, tx, ty, OTHER_CITIZEN_CELL, width, height, radius)
        else:
            for o in range(n_offsets):
                code = codes[base + off_flat[o]]
                empties[n_empty] = o
                n_empty += code == EMPTY_CELL
                cops += code == COP_CELL
                actives += code == ACTIVE_CELL
            p = arrest_probability(cops, actives, constant)
            if goes_active(grievance(hardship[a], legitimacy), risk_aversion[a], p, threshold):
                state[a] = ACTIVE
                new_code = ACTIVE_CELL
            else:
                state[a] = QUIET
                new_code = OTHER_CITIZEN_CELL
            if codes[base] != new_code:
                _set_code(codes, x, y, new_code, width, height, radius)
        if movement and n_empty > 0:
            o = empties[_randbelow(rng, n_empty)]
            nx = (x + off_x[o]) % width
            ny = (y + off_y[o]) % height
            _set_code(codes, nx, ny, codes[base], width, height, radius)
            _set_code(codes, x, y, EMPTY_CELL, width, height, radius)
            occupancy[x * height + y] = -1
            occupancy[nx * height + ny] = a
            pos_x[a] = nx
            pos_y[a] = ny


class _Face(mesa.Agent):
    """A read-only Mesa view onto one row of the model's arrays; no step logic."""

    def __init__(self, model: EpsteinModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def position(self) -> tuple[int, int]:
        """Grid cell (x, y)."""
        return int(self.model.pos_x[self.index]), int(self.model.pos_y[self.index])


class Citizen(_Face):
    """A citizen: hardship, risk aversion, grievance, state and jail sentence."""

    @property
    def state(self) -> str:
        """``"active"``, ``"quiet"`` or ``"arrested"``."""
        return STATE_NAMES[int(self.model.state[self.index])]

    @property
    def hardship(self) -> float:
        """Perceived hardship H ~ U(0, 1)."""
        return float(self.model.hardship[self.index])

    @property
    def risk_aversion(self) -> float:
        """Risk aversion R ~ U(0, 1)."""
        return float(self.model.risk_aversion[self.index])

    @property
    def grievance(self) -> float:
        """G = H (1 - L)."""
        return float(grievance(self.model.hardship[self.index], self.model.settings.legitimacy))

    @property
    def jail_sentence(self) -> int:
        """Remaining jail steps (0 when free or about to be released)."""
        return int(self.model.jail[self.index])


class Cop(_Face):
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

        self.kind = cell_kind[cells].astype(np.int8)
        self.pos_x = (cells // s.height).astype(np.int64)
        self.pos_y = (cells % s.height).astype(np.int64)
        self.occupancy = np.full(n_cells, -1, dtype=np.int64)
        self.occupancy[cells] = np.arange(n_agents)
        is_citizen = self.kind == CITIZEN
        self.state = np.where(is_citizen, QUIET, NO_STATE).astype(np.int8)
        self.jail = np.zeros(n_agents, dtype=np.int64)
        self.hardship = np.zeros(n_agents)
        self.risk_aversion = np.zeros(n_agents)
        n_citizens = int(is_citizen.sum())
        self.hardship[is_citizen] = self.rng.random(n_citizens)
        self.risk_aversion[is_citizen] = self.rng.random(n_citizens)
        self.n_citizens = n_citizens
        self.n_cops = n_agents - n_citizens

        r = self.radius = s.cop_vision
        self._off_x, self._off_y = von_neumann_offsets(r, s.width, s.height)
        self._off_flat = self._off_x * (s.height + 2 * r) + self._off_y
        cell_codes = np.full(n_cells, EMPTY_CELL, dtype=np.int8)
        cell_codes[cells] = np.where(is_citizen, OTHER_CITIZEN_CELL, COP_CELL)
        self._codes = np.pad(cell_codes.reshape(s.width, s.height), r, mode="wrap").ravel()
        self._order = np.arange(n_agents, dtype=np.int64)
        self._empties = np.empty(self._off_x.size, dtype=np.int64)
        self._targets = np.empty(self._off_x.size, dtype=np.int64)

        for index in range(n_agents):
            (Citizen if is_citizen[index] else Cop)(self, index)

        self.initial_counts = self._counts()
        self._records: list[tuple[int, int, int, int]] = []
        self.running = scenario.period.days > 0

    def _counts(self) -> tuple[int, int, int]:
        """(active, quiet, arrested) citizens, as the reference's ``_update_counts``."""
        counts = np.bincount(self.state, minlength=4)
        return int(counts[ACTIVE]), int(counts[QUIET]), int(counts[ARRESTED])

    def step(self) -> None:
        """One day: a random-sequential activation of all agents, then the counts."""
        s = self.settings
        _step_kernel(
            self.rng,
            self._order,
            self.kind,
            self.state,
            self.jail,
            self.hardship,
            self.risk_aversion,
            self.pos_x,
            self.pos_y,
            self.occupancy,
            self._codes,
            s.width,
            s.height,
            self.radius,
            self._off_x,
            self._off_y,
            self._off_flat,
            s.legitimacy,
            s.active_threshold,
            s.arrest_prob_constant,
            s.max_jail_term,
            s.movement,
            self._empties,
            self._targets,
        )
        self._records.append((self.steps, *self._counts()))
        if self.steps >= self.spec.period.days:
            self.running = False

    def run(self, steps: int | None = None) -> pd.DataFrame:
        """Run ``steps`` steps (default: the rest of the scenario period) and return :meth:`daily_frame`."""
        remaining = self.spec.period.days - self.steps if steps is None else steps
        for _ in range(max(remaining, 0)):
            self.step()
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
        codes = np.full(self.width * self.height, EMPTY_CODE, dtype=np.int8)
        occupied = self.occupancy >= 0
        agents = self.occupancy[occupied]
        codes[occupied] = np.where(self.kind[agents] == COP, COP_CODE, self.state[agents])
        return codes.reshape(self.width, self.height)
