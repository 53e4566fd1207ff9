"""The calibration workflows behind ``kazsim sensitivity`` and ``kazsim calibrate``.

Each workflow takes the command's options and a ``show`` function for what it reports as it goes (the
command line passes its console's ``print``); the results are files in the output folder.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

from calibration.abc import (
    FREE_PARAMETERS,
    CalibrationError,
    describe_sampler,
    posterior_frame,
    posterior_summary,
    prior_ranges,
)
from calibration.abc import calibrate as run_calibration
from calibration.report import plot_marginals, update_summary
from calibration.sensitivity import choose_free, morris_screen, plot_morris, sobol
from calibration.simulator import CALIBRATION_OVERRIDES, Simulator
from calibration.targets import FULL_YEAR, TargetSet, load_targets, observed_statistics, target_set
from sim.errors import KazsimInputError
from sim.tables import frame_table
from sim.textfiles import safe_repr

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_DB = RESULTS / "calibration.db"
Show = Callable[[object], None]


def free_parameters(text: str | None) -> tuple[str, ...]:
    """The free parameters named in ``--free`` (comma-separated; default: the Morris choice), validated."""
    if text is None:
        return FREE_PARAMETERS
    names = tuple(n.strip() for n in text.split(","))
    if not all(names):
        raise CalibrationError(f"--free {safe_repr(text)}: expected parameter names separated by commas")
    if len(set(names)) != len(names):
        raise CalibrationError(f"--free {safe_repr(text)}: names a parameter more than once")
    try:
        prior_ranges(names)  # validates the names
    except CalibrationError as error:
        raise CalibrationError(f"--free {safe_repr(text)}: {error}") from None
    return names


def observed_targets(targets: Path | None, target_set: TargetSet | None = None) -> dict[str, float]:
    """Observed statistics: from a target file (the target set's names) or the seed incidents."""
    if targets is not None:
        return load_targets(targets, tuple((target_set or FULL_YEAR).targets))
    return observed_statistics()


def shown_path(path: Path) -> str:
    """A path as the summary records it: relative to the working directory when inside it (portable)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _results_for(target_set: TargetSet) -> Path:
    """Default results folder of a fitting window: the full year in results/, others in a subfolder."""
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


def sensitivity_workflow(
    r: int, replicates: int, sobol_n: int, seed: int, workers: int, reuse_morris: bool, out: Path,
    show: Show,
) -> None:
    """Morris screen over every parameter, then Sobol indices of the parameters it keeps."""
    import pandas as pd

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
    show(frame_table(table.head(12)[["rank", "parameter", "score"]].round(3),
                              f"Morris screen ({runs} runs; score = mean over targets of mu*/sd)"))
    show(f"Free parameters (Morris score >= a quarter of the top, 3-8, then the question parameters): "
         f"{', '.join(free)}")
    sobol_runs = 0
    if sobol_n > 0:
        indices, sobol_runs = sobol(free, n=sobol_n, replicates=replicates, seed=seed, workers=workers)
        indices.to_csv(out / "sensitivity_sobol.csv", index=False, float_format="%.4g")
        show(frame_table(indices.round(3), f"Sobol indices ({sobol_runs} runs)"))
    update_summary(out, sensitivity={
        "design": {"morris_r": r, "levels": 4, "replicates": replicates, "seed": seed,
                   "model": "baseline_2011 (people_per_agent=1500), full year", "morris_runs": runs,
                   "sobol_n": sobol_n, "sobol_runs": sobol_runs},
        "free_parameters": free,
        "morris_top": table.head(8)[["rank", "parameter", "score"]].to_dict(orient="records"),
        "seconds": time.perf_counter() - began,
    })


def calibrate_workflow(
    population: int, generations: int, max_walltime: float | None, scheduler: str | None, fit_until: str | None,
    db: Path | None, out: Path | None, targets: Path | None, free: str | None, workers: int, show: Show,
) -> None:
    """ABC-SMC calibration of the free parameters against the target statistics (resumable)."""
    if max_walltime is not None and not (math.isfinite(max_walltime) and max_walltime > 0):
        raise CalibrationError(f"--max-walltime {max_walltime}: expected a positive number of minutes")
    window = target_set(fit_until)
    out = out or _results_for(window)
    db = db or out / "calibration.db"
    observed = observed_targets(targets, window)
    names = free_parameters(free)
    simulator = Simulator(days=window.days, targets=tuple(window.targets))
    run = run_calibration(observed, db, names, population, generations, max_walltime, scheduler, simulator, workers,
                          progress=sys.stderr.isatty(), targets=tuple(window.targets))
    history = run.history
    posterior = posterior_frame(history)
    out.mkdir(parents=True, exist_ok=True)
    posterior.to_csv(out / "posterior.csv", index=False, float_format="%.10g", lineterminator="\n")
    plot_marginals(posterior[["particle", "weight", *sorted(names)]], out / "posterior_marginals.png",
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
        "sims_per_second_this_invocation":
            None if run.resumed else round(history.total_nr_simulations / run.walltime_seconds, 3),
        "time": None if run.resumed else _model_time(history, run.walltime_seconds, workers, scheduler),
        "epsilons": populations["epsilon"].round(4).tolist(),
        "simulations_per_generation": populations["samples"].tolist(),
        "distance": "AdaptivePNormDistance(p=1, mean absolute deviation scales, max weight ratio 20)",
        "sampler": describe_sampler(scheduler, workers),
        "model_configuration": list(CALIBRATION_OVERRIDES), "db": shown_path(db), "run_id": run.run_id,
        "seeds": "each simulation draws its own seed (secrets.randbits(31)), stored with its statistics in the db",
    }, posterior=summary)
    show(f"Fitted to {window.window} ({len(window.targets)} targets). Generations completed: "
                  f"{history.max_t + 1}; simulations: {history.total_nr_simulations}; "
                  f"wall time {run.walltime_seconds:.0f} s")
    for name in names:
        s = summary[name]
        show(f"  {name}: median {s['median']:.4g}, 90 % [{s['q05']:.4g}, {s['q95']:.4g}] "
             f"(prior [{s['prior_low']:g}, {s['prior_high']:g}], posterior/prior width "
             f"{s['interval_share_of_prior']:.2f})")
    show(f"  ... and {len(summary) - len(names)} parameters drawn from their priors in every simulation "
         "(in posterior.csv with the values each particle was simulated with)")
    show(f"Wrote {out / 'posterior.csv'}, {out / 'summary.json'}, {out / 'posterior_marginals.png'}")
