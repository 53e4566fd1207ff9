"""Policy levers: the registry of lever families, and the plan that applies them to a run.

A scenario's ``[levers]`` table holds one table per registered family (``REGISTRY``); the
scenario schema validates each with its family's settings, so adding a family is one new module
(settings, daily values, effect, controls) and one line in :data:`FAMILIES`. Each day,
:class:`LeverPlan` calls the effect of every family whose values changed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, model_validator
from pydantic_core import InitErrorDetails

from sim.errors import KazsimInputError
from sim.levers import informants, patrols, raids, religion_law, sweeps
from sim.levers.base import Control, FamilySchedule, LeverFamily, LeverSettings, Reach, is_active, schedule

if TYPE_CHECKING:
    from sim.world import World

__all__ = ["FAMILIES", "REGISTRY", "Control", "LeverFamily", "LeverPlan", "LeverSettings", "Levers",
           "PolicyChangeError", "is_active", "lever_table", "register", "unregister"]

#: The lever families, in the order their effects apply each day.
FAMILIES: tuple[LeverFamily, ...] = (
    religion_law.FAMILY,
    raids.FAMILY,
    sweeps.FAMILY,
    patrols.FAMILY,
    informants.FAMILY,
)
REGISTRY: dict[str, LeverFamily] = {family.name: family for family in FAMILIES}


class PolicyChangeError(KazsimInputError):
    """A policy change during a run that would rewrite days already simulated."""


def register(family: LeverFamily) -> None:
    """Add a lever family (scenarios may then set ``[levers.<name>]``)."""
    if family.name in REGISTRY:
        raise ValueError(f"a lever family {family.name!r} is already registered")
    REGISTRY[family.name] = family


def unregister(name: str) -> None:
    """Remove a lever family added with :func:`register`."""
    del REGISTRY[name]


class Levers(BaseModel):
    """Every registered lever family's settings, by family name (``scenario.levers.raids``)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _by_family(cls, data: Any, info: ValidationInfo) -> dict[str, LeverSettings]:
        if isinstance(data, Levers):
            return dict(data)
        if not isinstance(data, dict):
            raise ValueError("expected a table of lever families")
        errors = [InitErrorDetails(type="extra_forbidden", loc=(key,), input=value)
                  for key, value in data.items() if key not in REGISTRY]
        settings = {}
        for name, family in REGISTRY.items():
            table = data.get(name, {})
            try:
                if isinstance(table, family.settings):
                    settings[name] = table
                elif info.mode == "json":
                    settings[name] = family.settings.model_validate_json(json.dumps(table))
                else:
                    settings[name] = family.settings.model_validate(table)
            except ValidationError as error:
                errors += [InitErrorDetails(type=e["type"], loc=(name, *e["loc"]), input=e["input"],
                                            ctx=e.get("ctx", {})) for e in error.errors()]
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        return settings

    def __iter__(self):
        return iter((name, getattr(self, name)) for name in REGISTRY if hasattr(self, name))

    def family(self, name: str) -> LeverSettings:
        """The settings of family ``name``."""
        return getattr(self, name)

    def changed(self, family: str, changes: Mapping[str, Any], date: dt.date, first_day: dt.date) -> Levers:
        """These levers with family ``family``'s ``changes`` in force from ``date`` on (a dated phase after
        ``first_day``; see :meth:`LeverSettings.changed_from`).

        Raises:
            pydantic.ValidationError: an unknown family or field, or a value the schema refuses.
        """
        if family not in REGISTRY:
            raise ValidationError.from_exception_data(type(self).__name__, [
                InitErrorDetails(type="extra_forbidden", loc=(family,), input=dict(changes))])
        settings = dict(self)
        settings[family] = self.family(family).changed_from(date, changes, first_day)
        return Levers.model_validate(settings)


class LeverPlan:
    """The levers of one run: each family's daily values and reach, applied to the world day by day."""

    def __init__(self, levers: Levers, world: World, days: int) -> None:
        """Evaluate every family's values for ``days`` days and its reach on the world's layout."""
        self.levers = levers
        self.start = world.start
        self.parameters = world.params
        regions, layout = world.layout.regions, world.layout
        self.families = [REGISTRY[name] for name in REGISTRY]
        self.reach = {family.name: Reach.of(levers.family(family.name), regions, world.civilians.region,
                                            layout.cell_region) for family in self.families}
        self.schedules = self._schedules(days)

    def _schedules(self, days: int) -> dict[str, FamilySchedule]:
        schedules = {family.name: schedule(family, self.levers.family(family.name), self.start, days,
                                           self.parameters)
                     for family in self.families}
        # Plain lists: a day's lookup then costs no numpy scalar (this runs every simulated day).
        self._changed = [(family, schedules[family.name], schedules[family.name].changed.tolist())
                         for family in self.families]
        self._any_changed = np.any([s.changed for s in schedules.values()], axis=0).tolist() if schedules else []
        self._days = days
        return schedules

    def apply(self, world: World) -> bool:
        """Today's effect of every family whose values changed (all on day 0), in registry order.

        Returns:
            Whether any family's values changed today.
        """
        day = world.day
        if day >= self._days:
            self.schedules = self._schedules(2 * day)
        if not self._any_changed[day]:
            return False
        for family, plan, changed in self._changed:
            if changed[day]:
                family.apply(world, plan.on(day), self.reach[family.name])
        return True

    def values(self, name: str) -> dict[str, np.ndarray]:
        """Family ``name``'s daily values over the run."""
        return self.schedules[name].values

    def agrees_until(self, other: LeverPlan, days: int) -> bool:
        """Whether ``other`` has every family reach the same places with the same values on the first ``days`` days."""
        if days <= 0:
            return True
        for family in self.families:
            name = family.name
            if name not in other.schedules or len(other.schedules[name]) < days:
                return False
            mine, theirs = self.reach[name], other.reach[name]
            if not (np.array_equal(mine.groups, theirs.groups) and np.array_equal(mine.regions, theirs.regions)):
                return False
            values, other_values = self.schedules[name].values, other.schedules[name].values
            if values.keys() != other_values.keys() or any(
                    not np.array_equal(values[key][:days], other_values[key][:days]) for key in values):
                return False
        return True


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "[]" if not value else str(value)
    return str(value)


def _bounds(field) -> str:
    low = high = None
    low_open = high_open = False
    for item in field.metadata:
        for name, attribute in (("ge", "ge"), ("gt", "gt"), ("le", "le"), ("lt", "lt")):
            value = getattr(item, attribute, None)
            if value is None:
                continue
            if name in ("ge", "gt"):
                low, low_open = value, name == "gt"
            else:
                high, high_open = value, name == "lt"
    if low is None and high is None:
        return ""
    return f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"


def lever_table() -> str:
    """Every lever family's fields as a Markdown table (pasted into ``docs/ODD.md``; a test keeps them equal)."""
    lines = ["| lever field | unit | default | bounds | meaning |", "|---|---|---|---|---|"]
    for name, family in REGISTRY.items():
        for field_name, field in family.settings.model_fields.items():
            unit = (field.json_schema_extra or {}).get("policy_unit", "")
            lines.append(f"| `{name}.{field_name}` | {unit} | {_shown(field.default)} | {_bounds(field)} | "
                         f"{(field.description or '').replace('|', '\\|')} |")
    return "\n".join(lines) + "\n"
