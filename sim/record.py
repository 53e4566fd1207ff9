"""What a national run records: a typed event log and the daily table.

Events are kept as :class:`Event` records carrying their grid cell and coordinates, so the
teaching page and analyses read places directly; :meth:`EventLog.frame` turns them into the
incident schema of ``sim.events`` (the schema observed incidents use). The daily table has one
row per day, written by :func:`record_day` at the end of each day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.events import COUNT_COLUMNS, DEATH_COLUMNS, EVENT_COLUMNS

if TYPE_CHECKING:
    from sim.world import World

DAILY_COLUMNS = (
    "quiet",
    "sympathisers",
    "recruits",
    "in_cells",
    "detained",
    "imprisoned",
    "dead",
    "cells",
    "members",
    "attacks",
    "raids",
    "sweeps",
    "arrest_operations",
    "arrested",
    "detained_uninvolved",
    "deaths_security",
    "deaths_civilian",
    "deaths_militant",
    "deaths_unknown",
    "police_officers",
    "backlash_people",
    "law_intensity",
)
COLUMN = {name: i for i, name in enumerate(DAILY_COLUMNS)}
_QUIET, _SYMPATHISERS, _RECRUITS, _DETAINED = (COLUMN[c] for c in ("quiet", "sympathisers", "recruits", "detained"))
_IN_CELLS, _IMPRISONED, _DEAD = (COLUMN[c] for c in ("in_cells", "imprisoned", "dead"))
_CELLS, _MEMBERS, _POLICE_OFFICERS = (COLUMN[c] for c in ("cells", "members", "police_officers"))
_BACKLASH_PEOPLE, _LAW_INTENSITY = COLUMN["backlash_people"], COLUMN["law_intensity"]
#: Daily columns that are not whole counts.
FRACTIONAL_COLUMNS = ("law_intensity",)


@dataclass(frozen=True, slots=True)
class Event:
    """One simulated incident: where and when, who, what, and its toll.

    ``cell`` is the grid-cell index, ``x, y`` its grid coordinates and ``lon, lat`` its centre.
    """

    id: str
    date: dt.date
    cell: int
    x: int
    y: int
    lon: float
    lat: float
    region: str
    place: str
    initiator: str
    kind: str
    deaths_security: int
    deaths_civilian: int
    deaths_militant: int
    injured: int
    arrests: int

    @property
    def deaths(self) -> int:
        """Everyone the incident killed."""
        return self.deaths_security + self.deaths_civilian + self.deaths_militant

    def row(self) -> dict[str, object]:
        """The event as a row of the incident schema."""
        return {
            "id": self.id, "date": self.date, "date_precision": "day", "place": self.place, "region": self.region,
            "initiator": self.initiator, "kind": self.kind, "deaths_security": self.deaths_security,
            "deaths_civilian": self.deaths_civilian, "deaths_militant": self.deaths_militant, "deaths_unknown": 0,
            "injured": self.injured, "arrests": self.arrests, "sources": "simulation", "evidence": "",
            "notes": f"grid cell ({self.x}, {self.y})",
        }


class EventLog:
    """The events of one run, in the order they happened."""

    def __init__(self) -> None:
        """Start an empty log."""
        self.events: list[Event] = []

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self):
        return iter(self.events)

    def add(self, event: Event) -> None:
        """Append an event."""
        self.events.append(event)

    def next_id(self) -> str:
        """The id the next event gets."""
        return f"sim-{len(self.events) + 1:05d}"

    def since(self, first_day: dt.date) -> list[Event]:
        """The events on or after ``first_day``, oldest first."""
        out = []
        for event in reversed(self.events):
            if event.date < first_day:
                break
            out.append(event)
        return out[::-1]

    def frame(self) -> pd.DataFrame:
        """The events in the incident schema of ``seeds/incidents.csv`` (its column order and dtypes)."""
        rows = [event.row() for event in self.events]
        columns: dict[str, object] = {}
        for name in EVENT_COLUMNS:
            values = [row[name] for row in rows]
            if name == "date":
                columns[name] = np.array(values, dtype="datetime64[ns]")
            elif name in COUNT_COLUMNS:
                columns[name] = np.array(values, dtype=np.int64)
            else:
                columns[name] = pd.array(values, dtype="str")
        return pd.DataFrame(columns)  # already in the schema's dtypes (tested against normalise_events)


class DailyTable:
    """One row per day of the run; the table grows if a run outlasts its period."""

    def __init__(self, days: int) -> None:
        """A table for ``days`` days, all zero."""
        self.values = np.zeros((max(days, 1), len(DAILY_COLUMNS)), dtype=np.float64)
        self.today = self.values[0]

    def start_day(self, day: int) -> None:
        """Make ``day``'s row the one events add to (growing the table if needed)."""
        if day >= len(self.values):
            self.values = np.vstack([self.values, np.zeros_like(self.values)])
        self.today = self.values[day]

    def add(self, column: str, value: float) -> None:
        """Add ``value`` to today's ``column``."""
        self.today[COLUMN[column]] += value

    def add_deaths(self, security: int, civilian: int, militant: int) -> None:
        """Add an incident's deaths to today's death columns."""
        for column, value in zip(DEATH_COLUMNS, (security, civilian, militant), strict=False):
            self.today[COLUMN[column]] += value

    def frame(self, start: dt.date, days: int) -> pd.DataFrame:
        """The first ``days`` rows with their dates; counts as integers."""
        table = self.values[:days]
        columns: dict[str, object] = {"date": _date_strings(start, days)}
        for index, name in enumerate(DAILY_COLUMNS):
            columns[name] = table[:, index] if name in FRACTIONAL_COLUMNS else table[:, index].astype(np.int64)
        return pd.DataFrame(columns)


def log_incident(
    world: World,
    cell: int,
    initiator: str,
    kind: str,
    *,
    security: int = 0,
    civilian: int = 0,
    militant: int = 0,
    injured: int = 0,
    arrests: int = 0,
) -> None:
    """Log an incident of today in grid cell ``cell`` and add its deaths to today's row."""
    layout = world.layout
    region = int(layout.cell_region[cell])
    x, y = (int(v) for v in layout.coords[cell])
    lon, lat = layout.lonlat(cell)
    place = layout.admin_centres[region] if layout.is_centre[cell] else f"{lat:.2f}N {lon:.2f}E"
    world.log.add(Event(world.log.next_id(), world.date, int(cell), x, y, float(lon), float(lat),
                        layout.regions[region], place, initiator, kind, security, civilian, militant, injured, arrests))
    world.daily.add_deaths(security, civilian, militant)


def record_day(world: World) -> None:
    """Write the day's state into today's row: people by compartment, militant cells, police, backlash, the law."""
    groups, militants, row = world.civilians, world.militants, world.daily.today
    totals = groups.totals
    open_, recruits, detained, aggrieved = world.civilian_totals.tolist()
    if groups.moved_today:
        # Events after the daily kernel moved people out of the free pool: recount.
        quiet, open_, recruits, detained = groups.people_by_stage().tolist()
        groups.moved_today = False
    else:
        elsewhere = totals.get("in_cells", 0) + totals.get("imprisoned", 0) + totals.get("dead", 0)
        quiet = len(groups) * groups.size - elsewhere - detained - open_ - recruits
    row[_QUIET], row[_SYMPATHISERS], row[_RECRUITS], row[_DETAINED] = quiet, open_, recruits, detained
    row[_BACKLASH_PEOPLE] = aggrieved * groups.size
    row[_IN_CELLS] = totals.get("in_cells", 0)
    row[_IMPRISONED] = totals.get("imprisoned", 0)
    row[_DEAD] = totals.get("dead", 0)
    living = militants.living
    row[_CELLS] = len(living)
    row[_MEMBERS] = militants.members[living].sum()
    row[_POLICE_OFFICERS] = world.officers_total
    row[_LAW_INTENSITY] = world.law_intensity


@lru_cache(maxsize=16)
def _date_strings(start: dt.date, days: int) -> np.ndarray:
    return pd.date_range(start, periods=days, freq="D").strftime("%Y-%m-%d").to_numpy()
