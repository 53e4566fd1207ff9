"""Epstein's civil-violence core, shared by the national kernels and the docking kernel.

These are numba-compiled free functions, so the same rule runs inside compiled loops
(random-sequential Epstein activation) and over whole numpy arrays (the national model).
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

import numpy as np
from numba import njit


@cache
def _record_type(kind: type) -> np.dtype:
    return np.dtype([(name, np.float64) for name in kind._fields])


def as_record(rates: NamedTuple) -> np.ndarray:
    """A kernel's named constants as a one-element structured array: the kernel reads ``rates[0].name``.

    A structured array passes into a compiled kernel in a third of the time a tuple takes, which
    matters for kernels called every simulated day.
    """
    record = np.zeros(1, dtype=_record_type(type(rates)))
    record[0] = tuple(rates)
    return record


@njit(cache=True)
def grievance(hardship, legitimacy):
    """Epstein's grievance G = H (1 - L)."""
    return hardship * (1.0 - legitimacy)


@njit(cache=True)
def arrest_level(cops, actives):
    """round(C / A), the integer that Epstein's arrest probability depends on.

    ``actives`` counts the deciding agent itself, so it is at least 1. Rounding is half to
    even, as Python's ``round`` in Mesa's reference implementation (not in the PNAS paper, but
    needed to reproduce its dynamics).
    """
    return np.rint(cops / actives)


@njit(cache=True)
def arrest_probability(cops, actives, constant):
    """Estimated arrest probability P = 1 - exp(-k round(C / A))."""
    return 1.0 - np.exp(-constant * arrest_level(cops, actives))


@njit(cache=True)
def goes_active(grievance_value, risk_aversion, arrest_prob, threshold):
    """Epstein's activation rule: G - R P > T."""
    return grievance_value - risk_aversion * arrest_prob > threshold


@njit(cache=True)
def estimated_arrest_level(
    police_in_vision: float,
    sympathisers_in_vision: float,
    police_per_cop: float,
    sympathisers_per_active: float,
) -> float:
    """Epstein's round(C / A) in a grid cell, with officers and sympathisers converted to 'cops' and 'actives'.

    As in Epstein's model the deciding agent counts itself among the actives (the ``1 +``).
    """
    cops = police_in_vision / police_per_cop
    actives = 1.0 + sympathisers_in_vision / sympathisers_per_active
    return arrest_level(cops, actives)
