"""The ``kazsim`` command line."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from sim.data import SEEDS_DIR, ObservedData
from sim.errors import KazsimInputError
from sim.events import DEATH_COLUMNS, monthly_series, regional_series
from sim.provenance import atomic_write_text
from sim.scenario import MAX_DAYS

app = typer.Typer(
    help="kazsim: militancy and counter-terrorism policing in Kazakhstan, 2011 (agent-based, Mesa).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
# Markup off: paths, scenario names and error texts come from users and files and are printed as they are.
console = Console(width=None if sys.stdout.isatty() else 160, markup=False)
error_console = Console(stderr=True, markup=False)

if TYPE_CHECKING:
    from sim.batch import BatchProgress, BatchResult

F = TypeVar("F", bound=Callable)


@app.callback()
def kazsim() -> None:
    """kazsim: militancy and counter-terrorism policing in Kazakhstan, 2011 (agent-based, Mesa)."""


def print_error(message: str, label: str = "error", style: str = "bold red") -> None:
    """One message on stderr, printed literally: text from files and users is never read as markup."""
    error_console.print(Text.assemble((f"{label}: ", style), message), highlight=False, soft_wrap=True)


def reports_input_errors(command: F) -> F:
    """Turn bad input into a one-line message on stderr and exit status 2, with no traceback.

    A file that cannot be read or written (a folder given for a file, no permission, a full disk)
    is reported the same way, naming the file.
    """

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except KazsimInputError as error:
            print_error(str(error))
            sys.exit(2)
        except OSError as error:
            where = error.filename if error.filename is not None else "a file"
            print_error(f"{where}: {error.strerror or error}")
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def frame_table(frame: pd.DataFrame, title: str, columns: dict[str, str] | None = None) -> Table:
    """A rich table of a DataFrame: ``columns`` maps column names to short headers."""
    columns = columns or {str(c): str(c) for c in frame.columns}
    table = Table(title=title, title_justify="left", header_style="bold", pad_edge=False)
    for column, header in columns.items():
        numeric = pd.api.types.is_numeric_dtype(frame[column])
        table.add_column(header, justify="right" if numeric else "left", no_wrap=True, overflow="ellipsis",
                         max_width=None if numeric else 34)
    for _, row in frame[list(columns)].iterrows():
        table.add_row(*(row[c].strftime("%Y-%m-%d") if hasattr(row[c], "strftime") else str(row[c]) for c in columns))
    return table


def incident_view(incidents: pd.DataFrame) -> pd.DataFrame:
    """Incidents with compact columns for printing."""
    deaths = incidents[list(DEATH_COLUMNS)].astype(str).agg("/".join, axis=1)
    return incidents.assign(
        region=incidents["region"].str.replace(" Region", "", regex=False),
        deaths=deaths,
        seed=incidents["seed_documented"].map({True: "yes", False: "domain"}),
    )


@app.command()
@reports_input_errors
def data(
    seeds: Annotated[Path, typer.Option(help="Folder holding the seed data.")] = SEEDS_DIR,
    seed_only: Annotated[
        bool, typer.Option("--seed-only", help="Only incidents documented by the seed articles.")
    ] = False,
    out: Annotated[
        Path | None, typer.Option(help="Also write incidents, monthly and regional series as CSV here.")
    ] = None,
) -> None:
    """Print the observed 2011 incidents and their monthly series."""
    observed = ObservedData(seeds)
    observed.validate()
    incidents = observed.seed_incidents if seed_only else observed.incidents
    monthly = monthly_series(incidents)
    regional = regional_series(incidents, observed.regions["region"])

    console.print(
        frame_table(
            incident_view(incidents),
            f"Observed incidents, 2011 ({len(incidents)} rows; deaths = security/civilian/militant/unknown; "
            "seed = documented by a seed article, domain = only by the domain notes)",
            {"id": "id", "date": "date", "region": "region", "place": "place", "kind": "kind",
             "initiator": "by", "deaths": "deaths s/c/m/u", "injured": "inj", "arrests": "arr", "seed": "seed"},
        )
    )
    month_view = monthly.reset_index().assign(month=lambda f: f["month"].astype(str))
    console.print(
        frame_table(
            month_view,
            "Monthly series",
            {"month": "month", "incidents": "incidents", "attacks": "attacks", "state_operations": "state ops",
             "deaths_security": "d.sec", "deaths_civilian": "d.civ", "deaths_militant": "d.mil",
             "deaths_unknown": "d.unk", "deaths_total": "deaths", "arrests": "arrests"},
        )
    )
    by_region = regional.groupby("region")[["incidents", "attacks", "state_operations", "deaths_total"]].sum()
    by_region = by_region[by_region["incidents"] > 0].reset_index()
    console.print(frame_table(by_region, "By region (regions with incidents)"))
    total = monthly[[*DEATH_COLUMNS, "deaths_total", "arrests"]].sum()
    console.print(
        "Totals: "
        + ", ".join(f"{name} {int(value)}" for name, value in total.items())
        + f"; incidents {len(incidents)}"
    )
    if out is not None:
        tables = {
            "observed_incidents.csv": incidents,
            "observed_monthly.csv": monthly.reset_index().assign(month=lambda f: f["month"].astype(str)),
            "observed_regional.csv": regional.assign(month=lambda f: f["month"].astype(str)),
        }
        for name, frame in tables.items():
            atomic_write_text(out / name, frame.to_csv(index=False, date_format="%Y-%m-%d", lineterminator="\n"))
        console.print(f"Wrote {', '.join(tables)} to {out}")


PARAMETERS_HELP = (
    "posterior: draw each replicate's parameters from the calibrated posterior (same draw for every scenario); "
    "point: the posterior mean; scenario: the scenario files' own values."
)


@app.command()
@reports_input_errors
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (or the name of one in scenarios/).")],
    seed: Annotated[int | None, typer.Option(help="Random seed (default: the scenario's).")] = None,
    days: Annotated[int | None, typer.Option(min=1, max=MAX_DAYS,
                                             help="Days to simulate (default: the scenario's period).")] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a value: key=value (repeatable).")
    ] = None,
    out: Annotated[Path | None, typer.Option(
        help="Folder for events.csv, daily.csv and run.json (default: runs/<scenario>-seed<seed>).")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an earlier run in --out.")] = False,
    parameters: Annotated[str, typer.Option(help=PARAMETERS_HELP)] = "posterior",
) -> None:
    """Simulate one scenario and compare its totals with the observed 2011 totals.

    With ``--parameters posterior`` (the default, as for batches) the run uses the calibrated posterior's
    particle that a batch run with the same seed uses, so it reproduces that batch run.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from sim.batch import parameter_draws, with_parameters
    from sim.run import OUTPUT_FILES, simulate, write_outputs
    from sim.scenario import load_scenario, scenario_from_resolved

    spec = load_scenario(scenario, overrides=set_ or [], seed=seed)
    draws, drawn = parameter_draws([spec], [spec.seed], parameters)
    spec = scenario_from_resolved(with_parameters(spec, draws[0]), spec.name)
    out = out or Path("runs") / f"{spec.name}-seed{spec.seed}"
    if out.exists() and not out.is_dir():
        raise KazsimInputError(f"--out {out}: is a file; expected a folder for the run's outputs")
    earlier = [name for name in OUTPUT_FILES if (out / name).exists()]
    if earlier and not overwrite:
        raise KazsimInputError(f"--out {out}: already holds a run ({', '.join(earlier)}); "
                               "choose another --out or add --overwrite to replace it")
    steps = days or spec.period.days
    with Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=error_console, transient=True,
    ) as bar:
        task = bar.add_task(f"{spec.name} seed {spec.seed}", total=steps)
        result = simulate(spec, days=days, progress=lambda n: bar.advance(task, n))
    write_outputs(result, out, parameters=drawn)
    console.print(comparison_table(result))
    console.print(f"Parameters: {describe_parameters(drawn, spec.seed)}")
    console.print(f"Wrote {', '.join(OUTPUT_FILES)} to {out}")


def describe_parameters(drawn: dict, seed: int) -> str:
    """Which parameter values a run used, in words."""
    if drawn["mode"] == "posterior":
        return (f"calibrated posterior, particle {drawn['particles'][str(seed)]} of {drawn['posterior']} "
                "(the draw a batch run with this seed uses)")
    if drawn["mode"] == "point":
        return f"posterior mean of {drawn['posterior']}"
    return "the scenario file's own values (no posterior, or --parameters scenario)"


def comparison_table(result) -> Table:
    """The run's totals beside the observed 2011 totals; for the Epstein model, its counts."""
    from sim.events import totals

    title = f"{result.scenario.name}, seed {result.seed}, {result.days} days"
    if result.scenario.model == "epstein":
        table = Table(title=title, header_style="bold")
        for header in ("", "mean", "max", "final"):
            table.add_column(header, justify="right" if header else "left")
        for column in ("active", "quiet", "jailed"):
            series = result.daily[column]
            table.add_row(column, f"{series.mean():.1f}", str(series.max()), str(series.iloc[-1]))
        return table
    observed = ObservedData()
    simulated = totals(result.events)
    seed_totals = totals(observed.seed_incidents)
    all_totals = totals(observed.incidents)
    table = Table(title=title, header_style="bold")
    table.add_column("")
    for header in ("simulated", "observed 2011 (seed)", "observed 2011 (all)"):
        table.add_column(header, justify="right")
    for name in simulated.index:
        table.add_row(name, str(simulated[name]), str(seed_totals[name]), str(all_totals[name]))
    return table




def batch_progress(description: str):
    """A rich progress display for batches: runs done, failures, time left."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("failed {task.fields[failed]}"),
        TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(), console=error_console,
    )


def print_warning(message: str) -> None:
    """A warning line on stderr, printed literally (file names may hold brackets)."""
    print_error(message, label="warning", style="yellow")


def _run_batch_with_progress(
    scenarios: list[Path], replicates: int, out: Path, workers: int, scheduler: str | None, base_seed: int,
    overrides: list[str], parameters: str,
) -> BatchResult:
    from sim.batch import run_batch

    bar = batch_progress("runs")
    task = bar.add_task("runs", total=None, failed=0)

    def show(counts: BatchProgress) -> None:
        bar.start()  # on the first report, once the batch is checked: an input error prints alone
        bar.update(task, total=counts.total, completed=counts.done + counts.failed, failed=counts.failed)

    try:
        return run_batch(scenarios, replicates=replicates, out=out, workers=workers, scheduler=scheduler,
                         base_seed=base_seed, overrides=overrides, progress=show, parameters=parameters,
                         warn=print_warning)
    finally:
        bar.stop()


@app.command()
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
) -> None:
    """Run every scenario with the same seeds into a Parquet dataset; resumable."""
    from sim.batch import check_batch_size

    check_batch_size(replicates, workers, seed)
    result = _run_batch_with_progress(scenarios, replicates, out, workers, scheduler, seed, set_ or [], parameters)
    per = result.runs.groupby("scenario").size()
    console.print(f"{out}: " + ", ".join(f"{name} {per.get(name, 0)}/{replicates} runs" for name in result.scenarios),
                  markup=False, highlight=False)
    if result.failures:
        for failure in result.failures:
            print_error(f"{failure['scenario']} seed {failure['seed']}: {failure['error']}", label="failed", style="red")
        error_console.print(f"{len(result.failures)} run(s) failed; re-run the same command to retry them.")
        sys.exit(1)


def effects_table(effects, baseline: str) -> Table:
    """Effects as a rich table."""
    table = Table(title=f"Effects against {baseline} (counterfactual - baseline, paired by seed)", header_style="bold")
    for header in ("scenario", "outcome", "baseline", "counterfactual", "effect", "90 % interval", "per-seed 5-95 %",
                   "P(worse)"):
        table.add_column(header, justify="left" if header in ("scenario", "outcome") else "right")
    for e in effects:
        table.add_row(e.scenario, e.outcome, f"{e.baseline_mean:.2f}", f"{e.counterfactual_mean:.2f}", f"{e.effect:+.2f}",
                      f"[{e.low:+.2f}, {e.high:+.2f}]", f"[{e.spread_low:+.1f}, {e.spread_high:+.1f}]",
                      "" if e.p_worse is None else f"{e.p_worse:.2f}")
    return table


@app.command()
@reports_input_errors
def compare(
    inputs: Annotated[list[Path], typer.Argument(help="A batch folder, or two or more scenario files to batch first.")],
    baseline: Annotated[str | None, typer.Option(help="Baseline scenario name (default: the first).")] = None,
    report: Annotated[Path | None, typer.Option(help="Write an HTML (.html) or Markdown (.md) report with plots.")] = None,
    replicates: Annotated[int, typer.Option(min=2, help="Runs per scenario when given scenario files.")] = 100,
    out: Annotated[Path | None, typer.Option(help="Batch folder when given scenario files.")] = None,
    workers: Annotated[int, typer.Option(help="Local worker processes when given scenario files.")] = 2,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address or 'local'.")] = None,
    parameters: Annotated[str, typer.Option(help=PARAMETERS_HELP)] = "posterior",
) -> None:
    """Compare counterfactuals with the baseline: paired effects, intervals, P(worse)."""
    from sim.batch import BatchError, check_batch_size
    from sim.compare import REPORT_FORMATS, compare_batch, write_report

    if report is not None and report.suffix.lower() not in REPORT_FORMATS:
        raise KazsimInputError(f"--report {report}: the suffix picks the format; expected one of "
                               f"{', '.join(REPORT_FORMATS)}")

    check_batch_size(replicates, workers)
    if len(inputs) == 1 and inputs[0].is_dir():
        root = inputs[0]
    elif len(inputs) >= 2 and all(p.suffix == ".toml" or not p.exists() for p in inputs):
        from sim.scenario import load_scenario

        names = [load_scenario(p).name for p in inputs]
        root = out or Path("batches") / "-vs-".join(names)
        console.print(f"Running {replicates} paired runs of {', '.join(names)} into {root}", markup=False,
                      highlight=False)
        _run_batch_with_progress(inputs, replicates, root, workers, scheduler, 2011, [], parameters)
    else:
        raise BatchError(f"{' '.join(map(str, inputs))}: expected one batch folder or two or more scenario files")
    result, effects, base = compare_batch(root, baseline)
    if root is inputs[0]:  # a batch run here has already reported the folder's foreign files
        for problem in result.problems:
            print_warning(str(problem))
    console.print(effects_table(effects, base))
    if result.failures:
        print_warning(f"{len(result.failures)} failed run(s) are excluded; see {root / 'failures'}")
    if report is not None:
        write_report(report, result, effects, base, monthly_series(ObservedData().seed_incidents))
        console.print(f"Wrote {report}", markup=False, highlight=False)


# Commands defined next to what they drive: calibration (calibration/) and the teaching app.
from calibration.cli import register as _register_calibration  # noqa: E402
from sim.demo_cli import register as _register_demo  # noqa: E402

_register_calibration(app)
_register_demo(app)


def main() -> None:
    """Entry point for ``python -m sim.cli``."""
    app()


if __name__ == "__main__":
    main()
