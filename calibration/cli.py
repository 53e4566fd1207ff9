"""``kazsim sensitivity``, ``kazsim calibrate`` and ``kazsim calibrate-check``.

Registered on the main typer app by ``register(app)`` (called at the end of ``sim/cli.py``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sim.scenario import MAX_SEED

if TYPE_CHECKING:
    import pandas as pd

    from calibration.targets import TargetSet

RESULTS = Path(__file__).resolve().parent / "results"
#: Most worker processes a command starts (far more than any one machine's cores).
MAX_WORKERS = 256
DEFAULT_DB = RESULTS / "calibration.db"


def _console():
    from sim.cli import console, error_console

    return console, error_console


def _free(text: str | None) -> tuple[str, ...]:
    from calibration.abc import FREE_PARAMETERS, prior_ranges

    if not text:
        return FREE_PARAMETERS
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    prior_ranges(names)  # validates the names
    return names


def _observed(targets: Path | None, target_set: TargetSet | None = None) -> dict[str, float]:
    """Observed statistics: from a target file (the target set's names) or the seed incidents."""
    from calibration.targets import FULL_YEAR, load_targets, observed_statistics

    if targets is not None:
        return load_targets(targets, tuple((target_set or FULL_YEAR).targets))
    return observed_statistics()


def sensitivity(
    r: Annotated[int, typer.Option(min=1, max=1000, help="Morris trajectories (runs = r x (k + 1) x replicates).")] = 6,
    replicates: Annotated[int, typer.Option(min=1, max=100, help="Seeds per design point (statistics averaged).")] = 2,
    sobol_n: Annotated[int, typer.Option(min=0, max=65536, help="Sobol base sample N on the chosen parameters (0 = skip).")] = 32,
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED, help="Seed of the designs and the model runs.")] = 2011,
    workers: Annotated[int, typer.Option(min=1, max=MAX_WORKERS, help="Local worker processes.")] = 2,
    reuse_morris: Annotated[bool, typer.Option(help="Read the Morris table from --out instead of re-running it.")] = False,
    out: Annotated[Path, typer.Option(help="Folder for the tables and the plot.")] = RESULTS,
) -> None:
    """Morris screen over every parameter, then Sobol indices of the parameters it keeps."""
    import pandas as pd

    from calibration.report import update_summary
    from calibration.sensitivity import choose_free, morris_screen, plot_morris, sobol
    from sim.cli import frame_table
    from sim.errors import KazsimInputError

    console, _ = _console()
    out.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    morris_path = out / "sensitivity_morris.csv"
    if reuse_morris:
        if not morris_path.is_file():
            raise KazsimInputError(f"{morris_path}: no Morris table to reuse")
        table = pd.read_csv(morris_path)
        previous = out / "summary.json"
        runs = (json.loads(previous.read_text()).get("sensitivity", {}).get("design", {}).get("morris_runs", 0)
                if previous.is_file() else 0)
    else:
        result = morris_screen(r=r, replicates=replicates, seed=seed, workers=workers)
        table, runs = result.table, result.runs
        table.to_csv(morris_path, index=False, float_format="%.6g")
    free = choose_free(table)
    plot_morris(table, out / "sensitivity_morris.png", free)
    console.print(frame_table(table.head(12)[["rank", "parameter", "score"]].round(3),
                              f"Morris screen ({runs} runs; score = mean over targets of mu*/sd)"))
    console.print(f"Free parameters (score >= half the top, 3-4): {', '.join(free)}")
    sobol_runs = 0
    if sobol_n > 0:
        indices, sobol_runs = sobol(free, n=sobol_n, replicates=replicates, seed=seed, workers=workers)
        indices.to_csv(out / "sensitivity_sobol.csv", index=False, float_format="%.4g")
        console.print(frame_table(indices.round(3), f"Sobol indices ({sobol_runs} runs)"))
    update_summary(out, sensitivity={
        "design": {"morris_r": r, "levels": 4, "replicates": replicates, "seed": seed,
                   "model": "baseline_2011 (people_per_agent=1500), full year", "morris_runs": runs,
                   "sobol_n": sobol_n, "sobol_runs": sobol_runs},
        "free_parameters": free,
        "morris_top": table.head(8)[["rank", "parameter", "score"]].to_dict(orient="records"),
        "seconds": time.perf_counter() - began,
    })


def _shown(path: Path) -> str:
    """A path as the summary records it: relative to the working directory when inside it (portable)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _results_for(target_set: TargetSet) -> Path:
    """Default results folder of a fitting window: the full year in results/, others in a subfolder."""
    from calibration.targets import FULL_YEAR

    return RESULTS if target_set is FULL_YEAR else RESULTS / "heldout"


def _model_time(history, walltime: float, workers: int, scheduler: str | None) -> dict[str, float] | None:
    """Where the time of a (not resumed) local run went, estimated from the model seconds stored with each
    accepted particle: the model's share of the workers' time, the rest being pyabc, pickling and idling."""
    seconds = [s["model_seconds"] for t in range(int(history.max_t) + 1)
               for s in history.get_weighted_sum_stats(t=t)[1] if "model_seconds" in s]
    if not seconds:
        return None
    per_simulation = float(sum(seconds) / len(seconds))
    out = {"model_seconds_per_simulation_accepted_mean": round(per_simulation, 4)}
    if scheduler is None and walltime > 0:
        model_total = per_simulation * int(history.total_nr_simulations)
        out["model_share_of_worker_time_estimate"] = round(model_total / (walltime * max(workers, 1)), 3)
    return out


def calibrate(
    population: Annotated[int, typer.Option(min=1, max=100_000, help="Particles per generation.")] = 200,
    generations: Annotated[int, typer.Option(min=1, max=1000, help="Generations to run (more generations when resuming).")] = 5,
    max_walltime: Annotated[float | None, typer.Option(help="Stop after this many minutes.")] = None,
    scheduler: Annotated[str | None, typer.Option(
        help="Dask scheduler address (tcp://host:port), or 'local' for a loopback Dask cluster of --workers "
             "processes (default: --workers local processes, no Dask).")] = None,
    fit_until: Annotated[str | None, typer.Option(
        help="Last day of the fitting window: 2011-12-31 (the full year, default) or 2011-09-30 (January-September "
             "only: simulates and fits those months, so calibrate-check scores the October-December forecast out "
             "of sample; --db and --out then default to calibration/results/heldout/).")] = None,
    db: Annotated[Path | None, typer.Option(
        help="pyabc sqlite database; an existing one is resumed (default: calibration.db in the --out folder).")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Folder for posterior.csv, summary.json and plots (default: calibration/results/, or "
             "calibration/results/heldout/ with --fit-until 2011-09-30).")] = None,
    targets: Annotated[Path | None, typer.Option(
        help="JSON file of observed targets for the window's target set (default: seed incidents).")] = None,
    free: Annotated[str | None, typer.Option(help="Comma-separated free parameters (default: the Morris choice).")] = None,
    workers: Annotated[int, typer.Option(min=1, max=MAX_WORKERS, help="Local worker processes, or Dask workers with --scheduler local.")] = 2,
) -> None:
    """ABC-SMC calibration of the free parameters against the target statistics (resumable)."""
    from calibration.abc import CalibrationError, describe_sampler, posterior_frame, posterior_summary
    from calibration.abc import calibrate as run_calibration
    from calibration.report import plot_marginals, update_summary
    from calibration.simulator import CALIBRATION_OVERRIDES, Simulator
    from calibration.targets import target_set

    console, _ = _console()
    if max_walltime is not None and not (math.isfinite(max_walltime) and max_walltime > 0):
        raise CalibrationError(f"--max-walltime {max_walltime}: expected a positive number of minutes")
    window = target_set(fit_until)
    out = out or _results_for(window)
    db = db or out / "calibration.db"
    observed = _observed(targets, window)
    names = _free(free)
    simulator = Simulator(days=window.days, targets=tuple(window.targets))
    run = run_calibration(observed, db, names, population, generations, max_walltime, scheduler, simulator, workers,
                          targets=tuple(window.targets))
    history = run.history
    posterior = posterior_frame(history)
    out.mkdir(parents=True, exist_ok=True)
    posterior.to_csv(out / "posterior.csv", index=False, float_format="%.10g", lineterminator="\n")
    plot_marginals(posterior, out / "posterior_marginals.png",
                   title=f"ABC-SMC posterior marginals, fitted to {window.window} (dotted = 90 % interval)")
    populations = history.get_all_populations()
    populations = populations[populations["t"] >= 0]
    summary = posterior_summary(posterior)
    update_summary(out, target_set=window, observed={k: float(v) for k, v in observed.items()}, calibration={
        "free_parameters": list(names),
        "priors": {n: {"distribution": "uniform", "low": s["prior_low"], "high": s["prior_high"]}
                   for n, s in summary.items()},
        "fit_window": window.window, "target_set": window.name, "simulated_days": window.days,
        "population": population, "generations_completed": int(history.max_t) + 1,
        "total_simulations": int(history.total_nr_simulations),
        "walltime_seconds_this_invocation": round(run.walltime_seconds, 1), "resumed": run.resumed,
        "sims_per_second_this_invocation": None if run.resumed else round(history.total_nr_simulations / run.walltime_seconds, 3),
        "time": None if run.resumed else _model_time(history, run.walltime_seconds, workers, scheduler),
        "epsilons": populations["epsilon"].round(4).tolist(),
        "simulations_per_generation": populations["samples"].tolist(),
        "distance": "AdaptivePNormDistance(p=1, mean absolute deviation scales, max weight ratio 20)",
        "sampler": describe_sampler(scheduler, workers),
        "model_configuration": list(CALIBRATION_OVERRIDES), "db": _shown(db), "run_id": run.run_id,
        "seeds": "each simulation draws its own seed (secrets.randbits(31)), stored with its statistics in the db",
    }, posterior=summary)
    console.print(f"Fitted to {window.window} ({len(window.targets)} targets). Generations completed: "
                  f"{history.max_t + 1}; simulations: {history.total_nr_simulations}; wall time {run.walltime_seconds:.0f} s")
    for name, s in summary.items():
        console.print(f"  {name}: median {s['median']:.4g}, 90 % [{s['q05']:.4g}, {s['q95']:.4g}] "
                      f"(prior [{s['prior_low']:g}, {s['prior_high']:g}])")
    console.print(f"Wrote {out / 'posterior.csv'}, {out / 'summary.json'}, {out / 'posterior_marginals.png'}")


def _window_of(posterior: Path, fit_until: str | None) -> TargetSet:
    """The target set a posterior was fitted to: ``--fit-until`` if given, else the one recorded in the
    summary.json beside it, else the full year. A ``--fit-until`` that contradicts the record is an error."""
    from calibration.abc import CalibrationError
    from calibration.report import read_summary
    from calibration.targets import target_set

    recorded = read_summary(posterior.parent).get("fit_window", {}).get("end") if posterior.is_file() else None
    window = target_set(fit_until or recorded)
    if recorded and window is not target_set(recorded):
        raise CalibrationError(f"--fit-until {fit_until}: {posterior.parent / 'summary.json'} records that "
                               f"{posterior.name} was fitted until {recorded}")
    return window


def _continued(posterior: Path, post: pd.DataFrame, fitted: tuple[str, ...], workers: int) -> pd.DataFrame | None:
    """Continued particles of the run in the pyabc database beside ``posterior`` (None if there is no
    database, or its last generation is not this posterior)."""
    import numpy as np

    from calibration.abc import open_history, posterior_frame
    from calibration.checks import continue_particles

    console, _ = _console()
    db = posterior.parent / "calibration.db"
    if not db.is_file():
        return None
    history = open_history(db)
    stored = posterior_frame(history)
    if list(stored.columns) != list(post.columns) or not np.allclose(stored.to_numpy(), post.to_numpy()):
        console.print(f"{db}: its last generation is not {posterior}; no continued-particle forecast")
        return None
    return continue_particles(history, fitted, workers)


def calibrate_check(
    posterior: Annotated[Path, typer.Option(help="Posterior sample to check.")] = RESULTS / "posterior.csv",
    fit_until: Annotated[str | None, typer.Option(
        help="Last day of the window the posterior was fitted to (default: as recorded in the summary.json beside "
             "it, else 2011-12-31). With 2011-09-30 the October-December scores are out of sample.")] = None,
    targets: Annotated[Path | None, typer.Option(help="JSON file of observed targets (default: seed incidents).")] = None,
    prior_sims: Annotated[int, typer.Option(min=0, max=1_000_000, help="Prior predictive simulations (also the recovery reference table; 0 = skip).")] = 600,
    recovery_truths: Annotated[int, typer.Option(min=1, max=100_000, help="Synthetic data sets for the recovery check.")] = 60,
    ppc_sims: Annotated[int, typer.Option(min=0, max=1_000_000, help="Posterior predictive simulations, full year, fresh seeds (0 = skip).")] = 200,
    scale_runs: Annotated[int, typer.Option(min=0, max=100_000, help="Runs per scale for the 1500-vs-5000 check (0 = skip).")] = 0,
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED, help="Seed of the checks.")] = 2011,
    workers: Annotated[int, typer.Option(min=1, max=MAX_WORKERS, help="Local worker processes.")] = 2,
    out: Annotated[Path | None, typer.Option(
        help="Folder whose summary.json receives the results (default: the posterior's folder).")] = None,
) -> None:
    """Prior predictive check, recovery on synthetic data, posterior predictive check and scores vs baselines.

    The scores compare the posterior's forecast of monthly attacks in October-December with Poisson,
    negative-binomial and Hawkes baselines fitted to January-September: out of sample for a posterior
    fitted until 2011-09-30 (kazsim calibrate --fit-until 2011-09-30), in sample for the full-year one.
    """
    import numpy as np
    import pandas as pd

    from calibration.baselines import (
        fits,
        pmf_from_samples,
        predictive_pmfs,
        score_forecast,
    )
    from calibration.checks import (
        posterior_predictive,
        predictive_table,
        prior_predictive_check,
        recovery,
        reference_table,
        scale_check,
    )
    from calibration.posterior import load_posterior
    from calibration.report import plot_bands, plot_forecasts, update_summary
    from calibration.targets import observed_statistics
    from sim.cli import frame_table

    console, _ = _console()
    window = _window_of(posterior, fit_until)
    out = out or posterior.parent
    observed = _observed(targets, window)
    full_observed = observed_statistics() if targets is None else dict(observed)
    post = load_posterior(posterior) if ppc_sims > 0 else None
    free = [c for c in post.columns if c not in ("particle", "weight")] if post is not None else list(_free(None))
    fitted = tuple(window.targets)
    sections: dict = {}
    show = ["statistic", "observed", "q05", "median", "q95", "inside_90", "p_sim_ge_obs"]
    if scale_runs > 0:
        began = time.perf_counter()
        table = scale_check(scale_runs, seed, workers)
        console.print(frame_table(table.round(3), "Scale check: default parameters, people_per_agent 1500 vs 5000"))
        sections["scale_check"] = {"runs_per_scale": scale_runs, "table": table,
                                   "seconds_per_run": {"1500": table.attrs["seconds_per_run_1500"],
                                                       "5000": table.attrs["seconds_per_run_5000"]},
                                   "seconds": time.perf_counter() - began}
    if prior_sims > 0:
        began = time.perf_counter()
        table = reference_table(free, prior_sims, seed, workers=workers)
        prior = prior_predictive_check(table, full_observed, window)
        console.print(frame_table(prior[show].round(3), f"Prior predictive check ({len(table)} simulations)"))
        in_fit = prior[prior["fitted"]]
        sections["prior_predictive"] = {
            "simulations": len(table), "table": prior,
            "all_targets_inside_range": bool(in_fit["inside_range"].all()),
            "targets_inside_90": int(in_fit["inside_90"].sum()), "targets": len(in_fit),
            "sims_per_second": len(table) / (time.perf_counter() - began),
        }
        rec = recovery(table, free, recovery_truths, seed=seed, targets=fitted)
        console.print(f"Recovery (rejection ABC on the reference table, nearest 5 %, {window.name} targets):")
        for name, r in rec["parameters"].items():
            console.print(f"  {name}: 90 % coverage {r['coverage_90']:.2f}, width ratio {r['identification_ratio']:.2f}, "
                          f"{'identified' if r['identified'] else 'NOT identified'}")
        sections["recovery"] = rec
    model_samples = None
    continued = None
    forecast_months = (10, 11, 12)
    in_sample = window.end >= dt.date(window.end.year, forecast_months[0], 1)
    if post is not None:
        ppc = posterior_predictive(post, ppc_sims, seed + 1, workers=workers)
        table = predictive_table(ppc, full_observed, [*window.targets, *window.held_out], fitted=fitted)
        console.print(frame_table(table[show + ["fitted"]].round(3), f"Posterior predictive check ({len(ppc)} fresh simulations)"))
        sections["posterior_predictive"] = {
            "simulations": len(ppc), "table": table,
            "targets_inside_90": int(table[table["fitted"]]["inside_90"].sum()), "targets": int(table["fitted"].sum()),
            "held_out_inside_90": int(table[~table["fitted"]]["inside_90"].sum()), "held_out": int((~table["fitted"]).sum()),
        }
        plot_bands(ppc, full_observed, out / "predictive_bands.png",
                   f"Posterior predictive ({len(ppc)} runs, posterior fitted to {window.window}) vs observed, 2011",
                   fitted_until_month=window.end.month)
        model_samples = ppc[[f"monthly_attacks_{m:02d}" for m in forecast_months]].to_numpy()
        if not in_sample:
            continued = _continued(posterior, post, fitted, workers)
            if continued is not None:
                sections["continued_particles"] = {
                    "db": _shown(posterior.parent / "calibration.db"), "particles": len(continued),
                    "mismatches": int(continued["mismatch"].sum()),
                    "note": "accepted particles of the last generation re-simulated over the full year with their "
                            "recorded seeds; mismatches = particles whose fitted statistics were not reproduced "
                            "(left out of the forecast)",
                }
                console.print(f"Continued {len(continued)} accepted particles over the full year from their seeds; "
                              f"{int(continued['mismatch'].sum())} did not reproduce their fitted statistics")
    if "monthly_attacks_01" in full_observed:
        attacks = np.array([full_observed[f"monthly_attacks_{m:02d}"] for m in range(1, 13)])
        label = "IN SAMPLE: the posterior was fitted to targets that include Oct-Dec" if in_sample else \
            f"OUT OF SAMPLE: the posterior was fitted to {window.window} only"
        pmfs = predictive_pmfs(attacks, 9, model_samples, seed=seed)
        if continued is not None:
            kept = continued[~continued["mismatch"]]
            columns = [f"monthly_attacks_{m:02d}" for m in forecast_months]
            pmfs["kazsim_continued_particles"] = np.array(
                [pmf_from_samples(kept[c].to_numpy(), weights=kept["weight"].to_numpy()) for c in columns])
        params = fits(attacks[:9], seed=seed)
        scores = {name: {**score_forecast(pmf, attacks[9:]), "fit": params.get(name, {})} for name, pmf in pmfs.items()}
        # the pmfs carry a small pseudo-count over 0..79 that would inflate a mean taken from them
        if model_samples is not None:
            scores["kazsim_posterior"]["predictive_mean"] = np.round(model_samples.mean(axis=0), 3).tolist()
        if continued is not None:
            scores["kazsim_continued_particles"]["predictive_mean"] = np.round(
                np.average(kept[columns].to_numpy(dtype=float), axis=0, weights=kept["weight"]), 3).tolist()
        rows = [{"model": k, "log_score": v["log_score"], "rps": v["rps"], "pit": str(v["pit"]),
                 "predictive_mean": str(v["predictive_mean"])} for k, v in scores.items()]
        console.print(frame_table(pd.DataFrame(rows).round(3),
                                  f"Monthly attacks Oct-Dec, baselines fit Jan-Sep; kazsim {label}. Lower is better"))
        plot_forecasts(pmfs, attacks[9:], ["October", "November", "December"], out / "forecast_oct_dec.png",
                       f"Predictive distributions of monthly attacks, Oct-Dec 2011 (kazsim {'in' if in_sample else 'out of'} sample)")
        sections["scores"] = {
            "observed_oct_dec": attacks[9:].tolist(), "models": scores,
            "kazsim_fit_window": window.window, "kazsim_forecast": "in-sample" if in_sample else "out-of-sample",
            "kazsim_simulations": None if model_samples is None else len(model_samples),
            "note": f"baselines: maximum likelihood on Jan-Sep, plug-in forecasts; kazsim_posterior: {label}; "
                    "it simulates the full year from posterior draws with fresh seeds (conditioned on the "
                    "parameters only)" + ("; kazsim_continued_particles: the accepted particles' own paths, "
                                          "continued past September (weighted)" if continued is not None else ""),
        }
    update_summary(out, target_set=window,
                   checks_settings={"posterior": _shown(posterior), "fit_window": window.window, "prior_sims": prior_sims,
                                    "recovery_truths": recovery_truths, "ppc_sims": ppc_sims, "seed": seed},
                   **sections)
    console.print(f"Wrote {out / 'summary.json'}")


def register(app: typer.Typer) -> None:
    """Add the calibration commands to the kazsim app."""
    from sim.cli import reports_input_errors

    app.command("sensitivity")(reports_input_errors(sensitivity))
    app.command("calibrate")(reports_input_errors(calibrate))
    app.command("calibrate-check")(reports_input_errors(calibrate_check))
