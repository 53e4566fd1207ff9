"""The model as calibration sees it: parameters in, summary statistics (and the seed used) out.

The simulator draws its own seed (pyabc's parallel samplers re-seed workers from OS entropy, so
a run is otherwise not reproducible) and returns it with the statistics under ``"seed"``: any
particle can be re-simulated exactly with ``Simulator.run(params, seed)``. It never raises: a
failed run returns ``FAILED`` statistics, which every distance rejects.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from calibration.targets import FITTED_NAMES, TARGETS, statistics
from sim.parameters import BY_NAME

#: configuration overrides for calibration runs. None: calibration runs the model at the scale the
#: scenarios use, because a cheaper scale (5,000 people per group) was measured to roughly double
#: deaths while saving only ~20 % of the time (docs/calibration.md, scale check).
CALIBRATION_OVERRIDES: tuple[str, ...] = ()
FAILED_VALUE = 1.0e6

#: validated base scenarios and region lists by (scenario, overrides), per process: a Dask worker
#: unpickles a fresh Simulator for every simulation and would otherwise reload them each time.
_BASES: dict[tuple[str, tuple[str, ...]], tuple[dict[str, Any], list[str]]] = {}


def _regions() -> list[str]:
    from sim.data import SEEDS_DIR, ObservedData

    return list(ObservedData(SEEDS_DIR).regions["region"])


def _failed(seed: int) -> dict[str, float]:
    stats = dict.fromkeys(FITTED_NAMES, FAILED_VALUE)
    stats.update(seed=float(seed), failed=1.0)
    return stats


@dataclass
class Simulator:
    """Callable for pyabc: ``Simulator(...)(params) -> dict`` of statistics plus ``seed``.

    Args:
        scenario: the base scenario (name in ``scenarios/`` or a path).
        overrides: ``key=value`` overrides applied to it (the cheap calibration configuration).
        days: simulated days from 1 January (None: the scenario's period).
        fixed: parameter values set in every run (e.g. the non-free parameters at other values).
        targets: the fitted statistics returned when ``held_out`` is false (a target set's names).
        held_out: return every statistic (all target sets, held-out ones, monthly series) instead.
        seed: if given, run seeds are drawn from ``numpy.random.default_rng(seed)`` instead of OS
            entropy: reproducible in one process (tests); do not use with parallel samplers, whose
            forked workers would share the stream.
    """

    scenario: str = "baseline_2011"
    overrides: tuple[str, ...] = CALIBRATION_OVERRIDES
    days: int | None = None
    fixed: dict[str, float] = field(default_factory=dict)
    targets: tuple[str, ...] = tuple(TARGETS)
    held_out: bool = False
    seed: int | None = None
    model_seconds: float = 0.0
    calls: int = 0
    _base: dict[str, Any] | None = field(default=None, repr=False)
    _regions: list[str] | None = field(default=None, repr=False)
    _rng: object | None = field(default=None, repr=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_base"] = None
        state["_regions"] = None
        return state

    def base(self) -> dict[str, Any]:
        """The base scenario as a dict (loaded once per process)."""
        if self._base is None:
            key = (self.scenario, tuple(self.overrides))
            if key not in _BASES:
                from sim.scenario import load_scenario

                _BASES[key] = (load_scenario(self.scenario, list(self.overrides)).model_dump(), _regions())
            self._base, self._regions = _BASES[key]
        return self._base

    def period(self) -> tuple[dt.date, dt.date]:
        base = self.base()
        start = base["period"]["start"]
        end = base["period"]["end"] if self.days is None else start + dt.timedelta(days=self.days - 1)
        return start, end

    def scenario_for(self, params: dict[str, float]):
        """The validated scenario with ``params`` (and ``fixed``) replacing the parameter values."""
        from sim.scenario import build_scenario

        data = dict(self.base())
        values = dict(data["parameters"])
        for name, value in {**self.fixed, **params}.items():
            if name not in BY_NAME:
                raise KeyError(f"unknown parameter {name!r}")
            values[name] = int(round(float(value))) if BY_NAME[name].integer else float(value)
        data["parameters"] = values
        return build_scenario(data, f"calibration:{self.scenario}")

    def run(self, params: dict[str, float], seed: int) -> dict[str, float]:
        """Simulate once with a given seed and return the statistics (raises on model errors)."""
        from sim.run import simulate

        scenario = self.scenario_for(params)
        start, end = self.period()
        result = simulate(scenario, seed=seed, days=(end - start).days + 1)
        stats = statistics(result.events, self._regions, start, end, held_out=self.held_out)
        if not self.held_out:
            stats = {name: stats[name] for name in self.targets}  # the db stores what is returned
        stats["seed"] = float(seed)
        return stats

    def __call__(self, params: dict[str, float]) -> dict[str, float]:
        if self.seed is None:
            seed = secrets.randbits(31)
        else:
            if self._rng is None:
                import numpy as np

                self._rng = np.random.default_rng(self.seed)
            seed = int(self._rng.integers(0, 2**31 - 1))
        began = time.perf_counter()
        try:
            stats = self.run({k: float(v) for k, v in dict(params).items()}, seed)
            stats["failed"] = 0.0
        except Exception:
            traceback.print_exc()
            stats = _failed(seed)
        self.model_seconds += time.perf_counter() - began
        self.calls += 1
        stats["model_seconds"] = time.perf_counter() - began
        return stats


def _run_one(args: tuple[Simulator, dict[str, float], int]) -> dict[str, float]:
    simulator, params, seed = args
    began = time.perf_counter()
    try:
        stats = simulator.run(params, seed)
        stats["failed"] = 0.0
    except Exception:
        traceback.print_exc()
        stats = _failed(seed)
    stats["model_seconds"] = time.perf_counter() - began
    return stats


def run_many(
    simulator: Simulator, params: list[dict[str, float]], seeds: list[int], workers: int = 2
) -> list[dict[str, float]]:
    """Simulate each (params, seed) pair, in order, on up to ``workers`` local processes (at most 2 here)."""
    jobs = [(simulator, p, int(s)) for p, s in zip(params, seeds, strict=True)]
    if workers <= 1 or len(jobs) < 2:
        return [_run_one(job) for job in jobs]
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork")) as pool:
        return list(pool.map(_run_one, jobs, chunksize=4))
