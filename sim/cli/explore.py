"""``kazsim explore``: scenarios over a design of lever settings × posterior draws, stored like a batch."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sim.batch import check_batch_size
from sim.cli.batch import RUNS_PER_TASK_HELP, batch_progress, parameters_line, print_warning, stage_progress
from sim.cli.common import console, error_console, print_error, reports_input_errors
from sim.cli.run import PARAMETERS_HELP
from sim.discover import discover as discover_in
from sim.discover.prim import DEFAULT_MASS_MIN, DEFAULT_MIN_DENSITY, DEFAULT_PEEL_ALPHA
from sim.errors import KazsimInputError
from sim.explore import Exploration, efficient, run_exploration, summaries
from sim.explore.design import field_label
from sim.outcomes import BY_NAME, OUTCOMES_DOC
from sim.report import interval, number, report_format
from sim.report.discover_report import limits_table, summary_sentences, write_discovery_report
from sim.report.explore_report import DEFAULT_FRONTIER, write_exploration_report

#: Most design points the terminal table lists (the report's points.csv has them all).
MAX_ROWS = 40
VARY_HELP = ("FIELD=LOW:HIGH:STEPS: a numeric lever field (levers.sweeps.size) or parameter (legitimacy) from LOW to "
             "HIGH in STEPS levels; repeat for more fields.")


def parse_frontier(text: str) -> tuple[str, str]:
    """``X,Y``: two outcome names."""
    names = [name.strip() for name in text.split(",")]
    unknown = [name for name in names if name not in BY_NAME]
    if len(names) != 2 or unknown or names[0] == names[1]:
        raise KazsimInputError(f"--frontier {text!r}: expected two different outcomes as X,Y (names in {OUTCOMES_DOC}"
                               + (f"; unknown: {', '.join(unknown)}" if unknown else "") + ")")
    return names[0], names[1]


def points_table(exploration: Exploration, x: str, y: str) -> Table:
    """The design points with both frontier outcomes and whether each is on the frontier."""
    fields = [f.field for f in exploration.fields]
    table = summaries(exploration.runs, fields, [x, y]).sort_values(["base", *fields])
    table["front"] = False
    for _, part in table.groupby("base", sort=False):
        table.loc[part.index, "front"] = efficient(part, x, y)
    several = len(exploration.bases) > 1
    title = f"{len(table)} design points{'' if len(table) <= MAX_ROWS else f' (first {MAX_ROWS})'}: means of the runs"
    shown = Table(title=title, header_style="bold", caption=f"front: no other point has fewer of both. Outcomes: "
                  f"{OUTCOMES_DOC}.", caption_justify="left")
    for header in [*(["scenario"] if several else []), *map(field_label, fields)]:
        shown.add_column(header, justify="left" if header == "scenario" else "right")
    for outcome in (x, y):
        shown.add_column(f"{BY_NAME[outcome].short} ({BY_NAME[outcome].unit})", justify="right")
        shown.add_column("90 % interval", justify="right")
    shown.add_column("front")
    for _, row in table.head(MAX_ROWS).iterrows():
        cells = [*([row["base"]] if several else []), *(f"{row[field]:g}" for field in fields)]
        for outcome in (x, y):
            cells += [number(row[outcome]), interval(row[f"{outcome}_low"], row[f"{outcome}_high"], signed=False)]
        shown.add_row(*cells, "yes" if row["front"] else "")
    return shown


@reports_input_errors
def explore(
    scenarios: Annotated[list[Path], typer.Argument(help="Scenario files (or names in scenarios/); several: paired.")],
    vary: Annotated[list[str], typer.Option(help=VARY_HELP)],
    replicates: Annotated[int, typer.Option(help="Runs per design point (same seeds and draws at every point).")] = 20,
    out: Annotated[Path, typer.Option(help="Exploration folder (resumable; more STEPS, points or replicates grow "
                                           "it).")] = Path("batches/exploration"),
    design: Annotated[str | None, typer.Option(help="grid (default for 1-2 fields) or lhs (Latin hypercube).")] = None,
    points: Annotated[int | None, typer.Option(help="Latin hypercube points (default: the largest STEPS).")] = None,
    workers: Annotated[int, typer.Option(help="Local worker processes, or Dask workers with --scheduler local.")] = 2,
    scheduler: Annotated[str | None, typer.Option(
        help="Dask scheduler address (tcp://host:port), or 'local' for a loopback cluster.")] = None,
    seed: Annotated[int, typer.Option(help="First seed; replicate i uses seed + i.")] = 2011,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override for every scenario: key=value.")] = None,
    parameters: Annotated[str, typer.Option(help=PARAMETERS_HELP)] = "posterior",
    frontier: Annotated[str, typer.Option(help="The trade-off to draw: two outcomes X,Y.")] = ",".join(
        DEFAULT_FRONTIER),
    report: Annotated[Path | None, typer.Option(
        help="Write an HTML (.html) or Markdown (.md) report: surfaces, frontier, every point as CSV.")] = None,
    runs_per_task: Annotated[int | None, typer.Option(min=1, max=1000, help=RUNS_PER_TASK_HELP)] = None,
) -> None:
    """Run scenarios over a design of lever settings (grid, or Latin hypercube) × posterior draws."""
    check_batch_size(replicates, workers, seed)
    x, y = parse_frontier(frontier)
    if report is not None:
        report_format(report)
    bar = batch_progress("runs")
    task = bar.add_task("runs", total=None, failed=0)

    def show(counts) -> None:
        bar.start()
        bar.update(task, total=counts.total, completed=counts.done + counts.failed, failed=counts.failed)

    try:
        result = run_exploration(scenarios, vary, replicates, out, design=design, points=points, workers=workers,
                                 scheduler=scheduler, base_seed=seed, overrides=set_ or [], parameters=parameters,
                                 progress=show, warn=print_warning, runs_per_task=runs_per_task)
    finally:
        bar.stop()
    console.print(result_line(result, replicates), markup=False, highlight=False)
    console.print(parameters_line(result.batch), markup=False, highlight=False)
    if not result.batch.runs.empty:
        console.print(points_table(result, x, y))
    if report is not None and not result.batch.runs.empty:
        with stage_progress() as stages:
            stage = stages.add_task("report", total=None)
            folder = write_exploration_report(report, result, (x, y),
                                              progress=lambda text: stages.update(stage, description=text))
        console.print(f"Wrote {report} (figures as PNG and SVG, points.csv and runs.csv in {folder})", markup=False,
                      highlight=False)
    if result.batch.failures:
        for failure in result.batch.failures:
            print_error(f"{failure['scenario']} seed {failure['seed']}: {failure['error']}", label="failed",
                        style="red")
        error_console.print(f"{len(result.batch.failures)} run(s) failed; re-run the same command to retry them.")
        sys.exit(1)


def result_line(result: Exploration, replicates: int) -> str:
    """What the folder now holds for this design."""
    points = result.points["point"].nunique()
    runs = len(result.batch.runs)
    expected = len(result.points) * replicates
    return (f"{result.root}: {points} design points × {len(result.bases)} scenario(s) × {replicates} replicates: "
            f"{runs}/{expected} runs complete")


def default_report(folder: Path, condition: str) -> Path:
    """``discoveries/<folder>/<condition as a file name>-<digest>.html``: one report per folder and condition."""
    import hashlib
    import re

    slug = re.sub(r"[^A-Za-z0-9]+", "_", condition).strip("_")[:60] or "condition"
    digest = hashlib.sha256(condition.encode()).hexdigest()[:6]
    return Path("discoveries") / (folder.resolve().name or "folder") / f"{slug}-{digest}.html"


@reports_input_errors
def discover(
    folder: Annotated[Path, typer.Argument(help="A batch or exploration folder.")],
    where: Annotated[str, typer.Option(help="The condition, e.g. \"effect_attacks > 0\" (outcome names: "
                                            f"{OUTCOMES_DOC}; with --baseline also baseline_<outcome> and "
                                            "effect_<outcome>).")],
    baseline: Annotated[str | None, typer.Option(
        help="Pair each run with this scenario's run at the same seed and design point (effect_<outcome>).")] = None,
    scenario: Annotated[str | None, typer.Option(help="The (counterfactual) scenario whose cases to search.")] = None,
    min_density: Annotated[float, typer.Option(
        help="Keep the box of highest coverage whose density reaches this.")] = DEFAULT_MIN_DENSITY,
    peel_alpha: Annotated[float, typer.Option(help="Share of cases PRIM peels at each step.")] = DEFAULT_PEEL_ALPHA,
    mass_min: Annotated[float, typer.Option(help="Smallest box, as a share of all cases.")] = DEFAULT_MASS_MIN,
    report: Annotated[Path | None, typer.Option(
        help="HTML (.html) or Markdown (.md) report (default: discoveries/<folder>/<condition>.html).")] = None,
) -> None:
    """Find, with PRIM, the box of lever settings and parameters where a condition holds (scenario discovery)."""
    report = report or default_report(folder, where)
    report_format(report)
    if not (folder / "manifest.json").is_file():
        raise KazsimInputError(f"{folder}: not a batch or exploration folder (no manifest.json)")
    with stage_progress() as stages:
        stage = stages.add_task("reading the runs and running PRIM", total=None)
        found = discover_in(folder, where, baseline, scenario, min_density, peel_alpha, mass_min)
        source = f"{folder}" + (f", paired with {baseline}" if baseline else "")
        written = write_discovery_report(report, found, min_density, source,
                                         progress=lambda text: stages.update(stage, description=text))
    for sentence in summary_sentences(found, min_density, source):
        console.print(sentence.replace("`", ""), markup=False, highlight=False)
    shown = Table(header_style="bold")
    limits = limits_table(found)
    for column in limits.columns:
        shown.add_column(column, justify="left" if column in ("Dimension", "Restricts") else "right")
    for row in limits.itertuples(index=False):
        shown.add_row(*map(str, row))
    console.print(shown)
    example = found.cases[found.inside & found.cases["holds"]].head(1)
    if len(example):
        case = example.iloc[0]
        console.print(f"A case in the box: kazsim run --from {folder} --scenario {case['scenario']} --seed "
                      f"{int(case['seed'])} (or kazsim demo with the same options)", markup=False, highlight=False)
    console.print(f"Wrote {report} (peeling trajectory and box as PNG and SVG, cases.csv in {written})",
                  markup=False, highlight=False)
