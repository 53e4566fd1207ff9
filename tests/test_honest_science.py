"""Guards of the project's scientific honesty.

* A scenario says what the policy was; the parameter registry says how strongly people respond.
  Every number a scenario can set is a registry parameter, a lever setting marked as a policy
  descriptor (with its unit), or a named non-behavioural setting (seed, resolution, the classic
  Epstein model's published constants).
* No registry parameter's plausible range rests on the record after the January-September fit
  window, so the October-December forecast is out of sample.
* The model never reads the observed incidents: only calibration and reporting do.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import pytest

from sim.data import ObservedData
from sim.levers import REGISTRY
from sim.levers.base import FIXED_FIELDS
from sim.parameters import BY_NAME, EVIDENCE, PARAMETERS
from sim.run import simulate
from sim.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent
FIT_WINDOW_END = dt.date(2011, 9, 30)
#: numbers a scenario may hold that are not behaviour, and why.
NOT_BEHAVIOUR = {
    "seed": "the random seed",
    "scale.people_per_agent": "resolution: people each civilian agent stands for",
    "scale.cell_degrees": "resolution: grid-cell size",
    "epstein.": "the classic Epstein (2002) model's own published constants, a separate teaching model",
}


def _numeric_leaves(schema: dict, root: dict, path: str = "") -> list[str]:
    """Dotted paths of every number or integer a JSON schema admits, following $refs."""
    if "$ref" in schema:
        return _numeric_leaves(root["$defs"][schema["$ref"].split("/")[-1]], root, path)
    leaves = [path] if schema.get("type") in ("number", "integer") else []
    for key in ("anyOf", "allOf", "oneOf"):
        for option in schema.get(key, []):
            leaves += _numeric_leaves(option, root, path)
    if schema.get("type") == "array" and "items" in schema:
        leaves += _numeric_leaves(schema["items"], root, path + "[]")
    for name, child in schema.get("properties", {}).items():
        leaves += _numeric_leaves(child, root, f"{path}.{name}" if path else name)
    return leaves


def test_every_number_a_scenario_can_set_is_a_parameter_or_a_policy_descriptor() -> None:
    root = Scenario.model_json_schema()
    offenders = []
    for path in _numeric_leaves(root, root):
        if path.startswith("parameters."):
            assert path.removeprefix("parameters.") in BY_NAME, path
        elif path.startswith("levers."):
            family, _, field = path.removeprefix("levers.").partition(".")
            field = field.removeprefix("phases[].")
            settings = REGISTRY[family].settings.model_fields[field]
            if not (settings.json_schema_extra or {}).get("policy_unit"):
                offenders.append(path)
        elif not any(path == name or (name.endswith(".") and path.startswith(name)) for name in NOT_BEHAVIOUR):
            offenders.append(path)
    assert not offenders, (f"numbers a scenario sets that are neither registry parameters nor policy descriptors: "
                           f"{offenders}; a response to a policy belongs in sim/parameters.py")


def test_lever_fields_are_switches_dates_regions_or_policy_descriptors() -> None:
    for name, family in REGISTRY.items():
        for field_name, field in family.settings.model_fields.items():
            if field_name in (*FIXED_FIELDS, "enabled", "phases"):
                continue
            unit = (field.json_schema_extra or {}).get("policy_unit")
            assert unit, f"levers.{name}.{field_name} is not marked as a policy descriptor (sim.levers.base.policy)"


def test_the_walk_catches_a_behavioural_number_in_a_lever(monkeypatch) -> None:
    from pydantic import Field

    from sim.levers.base import LeverSettings

    class Careless(LeverSettings):
        backlash_strength: float = Field(0.3, description="a response typed into a scenario")

    name, family = next(iter(REGISTRY.items()))
    monkeypatch.setitem(REGISTRY, name, dataclasses.replace(family, settings=Careless))
    with pytest.raises(AssertionError, match="backlash_strength"):
        test_lever_fields_are_switches_dates_regions_or_policy_descriptors()


def test_no_parameter_rests_on_the_record_after_september() -> None:
    late = re.compile(r"\b(October|November|December|Oct|Nov|Dec)\b")
    for p in PARAMETERS:
        assert p.evidence in EVIDENCE, p.name
        assert p.evidence_end is None or dt.date.fromisoformat(p.evidence_end) <= FIT_WINDOW_END, p.name
        if p.evidence != "policy":  # the law's own dates are policy, not incidents
            assert not late.search(p.source), f"{p.name}: its source cites October-December ({p.source!r})"


def test_every_lever_response_magnitude_is_a_registry_parameter() -> None:
    """The lever modules read how strongly people respond from the parameters, by registry name."""
    for name in ("law_hardship_effect", "law_legitimacy_effect", "law_lead_days", "law_ramp_days",
                 "raid_surrender", "raid_officer_risk", "raid_retaliation", "informant_yield",
                 "community_legitimacy_gain", "backlash_per_detainee", "deterrence"):
        assert name in BY_NAME
        read = re.compile(rf"\b(parameters|params|p)\.{name}\b")
        used = [p for p in (ROOT / "sim").rglob("*.py") if read.search(p.read_text(encoding="utf-8"))]
        assert used, f"registry parameter {name} is read nowhere in sim/"


MODEL_LAYER = ("sim/model.py", "sim/world.py", "sim/geography.py", "sim/record.py", "sim/run.py",
               "sim/agents", "sim/levers", "sim/epstein", "sim/scenario.py", "sim/posterior.py")


def test_the_model_layer_never_mentions_the_observed_incidents() -> None:
    for entry in MODEL_LAYER:
        paths = [ROOT / entry] if entry.endswith(".py") else sorted((ROOT / entry).rglob("*.py"))
        for path in paths:
            code = re.sub(r'""".*?"""', "", path.read_text(encoding="utf-8"), flags=re.S)
            assert "seed_incidents" not in code and "incidents.csv" not in code, path


def test_a_run_never_reads_the_observed_incidents(monkeypatch) -> None:
    def refuse(self):
        raise AssertionError("the model read the observed incidents")

    monkeypatch.setattr(ObservedData, "seed_incidents", property(refuse))
    monkeypatch.setattr(ObservedData, "incidents", property(refuse))
    scenario = load_scenario("baseline_2011", ["scale.people_per_agent=20000", "period.end=2011-12-31"])
    assert len(simulate(scenario, seed=5).daily) == 365
