"""Scenario files: ``scenarios/*.toml``, validated on load.

A scenario states a period, a scale, parameter values, the policy levers and a seed. It may
``extend`` another scenario file and then states only what differs. ``--set key=value``
overrides any field by its dotted path (``legitimacy=0.7``, ``levers.religion_law.enabled=false``).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, model_validator

from sim.errors import KazsimInputError
from sim.parameters import PARAMETERS

SCENARIOS_DIR = Path(__file__).resolve().parent.parent / "scenarios"
Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class ScenarioError(KazsimInputError):
    """A scenario file, or an override, that does not validate."""

    def __init__(self, path: Path | str, field: str | None, message: str) -> None:
        self.path = Path(path)
        self.field = field
        where = f"{self.path}" + (f", field {field!r}" if field else "")
        super().__init__(f"{where}: {message}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _parameter_field(p) -> tuple[type, Any]:
    low, high = p.bounds
    constraints = {"ge": low} if low != float("-inf") else {}
    if high != float("inf"):
        constraints["le"] = high
    kind = int if p.integer else float
    return Annotated[kind, Field(description=f"{p.description} [{p.unit}]", **constraints)], (
        int(p.default) if p.integer else float(p.default)
    )


Parameters = create_model(
    "Parameters",
    __config__=ConfigDict(extra="forbid", frozen=True),
    **{p.name: _parameter_field(p) for p in PARAMETERS},
)
Parameters.__doc__ = "Behavioural parameters (see ``sim.parameters`` for units, ranges and sources)."


class Period(_Strict):
    """The simulated period; one step is one day."""

    start: dt.date = dt.date(2011, 1, 1)
    end: dt.date = dt.date(2011, 12, 31)

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self

    @property
    def days(self) -> int:
        """Number of simulated days, both ends included."""
        return (self.end - self.start).days + 1


class Scale(_Strict):
    """Resolution of the national model."""

    people_per_agent: Annotated[int, Field(ge=1)] = 1500
    cell_degrees: Annotated[float, Field(gt=0.05, le=5.0)] = 0.75


class Lever(_Strict):
    """A dated intervention: active from ``start`` to ``end`` (both optional) when enabled,
    in the listed ``regions`` only (default: everywhere)."""

    enabled: bool = True
    start: dt.date | None = None
    end: dt.date | None = None
    regions: list[str] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Lever:
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class ReligionLaw(Lever):
    """The October 2011 law on religious activity (re-registration, bans on unregistered worship)."""

    start: dt.date | None = dt.date(2011, 10, 25)
    hardship_increase: Annotated[float, Field(ge=0.0, le=1.0)] = 0.25
    legitimacy_drop: Annotated[float, Field(ge=0.0, le=1.0)] = 0.15
    ramp_days: Annotated[float, Field(ge=0.0)] = 30.0


class RaidPolicy(Lever):
    """Raids by special forces on cells the police have located."""

    intel_threshold: Annotated[float, Field(gt=0.0)] = 1.0
    lethality: Probability = 0.5
    surrender: Probability = 0.2
    security_risk: Annotated[float, Field(ge=0.0)] = 0.15


class SweepPolicy(Lever):
    """Detention sweeps in a region after an attack there."""

    probability: Probability = 0.5
    size: Annotated[int, Field(ge=0)] = 40
    precision: Probability = 0.15
    max_delay_days: Annotated[int, Field(ge=1)] = 14


class PatrolPolicy(Lever):
    """Intensity of ordinary patrols (1 = the 2011 level)."""

    intensity: Annotated[float, Field(ge=0.0)] = 1.0


class InformantPolicy(Lever):
    """Community policing: more tips from civilians, fewer grievances against police."""

    tip_multiplier: Annotated[float, Field(ge=0.0)] = 1.0
    legitimacy_gain: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0


class Levers(_Strict):
    """All lever families."""

    religion_law: ReligionLaw = ReligionLaw()
    raids: RaidPolicy = RaidPolicy()
    sweeps: SweepPolicy = SweepPolicy()
    patrols: PatrolPolicy = PatrolPolicy()
    informants: InformantPolicy = InformantPolicy()


class EpsteinSettings(_Strict):
    """Epstein (2002) Model 1 on a torus, one agent per cell (docking mode)."""

    width: Annotated[int, Field(ge=3)] = 40
    height: Annotated[int, Field(ge=3)] = 40
    citizen_density: Probability = 0.7
    cop_density: Probability = 0.04
    citizen_vision: Annotated[int, Field(ge=1)] = 7
    cop_vision: Annotated[int, Field(ge=1)] = 7
    legitimacy: Probability = 0.82
    max_jail_term: Annotated[int, Field(ge=0)] = 30
    active_threshold: Annotated[float, Field(ge=0.0)] = 0.1
    arrest_prob_constant: Annotated[float, Field(ge=0.0)] = 2.3
    movement: bool = True

    @model_validator(mode="after")
    def _fits(self) -> EpsteinSettings:
        if self.citizen_density + self.cop_density > 1.0:
            raise ValueError("citizen_density + cop_density must not exceed 1 (one agent per cell)")
        return self


class Scenario(_Strict):
    """A complete, validated scenario."""

    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")]
    description: str = ""
    model: Literal["national", "epstein"] = "national"
    seed: Annotated[int, Field(ge=0)] = 2011
    period: Period = Period()
    scale: Scale = Scale()
    parameters: Parameters = Parameters()  # type: ignore[valid-type]
    levers: Levers = Levers()
    epstein: EpsteinSettings = EpsteinSettings()
    posterior: str | None = Field(
        default=None, description="calibrated posterior (CSV of weighted particles) that batches draw parameters from"
    )

    def resolved(self) -> dict[str, Any]:
        """Every value the run uses, for provenance (JSON-ready)."""
        return self.model_dump(mode="json")


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_toml(path: Path, chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    if path in chain:
        raise ScenarioError(path, "extends", "scenarios extend each other in a cycle")
    if not path.is_file():
        raise ScenarioError(path, None, "file not found")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(path, None, f"not valid TOML: {error}") from None
    if isinstance(raw.get("posterior"), str):
        # A posterior path is relative to the file that names it, so extending scenarios inherit it intact.
        raw["posterior"] = str((path.parent / raw["posterior"]).resolve())
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    if not isinstance(parent, str):
        raise ScenarioError(path, "extends", "expected the path of another scenario file")
    base = _read_toml((path.parent / parent).resolve(), (*chain, path))
    base.pop("description", None)
    return _merge(base, raw)


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(data: dict[str, Any], overrides: list[str], origin: Path) -> dict[str, Any]:
    """Apply ``key=value`` overrides; a bare parameter name means ``parameters.<name>``."""
    result = _merge({}, data)
    names = {p.name for p in PARAMETERS}
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ScenarioError(origin, item, "an override must look like key=value")
        path = ["parameters", key] if key in names else key.split(".")
        node = result
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ScenarioError(origin, key, "is not a table and cannot hold sub-keys")
        node[path[-1]] = _parse_value(text.strip())
    return result


def _field_path(loc: tuple) -> str:
    return ".".join(str(part) for part in loc)


def build_scenario(data: dict[str, Any], origin: Path | str) -> Scenario:
    """Validate a scenario dictionary; errors name the origin and the field."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = _field_path(first["loc"]) or None
        message = first["msg"]
        if first["type"] == "extra_forbidden":
            message = "unknown key"
        elif "input" in first and not isinstance(first["input"], dict):
            message += f" (got {first['input']!r})"
        raise ScenarioError(origin, field, message) from None


def load_scenario(path: Path | str, overrides: list[str] | None = None, seed: int | None = None) -> Scenario:
    """Load, merge (``extends``), override and validate a scenario file.

    Args:
        path: a TOML file, or the name of one in ``scenarios/``.
        overrides: ``key=value`` strings applied after loading.
        seed: replaces the file's seed when given.

    Returns:
        The validated scenario.

    Raises:
        ScenarioError: naming the file and the field at fault.
    """
    path = resolve_scenario_path(path)
    data = _read_toml(path)
    data.setdefault("name", path.stem)
    if overrides:
        data = apply_overrides(data, overrides, path)
    if seed is not None:
        data["seed"] = seed
    scenario = build_scenario(data, path)
    _check_regions(scenario, path)
    return scenario


def _check_regions(scenario: Scenario, path: Path) -> None:
    from sim.data import ObservedData

    known = set(ObservedData().regions["region"])
    for name in Levers.model_fields:
        for index, region in enumerate(getattr(scenario.levers, name).regions or []):
            if region not in known:
                raise ScenarioError(
                    path, f"levers.{name}.regions.{index}", f"unknown region {region!r}; expected one of regions.csv"
                )


def resolve_scenario_path(path: Path | str) -> Path:
    """A path as given, or a scenario name looked up in ``scenarios/``."""
    candidate = Path(path)
    if candidate.suffix != ".toml" and not candidate.exists():
        candidate = SCENARIOS_DIR / f"{candidate.name}.toml"
    return candidate.resolve()
