"""The page's controls: the scenario, each lever family's controls (from the registry), the seed.

Controls are declared once, by the lever families (``sim.levers``); this module turns them into
SolaraViz's ``model_params`` and validates what the page sends back into a scenario. A control left
at its starting value keeps the scenario file's value; a moved control replaces it. Values are only
compared, matched against fixed patterns and handed to the pydantic schema: nothing is evaluated,
parsed as code or deserialised.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import os
import re
from pathlib import Path
from typing import Any

from sim.errors import KazsimInputError
from sim.levers import REGISTRY, Control
from sim.scenario import (
    SCENARIOS_DIR,
    Scenario,
    ScenarioError,
    build_scenario,
    load_scenario,
    scenario_from_resolved,
)

SCENARIO_NAMES: tuple[str, ...] = tuple(sorted(p.stem for p in SCENARIOS_DIR.glob("*.toml")))
DEFAULT_SCENARIO = "baseline_2011"
#: Names a JSON file holding a resolved scenario (written by ``kazsim demo --from``): the page offers it and opens
#: with it, parameters and seed included.
STORED_SCENARIO_VARIABLE = "KAZSIM_DEMO_RESOLVED"
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
SEED_PATTERN = re.compile(r"\d{1,9}")


def lever_controls() -> dict[str, tuple[str, Control]]:
    """Every lever control of the registry by name, with the family it belongs to."""
    return {control.name: (family.name, control) for family in REGISTRY.values() for control in family.controls}


def starting_value(family: str, control: Control) -> Any:
    """A control's starting value: the family's default for its field (text for a date)."""
    value = REGISTRY[family].settings.model_fields[control.field].default
    return value.isoformat() if isinstance(value, dt.date) else value


def is_integer_field(family: str, control: Control) -> bool:
    """Whether a control sets a whole-number field."""
    return REGISTRY[family].settings.model_fields[control.field].annotation is int


@functools.cache
def stored_scenario() -> Scenario | None:
    """The resolved scenario ``KAZSIM_DEMO_RESOLVED`` names (a replayed run), or None; read once per process."""
    path = os.environ.get(STORED_SCENARIO_VARIABLE)
    if not path:
        return None
    try:
        return scenario_from_resolved(json.loads(Path(path).read_text(encoding="utf-8")), path)
    except (OSError, ValueError, KazsimInputError):
        return None


def scenario_names() -> tuple[str, ...]:
    """The scenarios the page offers: the files of ``scenarios/``, and the stored scenario if there is one."""
    stored = stored_scenario()
    return SCENARIO_NAMES + ((stored.name,) if stored is not None and stored.name not in SCENARIO_NAMES else ())


def base_scenario(name: str) -> Scenario:
    """A scenario the page offers, before its controls are applied."""
    stored = stored_scenario()
    return stored if stored is not None and name == stored.name else load_scenario(name)


def initial_scenario() -> str:
    """The scenario the page opens with: the stored one, else ``KAZSIM_DEMO_SCENARIO`` (``kazsim demo SCENARIO``)."""
    stored = stored_scenario()
    if stored is not None:
        return stored.name
    name = os.environ.get("KAZSIM_DEMO_SCENARIO", DEFAULT_SCENARIO)
    return name if name in SCENARIO_NAMES else DEFAULT_SCENARIO


def model_params(scenario: str | None = None) -> dict[str, dict]:
    """The sidebar controls, in SolaraViz's ``model_params`` format."""
    params: dict[str, dict] = {
        "scenario_name": {"type": "Select", "value": scenario or initial_scenario(), "values": list(scenario_names()),
                          "label": "Scenario"},
    }
    for name, (family, control) in lever_controls().items():
        start = starting_value(family, control)
        if control.kind == "switch":
            params[name] = {"type": "Checkbox", "value": start, "label": control.label}
        elif control.kind == "date":
            params[name] = {"type": "InputText", "value": start, "label": f"{control.label} (YYYY-MM-DD)"}
        else:
            integer = is_integer_field(family, control)
            params[name] = {"type": "SliderInt" if integer else "SliderFloat", "value": start,
                            "min": int(control.minimum) if integer else control.minimum,
                            "max": int(control.maximum) if integer else control.maximum,
                            "step": int(control.step) if integer else control.step, "label": control.label}
    params["seed"] = {"type": "InputText", "value": "", "label": "Seed (blank: the scenario's)"}
    params["flash_days"] = {"type": "SliderInt", "value": 30, "min": 1, "max": 120, "step": 1,
                            "label": "Highlight incidents of the last N days"}
    return params


def _control_value(control: Control, value: Any, integer: bool, path, field: str) -> Any:
    """A page value checked against its control's kind; raises :class:`ScenarioError`."""
    if control.kind == "date":
        if not isinstance(value, str) or not DATE_PATTERN.fullmatch(value.strip()):
            raise ScenarioError(path, field, f"expected a date as YYYY-MM-DD (got {str(value)[:80]!r})")
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ScenarioError(path, field, f"expected a real date as YYYY-MM-DD (got {value.strip()!r})") from None
    if control.kind == "switch":
        if not isinstance(value, bool):
            raise ScenarioError(path, field, f"expected on or off (got {str(value)[:80]!r})")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ScenarioError(path, field, f"expected a finite number (got {str(value)[:80]!r})")
    if integer and isinstance(value, float) and value.is_integer():
        return int(value)  # an integer slider may report 40.0
    return value


def scenario_from_controls(scenario: Any, controls: dict[str, Any], seed: Any = "") -> Scenario:
    """Validate the page's values into a scenario; raises :class:`ScenarioError` on a bad one."""
    if not isinstance(scenario, str) or scenario not in scenario_names():
        raise ScenarioError(SCENARIOS_DIR, "scenario", f"unknown scenario {str(scenario)[:80]!r}")
    base = base_scenario(scenario)
    path = SCENARIOS_DIR / f"{scenario}.toml" if scenario in SCENARIO_NAMES else Path(
        os.environ.get(STORED_SCENARIO_VARIABLE, scenario))
    data = base.model_dump()
    known = lever_controls()
    for name, value in controls.items():
        if name not in known:
            raise ScenarioError(path, name, "not a control of this page")
        family, control = known[name]
        start = starting_value(family, control)
        if value == start and type(value) is type(start):
            continue  # untouched: the scenario file's value stands
        field = f"levers.{family}.{control.field}"
        data["levers"][family][control.field] = _control_value(control, value, is_integer_field(family, control),
                                                               path, field)
    if seed not in ("", None):
        text = str(seed).strip()
        if not SEED_PATTERN.fullmatch(text):
            raise ScenarioError(path, "seed", f"expected a whole number of up to 9 digits (got {text[:80]!r})")
        data["seed"] = int(text)
    return build_scenario(data, path)
