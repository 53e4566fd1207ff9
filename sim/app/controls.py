"""The page's controls: the scenario, each lever family's controls (from the registry), the seed.

Controls are declared once, by the lever families (``sim.levers``: label, kind, range, step, unit); this module
turns them into the page's control descriptions, formats their values, and validates what the page sends back:
values are only compared, matched against fixed patterns and handed to the pydantic schema. Nothing is
evaluated, parsed as code or deserialised.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import os
import re
from dataclasses import replace
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
    """Every lever control of the registry by name, with the family it belongs to.

    A slider whose family gives it no unit of its own shows the unit its field declares (``policy_unit``).
    """
    return {control.name: (family.name, _with_unit(family.name, control)) for family in REGISTRY.values()
            for control in family.controls}


def policy_unit(family: str, control: Control) -> str:
    """The unit the lever field of ``control`` declares (``sim.levers.base.policy``), or ``""``."""
    extra = REGISTRY[family].settings.model_fields[control.field].json_schema_extra
    return str(extra.get("policy_unit", "")) if isinstance(extra, dict) else ""


def _with_unit(family: str, control: Control) -> Control:
    if control.kind != "slider" or control.unit:
        return control
    return replace(control, unit=policy_unit(family, control))


def field_value(settings: Any, control: Control) -> Any:
    """A control's value in ``settings`` (text for a date, none for an unset date)."""
    value = getattr(settings, control.field)
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
    """The lever controls, each starting at the scenario's own value, by control name.

    Each is ``{"type": Checkbox | SliderInt | SliderFloat | InputText, "value", "label", "unit", "family",
    "field"}``, sliders with ``min``, ``max`` and ``step``.
    """
    spec = base_scenario(scenario or initial_scenario())
    params: dict[str, dict] = {}
    for name, (family, control) in lever_controls().items():
        common = {"value": field_value(spec.levers.family(family), control), "label": control.label,
                  "unit": control.unit, "family": family, "field": control.field}
        if control.kind == "switch":
            params[name] = {"type": "Checkbox", **common}
        elif control.kind == "date":
            params[name] = {"type": "InputText", **common, "unit": control.unit or "YYYY-MM-DD"}
        else:
            integer = is_integer_field(family, control)
            cast = int if integer else float
            params[name] = {"type": "SliderInt" if integer else "SliderFloat", **common, "min": cast(control.minimum),
                            "max": cast(control.maximum), "step": cast(control.step)}
    return params


def shown_value(control: Control, value: Any) -> str:
    """A control's value as the page shows it: ``on``/``off``, a date, or a number to the slider's precision
    with its unit."""
    if control.kind == "switch":
        return "on" if value else "off"
    if control.kind == "date":
        return str(value) if value else "—"
    decimals = max(0, -int(math.floor(math.log10(control.step)))) if 0 < control.step < 1 else 0
    number = f"{value:,.{decimals}f}" if isinstance(value, int | float) else str(value)
    return f"{number} {control.unit}".strip()


def values_in_force(spec: Scenario, date: dt.date) -> dict[str, Any]:
    """Every lever control's value in force on ``date`` in a run of ``spec`` (phases included)."""
    return {name: field_value(spec.levers.family(family).in_force(date), control)
            for name, (family, control) in lever_controls().items()}


def describe_change(family: str, changes: dict[str, Any]) -> str:
    """A dated change of a family's settings in a few words (``sweeps off``, ``patrols intensity 2``)."""
    words = []
    for field, value in changes.items():
        if field == "enabled":
            words.append("on" if value else "off")
        else:
            shown = f"{value:g}" if isinstance(value, float) else str(value)
            words.append(f"{field.replace('_', ' ')} {shown}")
    return f"{family.replace('_', ' ')} {', '.join(words)}"


def lever_summary(spec: Scenario, date: dt.date) -> list[str]:
    """One line per lever family: its controls' values in force on ``date``."""
    lines = []
    values = values_in_force(spec, date)
    for family in REGISTRY.values():
        parts = [f"{control.label}: {shown_value(control, values[control.name])}" for control in family.controls]
        if parts:
            lines.append(" · ".join(parts))
    return lines


def validated_change(name: Any, value: Any, path: Path) -> tuple[str, dict[str, Any]]:
    """A control's new value checked against its kind: the family and the field change; raises
    :class:`ScenarioError`."""
    known = lever_controls()
    if not isinstance(name, str) or name not in known:
        raise ScenarioError(path, str(name)[:80], "not a control of this page")
    family, control = known[name]
    field = f"levers.{family}.{control.field}"
    return family, {control.field: _control_value(control, value, is_integer_field(family, control), path, field)}


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
    """Validate the page's values into a scenario (the scenario's own, with each given control's value).

    Raises:
        ScenarioError: an unknown scenario, or a bad control value or seed.
    """
    if not isinstance(scenario, str) or scenario not in scenario_names():
        raise ScenarioError(SCENARIOS_DIR, "scenario", f"unknown scenario {str(scenario)[:80]!r}")
    base = base_scenario(scenario)
    path = SCENARIOS_DIR / f"{scenario}.toml" if scenario in SCENARIO_NAMES else Path(
        os.environ.get(STORED_SCENARIO_VARIABLE, scenario))
    data = base.model_dump()
    for name, value in controls.items():
        family, change = validated_change(name, value, path)
        data["levers"][family].update(change)
    if seed not in ("", None):
        data["seed"] = parse_seed(seed, path)
    return build_scenario(data, path)


def parse_seed(seed: Any, path: Path) -> int:
    """A seed as typed (digits only); raises :class:`ScenarioError`."""
    text = str(seed).strip()
    if not SEED_PATTERN.fullmatch(text):
        raise ScenarioError(path, "seed", f"expected a whole number of up to 9 digits (got {text[:80]!r})")
    return int(text)
