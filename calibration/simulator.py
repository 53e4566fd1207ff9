"""The model as calibration sees it: parameters in, pattern statistics (and the seed used) out.

The free parameters come from the sampler; every other registry parameter is drawn from its prior
for the run's seed (``sim.posterior.prior_draw``), so the posterior integrates over what the record
does not inform instead of fixing it at a default. A run whose latent scale is implausible (open
support for militancy outside ``sim.posterior``'s plausible share of the population at mid-period or
at the end) returns rejectable statistics: that is a constraint of the prior, documented in
docs/calibration.md.

The simulator draws its own seed (pyabc's parallel samplers re-seed workers from OS entropy, so a run
is otherwise not reproducible) and returns it with the statistics under ``"seed"``: any particle can
be re-simulated exactly with ``Simulator.run(params, seed)``. It never raises: a failed run returns
``FAILED`` statistics, which every distance rejects.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from calibration.targets import FITTED_NAMES, TARGETS, statistics
from sim.data import SEEDS_DIR, ObservedData
from sim.mesa_adapter import release_agents
from sim.parameters import BY_NAME, PARAMETERS
from sim.posterior import plausible_support, prior_draw
from sim.processes import process_map
from sim.run import advance, build_model, collector_paused
from sim.scenario import build_scenario, load_scenario

#: configuration overrides for calibration runs: none, calibration runs the scale the scenarios use.
CALIBRATION_OVERRIDES: tuple[str, ...] = ()
FAILED_VALUE = 1.0e6

#: validated base scenarios and region lists by (scenario, overrides), per process: a Dask worker
#: unpickles a fresh Simulator for every simulation and would otherwise reload them each time.
_BASES: dict[tuple[str, tuple[str, ...]], tuple[dict[str, Any], list[str]]] = {}


def _failed(seed: int, reason: float = 1.0, names: tuple[str, ...] = FITTED_NAMES) -> dict[str, float]:
    stats = dict.fromkeys(names, FAILED_VALUE)
    stats.update(seed=float(seed), failed=reason)
    return stats


@dataclass
class Simulator:
    """Callable for pyabc: ``Simulator(...)(params) -> dict`` of statistics plus ``seed``.

    Args:
        scenario: the base scenario (name in ``scenarios/`` or a path).
        overrides: ``key=value`` overrides applied to it.
        days: simulated days from 1 January (None: the scenario's period).
        fixed: parameter values set in every run (not drawn).
        marginalise: draw every parameter that is neither given nor fixed from its prior (per seed);
            without it those parameters keep the scenario's values (the sensitivity designs set all).
        targets: the fitted statistics returned when ``held_out`` is false (a target set's names).
        held_out: return every statistic (all target sets, checks, monthly series) instead.
        constrain: reject runs whose share of open supporters is outside the plausible range.
        seed: if given, run seeds are drawn from ``numpy.random.default_rng(seed)`` instead of OS
            entropy: reproducible in one process (tests); do not use with parallel samplers, whose
            forked workers would share the stream.
    """

    scenario: str = "baseline_2011"
    overrides: tuple[str, ...] = CALIBRATION_OVERRIDES
    days: int | None = None
    fixed: dict[str, float] = field(default_factory=dict)
    marginalise: bool = True
    targets: tuple[str, ...] = tuple(TARGETS)
    held_out: bool = False
    constrain: bool = True
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

    @property
    def returned(self) -> tuple[str, ...]:
        """The statistics a run returns (besides ``seed``): the targets, or every fitted name with ``held_out``."""
        return FITTED_NAMES if self.held_out else tuple(self.targets)

    def base(self) -> dict[str, Any]:
        """The base scenario as a dict (loaded once per process)."""
        if self._base is None:
            key = (self.scenario, tuple(self.overrides))
            if key not in _BASES:
                regions = list(ObservedData(SEEDS_DIR).regions["region"])
                _BASES[key] = (load_scenario(self.scenario, list(self.overrides)).model_dump(), regions)
            self._base, self._regions = _BASES[key]
        return self._base

    def period(self) -> tuple[dt.date, dt.date]:
        """The simulated period."""
        base = self.base()
        start = base["period"]["start"]
        end = base["period"]["end"] if self.days is None else start + dt.timedelta(days=self.days - 1)
        return start, end

    def parameters_for(self, params: dict[str, float], seed: int) -> dict[str, float]:
        """Every parameter of a run: ``params``, then ``fixed``, then prior draws for the rest (when marginalising)."""
        given = {**self.fixed, **params}
        drawn = prior_draw(seed, [p.name for p in PARAMETERS if p.name not in given]) if self.marginalise else {}
        return {**drawn, **given}

    def scenario_for(self, params: dict[str, float], seed: int = 0):
        """The validated scenario with the run's parameter values."""
        data = dict(self.base())
        values = dict(data["parameters"])
        for name, value in self.parameters_for(params, seed).items():
            if name not in BY_NAME:
                raise KeyError(f"unknown parameter {name!r}")
            values[name] = int(round(float(value))) if BY_NAME[name].integer else float(value)
        data["parameters"] = values
        return build_scenario(data, f"calibration:{self.scenario}")

    def run(self, params: dict[str, float], seed: int) -> dict[str, float]:
        """Simulate once with a given seed and return the statistics (raises on model errors)."""
        scenario = self.scenario_for(params, seed)
        start, end = self.period()
        days = (end - start).days + 1
        # The support share is checked at mid-period and at the end (day index days // 2 and days - 1); a run
        # implausible at mid-period is rejected without simulating its second half.
        checkpoints = (days // 2 + 1, days) if self.constrain else (days,)
        with collector_paused():
            model = build_model(scenario, seed)
            done = 0
            for day in checkpoints:
                advance(model, day - done)
                done = day
                if self.constrain and not plausible_support(model.daily_frame().iloc[-1]):
                    release_agents(model)
                    return _failed(seed, 2.0, self.returned)
            events = model.events_frame()
            release_agents(model)
        stats = statistics(events, self._regions, start, end, held_out=self.held_out)
        if not self.held_out:
            stats = {name: stats[name] for name in self.targets}  # the db stores what is returned
        stats["seed"] = float(seed)
        return stats

    def __call__(self, params: dict[str, float]) -> dict[str, float]:
        if self.seed is None:
            seed = secrets.randbits(31)
        else:
            if self._rng is None:
                self._rng = np.random.default_rng(self.seed)
            seed = int(self._rng.integers(0, 2**31 - 1))
        began = time.perf_counter()
        try:
            stats = self.run({k: float(v) for k, v in dict(params).items()}, seed)
            stats.setdefault("failed", 0.0)
        except Exception:
            traceback.print_exc()
            stats = _failed(seed, 1.0, self.returned)
        self.model_seconds += time.perf_counter() - began
        self.calls += 1
        stats["model_seconds"] = time.perf_counter() - began
        return stats


def _run_one(args: tuple[Simulator, dict[str, float], int]) -> dict[str, float]:
    simulator, params, seed = args
    began = time.perf_counter()
    try:
        stats = simulator.run(params, seed)
        stats.setdefault("failed", 0.0)
    except Exception:
        traceback.print_exc()
        stats = _failed(seed, 1.0, simulator.returned)
    stats["model_seconds"] = time.perf_counter() - began
    return stats


def run_many(
    simulator: Simulator, params: list[dict[str, float]], seeds: list[int], workers: int = 2
) -> list[dict[str, float]]:
    """Simulate each (params, seed) pair, in order, on up to ``workers`` local processes."""
    jobs = [(simulator, p, int(s)) for p, s in zip(params, seeds, strict=True)]
    return process_map(_run_one, jobs, workers)
