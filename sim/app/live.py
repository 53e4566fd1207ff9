"""What the page runs: a model of either kind built from the page's controls, stepped day by day, whose
levers a teacher may change during the run (from the next day on, recorded in its scenario)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import ValidationError

from sim.app.controls import (
    DEFAULT_SCENARIO,
    base_scenario,
    scenario_from_controls,
    scenario_names,
    validated_change,
)
from sim.errors import KazsimInputError
from sim.protocol import SimulationModel
from sim.run import build_model
from sim.scenario import SCENARIOS_DIR, Scenario, ScenarioError


class LiveModel:
    """The page's model: a kazsim model built from the controls (national or Epstein's grid).

    A bad control value does not stop the page: the scenario file's own values are used and
    ``input_error`` holds the message to show.
    """

    def __init__(self, scenario_name: str = DEFAULT_SCENARIO, seed: str = "", flash_days: int = 30,
                 **controls: Any) -> None:
        """Build the model the controls describe.

        Args:
            scenario_name: a scenario the page offers (``sim.app.controls.scenario_names``).
            seed: the seed as typed (blank: the scenario's).
            flash_days: incidents of the last days to highlight on the map.
            controls: lever control values by name (``sim.app.controls``), replacing the file's.
        """
        self.input_error: str | None = None
        try:
            spec = scenario_from_controls(scenario_name, controls, seed)
        except KazsimInputError as error:
            fallback = scenario_name if isinstance(scenario_name, str) and scenario_name in scenario_names() \
                else DEFAULT_SCENARIO
            self.input_error = f"{error}. Running {fallback} with the file's own values."
            spec = base_scenario(fallback)
        try:
            self.flash_days = max(1, min(366, int(flash_days)))
        except (TypeError, ValueError, OverflowError):
            self.flash_days = 30
        self.sim: SimulationModel = build_model(spec)

    @property
    def spec(self) -> Scenario:
        """The run's scenario, with every policy change made so far as dated phases."""
        return self.sim.spec

    @property
    def days(self) -> int:
        """Days simulated so far."""
        return self.sim.day

    @property
    def date(self) -> dt.date:
        """The date of the next day to simulate."""
        return self.sim.date

    @property
    def finished(self) -> bool:
        """Whether the scenario's period has been simulated."""
        return self.days >= self.spec.period.days

    @property
    def changes_policy(self) -> bool:
        """Whether the levers of this model can change during the run (the national model's can)."""
        return hasattr(self.sim, "change_policy")

    def step(self) -> None:
        """One day of the underlying model (nothing once the period is over)."""
        if not self.finished:
            self.sim.step()

    def change(self, name: str, value: Any) -> None:
        """Set lever control ``name`` to ``value`` from the next day on (before the first day: from the start).

        Raises:
            KazsimInputError: a value the schema refuses, a model without levers, or a change that would
                rewrite days already simulated.
        """
        path = SCENARIOS_DIR / f"{self.spec.name}.toml"
        if not self.changes_policy:
            raise KazsimInputError(f"the {self.spec.model} model has no policy levers")
        family, change = validated_change(name, value, path)
        try:
            levers = self.spec.levers.changed(family, change, self.date, self.spec.period.start)
        except ValidationError as error:
            first = error.errors()[0]
            field = f"levers.{family}.{first['loc'][-1] if first['loc'] else ''}".rstrip(".")
            raise ScenarioError(path, field, f"{first['msg']} (got {str(value)[:80]!r})") from None
        self.sim.change_policy(levers)
