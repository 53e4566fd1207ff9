"""Calibration: targets, ABC-SMC (end to end, resume, exact re-simulation, Dask), posterior files,
CLI errors, the January-September fit and its out-of-sample scores, baselines and scores.

The ABC tests use a cheap model configuration (20,000 people per agent, January-June) and a
single process with seeded randomness, so they are deterministic and fast. The Dask tests run the
same configuration on a loopback ``LocalCluster``; their seeds come from OS entropy, since every
task unpickles its own copy of the simulator, and exactness is checked by re-simulation instead.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from calibration import baselines
from calibration.abc import (
    CalibrationError,
    calibrate,
    open_history,
    particles,
    posterior_frame,
    posterior_summary,
    scale_ignoring_failures,
)
from calibration.simulator import FAILED_VALUE, Simulator
from calibration.targets import (
    FULL_YEAR,
    JAN_SEP,
    TARGETS,
    TARGETS_JAN_SEP,
    TargetError,
    load_targets,
    observed_statistics,
    statistics,
    target_set,
)
from sim.cli.main import app
from sim.cluster import local_cluster
from sim.events import DEATH_COLUMNS, EVENT_COLUMNS, empty_events, normalise_events
from sim.parameters import PARAMETERS
from sim.posterior import PosteriorError, load_posterior

CHEAP = ("scale.people_per_agent=20000",)
DAYS = 181
TRUE_LEGITIMACY = 0.75


def cheap_simulator(seed: int = 1) -> Simulator:
    """Every parameter but the free ones at its default, no support constraint: a known truth to recover."""
    return Simulator(overrides=CHEAP, days=DAYS, seed=seed, marginalise=False, constrain=False)


# ------------------------------------------------------------------------------- targets
def test_observed_targets_match_the_seed_record():
    # Counted by hand from seeds/incidents.csv: attacks 17 May and 30 Jun (Aktobe), 1 Jul (Aktobe), 31 Oct
    # (two in Atyrau), 8 Nov (Almaty), 12 Nov (Taraz); state operations 1 Jul, 29 Aug, 9 and 30 Nov, 3 Dec.
    observed = observed_statistics()
    assert {k: observed[k] for k in TARGETS} == {
        "attacks_jan_jun": 2, "attacks_jul_sep": 1, "attacks_oct_nov": 4, "attacks_dec": 0, "attacks_west": 5,
        "attacks_within_14d": 4, "state_ops_jan_jun": 0, "state_ops_jul_dec": 5, "deaths_security": 14,
        "deaths_militant_civilian": 21, "largest_attack_toll": 8,
    }
    assert observed["regions_affected"] == 6


def test_statistics_of_no_events_are_zero():
    values = statistics(empty_events(), ["Aktobe Region"])
    assert all(values[k] == 0 for k in TARGETS)


def test_jan_sep_targets_match_the_seed_record():
    observed = observed_statistics()
    assert {k: observed[k] for k in TARGETS_JAN_SEP} == {
        "attacks_jan_jun": 2, "attacks_jul_sep": 1, "attacks_west_jan_sep": 3, "attacks_within_14d_jan_sep": 1,
        "state_ops_jan_jun": 0, "state_ops_jul_sep": 2, "deaths_security_jan_sep": 5,
        "deaths_militant_civilian_jan_sep": 12, "largest_attack_toll_jan_sep": 2,
    }


def test_every_statistic_counts_only_its_window():
    day = pd.Timestamp("2011-05-17")
    row = dict.fromkeys(EVENT_COLUMNS, "") | dict.fromkeys((*DEATH_COLUMNS, "injured", "arrests"), 0)
    row |= {"date": day, "kind": "armed_attack", "region": "Almaty City", "deaths_security": 3}
    events = normalise_events(pd.DataFrame([row]))
    values = statistics(events, ["Almaty City"])
    assert values["attacks_jan_jun"] == 1 and values["attacks_west"] == 0 and values["largest_attack_toll"] == 3
    moved = statistics(events.assign(date=pd.Timestamp("2011-11-20"), region="Atyrau Region"), ["Atyrau Region"])
    assert moved["attacks_jan_jun"] == 0 and moved["attacks_oct_nov"] == 1 and moved["attacks_west"] == 1
    assert moved["attacks_west_jan_sep"] == 0 and moved["deaths_security_jan_sep"] == 0


def test_jan_sep_statistics_ignore_events_after_september(observed):
    events, regions = observed.seed_incidents, list(observed.regions["region"])
    whole = statistics(events, regions)
    until_september = statistics(events[events["date"] <= "2011-09-30"], regions, end=JAN_SEP.end)
    assert {k: whole[k] for k in TARGETS_JAN_SEP} == {k: until_september[k] for k in TARGETS_JAN_SEP}
    assert whole["attacks_oct_nov"] > until_september["attacks_oct_nov"]  # the full-year targets see Oct-Dec


def test_a_run_to_september_repeats_the_first_nine_months_of_a_full_year_run():
    short = Simulator(overrides=CHEAP, days=JAN_SEP.days, targets=tuple(TARGETS_JAN_SEP), constrain=False)
    full = Simulator(overrides=CHEAP, held_out=True, constrain=False)
    for seed in (1, 2):
        until_september = short.run({"legitimacy": TRUE_LEGITIMACY}, seed)
        year = full.run({"legitimacy": TRUE_LEGITIMACY}, seed)
        assert set(until_september) == {*TARGETS_JAN_SEP, "seed"}
        assert until_september == {k: year[k] for k in until_september}


def test_target_sets_by_end_of_the_fitting_window():
    assert target_set(None) is FULL_YEAR and target_set("2011-12-31") is FULL_YEAR
    assert target_set("2011-09-30") is JAN_SEP and JAN_SEP.days == 273
    assert not set(JAN_SEP.held_out) & set(JAN_SEP.targets)
    with pytest.raises(TargetError, match="no target set ends there"):
        target_set("2011-06-30")
    with pytest.raises(TargetError, match="not a date"):
        target_set("30/09/2011")


def test_target_file_errors(tmp_path: Path):
    with pytest.raises(TargetError, match="not found"):
        load_targets(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(TargetError, match="not valid JSON"):
        load_targets(bad)
    bad.write_text('{"attacks_jan_jun": 2}')
    with pytest.raises(TargetError, match="'attacks_jul_sep' is missing"):
        load_targets(bad)
    values = ", ".join(f'"{k}": {-3 if k == "attacks_jan_jun" else 1}' for k in TARGETS)
    bad.write_text("{" + values + "}")
    with pytest.raises(TargetError, match="non-negative"):
        load_targets(bad)


# ------------------------------------------------------------------------------ ABC-SMC
@pytest.fixture(scope="module")
def synthetic() -> dict[str, float]:
    """Synthetic data from known parameters (legitimacy 0.75, every other parameter at its default).

    At 0.75 the cheap configuration produces incidents in January-June (at 0.80 and above it
    often produces none, so the data could not tell 0.80 from 0.95).
    """
    return cheap_simulator().run({"legitimacy": TRUE_LEGITIMACY}, seed=12345)


@pytest.fixture(scope="module")
def two_generations(tmp_path_factory, synthetic) -> Path:
    db = tmp_path_factory.mktemp("abc") / "run.db"
    np.random.seed(3)
    calibrate(synthetic, db, ("legitimacy",), population=12, generations=2, simulator=cheap_simulator(3),
              n_procs=1, progress=False)
    return db


@pytest.mark.slow
def test_quick_calibration_recovers_a_known_parameter(tmp_path: Path, synthetic):
    np.random.seed(0)
    run = calibrate(synthetic, tmp_path / "quick.db", ("legitimacy",), population=30, generations=2,
                    simulator=cheap_simulator(7), n_procs=1, progress=False)
    assert run.history.max_t == 1
    posterior = posterior_frame(run.history, marginalised=False)
    assert list(posterior.columns) == ["particle", "weight", "legitimacy"]
    assert posterior["weight"].sum() == pytest.approx(1.0)
    summary = posterior_summary(posterior)["legitimacy"]
    assert summary["q05"] <= TRUE_LEGITIMACY <= summary["q95"]
    assert summary["interval_share_of_prior"] < 1.0


def test_resume_continues_from_the_last_generation(two_generations: Path, tmp_path: Path, synthetic):
    db = tmp_path / "resume.db"
    shutil.copy(two_generations, db)
    before = open_history(db).max_t  # History queries the db live: keep the number
    assert before == 1
    earlier = [open_history(db).get_distribution(m=0, t=t) for t in (0, 1)]
    np.random.seed(4)
    run = calibrate(synthetic, db, ("legitimacy",), population=12, generations=1, simulator=cheap_simulator(4),
                    n_procs=1, progress=False)
    assert run.resumed
    after = open_history(db)
    assert after.max_t == before + 1
    for t, (frame, weights) in enumerate(earlier):
        frame2, weights2 = after.get_distribution(m=0, t=t)
        pd.testing.assert_frame_equal(frame, frame2)
        np.testing.assert_array_equal(weights, weights2)


def test_resuming_against_other_targets_is_refused(two_generations: Path, tmp_path: Path, synthetic):
    db = tmp_path / "other.db"
    shutil.copy(two_generations, db)
    other = {**synthetic, "attacks_jan_jun": synthetic["attacks_jan_jun"] + 1}
    with pytest.raises(CalibrationError, match="other target statistics"):
        calibrate(other, db, ("legitimacy",), population=12, generations=1, simulator=cheap_simulator(5),
                  n_procs=1, progress=False)


def test_a_stored_particle_is_reproduced_exactly_from_its_seed(two_generations: Path):
    history = open_history(two_generations)
    simulator = cheap_simulator()
    for particle in particles(history)[:3]:
        stored = particle["statistics"]
        again = simulator.run(particle["parameters"], int(stored["seed"]))
        assert {k: again[k] for k in TARGETS} == {k: stored[k] for k in TARGETS}


def test_a_marginalised_posterior_holds_the_values_each_particle_simulated_with(tmp_path: Path, synthetic):
    simulator = Simulator(overrides=CHEAP, days=DAYS, seed=11, constrain=False)  # others drawn from the prior
    np.random.seed(5)
    run = calibrate(synthetic, tmp_path / "m.db", ("legitimacy",), population=6, generations=1,
                    simulator=simulator, n_procs=1, progress=False)
    posterior = posterior_frame(run.history)
    assert list(posterior.columns) == ["particle", "weight", "legitimacy", *(p.name for p in PARAMETERS
                                                                              if p.name != "legitimacy")]
    assert posterior["attack_rate"].nunique() == len(posterior)  # drawn per particle, not a default
    for row, particle in zip(posterior.to_dict("records"), particles(run.history), strict=True):
        seed = int(particle["statistics"]["seed"])
        drawn = simulator.parameters_for({"legitimacy": row["legitimacy"]}, seed)
        assert drawn == {name: row[name] for name in drawn}
        again = simulator.run({name: row[name] for name in drawn}, seed)
        assert {k: again[k] for k in TARGETS} == {k: particle["statistics"][k] for k in TARGETS}


def test_a_failing_model_returns_rejectable_statistics():
    stats_ = Simulator(overrides=CHEAP, days=DAYS)({"no_such_parameter": 1.0})
    assert stats_["failed"] == 1.0 and stats_["attacks_jan_jun"] >= 1e5 and "seed" in stats_


# --------------------------------------------------------------------------- posterior file
def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_load_posterior_accepts_a_valid_file(tmp_path: Path):
    text = "particle,weight,legitimacy,attack_rate\n0,0.25,0.8,0.02\n1,0.75,0.7,0.03\n"
    frame = load_posterior(_write(tmp_path / "p.csv", text))
    assert list(frame.columns) == ["particle", "weight", "legitimacy", "attack_rate"]
    assert frame["weight"].sum() == pytest.approx(1)


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("weight,particle,legitimacy\n0.5,0,0.8\n0.5,1,0.7\n", r"line 1: the first columns"),
        ("particle,weight,charisma\n0,1,0.8\n", r"line 1, column 'charisma': not a parameter"),
        ("particle,weight,legitimacy\n0,0.5,0.8\n1,0.4,0.7\n", r"column 'weight': weights sum to 0.9"),
        ("particle,weight,legitimacy\n0,0.5,0.8\n1,0.5,1.7\n", r"line 3, column 'legitimacy': 1.7 is outside"),
        ("particle,weight,legitimacy\n0,0.5,abc\n1,0.5,0.7\n", r"line 2, column 'legitimacy': not a number"),
        ("particle,weight,legitimacy\n0,-0.5,0.8\n1,1.5,0.7\n", r"line 2, column 'weight': negative weight"),
        ("", r"not a readable CSV"),
    ],
)
def test_load_posterior_rejects_malformed_files(tmp_path: Path, text: str, pattern: str):
    path = _write(tmp_path / "posterior.csv", text)
    with pytest.raises(PosteriorError, match=pattern) as error:
        load_posterior(path)
    assert str(path) in str(error.value)


def test_load_posterior_missing_file(tmp_path: Path):
    with pytest.raises(PosteriorError, match="posterior file not found"):
        load_posterior(tmp_path / "missing.csv")


def test_shipped_posterior_loads():
    path = Path(__file__).resolve().parent.parent / "calibration" / "results" / "posterior.csv"
    if not path.exists():
        pytest.skip("no shipped posterior")
    frame = load_posterior(path)
    assert len(frame) >= 100


# ---------------------------------------------------------------------------------- CLI
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["calibrate", "--targets", "{tmp}/missing.json"], "target file not found"),
        (["calibrate", "--targets", "{tmp}/bad.json"], "not valid JSON"),
        (["calibrate", "--free", "charisma", "--db", "{tmp}/x.db"], "unknown parameter 'charisma'"),
        (["calibrate-check", "--posterior", "{tmp}/missing.csv", "--prior-sims", "0"], "posterior file not found"),
        (["calibrate-check", "--posterior", "{tmp}/bad.csv", "--prior-sims", "0"], "weights sum to"),
        (["calibrate", "--fit-until", "2011-06-30", "--db", "{tmp}/x.db"], "no target set ends there"),
        (["calibrate", "--fit-until", "September", "--db", "{tmp}/x.db"], "not a date"),
        (["calibrate-check", "--posterior", "{tmp}/year/posterior.csv", "--fit-until", "2011-09-30"],
         "was fitted until 2011-12-31"),
        (["calibrate-check", "--posterior", "{tmp}/broken/posterior.csv"], "summary.json: not valid JSON"),
    ],
)
def test_cli_reports_bad_input_with_exit_status_2(tmp_path: Path, args: list[str], message: str):
    (tmp_path / "bad.json").write_text("[1, 2")
    (tmp_path / "bad.csv").write_text("particle,weight,legitimacy\n0,0.3,0.8\n")
    for folder, summary in (("year", '{"fit_window": {"end": "2011-12-31"}}'), ("broken", "{oops")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "posterior.csv").write_text("particle,weight,legitimacy\n0,1,0.8\n")
        (tmp_path / folder / "summary.json").write_text(summary)
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


# --------------------------------------------------------------------------------- Dask
@pytest.fixture(scope="module")
def dask_cluster():
    """The loopback cluster of ``--scheduler local``: 2 single-threaded worker processes (made here, not at import)."""
    cluster = local_cluster(2)
    yield cluster
    cluster.close()


@pytest.mark.slow
def test_calibration_on_a_dask_cluster(dask_cluster, tmp_path: Path, synthetic):
    simulator = Simulator(overrides=CHEAP, days=DAYS)  # seeds from OS entropy in each worker
    run = calibrate(synthetic, tmp_path / "dask.db", ("legitimacy",), population=8, generations=2,
                    scheduler=dask_cluster.scheduler_address, simulator=simulator, progress=False)
    assert run.history.max_t == 1 and not run.resumed
    assert simulator.calls == 0  # every simulation ran on a worker
    posterior = posterior_frame(run.history, marginalised=False)
    assert list(posterior.columns) == ["particle", "weight", "legitimacy"] and len(posterior) == 8
    assert posterior["weight"].sum() == pytest.approx(1.0) and (posterior["weight"] > 0).all()
    assert posterior["legitimacy"].between(0.6, 0.95).all()
    stored = particles(run.history)
    assert len({p["statistics"]["seed"] for p in stored}) == len(stored)
    for particle in stored:
        again = simulator.run(particle["parameters"], int(particle["statistics"]["seed"]))
        assert {k: again[k] for k in TARGETS} == {k: particle["statistics"][k] for k in TARGETS}


@pytest.mark.slow
def test_cli_jan_sep_calibration_on_a_local_dask_cluster_and_its_out_of_sample_check(tmp_path: Path):
    out = tmp_path / "heldout"
    result = CliRunner().invoke(app, ["calibrate", "--fit-until", "2011-09-30", "--scheduler", "local",
                                      "--workers", "2",
                                      "--population", "6", "--generations", "1", "--free", "legitimacy",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["fit_window"]["end"] == "2011-09-30" and set(summary["targets"]) == set(TARGETS_JAN_SEP)
    assert summary["calibration"]["sampler"].startswith("DaskDistributedSampler(loopback")
    assert summary["calibration"]["simulated_days"] == JAN_SEP.days
    assert len(load_posterior(out / "posterior.csv")) == 6
    particle = particles(open_history(out / "calibration.db"))[0]
    assert set(particle["statistics"]) == {*TARGETS_JAN_SEP, "seed", "failed", "model_seconds"}
    again = Simulator(days=JAN_SEP.days, targets=tuple(TARGETS_JAN_SEP)).run(
        particle["parameters"], int(particle["statistics"]["seed"]))
    assert {k: again[k] for k in TARGETS_JAN_SEP} == {k: particle["statistics"][k] for k in TARGETS_JAN_SEP}

    result = CliRunner().invoke(app, ["calibrate-check", "--posterior", str(out / "posterior.csv"),
                                      "--prior-sims", "0", "--ppc-sims", "4", "--workers", "1"])
    assert result.exit_code == 0, result.output
    scores = json.loads((out / "summary.json").read_text())["scores"]
    assert scores["kazsim_forecast"] == "out-of-sample"
    assert set(scores["models"]) == {"poisson", "negative_binomial", "hawkes", "kazsim_posterior",
                                     "kazsim_continued_particles"}
    assert all(np.isfinite(m["log_score"]) and len(m["pit"]) == 3 for m in scores["models"].values())
    assert json.loads((out / "summary.json").read_text())["continued_particles"]["mismatches"] == 0
    assert (out / "forecast_oct_dec.png").is_file() and (out / "predictive_bands.png").is_file()


# ---------------------------------------------------------------------------- baselines
def test_poisson_and_negbin_fits_recover_known_parameters():
    rng = np.random.default_rng(1)
    y = rng.poisson(2.5, size=4000)
    assert baselines.fit_poisson(y)["mu"] == pytest.approx(2.5, rel=0.05)
    size, mean = 1.5, 3.0
    y = stats.nbinom.rvs(size, size / (size + mean), size=4000, random_state=rng)
    fit = baselines.fit_negbin(y)
    assert fit["mean"] == pytest.approx(mean, rel=0.05)
    assert fit["size"] == pytest.approx(size, rel=0.2)


def test_hawkes_fit_recovers_known_parameters():
    rng = np.random.default_rng(2)
    y = baselines.simulate_hawkes(4000, mu=0.4, alpha=0.3, gamma=0.5, rng=rng)[0]
    fit = baselines.fit_hawkes(y)
    assert fit["mu"] == pytest.approx(0.4, rel=0.25)
    assert fit["alpha"] == pytest.approx(0.3, abs=0.08)
    assert fit["gamma"] == pytest.approx(0.5, abs=0.15)
    assert fit["branching_ratio"] == pytest.approx(0.6, abs=0.1)


def test_scores_prefer_the_true_model():
    rng = np.random.default_rng(3)
    y = rng.poisson(2.0, size=2000)
    k = np.arange(baselines.SUPPORT)
    true, wrong = stats.poisson.pmf(k, 2.0), stats.poisson.pmf(k, 4.0)
    for score in (baselines.log_score, baselines.rps):
        assert np.mean([score(true, v) for v in y]) < np.mean([score(wrong, v) for v in y])
    pit = np.array([baselines.pit_mid(true, v) for v in y])
    assert abs(pit.mean() - 0.5) < 0.03  # calibrated on average
    assert baselines.rps(np.eye(baselines.SUPPORT)[3], 3) == 0.0


def test_score_all_on_the_observed_series():
    y = np.array([0, 0, 0, 0, 1, 1, 1, 0, 0, 2, 2, 0])
    scores = baselines.score_all(y, 9, model_samples=np.tile([[1, 2, 0]], (50, 1)))
    assert set(scores) == {"poisson", "negative_binomial", "hawkes", "kazsim_posterior"}
    assert all(np.isfinite(s["log_score"]) and s["rps"] >= 0 for s in scores.values())


def test_distance_scales_ignore_failed_runs_and_constant_statistics():
    failed = FAILED_VALUE
    samples = np.array([[1.0, 5.0, failed], [3.0, 5.0, failed], [failed, failed, failed]])
    scale = scale_ignoring_failures(samples=samples)
    np.testing.assert_allclose(scale, [1.0, 1.0, 1.0])  # MAD of [1, 3] is 1; constant and all-failed get 1
    np.testing.assert_allclose(scale_ignoring_failures(samples=np.array([[0.0, 2.0], [4.0, 2.0]])), [2.0, 1.0])


def test_the_free_parameters_are_the_shipped_morris_choice():
    from calibration.abc import FREE_PARAMETERS
    from calibration.sensitivity import choose_free

    table = pd.read_csv(Path(__file__).resolve().parent.parent / "calibration" / "results" / "sensitivity_morris.csv")
    assert set(table["parameter"]) == {p.name for p in PARAMETERS}  # the screen covered the whole registry
    assert tuple(choose_free(table)) == FREE_PARAMETERS


def test_failed_runs_are_never_accepted_and_do_not_set_epsilon():
    from calibration.abc import FAILED_DISTANCE, make_distance, make_epsilon

    distance = make_distance()
    observed = {"a": 1.0, "b": 2.0}
    distance.initialize(t=0, get_sample=lambda: _sample([[1.0, 2.0], [3.0, 5.0]]), x_0=observed, total_sims=2)
    assert distance({"a": 1.0, "b": 2.0, "failed": 0.0}, observed, t=0) == 0.0
    assert distance({"a": 1.0, "b": 2.0, "failed": 2.0}, observed, t=0) == FAILED_DISTANCE
    epsilon = make_epsilon()
    frame = pd.DataFrame({"distance": [1.0, 2.0, 3.0, FAILED_DISTANCE, FAILED_DISTANCE, FAILED_DISTANCE,
                                       FAILED_DISTANCE], "w": 1.0})
    epsilon.initialize(0, lambda: frame, list, 5, {})
    assert epsilon(0) == pytest.approx(2.0)  # the median of the plausible runs, not a failure's distance


def _sample(rows):
    from pyabc.population import Sample

    sample = Sample(record_rejected=True)
    for row in rows:
        sample.append(_particle({"a": row[0], "b": row[1]}))
    return sample


def _particle(stats):
    from pyabc.population import Particle

    return Particle(m=0, parameter={}, weight=1.0, sum_stat=stats, distance=0.0, accepted=True)
