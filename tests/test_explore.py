"""Explorations: any lever field varied, common random numbers across points, resumable after SIGKILL, growable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from figure_checks import check_every_exported_figure
from sim.batch import BatchError, run_batch
from sim.batch.replay import replay
from sim.cli.main import app
from sim.explore import efficient, load_exploration, point_summary, run_exploration
from sim.report.explore_report import write_exploration_report
from sim.scenario import load_scenario

REPO = Path(__file__).resolve().parent.parent
QUICK = ["period.end=2011-04-30", "scale.people_per_agent=20000", "scale.cell_degrees=1.0"]
SWEEPS = ["levers.sweeps.size=0:200:3", "levers.sweeps.precision=0.1:0.5:2"]


def records(root: Path) -> dict[tuple[str, int], dict]:
    return {(p.parent.name.removeprefix("scenario="), int(p.stem.removeprefix("seed="))): json.loads(p.read_text())
            for p in (root / "runs").glob("*/*.json")}


def tables(root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    batch = load_exploration(root).batch
    return (batch.events.sort_values(["scenario", "seed", "id"]).reset_index(drop=True),
            batch.daily.sort_values(["scenario", "seed", "date"]).reset_index(drop=True))


@pytest.fixture
def posterior_scenario(tmp_path: Path) -> Path:
    (tmp_path / "posterior.csv").write_text("particle,weight,legitimacy,attack_rate\n0,0.5,0.78,0.05\n"
                                            "1,0.3,0.84,0.08\n2,0.2,0.80,0.03\n")
    path = tmp_path / "base.toml"
    path.write_text(f'extends = "{REPO / "scenarios" / "baseline_2011.toml"}"\nname = "base"\n'
                    'posterior = "posterior.csv"\n')
    return path


def test_a_grid_runs_every_point_with_the_same_seeds_and_draws(tmp_path: Path, posterior_scenario: Path) -> None:
    result = run_exploration([posterior_scenario], SWEEPS, replicates=3, out=tmp_path / "x", overrides=QUICK)
    assert len(result.points) == 6 and len(result.batch.runs) == 18
    manifest = result.batch.manifest
    for name, row in result.points.set_index("scenario").iterrows():
        sweeps = manifest["scenarios"][name]["resolved"]["levers"]["sweeps"]
        assert (sweeps["size"], sweeps["precision"]) == (row["levers.sweeps.size"], row["levers.sweeps.precision"])
    by_seed: dict[int, set] = {}
    for (_, seed), record in records(tmp_path / "x").items():
        by_seed.setdefault(seed, set()).add(json.dumps(record["draw"], sort_keys=True))
    assert all(len(draws) == 1 for draws in by_seed.values()), "every point draws the same parameters at a seed"
    assert len(by_seed) == 3
    assert set(result.runs.columns) >= {"attacks", "uninvolved_people_detained", "levers.sweeps.size"}
    zero = result.summary("uninvolved_people_detained")
    assert (zero.loc[zero["levers.sweeps.size"] == 0, "mean"] == 0).all()


def test_a_varied_parameter_keeps_the_design_value_and_replays_exactly(tmp_path: Path,
                                                                      posterior_scenario: Path) -> None:
    result = run_exploration([posterior_scenario], ["legitimacy=0.6:0.9:2"], replicates=2, out=tmp_path / "x",
                             overrides=QUICK)
    for (name, seed), record in records(tmp_path / "x").items():
        assert "legitimacy" not in record["draw"] and "attack_rate" in record["draw"]
        done = replay(tmp_path / "x", name, seed)
        assert done.identical == {"events": True, "daily": True}
        value = result.points.set_index("scenario").loc[name, "parameters.legitimacy"]
        assert done.spec.scenario["parameters"]["legitimacy"] == value
        assert done.spec.scenario["parameters"]["attack_rate"] == record["draw"]["attack_rate"], "the draw was run"
    stated = {name: scenario["stated_parameters"] for name, scenario in result.batch.manifest["scenarios"].items()}
    assert all(names == ["legitimacy"] for names in stated.values()), stated


def test_a_point_at_the_base_settings_runs_as_a_batch_of_the_base_does(tmp_path: Path,
                                                                       posterior_scenario: Path) -> None:
    size = load_scenario(posterior_scenario, overrides=QUICK).levers.sweeps.size
    result = run_exploration([posterior_scenario], [f"levers.sweeps.size={size}:{size + 100}:2"], replicates=3,
                             out=tmp_path / "x", overrides=QUICK)
    batch = run_batch([posterior_scenario], replicates=3, out=tmp_path / "b", overrides=QUICK)
    point = result.points.loc[result.points["levers.sweeps.size"] == size, "scenario"].item()
    daily = result.batch.daily
    explored = daily[daily["scenario"] == point].drop(columns="scenario").sort_values(["seed", "date"])
    alone = batch.daily.drop(columns="scenario").sort_values(["seed", "date"])
    assert sorted(set(alone["seed"])) == sorted(set(explored["seed"])) and len(set(alone["seed"])) == 3
    pd.testing.assert_frame_equal(explored.reset_index(drop=True), alone.reset_index(drop=True))


def test_a_batch_and_an_exploration_never_share_a_folder(tmp_path: Path) -> None:
    run_exploration(["baseline_2011"], ["levers.sweeps.size=0:100:2"], replicates=1, out=tmp_path / "x",
                    overrides=QUICK)
    before = sorted(path.relative_to(tmp_path) for path in (tmp_path / "x").rglob("*"))
    refused = CliRunner().invoke(app, ["batch", "baseline_2011", "--replicates", "1", "--out", str(tmp_path / "x")])
    assert refused.exit_code == 2 and "holds an exploration" in refused.output, refused.output
    assert sorted(path.relative_to(tmp_path) for path in (tmp_path / "x").rglob("*")) == before
    run_batch(["baseline_2011"], replicates=1, out=tmp_path / "b", overrides=QUICK)
    with pytest.raises(BatchError, match="holds a batch"):
        run_exploration(["baseline_2011"], ["levers.sweeps.size=0:100:2"], replicates=1, out=tmp_path / "b",
                        overrides=QUICK)


@pytest.mark.parametrize(("vary", "message"), [
    ("levers.sweeps.sise=0:2:3", "did you mean 'levers.sweeps.size'?"),
    ("levers.sweeps.enabled=0:1:2", "is not a numeric lever field"),
    ("levers.sweeps.precision=0:2:3", "field 'levers.sweeps.precision': --vary levers.sweeps.precision=0:2:3"),
    ("levers.sweeps.size=0:200", "expected FIELD=LOW:HIGH:STEPS"),
    ("levers.sweeps.size=0:200:0", "STEPS must be between 2 and"),
    ("levers.sweeps.size=200:0:3", "HIGH 0 is below LOW 200"),
    ("scale.people_per_agent=100:200:2", "is not a numeric lever field"),
])
def test_bad_vary_is_one_line_naming_the_field_and_writes_nothing(tmp_path: Path, vary: str, message: str) -> None:
    result = CliRunner().invoke(app, ["explore", "baseline_2011", "--vary", vary, "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_an_exploration_killed_with_sigkill_resumes_with_nothing_lost_or_duplicated(tmp_path: Path) -> None:
    out = tmp_path / "x"
    command = [sys.executable, "-m", "sim.cli", "explore", "baseline_2011", "--vary", "levers.sweeps.size=0:100:3",
               "--vary", "levers.sweeps.precision=0.1:0.5:2", "--replicates", "3", "--workers", "1", "--out", str(out),
               "--set", "period.end=2011-06-30"]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(list((out / "runs").glob("*/*.json"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    killed_at = records(out)
    assert 3 <= len(killed_at) < 18, "the exploration should have been killed part-way"
    kept = {path: path.read_bytes() for path in out.rglob("seed=*") if "runs" in path.parts}
    finished = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    assert "18/18 runs complete" in " ".join(finished.stdout.split())
    after = records(out)
    assert len(after) == 18 and all(after[run] == record for run, record in killed_at.items())
    assert all(path.read_bytes() == data for path, data in kept.items()), "runs done before the kill are kept"
    assert not list(out.rglob("*.tmp"))
    for kind in ("events", "daily"):
        assert len(list((out / kind).glob("*/*.parquet"))) == 18
    fresh = tmp_path / "fresh"
    subprocess.run([*command[:command.index("--out") + 1], str(fresh), "--set", "period.end=2011-06-30"], cwd=REPO,
                   check=True, capture_output=True)
    for resumed, uninterrupted in zip(tables(out), tables(fresh), strict=True):
        pd.testing.assert_frame_equal(resumed, uninterrupted)


def test_an_exploration_grows_when_steps_or_replicates_are_added(tmp_path: Path) -> None:
    out = tmp_path / "x"
    run_exploration(["baseline_2011"], ["levers.sweeps.size=0:200:3"], replicates=2, out=out, overrides=QUICK)
    first = {p: p.read_bytes() for p in out.rglob("seed=*")}
    counts: list[tuple[int, int]] = []
    grown = run_exploration(["baseline_2011"], ["levers.sweeps.size=0:200:5"], replicates=2, out=out, overrides=QUICK,
                            progress=lambda c: counts.append((c.done, c.total)))
    assert counts[0] == (6, 10), "the 3 points of the coarser grid are not run again"
    assert len(grown.points) == 5 and all(p.read_bytes() == data for p, data in first.items())
    counts.clear()
    deeper = run_exploration(["baseline_2011"], ["levers.sweeps.size=0:200:5"], replicates=4, out=out,
                             overrides=QUICK, progress=lambda c: counts.append((c.done, c.total)))
    assert counts[0] == (10, 20) and len(deeper.batch.runs) == 20
    assert len(load_exploration(out).points) == 5
    run_exploration(["baseline_2011"], ["levers.sweeps.size=0:200:5"], replicates=4, out=tmp_path / "fresh",
                    overrides=QUICK)
    for grown_table, fresh_table in zip(tables(out), tables(tmp_path / "fresh"), strict=True):
        pd.testing.assert_frame_equal(grown_table, fresh_table)
    refused = CliRunner().invoke(app, ["explore", "baseline_2011", "--vary", "levers.sweeps.precision=0:1:2",
                                       "--out", str(out), *(f"--set={o}" for o in QUICK)])
    assert refused.exit_code == 2 and "this folder explores levers.sweeps.size" in refused.output


def test_a_latin_hypercube_spreads_each_fields_levels_and_grows_by_blocks(tmp_path: Path) -> None:
    vary = ["levers.sweeps.size=0:200:5", "levers.sweeps.precision=0.1:0.5:5", "levers.raids.lethality=0:1:5"]
    first = run_exploration(["baseline_2011"], vary, replicates=1, out=tmp_path / "x", overrides=QUICK)
    assert first.batch.manifest["exploration"]["design"] == "lhs" and len(first.points) == 5
    for field in ("levers.sweeps.size", "levers.sweeps.precision", "levers.raids.lethality"):
        assert first.points[field].nunique() == 5, f"{field}: each of the 5 levels once"
    grown = run_exploration(["baseline_2011"], vary, replicates=1, out=tmp_path / "x", overrides=QUICK, points=9)
    assert set(first.points["point"]) <= set(grown.points["point"]) and len(grown.points) >= 8
    assert grown.batch.manifest["exploration"]["blocks"] == [5, 4]


def test_points_that_ran_alike_get_the_same_interval_whatever_the_order() -> None:
    ran = [3.1, 9.7, 4.3, 12.9, 7.05, 0.4, 5.55, 2.2]
    runs = pd.DataFrame({"base": "b", "point": ["p3"] * 8 + ["p1"] * 8 + ["p2"] * 8,
                         "levers.sweeps.size": [200] * 8 + [0] * 8 + [100] * 8,
                         "attacks": [1.5, 2.0, 8.25, 5.0, 6.0, 0.1, 3.3, 4.4, *ran, *reversed(ran)]})
    summary = point_summary(runs, ["levers.sweeps.size"], "attacks").set_index("point")
    assert summary.loc["p1", ["mean", "mean_low", "mean_high"]].tolist() == \
        summary.loc["p2", ["mean", "mean_low", "mean_high"]].tolist()
    assert summary.loc["p1", "mean_low"] < summary.loc["p1", "mean"] < summary.loc["p1", "mean_high"]


def test_the_frontier_keeps_the_points_no_other_beats_in_both() -> None:
    means = pd.DataFrame({"attacks": [10, 8, 9, 5, 5], "uninvolved_people_detained": [0, 50, 60, 200, 300]})
    assert efficient(means, "uninvolved_people_detained", "attacks").tolist() == [True, True, False, True, False]


def test_exploration_report_figures_are_paper_ready_and_tables_complete(tmp_path: Path, monkeypatch) -> None:
    checked = check_every_exported_figure(monkeypatch)
    two = run_exploration(["baseline_2011", "no_sweeps"], SWEEPS, replicates=2, out=tmp_path / "two",
                          overrides=QUICK)
    folder = write_exploration_report(tmp_path / "two.md", two)
    assert {p.stem for p in folder.glob("*.svg")} == {"surfaces_baseline_2011", "surfaces_no_sweeps", "frontier"}
    points = pd.read_csv(folder / "points.csv")
    assert len(points) == 12 and {"scenario", "attacks", "attacks_low", "attacks_high"} <= set(points.columns)
    assert len(pd.read_csv(folder / "runs.csv")) == 24
    markdown = (tmp_path / "two.md").read_text()
    assert "common random numbers" in markdown and "kazsim run --from" in markdown and "<table" not in markdown
    lhs = run_exploration(["baseline_2011"], [*SWEEPS, "levers.raids.lethality=0:1:3"], replicates=2,
                          out=tmp_path / "lhs", overrides=QUICK)
    folder = write_exploration_report(tmp_path / "lhs.html", lhs)
    assert {p.stem for p in folder.glob("*.png")} == {"points_attacks", "points_uninvolved_people_detained",
                                                      "frontier"}
    one = run_exploration(["baseline_2011"], SWEEPS[:1], replicates=2, out=tmp_path / "one", overrides=QUICK)
    write_exploration_report(tmp_path / "one.html", one)
    assert len(checked) == 3 + 3 + 2


def test_explore_command_prints_the_points_and_writes_the_report(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["explore", "baseline_2011", "--vary", SWEEPS[0], "--replicates", "2",
                                      "--workers", "1", "--out", str(tmp_path / "x"), "--report",
                                      str(tmp_path / "r.html"), *(f"--set={o}" for o in QUICK)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "3 design points × 1 scenario(s) × 2 replicates: 6/6 runs complete" in text
    assert "Each replicate's calibrated parameters were drawn from the posterior" in text
    assert "Uninvolved detained (people)" in text and "front" in text
    assert (tmp_path / "r_files" / "frontier.svg").is_file()
