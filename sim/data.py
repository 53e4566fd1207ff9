"""The one loader: reads and validates the seed data into typed tables.

Every file under ``seeds/`` enters the project through this module. Each row is validated
against a pydantic model; any problem raises :class:`DataError` naming the file, the CSV line
and the column, so the CLI can report it and exit with status 2.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sim.errors import DataError
from sim.events import EVENT_COLUMNS, KINDS, is_seed_documented, normalise_events
from sim.textfiles import UnreadableFileError, read_text, safe_repr

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"

NonNegativeInt = Annotated[int, Field(ge=0, le=100_000)]
Kind = Literal[tuple(KINDS)]  # type: ignore[valid-type]


class _Row(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, allow_inf_nan=False, str_max_length=20_000)


class SourceRow(_Row):
    """One seed article (``seeds/sources.csv``)."""

    id: Annotated[str, Field(pattern=r"^S\d+$")]
    outlet: Annotated[str, Field(min_length=1)]
    title: Annotated[str, Field(min_length=1)]
    published: dt.date
    published_precision: Literal["day", "month", "approx"]
    file: Annotated[str, Field(min_length=1)]


class IncidentRow(_Row):
    """One incident (``seeds/incidents.csv``), in the event schema."""

    id: Annotated[str, Field(min_length=1)]
    date: dt.date
    date_precision: Literal["day", "month"]
    place: str
    region: Annotated[str, Field(min_length=1)]
    initiator: Literal["militant", "state", "unknown"]
    kind: Kind
    deaths_security: NonNegativeInt
    deaths_civilian: NonNegativeInt
    deaths_militant: NonNegativeInt
    deaths_unknown: NonNegativeInt
    injured: NonNegativeInt
    arrests: NonNegativeInt
    sources: Annotated[str, Field(min_length=1)]
    evidence: str
    notes: str

    @field_validator("date")
    @classmethod
    def _in_2011(cls, value: dt.date) -> dt.date:
        if value.year != 2011:
            raise ValueError(f"expected a date in 2011, got {value.isoformat()}")
        return value


class PolicyEventRow(_Row):
    """One dated policy milestone (``seeds/policy_events.csv``)."""

    id: Annotated[str, Field(min_length=1)]
    date: dt.date
    date_precision: Literal["day", "month"]
    event: Annotated[str, Field(min_length=1)]
    kind: Literal["law_passed", "law_signed", "law_in_force", "deadline", "court_ban", "threat", "context"]
    sources: Annotated[str, Field(min_length=1)]
    evidence: str
    notes: str


class RegionRow(_Row):
    """One 2011 administrative unit (``seeds/regions.csv``)."""

    region: Annotated[str, Field(min_length=1)]
    admin_centre: Annotated[str, Field(min_length=1)]
    population: Annotated[int, Field(gt=0, le=100_000_000)]
    population_date: dt.date
    population_source: Annotated[str, Field(min_length=1)]
    centre_lat: Annotated[float, Field(ge=40.0, le=56.0)]
    centre_lon: Annotated[float, Field(ge=46.0, le=88.0)]
    area_km2: Annotated[float, Field(gt=0, le=3_000_000)]


def read_rows(path: Path, model: type[_Row]) -> list[_Row]:
    """Read a CSV file and validate every row against ``model``.

    Args:
        path: the CSV file.
        model: the row model; its fields are the required columns.

    Returns:
        The validated rows, in file order.

    Raises:
        DataError: naming the file, the line and the column of the first problem found.
    """
    text = _text(path)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames or []
        missing = [name for name in model.model_fields if name not in header]
        if missing:
            raise DataError(path, 1, missing[0], f"missing column(s): {', '.join(missing)}")
        rows = []
        for record in reader:
            line = reader.line_num
            if None in record:
                raise DataError(path, line, None, "more fields than the header has columns")
            try:
                rows.append(model.model_validate(record))
            except ValidationError as error:
                first = error.errors()[0]
                column = str(first["loc"][0]) if first["loc"] else None
                value = record.get(column) if column else None
                raise DataError(path, line, column, f"{first['msg']} (got {safe_repr(value)})") from None
    except csv.Error as error:
        raise DataError(path, reader.line_num or None, None, f"not readable as CSV ({error})") from None
    return rows


def _text(path: Path) -> str:
    """A seed file's text; any unreadable file (missing, binary, not UTF-8, huge) is a :class:`DataError`."""
    try:
        return read_text(path)
    except UnreadableFileError as error:
        raise DataError(path, None, None, error.problem) from None


def _frame(rows: list[_Row]) -> pd.DataFrame:
    return pd.DataFrame([row.model_dump() for row in rows])


def load_sources(path: Path) -> pd.DataFrame:
    """The seed articles' catalogue; checks that every listed file exists."""
    rows = read_rows(path, SourceRow)
    for line, row in enumerate(rows, start=2):
        if not (path.parent / row.file).is_file():
            raise DataError(path, line, "file", f"no such file {row.file!r} beside {path.name}")
    return _frame(rows)


def load_regions(path: Path) -> pd.DataFrame:
    """The 2011 administrative units with population and main-city coordinates."""
    rows = read_rows(path, RegionRow)
    seen: set[str] = set()
    for line, row in enumerate(rows, start=2):
        if row.region in seen:
            raise DataError(path, line, "region", f"duplicate region {row.region!r}")
        seen.add(row.region)
    full = pd.read_csv(io.StringIO(_text(path)), dtype=str, keep_default_na=False)
    typed = _frame(rows)
    for column in typed.columns:
        full[column] = typed[column]
    full["population_date"] = pd.to_datetime(full["population_date"])
    return full


def load_events(path: Path, regions: pd.Series | None = None) -> pd.DataFrame:
    """An event table (observed incidents or a simulation's ``events.csv``).

    Args:
        path: the CSV file.
        regions: the known region keys; when given, every row's region must be one of them.

    Returns:
        The events in the schema's column order and dtypes, plus ``seed_documented``.
    """
    rows = read_rows(path, IncidentRow)
    if regions is not None:
        known = set(regions)
        for line, row in enumerate(rows, start=2):
            if row.region not in known:
                raise DataError(path, line, "region", f"unknown region {row.region!r}; expected one of regions.csv")
    ids = [row.id for row in rows]
    if len(set(ids)) != len(ids):
        duplicate = next(i for i in ids if ids.count(i) > 1)
        raise DataError(path, ids.index(duplicate) + 2, "id", f"duplicate id {duplicate!r}")
    frame = normalise_events(_frame(rows)) if rows else normalise_events(pd.DataFrame(columns=EVENT_COLUMNS))
    frame["seed_documented"] = is_seed_documented(frame["sources"])
    return frame


def load_policy_events(path: Path) -> pd.DataFrame:
    """Dated policy milestones (religion law, court ban, context events)."""
    frame = _frame(read_rows(path, PolicyEventRow))
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


@dataclass(frozen=True)
class ObservedData:
    """Everything under ``seeds/``, validated and cross-checked."""

    seeds_dir: Path = SEEDS_DIR

    @cached_property
    def sources(self) -> pd.DataFrame:
        """The seed articles' catalogue."""
        return load_sources(self.seeds_dir / "sources.csv")

    @cached_property
    def regions(self) -> pd.DataFrame:
        """The 16 units of 2011."""
        return load_regions(self.seeds_dir / "regions.csv")

    @cached_property
    def incidents(self) -> pd.DataFrame:
        """All 2011 incidents (seed-documented and domain-only)."""
        path = self.seeds_dir / "incidents.csv"
        frame = load_events(path, self.regions["region"])
        known = set(self.sources["id"])
        for line, keys in enumerate(frame["sources"], start=2):
            for key in (k.strip() for k in keys.split(";")):
                if key.startswith("S") and key not in known:
                    raise DataError(path, line, "sources", f"unknown source id {key!r}; not in sources.csv")
        return frame

    @cached_property
    def seed_incidents(self) -> pd.DataFrame:
        """Incidents documented by at least one seed article: the calibration target."""
        return self.incidents[self.incidents["seed_documented"]].reset_index(drop=True)

    @cached_property
    def policy_events(self) -> pd.DataFrame:
        """Dated policy milestones."""
        return load_policy_events(self.seeds_dir / "policy_events.csv")

    def source_text(self, source_id: str) -> str:
        """The text of one seed article."""
        row = self.sources[self.sources["id"] == source_id]
        if row.empty:
            raise DataError(self.seeds_dir / "sources.csv", None, "id", f"unknown source id {source_id!r}")
        return _text(self.seeds_dir / row.iloc[0]["file"])

    @cached_property
    def boundaries(self) -> dict:
        """The regions' boundary polygons (GeoJSON FeatureCollection)."""
        path = self.seeds_dir / "region_boundaries.geojson"
        try:
            collection = json.loads(_text(path))
        except json.JSONDecodeError as error:
            raise DataError(path, error.lineno, None, f"not valid JSON: {error.msg}") from None
        except RecursionError:
            raise DataError(path, None, None, "not valid JSON: nested too deeply") from None
        features = collection.get("features") if isinstance(collection, dict) else None
        if not isinstance(features, list):
            raise DataError(path, None, "features", "expected a GeoJSON FeatureCollection with a list of features")
        known = set(self.regions["region"])
        for number, feature in enumerate(features, start=1):
            where = f"features[{number}]"
            properties = feature.get("properties") if isinstance(feature, dict) else None
            region = properties.get("region") if isinstance(properties, dict) else None
            if region not in known:
                raise DataError(path, None, f"{where}.properties.region", f"unknown region {safe_repr(region)}")
            geometry = feature.get("geometry")
            if not (isinstance(geometry, dict) and geometry.get("type") in ("Polygon", "MultiPolygon")
                    and isinstance(geometry.get("coordinates"), list)):
                raise DataError(path, None, f"{where}.geometry", "expected a Polygon or MultiPolygon geometry")
        return collection

    def validate(self) -> None:
        """Load every table, raising :class:`DataError` on the first problem."""
        for name in ("sources", "regions", "incidents", "policy_events"):
            getattr(self, name)
