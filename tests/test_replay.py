"""Any run of a batch re-runs exactly from its stored record, and opens in the teaching page at its seed and draw."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import sim.cli.demo as demo_cli
from sim.app import controls
from sim.batch import BatchResult, run_batch
from sim.batch.replay import replay, stored_spec
from sim.cli.main import app
from sim.run import csv_bytes

REPO = Path(__file__).resolve().parent.parent
QUICK = ["period.end=2011-04-30", "scale.people_per_agent=20000", "scale.cell_degrees=1.0"]


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> BatchResult:
    """A tiny batch of two scenarios drawing parameters from a three-particle posterior."""
    root = tmp_path_factory.mktemp("replay")
    (root / "posterior.csv").write_text("particle,weight,legitimacy,attack_rate\n0,0.5,0.78,0.05\n1,0.3,0.84,0.08\n"
                                        "2,0.2,0.80,0.03\n")
    (root / "base.toml").write_text(f'extends = "{REPO / "scenarios" / "baseline_2011.toml"}"\nname = "base"\n'
                                    'posterior = "posterior.csv"\n')
    (root / "other.toml").write_text('extends = "base.toml"\nname = "other"\n[levers.sweeps]\nenabled = false\n')
    return run_batch([root / "base.toml", root / "other.toml"], replicates=3, out=root / "b", overrides=QUICK)


def stored_table(batch: BatchResult, kind: str, name: str, seed: int) -> pd.DataFrame:
    return pq.read_table(batch.root / kind / f"scenario={name}" / f"seed={seed}.parquet").to_pandas()


def test_every_replayed_run_equals_its_stored_tables_byte_for_byte(batch: BatchResult) -> None:
    for name, seed in zip(batch.runs["scenario"], batch.runs["seed"], strict=True):
        done = replay(batch.root, name, int(seed))
        assert done.identical == {"events": True, "daily": True}, (name, seed)
        assert done.spec.particle == batch.manifest["parameters"]["particles"][str(seed)]
        assert done.spec.scenario["parameters"]["legitimacy"] == done.spec.draw["legitimacy"]


def test_kazsim_run_from_writes_the_stored_run_and_says_it_is_identical(batch: BatchResult, tmp_path: Path) -> None:
    out = tmp_path / "r"
    result = CliRunner().invoke(app, ["run", "--from", str(batch.root), "--scenario", "other", "--seed", "2012",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Identical to the stored run: events and daily tables equal byte for byte" in " ".join(result.output.split())
    stored = stored_table(batch, "daily", "other", 2012).drop(columns=["seed"])
    assert (out / "daily.csv").read_bytes() == csv_bytes(stored)
    record = json.loads((out / "run.json").read_text())
    assert record["parameters"]["mode"] == "replay" and record["parameters"]["scenario"] == "other"
    assert record["resolved"]["levers"]["sweeps"]["enabled"] is False
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in result.output.splitlines()
            if line.count("│") == 5}
    assert "people_arrested" in rows and "arrests" not in rows  # the outcome names discover's --where takes
    assert rows["uninvolved_people_detained"] == str(int(stored["detained_uninvolved"].sum()))


def test_a_record_without_its_draw_replays_from_the_posterior_it_names_unless_that_changed(
    batch: BatchResult, tmp_path: Path
) -> None:
    import shutil

    root = tmp_path / "b"
    shutil.copytree(batch.root, root)
    record_path = root / "runs" / "scenario=base" / "seed=2013.json"
    record = json.loads(record_path.read_text())
    record.pop("draw")
    record_path.write_text(json.dumps(record))
    assert replay(root, "base", 2013).identical == {"events": True, "daily": True}
    posterior = Path(batch.manifest["parameters"]["posterior"])
    original = posterior.read_text()
    try:
        posterior.write_text(original.replace("0.78", "0.79"))
        result = CliRunner().invoke(app, ["run", "--from", str(root), "--scenario", "base", "--seed", "2013", "--out",
                                          str(tmp_path / "r")])
    finally:
        posterior.write_text(original)
    assert result.exit_code == 2 and "changed since the runs drew parameters from it" in result.output
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--scenario", "ghost", "--seed", "2011"], "--scenario 'ghost': not a scenario of"),
    (["--scenario", "base", "--seed", "1999"], "--seed 1999: not a seed of"),
    (["--seed", "2011"], "--scenario: "),
    (["--scenario", "base"], "give the run's --seed"),
    (["--scenario", "base", "--seed", "2011", "--set", "legitimacy=0.7"], "--set cannot be given with it"),
])
def test_replay_input_errors_are_one_line_and_write_nothing(batch: BatchResult, tmp_path: Path, args: list[str],
                                                            message: str) -> None:
    result = CliRunner().invoke(app, ["run", "--from", str(batch.root), *args, "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "r").exists()


def test_demo_from_opens_the_page_at_the_runs_scenario_seed_and_draw(
    batch: BatchResult, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: dict[str, object] = {}

    class FakeServer:
        def __init__(self, command, **kwargs):
            path = kwargs["env"][demo_cli.STORED_SCENARIO_VARIABLE]
            seen["data"] = json.loads(Path(path).read_text())
            seen["path"] = path

        def wait(self, timeout=None):
            return 0

    monkeypatch.setattr(demo_cli.subprocess, "Popen", FakeServer)
    monkeypatch.setattr(demo_cli.signal, "signal", lambda *args: None)
    monkeypatch.setattr(demo_cli, "provide_frontend", lambda report: tmp_path)
    result = CliRunner().invoke(app, ["demo", "--from", str(batch.root), "--scenario", "other", "--seed", "2012"])
    assert result.exit_code == 0, result.output
    assert "serving other-seed2012" in result.output and not Path(str(seen["path"])).exists()
    data = seen["data"]
    spec = stored_spec(batch.root, "other", 2012)
    assert data["seed"] == 2012 and data["parameters"] == spec.scenario["parameters"]
    scenario_file = tmp_path / "scenario.json"
    scenario_file.write_text(json.dumps(data))
    monkeypatch.setenv(controls.STORED_SCENARIO_VARIABLE, str(scenario_file))
    controls.stored_scenario.cache_clear()
    try:
        from sim.app.live import LiveModel

        assert controls.initial_scenario() == "other-seed2012"
        assert "other-seed2012" in controls.scenario_names()
        model = LiveModel(scenario_name=controls.initial_scenario())
        assert model.input_error is None and model.spec.seed == 2012
        assert model.spec.parameters.model_dump(mode="json") == spec.scenario["parameters"]
    finally:
        controls.stored_scenario.cache_clear()
    assert CliRunner().invoke(app, ["demo", "no_sweeps", "--from", str(batch.root), "--seed", "2012"]).exit_code == 2
    assert CliRunner().invoke(app, ["demo", "--seed", "2012"]).exit_code == 2
