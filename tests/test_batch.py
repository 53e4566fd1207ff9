"""Batches: reproducible on any executor, resumable after SIGKILL, failures isolated; comparison."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim.batch
import sim.run
from sim.batch import load_batch, run_batch
from sim.compare import compare_outcomes, outcomes_per_run

REPO = Path(__file__).resolve().parent.parent
QUICK = ["period.end=2011-04-30", "scale.people_per_agent=20000", "scale.cell_degrees=1.0", "cell_formation_rate=1e-6"]


def contents(root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    batch = load_batch(root)
    keys = ["scenario", "seed"]
    events = batch.events.sort_values([*keys, "id"]).reset_index(drop=True)
    daily = batch.daily.sort_values([*keys, "date"]).reset_index(drop=True)
    return events, daily


def test_same_batch_same_contents_on_one_two_workers_and_dask(tmp_path: Path) -> None:
    scenarios = ["baseline_2011", "no_sweeps"]
    run_batch(scenarios, replicates=4, out=tmp_path / "one", workers=1, overrides=QUICK)
    run_batch(scenarios, replicates=4, out=tmp_path / "again", workers=1, overrides=QUICK)
    run_batch(scenarios, replicates=4, out=tmp_path / "two", workers=2, overrides=QUICK)
    run_batch(scenarios, replicates=4, out=tmp_path / "dask", workers=2, scheduler="local", overrides=QUICK)
    events, daily = contents(tmp_path / "one")
    assert len(events) > 0 and len(daily) == 2 * 4 * 120
    for other in ("again", "two", "dask"):
        other_events, other_daily = contents(tmp_path / other)
        pd.testing.assert_frame_equal(events, other_events)
        pd.testing.assert_frame_equal(daily, other_daily)


def test_batch_killed_with_sigkill_resumes_to_exactly_n_runs(tmp_path: Path) -> None:
    out = tmp_path / "batch"
    command = [sys.executable, "-m", "sim.cli", "batch", "baseline_2011", "no_religion_law", "--replicates", "8",
               "--workers", "1", "--out", str(out), *(f"--set={o}" for o in ["period.end=2011-06-30"])]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(list((out / "runs").glob("*/*.json"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    killed_at = len(list((out / "runs").glob("*/*.json")))
    assert 3 <= killed_at < 16, "the batch should have been killed part-way"
    subprocess.run(command, cwd=REPO, check=True, capture_output=True)
    batch = load_batch(out)
    per_scenario = batch.runs.groupby("scenario")["seed"].apply(sorted)
    assert per_scenario.to_dict() == {name: list(range(2011, 2019)) for name in ("baseline_2011", "no_religion_law")}
    assert not list(out.rglob("*.tmp"))
    assert batch.daily.groupby(["scenario", "seed"]).size().eq(181).all()


def test_a_run_that_raises_is_recorded_and_the_batch_completes(tmp_path: Path, monkeypatch) -> None:
    real = sim.run.simulate

    def flaky(scenario, seed=None, **kwargs):
        if scenario.name == "no_sweeps" and seed == 2012:
            raise RuntimeError("injected failure")
        return real(scenario, seed=seed, **kwargs)

    monkeypatch.setattr(sim.run, "simulate", flaky)
    result = run_batch(["baseline_2011", "no_sweeps"], replicates=3, out=tmp_path / "b", workers=1, overrides=QUICK)
    assert len(result.runs) == 5
    assert [(f["scenario"], f["seed"]) for f in result.failures] == [("no_sweeps", 2012)]
    assert "injected failure" in result.failures[0]["error"] and "Traceback" in result.failures[0]["traceback"]
    monkeypatch.setattr(sim.run, "simulate", real)
    retried = run_batch(["baseline_2011", "no_sweeps"], replicates=3, out=tmp_path / "b", workers=1, overrides=QUICK)
    assert len(retried.runs) == 6 and retried.failures == []


def test_cli_batch_exit_status_reports_failures(tmp_path: Path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from sim.cli.main import app

    real = sim.run.simulate

    def flaky(scenario, seed=None, **kwargs):
        if seed == 2011 and scenario.name == "no_sweeps":
            raise ValueError("injected")
        return real(scenario, seed=seed, **kwargs)

    monkeypatch.setattr(sim.run, "simulate", flaky)
    args = ["batch", "baseline_2011", "no_sweeps", "--replicates", "2", "--workers", "1", "--out", str(tmp_path / "o"),
            *(f"--set={o}" for o in QUICK)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert "no_sweeps seed 2011" in result.output and "injected" in result.output
    assert len(load_batch(tmp_path / "o").runs) == 3


@pytest.mark.slow
def test_common_random_numbers_narrow_the_effect_interval(tmp_path: Path) -> None:
    overrides = ["scale.people_per_agent=5000", "scale.cell_degrees=1.0"]
    result = run_batch(["baseline_2011", "no_religion_law"], replicates=12, out=tmp_path / "crn", workers=2,
                       overrides=overrides)
    table = outcomes_per_run(result)
    paired = {e.outcome: e for e in compare_outcomes(table, "baseline_2011", paired=True)}
    independent = {e.outcome: e for e in compare_outcomes(table, "baseline_2011", paired=False)}
    width = lambda e: e.high - e.low  # noqa: E731
    assert width(paired["radicalised_nov_dec"]) < width(independent["radicalised_nov_dec"])
    assert paired["radicalised_nov_dec"].effect < 0


def test_compare_reports_missing_or_corrupt_files_with_status_2(tmp_path: Path) -> None:
    out = tmp_path / "b"
    run_batch(["baseline_2011", "no_sweeps"], replicates=2, out=out, workers=1, overrides=QUICK)
    compare = [sys.executable, "-m", "sim.cli", "compare", str(out)]
    ok = subprocess.run(compare, cwd=REPO, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    victim = next((out / "daily").rglob("*.parquet"))
    victim.write_bytes(b"not parquet")
    corrupt = subprocess.run(compare, cwd=REPO, capture_output=True, text=True)
    assert corrupt.returncode == 2 and victim.name in corrupt.stderr and "Traceback" not in corrupt.stderr
    (out / "manifest.json").unlink()
    missing = subprocess.run(compare, cwd=REPO, capture_output=True, text=True)
    assert missing.returncode == 2 and "manifest.json" in missing.stderr and "Traceback" not in missing.stderr
    empty = subprocess.run([sys.executable, "-m", "sim.cli", "compare", str(tmp_path / "nowhere")], cwd=REPO,
                           capture_output=True, text=True)
    assert empty.returncode == 2 and "Traceback" not in empty.stderr


def test_compare_report_has_plots_and_effects(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from sim.cli.main import app

    out = tmp_path / "b"
    run_batch(["baseline_2011", "no_religion_law"], replicates=3, out=out, workers=1, overrides=QUICK)
    report = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["compare", str(out), "--report", str(report)])
    assert result.exit_code == 0, result.output
    html = report.read_text()
    assert html.count("data:image/png;base64,") == 3 and "radicalised_nov_dec" in html
    markdown = tmp_path / "report.md"
    assert CliRunner().invoke(app, ["compare", str(out), "--report", str(markdown)]).exit_code == 0
    assert len(list((tmp_path / "report_files").glob("*.png"))) == 3


def test_python_api_returns_frames(tmp_path: Path) -> None:
    result = run_batch(["baseline_2011"], replicates=2, out=tmp_path / "api", overrides=QUICK)
    assert set(result.daily["seed"]) == {2011, 2012} and set(result.daily["scenario"]) == {"baseline_2011"}
    assert np.issubdtype(result.daily["sympathisers"].dtype, np.integer)


def test_unreachable_scheduler_is_an_input_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sim.cli", "batch", "baseline_2011", "--replicates", "1", "--scheduler",
         "tcp://127.0.0.1:1", "--out", str(tmp_path / "o"), "--set", "period.end=2011-01-05"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2 and "cannot reach a Dask scheduler" in result.stderr
    assert "Traceback" not in result.stderr


def _scenarios_with_posterior(tmp_path: Path) -> tuple[Path, Path]:
    posterior = tmp_path / "posterior.csv"
    posterior.write_text("particle,weight,legitimacy,attack_rate\n0,0.5,0.78,0.01\n1,0.3,0.84,0.03\n2,0.2,0.80,0.05\n")
    base = tmp_path / "base.toml"
    base.write_text(f'extends = "{REPO / "scenarios" / "baseline_2011.toml"}"\nname = "base"\n'
                    f'posterior = "posterior.csv"\n')
    other = tmp_path / "other.toml"
    other.write_text('extends = "base.toml"\nname = "other"\n[levers.sweeps]\nenabled = false\n')
    return base, other


def test_posterior_draws_are_common_across_scenarios_and_recorded(tmp_path: Path) -> None:
    base, other = _scenarios_with_posterior(tmp_path)
    result = run_batch([base, other], replicates=6, out=tmp_path / "b", workers=1, overrides=QUICK)
    draws = result.manifest["parameters"]
    assert draws["mode"] == "posterior" and draws["posterior"] == str((tmp_path / "posterior.csv").resolve())
    assert set(draws["particles"]) == {str(s) for s in range(2011, 2017)}
    assert len(set(draws["particles"].values())) > 1
    # The same draw for replicate i of both scenarios: runs differ only by the sweeps lever.
    import sim.batch as batch_module
    from sim.scenario import load_scenario

    values, _ = batch_module.parameter_draws([load_scenario(base, QUICK), load_scenario(other, QUICK)],
                                              list(range(2011, 2017)), "posterior", 2011)
    particle_values = {0: 0.78, 1: 0.84, 2: 0.80}
    for seed, value in zip(range(2011, 2017), values, strict=True):
        assert value["legitimacy"] == particle_values[draws["particles"][str(seed)]]
    point = run_batch([base], replicates=2, out=tmp_path / "p", workers=1, overrides=QUICK, parameters="point")
    assert point.manifest["parameters"]["values"]["legitimacy"] == pytest.approx(0.5 * 0.78 + 0.3 * 0.84 + 0.2 * 0.80)
    plain = run_batch([base], replicates=2, out=tmp_path / "s", workers=1, overrides=QUICK, parameters="scenario")
    assert plain.manifest["parameters"] == {"mode": "scenario"}


def test_malformed_posterior_is_an_input_error(tmp_path: Path) -> None:
    base, _ = _scenarios_with_posterior(tmp_path)
    (tmp_path / "posterior.csv").write_text("particle,weight,legitimacy\n0,0.5,1.7\n1,0.5,0.8\n")
    result = subprocess.run([sys.executable, "-m", "sim.cli", "batch", str(base), "--replicates", "1", "--out",
                             str(tmp_path / "o")], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 2 and "posterior.csv" in result.stderr and "legitimacy" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "o").exists()
