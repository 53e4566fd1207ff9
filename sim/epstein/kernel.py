"""The Epstein (2002) activation sweep as one compiled kernel, with the torus neighbourhood it scans.

All state lives in the numpy arrays of a :class:`Lattice`; one ``@njit(cache=True)`` kernel,
:func:`activation_sweep`, performs the whole random-sequential activation over the :class:`Torus`
with the :class:`EpsteinRules`, calling the shared Epstein core
(:mod:`sim.agents.core`) and drawing all randomness from the model's numpy ``Generator`` (numba
consumes the same bit-generator stream, so a run is reproducible from ``scenario.seed``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from sim.agents.core import arrest_probability, goes_active, grievance

#: Agent kinds in ``EpsteinModel.kind``.
CITIZEN, COP = 0, 1
#: Citizen states in ``EpsteinModel.state``: the codes of the reference's ``CitizenState``.
#: Cops hold ``NO_STATE``.
NO_STATE, ACTIVE, QUIET, ARRESTED = 0, 1, 2, 3
STATE_NAMES = {ACTIVE: "active", QUIET: "quiet", ARRESTED: "arrested"}
#: Codes of :meth:`EpsteinModel.grid_codes`.
EMPTY_CODE, ACTIVE_CODE, QUIET_CODE, JAILED_CODE, COP_CODE = 0, 1, 2, 3, 4
# Cell codes of the kernel's padded lattice.
EMPTY_CELL, COP_CELL, ACTIVE_CELL, OTHER_CITIZEN_CELL = 0, 1, 2, 3


class Lattice(NamedTuple):
    """State of every agent on the torus, one array element per agent (citizens and cops).

    Attributes:
        kind: CITIZEN or COP.
        state: ACTIVE, QUIET or ARRESTED for citizens; NO_STATE for cops.
        jail: remaining jail steps.
        hardship: perceived hardship H ~ U(0, 1) (citizens).
        risk_aversion: risk aversion R ~ U(0, 1) (citizens).
        pos_x: column of the agent's cell.
        pos_y: row of the agent's cell.
        occupancy: per cell (``x * height + y``), the agent there or -1.
    """

    kind: np.ndarray
    state: np.ndarray
    jail: np.ndarray
    hardship: np.ndarray
    risk_aversion: np.ndarray
    pos_x: np.ndarray
    pos_y: np.ndarray
    occupancy: np.ndarray


class Torus(NamedTuple):
    """The torus and the neighbourhood every agent scans: sides, vision radius and the offsets in vision.

    The kernel keeps the lattice's cell codes padded by ``radius`` on every side (a periodic halo),
    so ``off_flat`` (offsets into that padded grid) needs no wrap-around arithmetic.
    """

    width: int
    height: int
    radius: int
    off_x: np.ndarray
    off_y: np.ndarray
    off_flat: np.ndarray


def von_neumann_torus(width: int, height: int, radius: int) -> Torus:
    """The ``width`` x ``height`` torus with a Von Neumann neighbourhood of ``radius``."""
    off_x, off_y = von_neumann_offsets(radius, width, height)
    return Torus(width, height, radius, off_x, off_y, off_x * (height + 2 * radius) + off_y)


class EpsteinRules(NamedTuple):
    """The constants of the activation rule (Epstein 2002, Model 1)."""

    legitimacy: float
    threshold: float
    arrest_constant: float
    max_jail_term: int
    movement: bool


def epstein_rules(settings) -> EpsteinRules:
    """The rule's constants from a scenario's ``epstein`` settings."""
    return EpsteinRules(
        legitimacy=float(settings.legitimacy),
        threshold=float(settings.active_threshold),
        arrest_constant=float(settings.arrest_prob_constant),
        max_jail_term=int(settings.max_jail_term),
        movement=bool(settings.movement),
    )


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
def activation_sweep(rng, order, lattice, codes, torus, rules, empties, targets):
    """One random-sequential activation of every agent (the reference's ``shuffle_do("step")``).

    ``order`` is the previous step's order, reshuffled in place. ``codes`` is the lattice padded by
    ``torus.radius`` on every side (periodic halo), one byte a cell: empty, cop, active citizen,
    other citizen. A neighbourhood scan is then a branch-free pass over ``torus.off_flat`` with no
    wrap-around arithmetic; ``empties``/``targets`` (one slot per offset) collect the offset indices
    of empty cells and active citizens in vision.
    """
    kind, state, jail, hardship, risk_aversion, pos_x, pos_y, occupancy = lattice
    width, height, radius, off_x, off_y, off_flat = torus
    legitimacy, threshold, constant, max_jail_term, movement = rules
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
