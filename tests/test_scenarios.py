"""The scenario library: every file loads, is named after itself, and each counterfactual changes
only what it says it changes relative to the baseline."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from sim.run import simulate
from sim.scenario import SCENARIOS_DIR, ScenarioError, load_scenario, scenario_from_resolved

BASELINE = "baseline_2011"
ALL = sorted(SCENARIOS_DIR.glob("*.toml"))
EXPECTED_COUNTERFACTUALS = {
    "no_religion_law",
    "religion_law_early",
    "religion_law_mild",
    "no_sweeps",
    "targeted_raids_only",
    "aggressive_raids",
    "community_policing",
    "more_patrols",
}


def _raw(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


COUNTERFACTUALS = [p for p in ALL if "extends" in _raw(p)]


def _leaves(tree: dict[str, Any], prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """Every non-table value by its key path."""
    out: dict[tuple[str, ...], Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(_leaves(value, (*prefix, key)))
        else:
            out[(*prefix, key)] = value
    return out


def _set_by_file(path: Path) -> set[tuple[str, ...]]:
    """Key paths the file states itself (besides ``extends``)."""
    raw = _raw(path)
    raw.pop("extends")
    return set(_leaves(raw))


@pytest.fixture(scope="module")
def baseline_resolved() -> dict[str, Any]:
    return load_scenario(BASELINE).resolved()


def test_library_holds_the_expected_counterfactuals() -> None:
    assert {p.stem for p in COUNTERFACTUALS} >= EXPECTED_COUNTERFACTUALS


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_every_scenario_loads_and_is_named_after_its_file(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    assert _raw(path).get("name") == path.stem


@pytest.mark.parametrize("path", COUNTERFACTUALS, ids=lambda p: p.stem)
def test_counterfactual_differs_from_baseline_only_where_it_says(path: Path, baseline_resolved) -> None:
    assert (path.parent / _raw(path)["extends"]).resolve() == (SCENARIOS_DIR / f"{BASELINE}.toml").resolve()
    resolved = _leaves(load_scenario(path).resolved())
    base = _leaves(baseline_resolved)
    assert resolved.keys() == base.keys()
    differing = {key for key in base if resolved[key] != base[key]}
    allowed = _set_by_file(path) | {("name",), ("description",)}
    assert differing <= allowed, f"{path.name} changes keys it does not state: {sorted(differing - allowed)}"
    stated_but_equal = {key for key in _set_by_file(path) - {("name",), ("description",)} if key not in differing}
    assert not stated_but_equal, f"{path.name} restates baseline values: {sorted(stated_but_equal)}"
    assert differing - {("name",), ("description",)}, f"{path.name} changes nothing relative to the baseline"


@pytest.mark.parametrize("path", COUNTERFACTUALS, ids=lambda p: p.stem)
def test_counterfactual_has_a_substantial_description(path: Path) -> None:
    description = load_scenario(path).description.strip()
    assert len(description) >= 200
    assert "?" in description, "the description should state the policy question"


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_scenario_runs_for_30_days(path: Path) -> None:
    scenario = load_scenario(path)
    result = simulate(scenario, days=30)
    assert result.days == 30
    assert len(result.daily) == 30


@pytest.mark.parametrize("path", COUNTERFACTUALS, ids=lambda p: p.stem)
def test_counterfactual_runs_30_days_with_its_levers_in_force(path: Path) -> None:
    scenario = load_scenario(path, overrides=["period.start=2011-11-01"])
    result = simulate(scenario, days=30)
    assert len(result.daily) == 30
    law = scenario.levers.religion_law
    assert (result.daily["law_intensity"].iloc[-1] > 0) == law.enabled


def test_a_stored_scenario_with_a_bad_value_is_refused_naming_the_field() -> None:
    data = load_scenario(SCENARIOS_DIR / "baseline_2011.toml").resolved()
    assert scenario_from_resolved(data, "a stored run").resolved() == data
    data["parameters"]["legitimacy"] = 7.0
    with pytest.raises(ScenarioError, match=r"a stored run.*parameters\.legitimacy"):
        scenario_from_resolved(data, "a stored run")
