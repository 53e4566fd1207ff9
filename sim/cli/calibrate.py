"""``kazsim sensitivity``, ``kazsim calibrate`` and ``kazsim calibrate-check``: options and help for the
calibration workflows (``calibration.workflows``, ``calibration.check_workflow``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from calibration.check_workflow import check_workflow
from calibration.workflows import RESULTS, calibrate_workflow, sensitivity_workflow
from sim.cli.common import MAX_WORKERS, console, reports_input_errors
from sim.scenario import MAX_SEED

Workers = Annotated[int, typer.Option(min=1, max=MAX_WORKERS, help="Local worker processes.")]
Seed = Annotated[int, typer.Option(min=0, max=MAX_SEED, help="Seed of the designs, checks and model runs.")]


@reports_input_errors
def sensitivity(
    r: Annotated[int, typer.Option(min=1, max=1000, help="Morris trajectories (runs = r x (k + 1) x replicates).")] = 6,
    replicates: Annotated[int, typer.Option(min=1, max=100, help="Seeds per design point (statistics averaged).")] = 2,
    sobol_n: Annotated[
        int, typer.Option(min=0, max=65536, help="Sobol base sample N on the chosen parameters (0 = skip).")
    ] = 32,
    seed: Seed = 2011,
    workers: Workers = 2,
    reuse_morris: Annotated[
        bool, typer.Option(help="Read the Morris table from --out instead of re-running it.")
    ] = False,
    out: Annotated[Path, typer.Option(help="Folder for the tables and the plot.")] = RESULTS,
) -> None:
    """Morris screen over every parameter, then Sobol indices of the parameters it keeps."""
    sensitivity_workflow(r=r, replicates=replicates, sobol_n=sobol_n, seed=seed, workers=workers,
                         reuse_morris=reuse_morris, out=out, show=console.print)


@reports_input_errors
def calibrate(
    population: Annotated[int, typer.Option(min=1, max=100_000, help="Particles per generation.")] = 200,
    generations: Annotated[
        int, typer.Option(min=1, max=1000, help="Generations to run (more generations when resuming).")
    ] = 5,
    max_walltime: Annotated[float | None, typer.Option(help="Stop after this many minutes.")] = None,
    scheduler: Annotated[str | None, typer.Option(
        help="Dask scheduler address (tcp://host:port), or 'local' for a loopback Dask cluster of --workers "
             "processes (default: --workers local processes, no Dask).")] = None,
    fit_until: Annotated[str | None, typer.Option(
        help="Last day of the fitting window: 2011-12-31 (the full year, default) or 2011-09-30 (January-September "
             "only: simulates and fits those months, so calibrate-check scores the October-December forecast out "
             "of sample; --db and --out then default to calibration/results/heldout/).")] = None,
    db: Annotated[Path | None, typer.Option(
        help="pyabc sqlite database; an existing one is resumed (default: calibration.db in the --out folder).",
    )] = None,
    out: Annotated[Path | None, typer.Option(
        help="Folder for posterior.csv, summary.json and plots (default: calibration/results/, or "
             "calibration/results/heldout/ with --fit-until 2011-09-30).")] = None,
    targets: Annotated[Path | None, typer.Option(
        help="JSON file of observed targets for the window's target set (default: seed incidents).")] = None,
    free: Annotated[
        str | None, typer.Option(help="Comma-separated free parameters (default: the Morris choice).")
    ] = None,
    workers: Annotated[int, typer.Option(
        min=1, max=MAX_WORKERS, help="Local worker processes, or Dask workers with --scheduler local.")] = 2,
) -> None:
    """ABC-SMC calibration of the free parameters against the target statistics (resumable)."""
    calibrate_workflow(population=population, generations=generations, max_walltime=max_walltime,
                       scheduler=scheduler, fit_until=fit_until, db=db, out=out, targets=targets, free=free,
                       workers=workers, show=console.print)


@reports_input_errors
def calibrate_check(
    posterior: Annotated[Path, typer.Option(help="Posterior sample to check.")] = RESULTS / "posterior.csv",
    fit_until: Annotated[str | None, typer.Option(
        help="Last day of the window the posterior was fitted to (default: as recorded in the summary.json beside "
             "it, else 2011-12-31). With 2011-09-30 the October-December scores are out of sample.")] = None,
    targets: Annotated[
        Path | None, typer.Option(help="JSON file of observed targets (default: seed incidents).")
    ] = None,
    prior_sims: Annotated[int, typer.Option(
        min=0, max=1_000_000, help="Prior predictive simulations (also the recovery reference table; 0 = skip).",
    )] = 600,
    recovery_truths: Annotated[
        int, typer.Option(min=1, max=100_000, help="Synthetic data sets for the recovery check.")
    ] = 60,
    ppc_sims: Annotated[int, typer.Option(
        min=0, max=1_000_000, help="Posterior predictive simulations, full year, fresh seeds (0 = skip).")] = 200,
    scale_runs: Annotated[
        int, typer.Option(min=0, max=100_000, help="Runs per scale for the 1500-vs-5000 check (0 = skip).")
    ] = 0,
    seed: Seed = 2011,
    workers: Workers = 2,
    out: Annotated[Path | None, typer.Option(
        help="Folder whose summary.json receives the results (default: the posterior's folder).")] = None,
) -> None:
    """Prior predictive check, recovery on synthetic data, posterior predictive check and scores vs baselines.

    The scores compare the posterior's forecast of monthly attacks in October-December with Poisson,
    negative-binomial and Hawkes baselines fitted to January-September: out of sample for a posterior
    fitted until 2011-09-30 (kazsim calibrate --fit-until 2011-09-30), in sample for the full-year one.
    """
    check_workflow(posterior=posterior, fit_until=fit_until, targets=targets, prior_sims=prior_sims,
                   recovery_truths=recovery_truths, ppc_sims=ppc_sims, scale_runs=scale_runs, seed=seed,
                   workers=workers, out=out, show=console.print)
