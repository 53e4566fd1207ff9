"""Policy changes during a run: from the next day on, recorded as dated phases, exported and replayed exactly."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from typer.testing import CliRunner

from sim import tomlfile
from sim.levers import PolicyChangeError
from sim.run import build_model, csv_bytes, simulate
from sim.scenario import SCENARIOS_DIR, load_scenario, scenario_toml

LAW_OFF_DAY = 300  # 28 October 2011: three days into the religion law's ramp


def _run_with_changes(days: int = 330):
    """Baseline seed 5: sweeps off and patrols doubled from 11 April, the religion law off from 28 October."""
    spec = load_scenario("baseline_2011", seed=5)
    model = build_model(spec)
    first = spec.period.start
    for day in range(days):
        if day == 100:
            levers = model.spec.levers.changed("sweeps", {"enabled": False}, model.date, first)
            model.change_policy(levers.changed("patrols", {"intensity": 2.0}, model.date, first))
        if day == LAW_OFF_DAY:
            model.change_policy(model.spec.levers.changed("religion_law", {"enabled": False}, model.date, first))
        model.step()
    return model


def test_a_change_acts_from_the_next_day_and_is_recorded_as_a_phase():
    model = _run_with_changes()
    daily = model.daily_frame()
    assert daily["law_intensity"].iloc[LAW_OFF_DAY - 1] > 0  # the last day before the change: the law ramps up
    assert (daily["law_intensity"].iloc[LAW_OFF_DAY:] == 0).all()
    levers = model.spec.levers
    assert [(p.start, p.enabled) for p in levers.religion_law.phases] == [(dt.date(2011, 10, 28), False)]
    assert [(p.start, p.enabled) for p in levers.sweeps.phases] == [(dt.date(2011, 4, 11), False)]
    assert [(p.start, p.intensity) for p in levers.patrols.phases] == [(dt.date(2011, 4, 11), 2.0)]
    assert levers.sweeps.in_force(dt.date(2011, 4, 10)).enabled and not levers.sweeps.in_force(model.date).enabled


def test_the_days_before_a_change_are_those_of_the_unchanged_run():
    changed = _run_with_changes(days=200).daily_frame()
    plain = simulate(load_scenario("baseline_2011", seed=5), days=200).daily
    assert csv_bytes(changed.iloc[:100]) == csv_bytes(plain.iloc[:100])
    assert csv_bytes(changed) != csv_bytes(plain)


def test_the_exported_scenario_replays_the_run_byte_for_byte(tmp_path: Path):
    from sim.cli.main import app

    model = _run_with_changes(days=365)
    path = tmp_path / "live.toml"
    path.write_text(scenario_toml(model.spec.model_copy(update={"posterior": None}), "a live run"), encoding="utf-8")
    assert load_scenario(path) == model.spec.model_copy(update={"posterior": None})
    result = CliRunner().invoke(app, ["run", str(path), "--parameters", "scenario", "--seed", "5",
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "daily.csv").read_bytes() == csv_bytes(model.daily_frame())
    assert (tmp_path / "out" / "events.csv").read_bytes() == csv_bytes(model.events_frame())


def test_a_change_that_would_rewrite_the_past_is_refused():
    spec = load_scenario("baseline_2011")
    model = build_model(spec)
    for _ in range(200):
        model.step()
    before = model.spec
    earlier = model.spec.levers.changed("religion_law", {"start": dt.date(2011, 6, 1)}, model.date, spec.period.start)
    with pytest.raises(PolicyChangeError, match="days already simulated"):
        model.change_policy(earlier)
    assert model.spec is before
    later = model.spec.levers.changed("religion_law", {"start": dt.date(2011, 9, 1)}, model.date, spec.period.start)
    model.change_policy(later)  # the law had not started yet: the past is the same
    assert model.spec.levers.religion_law.start == dt.date(2011, 9, 1)


def test_changes_on_one_day_merge_into_one_phase_and_bad_values_are_refused():
    spec = load_scenario("baseline_2011")
    day = dt.date(2011, 3, 1)
    levers = spec.levers.changed("raids", {"lethality": 0.2}, day, spec.period.start)
    levers = levers.changed("raids", {"intel_threshold": 2.0}, day, spec.period.start)
    assert [(p.start, p.lethality, p.intel_threshold) for p in levers.raids.phases] == [(day, 0.2, 2.0)]
    first_day = spec.levers.changed("raids", {"lethality": 0.2}, spec.period.start, spec.period.start)
    assert first_day.raids.lethality == 0.2 and first_day.raids.phases == []
    with pytest.raises(ValidationError):
        spec.levers.changed("raids", {"lethality": 1.5}, day, spec.period.start)
    with pytest.raises(ValidationError):
        spec.levers.changed("raids", {"no_such_field": 1}, day, spec.period.start)
    with pytest.raises(ValidationError):
        spec.levers.changed("no_such_family", {"enabled": True}, day, spec.period.start)


@pytest.mark.parametrize("name", sorted(p.stem for p in SCENARIOS_DIR.glob("*.toml")))
def test_every_scenario_written_as_toml_reads_back_the_same(name: str, tmp_path: Path):
    scenario = load_scenario(name)
    path = tmp_path / f"{name}.toml"
    path.write_text(scenario_toml(scenario), encoding="utf-8")
    assert load_scenario(path) == scenario


def test_a_value_toml_cannot_state_is_refused():
    spec = load_scenario("baseline_2011")
    no_start = spec.levers.changed("religion_law", {"start": None}, spec.period.start, spec.period.start)
    with pytest.raises(ValueError, match="cannot state"):
        scenario_toml(spec.model_copy(update={"levers": no_start}))
    with pytest.raises(ValueError):
        tomlfile.dumps({"x": float("nan")})


SCALARS = (st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False)
           | st.text(max_size=30) | st.dates())
KEYS = st.text(min_size=1, max_size=12)
TABLES = st.recursive(
    st.dictionaries(KEYS, SCALARS | st.lists(SCALARS, max_size=4), max_size=4),
    lambda inner: st.dictionaries(KEYS, inner | st.lists(inner.filter(bool), min_size=1, max_size=3), max_size=3),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(TABLES)
def test_toml_written_reads_back_as_the_same_table(table):
    assert tomllib.loads(tomlfile.dumps(table)) == table
