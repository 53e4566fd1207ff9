"""The calibration checks behind ``kazsim calibrate-check``: prior and posterior predictive checks,
recovery on synthetic data, and scores of the October-December forecast against simple baselines."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import numpy as np
import pandas as pd

from calibration.abc import FREE_PARAMETERS, CalibrationError, open_history, posterior_frame, posterior_summary
from calibration.baselines import fits, pmf_from_samples, predictive_pmfs, score_forecast
from calibration.checks import (
    continue_particles,
    identifiability,
    posterior_predictive,
    predictive_table,
    prior_predictive_check,
    recovery,
    reference_table,
    scale_check,
)
from calibration.report import plot_bands, plot_forecasts, read_summary, update_summary
from calibration.targets import TargetSet, observed_statistics, target_set
from calibration.workflows import Show, free_parameters, observed_targets, shown_path
from sim.posterior import load_posterior, parameter_names
from sim.tables import frame_table


def _window_of(posterior: Path, fit_until: str | None) -> TargetSet:
    """The target set a posterior was fitted to: ``--fit-until`` if given, else the one recorded in the
    summary.json beside it, else the full year. A ``--fit-until`` that contradicts the record is an error."""
    recorded = read_summary(posterior.parent).get("fit_window", {}).get("end") if posterior.is_file() else None
    window = target_set(fit_until or recorded)
    if recorded and window is not target_set(recorded):
        raise CalibrationError(f"--fit-until {fit_until}: {posterior.parent / 'summary.json'} records that "
                               f"{posterior.name} was fitted until {recorded}")
    return window


def _calibrated(posterior: Path, post: pd.DataFrame | None) -> list[str]:
    """The parameters the posterior calibrated (as its summary.json records; the rest were drawn from priors)."""
    recorded = read_summary(posterior.parent).get("calibration", {}).get("free_parameters") \
        if posterior.is_file() else None
    names = parameter_names(post) if post is not None else list(FREE_PARAMETERS)
    if recorded:
        return [n for n in recorded if n in names]
    return [n for n in names if n in FREE_PARAMETERS] or names


def _continued(posterior: Path, post: pd.DataFrame, fitted: tuple[str, ...], workers: int,
               show: Show) -> pd.DataFrame | None:
    """Continued particles of the run in the pyabc database beside ``posterior`` (None if there is no
    database, or its last generation is not this posterior)."""
    db = posterior.parent / "calibration.db"
    if not db.is_file():
        return None
    history = open_history(db)
    stored = posterior_frame(history)
    if list(stored.columns) != list(post.columns) or not np.allclose(stored.to_numpy(), post.to_numpy()):
        show(f"{db}: its last generation is not {posterior}; no continued-particle forecast")
        return None
    return continue_particles(history, fitted, workers)


def check_workflow(
    posterior: Path, fit_until: str | None, targets: Path | None, prior_sims: int, recovery_truths: int,
    ppc_sims: int, scale_runs: int, seed: int, workers: int, out: Path | None, show: Show,
) -> None:
    """Prior predictive check, recovery on synthetic data, posterior predictive check and scores vs baselines.

    The scores compare the posterior's forecast of monthly attacks in October-December with Poisson,
    negative-binomial and Hawkes baselines fitted to January-September: out of sample for a posterior
    fitted until 2011-09-30 (kazsim calibrate --fit-until 2011-09-30), in sample for the full-year one.
    """
    window = _window_of(posterior, fit_until)
    out = out or posterior.parent
    observed = observed_targets(targets, window)
    full_observed = observed_statistics() if targets is None else dict(observed)
    post = load_posterior(posterior) if ppc_sims > 0 else None
    free = _calibrated(posterior, post) if post is not None else list(free_parameters(None))
    if out.exists() and not out.is_dir():
        raise CalibrationError(f"--out {out}: is a file; expected a folder for summary.json and the plots")
    try:  # before the simulations: an --out that cannot be made fails at once
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CalibrationError(f"--out {out}: cannot be made ({error.strerror or error})") from None
    fitted = tuple(window.targets)
    sections: dict = {}
    shown_columns = ["statistic", "observed", "q05", "median", "q95", "inside_90", "mid_p"]
    if scale_runs > 0:
        began = time.perf_counter()
        table = scale_check(scale_runs, seed, workers)
        show(frame_table(table.round(3), "Scale check: default parameters, people_per_agent 1500 vs 5000"))
        sections["scale_check"] = {"runs_per_scale": scale_runs, "table": table,
                                   "seconds_per_run": {"1500": table.attrs["seconds_per_run_1500"],
                                                       "5000": table.attrs["seconds_per_run_5000"]},
                                   "seconds": time.perf_counter() - began}
    if prior_sims > 0:
        began = time.perf_counter()
        table = reference_table(free, prior_sims, seed, workers=workers, window=window)
        if table.empty:
            raise CalibrationError(f"--prior-sims {prior_sims}: every prior simulation fell outside the plausible "
                                   "support, leaving nothing to check; give more")
        prior = prior_predictive_check(table, full_observed, window)
        show(frame_table(prior[shown_columns].round(3), f"Prior predictive check ({len(table)} simulations)"))
        in_fit = prior[prior["fitted"]]
        sections["prior_predictive"] = {
            "simulations": len(table), "outside_support": table.attrs["dropped"], "table": prior,
            "all_targets_inside_range": bool(in_fit["inside_range"].all()),
            "targets_inside_90": int(in_fit["inside_90"].sum()), "targets": len(in_fit),
            "sims_per_second": len(table) / (time.perf_counter() - began),
        }
        rec = recovery(table, free, recovery_truths, seed=seed, targets=fitted)
        show(f"Recovery (rejection ABC on the reference table, nearest 5 %, {window.name} targets):")
        for name, r in rec["parameters"].items():
            show(f"  {name}: 90 % coverage {r['coverage_90']:.2f}, width ratio {r['identification_ratio']:.2f}, "
                 f"bias {r['bias_over_prior_sd']:+.2f} prior sd: {r['verdict']}")
        sections["recovery"] = rec
    if post is not None:
        recovered = sections.get("recovery", read_summary(out).get("recovery", {})).get("parameters")
        table = identifiability(posterior_summary(post), recovered)
        shown = table[table["calibrated"]] if table["calibrated"].any() else table
        short = {"prior_90_width": "prior 90%", "posterior_90_width": "post. 90%", "posterior_over_prior": "post/prior",
                 "posterior_median": "median", "recovery_coverage_90": "rec. cover", "recovery_width_ratio":
                 "rec. width", "recovery_bias_over_prior_sd": "rec. bias"}
        show(frame_table(shown.drop(columns=["calibrated"]).rename(columns=short).round(3),
                         "Identifiability (calibrated parameters; recovery on synthetic data from the prior)"))
        sections["identifiability"] = {
            "table": table,
            "verdicts": table.groupby("verdict")["parameter"].apply(list).to_dict(),
            "rule": "recovery width ratio <= 0.5 with coverage >= 0.8: identified; <= 0.85: weakly; else not; "
                    "parameters not calibrated are propagated from their priors",
        }
    model_samples = None
    continued = None
    forecast_months = (10, 11, 12)
    in_sample = window.end >= dt.date(window.end.year, forecast_months[0], 1)
    if post is not None:
        ppc = posterior_predictive(post, ppc_sims, seed + 1, workers=workers, window=window)
        table = predictive_table(ppc, full_observed, [*window.targets, *window.held_out], fitted=fitted)
        show(frame_table(table[[*shown_columns, "fitted"]].round(3),
                         f"Posterior predictive check ({len(ppc)} fresh simulations)"))
        outside = table[~table["mid_p_ok"]]["statistic"].tolist()
        show(f"Mid-p values outside [0.05, 0.95]: {', '.join(outside) if outside else 'none'}")
        sections["posterior_predictive"] = {
            "simulations": len(ppc), "outside_support": ppc.attrs["dropped"],
            "constrained_until": window.end.isoformat(), "table": table,
            "mid_p": dict(zip(table["statistic"], table["mid_p"].round(4), strict=True)),
            "mid_p_outside_0.05_0.95": outside,
            "targets_inside_90": int(table[table["fitted"]]["inside_90"].sum()), "targets": int(table["fitted"].sum()),
            "held_out_inside_90": int(table[~table["fitted"]]["inside_90"].sum()),
            "held_out": int((~table["fitted"]).sum()),
        }
        plot_bands(ppc, full_observed, out / "predictive_bands.png",
                   f"Posterior predictive ({len(ppc)} runs, posterior fitted to {window.window}) vs observed, 2011",
                   fitted_until_month=window.end.month)
        model_samples = ppc[[f"monthly_attacks_{m:02d}" for m in forecast_months]].to_numpy()
        if not in_sample:
            continued = _continued(posterior, post, fitted, workers, show)
            if continued is not None:
                sections["continued_particles"] = {
                    "db": shown_path(posterior.parent / "calibration.db"), "particles": len(continued),
                    "mismatches": int(continued["mismatch"].sum()),
                    "note": "accepted particles of the last generation re-simulated over the full year with their "
                            "recorded seeds; mismatches = particles whose fitted statistics were not reproduced "
                            "(left out of the forecast)",
                }
                show(f"Continued {len(continued)} accepted particles over the full year from their seeds; "
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
                 "interval_90": str(v["interval_90"]), "predictive_mean": str(v["predictive_mean"])}
                for k, v in scores.items()]
        show(frame_table(pd.DataFrame(rows).round(3),
                                  f"Monthly attacks Oct-Dec, baselines fit Jan-Sep; kazsim {label}. Lower is better"))
        plot_forecasts(pmfs, attacks[9:], ["October", "November", "December"], out / "forecast_oct_dec.png",
                       "Predictive distributions of monthly attacks, Oct-Dec 2011 "
                       f"(kazsim {'in' if in_sample else 'out of'} sample)")
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
                   checks_settings={"posterior": shown_path(posterior), "fit_window": window.window,
                                    "prior_sims": prior_sims,
                                    "recovery_truths": recovery_truths, "ppc_sims": ppc_sims, "seed": seed},
                   **sections)
    show(f"Wrote {out / 'summary.json'}")
