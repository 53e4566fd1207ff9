"""Docking of ``sim.epstein.EpsteinModel`` with Mesa's reference civil-violence model, and its unit tests.

Docking (Axtell, Axelrod, Epstein & Cohen 1996, "distributional equivalence"): the two
implementations use different random streams, so runs are compared as distributions over seeds,
not bit for bit. See :func:`test_docks_with_mesa_reference` for the statistical test.
"""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sim.epstein import (
    ACTIVE,
    ACTIVE_CELL,
    ARRESTED,
    COP,
    COP_CELL,
    DAILY_COLUMNS,
    EMPTY_CELL,
    OTHER_CITIZEN_CELL,
    QUIET,
    Citizen,
    Cop,
    EpsteinModel,
    von_neumann_offsets,
)
from sim.events import EVENT_COLUMNS
from sim.scenario import Scenario, load_scenario

#: The docking configuration: the reference app's outburst settings.
DOCK = {
    "width": 40,
    "height": 40,
    "citizen_density": 0.7,
    "cop_density": 0.04,
    "citizen_vision": 7,
    "cop_vision": 7,
    "legitimacy": 0.82,
    "max_jail_term": 30,
    "active_threshold": 0.1,
    "arrest_prob_constant": 2.3,
    "movement": True,
}
STEPS = 60
REF_SEEDS = range(1, 17)  # 16 reference runs: ~26-45 ms a step, so ~25-45 s in all
OUR_SEEDS = range(10_001, 10_201)  # 200 runs of ours: ~40 ms a run
STANDIN_SEEDS = range(20_001, 20_017)  # 16 runs of ours standing in for the reference
SMALL_SEEDS = range(30_001, 30_049)  # 48 runs of ours for the fast checks of the comparison
STATISTICS = ("active_step1", "mean_active", "max_active", "mean_jailed", "final_jailed")
FAMILY_ALPHA = 0.05
ALPHA = FAMILY_ALPHA / len(STATISTICS)  # Bonferroni: 0.01 per statistic


def make_scenario(**epstein) -> Scenario:
    """The shipped docking scenario with some ``[epstein]`` settings replaced (validated)."""
    data = load_scenario("epstein_2002").model_dump()
    data["epstein"].update(epstein)
    return Scenario.model_validate(data)


def summary(active: np.ndarray, jailed: np.ndarray) -> np.ndarray:
    """Per-run statistics (``STATISTICS``) of steps 1..n."""
    return np.array([active[0], active.mean(), active.max(), jailed.mean(), jailed[-1]], dtype=float)


def reference_run(seed: int, steps: int = STEPS) -> np.ndarray:
    """Summary of one run of Mesa's example, built the way its own code requires."""
    from mesa.examples.advanced.epstein_civil_violence.model import EpsteinCivilViolence, EpsteinScenario

    params = {k: v for k, v in DOCK.items() if k not in ("width", "height")}
    model = EpsteinCivilViolence(DOCK["width"], DOCK["height"], scenario=EpsteinScenario(rng=seed, **params))
    for _ in range(steps):
        model.step()
    frame = model.datacollector.get_model_vars_dataframe()
    # Row 0 is the initial condition (collected in __init__): all quiet, none arrested. It is
    # not a row of daily_frame, so compare rows 1..n (each collected after a full step).
    assert frame.iloc[0]["active"] == 0 and frame.iloc[0]["arrested"] == 0
    counts = frame.iloc[1:]
    assert len(counts) == steps
    return summary(counts["active"].to_numpy(), counts["arrested"].to_numpy())


def our_run(seed: int, scenario: Scenario, steps: int = STEPS) -> np.ndarray:
    """Summary of one run of ``EpsteinModel``."""
    frame = EpsteinModel(scenario, rng=seed).run(steps)
    return summary(frame["active"].to_numpy(), frame["jailed"].to_numpy())


def our_sample(seeds, **epstein) -> np.ndarray:
    scenario = make_scenario(**{**DOCK, **epstein})
    return np.array([our_run(seed, scenario) for seed in seeds])


def ks_pvalues(first: np.ndarray, second: np.ndarray) -> dict[str, float]:
    """Two-sample Kolmogorov-Smirnov p-value for each summary statistic."""
    return {name: float(stats.ks_2samp(first[:, i], second[:, i]).pvalue) for i, name in enumerate(STATISTICS)}


def report(title: str, first: np.ndarray, second: np.ndarray, pvalues: dict[str, float]) -> str:
    lines = [title, f"{'statistic':14s} {'first':>9s} {'second':>9s} {'KS p':>8s}"]
    for i, name in enumerate(STATISTICS):
        lines.append(f"{name:14s} {first[:, i].mean():9.1f} {second[:, i].mean():9.1f} {pvalues[name]:8.3g}")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def dock_sample() -> np.ndarray:
    """Our model at the docking configuration, 200 seeds."""
    return our_sample(OUR_SEEDS)


@pytest.mark.slow
def test_docks_with_mesa_reference(dock_sample):
    """Mesa's example and EpsteinModel agree in distribution at the docking configuration.

    Design: 16 seeds of the reference and 200 of ours, 60 steps each, 40x40, cop density 0.04,
    legitimacy 0.82, max jail 30, citizen density 0.7, vision 7. For each run five statistics
    over steps 1..60: active count at step 1 (the first cascade, before any feedback), mean and
    maximum active count, mean jailed count and final jailed count. For each statistic a
    two-sample Kolmogorov-Smirnov test (``scipy.stats.ks_2samp``, exact p-values; it tests
    equality of whole distributions, which is what docking asks); the family is rejected if
    any p < 0.05 / 5 = 0.01 (Bonferroni, family-wise error <= 5%). Seeds are fixed, so the
    outcome is deterministic.

    Power, estimated by simulation with the same sample sizes (300 repetitions, our model in
    both roles): rejects legitimacy 0.70 or cop density 0.08 or 0.05 (vs 0.04) with probability
    1.00; legitimacy 0.80 or 0.84 (vs 0.82) 0.87-0.89; movement switched off 0.99. It cannot see
    max jail term 25 vs 30 (0.05). False rejection under the null: 0.04. (With 160 runs of ours
    instead of 200 the power against legitimacy +-0.02 falls to 0.83.) A 48-seed x 100-step
    reference sample (p >= 0.25 on every statistic) and 300 reference runs of the first three
    steps (p >= 0.34 for every count) also agreed when this was written.
    """
    started = time.perf_counter()
    reference = np.array([reference_run(seed) for seed in REF_SEEDS])
    elapsed = time.perf_counter() - started
    assert reference[:, STATISTICS.index("max_active")].max() > 50, "the reference shows no outburst"
    pvalues = ks_pvalues(reference, dock_sample)
    title = f"reference (first, {len(REF_SEEDS)} runs, {elapsed:.1f} s) vs ours (second, {len(OUR_SEEDS)})"
    print("\n" + report(title, reference, dock_sample, pvalues))
    failed = {name: p for name, p in pvalues.items() if p < ALPHA}
    assert not failed, f"docking rejected at Bonferroni level {ALPHA}: {failed}"


@pytest.fixture(scope="module")
def standin_sample() -> np.ndarray:
    """Our model at the docking configuration, 16 seeds: stands in for the reference."""
    return our_sample(STANDIN_SEEDS)


def test_docking_comparison_accepts_the_same_model(standin_sample):
    """Null control: the comparison does not reject our model against itself (other seeds)."""
    other = our_sample(SMALL_SEEDS)
    pvalues = ks_pvalues(standin_sample, other)
    print("\n" + report("docking config vs itself", standin_sample, other, pvalues))
    assert min(pvalues.values()) >= ALPHA, pvalues


@pytest.mark.parametrize("change", [{"legitimacy": 0.70}, {"cop_density": 0.08}])
def test_docking_comparison_rejects_a_different_configuration(standin_sample, change):
    """The docking test can fail: the same comparison rejects a deliberately different model.

    Same statistics, same KS test, same Bonferroni level, and 16 runs at the docking
    configuration (ours, standing in for the reference) as in the slow test; the other side is
    48 runs at the changed configuration instead of 200, to stay fast (with fewer runs the test
    has less power, so rejecting here implies rejecting with 200). Simulated power at 16 vs 48:
    1.00 for both changes.
    """
    changed = our_sample(SMALL_SEEDS, **change)
    pvalues = ks_pvalues(standin_sample, changed)
    print("\n" + report(f"docking config vs {change}", standin_sample, changed, pvalues))
    assert min(pvalues.values()) < ALPHA, pvalues


# --- the model itself ---------------------------------------------------------------------


def test_scenario_file_is_the_docking_configuration():
    scenario = load_scenario("epstein_2002")
    assert scenario.name == "epstein_2002" and scenario.model == "epstein"
    assert scenario.period.start == dt.date(2011, 1, 1) and scenario.period.days == 200
    assert scenario.epstein.model_dump() == DOCK


def test_same_seed_gives_identical_frames_and_different_seeds_differ():
    scenario = make_scenario()
    first = EpsteinModel(scenario, rng=7).run(80)
    again = EpsteinModel(scenario, rng=7).run(80)
    other = EpsteinModel(scenario, rng=8).run(80)
    pd.testing.assert_frame_equal(first, again)
    assert not first[["active", "quiet", "jailed"]].equals(other[["active", "quiet", "jailed"]])
    # The scenario's seed is the default.
    pd.testing.assert_frame_equal(EpsteinModel(scenario).run(20), EpsteinModel(scenario, rng=scenario.seed).run(20))


def test_daily_frame_schema_and_period():
    scenario = load_scenario("epstein_2002", overrides=["period.end=2011-01-31"])
    model = EpsteinModel(scenario)
    assert list(model.daily_frame().columns) == list(DAILY_COLUMNS) and model.daily_frame().empty
    frame = model.run()
    assert list(frame.columns) == list(DAILY_COLUMNS)
    assert frame["step"].tolist() == list(range(1, 32))
    assert frame["date"].iloc[0] == pd.Timestamp("2011-01-01") and frame["date"].iloc[-1] == pd.Timestamp("2011-01-31")
    assert frame["date"].dtype == "datetime64[ns]"
    assert not model.running and model.steps == 31
    assert model.initial_counts == (0, model.n_citizens, 0)


def test_events_frame_is_empty_with_schema():
    events = EpsteinModel(make_scenario()).events_frame()
    assert events.empty and list(events.columns) == list(EVENT_COLUMNS)


def test_conservation():
    model = EpsteinModel(make_scenario(), rng=3)
    n_citizens, n_agents = model.n_citizens, len(model.agents)
    frame = model.run(150)
    assert (frame[["active", "quiet", "jailed"]].sum(axis=1) == n_citizens).all()
    assert frame["active"].max() > 0 and frame["jailed"].max() > 0
    assert len(model.agents_by_type[Citizen]) == n_citizens and len(model.agents) == n_agents
    assert (model.lattice.kind != COP).sum() == n_citizens


def test_agents_by_type_faces_read_the_arrays():
    model = EpsteinModel(make_scenario(), rng=11)
    n_cells = 40 * 40
    citizens, cops = model.agents_by_type[Citizen], model.agents_by_type[Cop]
    assert len(citizens) == model.n_citizens and len(cops) == model.n_cops
    # Densities 0.7 and 0.04 of 1600 cells, within 5 binomial standard deviations.
    assert abs(model.n_citizens - 0.7 * n_cells) < 5 * np.sqrt(n_cells * 0.7 * 0.3)
    assert abs(model.n_cops - 0.04 * n_cells) < 5 * np.sqrt(n_cells * 0.04 * 0.96)
    model.run(25)
    positions = [agent.position for agent in model.agents]
    assert len(set(positions)) == len(positions)
    for agent in model.agents:
        x, y = agent.position
        assert model.lattice.occupancy[x * 40 + y] == agent.index
    counts = pd.Series([c.state for c in citizens]).value_counts()
    last = model.daily_frame().iloc[-1]
    assert counts.get("active", 0) == last["active"] and counts.get("arrested", 0) == last["jailed"]
    for citizen in citizens.to_list()[:50]:
        assert 0 <= citizen.hardship < 1 and 0 <= citizen.risk_aversion < 1
        assert citizen.grievance == pytest.approx(citizen.hardship * (1 - 0.82))
        assert 0 <= citizen.jail_sentence <= 30
        assert (citizen.jail_sentence > 0) <= (citizen.state == "arrested")
    assert set(np.unique(model.grid_codes())) <= {0, 1, 2, 3, 4}


@pytest.mark.parametrize(("width", "height", "radius"), [(40, 40, 7), (10, 7, 3), (5, 4, 7), (3, 3, 1), (6, 6, 3)])
def test_neighbourhood_matches_mesa(width, height, radius):
    """Same cells as Mesa's torus Von Neumann ``get_neighborhood`` (centre excluded, each once)."""
    import random

    from mesa.discrete_space import OrthogonalVonNeumannGrid

    grid = OrthogonalVonNeumannGrid((width, height), torus=True, capacity=1, random=random.Random(0))
    off_x, off_y = von_neumann_offsets(radius, width, height)
    for x, y in [(0, 0), (width - 1, height // 2), (width // 2, height - 1)]:
        expected = {cell.coordinate for cell in grid[(x, y)].get_neighborhood(radius=radius)}
        ours = [((x + dx) % width, (y + dy) % height) for dx, dy in zip(off_x, off_y, strict=True)]
        assert len(ours) == len(set(ours)) and set(ours) == expected


def test_jail_semantics():
    """A jailed citizen keeps its cell, counts down, and is released at its next zero-sentence activation."""
    model = EpsteinModel(make_scenario(cop_density=0.0, legitimacy=1.0), rng=5)  # no cops, nobody active
    prisoner = model.agents_by_type[Citizen].to_list()[0]
    model.lattice.jail[prisoner.index] = 3
    model.lattice.state[prisoner.index] = ARRESTED
    where = prisoner.position
    for sentence in (2, 1, 0):
        model.step()
        assert prisoner.jail_sentence == sentence and prisoner.state == "arrested" and prisoner.position == where
        assert model.daily_frame().iloc[-1]["jailed"] == 1
    model.step()
    assert prisoner.state == "quiet" and model.daily_frame().iloc[-1]["jailed"] == 0


def assert_consistent(model: EpsteinModel) -> None:
    """Positions, occupancy, padded cell codes, states and sentences agree."""
    s = model.settings
    codes = np.full(s.width * s.height, EMPTY_CELL, dtype=np.int8)
    for agent in range(model.lattice.kind.size):
        cell = model.lattice.pos_x[agent] * s.height + model.lattice.pos_y[agent]
        assert model.lattice.occupancy[cell] == agent
        if model.lattice.kind[agent] == COP:
            codes[cell] = COP_CELL
        else:
            codes[cell] = ACTIVE_CELL if model.lattice.state[agent] == ACTIVE else OTHER_CITIZEN_CELL
            assert model.lattice.state[agent] in (ACTIVE, QUIET, ARRESTED)
            assert 0 <= model.lattice.jail[agent] <= s.max_jail_term
            assert model.lattice.jail[agent] == 0 or model.lattice.state[agent] == ARRESTED
    assert (model.lattice.occupancy >= 0).sum() == model.lattice.kind.size
    padded = np.pad(codes.reshape(s.width, s.height), model.radius, mode="wrap").ravel()
    assert np.array_equal(padded, model._codes)


@settings(max_examples=30, deadline=None)
@given(
    width=st.integers(3, 14),
    height=st.integers(3, 14),
    vision=st.integers(1, 8),
    citizen_density=st.floats(0.1, 0.8),
    cop_density=st.floats(0.0, 0.15),
    legitimacy=st.floats(0.3, 1.0),
    max_jail_term=st.integers(0, 8),
    movement=st.booleans(),
    seed=st.integers(0, 2**32),
)
def test_invariants_on_small_tori(
    width, height, vision, citizen_density, cop_density, legitimacy, max_jail_term, movement, seed
):
    scenario = make_scenario(
        width=width,
        height=height,
        cop_vision=vision,
        citizen_vision=vision,
        citizen_density=citizen_density,
        cop_density=cop_density,
        legitimacy=legitimacy,
        max_jail_term=max_jail_term,
        movement=movement,
    )
    model = EpsteinModel(scenario, rng=seed)
    start_x, start_y = model.lattice.pos_x.copy(), model.lattice.pos_y.copy()
    for _ in range(6):
        model.step()
        assert_consistent(model)
    if not movement:
        assert np.array_equal(start_x, model.lattice.pos_x) and np.array_equal(start_y, model.lattice.pos_y)
    frame = model.daily_frame()
    assert (frame[["active", "quiet", "jailed"]].sum(axis=1) == model.n_citizens).all()
