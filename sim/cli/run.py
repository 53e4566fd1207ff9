"""``kazsim run``: one run of a scenario, its outputs with provenance, and its totals beside 2011's."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from sim.batch import parameter_draws, with_parameters
from sim.batch.replay import replay
from sim.cli.common import console, error_console, print_error, reports_input_errors
from sim.data import ObservedData
from sim.errors import KazsimInputError
from sim.events import totals
from sim.outcomes import BY_NAME, OUTCOMES_DOC, RENAMED
from sim.run import OUTPUT_FILES, RunResult, simulate, write_outputs
from sim.scenario import MAX_DAYS, load_scenario, scenario_from_resolved

PARAMETERS_HELP = (
    "posterior: draw each replicate's parameters from the calibrated posterior (same draw for every scenario); "
    "point: the posterior mean; scenario: the scenario files' own values."
)



@reports_input_errors
def run(
    scenario: Annotated[Path | None, typer.Argument(
        help="Scenario file (or the name of one in scenarios/); none with --from.")] = None,
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
    from_: Annotated[Path | None, typer.Option(
        "--from", help="Replay a run of this batch or exploration folder exactly (with --scenario and --seed).",
    )] = None,
    scenario_name: Annotated[str | None, typer.Option(
        "--scenario", help="With --from: the scenario (or design point) of the run to replay.")] = None,
) -> None:
    """Simulate one scenario and compare its totals with the observed 2011 totals.

    With ``--parameters posterior`` (the default, as for batches) the run uses the calibrated posterior's
    particle that a batch run with the same seed uses, so it reproduces that batch run. With ``--from DIR
    --scenario NAME --seed N`` it replays that run of a batch or exploration folder from its stored
    scenario and parameter draw, and checks its tables against the stored ones byte for byte.
    """
    if from_ is not None:
        given = [name for name, value in (("SCENARIO", scenario), ("--set", set_), ("--days", days)) if value]
        if given or parameters != "posterior":
            given += ["--parameters"] if parameters != "posterior" else []
            raise KazsimInputError(f"--from {from_}: a replay uses the stored scenario and draw; {', '.join(given)} "
                                   "cannot be given with it")
        if seed is None:
            raise KazsimInputError(f"--from {from_}: give the run's --seed")
        _replay(from_, scenario_name, seed, out, overwrite)
        return
    if scenario is None:
        raise KazsimInputError("give a SCENARIO file or name, or --from DIR --scenario NAME --seed N")
    if scenario_name is not None:
        raise KazsimInputError("--scenario names a run of a folder given with --from; without --from give SCENARIO")
    spec = load_scenario(scenario, overrides=set_ or [], seed=seed)
    draws, drawn = parameter_draws([spec], [spec.seed], parameters)
    spec = scenario_from_resolved(with_parameters(spec, draws[0]), spec.name)
    out = out or Path("runs") / f"{spec.name}-seed{spec.seed}"
    _check_out(out, overwrite)
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


def _check_out(out: Path, overwrite: bool) -> None:
    """Refuse an --out that is a file, or holds a run, unless --overwrite."""
    if out.exists() and not out.is_dir():
        raise KazsimInputError(f"--out {out}: is a file; expected a folder for the run's outputs")
    earlier = [name for name in OUTPUT_FILES if (out / name).exists()]
    if earlier and not overwrite:
        raise KazsimInputError(f"--out {out}: already holds a run ({', '.join(earlier)}); "
                               "choose another --out or add --overwrite to replace it")


def _replay(folder: Path, scenario: str | None, seed: int, out: Path | None, overwrite: bool) -> None:
    """``kazsim run --from``: re-run a stored run, write its outputs, and say whether it matched byte for byte."""
    if not (folder / "manifest.json").is_file():
        raise KazsimInputError(f"--from {folder}: not a batch or exploration folder (no manifest.json)")
    out = out or Path("runs") / f"{scenario or folder.name}-seed{seed}"
    _check_out(out, overwrite)
    with Progress(TextColumn("{task.description}", markup=False), console=error_console, transient=True) as bar:
        bar.add_task(f"replaying {scenario or 'the run'} seed {seed} from {folder}", total=None)
        done = replay(folder, scenario, seed)
    write_outputs(done.result, out, parameters={"mode": "replay", **done.source})
    console.print(comparison_table(done.result))
    draw = "" if done.spec.particle is None else f", posterior particle {done.spec.particle}"
    console.print(f"Replayed {done.spec.name} seed {seed} from {folder}{draw}; wrote {', '.join(OUTPUT_FILES)} to "
                  f"{out}", markup=False, highlight=False)
    if not done.identical:
        console.print("The folder holds no complete record of this run: nothing to compare with.", markup=False)
    elif all(done.identical.values()):
        console.print("Identical to the stored run: events and daily tables equal byte for byte.", markup=False)
    else:
        differing = ", ".join(kind for kind, same in done.identical.items() if not same)
        print_error(f"the replay's {differing} table(s) differ from the stored run's (another version of kazsim or "
                    "its libraries? see the manifest's provenance)", label="warning", style="yellow")
        raise typer.Exit(1)


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
    table = Table(title=title, header_style="bold", caption_justify="left",
                  caption=f"Rows named as outcomes are defined, with their units, in {OUTCOMES_DOC} (the names "
                          "discover's --where takes). The record does not count uninvolved detainees (-).")
    table.add_column("")
    for header in ("simulated", "observed 2011 (seed)", "observed 2011 (all)"):
        table.add_column(header, justify="right")
    for name in simulated.index:
        table.add_row(RENAMED.get(name, name), str(simulated[name]), str(seed_totals[name]), str(all_totals[name]))
    uninvolved = BY_NAME["uninvolved_people_detained"]
    table.add_row(uninvolved.name, str(int(result.daily["detained_uninvolved"].sum())), "-", "-")
    return table
