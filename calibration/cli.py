"""``kazsim sensitivity``, ``kazsim calibrate`` and ``kazsim calibrate-check``.

Registered on the main typer app by ``register(app)`` (called at the end of ``sim/cli.py``).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

RESULTS = Path(__file__).resolve().parent / "results"
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


def _observed(targets: Path | None) -> dict[str, float]:
    from calibration.targets import load_targets, observed_statistics

    return load_targets(targets) if targets is not None else observed_statistics()


def sensitivity(
    r: Annotated[int, typer.Option(help="Morris trajectories (runs = r x (k + 1) x replicates).")] = 6,
    replicates: Annotated[int, typer.Option(help="Seeds per design point (statistics averaged).")] = 2,
    sobol_n: Annotated[int, typer.Option(help="Sobol base sample N on the chosen parameters (0 = skip).")] = 32,
    seed: Annotated[int, typer.Option(help="Seed of the designs and the model runs.")] = 2011,
    workers: Annotated[int, typer.Option(help="Local worker processes.")] = 2,
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
                   "model": "people_per_agent=5000, full year", "morris_runs": runs,
                   "sobol_n": sobol_n, "sobol_runs": sobol_runs},
        "free_parameters": free,
        "morris_top": table.head(8)[["rank", "parameter", "score"]].to_dict(orient="records"),
        "seconds": time.perf_counter() - began,
    })


def calibrate(
    population: Annotated[int, typer.Option(help="Particles per generation.")] = 200,
    generations: Annotated[int, typer.Option(help="Generations to run (more generations when resuming).")] = 5,
    max_walltime: Annotated[float | None, typer.Option(help="Stop after this many minutes.")] = None,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address (default: 2 local processes).")] = None,
    db: Annotated[Path, typer.Option(help="pyabc sqlite database; an existing one is resumed.")] = DEFAULT_DB,
    out: Annotated[Path, typer.Option(help="Folder for posterior.csv, summary.json and plots.")] = RESULTS,
    targets: Annotated[Path | None, typer.Option(help="JSON file of observed targets (default: seed incidents).")] = None,
    free: Annotated[str | None, typer.Option(help="Comma-separated free parameters (default: the Morris choice).")] = None,
    workers: Annotated[int, typer.Option(help="Local worker processes.")] = 2,
) -> None:
    """ABC-SMC calibration of the free parameters against the target statistics (resumable)."""
    from calibration.abc import calibrate as run_calibration
    from calibration.abc import posterior_frame, posterior_summary
    from calibration.report import plot_marginals, update_summary
    from calibration.simulator import CALIBRATION_OVERRIDES, Simulator

    console, _ = _console()
    observed = _observed(targets)
    names = _free(free)
    simulator = Simulator()
    run = run_calibration(observed, db, names, population, generations, max_walltime, scheduler, simulator, workers)
    history = run.history
    posterior = posterior_frame(history)
    out.mkdir(parents=True, exist_ok=True)
    posterior.to_csv(out / "posterior.csv", index=False, float_format="%.10g", lineterminator="\n")
    plot_marginals(posterior, out / "posterior_marginals.png")
    populations = history.get_all_populations()
    populations = populations[populations["t"] >= 0]
    summary = posterior_summary(posterior)
    update_summary(out, observed={k: float(v) for k, v in observed.items()}, calibration={
        "free_parameters": list(names),
        "priors": {n: {"distribution": "uniform", "low": s["prior_low"], "high": s["prior_high"]}
                   for n, s in summary.items()},
        "population": population, "generations_completed": int(history.max_t) + 1,
        "total_simulations": int(history.total_nr_simulations),
        "walltime_seconds_this_invocation": round(run.walltime_seconds, 1), "resumed": run.resumed,
        "sims_per_second_this_invocation": None if run.resumed else round(history.total_nr_simulations / run.walltime_seconds, 3),
        "epsilons": populations["epsilon"].round(4).tolist(),
        "simulations_per_generation": populations["samples"].tolist(),
        "distance": "AdaptivePNormDistance(p=1, mean absolute deviation scales, max weight ratio 20)",
        "sampler": f"DaskDistributedSampler({scheduler})" if scheduler else f"MulticoreEvalParallelSampler(n_procs={workers})",
        "model_configuration": list(CALIBRATION_OVERRIDES), "db": str(db), "run_id": run.run_id,
        "seeds": "each simulation draws its own seed (secrets.randbits(31)), stored with its statistics in the db",
    }, posterior=summary)
    console.print(f"Generations completed: {history.max_t + 1}; simulations: {history.total_nr_simulations}; "
                  f"wall time {run.walltime_seconds:.0f} s")
    for name, s in summary.items():
        console.print(f"  {name}: median {s['median']:.4g}, 90 % [{s['q05']:.4g}, {s['q95']:.4g}] "
                      f"(prior [{s['prior_low']:g}, {s['prior_high']:g}])")
    console.print(f"Wrote {out / 'posterior.csv'}, {out / 'summary.json'}, {out / 'posterior_marginals.png'}")


def calibrate_check(
    posterior: Annotated[Path, typer.Option(help="Posterior sample to check.")] = RESULTS / "posterior.csv",
    targets: Annotated[Path | None, typer.Option(help="JSON file of observed targets (default: seed incidents).")] = None,
    prior_sims: Annotated[int, typer.Option(help="Prior predictive simulations (also the recovery reference table; 0 = skip).")] = 600,
    recovery_truths: Annotated[int, typer.Option(help="Synthetic data sets for the recovery check.")] = 60,
    ppc_sims: Annotated[int, typer.Option(help="Posterior predictive simulations (0 = skip).")] = 200,
    scale_runs: Annotated[int, typer.Option(help="Runs per scale for the 1500-vs-5000 check (0 = skip).")] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the checks.")] = 2011,
    workers: Annotated[int, typer.Option(help="Local worker processes.")] = 2,
    out: Annotated[Path, typer.Option(help="Folder whose summary.json receives the results.")] = RESULTS,
) -> None:
    """Prior predictive check, recovery on synthetic data, posterior predictive check and scores vs baselines."""
    import numpy as np

    from calibration.baselines import score_all
    from calibration.checks import (
        posterior_predictive,
        predictive_table,
        prior_predictive_check,
        recovery,
        reference_table,
        scale_check,
    )
    from calibration.posterior import load_posterior
    from calibration.report import plot_bands, update_summary
    from calibration.targets import HELD_OUT, TARGETS, observed_statistics
    from sim.cli import frame_table

    console, _ = _console()
    observed = _observed(targets)
    full_observed = observed_statistics() if targets is None else dict(observed)
    post = load_posterior(posterior) if ppc_sims > 0 else None
    free = [c for c in post.columns if c not in ("particle", "weight")] if post is not None else list(_free(None))
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
        prior = prior_predictive_check(table, full_observed)
        console.print(frame_table(prior[show].round(3), f"Prior predictive check ({len(table)} simulations)"))
        fitted = prior[prior["fitted"]]
        sections["prior_predictive"] = {
            "simulations": int(len(table)), "table": prior,
            "all_targets_inside_range": bool(fitted["inside_range"].all()),
            "targets_inside_90": int(fitted["inside_90"].sum()), "targets": int(len(fitted)),
            "sims_per_second": len(table) / (time.perf_counter() - began),
        }
        rec = recovery(table, free, recovery_truths, seed=seed)
        console.print("Recovery (rejection ABC on the reference table, nearest 5 %):")
        for name, r in rec["parameters"].items():
            console.print(f"  {name}: 90 % coverage {r['coverage_90']:.2f}, width ratio {r['identification_ratio']:.2f}, "
                          f"{'identified' if r['identified'] else 'NOT identified'}")
        sections["recovery"] = rec
    model_samples = None
    if post is not None:
        ppc = posterior_predictive(post, ppc_sims, seed + 1, workers=workers)
        weights = None
        table = predictive_table(ppc, full_observed, [*TARGETS, *HELD_OUT], weights)
        console.print(frame_table(table[show + ["fitted"]].round(3), f"Posterior predictive check ({len(ppc)} fresh simulations)"))
        sections["posterior_predictive"] = {
            "simulations": int(len(ppc)), "table": table,
            "targets_inside_90": int(table[table["fitted"]]["inside_90"].sum()), "targets": int(table["fitted"].sum()),
            "held_out_inside_90": int(table[~table["fitted"]]["inside_90"].sum()), "held_out": int((~table["fitted"]).sum()),
        }
        plot_bands(ppc, full_observed, out / "predictive_bands.png",
                   f"Posterior predictive ({len(ppc)} runs) vs observed seed incidents, 2011")
        model_samples = ppc[[f"monthly_attacks_{m:02d}" for m in (10, 11, 12)]].to_numpy()
    if "monthly_attacks_01" in full_observed:
        attacks = np.array([full_observed[f"monthly_attacks_{m:02d}"] for m in range(1, 13)])
        scores = score_all(attacks, 9, model_samples, seed=seed)
        rows = [{"model": k, "log_score": v["log_score"], "rps": v["rps"], "pit": str(v["pit"]),
                 "predictive_mean": str(v["predictive_mean"])} for k, v in scores.items()]
        import pandas as pd

        console.print(frame_table(pd.DataFrame(rows).round(3),
                                  "Monthly attacks Oct-Dec (fit Jan-Sep): log score and RPS, lower is better"))
        sections["scores"] = {"observed_oct_dec": attacks[9:].tolist(), "models": scores,
                              "note": "kazsim_posterior was fitted to full-year targets that include Oct-Dec; "
                                      "it is not a true out-of-sample forecast"}
    update_summary(out, checks_settings={"posterior": str(posterior), "prior_sims": prior_sims,
                                         "recovery_truths": recovery_truths, "ppc_sims": ppc_sims, "seed": seed},
                   **sections)
    console.print(f"Wrote {out / 'summary.json'}")


def register(app: typer.Typer) -> None:
    """Add the calibration commands to the kazsim app."""
    from sim.cli import reports_input_errors

    app.command("sensitivity")(reports_input_errors(sensitivity))
    app.command("calibrate")(reports_input_errors(calibrate))
    app.command("calibrate-check")(reports_input_errors(calibrate_check))
