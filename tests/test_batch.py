"""Batches: reproducible on any executor, resumable after SIGKILL, failures isolated; comparison."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import sim.batch
import sim.batch.executors
import sim.run
from sim.batch import load_batch, run_batch
from sim.cli.main import app
from sim.compare import compare_outcomes, outcomes_per_run

if TYPE_CHECKING:
    from click.testing import Result

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
    run_batch(scenarios, replicates=4, out=tmp_path / "dask-chunks", workers=2, scheduler="local", overrides=QUICK,
              runs_per_task=3)
    events, daily = contents(tmp_path / "one")
    assert len(events) > 0 and len(daily) == 2 * 4 * 120
    for other in ("again", "two", "dask", "dask-chunks"):
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

    monkeypatch.setattr(sim.batch.executors, "simulate", flaky)
    result = run_batch(["baseline_2011", "no_sweeps"], replicates=3, out=tmp_path / "b", workers=1, overrides=QUICK)
    assert len(result.runs) == 5
    assert [(f["scenario"], f["seed"]) for f in result.failures] == [("no_sweeps", 2012)]
    assert "injected failure" in result.failures[0]["error"] and "Traceback" in result.failures[0]["traceback"]
    monkeypatch.setattr(sim.batch.executors, "simulate", real)
    retried = run_batch(["baseline_2011", "no_sweeps"], replicates=3, out=tmp_path / "b", workers=1, overrides=QUICK)
    assert len(retried.runs) == 6 and retried.failures == []


def test_cli_batch_exit_status_reports_failures(tmp_path: Path, monkeypatch) -> None:
    real = sim.run.simulate

    def flaky(scenario, seed=None, **kwargs):
        if seed == 2011 and scenario.name == "no_sweeps":
            raise ValueError("injected")
        return real(scenario, seed=seed, **kwargs)

    monkeypatch.setattr(sim.batch.executors, "simulate", flaky)
    args = ["batch", "baseline_2011", "no_sweeps", "--replicates", "2", "--workers", "1", "--out", str(tmp_path / "o"),
            *(f"--set={o}" for o in QUICK)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert "no_sweeps seed 2011" in result.output and "injected" in result.output
    assert len(load_batch(tmp_path / "o").runs) == 3


@pytest.mark.parametrize(("mode", "said"), [
    ("posterior", "calibrated parameters were drawn from the posterior"),
    ("prior", "parameters were all drawn from their priors"),
    ("point", "Every run used the posterior mean of"),
    ("scenario", "Every run used the scenario files' own parameter values"),
])
def test_batch_says_how_its_runs_chose_their_parameters(tmp_path: Path, mode: str, said: str) -> None:
    result = CliRunner().invoke(app, ["batch", "baseline_2011", "--replicates", "1", "--workers", "1", "--parameters",
                                      mode, "--out", str(tmp_path / "o"), *(f"--set={o}" for o in QUICK)])
    assert result.exit_code == 0, result.output
    assert said in " ".join(result.output.split())


@pytest.mark.slow
def test_common_random_numbers_narrow_the_effect_interval(tmp_path: Path) -> None:
    overrides = ["scale.people_per_agent=5000", "scale.cell_degrees=1.0"]
    result = run_batch(["baseline_2011", "no_religion_law"], replicates=12, out=tmp_path / "crn", workers=2,
                       overrides=overrides)
    table = outcomes_per_run(result)
    paired = {e.outcome: e for e in compare_outcomes(table, "baseline_2011", paired=True)}
    independent = {e.outcome: e for e in compare_outcomes(table, "baseline_2011", paired=False)}
    width = lambda e: e.high - e.low  # noqa: E731
    assert width(paired["people_sympathising_nov_dec"]) < width(independent["people_sympathising_nov_dec"])
    assert paired["people_sympathising_nov_dec"].effect < 0


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
    assert "kazsim batch` with the same arguments" in corrupt.stderr
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
    assert html.count("data:image/png;base64,") == 3 and "Uninvolved people detained in detention sweeps" in html
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


def test_a_batch_removes_temporary_files_whose_writer_was_killed(tmp_path: Path) -> None:
    out = tmp_path / "b"
    run_batch(["baseline_2011"], replicates=1, out=out, workers=1, overrides=QUICK)
    gone = subprocess.Popen(["true"])
    gone.wait()
    abandoned = out / "events" / "scenario=baseline_2011" / f".seed=2012.parquet.{gone.pid}-0a1b.tmp"
    in_progress = out / "daily" / "scenario=baseline_2011" / f".seed=2012.parquet.{os.getpid()}-0a1b.tmp"
    abandoned.write_bytes(b"half")
    in_progress.write_bytes(b"half")
    run_batch(["baseline_2011"], replicates=1, out=out, workers=1, overrides=QUICK)
    assert not abandoned.exists() and in_progress.exists()


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
                                              list(range(2011, 2017)), "posterior")
    particle_values = {0: 0.78, 1: 0.84, 2: 0.80}
    for seed, value in zip(range(2011, 2017), values, strict=True):
        assert value["legitimacy"] == particle_values[draws["particles"][str(seed)]]
    point = run_batch([base], replicates=2, out=tmp_path / "p", workers=1, overrides=QUICK, parameters="point")
    assert point.manifest["parameters"]["values"]["legitimacy"] == pytest.approx(0.5 * 0.78 + 0.3 * 0.84 + 0.2 * 0.80)
    plain = run_batch([base], replicates=2, out=tmp_path / "s", workers=1, overrides=QUICK, parameters="scenario")
    assert plain.manifest["parameters"] == {"mode": "scenario"}


def test_point_mode_averages_only_the_calibrated_parameters(tmp_path: Path) -> None:
    import json

    import sim.batch as batch_module
    from sim.parameters import BY_NAME
    from sim.scenario import load_scenario

    base, _ = _scenarios_with_posterior(tmp_path)
    (tmp_path / "posterior.csv").write_text("particle,weight,legitimacy,attack_rate,vision\n"
                                            "0,0.5,0.78,0.002,1\n1,0.5,0.84,0.08,2\n")
    (tmp_path / "summary.json").write_text(json.dumps({"calibration": {"free_parameters": ["legitimacy"]}}))
    values, identity = batch_module.parameter_draws([load_scenario(base, QUICK)], [1], "point")
    assert values[0]["legitimacy"] == pytest.approx(0.81) and identity["calibrated"] == ["legitimacy"]
    # attack_rate and vision were drawn from their priors by the calibration, not fitted: their defaults stand.
    assert values[0]["attack_rate"] == BY_NAME["attack_rate"].default
    assert values[0]["vision"] == BY_NAME["vision"].default


def test_malformed_posterior_is_an_input_error(tmp_path: Path) -> None:
    base, _ = _scenarios_with_posterior(tmp_path)
    (tmp_path / "posterior.csv").write_text("particle,weight,legitimacy\n0,0.5,1.7\n1,0.5,0.8\n")
    result = subprocess.run([sys.executable, "-m", "sim.cli", "batch", str(base), "--replicates", "1", "--out",
                             str(tmp_path / "o")], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 2 and "posterior.csv" in result.stderr and "legitimacy" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "o").exists()


# --- batches never loop: dead workers ---------------------------------------------------------------------------

SCRIPT_QUICK = ["period.end=2011-02-28", "scale.people_per_agent=20000", "scale.cell_degrees=1.0"]


def readme_script(out: Path, guarded: bool) -> str:
    """The README's Python example as a script with quick settings, with or without its ``__main__`` guard."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    code = re.search(r"From Python.*?```python\n(.*?)```", readme, re.DOTALL).group(1)
    call = 'replicates=50, out="batches/sweeps", workers=2'
    assert call in code and 'if __name__ == "__main__":' in code
    code = code.replace(call, f"replicates=2, out={str(out)!r}, workers=2, overrides={SCRIPT_QUICK!r}")
    if guarded:
        return code
    header, _, body = code.partition('if __name__ == "__main__":')
    return header + textwrap.dedent(body.split("\n", 1)[1])


def test_readme_example_without_main_guard_stops_with_advice_and_with_it_runs(tmp_path: Path) -> None:
    unguarded = tmp_path / "unguarded.py"
    unguarded.write_text(readme_script(tmp_path / "u", guarded=False))
    start = time.monotonic()
    result = subprocess.run([sys.executable, str(unguarded)], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and time.monotonic() - start < 60
    assert "worker processes could not start" in result.stderr
    assert 'put the call under `if __name__ == "__main__":`' in result.stderr and "workers=1" in result.stderr
    guarded = tmp_path / "guarded.py"
    guarded.write_text(readme_script(tmp_path / "g", guarded=True))
    result = subprocess.run([sys.executable, str(guarded)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "attacks" in result.stdout and len(load_batch(tmp_path / "g").runs) == 4


def quick_specs(seeds: range) -> list[sim.batch.RunSpec]:
    from sim.scenario import load_scenario

    scenarios = [load_scenario(name, SCRIPT_QUICK) for name in ("baseline_2011", "no_sweeps")]
    return [sim.batch.RunSpec(s.resolved(), seed) for seed in seeds for s in scenarios]


def test_a_run_that_kills_its_worker_is_tried_three_times_then_recorded_and_the_rest_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import batch_runners

    log = tmp_path / "attempts.log"
    monkeypatch.setenv(batch_runners.ATTEMPTS_LOG, str(log))
    folder = sim.batch.BatchFolder(tmp_path / "b")
    specs = quick_specs(range(2011, 2015))
    sim.batch.run_processes(specs, 2, folder.save, runner=batch_runners.kill_worker_on_victim)
    state = folder.inspect()
    assert state.complete == {(s.name, s.seed) for s in specs} - {batch_runners.VICTIM}
    assert [(f["scenario"], f["seed"]) for f in state.failures] == [batch_runners.VICTIM]
    error = state.failures[0]["error"]
    assert "worker process died 3 times running this run" in error and "out-of-memory" in error and "SIGKILL" in error
    attempts = pd.Series(log.read_text().splitlines()).value_counts()
    assert attempts.pop(" ".join(map(str, batch_runners.VICTIM))) == sim.batch.WORKER_ATTEMPTS
    assert attempts.eq(1).all() and len(attempts) == len(specs) - 1, "innocent runs ran once each"


@pytest.mark.parametrize("runs_per_task", [1, 2], ids=["one run per task", "two runs per task"])
def test_dask_killed_worker_is_recorded_as_a_failed_run(tmp_path: Path, runs_per_task: int) -> None:
    import dask
    import distributed  # noqa: F401  # its defaults first: leaving dask.config.set would otherwise drop them all

    import batch_runners

    folder = sim.batch.BatchFolder(tmp_path / "b")
    specs = quick_specs(range(2011, 2013))
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        sim.batch.run_dask(specs, 2, "local", folder.save, runner=batch_runners.kill_worker_on_victim,
                           chunk=runs_per_task)
    state = folder.inspect()
    failed = {(f["scenario"], f["seed"]): f["error"] for f in state.failures}
    assert failed[batch_runners.VICTIM].startswith("KilledWorker: worker process died")
    # Dask also blames a run queued on the dying worker: it fails the same way (retried next time), never silently.
    assert state.complete | set(failed) == {(s.name, s.seed) for s in specs}
    assert all(error.startswith("KilledWorker") for error in failed.values())
    assert len(failed) < len(specs), "a task of several runs is split, so its innocent runs complete"


def test_a_failed_task_of_guided_size_is_split_and_only_its_culprit_fails(tmp_path: Path) -> None:
    import batch_runners

    folder = sim.batch.BatchFolder(tmp_path / "b")
    specs = quick_specs(range(2006, 2016))  # 20 runs on 2 threads: the first tasks carry 3 runs, the last ones 1
    sizes = []
    sizing = sim.batch.executors.runs_per_task

    def recording(remaining: int, threads: int) -> int:  # runs in this process, where tasks are cut
        sizes.append(sizing(remaining, threads))
        return sizes[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sim.batch.executors, "runs_per_task", recording)
        sim.batch.run_dask(specs, 2, "local", folder.save, runner=batch_runners.raise_on_victim)
    state = folder.inspect()
    failed = {(f["scenario"], f["seed"]): f["error"] for f in state.failures}
    assert list(failed) == [batch_runners.VICTIM] and failed[batch_runners.VICTIM].startswith("RuntimeError")
    assert state.complete == {(s.name, s.seed) for s in specs} - {batch_runners.VICTIM}, "nothing lost"
    assert max(sizes) > 1 and sizes[-1] == 1, sizes


# --- batches grow -----------------------------------------------------------------------------------------------


def files_of(root: Path, seeds: range) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("seed=*"))
            if int(path.stem.removeprefix("seed=")) in seeds}


@pytest.mark.parametrize("with_posterior", [False, True], ids=["scenario-values", "posterior"])
def test_growing_a_batch_runs_only_the_new_seeds_and_equals_a_fresh_batch(tmp_path: Path, with_posterior: bool) -> None:
    scenarios = list(_scenarios_with_posterior(tmp_path)) if with_posterior else ["baseline_2011", "no_sweeps"]
    grown = tmp_path / "grown"
    run_batch(scenarios, replicates=4, out=grown, workers=1, overrides=QUICK)
    first = files_of(grown, range(2011, 2015))
    assert len(first) == 2 * 4 * 3
    counts = []
    result = run_batch(scenarios, replicates=6, out=grown, workers=1, overrides=QUICK,
                       progress=lambda c: counts.append((c.done, c.total)))
    assert counts[0] == (8, 12), "only the 4 new runs are run"
    assert result.runs.groupby("scenario").size().eq(6).all()
    assert files_of(grown, range(2011, 2015)) == first
    run_batch(scenarios, replicates=6, out=tmp_path / "fresh", workers=1, overrides=QUICK)
    for grown_table, fresh_table in zip(contents(grown), contents(tmp_path / "fresh"), strict=True):
        pd.testing.assert_frame_equal(grown_table, fresh_table)
    manifest = load_batch(grown).manifest
    assert manifest["replicates"] == 6 and manifest["seeds"] == list(range(2011, 2017))
    if with_posterior:
        particles = manifest["parameters"]["particles"]
        assert set(particles) == {str(s) for s in range(2011, 2017)}
        assert particles == load_batch(tmp_path / "fresh").manifest["parameters"]["particles"]
        records = [json.loads(p.read_text()) for p in sorted((grown / "runs").rglob("*.json"))]
        assert all(r["particle"] == particles[str(r["seed"])] for r in records)
    # A smaller batch into the grown folder leaves its manifest's seeds and particles whole.
    run_batch(scenarios, replicates=2, out=grown, workers=1, overrides=QUICK)
    assert load_batch(grown).manifest["seeds"] == list(range(2011, 2017))


def test_growing_refuses_another_base_seed_scenario_or_parameters(tmp_path: Path) -> None:
    from sim.batch import BatchError

    base, other = _scenarios_with_posterior(tmp_path)
    out = tmp_path / "b"
    run_batch([base, other], replicates=2, out=out, workers=1, overrides=QUICK)
    manifest = (out / "manifest.json").read_bytes()
    with pytest.raises(BatchError, match=r"manifest.json: field 'base_seed' is 2011, not 3000 \(--seed\)"):
        run_batch([base, other], replicates=2, out=out, workers=1, overrides=QUICK, base_seed=3000)
    with pytest.raises(BatchError, match=r"scenario 'base' differs .*changed: parameters.legitimacy"):
        run_batch([base, other], replicates=2, out=out, workers=1, overrides=[*QUICK, "legitimacy=0.7"])
    with pytest.raises(BatchError, match=r"'parameters.mode' is 'posterior'; this batch asks for 'point'"):
        run_batch([base, other], replicates=2, out=out, workers=1, overrides=QUICK, parameters="point")
    (tmp_path / "posterior.csv").write_text("particle,weight,legitimacy,attack_rate\n0,1.0,0.78,0.01\n")
    with pytest.raises(BatchError, match=r"drew parameters from a posterior with sha256 .*posterior.csv now differs"):
        run_batch([base, other], replicates=2, out=out, workers=1, overrides=QUICK)
    assert (out / "manifest.json").read_bytes() == manifest


def test_a_folder_made_before_stated_parameters_were_digested_is_read_but_not_grown(tmp_path: Path) -> None:
    from sim.batch import BatchError
    from sim.batch.plan import digest, draw_identity

    out = tmp_path / "b"
    run_batch(["baseline_2011"], replicates=2, out=out, workers=1, overrides=QUICK)
    manifest = json.loads((out / "manifest.json").read_text())
    identity = draw_identity(manifest["parameters"])
    for scenario in manifest["scenarios"].values():  # as format 2 wrote them
        scenario["digest"] = digest({**scenario["resolved"], "draws": identity})
    (out / "manifest.json").write_text(json.dumps({**manifest, "format": 2}, indent=2))
    assert len(load_batch(out).runs) == 2
    with pytest.raises(BatchError, match=r"made by an earlier version of kazsim \(field 'format' is 2, not 3\)"):
        run_batch(["baseline_2011"], replicates=3, out=out, workers=1, overrides=QUICK)


def test_posterior_draw_depends_on_the_seed_alone() -> None:
    weights = np.array([0.5, 0.3, 0.2])
    draws = [sim.batch.particle_for_seed(weights, seed) for seed in range(10_000)]
    assert draws[:50] == [sim.batch.particle_for_seed(weights, seed) for seed in range(50)]
    shares = np.bincount(draws, minlength=3) / len(draws)
    assert shares == pytest.approx(weights, abs=0.02)


# --- damaged and foreign files ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 2-scenario, 2-seed batch folder to copy and damage."""
    out = tmp_path_factory.mktemp("pristine") / "b"
    run_batch(["baseline_2011", "no_sweeps"], replicates=2, out=out, workers=1, overrides=QUICK)
    return out


BATCH_ARGS = ["baseline_2011", "no_sweeps", "--replicates", "2", "--workers", "1", *(f"--set={o}" for o in QUICK)]


def cli(*args: str) -> Result:
    """``kazsim *args`` run in this process."""
    from typer.testing import CliRunner

    from sim.cli.main import app

    return CliRunner().invoke(app, [*args])


def test_a_damaged_parquet_is_redone_by_the_next_batch_then_compare_works(tmp_path: Path, pristine: Path) -> None:
    out = tmp_path / "b"
    shutil.copytree(pristine, out)
    victim = out / "events" / "scenario=no_sweeps" / "seed=2012.parquet"
    victim.write_bytes(victim.read_bytes()[: len(victim.read_bytes()) // 2])
    victim_run = ("scenario=no_sweeps", "seed=2012")
    others = {p: p.read_bytes() for p in out.rglob("seed=*") if (p.parent.name, p.stem) != victim_run}
    compare = [sys.executable, "-m", "sim.cli", "compare", str(out)]
    refused = subprocess.run(compare, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and str(victim) in refused.stderr and "Traceback" not in refused.stderr
    assert "run `kazsim batch` with the same arguments to redo the run" in refused.stderr
    lines, counts = [], []
    run_batch(["baseline_2011", "no_sweeps"], replicates=2, out=out, workers=1, overrides=QUICK, warn=lines.append,
              progress=lambda c: counts.append(c.done))
    assert len(lines) == 1 and str(victim) in lines[0] and "not a readable Parquet file" in lines[0]
    assert counts == [3, 4], "exactly the damaged run is run again"
    assert victim.read_bytes() == (pristine / victim.relative_to(out)).read_bytes()
    assert len(others) == 9 and all(path.read_bytes() == data for path, data in others.items())
    assert not list(out.rglob("*.tmp"))
    ok = subprocess.run(compare, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "warning" not in ok.stderr


def _write(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


def _flip(path: Path, start: int, stop: int) -> None:
    """Invert the bytes ``start:stop`` of a file in place."""
    data = path.read_bytes()
    path.write_bytes(data[:start] + bytes(b ^ 0xFF for b in data[start:stop]) + data[stop:])


DAMAGES = {
    "daily not parquet": ("daily/scenario=baseline_2011/seed=2011.parquet", lambda p, r: _write(p, b"not parquet"),
                          "not a readable Parquet file"),
    "events missing": ("events/scenario=baseline_2011/seed=2011.parquet", lambda p, r: p.unlink(), "missing"),
    "events of another seed": ("events/scenario=baseline_2011/seed=2011.parquet",
                               lambda p, r: shutil.copy(r / "events/scenario=baseline_2011/seed=2012.parquet", p),
                               "holds the table of scenario 'baseline_2011' seed 2012"),
    "record not JSON": ("runs/scenario=baseline_2011/seed=2011.json", lambda p, r: _write(p, "{oops"),
                        "run record is not readable JSON"),
    "record of another seed": ("runs/scenario=baseline_2011/seed=2011.json",
                               lambda p, r: shutil.copy(r / "runs/scenario=baseline_2011/seed=2012.json", p),
                               "run record names scenario 'baseline_2011' seed 2012"),
    "record a list": ("runs/scenario=baseline_2011/seed=2011.json", lambda p, r: _write(p, "[1, 2]"),
                      "run record is not an object"),
    # Bytes flipped inside a data page: footer and metadata intact, so only the recorded sha256 shows it.
    "daily flipped inside": ("daily/scenario=baseline_2011/seed=2011.parquet", lambda p, r: _flip(p, 40, 400),
                             "damaged: its sha256 is not the one the run recorded"),
}


@pytest.mark.parametrize("case", list(DAMAGES))
def test_damaged_run_is_reported_and_redone(tmp_path: Path, pristine: Path, case: str) -> None:
    relative, damage, what = DAMAGES[case]
    out = tmp_path / "b"
    shutil.copytree(pristine, out)
    damage(out / relative, out)
    refused = cli("compare", str(out))
    assert refused.exit_code == 2 and relative in refused.output and what in refused.output
    assert "Traceback" not in refused.output
    redone = cli("batch", *BATCH_ARGS, "--out", str(out))
    assert redone.exit_code == 0, redone.output
    assert f"warning: {out / relative}: {what}" in redone.output and "running it again" in redone.output
    assert (out / relative).read_bytes() == (pristine / relative).read_bytes() or relative.startswith("runs/")
    for table, expected in zip(contents(out), contents(pristine), strict=True):
        pd.testing.assert_frame_equal(table, expected)
    assert cli("compare", str(out)).exit_code == 0


def test_records_written_before_table_digests_still_count_their_run_complete(tmp_path: Path, pristine: Path) -> None:
    out = tmp_path / "b"
    shutil.copytree(pristine, out)
    for record in (out / "runs").rglob("seed=*.json"):  # as batches wrote them before records held sha256
        content = json.loads(record.read_text())
        del content["sha256"]
        record.write_text(json.dumps(content, indent=2) + "\n")
    state = sim.batch.BatchFolder(out).inspect()
    assert len(state.complete) == 4 and not state.problems, state.problems
    assert cli("compare", str(out)).exit_code == 0


FOREIGN = {  # case: (file written, its content, the path reported, what is said)
    "record named backup": ("runs/scenario=baseline_2011/seed=backup.json", "{}", None,
                            "not a seed=<integer>.json file; ignored"),
    "record with leading zero": ("runs/scenario=baseline_2011/seed=02011.json", "{}", None,
                                 "not a seed=<integer>.json file; ignored"),
    "failure not JSON": ("failures/scenario=baseline_2011/seed=2013.json", "oops", None, "not a failure record"),
    "failure a list": ("failures/scenario=no_sweeps/seed=2013.json", "[1, 2]", None, "not a failure record"),
    "failure of another run": ("failures/scenario=no_sweeps/seed=2013.json",
                               '{"scenario": "no_sweeps", "seed": 7, "error": "x"}', None, "not a failure record"),
    "stray table file": ("events/scenario=baseline_2011/notes.txt", "notes", None,
                         "not a seed=<integer>.parquet file; ignored"),
    "stray file in runs": ("runs/stray.txt", "x", None, "not a scenario=<name> folder; ignored"),
    "unknown scenario": ("runs/scenario=ghost/seed=2011.json", "{}", "runs/scenario=ghost",
                         "scenario 'ghost' is not in manifest.json; ignored"),
}


@pytest.mark.parametrize("case", list(FOREIGN))
def test_foreign_files_are_reported_and_ignored(tmp_path: Path, pristine: Path, case: str) -> None:
    relative, text, reported, what = FOREIGN[case]
    out = tmp_path / "b"
    shutil.copytree(pristine, out)
    _write(out / relative, text)
    for args in (["batch", *BATCH_ARGS, "--out", str(out)], ["compare", str(out)]):
        result = cli(*args)
        assert result.exit_code == 0, result.output
        assert f"warning: {out / (reported or relative)}: {what}" in result.output
        assert "Traceback" not in result.output
    batch = load_batch(out)
    assert len(batch.runs) == 4 and batch.failures == [] and len(batch.problems) == 1
    assert (out / relative).read_text() == text


@pytest.mark.parametrize(
    ("manifest", "field"),
    [("[1, 2]", "expected a JSON object"), ('{"scenarios": [], "base_seed": 2011, "replicates": 2}', "'scenarios'"),
     ('{"scenarios": {}, "base_seed": "x", "replicates": 2}', "'base_seed'"),
     ('{"scenarios": {"a": 1}, "base_seed": 1, "replicates": 2}', "'scenarios.a'"),
     ('{"scenarios": {}, "base_seed": 2011}', "'replicates' is missing"),
     (lambda m: m["parameters"].update(particles=[1]), "'parameters.particles'"),
     (lambda m: m.update(provenance="x"), "'provenance'"),
     (lambda m: m["scenarios"]["no_sweeps"].update(resolved="x"), "'scenarios.no_sweeps.resolved'"),
     (lambda m: m["scenarios"]["no_sweeps"].update(stated_parameters=5), "'scenarios.no_sweeps.stated_parameters'")],
)
def test_manifest_of_the_wrong_shape_is_an_input_error(
    tmp_path: Path, pristine: Path, manifest: str, field: str
) -> None:
    out = tmp_path / "b"
    shutil.copytree(pristine, out)
    if callable(manifest):  # a damaged field deeper in the real manifest: batch, compare, its report and replay use it
        edited = json.loads((out / "manifest.json").read_text())
        manifest(edited)
        manifest = json.dumps(edited)
    (out / "manifest.json").write_text(manifest)
    before = sorted(out.rglob("*"))
    for args in (["batch", *BATCH_ARGS, "--out", str(out)], ["compare", str(out), "--report", str(out / "r.html")],
                 ["run", "--from", str(out), "--scenario", "no_sweeps", "--seed", "2011", "--out", str(out / "r")]):
        result = cli(*args)
        assert result.exit_code == 2 and "manifest.json" in result.output and field in result.output, result.output
        assert "Traceback" not in result.output
    assert sorted(out.rglob("*")) == before and (out / "manifest.json").read_text() == manifest


def test_out_that_is_a_file_or_cannot_be_written_is_refused_before_any_run(tmp_path: Path) -> None:
    a_file = tmp_path / "results.csv"
    a_file.write_text("x\n")
    result = cli("batch", *BATCH_ARGS, "--out", str(a_file))
    assert result.exit_code == 2 and f"{a_file}: is a file; --out needs a folder" in result.output
    assert a_file.read_text() == "x\n"
    under_a_file = cli("batch", *BATCH_ARGS, "--out", str(a_file / "b"))
    assert under_a_file.exit_code == 2 and "cannot write in this folder" in under_a_file.output
    # /proc/self is a folder even root cannot write in.
    read_only = cli("batch", *BATCH_ARGS, "--out", "/proc/self")
    assert read_only.exit_code == 2 and "/proc/self: cannot write in this folder" in read_only.output
    assert "Traceback" not in result.output + under_a_file.output + read_only.output


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in read-only folders")
def test_read_only_out_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o555)
    result = cli("batch", *BATCH_ARGS, "--out", str(folder))
    assert result.exit_code == 2 and "cannot write in this folder" in result.output
    assert list(folder.iterdir()) == []


# --- bounds, file modes, listeners ------------------------------------------------------------------------------


def test_replicates_and_workers_are_bounded(tmp_path: Path) -> None:
    from sim.batch import MAX_REPLICATES, MAX_WORKERS, BatchError

    for args in (["batch", "baseline_2011", "--out", str(tmp_path / "o")], ["compare", "baseline_2011", "no_sweeps"]):
        result = cli(*args, "--replicates", "1000000000")
        assert result.exit_code == 2 and "--replicates must be between 1 and 100,000" in result.output
        result = cli(*args, "--workers", "100000")
        assert result.exit_code == 2 and f"--workers must be between 1 and {MAX_WORKERS}" in result.output
    assert not (tmp_path / "o").exists()
    with pytest.raises(BatchError, match="--replicates"):
        run_batch(["baseline_2011"], replicates=MAX_REPLICATES + 1, out=tmp_path / "o")
    with pytest.raises(BatchError, match="--workers"):
        run_batch(["baseline_2011"], replicates=1, workers=0, out=tmp_path / "o")
    with pytest.raises(BatchError, match="--seed"):
        run_batch(["baseline_2011"], replicates=1, base_seed=-1, out=tmp_path / "o")
    for seed, replicates in ((str(2**32 - 1), "2"), ("99999999999999999999999", "1")):
        result = cli("batch", "baseline_2011", "--seed", seed, "--replicates", replicates, "--out", str(tmp_path / "o"))
        assert result.exit_code == 2 and "the last seed must be at most 4294967295" in result.output, result.output
    assert not (tmp_path / "o").exists()


def test_output_files_follow_the_umask(tmp_path: Path) -> None:
    from sim.provenance import atomic_write_bytes

    previous = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "a.bin", b"x")
        run_batch(["baseline_2011"], replicates=1, out=tmp_path / "b", overrides=QUICK)
        os.umask(0o027)
        atomic_write_bytes(tmp_path / "c.bin", b"x")
    finally:
        os.umask(previous)
    assert (tmp_path / "a.bin").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "c.bin").stat().st_mode & 0o777 == 0o640
    written = [p for p in (tmp_path / "b").rglob("*") if p.is_file()]
    assert len(written) == 4 and {p.stat().st_mode & 0o777 for p in written} == {0o644}


def test_local_dask_cluster_listens_on_loopback_only() -> None:
    import psutil

    from sim.cluster import local_cluster

    def listening(pids: list[int]) -> set[tuple[int, str, int]]:
        return {(pid, c.laddr.ip, c.laddr.port) for pid in pids
                for c in psutil.Process(pid).net_connections(kind="tcp") if c.status == psutil.CONN_LISTEN}

    me = psutil.Process()
    before = listening([me.pid])
    cluster = local_cluster(2)
    try:
        workers = [child.pid for child in me.children(recursive=True)]
        sockets = listening([me.pid, *workers]) - before
        assert len(workers) >= 2 and len({pid for pid, _, _ in sockets}) >= 3, sockets
        assert {ip for _, ip, _ in sockets} == {"127.0.0.1"}, sockets
    finally:
        cluster.close()


def _worker_settings(keys: list[str]) -> dict[str, object]:
    import dask

    return {key: dask.config.get(key) for key in keys}


def _scheduler_settings(dask_scheduler: Any) -> dict[str, object]:  # Dask passes the scheduler by this name
    return {"stealing": "stealing" in dask_scheduler.extensions,
            "monitor_disk": dask_scheduler.monitor.monitor_disk_io}


def test_local_dask_cluster_runs_its_workers_and_scheduler_with_kazsims_settings() -> None:
    """The settings that save CPU time reach the spawned worker processes and the scheduler, not only this process."""
    from distributed import Client

    from sim.cluster import CLUSTER_SETTINGS, local_cluster

    cluster = local_cluster(2)
    try:
        with Client(cluster) as client:
            settings = client.run(_worker_settings, list(CLUSTER_SETTINGS))
            assert len(settings) == 2
            for worker in settings.values():
                assert worker == CLUSTER_SETTINGS, worker
            assert client.run_on_scheduler(_scheduler_settings) == {"stealing": False, "monitor_disk": False}
    finally:
        cluster.close()


def test_kazsim_run_reproduces_the_batch_run_with_its_seed(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from sim.cli.main import app

    base, _ = _scenarios_with_posterior(tmp_path)
    batch = run_batch([base], replicates=3, out=tmp_path / "b", workers=1, overrides=QUICK)
    result = CliRunner().invoke(app, ["run", str(base), "--seed", "2013", "--out", str(tmp_path / "r"),
                                      *(f"--set={o}" for o in QUICK)])
    assert result.exit_code == 0, result.output
    particle = batch.manifest["parameters"]["particles"]["2013"]
    assert f"particle {particle} of" in " ".join(result.output.split())
    single = pd.read_csv(tmp_path / "r" / "daily.csv")
    stored = batch.daily[batch.daily["seed"] == 2013].drop(columns=["seed", "scenario"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(single, stored, check_dtype=False)
    assert json.loads((tmp_path / "r" / "run.json").read_text())["parameters"]["particles"]["2013"] == particle
    plain = CliRunner().invoke(app, ["run", str(base), "--seed", "2013", "--out", str(tmp_path / "s"),
                                     "--parameters", "scenario", *(f"--set={o}" for o in QUICK)])
    assert plain.exit_code == 0 and "scenario file's own values" in " ".join(plain.output.split())


def test_dask_tasks_shrink_towards_the_end_of_a_batch() -> None:
    from sim.batch.executors import MAX_RUNS_PER_TASK, runs_per_task

    for runs, threads in ((1000, 2), (400, 2), (37, 2), (1000, 64), (3, 8)):
        remaining, sizes = runs, []
        while remaining:
            sizes.append(runs_per_task(remaining, threads))
            remaining -= min(sizes[-1], remaining)
        assert all(1 <= size <= MAX_RUNS_PER_TASK for size in sizes)
        assert sizes == sorted(sizes, reverse=True), "tasks never grow as the batch goes on"
        # the last 2 x threads tasks (what the workers still hold at the end) are each at most a run or two
        assert max(sizes[-2 * threads:]) <= 2, (runs, threads, sizes[-2 * threads:])
    assert runs_per_task(1000, 2) == MAX_RUNS_PER_TASK  # long tasks while much is left
