"""Checks of the calibration: scale equivalence, prior predictive, recovery, posterior predictive.

* Scale check: event statistics at the calibration scale (``people_per_agent=5000``) against the
  default scale (1500), same parameters, independent seeds; per statistic the means, a two-sample
  Kolmogorov-Smirnov p-value and a Mann-Whitney p-value.
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
* Posterior predictive: fresh simulations (new seeds) of particles drawn by weight; 90 % interval
  and the tail probability P(sim >= obs) of every target and held-out statistic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from calibration.abc import prior_ranges, weighted_quantile
from calibration.simulator import Simulator, run_many
from calibration.targets import HELD_OUT, TARGETS

FAILED = 1.0e5


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


def predictive_table(frame: pd.DataFrame, observed: dict[str, float], names, weights=None) -> pd.DataFrame:
    """Observed value against the predictive distribution of each statistic."""
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
            "fitted": name in TARGETS,
            "observed": obs,
            "mean": float(np.sum(w * values) / w.sum()),
            "q05": float(np.quantile(values, 0.05)) if weights is None else float(q05),
            "median": float(q50),
            "q95": float(np.quantile(values, 0.95)) if weights is None else float(q95),
            "min": float(values.min()),
            "max": float(values.max()),
            "p_sim_ge_obs": float(np.sum(w * (values >= obs)) / w.sum()),
            "p_sim_le_obs": float(np.sum(w * (values <= obs)) / w.sum()),
        })
    out = pd.DataFrame(rows)
    out["inside_90"] = (out["observed"] >= out["q05"]) & (out["observed"] <= out["q95"])
    out["inside_range"] = (out["observed"] >= out["min"]) & (out["observed"] <= out["max"])
    return out


def prior_predictive_check(table: pd.DataFrame, observed: dict[str, float]) -> pd.DataFrame:
    return predictive_table(table, observed, [*TARGETS, *HELD_OUT])


def _scales(stats: np.ndarray) -> np.ndarray:
    scale = np.mean(np.abs(stats - stats.mean(axis=0)), axis=0)
    scale[scale == 0] = 1.0
    return scale


def rejection_abc(table: pd.DataFrame, observed: dict[str, float], free, accept: float = 0.05,
                  exclude: int | None = None) -> pd.DataFrame:
    """Accepted parameter rows of a reference table (nearest ``accept`` share in scaled L1)."""
    stats = table[list(TARGETS)].to_numpy(dtype=float)
    scale = _scales(stats)
    target = np.array([observed[t] for t in TARGETS], dtype=float)
    distance = np.sum(np.abs(stats - target) / scale, axis=1)
    if exclude is not None:
        distance[exclude] = np.inf
    keep = max(5, int(round(accept * (len(table) - (exclude is not None)))))
    rows = np.argsort(distance)[:keep]
    return table.iloc[rows][list(free)].reset_index(drop=True)


def recovery(table: pd.DataFrame, free, n_truth: int = 50, accept: float = 0.05, seed: int = 7) -> dict:
    """Coverage of 90 % intervals and identification ratio per parameter (see the module docstring)."""
    rng = np.random.default_rng(seed)
    truths = rng.choice(len(table), size=min(n_truth, len(table)), replace=False)
    ranges = prior_ranges(free)
    covered = {p: 0 for p in free}
    widths = {p: [] for p in free}
    errors = {p: [] for p in free}
    for i in truths:
        observed = {t: float(table.iloc[i][t]) for t in TARGETS}
        accepted = rejection_abc(table, observed, free, accept, exclude=int(i))
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
        out[p] = {
            "coverage_90": covered[p] / len(truths),
            "identification_ratio": ratio,
            "rmse_over_prior_sd": float(np.sqrt(np.mean(np.square(errors[p]))) / ((high - low) / np.sqrt(12))),
            "identified": bool(ratio < 0.75),
        }
    return {"n_truth": int(len(truths)), "reference_size": int(len(table)), "accept": accept, "parameters": out}


def posterior_predictive(posterior: pd.DataFrame, n: int, seed: int = 2012, simulator: Simulator | None = None,
                         workers: int = 2) -> pd.DataFrame:
    """Fresh simulations of ``n`` particles drawn by weight (with replacement), new seeds."""
    simulator = simulator or Simulator(held_out=True)
    rng = np.random.default_rng(seed)
    weights = posterior["weight"].to_numpy(dtype=float)
    rows = rng.choice(len(posterior), size=n, replace=True, p=weights / weights.sum())
    names = [c for c in posterior.columns if c not in ("particle", "weight")]
    params = [{c: float(posterior.iloc[r][c]) for c in names} for r in rows]
    seeds = rng.integers(0, 2**31 - 1, size=n).tolist()
    stats = run_many(simulator, params, seeds, workers)
    frame = pd.concat([pd.DataFrame(params), pd.DataFrame(stats)], axis=1)
    return frame[frame["failed"] == 0].reset_index(drop=True)


def scale_check(n: int = 30, seed: int = 99, workers: int = 2) -> pd.DataFrame:
    """Target statistics at people_per_agent 1500 (default) vs 5000 (calibration), default parameters."""
    from scipy import stats as sstats

    rng = np.random.default_rng(seed)
    seeds = rng.integers(0, 2**31 - 1, size=2 * n).tolist()
    fine = run_many(Simulator(overrides=("scale.people_per_agent=1500",), held_out=True), [{}] * n, seeds[:n], workers)
    coarse = run_many(Simulator(held_out=True), [{}] * n, seeds[n:], workers)
    fine, coarse = pd.DataFrame(fine), pd.DataFrame(coarse)
    rows = []
    for name in [*TARGETS, "regions_affected", "incidents_total"]:
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
