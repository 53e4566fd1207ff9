"""What the page runs: a model of either kind built from the page's controls, stepped day by day."""

from __future__ import annotations

import datetime as dt
from typing import Any

import mesa

from sim.app.controls import DEFAULT_SCENARIO, base_scenario, scenario_from_controls, scenario_names
from sim.errors import KazsimInputError
from sim.protocol import SimulationModel
from sim.run import build_model


class LiveModel(mesa.Model):
    """The page's model: a kazsim model built from the controls (national or Epstein's grid).

    A bad control value does not stop the page: the scenario file's own values are used and
    ``input_error`` holds the message to show.
    """

    def __init__(self, scenario_name: str = DEFAULT_SCENARIO, seed: str = "", flash_days: int = 30,
                 scenario: Any = None, **controls: Any) -> None:
        """Build the model the controls describe.

        Args:
            scenario_name: a scenario of ``scenarios/``.
            seed: the seed as typed (blank: the scenario's).
            flash_days: incidents of the last days to highlight on the map.
            scenario: Mesa's own scenario object, which SolaraViz passes to a model taking ``**kwargs``;
                kazsim's scenario comes from ``scenario_name`` and the controls, so it is not used.
            controls: the lever controls by name (``sim.app.controls``).
        """
        super().__init__(rng=0)
        self.input_error: str | None = None
        try:
            spec = scenario_from_controls(scenario_name, controls, seed)
        except KazsimInputError as error:
            fallback = scenario_name if isinstance(scenario_name, str) and scenario_name in scenario_names() \
                else DEFAULT_SCENARIO
            self.input_error = f"{error}. Running {fallback} with the file's own values."
            spec = base_scenario(fallback)
        self.spec = spec
        try:
            self.flash_days = max(1, min(366, int(flash_days)))
        except (TypeError, ValueError, OverflowError):
            self.flash_days = 30
        self.sim: SimulationModel = build_model(spec)
        self.running = True

    @property
    def days(self) -> int:
        """Days simulated so far."""
        return self.sim.day

    @property
    def date(self) -> dt.date:
        """The date of the next day to simulate."""
        return self.sim.date

    def step(self) -> None:
        """One day of the underlying model."""
        if self.days >= self.spec.period.days:
            self.running = False
            return
        self.sim.step()
        self.running = self.days < self.spec.period.days
