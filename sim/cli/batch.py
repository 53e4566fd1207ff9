"""``kazsim batch`` and ``kazsim compare``: paired runs of several scenarios, and their effects."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from sim.batch import BatchError, BatchProgress, BatchResult, check_batch_size, run_batch
from sim.cli.common import console, error_console, print_error, reports_input_errors
from sim.cli.run import PARAMETERS_HELP
from sim.compare import Effect, compare_batch, missing_attribution, prior_folder
from sim.data import ObservedData
from sim.events import monthly_series
from sim.outcomes import BLANK_P_WORSE, BY_NAME, OUTCOMES_DOC
from sim.parameters import BY_NAME as BY_PARAMETER
from sim.report import interval, number, report_format, write_comparison_report
from sim.report.methods import parameter_sentence
from sim.scenario import load_scenario


def batch_progress(description: str):
    """A rich progress display for batches: runs done, failures, time left."""
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("failed {task.fields[failed]}"),
        TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(), console=error_console,
    )



def print_warning(message: str) -> None:
    """A warning line on stderr, printed literally (file names may hold brackets)."""
    print_error(message, label="warning", style="yellow")



RUNS_PER_TASK_HELP = ("With --scheduler: runs per Dask task (default: the runs not yet sent over four times the worker "
                      "threads, at most 8, shrinking to 1 at the end).")


def _run_batch_with_progress(
    scenarios: list[Path], replicates: int, out: Path, workers: int, scheduler: str | None, base_seed: int,
    overrides: list[str], parameters: str, runs_per_task: int | None = None,
) -> BatchResult:
    bar = batch_progress("runs")
    task = bar.add_task("runs", total=None, failed=0)

    def show(counts: BatchProgress) -> None:
        bar.start()  # on the first report, once the batch is checked: an input error prints alone
        bar.update(task, total=counts.total, completed=counts.done + counts.failed, failed=counts.failed)

    try:
        return run_batch(scenarios, replicates=replicates, out=out, workers=workers, scheduler=scheduler,
                         base_seed=base_seed, overrides=overrides, progress=show, parameters=parameters,
                         warn=print_warning, runs_per_task=runs_per_task)
    finally:
        bar.stop()



@reports_input_errors
def batch(
    scenarios: Annotated[list[Path], typer.Argument(help="Scenario files (or names in scenarios/).")],
    replicates: Annotated[
        int, typer.Option(help="Runs per scenario (same seeds for all); more into an existing --out adds runs.")
    ] = 100,
    out: Annotated[Path, typer.Option(help="Batch folder (resumable: re-run to finish).")] = Path("batches/latest"),
    workers: Annotated[int, typer.Option(help="Local worker processes, or Dask workers with --scheduler local.")] = 2,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address (tcp://host:port), or 'local' for a loopback cluster.")
    ] = None,
    seed: Annotated[int, typer.Option(help="First seed; replicate i uses seed + i.")] = 2011,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override for every scenario: key=value.")] = None,
    parameters: Annotated[str, typer.Option(help=PARAMETERS_HELP)] = "posterior",
    runs_per_task: Annotated[int | None, typer.Option(min=1, max=1000, help=RUNS_PER_TASK_HELP)] = None,
) -> None:
    """Run every scenario with the same seeds into a Parquet dataset; resumable."""
    check_batch_size(replicates, workers, seed)
    result = _run_batch_with_progress(scenarios, replicates, out, workers, scheduler, seed, set_ or [], parameters,
                                      runs_per_task)
    per = result.runs.groupby("scenario").size()
    console.print(f"{out}: " + ", ".join(f"{name} {per.get(name, 0)}/{replicates} runs" for name in result.scenarios),
                  markup=False, highlight=False)
    console.print(parameters_line(result), markup=False, highlight=False)
    if result.failures:
        for failure in result.failures:
            print_error(f"{failure['scenario']} seed {failure['seed']}: {failure['error']}", label="failed",
                        style="red")
        error_console.print(f"{len(result.failures)} run(s) failed; re-run the same command to retry them.")
        sys.exit(1)



def effects_table(effects: list[Effect], baseline: str) -> Table:
    """Effects as a rich table: outcomes by name with units, and a caption saying where they are defined."""
    blank = sorted({BY_NAME[e.outcome].short for e in effects if e.p_worse is None})
    caption = f"Outcomes, units and definitions: {OUTCOMES_DOC}. P(worse): share of paired seeds where the " \
              "counterfactual is worse (ties half)."
    if blank:
        caption += f" {BLANK_P_WORSE}: {', '.join(blank)}."
    table = Table(title=f"Effects against {baseline} (counterfactual - baseline, paired by seed)", header_style="bold",
                  caption=caption, caption_justify="left")
    several = len({e.scenario for e in effects}) > 1
    headers = [*(["scenario"] if several else []), "outcome", "unit", "baseline", "counterfactual", "effect",
               "90 % interval", "single year 5-95 %", "P(worse)"]
    for header in headers:
        table.add_column(header, justify="left" if header in ("scenario", "outcome", "unit") else "right")
    for e in effects:
        outcome = BY_NAME[e.outcome]
        table.add_row(*([e.scenario] if several else []), outcome.short, outcome.unit, number(e.baseline_mean),
                      number(e.counterfactual_mean), number(e.effect, signed=True), interval(e.low, e.high),
                      interval(e.spread_low, e.spread_high), "-" if e.p_worse is None else f"{e.p_worse:.2f}")
    return table


#: parameters shown per effect in the table of what an effect depends on.
SHOWN_SHARES = 3


def _pairs_note(effects: list[Effect]) -> str:
    """How many pairs each column rests on: the prior's leaves out the worlds its constraint rules out."""
    kept = {e.prior_pairs for e in effects if e.prior_pairs is not None}
    if not kept:
        return ""
    single = "; one pair gives no interval under the prior" if max(kept) < 2 else ""
    return (f" Pairs: {max(e.pairs for e in effects)} under the posterior (its draws already passed the constraint in "
            f"the calibration), {max(kept)} under the prior{single}.")


def parameters_line(result: BatchResult) -> str:
    """How the folder's runs chose their parameters (posterior draws, prior, posterior mean or the files')."""
    return parameter_sentence(result.manifest.get("parameters", {}), result.runs["seed"].nunique()).replace("`", "")


def origins_table(effects: list[Effect], baseline: str) -> Table | None:
    """Where each effect comes from: the same effect under the prior, and the parameters its spread depends on."""
    explained = [e for e in effects if e.prior_effect is not None or e.attribution]
    if not explained:
        return None
    table = Table(title=f"Where the effects against {baseline} come from", header_style="bold", caption_justify="left",
                  caption="Under the prior: the same comparison with every parameter drawn from its prior (pairs whose "
                          "baseline run keeps open support plausible): what the model assumes before the 2011 record "
                          "is seen. Depends on: share of the single-pair effects' variance each drawn parameter "
                          "explains (first order, RBD-FAST; the remainder is chance and interactions)."
                          + _pairs_note(explained))
    several = len({e.scenario for e in effects}) > 1
    for header in [*(["scenario"] if several else []), "outcome", "posterior", "under the prior", "depends on"]:
        table.add_column(header, justify="left" if header in ("scenario", "outcome", "depends on") else "right")
    for e in explained:
        shares = [(name, share) for name, share in (e.attribution or {}).items() if name in BY_PARAMETER]
        depends = ", ".join(f"{name} {share:.2f}" for name, share in shares[:SHOWN_SHARES]) or "-"
        prior = "-" if e.prior_effect is None else \
            f"{number(e.prior_effect, signed=True)} {interval(e.prior_low, e.prior_high)}"
        table.add_row(*([e.scenario] if several else []), BY_NAME[e.outcome].short,
                      f"{number(e.effect, signed=True)} {interval(e.low, e.high)}", prior, depends)
    return table


def stage_progress() -> Progress:
    """A spinner with the current stage's description and the time elapsed, on stderr."""
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=error_console,
                    transient=True)



@reports_input_errors
def compare(
    inputs: Annotated[list[Path], typer.Argument(help="A batch folder, or two or more scenario files to batch first.")],
    baseline: Annotated[str | None, typer.Option(help="Baseline scenario name (default: the first).")] = None,
    report: Annotated[
        Path | None, typer.Option(help="Write an HTML (.html) or Markdown (.md) report with plots.")
    ] = None,
    replicates: Annotated[int, typer.Option(min=2, help="Runs per scenario when given scenario files.")] = 100,
    out: Annotated[Path | None, typer.Option(help="Batch folder when given scenario files.")] = None,
    workers: Annotated[int, typer.Option(help="Local worker processes when given scenario files.")] = 2,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address or 'local'.")] = None,
    parameters: Annotated[str, typer.Option(help=PARAMETERS_HELP)] = "posterior",
    prior: Annotated[bool, typer.Option(
        help="Also report each effect under the prior (what the model assumes before the record is seen): with "
             "scenario files and --parameters posterior, the same runs are made with every parameter drawn from "
             "its prior into the sibling folder <out>-prior; with a batch folder, <folder>-prior is used if it "
             "exists.")] = True,
) -> None:
    """Compare counterfactuals with the baseline: paired effects, intervals, P(worse), the effect under the prior
    and what each effect's spread depends on; --report writes a report."""
    if report is not None:
        report_format(report)

    check_batch_size(replicates, workers)
    if len(inputs) == 1 and not inputs[0].exists():
        raise BatchError(f"{inputs[0]}: no such batch folder (compare takes a batch folder, or two or more scenario "
                         "files)")
    if len(inputs) == 1 and inputs[0].is_dir():
        root = inputs[0]
    elif len(inputs) >= 2 and all(p.suffix == ".toml" or not p.exists() for p in inputs):
        names = [load_scenario(p).name for p in inputs]
        root = out or Path("batches") / "-vs-".join(names)
        console.print(f"Running {replicates} paired runs of {', '.join(names)} into {root}", markup=False,
                      highlight=False)
        _run_batch_with_progress(inputs, replicates, root, workers, scheduler, 2011, [], parameters)
        if prior and parameters == "posterior":
            console.print(f"Running the same {replicates} pairs with every parameter drawn from its prior into "
                          f"{prior_folder(root)}", markup=False, highlight=False)
            _run_batch_with_progress(inputs, replicates, prior_folder(root), workers, scheduler, 2011, [], "prior")
    else:
        raise BatchError(f"{' '.join(map(str, inputs))}: expected one batch folder or two or more scenario files")
    under_prior = prior_folder(root) if prior and (prior_folder(root) / "manifest.json").is_file() else None
    with stage_progress() as bar:
        task = bar.add_task("comparing", total=None)
        result, effects, base = compare_batch(root, baseline, progress=lambda text: bar.update(task, description=text),
                                              prior=under_prior)
    if root is inputs[0]:  # a batch run here has already reported the folder's foreign files
        for problem in result.problems:
            print_warning(str(problem))
    console.print(effects_table(effects, base))
    origins = origins_table(effects, base)
    if origins is not None:
        console.print(origins)
    if (why := missing_attribution(effects)) is not None:
        console.print(why, markup=False, highlight=False)
    if result.failures:
        print_warning(f"{len(result.failures)} failed run(s) are excluded; see {root / 'failures'}")
    if report is not None:
        with stage_progress() as bar:
            task = bar.add_task("report", total=None)
            folder = write_comparison_report(report, result, effects, base,
                                             monthly_series(ObservedData().seed_incidents),
                                             progress=lambda text: bar.update(task, description=text))
        console.print(f"Wrote {report} (figures as PNG and SVG, effects.csv in {folder})", markup=False,
                      highlight=False)
