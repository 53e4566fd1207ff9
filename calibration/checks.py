"""Checks of the calibration: scale equivalence, prior predictive, recovery, posterior predictive.

* Scale check: event statistics at a coarse scale (``people_per_agent=5000``) against the default
  scale the calibration runs at (1500), same parameters, independent seeds; per statistic the
  means, a two-sample Kolmogorov-Smirnov p-value and a Mann-Whitney p-value.
* Prior predictive: a reference table of simulations with parameters drawn from the prior; the
  observed value of each statistic should fall inside the prior predictive range (and ideally its
  central 90 %).
* Recovery: each of ``n_truth`` rows of the reference table is taken as synthetic data from known
  parameters and re-estimated by rejection ABC on the rest of the table (the same adaptive-L1
  distance, scaled by the table's mean absolute deviations, accepting the nearest ``accept``
  share). Reported: 90 % credible interval coverage per parameter (nominal 0.90), and the
  identification ratio = mean posterior 90 % width / prior 90 % width (1 = nothing learned).
  Rejection ABC on a reference table is a cheaper stand-in for re-running ABC-SMC per synthetic
  data set; it is said so in the docs.
* Posterior predictive: fresh simulations (new seeds) of particles drawn by weight; 90 % interval,
  the tail probability P(sim >= obs) and the mid-p value P(sim > obs) + P(sim = obs) / 2 of every
  target and held-out statistic (a count's mid-p is uniform under a calibrated model; it must lie in
  [0.05, 0.95]).
* Identifiability: per parameter, the posterior's 90 % width over the prior's, recovery coverage and
  bias, and a verdict (identified, weakly, not; or propagated for a parameter drawn from its prior).
* Continued particles (for a fit to less than the full year): every accepted particle of the last
  generation re-simulated over the full year with its recorded seed. The model only draws random
  numbers as the days pass, so such a run repeats the accepted path up to the end of the fitting
  window exactly (checked: ``mismatches``) and then continues it: a forecast conditioned on
  simulated paths that matched the fitted months, where fresh seeds condition on the parameters only.

Every check takes the target set the posterior was fitted to (``calibration.targets.TargetSet``);
the simulations always cover the full year, and the statistics of a shorter fitting window are
computed from the same runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from calibration.abc import particles, prior_ranges, weighted_quantile
from calibration.simulator import Simulator, run_many
from calibration.targets import FULL_YEAR, TARGETS, TargetSet
from sim.posterior import parameter_names, sample_rows

FAILED = 1.0e5
#: the posterior predictive mid-p value P(sim > obs) + P(sim = obs) / 2 of every statistic must lie in here.
MID_P_LOW, MID_P_HIGH = 0.05, 0.95
#: recovery verdicts: identified when synthetic truths are recovered with a posterior 90 % interval at most
#: half the prior's and nominal coverage (at least 0.8); weakly when the interval is at most 0.85 of the prior's;
#: otherwise the fitting statistics do not inform the parameter.
IDENTIFIED_RATIO, WEAKLY_RATIO, MIN_COVERAGE = 0.5, 0.85, 0.8


def _uniform_draws(free, n: int, rng: np.random.Generator) -> list[dict[str, float]]:
    ranges = prior_ranges(free)
    return [{name: float(rng.uniform(low, high)) for name, (low, high) in ranges.items()} for _ in range(n)]


def reference_table(free, n: int, seed: int = 2011, simulator: Simulator | None = None,
                    workers: int = 2) -> pd.DataFrame:
    """``n`` prior draws of the free parameters and their simulated statistics (targets and held-out)."""
    simulator = simulator or Simulator(held_out=True)
    rng = np.random.default_rng(seed)
    params = _uniform_draws(free, n, rng)
    seeds = rng.integers(0, 2**31 - 1, size=n).tolist()
    stats = run_many(simulator, params, seeds, workers)
    frame = pd.concat([pd.DataFrame(params), pd.DataFrame(stats)], axis=1)
    return frame[frame["failed"] == 0].reset_index(drop=True)


def predictive_table(frame: pd.DataFrame, observed: dict[str, float], names: list[str] | tuple[str, ...],
                     weights: np.ndarray | None = None,
                     fitted: list[str] | tuple[str, ...] = tuple(TARGETS)) -> pd.DataFrame:
    """Observed value against the predictive distribution of each statistic (``fitted``: the fitted names)."""
    rows = []
    for name in names:
        if name not in frame or name not in observed:
            continue
        values = frame[name].to_numpy(dtype=float)
        w = np.ones(len(values)) / len(values) if weights is None else np.asarray(weights, dtype=float)
        q05, q50, q95 = weighted_quantile(values, w, [0.05, 0.5, 0.95])
        obs = float(observed[name])
        rows.append({
            "statistic": name,
            "fitted": name in fitted,
            "observed": obs,
            "mean": float(np.sum(w * values) / w.sum()),
            "q05": float(np.quantile(values, 0.05)) if weights is None else float(q05),
            "median": float(q50),
            "q95": float(np.quantile(values, 0.95)) if weights is None else float(q95),
            "min": float(values.min()),
            "max": float(values.max()),
            "p_sim_ge_obs": float(np.sum(w * (values >= obs)) / w.sum()),
            "p_sim_le_obs": float(np.sum(w * (values <= obs)) / w.sum()),
            "mid_p": float((np.sum(w * (values > obs)) + 0.5 * np.sum(w * (values == obs))) / w.sum()),
        })
    out = pd.DataFrame(rows)
    out["inside_90"] = (out["observed"] >= out["q05"]) & (out["observed"] <= out["q95"])
    out["inside_range"] = (out["observed"] >= out["min"]) & (out["observed"] <= out["max"])
    out["mid_p_ok"] = out["mid_p"].between(MID_P_LOW, MID_P_HIGH)
    return out


def prior_predictive_check(table: pd.DataFrame, observed: dict[str, float],
                           target_set: TargetSet = FULL_YEAR) -> pd.DataFrame:
    """Observed targets and held-out statistics against the prior predictive (the reference table)."""
    return predictive_table(table, observed, [*target_set.targets, *target_set.held_out],
                            fitted=tuple(target_set.targets))


def _scales(stats: np.ndarray) -> np.ndarray:
    scale = np.mean(np.abs(stats - stats.mean(axis=0)), axis=0)
    scale[scale == 0] = 1.0
    return scale


def rejection_abc(table: pd.DataFrame, observed: dict[str, float], free: list[str] | tuple[str, ...],
                  accept: float = 0.05, exclude: int | None = None,
                  targets: list[str] | tuple[str, ...] = tuple(TARGETS)) -> pd.DataFrame:
    """Accepted parameter rows of a reference table (nearest ``accept`` share in scaled L1 over ``targets``)."""
    stats = table[list(targets)].to_numpy(dtype=float)
    scale = _scales(stats)
    target = np.array([observed[t] for t in targets], dtype=float)
    distance = np.sum(np.abs(stats - target) / scale, axis=1)
    if exclude is not None:
        distance[exclude] = np.inf
    keep = max(5, int(round(accept * (len(table) - (exclude is not None)))))
    rows = np.argsort(distance)[:keep]
    return table.iloc[rows][list(free)].reset_index(drop=True)


def recovery(table: pd.DataFrame, free: list[str] | tuple[str, ...], n_truth: int = 50, accept: float = 0.05,
             seed: int = 7, targets: list[str] | tuple[str, ...] = tuple(TARGETS)) -> dict:
    """Coverage of 90 % intervals and identification ratio per parameter (see the module docstring)."""
    rng = np.random.default_rng(seed)
    truths = rng.choice(len(table), size=min(n_truth, len(table)), replace=False)
    ranges = prior_ranges(free)
    covered = dict.fromkeys(free, 0)
    widths = {p: [] for p in free}
    errors = {p: [] for p in free}
    for i in truths:
        observed = {t: float(table.iloc[i][t]) for t in targets}
        accepted = rejection_abc(table, observed, free, accept, exclude=int(i), targets=targets)
        for p in free:
            lo, hi = np.quantile(accepted[p], [0.05, 0.95])
            truth = float(table.iloc[i][p])
            covered[p] += int(lo <= truth <= hi)
            widths[p].append(hi - lo)
            errors[p].append(float(np.median(accepted[p])) - truth)
    out = {}
    for p in free:
        low, high = ranges[p]
        ratio = float(np.mean(widths[p]) / (0.9 * (high - low)))
        prior_sd = (high - low) / np.sqrt(12)
        coverage = covered[p] / len(truths)
        out[p] = {
            "coverage_90": coverage,
            "identification_ratio": ratio,
            "bias_over_prior_sd": float(np.mean(errors[p]) / prior_sd),
            "rmse_over_prior_sd": float(np.sqrt(np.mean(np.square(errors[p]))) / prior_sd),
            "verdict": verdict(ratio, coverage),
            "identified": verdict(ratio, coverage) == "identified",
        }
    return {"n_truth": len(truths), "reference_size": len(table), "accept": accept, "parameters": out}


def verdict(width_ratio: float, coverage: float) -> str:
    """``identified``, ``weakly`` or ``not`` from recovery's width ratio and coverage (see the thresholds)."""
    if width_ratio <= IDENTIFIED_RATIO and coverage >= MIN_COVERAGE:
        return "identified"
    if width_ratio <= WEAKLY_RATIO:
        return "weakly"
    return "not"


def identifiability(posterior_summary: dict[str, dict[str, float]], recovered: dict | None) -> pd.DataFrame:
    """Per parameter: prior and posterior 90 % widths and their ratio, recovery coverage and bias, verdict.

    Args:
        posterior_summary: ``calibration.abc.posterior_summary`` of the posterior (every parameter).
        recovered: ``recovery``'s ``parameters`` (the calibrated ones), or None when recovery was not run.
    The verdict of a calibrated parameter is recovery's (what the fitting statistics can tell apart on
    synthetic data); a parameter that was not calibrated is ``propagated`` (drawn from its prior).
    """
    rows = []
    for name, summary in posterior_summary.items():
        prior_width = 0.9 * (summary["prior_high"] - summary["prior_low"])
        r = (recovered or {}).get(name)
        rows.append({
            "parameter": name,
            "calibrated": r is not None,
            "prior_90_width": prior_width,
            "posterior_90_width": summary["q95"] - summary["q05"],
            "posterior_over_prior": summary["interval_share_of_prior"],
            "posterior_median": summary["median"],
            "recovery_coverage_90": np.nan if r is None else r["coverage_90"],
            "recovery_width_ratio": np.nan if r is None else r["identification_ratio"],
            "recovery_bias_over_prior_sd": np.nan if r is None else r["bias_over_prior_sd"],
            "verdict": "propagated" if r is None else r["verdict"],
        })
    return pd.DataFrame(rows)


def posterior_predictive(posterior: pd.DataFrame, n: int, seed: int = 2012, simulator: Simulator | None = None,
                         workers: int = 2) -> pd.DataFrame:
    """Fresh simulations of ``n`` particles drawn by weight (with replacement), new seeds."""
    simulator = simulator or Simulator(held_out=True)
    rng = np.random.default_rng(seed)
    rows = sample_rows(posterior, n, rng)
    names = parameter_names(posterior)
    params = [{c: float(posterior.iloc[r][c]) for c in names} for r in rows]
    seeds = rng.integers(0, 2**31 - 1, size=n).tolist()
    stats = run_many(simulator, params, seeds, workers)
    frame = pd.concat([pd.DataFrame(params), pd.DataFrame(stats)], axis=1)
    return frame[frame["failed"] == 0].reset_index(drop=True)


def continue_particles(history, targets: list[str] | tuple[str, ...], workers: int = 2,
                       simulator: Simulator | None = None) -> pd.DataFrame:
    """Full-year re-runs of the last generation's accepted particles with their recorded seeds.

    Returns:
        One row per particle: its parameters, ``weight`` (normalised), every statistic of the full
        year, and ``mismatch`` (True where a fitted statistic differs from the stored one).
    """
    # Not constrained: the accepted paths passed the constraint in the fitting window, and rejecting a
    # continuation for its later scale would condition the forecast on what happened after it.
    simulator = simulator or Simulator(held_out=True, constrain=False)
    accepted = particles(history)
    params = [p["parameters"] for p in accepted]
    seeds = [int(p["statistics"]["seed"]) for p in accepted]
    stats = run_many(simulator, params, seeds, workers)
    frame = pd.concat([pd.DataFrame(params), pd.DataFrame(stats)], axis=1)
    weights = np.array([p["weight"] for p in accepted], dtype=float)
    frame["weight"] = weights / weights.sum()
    frame["mismatch"] = [
        bool(s["failed"]) or any(s[k] != p["statistics"][k] for k in targets)
        for s, p in zip(stats, accepted, strict=True)
    ]
    return frame


def scale_check(n: int = 30, seed: int = 99, workers: int = 2) -> pd.DataFrame:
    """Target statistics at people_per_agent 1500 (default, the calibration's) vs 5000, default parameters."""
    from scipy import stats as sstats

    rng = np.random.default_rng(seed)
    seeds = rng.integers(0, 2**31 - 1, size=2 * n).tolist()
    fine = run_many(Simulator(overrides=("scale.people_per_agent=1500",), held_out=True), [{}] * n, seeds[:n], workers)
    coarse_simulator = Simulator(overrides=("scale.people_per_agent=5000",), held_out=True)
    coarse = run_many(coarse_simulator, [{}] * n, seeds[n:], workers)
    fine, coarse = pd.DataFrame(fine), pd.DataFrame(coarse)
    rows = []
    for name in [*TARGETS, "regions_affected", "incidents_total"]:  # the full-year statistics
        a, b = fine[name].to_numpy(), coarse[name].to_numpy()
        rows.append({
            "statistic": name, "mean_1500": float(a.mean()), "mean_5000": float(b.mean()),
            "sd_1500": float(a.std(ddof=1)), "sd_5000": float(b.std(ddof=1)),
            "ks_p": float(sstats.ks_2samp(a, b).pvalue) if np.any(a != b) else 1.0,
            "mannwhitney_p": float(sstats.mannwhitneyu(a, b).pvalue) if np.any(a != b) else 1.0,
        })
    out = pd.DataFrame(rows)
    out.attrs["seconds_per_run_1500"] = float(fine["model_seconds"].mean())
    out.attrs["seconds_per_run_5000"] = float(coarse["model_seconds"].mean())
    return out
