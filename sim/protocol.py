"""What running, batches, calibration and the teaching page need of a model, whatever its kind."""

from __future__ import annotations

import datetime as dt
from typing import Protocol, runtime_checkable

import pandas as pd

from sim.record import EventLog
from sim.scenario import Scenario


@runtime_checkable
class SimulationModel(Protocol):
    """A model of kazsim: built from a scenario and a seed, stepped one day at a time.

    Both the national model (``sim.model``) and the Epstein docking model (``sim.epstein``) are one.
    """

    spec: Scenario
    events: EventLog

    def __init__(self, scenario: Scenario, rng: int | None = None) -> None: ...

    @property
    def day(self) -> int:
        """Days simulated so far."""

    @property
    def date(self) -> dt.date:
        """The date of the next day to simulate."""

    def step(self) -> None:
        """Simulate one day."""

    def daily_frame(self) -> pd.DataFrame:
        """One row per simulated day."""

    def events_frame(self) -> pd.DataFrame:
        """The simulated incidents in the incident schema (``sim.events``)."""
