"""Reports are paper-ready: no overlapping text, units on every axis, figures as PNG and SVG, effects as CSV."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from figure_checks import check_every_exported_figure, overlaps, unlabelled_axes
from sim.batch import BatchResult, run_batch
from sim.cli.main import app
from sim.compare import Effect, compare_batch, paired_effect
from sim.data import ObservedData
from sim.events import monthly_series
from sim.outcomes import BY_NAME
from sim.report import write_comparison_report

QUICK = ["period.end=2011-04-30", "scale.people_per_agent=20000", "scale.cell_degrees=1.0"]


@pytest.fixture(scope="module")
def four_scenarios(tmp_path_factory: pytest.TempPathFactory) -> BatchResult:
    """A tiny batch of the baseline and three counterfactuals, one with a long name."""
    root = tmp_path_factory.mktemp("report")
    long = root / "long.toml"
    long.write_text('extends = "' + str(Path("scenarios/no_sweeps.toml").resolve()) + '"\n'
                    'name = "no_sweeps_and_a_very_long_descriptive_scenario_name_for_wrapping"\n')
    return run_batch(["baseline_2011", "no_religion_law", "aggressive_raids", long], replicates=4,
                     out=root / "batch", overrides=QUICK)


def with_prior_and_attribution(effects: list[Effect]) -> list[Effect]:
    """Effects as issue 12 will fill them: a prior effect and a variance attribution on each."""
    return [dataclasses.replace(e, prior_effect=e.effect * 1.5, prior_low=e.low * 2 - 1, prior_high=e.high * 2 + 1,
                                attribution={"legitimacy": 0.6, "attack_rate": 0.3, "vision": 0.1}) for e in effects]


@pytest.mark.parametrize("prior", [False, True], ids=["posterior", "prior and attribution"])
def test_every_report_figure_has_no_overlapping_text_and_units_on_its_axes(
    four_scenarios: BatchResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prior: bool
) -> None:
    checked = check_every_exported_figure(monkeypatch)
    batch, effects, baseline = compare_batch(four_scenarios.root)
    if prior:
        effects = with_prior_and_attribution(effects)
    write_comparison_report(tmp_path / "r.html", batch, effects, baseline,
                            monthly_series(ObservedData().seed_incidents))
    assert len(checked) == 3


def test_the_checks_catch_overlapping_text_and_missing_units() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(3, 2))
    axis.plot([0, 1], [0, 1])
    axis.set_title("a title that is long enough to run into the other one")
    figure.suptitle("an overall title over the panel's title", y=0.9)
    axis.set_xlabel("attacks")
    assert overlaps(figure) and unlabelled_axes(figure) == [
        "panel 0 ('a title that is long enough to run into the other one'): x label 'attacks' has no unit",
        "panel 0 ('a title that is long enough to run into the other one'): y axis has no label"]
    plt.close(figure)


def test_report_has_figures_as_png_and_svg_effects_as_csv_and_readable_tables(
    four_scenarios: BatchResult, tmp_path: Path
) -> None:
    batch, effects, baseline = compare_batch(four_scenarios.root)
    for name in ("r.html", "r.md"):
        folder = write_comparison_report(tmp_path / name, batch, effects, baseline)
        assert folder == tmp_path / "r_files"
        figures = {p.stem for p in folder.glob("*.png")}
        assert figures == {"effects", "attacks_per_month", "deaths_total_per_month"}
        assert figures == {p.stem for p in folder.glob("*.svg")}
        csv = pd.read_csv(folder / "effects.csv")
        assert len(csv) == len(effects) and {"label", "unit", "effect", "low", "high", "p_worse"} <= set(csv.columns)
    markdown = (tmp_path / "r.md").read_text()
    html = (tmp_path / "r.html").read_text()
    assert "<table" not in markdown and "| Outcome | Unit |" in markdown
    for text in (markdown, html):
        assert text.count("Effects, every outcome") == 1
        assert "baseline_mean" not in text and "per_seed_5_95" not in text and "p_worse" not in text
        assert "`levers.religion_law.enabled` true → false" in text.replace("<code>", "`").replace("</code>", "`")
        assert BY_NAME["uninvolved_people_detained"].label in text
        assert "docs/outcomes.md" in text and "P(worse) is blank (-) where more is neither better nor worse" in text
        assert "4 paired replicates" in text and "scenario files' own parameter values" not in text
    assert html.count("data:image/png;base64,") == 3 and "r_files/effects.svg" in html


def test_report_shows_prior_effects_and_attribution_when_present(four_scenarios: BatchResult, tmp_path: Path) -> None:
    batch, effects, baseline = compare_batch(four_scenarios.root)
    write_comparison_report(tmp_path / "r.md", batch, with_prior_and_attribution(effects), baseline)
    markdown = (tmp_path / "r.md").read_text()
    assert "| Effect under the prior | Prior 90 % interval |" in markdown
    assert "Which parameters the effects depend on" in markdown and "| legitimacy | attack_rate | vision |" in markdown
    assert "60%" in markdown
    plain = tmp_path / "plain.md"
    write_comparison_report(plain, batch, effects, baseline)
    assert "prior" not in plain.read_text().lower()


def test_the_reports_count_the_prior_pairs_and_one_pair_gives_no_interval(four_scenarios: BatchResult,
                                                                          tmp_path: Path) -> None:
    mean, low, high = paired_effect(np.array([16.0]))
    assert mean == 16.0 and math.isnan(low) and math.isnan(high)
    mean, low, high = paired_effect(np.array([1.0, 3.0, 2.0, 6.0]))
    assert low < mean < high
    batch, effects, baseline = compare_batch(four_scenarios.root)
    one = [dataclasses.replace(e, prior_effect=16.0, prior_low=math.nan, prior_high=math.nan, prior_pairs=1)
           for e in effects]
    write_comparison_report(tmp_path / "r.md", batch, one, baseline)
    text = " ".join((tmp_path / "r.md").read_text().split())
    assert f"Pairs: {effects[0].pairs} under the posterior, 1 under the prior" in text
    assert "one pair gives no interval under the prior" in text and "[+16.0, +16.0]" not in text


def test_compare_prints_units_a_legend_and_why_p_worse_is_blank(four_scenarios: BatchResult, tmp_path: Path) -> None:
    report = tmp_path / "out" / "report.md"
    result = CliRunner().invoke(app, ["compare", str(four_scenarios.root), "--report", str(report)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "docs/outcomes.md" in text and "blank where more is neither better nor worse" in text
    assert "Uninvolved detained" in text and "people" in text and "Wrote" in text
    assert (tmp_path / "out" / "report_files" / "effects.csv").is_file()
    why = "the variance shares need at least 30 pairs, and this comparison has 4"
    assert why in text and why in " ".join(report.read_text().split())


def test_compare_of_a_missing_folder_says_it_is_missing(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["compare", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "nowhere: no such batch folder" in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_a_report_with_an_unknown_suffix_is_refused_before_any_work(four_scenarios: BatchResult,
                                                                   tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["compare", str(four_scenarios.root), "--report", str(tmp_path / "r.pdf")])
    assert result.exit_code == 2 and "expected one of .html" in result.output
    assert list(tmp_path.iterdir()) == []
