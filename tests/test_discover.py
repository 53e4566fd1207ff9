"""Scenario discovery: PRIM (EMA Workbench's) recovers a box set by hand; conditions are safe; reports are ready."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from figure_checks import check_every_exported_figure
from sim.cli.main import app
from sim.discover import ConditionError, DiscoveryError, discover, find_box
from sim.discover.expression import evaluate
from sim.explore import run_exploration

QUICK = ["period.end=2011-04-30", "scale.people_per_agent=20000", "scale.cell_degrees=1.0"]


def synthetic_cases(n: int = 2000) -> tuple[pd.DataFrame, np.ndarray]:
    """Cases over four dimensions (one of them whole numbers, one constant); the condition holds in a set box."""
    rng = np.random.default_rng(7)
    x = pd.DataFrame({"legitimacy": rng.uniform(0.6, 0.95, n), "sweep_size": rng.integers(0, 201, n),
                      "attack_rate": rng.uniform(0.005, 0.08, n), "constant": np.full(n, 3.0)})
    inside = x["legitimacy"].between(0.6, 0.7) & (x["sweep_size"] >= 120)
    return x, inside.to_numpy()


@pytest.mark.parametrize(("min_density", "tolerance"), [(0.8, 0.12), (0.95, 0.06)])
def test_prim_recovers_a_box_set_by_hand(min_density: float, tolerance: float) -> None:
    x, holds = synthetic_cases()
    box = find_box(x, holds, min_density=min_density)
    assert set(box.restricting) == {"legitimacy", "sweep_size"}
    limits = box.limits
    span = {"legitimacy": 0.35, "sweep_size": 200}
    assert abs(limits.loc["legitimacy", "high"] - 0.7) / span["legitimacy"] < tolerance
    assert abs(limits.loc["sweep_size", "low"] - 120) / span["sweep_size"] < tolerance
    assert limits.loc["sweep_size", "high"] == 200 and limits.loc["legitimacy", "low"] == pytest.approx(
        x["legitimacy"].min())
    assert not limits.loc["attack_rate", "restricts"] and not limits.loc["constant", "restricts"]
    stats = box.stats
    assert stats["density"] >= min_density and stats["coverage"] > 0.75
    assert (limits.loc[box.restricting, "quasi_p"] < 1e-6).all()


def test_prim_says_when_there_is_nothing_to_find() -> None:
    x, holds = synthetic_cases(200)
    with pytest.raises(DiscoveryError, match="holds in 0 of 200 cases"):
        find_box(x, np.zeros(200, dtype=bool))
    with pytest.raises(DiscoveryError, match="no lever setting or parameter varies"):
        find_box(x[["constant"]], holds)
    with pytest.raises(DiscoveryError, match="--min-density must be in"):
        find_box(x, holds, min_density=1.5)


@pytest.mark.parametrize(("condition", "expected"), [
    ("attacks > 2", [False, True, True]),
    ("attacks > 2 and not deaths_total >= 10", [False, True, False]),
    ("1 < attacks <= 3 or deaths_total / 2 == 2", [True, True, False]),
    ("-effect_attacks > 0", [True, False, False]),
])
def test_conditions_combine_comparisons(condition: str, expected: list[bool]) -> None:
    columns = {"attacks": np.array([1.0, 3.0, 5.0]), "deaths_total": np.array([4.0, 0.0, 12.0]),
               "effect_attacks": np.array([-1.0, 0.0, 2.0])}
    assert evaluate(condition, columns).tolist() == expected


@pytest.mark.parametrize(("condition", "message"), [
    ("atacks > 2", "unknown name 'atacks'; did you mean 'attacks'?"),
    ("radicalised_nov_dec > 2", "'radicalised_nov_dec' was renamed 'people_sympathising_nov_dec'"),
    ("__import__('os').system('true')", "is not allowed"),
    ("attacks.real > 1", "is not allowed"),
    ("attacks + 1", "expected a comparison"),
    ("attacks >", "not a condition"),
])
def test_bad_conditions_are_refused_without_evaluating_anything(condition: str, message: str) -> None:
    columns = {"attacks": np.array([1.0]), "people_sympathising_nov_dec": np.array([1.0])}
    with pytest.raises(ConditionError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        evaluate(condition, columns)


@pytest.fixture(scope="module")
def exploration(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sweeps of several sizes with and without the sweeps lever (paired), over a tiny configuration."""
    out = tmp_path_factory.mktemp("discover") / "x"
    run_exploration(["baseline_2011", "no_sweeps"], ["levers.sweeps.size=0:200:5", "levers.sweeps.precision=0.1:0.5:3"],
                    replicates=8, out=out, overrides=QUICK)  # every parameter is drawn: PRIM needs the cases
    return out


def test_discovery_in_an_exploration_finds_where_sweeps_detain_the_uninvolved(exploration: Path) -> None:
    found = discover(exploration, "effect_uninvolved_people_detained > 0", baseline="no_sweeps")
    assert {"levers.sweeps.size", "levers.sweeps.precision", "parameters.legitimacy"} <= set(found.dimensions)
    assert len(found.cases) == 15 * 8 and found.cases["holds"].any()
    limits = found.box.limits
    assert "levers.sweeps.size" in found.box.restricting and limits.loc["levers.sweeps.size", "low"] > 0
    assert not found.cases.loc[found.cases["levers.sweeps.size"] == 0, "holds"].any()


def test_discover_command_writes_the_report_and_names_the_restricting_dimensions(
    exploration: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = check_every_exported_figure(monkeypatch)
    report = tmp_path / "d.md"
    result = CliRunner().invoke(app, ["discover", str(exploration), "--where", "effect_uninvolved_people_detained > 0",
                                      "--baseline", "no_sweeps", "--report", str(report)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "levers.sweeps.size" in text.partition("It restricts")[2][:300] and "coverage" in text and "density" in text
    assert "kazsim run --from" in text and len(checked) == 2
    leaves = text.partition("It leaves ")[2].partition(" unrestricted")[0]
    assert leaves.startswith("the other ") and "dimensions" in leaves, leaves  # counted, not a wall of names
    folder = tmp_path / "d_files"
    assert {p.name for p in folder.iterdir()} >= {"peeling_trajectory.svg", "box.svg", "cases.csv", "trajectory.csv"}
    assert "| Dimension | Restricts | Box | Explored | Quasi-p |" in report.read_text()


@pytest.mark.parametrize(("args", "message"), [
    (["--where", "effect_attacks > 0"], "choose one with --scenario, or pair them with --baseline"),
    (["--where", "effect_attacks > 0", "--baseline", "ghost"], "--baseline 'ghost': not a scenario of"),
    (["--where", "atacks > 0", "--scenario", "no_sweeps"], "did you mean 'attacks'?"),
    (["--where", "attacks > 1000", "--scenario", "no_sweeps"], "holds in 0 of 120 cases"),
    (["--where", "attacks > 1", "--scenario", "no_sweeps", "--report", "r.pdf"], "expected one of .html"),
])
def test_discover_input_errors_are_one_line_with_status_2(exploration: Path, tmp_path: Path, args: list[str],
                                                         message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["discover", str(exploration), *args])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output, result.output
    assert not (tmp_path / "discoveries").exists() and not (tmp_path / "r.pdf").exists()
