"""Epstein (2002) civil violence, Model 1: the docking configuration of kazsim (``model = "epstein"``)."""

from sim.epstein.kernel import (
    ACTIVE,
    ACTIVE_CELL,
    ACTIVE_CODE,
    ARRESTED,
    CITIZEN,
    COP,
    COP_CELL,
    COP_CODE,
    EMPTY_CELL,
    EMPTY_CODE,
    JAILED_CODE,
    NO_STATE,
    OTHER_CITIZEN_CELL,
    QUIET,
    QUIET_CODE,
    STATE_NAMES,
    Lattice,
    von_neumann_offsets,
)
from sim.epstein.model import DAILY_COLUMNS, Citizen, Cop, EpsteinModel

__all__ = ["ACTIVE", "ACTIVE_CELL", "ACTIVE_CODE", "ARRESTED", "CITIZEN", "COP", "COP_CELL", "COP_CODE",
           "DAILY_COLUMNS", "EMPTY_CELL", "EMPTY_CODE", "JAILED_CODE", "NO_STATE", "OTHER_CITIZEN_CELL", "QUIET",
           "QUIET_CODE", "STATE_NAMES", "Citizen", "Cop", "EpsteinModel", "Lattice", "von_neumann_offsets"]
