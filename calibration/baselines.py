"""Statistical baselines for monthly attack counts, and proper scores for count forecasts.

Three baselines are fitted by maximum likelihood to January-September and forecast
October-December (each month's marginal predictive distribution, made at the end of September,
without updating on October when forecasting November: the same information the calibrated
model's posterior predictive uses):

* Poisson: y_t ~ Poisson(mu).
* Negative binomial: y_t ~ NB(mean m, size r) (variance m + m^2 / r).
* Discrete-time self-exciting (Hawkes) Poisson: y_t ~ Poisson(lambda_t) with
  lambda_t = mu + alpha * sum_{k>=1} gamma^(k-1) y_{t-k}; branching ratio n = alpha / (1 - gamma) < 1.
  Its forecast is by simulation from the fitted parameters given the observed history.

Parameter uncertainty is ignored (plug-in MLE): with 9 months of data this favours the baselines'
sharpness, not their calibration; it is stated in docs/calibration.md.

Scores (all for a predictive pmf p over 0..K and an observed count y):
* log score = -log p(y) (lower is better);
* RPS (ranked probability score, the CRPS of a count distribution) = sum_k (F(k) - 1[y <= k])^2;
* PIT (mid) = F(y - 1) + p(y) / 2 (uniform on average for a calibrated forecaster).
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, special, stats

SUPPORT = 80  # pmfs are on 0..SUPPORT-1


# ---------------------------------------------------------------------------------- fitting
def fit_poisson(y: np.ndarray) -> dict[str, float]:
    y = np.asarray(y, dtype=float)
    return {"mu": float(y.mean())}


def _nb_pmf(k, mean, size):
    return stats.nbinom.pmf(k, size, size / (size + mean))


def fit_negbin(y: np.ndarray) -> dict[str, float]:
    """MLE of mean and size; size is bounded to [0.01, 1e4] (1e4 ~ Poisson)."""
    y = np.asarray(y, dtype=float)
    mean = max(y.mean(), 1e-9)

    def nll(log_size):
        size = np.exp(log_size)
        return -np.sum(stats.nbinom.logpmf(y, size, size / (size + mean)))

    res = optimize.minimize_scalar(nll, bounds=(np.log(0.01), np.log(1e4)), method="bounded")
    return {"mean": float(mean), "size": float(np.exp(res.x))}


def hawkes_intensity(y: np.ndarray, mu: float, alpha: float, gamma: float) -> np.ndarray:
    """lambda_t for t = 0..len(y)-1 (no history before the first month)."""
    from scipy.signal import lfilter

    y = np.asarray(y, dtype=float)
    excitation = lfilter([0.0, 1.0], [1.0, -gamma], y)  # e_t = gamma * e_{t-1} + y_{t-1}
    return mu + alpha * excitation


def hawkes_loglik(y: np.ndarray, mu: float, alpha: float, gamma: float) -> float:
    lam = hawkes_intensity(y, mu, alpha, gamma)
    y = np.asarray(y, dtype=float)
    return float(np.sum(y * np.log(lam) - lam - special.gammaln(y + 1)))


def _hawkes_unpack(theta):
    mu = np.exp(theta[0])
    n = special.expit(theta[1])
    gamma = special.expit(theta[2])
    return mu, n * (1 - gamma), gamma


def fit_hawkes(y: np.ndarray, starts: int = 12, seed: int = 0) -> dict[str, float]:
    """MLE of (mu, alpha, gamma), multistart Nelder-Mead on unconstrained coordinates."""
    y = np.asarray(y, dtype=float)
    rng = np.random.default_rng(seed)
    best = None
    for i in range(starts):
        theta0 = np.array([np.log(max(y.mean(), 0.05)) + rng.normal(0, 0.5), rng.normal(0, 1.5), rng.normal(0, 1.5)])
        if i == 0:
            theta0 = np.array([np.log(max(y.mean(), 0.05)), -2.0, 0.0])
        res = optimize.minimize(lambda th: -hawkes_loglik(y, *_hawkes_unpack(th)), theta0, method="Nelder-Mead",
                                options={"xatol": 1e-6, "fatol": 1e-8, "maxiter": 4000})
        if best is None or res.fun < best.fun:
            best = res
    mu, alpha, gamma = _hawkes_unpack(best.x)
    return {"mu": float(mu), "alpha": float(alpha), "gamma": float(gamma),
            "branching_ratio": float(alpha / (1 - gamma)), "loglik": float(-best.fun)}


def simulate_hawkes(n: int, mu: float, alpha: float, gamma: float, rng: np.random.Generator,
                    history: np.ndarray | None = None, paths: int = 1) -> np.ndarray:
    """``paths`` x ``n`` months continuing ``history`` (default: none)."""
    excitation = np.zeros(paths)
    for value in np.asarray(history if history is not None else [], dtype=float):
        excitation = gamma * excitation + value
    out = np.empty((paths, n), dtype=np.int64)
    for t in range(n):
        out[:, t] = rng.poisson(mu + alpha * excitation)
        excitation = gamma * excitation + out[:, t]
    return out


# ------------------------------------------------------------------------------ forecasts
def pmf_from_samples(samples: np.ndarray, support: int = SUPPORT, weights: np.ndarray | None = None) -> np.ndarray:
    """Empirical pmf on 0..support-1 with a small uniform pseudo-count (no zero probabilities).

    ``weights`` (e.g. ABC particle weights) are rescaled to sum to the number of samples, so the
    pseudo-count weighs the same against weighted and unweighted samples.
    """
    samples = np.clip(np.asarray(samples, dtype=np.int64), 0, support - 1)
    if weights is not None:
        weights = np.asarray(weights, dtype=float)
        weights = weights * len(samples) / weights.sum()
    counts = np.bincount(samples, weights=weights, minlength=support).astype(float)
    counts += 0.5 / support
    return counts / counts.sum()


def forecast_pmfs(train: np.ndarray, horizon: int, seed: int = 0, paths: int = 20000) -> dict[str, np.ndarray]:
    """Each baseline's predictive pmf (horizon x SUPPORT) for the months after ``train``."""
    k = np.arange(SUPPORT)
    pois = fit_poisson(train)
    nb = fit_negbin(train)
    hk = fit_hawkes(train, seed=seed)
    out = {
        "poisson": np.tile(stats.poisson.pmf(k, max(pois["mu"], 1e-9)), (horizon, 1)),
        "negative_binomial": np.tile(_nb_pmf(k, nb["mean"], nb["size"]), (horizon, 1)),
    }
    sims = simulate_hawkes(horizon, hk["mu"], hk["alpha"], hk["gamma"], np.random.default_rng(seed),
                           history=train, paths=paths)
    out["hawkes"] = np.array([pmf_from_samples(sims[:, h]) for h in range(horizon)])
    for name in ("poisson", "negative_binomial"):
        out[name] = out[name] / out[name].sum(axis=1, keepdims=True)
    return out


def fits(train: np.ndarray, seed: int = 0) -> dict[str, dict[str, float]]:
    return {"poisson": fit_poisson(train), "negative_binomial": fit_negbin(train),
            "hawkes": fit_hawkes(train, seed=seed)}


# --------------------------------------------------------------------------------- scores
def log_score(pmf: np.ndarray, y: int) -> float:
    return float(-np.log(max(pmf[int(y)], 1e-300)))


def rps(pmf: np.ndarray, y: int) -> float:
    cdf = np.cumsum(pmf)
    indicator = (np.arange(len(pmf)) >= int(y)).astype(float)
    return float(np.sum((cdf - indicator) ** 2))


def pit_mid(pmf: np.ndarray, y: int) -> float:
    cdf = np.cumsum(pmf)
    below = cdf[int(y) - 1] if y > 0 else 0.0
    return float(below + 0.5 * pmf[int(y)])


def interval_90(pmf: np.ndarray) -> tuple[int, int]:
    """Central 90 % predictive interval of a count pmf: the 5 % and 95 % quantiles."""
    cdf = np.cumsum(pmf) / np.sum(pmf)
    return int(np.searchsorted(cdf, 0.05)), int(np.searchsorted(cdf, 0.95))


def score_forecast(pmfs: np.ndarray, observed: np.ndarray) -> dict[str, object]:
    """Mean log score and RPS over the forecast months; each month's PIT and central 90 % interval."""
    observed = np.asarray(observed, dtype=int)
    intervals = [interval_90(p) for p in pmfs]
    return {
        "interval_90": [list(i) for i in intervals],
        "interval_90_width_mean": float(np.mean([hi - lo for lo, hi in intervals])),
        "inside_90": [bool(lo <= y <= hi) for (lo, hi), y in zip(intervals, observed, strict=True)],
        "log_score": float(np.mean([log_score(p, y) for p, y in zip(pmfs, observed, strict=True)])),
        "rps": float(np.mean([rps(p, y) for p, y in zip(pmfs, observed, strict=True)])),
        "pit": [round(pit_mid(p, y), 4) for p, y in zip(pmfs, observed, strict=True)],
        "predictive_mean": [round(float(np.sum(np.arange(len(p)) * p)), 3) for p in pmfs],
    }


def predictive_pmfs(monthly_attacks: np.ndarray, train_months: int = 9, model_samples: np.ndarray | None = None,
                    seed: int = 0) -> dict[str, np.ndarray]:
    """Each baseline's predictive pmf (held-out months x SUPPORT) after fitting on the first
    ``train_months``, and the model's (``kazsim_posterior``) from its predictive samples, shape
    draws x held-out months."""
    y = np.asarray(monthly_attacks, dtype=int)
    horizon = len(y) - train_months
    pmfs = forecast_pmfs(y[:train_months], horizon, seed=seed)
    if model_samples is not None:
        pmfs["kazsim_posterior"] = np.array([pmf_from_samples(model_samples[:, h]) for h in range(horizon)])
    return pmfs


def score_all(monthly_attacks: np.ndarray, train_months: int = 9, model_samples: np.ndarray | None = None,
              seed: int = 0) -> dict[str, dict]:
    """Fit on the first ``train_months``, score every baseline (and the model's predictive samples,
    shape draws x held-out months) on the rest."""
    y = np.asarray(monthly_attacks, dtype=int)
    pmfs = predictive_pmfs(y, train_months, model_samples, seed=seed)
    params = fits(y[:train_months], seed=seed)
    out = {}
    for name, pmf in pmfs.items():
        out[name] = score_forecast(pmf, y[train_months:])
        out[name]["fit"] = params.get(name, {})
    return out
