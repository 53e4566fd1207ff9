"""Scenario files: ``scenarios/*.toml``, validated strictly on load.

A scenario states a period, a scale, parameter values, the policy levers and a seed. It may
``extend`` another scenario file and then states only what differs. ``--set key=value``
overrides any field by its dotted path (``legitimacy=0.7``, ``levers.religion_law.enabled=false``).

Validation is strict (``sim.schema``): a number is never read from a string or a boolean, a date
never from a number, no value is NaN or infinite, and every size has an upper bound that keeps one
run within an ordinary machine's memory and a few minutes (listed in ``scenarios/README.md``).
The ``[levers]`` table holds one table per registered lever family (``sim.levers``).
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, model_validator

from sim import tomlfile
from sim.data import ObservedData
from sim.errors import KazsimInputError
from sim.levers import REGISTRY, Levers
from sim.parameters import PARAMETERS
from sim.schema import FIRST_DATE, LAST_DATE, MAX_DAYS, MAX_SEED, Date, Probability, StrictModel
from sim.textfiles import UnreadableFileError, read_text, safe_repr

__all__ = ["FIRST_DATE", "LAST_DATE", "MAX_CELL_DEGREES", "MAX_DAYS", "MAX_SEED", "SCENARIOS_DIR", "EpsteinSettings",
           "Levers", "Parameters", "Period", "Scale", "Scenario", "ScenarioError", "build_scenario", "load_scenario",
           "resolve_scenario_path", "scenario_from_resolved", "scenario_toml"]

SCENARIOS_DIR = Path(__file__).resolve().parent.parent / "scenarios"

#: Finest scale: 20 people per civilian group gives ~820,000 groups (about 1 GB and 5 s a year).
MIN_PEOPLE_PER_AGENT = 20
#: Coarsest grid: from 3.6° on, two regions' administrative centres share a cell and a region is left with none.
MAX_CELL_DEGREES = 3.5
#: How many files an ``extends`` chain may pass through, and how deeply tables and arrays may nest.
MAX_EXTENDS_DEPTH = 16
MAX_NESTING = 6
MAX_OVERRIDES = 200
KEY_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,5}$")

EXPECTED = {
    "float_type": "expected a number",
    "int_type": "expected a whole number",
    "int_from_float": "expected a whole number",
    "bool_type": "expected true or false",
    "date_type": "expected a date such as 2011-10-25",
    "date_parsing": "expected a date such as 2011-10-25",
    "date_from_datetime_parsing": "expected a date such as 2011-10-25",
    "date_from_datetime_inexact": "expected a date such as 2011-10-25 (no time of day)",
    "finite_number": "expected a finite number",
    "string_type": "expected text",
    "list_type": "expected a list",
    "model_type": "expected a table",
    "dict_type": "expected a table",
}


class ScenarioError(KazsimInputError):
    """A scenario file, or an override, that does not validate."""

    def __init__(self, path: Path | str, field: str | None, message: str) -> None:
        self.path = Path(path)
        self.field = field
        where = f"{self.path}" + (f", field {field!r}" if field else "")
        super().__init__(f"{where}: {message}")


def _parameter_field(p) -> tuple[type, Any]:
    low, high = p.bounds
    kind = int if p.integer else float
    return Annotated[kind, Field(description=f"{p.description} [{p.unit}]", ge=low, le=high)], (
        int(p.default) if p.integer else float(p.default)
    )


Parameters = create_model(
    "Parameters",
    __config__=ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False),
    **{p.name: _parameter_field(p) for p in PARAMETERS},
)
Parameters.__doc__ = "Behavioural parameters (see ``sim.parameters`` for units, ranges and sources)."

class Period(StrictModel):
    """The simulated period; one step is one day."""

    start: Date = dt.date(2011, 1, 1)
    end: Date = dt.date(2011, 12, 31)

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if self.days > MAX_DAYS:
            raise ValueError(f"{self.days} days from {self.start} to {self.end}; expected at most {MAX_DAYS}")
        return self

    @property
    def days(self) -> int:
        """Number of simulated days, both ends included."""
        return (self.end - self.start).days + 1


class Scale(StrictModel):
    """Resolution of the national model."""

    people_per_agent: Annotated[int, Field(ge=MIN_PEOPLE_PER_AGENT, le=1_000_000)] = 1500
    cell_degrees: Annotated[float, Field(ge=0.1, le=MAX_CELL_DEGREES)] = 0.75


class EpsteinSettings(StrictModel):
    """Epstein (2002) Model 1 on a torus, one agent per cell (docking mode)."""

    width: Annotated[int, Field(ge=3, le=500)] = 40
    height: Annotated[int, Field(ge=3, le=500)] = 40
    citizen_density: Probability = 0.7
    cop_density: Probability = 0.04
    citizen_vision: Annotated[int, Field(ge=1, le=20)] = 7
    cop_vision: Annotated[int, Field(ge=1, le=20)] = 7
    legitimacy: Probability = 0.82
    max_jail_term: Annotated[int, Field(ge=0, le=100_000)] = 30
    active_threshold: Annotated[float, Field(ge=0.0, le=1.0)] = 0.1
    arrest_prob_constant: Annotated[float, Field(ge=0.0, le=100.0)] = 2.3
    movement: bool = True

    @model_validator(mode="after")
    def _fits(self) -> EpsteinSettings:
        if self.citizen_density + self.cop_density > 1.0:
            raise ValueError("citizen_density + cop_density must not exceed 1 (one agent per cell)")
        return self


class Scenario(StrictModel):
    """A complete, validated scenario."""

    name: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")]
    description: Annotated[str, Field(max_length=20_000)] = ""
    model: Literal["national", "epstein"] = "national"
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] = 2011
    period: Period = Period()
    scale: Scale = Scale()
    parameters: Parameters = Parameters()  # type: ignore[valid-type]
    levers: Levers = Levers()
    epstein: EpsteinSettings = EpsteinSettings()
    posterior: Annotated[str, Field(min_length=1, max_length=4096)] | None = Field(
        default=None, description="calibrated posterior (CSV of weighted particles) that batches draw parameters from"
    )

    def resolved(self) -> dict[str, Any]:
        """Every value the run uses, for provenance (JSON-ready; :func:`scenario_from_resolved` reads it back)."""
        return self.model_dump(mode="json")


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _check_structure(value: Any, path: Path, where: str = "", depth: int = 0) -> None:
    """Refuse nesting deeper than ``MAX_NESTING`` and integers wider than 64 bits, naming the field."""
    if depth > MAX_NESTING:
        raise ScenarioError(path, where or None, f"tables or arrays nested more than {MAX_NESTING} deep")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_structure(item, path, f"{where}.{key}" if where else str(key), depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_structure(item, path, f"{where}.{index}", depth + 1)
    elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 63:
        raise ScenarioError(path, where or None, f"{safe_repr(value)} does not fit a 64-bit integer")


def _parse_toml(text: str, path: Path) -> dict[str, Any]:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(path, None, f"not valid TOML: {error}") from None
    except RecursionError:
        raise ScenarioError(path, None, f"tables or arrays nested more than {MAX_NESTING} deep") from None
    except ValueError:  # an integer of thousands of digits: Python refuses to convert it
        raise ScenarioError(path, None, "holds an integer of more than 4,300 digits; expected a number that fits "
                                        "64 bits") from None
    _check_structure(raw, path)
    return raw


def _read_toml(path: Path, chain: tuple[Path, ...] = (), origins: dict[str, Path] | None = None) -> dict[str, Any]:
    """A scenario file's table with its ``extends`` chain merged in (``origins``: each value's file, if given)."""
    try:
        text = read_text(path)
    except UnreadableFileError as error:
        if not chain:
            raise ScenarioError(path, None, error.problem) from None
        raise ScenarioError(chain[-1], "extends", f"{path} {error.problem}") from None
    raw = _parse_toml(text, path)
    if isinstance(raw.get("posterior"), str) and raw["posterior"]:
        # A posterior path is relative to the file that names it, so extending scenarios inherit it intact.
        try:
            raw["posterior"] = str((path.parent / raw["posterior"]).resolve())
        except (OSError, ValueError) as error:
            raise ScenarioError(path, "posterior", f"not a usable path ({error})") from None
    parent = raw.pop("extends", None)
    if origins is not None:  # a value is held by the first file of the chain that states it
        origins.update({key: path for key in tomlfile.dotted_keys(raw) if key not in origins})
    if parent is None:
        return raw
    if not isinstance(parent, str) or not parent.strip() or len(parent) > 4096:
        raise ScenarioError(path, "extends", f"expected the path of another scenario file (got {safe_repr(parent)})")
    try:
        parent_path = (path.parent / parent).resolve()
    except (OSError, ValueError) as error:
        raise ScenarioError(path, "extends", f"not a usable path {safe_repr(parent)} ({error})") from None
    if parent_path == path or parent_path in chain:
        raise ScenarioError(path, "extends", f"scenarios extend each other in a cycle (through {parent_path.name})")
    if len(chain) + 1 >= MAX_EXTENDS_DEPTH:
        raise ScenarioError(path, "extends", f"a chain of more than {MAX_EXTENDS_DEPTH} files; expected fewer")
    base = _read_toml(parent_path, (*chain, path), origins)
    base.pop("description", None)
    return _merge(base, raw)


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except (tomllib.TOMLDecodeError, RecursionError, ValueError):
        return text


def apply_overrides(data: dict[str, Any], overrides: list[str], origin: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """Apply ``key=value`` overrides; a bare parameter name means ``parameters.<name>``.

    Returns:
        The merged data, and for each overridden field (dotted path) the override that set it, as shown
        in error messages.
    """
    if len(overrides) > MAX_OVERRIDES:
        raise ScenarioError(origin, None, f"{len(overrides)} --set overrides; expected at most {MAX_OVERRIDES}")
    result = _merge({}, data)
    names = {p.name for p in PARAMETERS}
    given: dict[str, str] = {}
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ScenarioError(origin, None, f"--set {safe_repr(item)}: expected key=value")
        if not KEY_PATTERN.fullmatch(key):
            raise ScenarioError(origin, None, f"--set {safe_repr(item)}: expected a dotted key such as "
                                              "levers.sweeps.enabled")
        path = ["parameters", key] if key in names else key.split(".")
        node = result
        for depth, part in enumerate(path[:-1]):
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ScenarioError(origin, ".".join(path[: depth + 1]),
                                    f"--set {safe_repr(item)}: this field is not a table and cannot hold sub-keys")
        value = _parse_value(text.strip())
        _check_structure(value, origin, ".".join(path))
        node[path[-1]] = value
        given[".".join(path)] = f"--set {safe_repr(item)}"
    return result, given


def _field_path(loc: tuple) -> str:
    return ".".join(str(part) for part in loc)


def _explain(error: dict[str, Any]) -> str:
    """A validation error as 'what was expected (got what)', with a suggestion for an unknown key."""
    loc = error["loc"]
    if error["type"] == "extra_forbidden":
        known = _known_keys(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        return "unknown key" + (f"; did you mean {close[0]!r}?" if close else "")
    message = EXPECTED.get(error["type"], error["msg"])
    if "input" in error and not isinstance(error["input"], dict):
        message += f" (got {safe_repr(error['input'])})"
    return message


def _known_keys(loc: tuple) -> list[str]:
    """The keys allowed at ``loc`` (for suggesting a close one)."""
    model: Any = Scenario
    for part in loc:
        if model is Levers:
            model = REGISTRY[part].settings if part in REGISTRY else None
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None or not isinstance(field.annotation, type) or not issubclass(field.annotation, BaseModel):
            return []
        model = field.annotation
    if model is Levers:
        return list(REGISTRY)
    return list(getattr(model, "model_fields", {}))


def _validation_error(error: ValidationError, origin: Path | str, overrides: dict[str, str],
                      inherited: dict[str, str]) -> ScenarioError:
    """The first validation error as a :class:`ScenarioError`, naming the override or parent file behind it."""
    first = error.errors()[0]
    field = _field_path(first["loc"]) or ""
    given = [text for key, text in overrides.items()
             if field and (field == key or field.startswith(key + ".") or key.startswith(field + "."))]
    held = [key for key in inherited if field and (field == key or field.startswith(key + "."))]  # a parent's value
    source = given[0] if given else inherited[max(held, key=len)] if held else None
    return ScenarioError(origin, field or None, f"{source}: {_explain(first)}" if source else _explain(first))


def build_scenario(data: dict[str, Any], origin: Path | str, overrides: dict[str, str] | None = None,
                   inherited: dict[str, str] | None = None) -> Scenario:
    """Validate a scenario table (TOML types: dates as dates); errors name the origin, the field and its source."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        raise _validation_error(error, origin, overrides or {}, inherited or {}) from None


def scenario_from_resolved(data: dict[str, Any], origin: Path | str = "resolved scenario") -> Scenario:
    """Validate a scenario written by :meth:`Scenario.resolved` (JSON types: dates as ISO text)."""
    try:
        return Scenario.model_validate_json(json.dumps(data))
    except ValidationError as error:
        raise _validation_error(error, origin, {}, {}) from None


def scenario_toml(scenario: Scenario, comment: str = "") -> str:
    """A scenario file (TOML, no ``extends``) that loads back as ``scenario``, below ``comment`` as # lines.

    Raises:
        ValueError: a value TOML cannot state (e.g. ``None`` where the schema's default is not ``None``).
    """
    header = "".join(f"# {line}".rstrip() + "\n" for line in comment.splitlines())
    text = header + tomlfile.dumps(scenario.model_dump(exclude_none=True))
    if build_scenario(_parse_toml(text, Path(f"{scenario.name}.toml")), scenario.name) != scenario:
        raise ValueError(f"scenario {scenario.name} holds a value a scenario file cannot state")
    return text


def load_scenario(path: Path | str, overrides: list[str] | None = None, seed: int | None = None) -> Scenario:
    """Load, merge (``extends``), override and validate a scenario file.

    Args:
        path: a TOML file, or the name of one in ``scenarios/``.
        overrides: ``key=value`` strings applied after loading.
        seed: replaces the file's seed when given.

    Returns:
        The validated scenario.

    Raises:
        ScenarioError: naming the file and the field at fault (and the override, when one is).
    """
    path = resolve_scenario_path(path)
    origins: dict[str, Path] = {}
    data = _read_toml(path, origins=origins)
    data.setdefault("name", path.stem)
    given: dict[str, str] = {}
    if overrides:
        data, given = apply_overrides(data, overrides, path)
    if seed is not None:
        data["seed"] = seed
        given["seed"] = f"--seed {seed}"
    inherited = {key: f"set in {origin}, which {path.name} extends"  # reported with the file that writes it
                 for key, origin in tomlfile.single_writers(origins, given).items() if origin != path}
    scenario = build_scenario(data, path, given, inherited)
    _check_regions(scenario, path)
    return scenario


def _check_regions(scenario: Scenario, path: Path) -> None:
    known = set(ObservedData().regions["region"])
    for name, lever in scenario.levers:
        for index, region in enumerate(lever.regions or []):
            if region not in known:
                raise ScenarioError(
                    path, f"levers.{name}.regions.{index}",
                    f"unknown region {safe_repr(region)}; expected one of regions.csv",
                )


def resolve_scenario_path(path: Path | str) -> Path:
    """A path as given, or a scenario name looked up in ``scenarios/``."""
    try:
        candidate = Path(path)
        if candidate.suffix != ".toml" and not candidate.exists():
            candidate = SCENARIOS_DIR / f"{candidate.name}.toml"
        return candidate.resolve()
    except (OSError, ValueError) as error:
        raise ScenarioError(str(path)[:200], None, f"not a usable path ({error})") from None
