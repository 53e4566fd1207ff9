"""What every lever family shares: dated settings with policy phases, reach, the daily schedule.

A lever family (one module in ``sim.levers``) declares

* its **settings**: a :class:`LeverSettings` subclass (the scenario's ``[levers.<name>]`` table),
  made phase-able by :func:`phased`;
* its **daily values**: what the policy amounts to on each day, given how strongly people respond to it
  (the behavioural parameters of ``sim.parameters``; ``daily``);
* its **effect on the world**: how today's values change the :class:`~sim.world.World` (``apply``);
* its **controls** for the teaching page.

Every lever is switched on by ``enabled``, acts from ``start`` to ``end`` (both optional) and in
the listed ``regions`` only (default: everywhere). A **policy timeline** gives the lever dated
``phases``: from each phase's ``start`` on, the fields the phase names replace the ones before
(e.g. raids at the 2011 threshold until 30 September, then ``intel_threshold = 0.5``).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from pydantic import Field, create_model, model_validator

from sim.schema import Date, RegionName, StrictModel

if TYPE_CHECKING:
    from sim.world import World

#: Fields every lever has that phases do not change.
FIXED_FIELDS = ("start", "end", "regions", "phases")
MAX_PHASES = 100


def policy(default: Any, description: str, unit: str, **constraints: Any) -> Any:
    """A lever setting that says what the policy was (how much, how often, how targeted), in ``unit``.

    Only such settings, dates, regions and switches may be lever fields: how strongly people and
    militants respond to a policy is a registry parameter (``sim.parameters``), calibrated or drawn
    from its prior, never a scenario's number. A test walks every lever field and enforces this.
    """
    return Field(default, description=description, json_schema_extra={"policy_unit": unit}, **constraints)


class LeverSettings(StrictModel):
    """A dated intervention: active from ``start`` to ``end`` (both optional) when enabled, in the
    listed ``regions`` only (default: everywhere)."""

    enabled: bool = Field(True, description="whether the lever acts")
    start: Date | None = Field(None, description="first day the lever acts (none: from the start of the run)")
    end: Date | None = Field(None, description="last day the lever acts (none: to the end of the run)")
    regions: Annotated[list[RegionName], Field(max_length=16)] | None = Field(
        None, description="regions the lever reaches (none: all)")

    @model_validator(mode="after")
    def _consistent(self) -> LeverSettings:
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if self.regions is not None and len(set(self.regions)) != len(self.regions):
            raise ValueError("a region is listed twice")
        starts = [phase.start for phase in getattr(self, "phases", ())]
        if any(later <= earlier for earlier, later in itertools.pairwise(starts)):
            raise ValueError("phases must be listed in order of their start dates, each on a different day")
        return self

    @classmethod
    def policy_fields(cls) -> tuple[str, ...]:
        """The fields a phase may change: ``enabled`` and the family's own settings."""
        return tuple(name for name in cls.model_fields if name not in FIXED_FIELDS)

    def in_force(self, date: dt.date) -> LeverSettings:
        """The settings in force on ``date``: these, updated by every phase started by then."""
        settings = self
        for phase in getattr(self, "phases", ()):
            if phase.start <= date:
                settings = settings.model_copy(update=phase.changes())
        return settings

    def changed_from(self, date: dt.date, changes: Mapping[str, Any], first_day: dt.date) -> LeverSettings:
        """These settings with ``changes`` in force from ``date`` on, validated like a scenario's.

        A policy field changed after the run's ``first_day`` becomes a dated phase starting on ``date``
        (merged into a phase that already starts then), so the record of the run is a policy timeline;
        a change from the first day, or of a fixed field (``start``, ``end``, ``regions``), changes the
        settings themselves.

        Raises:
            pydantic.ValidationError: a value out of bounds, an unknown field, or more than ``MAX_PHASES`` phases.
        """
        data = self.model_dump()
        timed = {name: value for name, value in changes.items()
                 if name in self.policy_fields() and date > first_day}
        data.update({name: value for name, value in changes.items() if name not in timed})
        if timed:
            phases = [phase for phase in data["phases"] if phase["start"] != date]
            merged = next((phase for phase in data["phases"] if phase["start"] == date), {"start": date})
            phases.append({**merged, **timed})
            data["phases"] = sorted(phases, key=lambda phase: phase["start"])
        return type(self).model_validate(data)


class Phase(StrictModel):
    """A dated change of a lever's settings: from ``start`` on, the fields given replace the earlier ones."""

    start: Date

    def changes(self) -> dict[str, Any]:
        """The fields this phase sets."""
        return {name: value for name, value in self if name != "start" and value is not None}


def phased(settings: type[LeverSettings]) -> type[LeverSettings]:
    """``settings`` with a ``phases`` list: dated changes of any of its policy fields."""
    optional = {}
    for name in settings.policy_fields():
        field = settings.model_fields[name]
        kind = Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
        optional[name] = (kind | None, Field(None, description=field.description))
    phase = create_model(f"{settings.__name__}Phase", __base__=Phase, **optional)
    phase.__doc__ = f"A dated change of {settings.__name__}: the fields given replace the earlier ones."
    model = create_model(
        settings.__name__, __base__=settings,
        phases=(Annotated[list[phase], Field(max_length=MAX_PHASES)],
                Field([], description="dated changes of the settings (a policy timeline)")),
    )
    model.__doc__ = settings.__doc__
    return model


@dataclass(frozen=True)
class Control:
    """A control of the teaching page that sets one field of a lever family.

    ``kind`` is ``switch`` (a boolean field), ``slider`` (a number between ``minimum`` and
    ``maximum`` in steps of ``step``, shown with ``unit``) or ``date``.
    """

    name: str
    field: str
    label: str
    kind: Literal["switch", "slider", "date"]
    minimum: float = 0.0
    maximum: float = 1.0
    step: float = 0.1
    unit: str = ""


@dataclass(frozen=True)
class Reach:
    """Where a lever acts: masks over civilian groups, grid cells and regions.

    ``memo`` keeps what a family derives from its reach once per run (e.g. the religion law's
    exposure of each group), since an effect may apply on many days.
    """

    groups: np.ndarray
    cells: np.ndarray
    regions: np.ndarray
    memo: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, lever: LeverSettings, regions: tuple[str, ...], group_region: np.ndarray,
           cell_region: np.ndarray) -> Reach:
        """The masks of a lever's ``regions`` (everywhere when it names none)."""
        chosen = np.array([lever.regions is None or name in lever.regions for name in regions])
        if lever.regions is None:
            return cls(np.ones(len(group_region), dtype=bool), np.ones(len(cell_region), dtype=bool), chosen)
        return cls(chosen[group_region], chosen[cell_region], chosen)


#: A family's daily values: ``daily(settings, dates, active, parameters) -> {name: array over dates}``.
DailyValues = Callable[[Any, np.ndarray, np.ndarray, Any], dict[str, np.ndarray]]
#: A family's effect: ``apply(world, today, reach)`` with today's values.
Effect = Callable[["World", Mapping[str, float], Reach], None]


@dataclass(frozen=True)
class LeverFamily:
    """A family of policy levers: its settings, daily values, effect on the world and page controls.

    Attributes:
        name: the key under ``[levers]`` in a scenario.
        settings: the validated settings (a :func:`phased` :class:`LeverSettings` subclass).
        daily: what the policy amounts to on each day, given the settings in force, whether the
            lever is active, and the behavioural parameters (numeric arrays; the effect reads them).
            A family's settings say what the policy was (dates, size, where); how strongly people
            respond to it is a registry parameter.
        apply: how today's values change the world; called on day 0 and on every day they change.
        controls: the teaching page's controls for this family.
        summary: one line for the page and the documentation.
    """

    name: str
    settings: type[LeverSettings]
    daily: DailyValues
    apply: Effect
    controls: tuple[Control, ...] = ()
    summary: str = ""


def as_days(dates: dt.date | np.ndarray) -> np.ndarray:
    """Dates as ``datetime64[D]`` (a 0-d array for one date)."""
    return np.asarray(dates, dtype="datetime64[D]")


def is_active(lever: LeverSettings, dates: dt.date | np.ndarray) -> np.ndarray:
    """Whether a lever (with the settings in force) acts on each of ``dates``."""
    days = as_days(dates)
    active = np.full(days.shape, lever.enabled)
    if lever.start is not None:
        active &= days >= np.datetime64(lever.start, "D")
    if lever.end is not None:
        active &= days <= np.datetime64(lever.end, "D")
    return active


@dataclass(frozen=True)
class FamilySchedule:
    """One family's values on every day of a run, and the days they change (always day 0)."""

    values: dict[str, np.ndarray]
    changed: np.ndarray

    def __len__(self) -> int:
        return len(self.changed)

    def on(self, day: int) -> dict[str, float]:
        """The values of ``day``."""
        return {name: values[day].item() for name, values in self.values.items()}


def schedule(family: LeverFamily, lever: LeverSettings, start: dt.date, days: int, parameters: Any) -> FamilySchedule:
    """A family's values on each of ``days`` days from ``start``, phase by phase."""
    dates = np.datetime64(start, "D") + np.arange(days)
    bounds = [0]
    for phase in getattr(lever, "phases", ()):
        bounds.append(int(np.clip((np.datetime64(phase.start, "D") - dates[0]).astype(np.int64), 0, days)))
    bounds.append(days)
    pieces: dict[str, list[np.ndarray]] = {}
    settings = lever
    phases = list(getattr(lever, "phases", ()))
    for k, (first, last) in enumerate(itertools.pairwise(bounds)):
        if k > 0:
            settings = settings.model_copy(update=phases[k - 1].changes())
        segment = dates[first:last]
        for name, values in family.daily(settings, segment, is_active(settings, segment), parameters).items():
            pieces.setdefault(name, []).append(np.asarray(values, dtype=np.float64))
    values = {name: np.concatenate(parts) for name, parts in pieces.items()}
    changed = np.ones(days, dtype=bool)
    if values and days > 1:
        stacked = np.vstack(list(values.values()))
        changed[1:] = (stacked[:, 1:] != stacked[:, :-1]).any(axis=0)
    return FamilySchedule(values, changed)
