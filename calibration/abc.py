"""ABC-SMC calibration with pyabc 0.13.

Priors are uniform on the registry's plausible ranges (``sim.parameters``), which pyabc samples in unit
coordinates (``RV("uniform", 0, 1)``, mapped to the range by :class:`OnUnitScale`). The distance is an
adaptive weighted L1 norm (``AdaptivePNormDistance(p=1)``, scales = mean absolute deviation of each statistic over the
generation's plausible simulations, weight ratio capped at 20): the statistics are counts of very
different spread (deaths are heavy-tailed), and fixed weights would let deaths dominate. A failed or
implausible run is at a distance no epsilon reaches; epsilon is the median over plausible runs.

Runs are stored in an sqlite database; ``calibrate`` on an existing database continues its last
run from the last completed generation (``ABCSMC.load``), so an interrupted calibration resumes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from calibration.simulator import FAILED_VALUE, Simulator
from sim.cluster import dask_client
from sim.errors import KazsimInputError
from sim.parameters import BY_NAME, PARAMETERS
from sim.posterior import parameter_names, prior_draw

#: free parameters: the choice of ``calibration.sensitivity.choose_free`` from the shipped Morris screen over the
#: whole registry (calibration/results/sensitivity_morris.csv; a test keeps them equal): its top 8, then the
#: strengths of the mechanisms the counterfactual questions turn on. Every other parameter is drawn from its
#: prior in every simulation (calibration.simulator), so the posterior integrates over it.
FREE_PARAMETERS: tuple[str, ...] = (
    "activation_threshold", "legitimacy", "recruitment_rate", "police_per_agent_equivalent", "patrol_unit_size",
    "attack_rate", "cell_formation_rate", "deterrence", "law_hardship_effect", "law_legitimacy_effect",
    "trigger_strength", "contagion_jump_local", "legitimacy_gap_west",
)
MAX_SCALE_WEIGHT_RATIO = 20.0
#: bandwidth of pyabc's multivariate normal transition, times Silverman's. With 13 parameters on bounded
#: priors, Silverman's bandwidth (scaling 1) concentrates the proposals so much that the importance weights
#: degenerate: for a posterior equal to the prior, 1,000 particles have an effective sample size of 30 at
#: scaling 1 and 550 at scaling 2 (measured; see docs/calibration.md).
TRANSITION_SCALING = 2.0


class CalibrationError(KazsimInputError):
    """A calibration that cannot be set up as asked (bad parameter names, unusable database)."""


def prior_ranges(free: tuple[str, ...] | list[str]) -> dict[str, tuple[float, float]]:
    """The plausible range of each free parameter (the uniform prior)."""
    out = {}
    for name in free:
        if name not in BY_NAME:
            raise CalibrationError(f"unknown parameter {name!r} (see sim/parameters.py)")
        out[name] = tuple(float(v) for v in BY_NAME[name].plausible)
    return out


def make_prior(free):
    """pyabc prior: independent uniforms on the plausible ranges, in unit coordinates (see :class:`OnUnitScale`)."""
    import pyabc

    return pyabc.Distribution(**{name: pyabc.RV("uniform", 0.0, 1.0) for name in prior_ranges(free)})


def from_unit(params: dict[str, float]) -> dict[str, float]:
    """Registry values of parameters given in unit coordinates u: low + u (high - low) of the plausible range."""
    ranges = prior_ranges(list(params))
    return {name: ranges[name][0] + float(u) * (ranges[name][1] - ranges[name][0]) for name, u in params.items()}


class OnUnitScale:
    """The simulator as pyabc sees it: every free parameter on [0, 1], mapped to its plausible range.

    The plausible ranges span 1e-8 (``cell_formation_rate``) to 2,000 (``patrol_unit_size``). pyabc's
    multivariate normal transition estimates one covariance matrix over all parameters, and its density
    treats eigenvalues below about 1e-6 of the largest as zero, which on the registry's scales left 25 of
    1,000 particles carrying the importance weights. On unit coordinates the covariance is well conditioned.
    The database stores unit coordinates; :func:`particles` and :func:`posterior_frame` map them back.
    """

    def __init__(self, simulator) -> None:
        self.simulator = simulator

    def __call__(self, params) -> dict[str, float]:
        return self.simulator(from_unit(dict(params)))


def scale_ignoring_failures(*, samples: np.ndarray, **kwargs) -> np.ndarray:
    """Mean absolute deviation of each statistic over the runs that did not fail (1 where it is undefined or 0).

    A failed or implausible run (``calibration.simulator.FAILED_VALUE``) is rejected by its huge
    distance; left in the scale, the many such runs of the prior would swamp every statistic's spread.
    A statistic that does not vary among the valid runs (or a sample with no valid run) gets scale 1,
    its natural unit (counts of events or people), rather than an infinite weight.
    """
    from pyabc.distance.scale import mean_absolute_deviation

    masked = np.where(np.asarray(samples, dtype=float) >= FAILED_VALUE, np.nan, samples)
    valid = ~np.all(np.isnan(masked), axis=0)
    scale = np.ones(masked.shape[1])
    if valid.any():
        scale[valid] = mean_absolute_deviation(samples=masked[:, valid])
    scale[~np.isfinite(scale) | (scale <= 0)] = 1.0
    return scale


#: distance of a failed or implausible run: always above any epsilon, and left out of the epsilon's quantile.
FAILED_DISTANCE = 1.0e12


def make_distance():
    """Adaptive L1 distance over the target statistics (extra keys such as ``seed`` are ignored); a failed
    or implausible run (statistic ``failed`` > 0) is at ``FAILED_DISTANCE``."""
    import pyabc

    class Distance(pyabc.AdaptivePNormDistance):
        def __call__(self, x: dict, x_0: dict, t: int | None = None, par: dict | None = None) -> float:
            if x.get("failed", 0.0) > 0:
                return FAILED_DISTANCE
            return super().__call__(x, x_0, t, par)

    return Distance(p=1, scale_function=scale_ignoring_failures, max_scale_weight_ratio=MAX_SCALE_WEIGHT_RATIO)


def make_epsilon():
    """pyabc's median epsilon over the runs that did not fail.

    Under the prior many runs are implausible (``calibration.simulator``); were they counted, the first
    generation's median could be a failed run's distance and would accept failures.
    """
    import pyabc

    class MedianOfPlausible(pyabc.MedianEpsilon):
        def _update(self, t, weighted_distances):
            plausible = weighted_distances[weighted_distances["distance"] < FAILED_DISTANCE]
            super()._update(t, plausible if len(plausible) else weighted_distances)

    return MedianOfPlausible()


def describe_sampler(scheduler: str | None, n_procs: int) -> str:
    """How ``open_sampler`` runs the simulations, for the summary."""
    if scheduler == "local":
        return f"DaskDistributedSampler(loopback LocalCluster, {n_procs} worker processes)"
    if scheduler:
        return f"DaskDistributedSampler({scheduler})"
    return "SingleCoreSampler()" if n_procs <= 1 else f"MulticoreEvalParallelSampler(n_procs={n_procs})"


@contextmanager
def open_sampler(scheduler: str | None = None, n_procs: int = 2, progress: bool = True) -> Iterator[object]:
    """A pyabc sampler, closed (with any cluster it started) on exit.

    Args:
        scheduler: ``None`` for ``n_procs`` local processes (``MulticoreEvalParallelSampler``, or
            ``SingleCoreSampler`` for 1); ``"local"`` for ``DaskDistributedSampler`` on a loopback
            ``LocalCluster`` of ``n_procs`` single-threaded worker processes; otherwise the address
            of a running Dask scheduler.
        n_procs: local processes, or workers of the loopback cluster.
        progress: show pyabc's progress bar (local samplers only).
    """
    import pyabc

    if not scheduler:
        if n_procs <= 1:
            sampler = pyabc.sampler.SingleCoreSampler()
        else:
            sampler = pyabc.sampler.MulticoreEvalParallelSampler(n_procs=n_procs)
        sampler.show_progress = progress
        yield sampler
        return
    with dask_client(scheduler, n_procs, CalibrationError) as client:
        yield pyabc.sampler.DaskDistributedSampler(client)


@dataclass
class CalibrationRun:
    """What ``calibrate`` returns."""

    history: object
    db: Path
    run_id: int
    walltime_seconds: float
    resumed: bool
    total_simulations: int


def _quiet_pyabc() -> None:
    for name in ("ABC", "Sampler", "Distance", "Epsilon", "Acceptor", "pyabc"):
        logging.getLogger(name).setLevel(logging.WARNING)
        logging.getLogger(f"ABC.{name}").setLevel(logging.WARNING)


def calibrate(
    observed: dict[str, float],
    db: Path,
    free: tuple[str, ...] | list[str] = FREE_PARAMETERS,
    population: int = 200,
    generations: int = 5,
    max_walltime_minutes: float | None = None,
    scheduler: str | None = None,
    simulator: Simulator | None = None,
    n_procs: int = 2,
    progress: bool = True,
    quiet: bool = True,
    targets: tuple[str, ...] | list[str] | None = None,
) -> CalibrationRun:
    """Run (or resume) ABC-SMC.

    A new database starts a new run; an existing one is resumed: its last run continues for
    ``generations`` more generations from the last completed one.

    Args:
        targets: the fitted statistics (default: the simulator's ``targets``); the simulator must
            return them over the same window as ``observed``.
    """
    if quiet:
        _quiet_pyabc()
    simulator = simulator or Simulator()
    names = tuple(targets) if targets is not None else tuple(simulator.targets)
    missing = [k for k in names if k not in observed]
    if missing:
        raise CalibrationError(f"observed data lack the target statistics {missing}")
    db = Path(db)
    observed = {k: float(observed[k]) for k in names}
    with open_sampler(scheduler, n_procs, progress) as sampler:
        return _calibrate(observed, db, free, population, generations, max_walltime_minutes, simulator, sampler)


def _calibrate(observed, db, free, population, generations, max_walltime_minutes, simulator, sampler):
    import pyabc

    abc = pyabc.ABCSMC(OnUnitScale(simulator), make_prior(free), make_distance(), population_size=int(population),
                       sampler=sampler, eps=make_epsilon(),
                       transitions=pyabc.MultivariateNormalTransition(scaling=TRANSITION_SCALING))
    url = "sqlite:///" + str(db.resolve())
    resumed = db.exists() and db.stat().st_size > 0
    if resumed:
        run_id = latest_run_id(db)
        history = abc.load(url, run_id)
        if history.max_t < 0:
            raise CalibrationError(f"{db}: its run has no completed generation to resume from; delete it to start over")
        if set(history.get_distribution(m=0, t=history.max_t)[0].columns) != set(free):
            raise CalibrationError(f"{db}: its run calibrates other parameters than {sorted(free)}")
        stored = {k: float(v) for k, v in history.observed_sum_stat().items()}
        if stored != observed:
            raise CalibrationError(f"{db}: its run was fitted to other target statistics or values "
                                   f"({sorted(stored)}) than asked ({sorted(observed)}); use another --db")
    else:
        db.parent.mkdir(parents=True, exist_ok=True)
        history = abc.new(url, observed)
        run_id = history.id
    began = time.perf_counter()
    walltime = timedelta(minutes=max_walltime_minutes) if max_walltime_minutes else None
    history = abc.run(max_nr_populations=int(generations), max_walltime=walltime)
    return CalibrationRun(history, db, run_id, time.perf_counter() - began, resumed,
                          int(history.total_nr_simulations))


def latest_run_id(db: Path) -> int:
    """Id of the most recent run stored in a pyabc database."""
    import sqlite3

    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            row = con.execute("SELECT max(id) FROM abc_smc").fetchone()
    except sqlite3.DatabaseError as error:
        raise CalibrationError(f"{db}: not a pyabc database ({error})") from None
    if not row or row[0] is None:
        raise CalibrationError(f"{db}: holds no calibration run")
    return int(row[0])


def open_history(db: Path | str, run_id: int | None = None):
    """The pyabc History of a stored run (default: the latest)."""
    import pyabc

    db = Path(db)
    if not db.is_file():
        raise CalibrationError(f"{db}: calibration database not found")
    run_id = latest_run_id(db) if run_id is None else run_id
    return pyabc.History("sqlite:///" + str(db.resolve()), _id=run_id)


def posterior_frame(history, t: int | None = None, marginalised: bool = True) -> pd.DataFrame:
    """Weighted particles of generation ``t`` (default: last) as ``particle, weight, <parameters>``.

    The calibrated parameters come first (sorted); with ``marginalised`` every other registry
    parameter follows, with the value the particle's own simulation drew for it from its prior
    (``sim.posterior.prior_draw`` of the seed stored with the particle's statistics). So the file is
    a sample of the joint posterior of all parameters, which batches draw whole.
    """
    t = history.max_t if t is None else t
    rows = particles(history, t)
    weights = np.array([row["weight"] for row in rows], dtype=float)
    free = sorted(rows[0]["parameters"]) if rows else []
    out = pd.DataFrame({"particle": np.arange(len(rows)), "weight": weights / weights.sum()})
    for name in free:
        out[name] = [float(row["parameters"][name]) for row in rows]
    if marginalised and rows:
        others = [p.name for p in PARAMETERS if p.name not in free]
        drawn = [prior_draw(int(row["statistics"]["seed"]), others) for row in rows]
        for name in others:
            out[name] = [values[name] for values in drawn]
    return out


def particles(history, t: int | None = None) -> list[dict]:
    """Accepted particles of generation ``t``: parameters, weight, statistics (with the seed), distance."""
    t = history.max_t if t is None else t
    population = history.get_population(t=t)
    out = []
    for particle in population.particles:
        out.append(
            {
                "parameters": from_unit({k: float(v) for k, v in dict(particle.parameter).items()}),
                "weight": float(particle.weight),
                "statistics": {k: float(v) for k, v in dict(particle.sum_stat).items()},
                "distance": float(particle.distance),
            }
        )
    return out


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q) -> np.ndarray:
    """Quantiles of a weighted sample (inverse of the weighted empirical CDF, midpoint rule)."""
    order = np.argsort(values)
    values, weights = np.asarray(values)[order], np.asarray(weights)[order]
    cdf = (np.cumsum(weights) - 0.5 * weights) / weights.sum()
    return np.interp(q, cdf, values)


def posterior_summary(frame: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Weighted mean, sd, median and 90 % interval of each parameter column."""
    weights = frame["weight"].to_numpy()
    out = {}
    for column in parameter_names(frame):
        values = frame[column].to_numpy()
        mean = float(np.sum(weights * values))
        q05, q50, q95 = weighted_quantile(values, weights, [0.05, 0.5, 0.95])
        low, high = BY_NAME[column].plausible
        out[column] = {
            "mean": mean,
            "sd": float(np.sqrt(np.sum(weights * (values - mean) ** 2))),
            "median": float(q50),
            "q05": float(q05),
            "q95": float(q95),
            "prior_low": float(low),
            "prior_high": float(high),
            "interval_share_of_prior": float((q95 - q05) / (0.9 * (high - low))),
        }
    return out
