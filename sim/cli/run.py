"""``kazsim run``: one run of a scenario, its outputs with provenance, and its totals beside 2011's."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

from sim.batch import parameter_draws, with_parameters
from sim.cli.common import console, error_console, reports_input_errors
from sim.data import ObservedData
from sim.errors import KazsimInputError
from sim.events import totals
from sim.run import OUTPUT_FILES, RunResult, simulate, write_outputs
from sim.scenario import MAX_DAYS, load_scenario, scenario_from_resolved

PARAMETERS_HELP = (
    "posterior: draw each replicate's parameters from the calibrated posterior (same draw for every scenario); "
    "point: the posterior mean; scenario: the scenario files' own values."
)



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


def comparison_table(result: RunResult) -> Table:
    """The run's totals beside the observed 2011 totals; for the Epstein model, its counts."""
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
