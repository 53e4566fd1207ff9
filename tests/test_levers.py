"""Lever families: the registry, daily schedules, policy timelines (phases) and adding a family."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import levers
from sim.levers import REGISTRY, Control, LeverFamily, LeverSettings, is_active
from sim.levers.base import Reach, phased, policy, schedule
from sim.model import KazakhstanModel
from sim.run import simulate
from sim.scenario import SCENARIOS_DIR, ScenarioError, load_scenario

START = dt.date(2011, 1, 1)
QUICK = ["scale.people_per_agent=20000", "scale.cell_degrees=1.0"]


def test_each_family_schedule_is_its_daily_values_date_by_date() -> None:
    scenario = load_scenario(
        "baseline_2011",
        overrides=["levers.patrols.intensity=1.5", "levers.patrols.start=2011-03-01", "levers.patrols.end=2011-03-31"],
    )
    for name, family in REGISTRY.items():
        lever = scenario.levers.family(name)
        plan = schedule(family, lever, START, 365, scenario.parameters)
        for day in range(0, 365, 7):
            date = START + dt.timedelta(days=day)
            settings = lever.in_force(date)
            one = family.daily(settings, np.array([np.datetime64(date, "D")]), is_active(settings, date).reshape(1),
                               scenario.parameters)
            assert {k: v[day] for k, v in plan.values.items()} == {k: float(v[0]) for k, v in one.items()}, name
    law = scenario.levers.religion_law
    law_start = (law.start - START).days
    law_plan = schedule(REGISTRY["religion_law"], law, START, 365, scenario.parameters)
    params = load_scenario("baseline_2011").parameters
    onset = law_start - int(round(params.law_lead_days))
    assert set(np.flatnonzero(law_plan.changed).tolist()) == {0, *range(onset, onset + int(params.law_ramp_days))}
    patrol_plan = schedule(REGISTRY["patrols"], scenario.levers.patrols, START, 365, scenario.parameters)
    assert set(np.flatnonzero(patrol_plan.changed).tolist()) == {0, 59, 90}


def two_phase_raids(tmp_path: Path) -> Path:
    path = tmp_path / "raids_tighten.toml"
    path.write_text(
        f'extends = "{SCENARIOS_DIR / "baseline_2011.toml"}"\nname = "raids_tighten"\n\n'
        "[[levers.raids.phases]]\nstart = 2011-10-01\nintel_threshold = 0.5\nlethality = 0.9\n"
    )
    return path


def test_a_two_phase_raid_policy_acts_as_its_phases_say(tmp_path: Path) -> None:
    scenario = load_scenario(two_phase_raids(tmp_path), overrides=QUICK)
    raids = scenario.levers.raids
    assert raids.in_force(dt.date(2011, 9, 30)).intel_threshold == 1.0
    assert raids.in_force(dt.date(2011, 10, 1)).intel_threshold == 0.5
    assert raids.in_force(dt.date(2011, 10, 1)).lethality == 0.9
    assert raids.in_force(dt.date(2011, 10, 1)).surrender_offer == 1.0  # not named by the phase: unchanged
    model = KazakhstanModel(scenario, rng=3)
    thresholds = {}
    for _ in range(365):
        model.step()
        thresholds[model.world.date - dt.timedelta(days=1)] = model.world.raid_policy.intel_threshold
    assert thresholds[dt.date(2011, 9, 30)] == 1.0 and thresholds[dt.date(2011, 10, 1)] == 0.5
    assert {v for d, v in thresholds.items() if d < dt.date(2011, 10, 1)} == {1.0}
    assert {v for d, v in thresholds.items() if d >= dt.date(2011, 10, 1)} == {0.5}


@pytest.mark.slow
def test_tighter_raids_from_october_find_more_cells_then_and_change_nothing_before(tmp_path: Path) -> None:
    overrides = [*QUICK, "cell_formation_rate=1e-6"]
    phased_scenario = load_scenario(two_phase_raids(tmp_path), overrides=overrides)
    single = load_scenario("baseline_2011", overrides=overrides)
    late_raids = []
    for seed in range(6):
        before = simulate(single, seed=seed)
        after = simulate(phased_scenario, seed=seed)
        september = before.daily["date"] <= "2011-09-30"
        pd.testing.assert_frame_equal(before.daily[september], after.daily[september])
        late_raids.append(tuple(int(r.daily.loc[~september, "raids"].sum()) for r in (before, after)))
    assert sum(a for _, a in late_raids) > sum(b for b, _ in late_raids)


def test_the_single_setting_form_still_loads_unchanged() -> None:
    scenario = load_scenario("baseline_2011")
    assert all(lever.phases == [] for _, lever in scenario.levers)
    assert scenario.levers.raids.in_force(dt.date(2011, 12, 31)) == scenario.levers.raids


def test_phases_are_validated(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    base = f'extends = "{SCENARIOS_DIR / "baseline_2011.toml"}"\nname = "bad"\n'
    cases = {
        "[[levers.raids.phases]]\nstart = 2011-10-01\nintel_threshold = -1\n": "levers.raids.phases.0.intel_threshold",
        "[[levers.raids.phases]]\nintel_threshold = 0.5\n": "levers.raids.phases.0.start",
        "[[levers.raids.phases]]\nstart = 2011-10-01\nregions = []\n": "levers.raids.phases.0.regions",
        ("[[levers.sweeps.phases]]\nstart = 2011-10-01\nsize = 10\n"
         "[[levers.sweeps.phases]]\nstart = 2011-09-01\nsize = 20\n"): "levers.sweeps",
    }
    for text, field in cases.items():
        path.write_text(base + text)
        with pytest.raises(ScenarioError, match=field.replace(".", r"\.")):
            load_scenario(path)


# --- adding a family: one module and one registry line --------------------------------------

class CurfewSettings(LeverSettings):
    """A test-only family: a night curfew that adds hardship to everyone it reaches.

    The scenario says how long the curfew is (a policy descriptor); how much hardship an hour of it
    causes would be a registry parameter; the toy borrows ``law_hardship_effect`` for it.
    """

    hours: float = policy(2.0, "curfew hours per night", "hours", ge=0.0, le=12.0)


def curfew_daily(curfew: CurfewSettings, dates: np.ndarray, active: np.ndarray, parameters) -> dict[str, np.ndarray]:
    return {"hardship": np.where(active, parameters.law_hardship_effect * curfew.hours, 0.0)}


def curfew_apply(world, today: Mapping[str, float], reach: Reach) -> None:
    world.hardship_pressure["curfew"] = today["hardship"] * reach.groups
    world.pressures_changed = True


CURFEW = LeverFamily("curfew", phased(CurfewSettings), curfew_daily, curfew_apply,
                     (Control("curfew", "enabled", "Curfew", "switch"),), "a night curfew (test only)")


@pytest.fixture
def curfew():
    levers.register(CURFEW)
    yield CURFEW
    levers.unregister("curfew")


def test_a_new_family_validates_from_toml_and_acts_on_the_world(curfew, tmp_path: Path) -> None:
    path = tmp_path / "curfew.toml"
    path.write_text(f'extends = "{SCENARIOS_DIR / "baseline_2011.toml"}"\nname = "curfew"\n\n'
                    '[levers.curfew]\nstart = 2011-03-01\nhours = 3\nregions = ["Atyrau Region"]\n')
    scenario = load_scenario(path, overrides=QUICK)
    assert scenario.levers.curfew.hours == 3 and scenario.levers.curfew.regions == ["Atyrau Region"]
    model = KazakhstanModel(scenario, rng=1)
    model.run(59)
    atyrau = model.world.civilians.region == model.layout.regions.index("Atyrau Region")
    assert np.array_equal(model.world.hardship_today, model.world.civilians.hardship + model.world.hardship_pressure[
        "religion_law"])
    model.step()  # 1 March: the curfew starts
    added = model.world.hardship_today - model.world.civilians.hardship
    assert np.allclose(added[atyrau], 3 * scenario.parameters.law_hardship_effect) and np.allclose(added[~atyrau], 0)
    path.write_text(path.read_text().replace("hours = 3", "hours = 30"))
    with pytest.raises(ScenarioError, match=r"levers\.curfew\.hours"):
        load_scenario(path)
    from sim.app.controls import model_params

    assert model_params()["curfew"]["label"] == "Curfew"
    assert "| `curfew.hours` | hours | 2 | [0, 12] |" in levers.lever_table()


def test_an_unknown_family_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    path = tmp_path / "typo.toml"
    path.write_text('name = "typo"\n[levers.sweep]\nenabled = false\n')
    with pytest.raises(ScenarioError, match="did you mean 'sweeps'"):
        load_scenario(path)
